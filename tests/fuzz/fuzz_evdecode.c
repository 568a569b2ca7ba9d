// SPDX-License-Identifier: Apache-2.0
/*
 * The recorder's ring-buffer event checks (recorder/evdecode.c) on arbitrary
 * bytes: the input is one event exactly as the ring delivered it (its
 * length is the ring's size; hdr.size and the lengths inside are only
 * claims).  Properties, abort() otherwise:
 *   - kt_ev_check returns 0 or -EBADMSG; 0 implies hdr.size <= size;
 *   - an accepted exec has its filename, argv and cwd inside the event
 *     (every byte is read, so ASan sees an overread), filename and cwd
 *     NUL-terminated, and kt_ev_check agrees with kt_ev_exec_decode;
 *   - an accepted data event's bytes lie inside the event.
 * The buffer is 8-byte aligned, as ring-buffer records are.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evdecode.h"

static volatile uint8_t sink;

static void touch(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sink ^= (uint8_t)p[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t *buf = malloc(size ? (size + 7) / 8 * 8 : 8);
	const struct kt_hdr *h = (const void *)buf;
	struct kt_ev_exec_strs x;
	int ret, xret;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	ret = kt_ev_check(buf, size);
	if (ret != 0 && ret != -EBADMSG)
		abort();
	if (ret == 0 && h->size > size)
		abort();
	if (size >= sizeof(struct kt_ev_exec)) {
		const char *lo = (const char *)buf, *hi;

		xret = kt_ev_exec_decode((const void *)buf, size, &x);
		if (xret != 0 && xret != -EBADMSG)
			abort();
		if (h->type == KT_EV_EXEC && (ret == 0) != (xret == 0))
			abort();
		if (xret == 0) {
			hi = lo + (h->size < size ? h->size : size);
			if (x.filename < lo || x.filename + x.filename_len > hi ||
			    x.argv < lo || x.argv + x.argv_len > hi ||
			    (x.cwd_len && (x.cwd < lo || x.cwd + x.cwd_len > hi)))
				abort();
			if (!x.filename_len || x.filename[x.filename_len - 1] ||
			    (x.cwd_len && x.cwd[x.cwd_len - 1]) || (!x.cwd_len && *x.cwd))
				abort();
			touch(x.filename, x.filename_len);
			touch(x.argv, x.argv_len);
			touch(x.cwd, x.cwd_len);
		}
	}
	if (ret == 0 && (h->type == KT_EV_TTY_OUT || h->type == KT_EV_TTY_IN)) {
		const struct kt_ev_data *e = (const void *)buf;

		if (size < sizeof(*e) || sizeof(*e) + (size_t)e->len > size)
			abort();
		touch(e->data, e->len);
	}
	free(buf);
	return 0;
}
