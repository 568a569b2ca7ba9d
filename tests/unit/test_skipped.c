// SPDX-License-Identifier: Apache-2.0
/*
 * Skipped runs in the store (store/skipped.c), against a real SQLite file:
 * the node-level count adds up across programs and recorder restarts, the
 * per-program kernel count already added is remembered (so a restart adding
 * again from the kernel's running count never counts a skip twice), and a
 * rolled-back batch leaves nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kt_test.h"
#include "kt_fixture.h"
#include "store.h"

static char dir[128], path[256];

static void t_empty(void)
{
	struct kt_store *st = NULL;
	struct kt_skipped k;
	uint64_t seen = 7;

	snprintf(path, sizeof(path), "%s/a.db", dir);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_CREATE, &st), 0);
	if (!st)
		return;
	CHECK_EQ_INT(kt_store_skipped_get(st, &k), 0);
	CHECK(k.runs == 0 && k.first_us == 0 && k.last_us == 0);
	CHECK_EQ_INT(kt_store_skipped_seen(st, "b00710ad", 42, &seen), 0);
	CHECK_EQ_INT(seen, 0);
	kt_store_close(st);
}

static void t_add_and_restart(void)
{
	struct kt_store *st = NULL;
	struct kt_skipped k;
	uint64_t seen;

	snprintf(path, sizeof(path), "%s/b.db", dir);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_CREATE, &st), 0);
	if (!st)
		return;
	/* program 42 skipped 5 runs, program 43 two: a node total of 7 */
	CHECK_EQ_INT(kt_store_begin(st), 0);
	CHECK_EQ_INT(kt_store_skipped_add(st, "b00710ad", 42, 5, 5, 1000), 0);
	CHECK_EQ_INT(kt_store_skipped_add(st, "b00710ad", 43, 2, 2, 2000), 0);
	CHECK_EQ_INT(kt_store_commit(st), 0);
	/* a rolled-back batch changes nothing */
	CHECK_EQ_INT(kt_store_begin(st), 0);
	CHECK_EQ_INT(kt_store_skipped_add(st, "b00710ad", 42, 9, 4, 3000), 0);
	CHECK_EQ_INT(kt_store_rollback(st), 0);
	kt_store_close(st);
	st = NULL;

	/* the next recorder: same boot, same programs (pinned) */
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_CREATE, &st), 0);
	if (!st)
		return;
	CHECK_EQ_INT(kt_store_skipped_get(st, &k), 0);
	CHECK_EQ_INT(k.runs, 7);
	CHECK_EQ_INT(k.first_us, 1000);
	CHECK_EQ_INT(k.last_us, 2000);
	CHECK_EQ_INT(kt_store_skipped_seen(st, "b00710ad", 42, &seen), 0);
	CHECK_EQ_INT(seen, 5);
	/* the kernel's count is 9 now: 4 more, not 9 */
	CHECK_EQ_INT(kt_store_begin(st), 0);
	CHECK_EQ_INT(kt_store_skipped_add(st, "b00710ad", 42, 9, 9 - seen, 4000), 0);
	CHECK_EQ_INT(kt_store_commit(st), 0);
	CHECK_EQ_INT(kt_store_skipped_get(st, &k), 0);
	CHECK_EQ_INT(k.runs, 11);
	CHECK_EQ_INT(k.first_us, 1000);
	CHECK_EQ_INT(k.last_us, 4000);
	/* another boot's program 42 is another program */
	CHECK_EQ_INT(kt_store_skipped_seen(st, "0therb00", 42, &seen), 0);
	CHECK_EQ_INT(seen, 0);
	kt_store_close(st);
}

int main(void)
{
	if (kt_fx_mkdtemp(dir, sizeof(dir), "kt-test-skipped"))
		return 1;
	RUN(t_empty);
	RUN(t_add_and_restart);
	kt_fx_rm_dir(dir);
	return kt_test_done();
}
