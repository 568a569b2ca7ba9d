/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fixtures shared by the tests that build a store and run the built
 * binaries (test_cli_read, test_export, test_search_replay, test_index) and
 * by any test that accumulates bytes (test_keyframe, tests/bpf/test_capture).
 * Header-only (static inline) so every test stays one .c file linked with
 * libkubetape.  Include after kt_test.h: the store helpers CHECK their calls.
 *
 *   temp dir      kt_fx_mkdtemp, kt_fx_rm_dir (KT_KEEP_TMP=1 keeps it)
 *   binaries      kt_fx_find_bin: $KT_BIN_DIR, else $KT_OUT, else argv[0]/..
 *   running       kt_fx_run_sh: a shell command line, its stdout, stderr and
 *                 exit status in a struct kt_fx_res
 *   files         kt_fx_slurp, kt_fx_slurp_path
 *   bytes         struct kt_fx_buf, kt_fx_buf_add, kt_fx_buf_printf, kt_fx_rnd
 *   store         kt_fx_session, kt_fx_cmd, kt_fx_end_session, ARGV()
 *   plain SQLite  kt_fx_sql_int, kt_fx_sql_exec, kt_fx_db_copy (under the
 *                 store API: what the tests read or tamper with)
 */
#ifndef KT_FIXTURE_H
#define KT_FIXTURE_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>
#include "store.h"

/* ------------------------------------------------------------ bytes */

/* A growable byte buffer; aborts when memory runs out.  free(b.p) at the end. */
struct kt_fx_buf {
	char *p;
	size_t len, cap;
};

static inline void kt_fx_buf_add(struct kt_fx_buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 4096;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

/* printf onto b (1 KiB at most per call: the generators' lines). */
__attribute__((format(printf, 2, 3)))
static inline void kt_fx_buf_printf(struct kt_fx_buf *b, const char *fmt, ...)
{
	char t[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t, sizeof(t), fmt, ap);
	va_end(ap);
	kt_fx_buf_add(b, t, n < (int)sizeof(t) ? (size_t)(n > 0 ? n : 0) : sizeof(t) - 1);
}

/* xorshift64: the seeded generators' random numbers (*state != 0). */
static inline uint32_t kt_fx_rnd(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (uint32_t)(*state >> 11);
}

/* ------------------------------------------------------------ files */

/* All of f, NUL-terminated (it may hold NULs: *len is the length); NULL on ENOMEM. */
static inline char *kt_fx_slurp(FILE *f, size_t *len)
{
	size_t cap = 4096, n = 0, got;
	char *buf = malloc(cap + 1);

	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *p = realloc(buf, cap * 2 + 1);

			if (!p) {
				free(buf);
				return NULL;
			}
			buf = p;
			cap *= 2;
		}
	}
	if (buf)
		buf[n] = 0;
	*len = n;
	return buf;
}

/* kt_fx_slurp of a file; NULL (and *len 0) if it cannot be opened. */
static inline char *kt_fx_slurp_path(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *d;

	*len = 0;
	if (!f)
		return NULL;
	d = kt_fx_slurp(f, len);
	fclose(f);
	return d;
}

/* ------------------------------------------------------------ temp dir */

