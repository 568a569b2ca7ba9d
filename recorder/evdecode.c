// SPDX-License-Identifier: Apache-2.0
/*
 * Ring-buffer event checks (evdecode.h).  Why here and not in sessions.c:
 * the checks are the recorder's whole defence against a malformed event
 * (a BPF bug, a version skew between the object and the recorder), so they
 * are kept small, free of recorder state, and fuzzed on their own.
 */
#include <errno.h>

#include "evdecode.h"

static size_t fixed_size(unsigned type)
{
	switch (type) {
	case KT_EV_SESSION_START:
		return sizeof(struct kt_ev_session);
	case KT_EV_EXEC:
		return sizeof(struct kt_ev_exec);
	case KT_EV_EXIT:
	case KT_EV_SESSION_END:
		return sizeof(struct kt_ev_exit);
	case KT_EV_TTY_OUT:
	case KT_EV_TTY_IN:
		return sizeof(struct kt_ev_data);
	case KT_EV_WINSIZE:
		return sizeof(struct kt_ev_winsize);
	default:
		return sizeof(struct kt_hdr);
	}
}

int kt_ev_check(const void *data, size_t size)
{
	const struct kt_hdr *h = data;
	struct kt_ev_exec_strs x;

	if (!data || size < sizeof(*h) || h->size > size || h->size < fixed_size(h->type))
		return -EBADMSG;
	switch (h->type) {
	case KT_EV_EXEC:
		return kt_ev_exec_decode(data, size, &x);
	case KT_EV_TTY_OUT:
	case KT_EV_TTY_IN: {
		const struct kt_ev_data *e = data;

		return e->len > h->size - sizeof(*e) ? -EBADMSG : 0;
	}
	default:
		return 0;
	}
}

int kt_ev_exec_decode(const struct kt_ev_exec *e, size_t size, struct kt_ev_exec_strs *x)
{
	size_t avail;
	uint64_t need;

	/* hdr.size is a claim: within what the ring delivered, or refused */
	if (!e || size < sizeof(*e) || e->hdr.size < sizeof(*e) || e->hdr.size > size)
		return -EBADMSG;
	avail = e->hdr.size - sizeof(*e);
	need = (uint64_t)e->filename_len + e->argv_len + e->cwd_len; /* no u32 wrap */
	if (need > avail || e->filename_len == 0)
		return -EBADMSG;
	x->filename = e->data;
	x->filename_len = e->filename_len;
	x->argv = e->data + e->filename_len;
	x->argv_len = e->argv_len;
	x->cwd = x->argv + e->argv_len;
	x->cwd_len = e->cwd_len;
	/* argv may end without its NUL when truncated (KT_F_ARGV_TRUNC): its
	 * length is what counts there */
	if (x->filename[x->filename_len - 1] != 0 ||
	    (x->cwd_len && x->cwd[x->cwd_len - 1] != 0))
		return -EBADMSG;
	if (!x->cwd_len)
		x->cwd = "";
	return 0;
}
