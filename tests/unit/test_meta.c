// SPDX-License-Identifier: Apache-2.0
/*
 * The store pieces the recorder's commit-then-consume relies on
 * (recorder/continuity.c), against real SQLite files: ring positions in
 * meta commit and roll back with the batch; a rolled-back session insert
 * leaves no row and its id is never reused for another session (ids come
 * only from committed rows).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kt_test.h"
#include "kt_fixture.h"
#include "store.h"

static char dir[128], path[256];

static struct kt_store *fresh(const char *name)
{
	struct kt_store *st = NULL;

	snprintf(path, sizeof(path), "%s/%s.db", dir, name);
	if (kt_store_open(path, KT_STORE_CREATE, &st))
		return NULL;
	return st;
}

static void t_meta_roundtrip(void)
{
	struct kt_store *st = fresh("meta");
	int64_t v = 0;

	CHECK(st);
	if (!st)
		return;
	CHECK_EQ_INT(kt_store_meta_get_int(st, "ring.x.1.0", &v), -ENOENT);
	CHECK_EQ_INT(kt_store_meta_set_int(st, "ring.x.1.0", 1ll << 40), 0);
	CHECK_EQ_INT(kt_store_meta_get_int(st, "ring.x.1.0", &v), 0);
	CHECK_EQ_INT(v, 1ll << 40);
	CHECK_EQ_INT(kt_store_meta_set_int(st, "ring.x.1.0", 7), 0);
	CHECK_EQ_INT(kt_store_meta_get_int(st, "ring.x.1.0", &v), 0);
	CHECK_EQ_INT(v, 7);
	kt_store_close(st);
}

static void t_meta_rolls_back_with_batch(void)
{
	struct kt_store *st = fresh("rollback");
	int64_t v = 0;

	CHECK(st);
	if (!st)
		return;
	CHECK_EQ_INT(kt_store_meta_set_int(st, "ring.b.2.1", 100), 0);
	CHECK_EQ_INT(kt_store_begin(st), 0);
	CHECK_EQ_INT(kt_store_meta_set_int(st, "ring.b.2.1", 200), 0);
	CHECK_EQ_INT(kt_store_rollback(st), 0);
	CHECK_EQ_INT(kt_store_meta_get_int(st, "ring.b.2.1", &v), 0);
	CHECK_EQ_INT(v, 100);
	/* no batch: nothing to do */
	CHECK_EQ_INT(kt_store_rollback(st), 0);
	CHECK_EQ_INT(kt_store_begin(st), 0);
	CHECK_EQ_INT(kt_store_meta_set_int(st, "ring.b.2.1", 300), 0);
	CHECK_EQ_INT(kt_store_commit(st), 0);
	CHECK_EQ_INT(kt_store_meta_get_int(st, "ring.b.2.1", &v), 0);
	CHECK_EQ_INT(v, 300);
	kt_store_close(st);
}

/* The misattribution of issue 9: an id from a rolled-back insert must not
 * name another session's row later. */
static void t_rolled_back_id_not_reused(void)
{
	struct kt_store *st = fresh("ids");
	struct kt_session_info a = {0}, b = {0}, got;
	int64_t lost_id;

	CHECK(st);
	if (!st)
		return;
	snprintf(a.uuid, sizeof(a.uuid), "deadbeef-%016x", 1);
	a.start_us = 1000;
	CHECK_EQ_INT(kt_store_begin(st), 0);
	CHECK_EQ_INT(kt_store_session_create(st, &a), 0);
	lost_id = a.id;
	CHECK(lost_id > 0);
	CHECK_EQ_INT(kt_store_rollback(st), 0);
	CHECK_EQ_INT(kt_store_session_get(st, lost_id, &got), -ENOENT);
	/* the same session created again once the store writes */
	CHECK_EQ_INT(kt_store_session_create(st, &a), 0);
	snprintf(b.uuid, sizeof(b.uuid), "deadbeef-%016x", 2);
	b.start_us = 2000;
	CHECK_EQ_INT(kt_store_session_create(st, &b), 0);
	CHECK(a.id != b.id);
	CHECK_EQ_INT(kt_store_session_get(st, a.id, &got), 0);
	CHECK_EQ_STR(got.uuid, a.uuid);
	CHECK_EQ_INT(kt_store_session_get(st, b.id, &got), 0);
	CHECK_EQ_STR(got.uuid, b.uuid);
	kt_store_close(st);
}

int main(void)
{
	if (kt_fx_mkdtemp(dir, sizeof(dir), "kt-test-meta"))
		return 1;
	RUN(t_meta_roundtrip);
	RUN(t_meta_rolls_back_with_batch);
	RUN(t_rolled_back_id_not_reused);
	kt_fx_rm_dir(dir);
	return kt_test_done();
}
