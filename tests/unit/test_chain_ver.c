// SPDX-License-Identifier: Apache-2.0
/*
 * Chain versions (FORMAT.md "Chain versions"): 1 = BLAKE2b-256, 2 = SHA-256.
 *  - each version's step against a known answer computed elsewhere
 *    (Python's hashlib over the bytes FORMAT.md defines);
 *  - a v8 store (schema before chain versions, its chains BLAKE2b, written
 *    and signed, then put back to v8's exact schema) upgraded, verified,
 *    extended with a version-2 session and a signed prune of an old session:
 *    every session and the node chain, which crosses the switch both ways,
 *    verify clean;
 *  - an unknown version (session or checkpoint) is a clear problem, and the
 *    writer refuses to extend such a chain; swapping a version is caught.
 * Per-version tampering (frames, chunks, checkpoints, node chain) is in
 * test_evidence, which runs its whole table once per version.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "store.h"
#include "evidence.h"
#include "prune.h"
#include "rec_evidence.h"
#include "log.h"
#include "kt_test.h"
#include "kt_fixture.h"
#include "evidence_fixture.h"

#define DAY (86400 * 1000000LL)

static struct kt_ev_paths g;
static int64_t g_old[2], g_new;

static void hex(const uint8_t *h, char *out)
{
	for (int i = 0; i < KT_HASH_LEN; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

/* h_2 over OUT "hi" at 1700000000000000 and IN "" 300 us later, from
 * h_0 = zeros (hashlib.blake2b(digest_size=32) / hashlib.sha256). */
static void t_known_answer(void)
{
	static const struct { int ver; const char *want; } T[] = {
		{ KT_CHAIN_BLAKE2B, "0f22be9b4d6a94b81f41bbda379bd480ab92066d6582d1b0c2bc708557413aa1" },
		{ KT_CHAIN_SHA256, "c0782f9cb0b8bef5607b60bfdce1889194b231964ee4da2b4d27260f6f2a00bc" },
	};
	struct kt_frame f1 = { .type = KT_FRAME_OUT, .ts_us = 1700000000000000, .data = (const uint8_t *)"hi", .len = 2 };
	struct kt_frame f2 = { .type = KT_FRAME_IN, .ts_us = 1700000000000300, .data = (const uint8_t *)"", .len = 0 };

	for (size_t i = 0; i < sizeof(T) / sizeof(T[0]); i++) {
		struct kt_chain *c = kt_chain_new(T[i].ver);
		uint8_t h[KT_HASH_LEN] = { 0 };
		char got[2 * KT_HASH_LEN + 1];

		CHECK(c != NULL);
		if (!c)
			continue;
		CHECK(kt_chain_step(c, h, &f1) == 0);
		CHECK(kt_chain_step(c, h, &f2) == 0);
		hex(h, got);
		CHECK_EQ_STR(got, T[i].want);
		kt_chain_free(c);
	}
	errno = 0;
	CHECK(kt_chain_new(0) == NULL && errno == EPROTONOSUPPORT);
	errno = 0;
	CHECK(kt_chain_new(3) == NULL && errno == EPROTONOSUPPORT);
}

/* An ended session: META, two chunks of output, a checkpoint between, END
 * and the final checkpoint (kt_ev_end_session); ver 1 the way a v8 writer
 * made it. */
static int64_t record(struct kt_store *st, struct kt_signer *sg, const char *uuid, int64_t t0,
		      int ver)
{
	struct kt_session_info s = kt_fx_session(uuid, "ns", "pod", t0);
	struct kt_chunk_builder b;
	char line[64];

	kt_chunk_builder_init(&b);
	CHECK_EQ_INT(kt_store_session_create(st, &s), 0);
	if (ver != KT_CHAIN_VER_NEW) {
		snprintf(line, sizeof(line), "UPDATE sessions SET chain_ver = %d WHERE id = %lld",
			 ver, (long long)s.id);
		CHECK_EQ_INT(kt_fx_sql_exec(g.db, line), 0);
	}
	CHECK_EQ_INT(kt_rec_ev_meta(&b, &s), 0);
	for (int c = 0; c < 2; c++) {
		for (int i = 0; i < 100; i++) {
			int n = snprintf(line, sizeof(line), "%s %d line %d\r\n", uuid, c, i);

			CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_OUT, t0 + c * 1000 + i + 1, line, n), 0);
		}
		CHECK_EQ_INT(kt_store_chunk_append(st, s.id, &b), 0);
		kt_chunk_builder_reset(&b);
		if (!c)
			CHECK_EQ_INT(kt_store_checkpoint(st, sg, s.id, t0 + 500, false), 1);
	}
	kt_ev_end_session(st, sg, &s, &b, t0 + 5000, 0);
	kt_chunk_builder_free(&b);
	return s.id;
}

