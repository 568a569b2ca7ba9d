// SPDX-License-Identifier: Apache-2.0
/*
 * kt_webfill: writes kubetape stores through the store API for the web
 * tests and benchmarks (the recorder needs root, BPF and a pod; these are
 * fast, deterministic stand-ins for what it writes).
 *
 *   kt_webfill DB populate N      N sessions over 5 namespaces / 50 pods
 *                                 (newest 3 active), plus the scripted
 *                                 "web-demo" session printed as its id
 *   kt_webfill DB big MIB         one session with MIB MiB of output over
 *                                 an hour, a command every 10%; prints id
 *   kt_webfill DB live            an active session (pod "live-pod"); prints
 *                                 its id, then appends each stdin line as
 *                                 output in its own committed chunk; ends
 *                                 the session at EOF
 *
 * The web-demo session (80x24, 12 s): output "DEMO-START" at 0.2 s;
 * commands at 1 s (ls /), 5 s (cat /etc/hostname), 9 s (echo third), each
 * followed 0.3 s later by "OUT-ONE", "OUT-TWO", "OUT-THREE" (and a clear
 * screen before OUT-TWO); 3000 bytes lost at 7 s; exit code 3.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "reader.h"

#define S 1000000LL

static int64_t base_us;

static int mk_session(struct kt_store *st, const char *ns, const char *pod, const char *ctr,
		      const char *node, int64_t start, bool tty, struct kt_session_info *s)
{
	static unsigned seq;

	memset(s, 0, sizeof(*s));
	/* the pid: several `live` writers may share a store and a second */
	snprintf(s->uuid, sizeof(s->uuid), "webfill-%08x-%d-%u", (unsigned)(base_us / S), (int)getpid(), seq++);
	s->kernel_id = seq;
	s->start_us = start;
	s->state = KT_SESSION_ACTIVE;
	snprintf(s->node, sizeof(s->node), "%s", node);
	snprintf(s->k8s_namespace, sizeof(s->k8s_namespace), "%s", ns);
	snprintf(s->pod, sizeof(s->pod), "%s", pod);
	snprintf(s->container, sizeof(s->container), "%s", ctr);
	snprintf(s->runtime, sizeof(s->runtime), "containerd");
	snprintf(s->capture, sizeof(s->capture), "syscall");
	snprintf(s->leader_comm, sizeof(s->leader_comm), "bash");
	s->leader_ns_pid = 7;
	s->has_tty = tty;
	if (tty) {
		s->rows = 24;
		s->cols = 80;
		snprintf(s->tty_name, sizeof(s->tty_name), "pts/0");
	}
	return kt_store_session_create(st, s);
}

static int add_cmd(struct kt_store *st, int64_t sid, int64_t ts, const char *const *argv, int rc)
{
	char buf[512];
	size_t n = 0;
	uint32_t argc = 0;
	struct kt_command c = { .session_id = sid, .ts_us = ts, .end_us = 0,
				.pid = 100, .ns_pid = 10, .ppid = 7, .filename = "/bin/x", .cwd = "/" };
	int err;

	for (; argv[argc]; argc++) {
		size_t l = strlen(argv[argc]) + 1;

		memcpy(buf + n, argv[argc], l);
		n += l;
	}
	snprintf(c.comm, sizeof(c.comm), "%s", argv[0]);
	c.argv = buf;
	c.argv_len = n;
	c.argc = argc;
	c.pid = 100 + (uint32_t)ts % 1000;
	err = kt_store_command_add(st, &c);
	if (!err)
		err = kt_store_command_exit(st, sid, c.pid, ts + 200000, rc << 8);
	return err;
}

static int out(struct kt_chunk_builder *b, int64_t ts, const char *text)
{
	return kt_chunk_add(b, KT_FRAME_OUT, ts, text, (uint32_t)strlen(text));
}

static int end_session(struct kt_store *st, struct kt_session_info *s, int64_t end, int rc)
{
	struct kt_session_info cur;
	int err = kt_store_session_get(st, s->id, &cur);

	if (err)
		return err;
	cur.state = KT_SESSION_ENDED;
	cur.end_us = end;
	cur.has_exit = true;
	cur.exit_status = rc << 8;
	return kt_store_session_update(st, &cur);
}

