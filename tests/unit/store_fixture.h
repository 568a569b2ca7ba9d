/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store tests' fixture (test_store.c, test_store_stream.c): real
 * SQLite files in a mkdtemp directory, sessions, stderr capture.
 * Header-only (static inline) like kt_fixture.h.
 */
#ifndef KT_STORE_FIXTURE_H
#define KT_STORE_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kt_test.h"
#include "kt_fixture.h" /* kt_fx_sql_exec: SQL under the store API */
#include "log.h"
#include "store.h"

static char tmpdir[64];
static int dbn;

static inline const char *new_path(char *buf, size_t len)
{
	snprintf(buf, len, "%s/t%d.db", tmpdir, ++dbn);
	return buf;
}

static inline struct kt_store *create_store(char *path, size_t len)
{
	struct kt_store *st = NULL;

	new_path(path, len);
	if (kt_store_open(path, KT_STORE_CREATE, &st))
		return NULL;
	return st;
}

static inline int64_t add_session(struct kt_store *st, const char *uuid, const char *ns,
			   const char *pod, int64_t start, int64_t end, int state, bool tty)
{
	struct kt_session_info s = { 0 };

	snprintf(s.uuid, sizeof(s.uuid), "%s", uuid);
	snprintf(s.k8s_namespace, sizeof(s.k8s_namespace), "%s", ns);
	snprintf(s.pod, sizeof(s.pod), "%s", pod);
	snprintf(s.container, sizeof(s.container), "c-%s", pod);
	snprintf(s.node, sizeof(s.node), "node-%s", ns);
	s.start_us = start;
	s.end_us = end;
	s.state = state;
	s.has_tty = tty;
	if (kt_store_session_create(st, &s))
		return -1;
	return s.id;
}

/* ---- capturing stderr, to prove hostile input produces no SQL errors ---- */

static int saved_stderr = -1;
static char errfile[96];

static inline void capture_stderr(void)
{
	int fd;

	fflush(stderr);
	snprintf(errfile, sizeof(errfile), "%s/stderr.txt", tmpdir);
	fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
}

/* Restore stderr; returns what was written (static buffer). */
static inline const char *captured_stderr(void)
{
	static char buf[8192];
	FILE *f;
	size_t n = 0;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	f = fopen(errfile, "r");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	return buf;
}

/* main()'s start and end: a fresh temp directory (kept with KT_KEEP_TMP). */
static inline int store_fx_begin(const char *name)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/kt_%s.XXXXXX", name);
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	kt_log_init(name, KT_LOG_WARN);
	return 0;
}

static inline int store_fx_end(void)
{
	if (!getenv("KT_KEEP_TMP")) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return kt_test_done();
}

#endif
