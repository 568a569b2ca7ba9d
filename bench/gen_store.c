// SPDX-License-Identifier: Apache-2.0
/*
 * gen_store DB SESSIONS COMMANDS — a large store for the CLI benchmark,
 * written through the store API (the recorder's path, minus BPF): SESSIONS
 * sessions over 30 days in 10 namespaces x 10 pods each ("ns-N"/"web-N"),
 * COMMANDS execve rows spread evenly over them, each with a realistic argv
 * (a shell's everyday commands with varying paths and arguments), cwd, pids
 * and exit status, plus a small output chunk per session so sessions have
 * bytes.  One transaction per 10,000 rows.  Deterministic (fixed seed).
 *
 * Word frequencies the benchmark relies on: "passwd" occurs in ~1% of the
 * commands ("cat /etc/passwd" and friends); pod "web-0" in namespace "ns-0"
 * holds 1% of the sessions.
 *
 * Prints the seconds it took.  (--big: see big_session.)  Limits: no terminal bytes beyond one tiny
 * chunk per session (the CLI figures measured here do not read chunks).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"
#include "reader.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static const char *const progs[][4] = {
	{ "ls", "-la", "/app", NULL }, { "cat", "/etc/hosts", NULL }, { "ps", "aux", NULL },
	{ "python3", "manage.py", "migrate", NULL }, { "curl", "-s", "http://localhost:8080/healthz", NULL },
	{ "grep", "-r", "ERROR", "/var/log/app" }, { "tail", "-n", "100", "/var/log/app/app.log" },
	{ "env", NULL }, { "id", NULL }, { "df", "-h", NULL }, { "vi", "/app/config.yaml", NULL },
	{ "kill", "-HUP", "1", NULL }, { "apt-get", "install", "-y", "netcat" }, { "find", "/app", "-name", "*.pyc" },
	{ "mysql", "-h", "db.shop.svc", "-u", }, { "redis-cli", "-h", "cache", "info" },
};
#define NPROGS (sizeof(progs) / sizeof(progs[0]))
static const char *const passwd_cmd[] = { "cat", "/etc/passwd", NULL };

static int fail(const char *what, int err)
{
	fprintf(stderr, "gen_store: %s failed: %d\n", what, err);
	return 1;
}

/*
 * gen_store DB --big MIB SECS: one ended session of MIB MiB of output (seq
 * numbers and base64 text, 8 KiB frames evenly over SECS seconds, 128 KiB
 * chunks as the recorder cuts them under a flood), then indexed with
 * kt_index_session as the recorder's indexer does (keyframes every 1 MiB /
 * 30 s), so `kubetape replay --from` can seek.  Prints the session id and
 * the seconds writing and indexing took.
 */
static int big_session(const char *db, long mib, long secs)
{
	struct kt_store *st;
	struct kt_chunk_builder cb;
	struct kt_session_info s;
	struct timespec t0, t1, t2;
	static char frame[8192];
	long nframes = mib * 128, seqn = 1;
	int64_t start = 1795300000000000LL, step = secs * 1000000LL / nframes;
	int err, more;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = kt_store_open(db, KT_STORE_CREATE, &st);
	if (err)
		return fail("open", err);
	memset(&s, 0, sizeof(s));
	snprintf(s.uuid, sizeof(s.uuid), "bench-big");
	s.start_us = start;
	s.end_us = start + secs * 1000000LL;
	s.state = KT_SESSION_ENDED;
	snprintf(s.pod, sizeof(s.pod), "big");
	snprintf(s.k8s_namespace, sizeof(s.k8s_namespace), "bench");
	s.has_tty = true;
	s.rows = 24;
	s.cols = 80;
	if ((err = kt_store_session_create(st, &s)))
		return fail("session create", err);
	kt_chunk_builder_init(&cb);
	kt_store_begin(st);
	for (long i = 0; i < nframes; i++) {
		size_t n = 0;

		if (i % 2) {	/* seq-like numbers */
			while (n < sizeof(frame) - 24)
				n += (size_t)snprintf(frame + n, sizeof(frame) - n, "%ld\r\n", seqn++);
		} else {	/* base64-like text lines */
			static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
			while (n < sizeof(frame) - 80) {
				for (int k = 0; k < 76; k++)
					frame[n++] = b64[rnd(64)];
				frame[n++] = '\r';
				frame[n++] = '\n';
			}
		}
		if ((err = kt_chunk_add(&cb, KT_FRAME_OUT, start + i * step, frame, (uint32_t)n)))
			return fail("chunk add", err);
		if (cb.len >= (128u << 10)) {
			if ((err = kt_store_chunk_append(st, s.id, &cb)))
				return fail("chunk append", err);
			kt_chunk_builder_reset(&cb);
			if (i % 512 == 0) {
				kt_store_commit(st);
				kt_store_begin(st);
			}
		}
	}
	if (cb.nframes && (err = kt_store_chunk_append(st, s.id, &cb)))
		return fail("chunk append", err);
	kt_store_commit(st);
	kt_store_session_update(st, &s);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	more = kt_store_index_all(st, s.id);
	if (more < 0)
		return fail("index", more);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	kt_chunk_builder_free(&cb);
	kt_store_close(st);
	printf("%lld %.1f %.1f\n", (long long)s.id,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       (t2.tv_sec - t1.tv_sec) + (t2.tv_nsec - t1.tv_nsec) / 1e9);
	return 0;
}