static int demo(struct kt_store *st, int64_t t0, int64_t *id)
{
	struct kt_chunk_builder b;
	struct kt_session_info s;
	const char *ls[] = { "ls", "/", NULL }, *cat[] = { "cat", "/etc/hostname", NULL },
		   *echo[] = { "echo", "third", NULL };
	int err;

	kt_chunk_builder_init(&b);
	err = mk_session(st, "web", "web-demo", "shell", "node-demo", t0, true, &s);
	if (err)
		goto cleanup;
	*id = s.id;
	err = out(&b, t0 + 200000, "DEMO-START\r\n$ ") ?:
	      add_cmd(st, s.id, t0 + 1 * S, ls, 0) ?:
	      out(&b, t0 + 1 * S, "ls /\r\n") ?:
	      out(&b, t0 + 1 * S + 300000, "OUT-ONE bin etc usr\r\n$ ") ?:
	      add_cmd(st, s.id, t0 + 5 * S, cat, 0) ?:
	      out(&b, t0 + 5 * S, "cat /etc/hostname\r\n") ?:
	      out(&b, t0 + 5 * S + 300000, "\x1b[2J\x1b[HOUT-TWO web-demo\r\n$ ") ?:
	      kt_chunk_add_gap(&b, t0 + 7 * S, 3000, 2) ?:
	      add_cmd(st, s.id, t0 + 9 * S, echo, 1) ?:
	      out(&b, t0 + 9 * S, "echo third\r\n") ?:
	      out(&b, t0 + 9 * S + 300000, "OUT-THREE\r\n$ exit 3\r\n") ?:
	      kt_store_chunk_append(st, s.id, &b) ?:
	      end_session(st, &s, t0 + 12 * S, 3);
cleanup:
	kt_chunk_builder_free(&b);
	return err;
}

static int populate(struct kt_store *st, int n)
{
	struct kt_chunk_builder b;
	struct kt_session_info s;
	int64_t demo_id = 0;
	char ns[16], pod[32], line[128];
	int err = 0;

	kt_chunk_builder_init(&b);
	err = kt_store_begin(st);
	if (err)
		goto cleanup;
	err = demo(st, base_us - 3600 * S, &demo_id);
	for (int i = 0; !err && i < n; i++) {
		int64_t t = base_us - (int64_t)(n - i) * 60 * S;
		const char *argv[] = { "sh", "-c", line, NULL };

		snprintf(ns, sizeof(ns), "ns-%d", i % 5);
		snprintf(pod, sizeof(pod), "pod-%02d", i % 50);
		snprintf(line, sizeof(line), "echo session-%d", i);
		err = mk_session(st, ns, pod, i % 2 ? "sidecar" : "app", i % 3 ? "node-a" : "node-b",
				 t, i % 7 != 0, &s);
		if (err)
			break;
		kt_chunk_builder_reset(&b);
		err = add_cmd(st, s.id, t + 100000, argv, i % 4 == 0) ?:
		      out(&b, t + 100000, "$ ") ?: out(&b, t + 200000, line) ?: out(&b, t + 300000, "\r\n") ?:
		      kt_store_chunk_append(st, s.id, &b);
		if (!err && i < n - 3)
			err = end_session(st, &s, t + 30 * S, i % 4 == 0);
		if (!err && i % 500 == 499) {
			err = kt_store_commit(st) ?: kt_store_begin(st);
		}
	}
	if (err)
		goto cleanup;
	err = kt_store_commit(st);
	/* keyframes and screen text of the demo session, as the recorder's
	 * worker writes them (the screen search tests find its output) */
	if (!err)
		err = kt_store_index_all(st, demo_id);
	if (err)
		goto cleanup;
	printf("%lld\n", (long long)demo_id);
cleanup:
	kt_chunk_builder_free(&b);
	return err;
}

