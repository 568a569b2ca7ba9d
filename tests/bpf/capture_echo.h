/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A password typed with ECHO off, taken in by n_tty and answered (ECHO back
 * on, the next prompt printed) while the write(2) that typed it has not
 * returned (bpf/echo.bpf.h).  Included by tests/bpf/test_capture.c, whose
 * helpers and event state C it uses; a file of its own for the 800-line rule.
 */
#ifndef KT_TEST_CAPTURE_ECHO_H
#define KT_TEST_CAPTURE_ECHO_H

#include <poll.h>
#include <pthread.h>
#include <linux/userfaultfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define ECHO_SECRET "Zq7Secret-pw"
#define ECHO_CHUNK 2048 /* iterate_tty_write's chunk: pty_write gets 2 KiB at a time */

struct echo_writer {
	int master;
	const char *buf;
	size_t len;
	ssize_t ret;
	int err;
};

static void *echo_write(void *arg)
{
	struct echo_writer *w = arg;

	w->ret = write(w->master, w->buf, w->len);
	w->err = w->ret < 0 ? errno : 0;
	return NULL;
}

/* Read the master into *got until `want` shows (or 10 s pass). */
static bool echo_read_until(int master, struct kt_fx_buf *got, const char *want)
{
	struct pollfd p = { .fd = master, .events = POLLIN };
	char b[4096];

	for (int i = 0; i < 100 && !memmem(got->p ?: "", got->len, want, strlen(want)); i++) {
		ssize_t n;

		kt_loader_poll(L, 0);
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(master, b, sizeof(b));
		if (n <= 0)
			return false;
		kt_fx_buf_add(got, b, n);
	}
	return memmem(got->p ?: "", got->len, want, strlen(want)) != NULL;
}

/*
 * The race made certain: one write(2) of 2 KiB + 3 bytes to the master.
 * Its first 2 KiB chunk is the password line; the rest lies on a page that
 * userfaultfd holds back, so the writer stops in that fault after the first
 * chunk went through pty_write.  Meanwhile the script's `read` takes the
 * password with ECHO off, `stty echo` turns ECHO back on and `OK?` is
 * printed; only then does the page arrive and write(2) return, with ECHO on.
 * No byte of the password may be recorded, on any backend.  `redir` is
 * where stty sets the termios: "" (stdin, like read -s) or "</dev/tty"
 * (like sudo, ssh and getpass).  Then a line typed with ECHO on, in a write
 * of its own, is recorded again.
 */
static void echo_race(const char *redir)
{
	char script[256];
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {0};
	struct uffdio_copy cp = {0};
	struct echo_writer w = { .ret = -1 };
	struct kt_fx_buf got = {0};
	struct uffd_msg msg;
	struct pollfd up;
	struct termios tio;
	long pg = sysconf(_SC_PAGESIZE);
	char *region = MAP_FAILED, *src = MAP_FAILED, *buf;
	int uffd, master = -1, st;
	pid_t helper = -1, leader;
	pthread_t th;
	bool started = false;
	const char *want;

	if (!L)
		{ CHECK(L); return; }
	snprintf(script, sizeof(script),
		 "stty -echo %s; printf 'PW?'; read a; stty echo %s; printf 'OK?'; read n; "
		 "printf 'AGAIN?'; read m; echo \"n=$n m=$m len=${#a}\"; exit 0", redir, redir);
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
		printf("# userfaultfd: %s (the test needs CONFIG_USERFAULTFD and root)\n", strerror(errno));
		CHECK(!"userfaultfd available");
		goto cleanup;
	}
	region = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	src = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(region != MAP_FAILED && src != MAP_FAILED);
	if (region == MAP_FAILED || src == MAP_FAILED)
		goto cleanup;
	/* chunk 1 (page 1, present): the password line, padded to 2 KiB */
	buf = region + pg - ECHO_CHUNK;
	memset(buf, 'x', ECHO_CHUNK);
	memcpy(buf, ECHO_SECRET, strlen(ECHO_SECRET));
	buf[ECHO_CHUNK - 1] = '\r';
	/* the rest (page 2, missing until UFFDIO_COPY): the next answer */
	memcpy(src, "zz\r", 3);
	reg.range.start = (unsigned long)(region + pg);
	reg.range.len = pg;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	CHECK(ioctl(uffd, UFFDIO_REGISTER, &reg) == 0);

	reset();
	helper = enter_ns(ns_init, script, &master, &leader, 24, 80);
	CHECK(helper > 0 && leader > 0);
	C.leader = leader;
	CHECK(echo_read_until(master, &got, "PW?"));
	w = (struct echo_writer){ .master = master, .buf = buf, .len = ECHO_CHUNK + 3, .ret = -1 };
	started = pthread_create(&th, NULL, echo_write, &w) == 0;
	CHECK(started);
	/* the writer is parked in the fault: the password line went through */
	up = (struct pollfd){ .fd = uffd, .events = POLLIN };
	CHECK(poll(&up, 1, 10000) == 1);
	CHECK(read(uffd, &msg, sizeof(msg)) == sizeof(msg) && msg.event == UFFD_EVENT_PAGEFAULT);
	/* the script read it, turned ECHO on and prompted again */
	CHECK(echo_read_until(master, &got, "OK?"));
	CHECK(tcgetattr(master, &tio) == 0 && (tio.c_lflag & ECHO));
	cp.dst = (unsigned long)(region + pg);
	cp.src = (unsigned long)src;
	cp.len = pg;
	CHECK(ioctl(uffd, UFFDIO_COPY, &cp) == 0);