static void expect_clean(const char *path, int64_t sid)
{
	struct kt_verify_result r;
	struct kt_ev_node np;

	kt_ev_verify(&g, path, sid, &r, &np);
	CHECK_EQ_INT(r.state, KT_VERIFY_OK);
	CHECK_EQ_INT(np.n, 0);
	if (r.problems)
		printf("# session %lld: %s\n", (long long)sid, r.why);
	if (np.n)
		printf("# node: %s\n", np.first);
}

static void t_v8_store_upgraded_and_mixed(void)
{
	int64_t now = kt_now_us(), ids[1];
	struct kt_prune_rule rule = { .older_than_us = 7 * DAY, .who = "test",
				      .only_ids = ids, .n_only_ids = 1, .only_ids_set = true };
	struct kt_prune_stats stats;
	struct kt_store *st = NULL;
	struct kt_signer *sg = NULL;

	/* what a v8 recorder left: BLAKE2b chains, "KTCP\x01" checkpoints */
	if (kt_ev_open_signed(g.db, g.key, &st, &sg))
		goto out;
	kt_store_set_zstd_level(st, 0);
	g_old[0] = record(st, sg, "old-1", now - 30 * DAY, KT_CHAIN_BLAKE2B);
	g_old[1] = record(st, sg, "old-2", now - 29 * DAY, KT_CHAIN_BLAKE2B);
	CHECK_EQ_INT(kt_signer_save_head(sg), 0);
	kt_signer_free(sg);
	sg = NULL;
	kt_store_close(st);
	st = NULL;
	/* v8's schema exactly: no version columns */
	CHECK_EQ_INT(kt_fx_sql_exec(g.db, "ALTER TABLE sessions DROP COLUMN chain_ver;"
			 "ALTER TABLE checkpoints DROP COLUMN ver;"
			 "UPDATE meta SET value = 8 WHERE key = 'schema_version'"), 0);

	/* upgraded: old rows are version 1 and verify unchanged */
	CHECK_EQ_INT(kt_store_open(g.db, KT_STORE_CREATE, &st), 0);
	if (!st)
		goto out;
	kt_store_set_zstd_level(st, 0);
	CHECK_EQ_INT(kt_fx_sql_int(g.db, "SELECT value FROM meta WHERE key = 'schema_version'"), 9);
	CHECK_EQ_INT(kt_fx_sql_int(g.db, "SELECT count(*) FROM sessions WHERE chain_ver = 1"), 2);
	CHECK_EQ_INT(kt_fx_sql_int(g.db, "SELECT count(*) FROM checkpoints WHERE ver = 1"), 4);
	expect_clean(g.db, g_old[0]);
	expect_clean(g.db, g_old[1]);

	/* a new session after the upgrade: version 2, on the same node chain */
	CHECK_EQ_INT(kt_signer_open(g.key, &sg), 0);
	if (!sg)
		goto out;
	CHECK_EQ_INT(kt_signer_attach(sg, st), 0);
	g_new = record(st, sg, "new-1", now - 1 * DAY, KT_CHAIN_VER_NEW);
	CHECK_EQ_INT(kt_signer_save_head(sg), 0);
	CHECK_EQ_INT(kt_fx_sql_int(g.db, "SELECT chain_ver FROM sessions WHERE uuid = 'new-1'"), 2);
	CHECK_EQ_INT(kt_fx_sql_int(g.db, "SELECT count(*) FROM checkpoints WHERE ver = 2"), 2);
	CHECK_EQ_INT(kt_fx_sql_int(g.db, "SELECT min(node_seq) FROM checkpoints WHERE ver = 2"), 5);

	/* an old session pruned after the upgrade: its prune record is signed
	 * with its own version, after version-2 checkpoints */
	ids[0] = g_old[0];
	CHECK_EQ_INT(kt_signer_load(g.key, &rule.signer), 0);
	CHECK_EQ_INT(kt_store_prune(st, &rule, NULL, NULL, &stats), 0);
	CHECK_EQ_INT(stats.sessions, 1);
	CHECK_EQ_INT(kt_signer_save_head(rule.signer), 0);
	kt_signer_free(rule.signer);
	CHECK_EQ_INT(kt_fx_sql_int(g.db, "SELECT ver FROM checkpoints WHERE final = 2"), 1);
	CHECK_EQ_INT(kt_fx_sql_int(g.db, "SELECT max(node_seq) FROM checkpoints"), 7);
out:
	kt_signer_free(sg);
	kt_store_close(st);
	expect_clean(g.db, g_old[1]);
	expect_clean(g.db, g_new);
	{
		struct kt_prune_record pr;

		CHECK_EQ_INT(kt_store_open(g.db, KT_STORE_RDONLY, &st), 0);
		if (st)
			CHECK_EQ_INT(kt_verify_pruned(st, NULL, g_old[0], &pr), 0);
		kt_store_close(st);
	}
}