static int big(struct kt_store *st, long mib)
{
	struct kt_chunk_builder b;
	struct kt_session_info s;
	const uint64_t total = (uint64_t)mib << 20;
	const int64_t dur = 3600 * S;
	char frame[16384];
	uint64_t done = 0, lineno = 0, rnd = 0x2545f4914f6cdd1dULL;
	int next_cmd = 1;
	int err;

	kt_chunk_builder_init(&b);
	err = mk_session(st, "bench", "big-pod", "app", "node-bench", base_us - 2 * dur, true, &s);
	if (err)
		goto cleanup;
	err = kt_store_begin(st);
	while (!err && done < total) {
		size_t n = 0;
		int64_t ts = s.start_us + (int64_t)((double)done / (double)total * (double)dur);

		/* 16 KiB frames of numbered text lines with pseudo-random hex, so
		 * zstd stores them at about half size, like real build logs */
		while (n + 80 < sizeof(frame)) {
			rnd ^= rnd << 13;
			rnd ^= rnd >> 7;
			rnd ^= rnd << 17;
			n += (size_t)snprintf(frame + n, sizeof(frame) - n,
					      "line %010llu %016llx %016llx ok\r\n",
					      (unsigned long long)lineno++, (unsigned long long)rnd,
					      (unsigned long long)(rnd * 0x9e3779b97f4a7c15ULL));
		}
		if (done * 10 >= total * (uint64_t)next_cmd) {
			char arg[32];
			const char *argv[] = { "step", arg, NULL };

			snprintf(arg, sizeof(arg), "%d", next_cmd++);
			err = add_cmd(st, s.id, ts, argv, 0);
			if (err)
				break;
		}
		err = kt_chunk_add(&b, KT_FRAME_OUT, ts, frame, (uint32_t)n);
		done += n;
		if (!err && b.len >= (1 << 20)) {
			err = kt_store_chunk_append(st, s.id, &b);
			kt_chunk_builder_reset(&b);
			if (!err && done % (64 << 20) < n)
				err = kt_store_commit(st) ?: kt_store_begin(st);
		}
	}
	if (!err)
		err = kt_store_chunk_append(st, s.id, &b) ?: end_session(st, &s, s.start_us + dur, 0) ?:
		      kt_store_commit(st);
	/* keyframes and screen text, as the recorder's worker writes them */
	if (!err)
		err = kt_store_index_all(st, s.id);
	if (!err)
		printf("%lld\n", (long long)s.id);
cleanup:
	kt_chunk_builder_free(&b);
	return err;
}

static int live(struct kt_store *st)
{
	struct kt_chunk_builder b;
	struct kt_session_info s;
	char line[4096];
	int err;

	kt_chunk_builder_init(&b);
	err = mk_session(st, "web", "live-pod", "shell", "node-live", kt_now_us(), true, &s);
	if (err)
		goto cleanup;
	kt_chunk_builder_reset(&b);
	err = out(&b, kt_now_us(), "LIVE-BEGIN\r\n$ ") ?: kt_store_chunk_append(st, s.id, &b);
	if (err)
		goto cleanup;
	printf("%lld\n", (long long)s.id);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = 0;
		kt_chunk_builder_reset(&b);
		err = out(&b, kt_now_us(), line) ?: out(&b, kt_now_us(), "\r\n$ ") ?:
		      kt_store_chunk_append(st, s.id, &b);
		if (err)
			goto cleanup;
		printf("ok %lld\n", (long long)kt_now_us());
		fflush(stdout);
	}
	err = end_session(st, &s, kt_now_us(), 0);
cleanup:
	kt_chunk_builder_free(&b);
	return err;
}

int main(int argc, char **argv)
{
	struct kt_store *st = NULL;
	int err;

	kt_log_init("kt_webfill", KT_LOG_WARN);
	if (argc < 3) {
		fprintf(stderr, "usage: kt_webfill DB populate N | big MIB | live\n");
		return 2;
	}
	base_us = kt_now_us();
	err = kt_store_open(argv[1], KT_STORE_CREATE, &st);
	if (err)
		return 1;
	if (!strcmp(argv[2], "populate") && argc == 4)
		err = populate(st, atoi(argv[3]));
	else if (!strcmp(argv[2], "big") && argc == 4)
		err = big(st, atol(argv[3]));
	else if (!strcmp(argv[2], "live") && argc == 3)
		err = live(st);
	else {
		fprintf(stderr, "usage: kt_webfill DB populate N | big MIB | live\n");
		err = -EINVAL;
	}
	kt_store_close(st);
	if (err)
		fprintf(stderr, "kt_webfill: %s\n", strerror(-err));
	return err ? 1 : 0;
}