cleanup:
	if (started) {
		pthread_join(th, NULL);
		CHECK_EQ_INT(w.ret, ECHO_CHUNK + 3);
		/* typed with ECHO on, after the race: recorded */
		CHECK(echo_read_until(master, &got, "AGAIN?"));
		CHECK(write(master, "visible\r", 8) == 8);
	}
	if (master >= 0) {
		pump(L, master, &got, NULL, NULL, false);
		close(master);
	}
	if (helper > 0) {
		waitpid(helper, &st, 0);
		CHECK_EQ_INT(WEXITSTATUS(st), 0);
	}
	if (uffd >= 0)
		close(uffd);
	if (region != MAP_FAILED)
		munmap(region, 2 * pg);
	if (src != MAP_FAILED)
		munmap(src, pg);
	if (!started) {
		free(got.p);
		return;
	}
	settle(L);
	CHECK(memmem(got.p, got.len, "n=zz m=visible len=2047", 23) != NULL);
	/* not as input, not echoed */
	CHECK(!memmem(C.in.p ?: "", C.in.len, ECHO_SECRET, strlen(ECHO_SECRET)));
	CHECK(!memmem(C.out.p ?: "", C.out.len, ECHO_SECRET, strlen(ECHO_SECRET)));
	if (!strcmp(kt_loader_backend(L), "syscall")) {
		/* one write, one answer: all of it withheld */
		CHECK_EQ_INT(C.withheld, ECHO_CHUNK + 3);
		want = "visible\r";
	} else {
		/* the tty backends see each chunk's pty_write: the password's
		 * withheld, the answer typed with ECHO on recorded */
		CHECK_EQ_INT(C.withheld, ECHO_CHUNK);
		want = "zz\rvisible\r";
	}
	CHECK(C.in.len == strlen(want) && memcmp(C.in.p, want, C.in.len) == 0);
	printf("# echo race (stty %s): %s: %llu bytes withheld in %llu events, %zu typed bytes recorded\n",
	       *redir ? redir : "on stdin", kt_loader_backend(L), (unsigned long long)C.withheld,
	       (unsigned long long)C.nwithheld, C.in.len);
	kt_loader_session_retire(L, C.sid, C.start.tty.key);
	free(got.p);
}

static void t_echo_race(void)
{
	echo_race("");
}

/* stty on /dev/tty: the ioctl reaches the slave through another device */
static void t_echo_race_dev_tty(void)
{
	echo_race("</dev/tty");
}

#endif /* KT_TEST_CAPTURE_ECHO_H */