int main(int argc, char **argv)
{
	struct kt_store *st;
	struct kt_chunk_builder cb;
	struct timespec t0, t1;
	long nsess, ncmd;
	int64_t now = 1795300000000000LL, span = 30LL * 86400 * 1000000;
	int err;

	if (argc == 5 && !strcmp(argv[2], "--big"))
		return big_session(argv[1], atol(argv[3]), atol(argv[4]));
	if (argc != 4)
		return fprintf(stderr, "usage: gen_store DB SESSIONS COMMANDS | DB --big MIB SECS\n"), 2;
	nsess = atol(argv[2]);
	ncmd = atol(argv[3]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = kt_store_open(argv[1], KT_STORE_CREATE, &st);
	if (err)
		return fail("open", err);
	kt_chunk_builder_init(&cb);
	long done_cmd = 0, rows = 0;
	kt_store_begin(st);
	for (long i = 0; i < nsess; i++) {
		struct kt_session_info s;
		int pod = (int)(i % 100);
		long want = ncmd * (i + 1) / nsess - ncmd * i / nsess;

		memset(&s, 0, sizeof(s));
		snprintf(s.uuid, sizeof(s.uuid), "bench-%ld", i);
		s.kernel_id = (uint64_t)i + 1;
		s.start_us = now - span + span * i / nsess;
		s.end_us = s.start_us + 60000000 + rnd(3600) * 1000000LL;
		s.state = KT_SESSION_ENDED;
		s.has_exit = true;
		snprintf(s.node, sizeof(s.node), "node-%d", pod % 7);
		snprintf(s.k8s_namespace, sizeof(s.k8s_namespace), "ns-%d", pod % 10);
		snprintf(s.pod, sizeof(s.pod), "web-%d", pod);
		snprintf(s.pod_uid, sizeof(s.pod_uid), "%08x-0000-4000-8000-%012d", pod, pod);
		snprintf(s.container, sizeof(s.container), "app");
		snprintf(s.container_id, sizeof(s.container_id), "%064d", pod);
		snprintf(s.runtime, sizeof(s.runtime), "containerd");
		snprintf(s.hostname, sizeof(s.hostname), "web-%d", pod);
		snprintf(s.cgroup_path, sizeof(s.cgroup_path), "/kubepods/besteffort/pod%d/%d", pod, pod);
		s.leader_pid = 10000 + (uint32_t)i;
		s.leader_ns_pid = 7;
		snprintf(s.leader_comm, sizeof(s.leader_comm), "bash");
		s.has_tty = true;
		s.rows = 24;
		s.cols = 80;
		snprintf(s.capture, sizeof(s.capture), "syscall");
		err = kt_store_session_create(st, &s);
		if (err)
			return fail("session create", err);
		kt_chunk_builder_reset(&cb);
		kt_chunk_add(&cb, KT_FRAME_OUT, s.start_us, "root@web:/app# ", 15);
		err = kt_store_chunk_append(st, s.id, &cb);
		if (err)
			return fail("chunk", err);
		for (long c = 0; c < want; c++) {
			struct kt_command k;
			char buf[512], cwd[64];
			size_t len = 0;
			uint32_t argc_ = 0;
			const char *const *p = progs[rnd(NPROGS)];
			uint32_t r = rnd(1000);

			memset(&k, 0, sizeof(k));
			if (r < 10)	/* ~1%: the word the search benchmark looks for */
				p = passwd_cmd;
			for (; argc_ < 4 && p[argc_]; argc_++)
				len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s", p[argc_]) + 1;
			/* a varying argument, so rows are not all alike */
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "--req=%08x", (unsigned)rnd(1u << 31)) + 1;
			argc_++;
			snprintf(cwd, sizeof(cwd), "/app/%u", rnd(50));
			k.session_id = s.id;
			k.ts_us = s.start_us + c * 1000000;
			k.end_us = k.ts_us + 1000;
			k.has_exit = true;
			k.exit_status = rnd(10) ? 0 : 256;
			k.pid = 20000 + (uint32_t)c;
			k.ns_pid = 8 + (uint32_t)c;
			k.ppid = s.leader_pid;
			snprintf(k.comm, sizeof(k.comm), "%s", p[0]);
			k.filename = p[0];
			k.argv = buf;
			k.argv_len = len;
			k.argc = argc_;
			k.cwd = cwd;
			err = kt_store_command_add(st, &k);
			if (err)
				return fail("command add", err);
			done_cmd++;
			if (++rows % 10000 == 0) {
				kt_store_commit(st);
				kt_store_begin(st);
			}
		}
		s.n_commands = (uint32_t)want;
		kt_store_session_update(st, &s);
	}
	err = kt_store_commit(st);
	if (err)
		return fail("commit", err);
	kt_chunk_builder_free(&cb);
	kt_store_close(st);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.1f\n", (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	fprintf(stderr, "gen_store: %ld sessions, %ld commands\n", nsess, done_cmd);
	return 0;
}
