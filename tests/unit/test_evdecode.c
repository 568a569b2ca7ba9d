// SPDX-License-Identifier: Apache-2.0
/*
 * recorder/evdecode.c: ring-buffer events are checked against the size the
 * ring delivered, never against their own hdr.size alone (issue 10: an exec
 * whose hdr.size was below its fixed part made the recorder compute a
 * negative data length and read far past the event).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kt_test.h"
#include "evdecode.h"

static union {
	uint64_t align;
	uint8_t b[512];
} g;

/* An exec event in g: filename, argv, cwd; returns its size. */
static size_t exec_ev(const char *fn, size_t fl, const char *argv, size_t al, const char *cwd,
		      size_t cl)
{
	struct kt_ev_exec *e = (void *)g.b;

	memset(&g, 0, sizeof(g));
	e->hdr.type = KT_EV_EXEC;
	e->filename_len = (uint32_t)fl;
	e->argv_len = (uint32_t)al;
	e->cwd_len = (uint32_t)cl;
	memcpy(e->data, fn, fl);
	memcpy(e->data + fl, argv, al);
	memcpy(e->data + fl + al, cwd, cl);
	e->hdr.size = (uint32_t)(sizeof(*e) + fl + al + cl);
	return e->hdr.size;
}

static void t_exec_ok(void)
{
	struct kt_ev_exec *e = (void *)g.b;
	struct kt_ev_exec_strs x;
	size_t n = exec_ev("/bin/ls", 8, "ls\0-la", 7, "/root", 6);

	CHECK_EQ_INT(kt_ev_check(g.b, n), 0);
	CHECK_EQ_INT(kt_ev_exec_decode(e, n, &x), 0);
	CHECK_EQ_STR(x.filename, "/bin/ls");
	CHECK_EQ_INT(x.argv_len, 7);
	CHECK(!memcmp(x.argv, "ls\0-la", 7));
	CHECK_EQ_STR(x.cwd, "/root");
	/* no cwd; a truncated argv without its last NUL */
	n = exec_ev("/bin/env", 9, "env\0FOO_TOKEN=x", 15, "", 0);
	CHECK_EQ_INT(kt_ev_exec_decode(e, n, &x), 0);
	CHECK_EQ_STR(x.cwd, "");
	/* the ring delivered more than hdr.size (padding): fine */
	CHECK_EQ_INT(kt_ev_check(g.b, n + 8), 0);
}

static void t_exec_sizes(void)
{
	struct kt_ev_exec *e = (void *)g.b;
	struct kt_ev_exec_strs x;
	size_t n = exec_ev("/bin/ls", 8, "ls", 3, "/", 2);

	/* hdr.size below the fixed part: was size - sizeof(*e) wrapping */
	e->hdr.size = sizeof(struct kt_hdr);
	CHECK_EQ_INT(kt_ev_exec_decode(e, n, &x), -EBADMSG);
	CHECK_EQ_INT(kt_ev_check(g.b, n), -EBADMSG);
	/* hdr.size above what the ring delivered */
	e->hdr.size = (uint32_t)n + 1;
	CHECK_EQ_INT(kt_ev_exec_decode(e, n, &x), -EBADMSG);
	CHECK_EQ_INT(kt_ev_check(g.b, n), -EBADMSG);
	e->hdr.size = (uint32_t)n;
	/* the ring delivered less than the fixed part */
	CHECK_EQ_INT(kt_ev_exec_decode(e, sizeof(*e) - 1, &x), -EBADMSG);
	CHECK_EQ_INT(kt_ev_check(g.b, sizeof(*e) - 1), -EBADMSG);
	/* lengths past the event, and a sum that wraps 32 bits */
	e->argv_len = 4;
	CHECK_EQ_INT(kt_ev_exec_decode(e, n, &x), -EBADMSG);
	e->argv_len = 3;
	e->filename_len = 0xffffffffu;
	CHECK_EQ_INT(kt_ev_exec_decode(e, n, &x), -EBADMSG);
	e->filename_len = 0;
	CHECK_EQ_INT(kt_ev_exec_decode(e, n, &x), -EBADMSG);
	/* strings that are not NUL-terminated */
	n = exec_ev("/bin/ls", 7, "ls", 3, "/", 2);
	CHECK_EQ_INT(kt_ev_exec_decode(e, n, &x), -EBADMSG);
	n = exec_ev("/bin/ls", 8, "ls", 3, "/x", 2);
	CHECK_EQ_INT(kt_ev_exec_decode(e, n, &x), -EBADMSG);
}

static void t_other_events(void)
{
	struct kt_ev_data *d = (void *)g.b;
	struct kt_hdr *h = (void *)g.b;

	memset(&g, 0, sizeof(g));
	d->hdr.type = KT_EV_TTY_OUT;
	d->len = 5;
	memcpy(d->data, "hello", 5);
	d->hdr.size = sizeof(*d) + 5;
	CHECK_EQ_INT(kt_ev_check(g.b, sizeof(*d) + 5), 0);
	d->len = 6; /* past hdr.size */
	CHECK_EQ_INT(kt_ev_check(g.b, sizeof(*d) + 8), -EBADMSG);
	memset(&g, 0, sizeof(g));
	h->type = KT_EV_WINSIZE;
	h->size = sizeof(struct kt_ev_winsize) - 1;
	CHECK_EQ_INT(kt_ev_check(g.b, sizeof(struct kt_ev_winsize)), -EBADMSG);
	h->size = sizeof(struct kt_ev_winsize);
	CHECK_EQ_INT(kt_ev_check(g.b, sizeof(struct kt_ev_winsize)), 0);
	h->type = 99; /* a newer BPF object's event: the header is checked */
	h->size = sizeof(*h);
	CHECK_EQ_INT(kt_ev_check(g.b, sizeof(*h)), 0);
	CHECK_EQ_INT(kt_ev_check(g.b, sizeof(*h) - 1), -EBADMSG);
	CHECK_EQ_INT(kt_ev_check(NULL, 0), -EBADMSG);
}

int main(void)
{
	RUN(t_exec_ok);
	RUN(t_exec_sizes);
	RUN(t_other_events);
	return kt_test_done();
}