/* dir = /tmp/NAME.XXXXXX, created; 0, or -1 after a "FAIL setup" line. */
static inline int kt_fx_mkdtemp(char *dir, size_t len, const char *name)
{
	snprintf(dir, len, "/tmp/%s.XXXXXX", name);
	if (!mkdtemp(dir)) {
		printf("FAIL setup: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* rm -rf dir, unless $KT_KEEP_TMP is set (then it says where it is). */
static inline void kt_fx_rm_dir(const char *dir)
{
	char cmd[256];

	if (getenv("KT_KEEP_TMP")) {
		fprintf(stderr, "kept %s\n", dir);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
}

/* ------------------------------------------------------------ binaries */

/*
 * out = the built program `name`: in $KT_BIN_DIR, else $KT_OUT (set by
 * tests/run.sh), else next to this test's directory (build/tests/..).
 * 0, or -1 after a "FAIL setup" line when it is not there.
 */
static inline int kt_fx_find_bin(int argc, char **argv, const char *name, char *out,
				 size_t len)
{
	const char *dir = getenv("KT_BIN_DIR");
	char self[4096];

	if (!dir || !*dir)
		dir = getenv("KT_OUT");
	if (dir && *dir) {
		snprintf(out, len, "%s/%s", dir, name);
	} else {
		snprintf(self, sizeof(self), "%s", argc > 0 ? argv[0] : ".");
		snprintf(out, len, "%s/../%s", dirname(self), name);
	}
	if (access(out, X_OK)) {
		printf("FAIL setup: no %s binary at %s (set KT_BIN_DIR)\n", name, out);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ running */

struct kt_fx_res {
	int status;        /* exit code, or 128+signal; -1 if it did not run */
	char *out;         /* stdout, NUL-terminated (may hold NULs) */
	size_t out_len;
	char *err;         /* stderr */
	int err_lines;
	int64_t ms;        /* wall time (kt_fx_run_sh leaves it 0) */
};

static inline void kt_fx_res_free(struct kt_fx_res *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

/* Runs `cmd 2>'err_path'` through sh and collects its results in r. */
static inline void kt_fx_run_sh(struct kt_fx_res *r, const char *cmd, const char *err_path)
{
	char full[16384 + 256];
	FILE *p;
	size_t n;
	int st;

	snprintf(full, sizeof(full), "%s 2>'%s'", cmd, err_path);
	memset(r, 0, sizeof(*r));
	p = popen(full, "r");
	if (!p) {
		r->status = -1;
		return;
	}
	r->out = kt_fx_slurp(p, &r->out_len);
	st = pclose(p);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->err = kt_fx_slurp_path(err_path, &n);
	for (const char *c = r->err; c && *c; c++)
		r->err_lines += *c == '\n';
}

/* ------------------------------------------------------------ store */

/* argv as the store holds it, from a string literal: words separated by
 * "\0", and the literal's final NUL ends the last one. */
#define ARGV(lit) lit, sizeof(lit)

/* A tty session (80x24) of pod NS/POD, container "app", capture "syscall". */
static inline struct kt_session_info kt_fx_session(const char *uuid, const char *ns,
						   const char *pod, int64_t start)
{
	struct kt_session_info s = { 0 };

	snprintf(s.uuid, sizeof(s.uuid), "%s", uuid);
	snprintf(s.k8s_namespace, sizeof(s.k8s_namespace), "%s", ns);
	snprintf(s.pod, sizeof(s.pod), "%s", pod);
	snprintf(s.container, sizeof(s.container), "app");
	snprintf(s.capture, sizeof(s.capture), "syscall");
	s.start_us = start;
	s.has_tty = true;
	s.rows = 24;
	s.cols = 80;
	return s;
}

/* A command of argv (ARGV()): argc counted, comm and filename from argv[0],
 * ns_pid = pid, cwd "/". */
static inline struct kt_command kt_fx_cmd(int64_t sid, int64_t ts, uint32_t pid,
					  uint32_t ppid, const char *argv, size_t len)
{
	struct kt_command c = {
		.session_id = sid, .ts_us = ts, .pid = pid, .ns_pid = pid, .ppid = ppid,
		.filename = argv, .argv = argv, .argv_len = len, .cwd = "/",
	};

	for (size_t i = 0; i < len; i++)
		c.argc += argv[i] == 0;
	snprintf(c.comm, sizeof(c.comm), "%s", argv);
	return c;
}

/* Marks *s ended at `end` with an exit (the stored status), re-reading it. */
static inline void kt_fx_end_session(struct kt_store *st, struct kt_session_info *s,
				     int64_t end)
{
	CHECK_EQ_INT(kt_store_session_get(st, s->id, s), 0);
	s->state = KT_SESSION_ENDED;
	s->end_us = end;
	s->has_exit = true;
	CHECK_EQ_INT(kt_store_session_update(st, s), 0);
}

/* Marks session `id` ended at `end` (no exit status), re-reading it. */
static inline void kt_fx_end_id(struct kt_store *st, int64_t id, int64_t end)
{
	struct kt_session_info s;

	if (kt_store_session_get(st, id, &s))
		return;
	s.state = KT_SESSION_ENDED;
	s.end_us = end;
	kt_store_session_update(st, &s);
}

/* First column of the first row of `sql` on the store file `path`, read
 * with plain SQLite (tests look under the store API); -1 on error. */
static inline int64_t kt_fx_sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *q = NULL;
	int64_t n = -1;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return n;
}

/* Runs `sql` (one or more statements) on the store file `path` with plain
 * SQLite, as a tamperer would; 0, or -1 after a "# sql:" line naming why. */
static inline int kt_fx_sql_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;
	int rc;

	if (sqlite3_open(path, &db) != SQLITE_OK) {
		printf("# sql: cannot open %s\n", path);
		sqlite3_close(db);
		return -1;
	}
	rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		printf("# sql: %s: %s\n", sql, msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

/* dst = a fresh copy of the store file src (its old -wal/-shm removed
 * first), made by the sqlite3 CLI's VACUUM INTO: a copy to tamper with.
 * 0, or the shell's non-zero status. */
static inline int kt_fx_db_copy(const char *src, const char *dst)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "rm -f '%s'*; sqlite3 '%s' \"VACUUM INTO '%s'\"", dst, src, dst);
	return system(cmd);
}

#endif