struct vcase {
	const char *name, *sql;
	int64_t *sid;
	const char *want, *want_node;  /* substrings (kt_ev_expect); want_node NULL: any */
};

static void t_versions_tampered(void)
{
	static const struct vcase T[] = {
		{ "unknown session version", "UPDATE sessions SET chain_ver = 7 WHERE uuid = 'new-1'",
		  &g_new, "chain version 7 unknown to this kubetape", NULL },
		{ "unknown checkpoint version", "UPDATE checkpoints SET ver = 7 WHERE node_seq = 5",
		  &g_new, "checkpoint 0: chain version 7 unknown to this kubetape",
		  "checkpoint 5 (session new-1): chain version 7 unknown" },
		{ "new session said old", "UPDATE sessions SET chain_ver = 1 WHERE uuid = 'new-1'",
		  &g_new, "checkpoint 0: chain version 2, the session's is 1", NULL },
		{ "new checkpoints said old", "UPDATE checkpoints SET ver = 1 WHERE session_id ="
		  " (SELECT id FROM sessions WHERE uuid = 'new-1')",
		  &g_new, "signature invalid", "checkpoint 5 (session new-1): signature invalid" },
		{ "old checkpoint said new", "UPDATE checkpoints SET ver = 2 WHERE node_seq = 3",
		  &g_old[1], "checkpoint 0: chain version 2, the session's is 1",
		  "checkpoint 3 (session old-2): signature invalid" },
	};
	char copy[300];

	snprintf(copy, sizeof(copy), "%s/copy.db", g.dir);
	for (size_t i = 0; i < sizeof(T) / sizeof(T[0]); i++) {
		struct kt_verify_result r;
		struct kt_ev_node np;

		if (kt_fx_db_copy(g.db, copy)) {
			CHECK(!"copy");
			continue;
		}
		CHECK_EQ_INT(kt_fx_sql_exec(copy, T[i].sql), 0);
		kt_ev_verify(&g, copy, *T[i].sid, &r, &np);
		kt_ev_expect(T[i].name, &r, &np, T[i].want, T[i].want_node);
		printf("# version | %-28s | %s | %s%s%s\n", T[i].name, kt_verify_state_name(r.state),
		       r.why, np.n ? " || node: " : "", np.n ? np.first : "");
	}

	/* the writer does not extend or sign a chain whose hash it does not know */
	{
		struct kt_session_info s = kt_fx_session("future-1", "ns", "pod", kt_now_us());
		struct kt_store *st = NULL;
		struct kt_signer *sg = NULL;
		struct kt_chunk_builder b;
		char q[128];

		kt_chunk_builder_init(&b);
		if (!kt_ev_open_signed(copy, g.key, &st, &sg)) {
			CHECK_EQ_INT(kt_store_session_create(st, &s), 0);
			CHECK_EQ_INT(kt_rec_ev_meta(&b, &s), 0);
			CHECK_EQ_INT(kt_store_chunk_append(st, s.id, &b), 0);
			snprintf(q, sizeof(q), "UPDATE sessions SET chain_ver = 3 WHERE id = %lld",
				 (long long)s.id);
			CHECK_EQ_INT(kt_fx_sql_exec(copy, q), 0);
			CHECK_EQ_INT(kt_store_chunk_append(st, s.id, &b), -EPROTONOSUPPORT);
			CHECK_EQ_INT(kt_store_checkpoint(st, sg, s.id, s.start_us + 1, true),
				     -EPROTONOSUPPORT);
		}
		kt_signer_free(sg);
		kt_store_close(st);
		kt_chunk_builder_free(&b);
	}
}

int main(void)
{
	kt_log_init("test_chain_ver", KT_LOG_ERROR);
	if (sodium_init() < 0 || kt_ev_paths_init(&g, "kt-chain-ver"))
		return 1;
	RUN(t_known_answer);
	RUN(t_v8_store_upgraded_and_mixed);
	RUN(t_versions_tampered);
	kt_fx_rm_dir(g.dir);
	return kt_test_done();
}
