// SPDX-License-Identifier: Apache-2.0
/*
 * Retention on real SQLite stores with real signed checkpoints: prune by
 * age and by size budget, per namespace; held and active sessions are never
 * pruned; a dry run deletes nothing; every row of a pruned session goes
 * (commands_fts stays consistent), its checkpoints stay; verify reports a
 * pruned session as pruned and the node chain as intact, but a session
 * deleted without a prune record, or under a rule its signed end
 * contradicts, as broken; VACUUM gives the space back.  Prune records are
 * signed into the node chain: an unsigned, forged (other key) or altered
 * one reads as a deletion; a signed store is not pruned without its key;
 * the recorder's signer continues the chain after another process's prune.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evidence.h"
#include "rec_evidence.h"
#include "log.h"
#include "prune.h"
#include "kt_test.h"
#include "kt_fixture.h"
#include "evidence_fixture.h"

#define DAY (86400 * 1000000LL)

static struct kt_ev_paths g; /* g.key: the node key kt_ev_verify checks against */

/* A signed session: META, `n` chunks of output and a command each, END and
 * the final checkpoint (unless active). */
static int64_t record(struct kt_store *st, struct kt_signer *sg, const char *uuid, const char *ns,
		      int64_t t0, int n, bool end)
{
	struct kt_session_info s = kt_fx_session(uuid, ns, "pod", t0);
	struct kt_chunk_builder b;
	char line[80];

	kt_chunk_builder_init(&b);
	CHECK_EQ_INT(kt_store_session_create(st, &s), 0);
	CHECK_EQ_INT(kt_rec_ev_meta(&b, &s), 0);
	for (int c = 0; c < n; c++) {
		struct kt_command cmd = kt_fx_cmd(s.id, t0 + c * 1000 + 1, 100 + c, 99,
						  ARGV("grep\0needle-word"));

		CHECK_EQ_INT(kt_store_command_add(st, &cmd), 0);
		CHECK_EQ_INT(kt_rec_ev_cmd(&b, &cmd), 0);
		for (int i = 0; i < 100; i++) {
			int len = snprintf(line, sizeof(line), "%s chunk %d line %d %x\r\n", uuid, c, i,
					   (unsigned)(i * 2654435761u));

			CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_OUT, t0 + c * 1000 + 10 + i, line, len), 0);
		}
		CHECK_EQ_INT(kt_store_chunk_append(st, s.id, &b), 0);
		kt_chunk_builder_reset(&b);
		CHECK(kt_store_checkpoint(st, sg, s.id, t0 + c * 1000 + 500, false) >= 0);
	}
	if (end)
		kt_ev_end_session(st, sg, &s, &b, t0 + n * 1000 + 900, 0);
	kt_chunk_builder_free(&b);
	return s.id;
}

/* The node chain's problems on the store at `path` (g's key and head). */
static int node_problems(const char *path, struct kt_ev_node *np)
{
	return kt_ev_verify(&g, path, 0, NULL, np);
}

static int count_cb(const struct kt_session_info *s, int64_t bytes, const char *rule, void *ctx)
{
	(void)s;
	(void)bytes;
	(void)rule;
	(*(int *)ctx)++;
	return 0;
}

/* Ages: a (old, ns a), b (old, held), c (old, ns b), d (2 days, ns a),
 * e (active, old start). */
static void t_age_and_hold(void)
{
	struct kt_store *st = NULL;
	struct kt_signer *sg = NULL;
	struct kt_prune_rule r = { .older_than_us = DAY, .who = "test" };
	struct kt_prune_stats stats;
	struct kt_prune_record pr;
	struct kt_signer *psg = NULL;
	struct kt_ev_node np;
	char db[300];
	int64_t now = kt_now_us(), a, b, c, d, e;
	int n = 0;

	snprintf(db, sizeof(db), "%s/age.db", g.dir);
	if (kt_ev_open_signed(db, g.key, &st, &sg))
		goto out;
	a = record(st, sg, "boot-a", "a", now - 30 * DAY, 3, true);
	b = record(st, sg, "boot-b", "a", now - 29 * DAY, 3, true);
	c = record(st, sg, "boot-c", "b", now - 28 * DAY, 3, true);
	d = record(st, sg, "boot-d", "a", now - 2 * DAY, 3, true);
	e = record(st, sg, "boot-e", "a", now - 40 * DAY, 2, false);
	CHECK_EQ_INT(kt_signer_save_head(sg), 0);
	/* `kubetape prune` loads the recorder's key (never creates one) */
	CHECK_EQ_INT(kt_signer_load(g.key, &psg), 0);
	r.signer = psg;

	CHECK_EQ_INT(kt_store_hold(st, b, "test", "case 42"), 0);
	CHECK_EQ_INT(kt_store_hold(st, b, "test", "again"), -EEXIST);
	CHECK_EQ_INT(kt_store_hold(st, 999, "test", ""), -ENOENT);

	/* dry run: reports, deletes nothing */
	r.dry_run = true;
	r.older_than_us = 7 * DAY;
	CHECK_EQ_INT(kt_store_prune(st, &r, count_cb, &n, &stats), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(stats.held, 1);
	CHECK_EQ_INT(kt_fx_sql_int(db, "SELECT count(*) FROM sessions"), 5);
	CHECK_EQ_INT(kt_fx_sql_int(db, "SELECT count(*) FROM prunes"), 0);

	/* namespace b only */
	r.dry_run = false;
	r.k8s_namespace = "b";
	CHECK_EQ_INT(kt_store_prune(st, &r, NULL, NULL, &stats), 0);
	CHECK_EQ_INT(stats.sessions, 1);
	CHECK_EQ_INT(kt_fx_sql_int(db, "SELECT count(*) FROM sessions WHERE k8s_namespace = 'b'"), 0);

	r.k8s_namespace = NULL;
	CHECK_EQ_INT(kt_store_prune(st, &r, NULL, NULL, &stats), 0);
	CHECK_EQ_INT(stats.sessions, 1); /* a; b held, d young, e active */
	CHECK_EQ_INT(stats.held, 1);
	/* the recorder's signer goes on after the prunes another signer
	 * appended to the chain (kt_signer_sync): no fork, no gap */
	CHECK_EQ_INT(kt_store_checkpoint(st, sg, e, now, false), 0);
	{
		struct kt_chunk_builder cb;

		kt_chunk_builder_init(&cb);
		CHECK_EQ_INT(kt_chunk_add(&cb, KT_FRAME_OUT, now, "more\r\n", 6), 0);
		CHECK_EQ_INT(kt_store_chunk_append(st, e, &cb), 0);
		kt_chunk_builder_free(&cb);
	}
	CHECK_EQ_INT(kt_store_checkpoint(st, sg, e, now + 1, false), 1);
	CHECK_EQ_INT(kt_signer_save_head(sg), 0);
	kt_store_close(st);
	st = NULL;

	CHECK_EQ_INT(kt_fx_sql_int(db, "SELECT count(*) FROM sessions"), 3);
	for (int64_t id = a; id <= c; id += c - a) {
		char sql[256];

		snprintf(sql, sizeof(sql), "SELECT (SELECT count(*) FROM chunks WHERE session_id = %lld) +"
			 " (SELECT count(*) FROM commands WHERE session_id = %lld) +"
			 " (SELECT count(*) FROM chain_heads WHERE session_id = %lld)",
			 (long long)id, (long long)id, (long long)id);
		CHECK_EQ_INT(kt_fx_sql_int(db, sql), 0);
	}
	/* checkpoints stay; the external-content FTS index agrees with commands */
	/* 4 each, and the signed prune record's */
	CHECK_EQ_INT(kt_fx_sql_int(db, "SELECT count(*) FROM checkpoints WHERE session_id IN (1, 3)"), 10);
	CHECK_EQ_INT(kt_fx_sql_int(db, "SELECT count(*) FROM commands_fts WHERE commands_fts MATCH 'needle'"),
		     kt_fx_sql_int(db, "SELECT count(*) FROM commands"));
	CHECK_EQ_INT(kt_fx_sql_int(db, "SELECT count(*) FROM prunes WHERE rule = 'older-than 604800s'"), 1);
	CHECK_EQ_INT(kt_fx_sql_int(db, "SELECT count(*) FROM prunes WHERE rule = 'older-than 604800s namespace=b'"), 1);
	/* each record signed into the node chain, after the session's own */
	CHECK_EQ_INT(kt_fx_sql_int(db, "SELECT count(*) FROM checkpoints c JOIN prunes p ON"
				   " p.session_id = c.session_id AND p.uuid = c.uuid AND p.ts_us = c.ts_us"
				   " WHERE c.final = 2 AND c.seq = 4"), 2);

	CHECK_EQ_INT(kt_store_open(db, KT_STORE_RDONLY, &st), 0);
	if (st) {
		CHECK_EQ_INT(kt_store_prune_get(st, a, &pr), 0);
		CHECK_EQ_STR(pr.uuid, "boot-a");
		CHECK_EQ_STR(pr.who, "test");
		CHECK_EQ_INT(kt_store_prune_get(st, b, &pr), -ENOENT);
		CHECK_EQ_INT(kt_verify_pruned(st, NULL, a, &pr), 0);
		CHECK_EQ_STR(pr.rule, "older-than 604800s");
		CHECK_EQ_INT(kt_verify_pruned(st, NULL, b, &pr), -ENOENT);
		kt_store_close(st);
		st = NULL;
	}
	/* pruned is not tampering */
	CHECK_EQ_INT(node_problems(db, &np), 0);

	/* release b: now it goes */
	CHECK_EQ_INT(kt_store_open(db, 0, &st), 0);
	if (st) {
		CHECK_EQ_INT(kt_store_release(st, b), 0);
		CHECK_EQ_INT(kt_store_release(st, b), -ENOENT);
		CHECK_EQ_INT(kt_store_prune(st, &r, NULL, NULL, &stats), 0);
		CHECK_EQ_INT(stats.sessions, 1);
		kt_store_close(st);
		st = NULL;
	}
	CHECK_EQ_INT(kt_fx_sql_int(db, "SELECT count(*) FROM sessions WHERE state = 0"), 1);
	(void)d;
	(void)e;

	CHECK_EQ_INT(node_problems(db, &np), 0);
	/* a prune record altered after signing (its rule's age): broken, and
	 * the session counts as deleted */
	CHECK_EQ_INT(kt_fx_sql_exec(db, "UPDATE prunes SET min_age_us = 100 * 365 * 86400000000"
				    " WHERE uuid = 'boot-a'"), 0);
	CHECK(node_problems(db, &np) >= 1);
	CHECK(strstr(np.first, "not signed into the chain: deleted") != NULL ||
	      strstr(np.first, "signature invalid") != NULL);
	CHECK_EQ_INT(kt_store_open(db, KT_STORE_RDONLY, &st), 0);
	if (st) {
		CHECK_EQ_INT(kt_verify_pruned(st, NULL, a, &pr), -EBADMSG);
		kt_store_close(st);
		st = NULL;
	}
	/* a session deleted without a prune record: broken, as before */
	CHECK_EQ_INT(kt_fx_sql_exec(db, "UPDATE prunes SET min_age_us = 0;"
				    " DELETE FROM chunks WHERE session_id = 4;"
				    " DELETE FROM commands WHERE session_id = 4;"
				    " DELETE FROM sessions WHERE id = 4"), 0);
	CHECK(node_problems(db, &np) >= 1);
	CHECK(strstr(np.first, "deleted") != NULL);
out:
	kt_signer_free(psg);
	kt_signer_free(sg);
	kt_store_close(st);
}

/*
 * A session that ended long ago but whose final checkpoint the recorder
 * signed only now (it lagged, or was down and caught up): verify holds a
 * pruned session's final checkpoint against the age rule, so the age rule
 * must not take it yet (CI caught `older-than 1s` pruning a session whose
 * end was 1 s old and its final checkpoint not).
 */
static void t_age_signed_late(void)
{
	struct kt_store *st = NULL;
	struct kt_signer *sg = NULL, *psg = NULL;
	struct kt_prune_rule r = { .older_than_us = 7 * DAY, .who = "test" };
	struct kt_prune_stats stats;
	struct kt_session_info s;
	struct kt_chunk_builder b;
	struct kt_ev_node np;
	struct kt_ev_paths p;
	int64_t now = kt_now_us(), id;

	/* a key and node chain of its own: verify reads the whole chain */
	if (kt_ev_paths_init(&p, "prune-late"))
		return;
	if (kt_ev_open_signed(p.db, p.key, &st, &sg))
		goto out;
	id = record(st, sg, "late-a", "a", now - 10 * DAY, 2, false);
	/* ended 10 days ago, as the kernel said; signed now */
	kt_chunk_builder_init(&b);
	CHECK_EQ_INT(kt_store_session_get(st, id, &s), 0);
	s.state = KT_SESSION_ENDED;
	s.end_us = now - 10 * DAY + 5000;
	s.has_exit = true;
	CHECK_EQ_INT(kt_rec_ev_end(&b, &s, s.end_us), 0);
	CHECK_EQ_INT(kt_store_chunk_append(st, id, &b), 0);
	CHECK_EQ_INT(kt_store_session_update(st, &s), 0);
	CHECK_EQ_INT(kt_store_checkpoint(st, sg, id, now, true), 1);
	kt_chunk_builder_free(&b);
	CHECK_EQ_INT(kt_signer_save_head(sg), 0);
	CHECK_EQ_INT(kt_signer_load(p.key, &psg), 0);
	r.signer = psg;

	CHECK_EQ_INT(kt_store_prune(st, &r, NULL, NULL, &stats), 0);
	CHECK_EQ_INT(stats.sessions, 0);
	CHECK_EQ_INT(kt_fx_sql_int(p.db, "SELECT count(*) FROM sessions"), 1);
	CHECK_EQ_INT(kt_ev_verify(&p, p.db, 0, NULL, &np), 0);
	if (np.n) printf("# %s\n", np.first);
	CHECK_EQ_INT(np.n, 0);
	/* once the checkpoint is as old as the rule, it goes, verifiably */
	usleep(2000);
	r.older_than_us = 1000;
	CHECK_EQ_INT(kt_store_prune(st, &r, NULL, NULL, &stats), 0);
	CHECK_EQ_INT(stats.sessions, 1);
	CHECK_EQ_INT(kt_ev_verify(&p, p.db, 0, NULL, &np), 0);
	CHECK_EQ_INT(np.n, 0);
out:
	kt_signer_free(psg);
	kt_signer_free(sg);
	kt_store_close(st);
	kt_fx_rm_dir(p.dir);
}

/* A prune record written by hand for a deleted session (unsigned), and one
 * signed with another key: both BROKEN; no key: no prune. */
static void t_forged(void)
{
	struct kt_store *st = NULL;
	struct kt_signer *sg = NULL, *other = NULL;
	struct kt_prune_rule r = { .older_than_us = DAY, .who = "test" };
	struct kt_prune_record pr;
	struct kt_ev_node np;
	char db[300], key[300], okey[300];
	int64_t now = kt_now_us(), a, b;

	snprintf(db, sizeof(db), "%s/forged.db", g.dir);
	/* node_problems checks against this key and its head file */
	snprintf(g.key, sizeof(g.key), "%s/forged.key", g.dir);
	snprintf(g.head, sizeof(g.head), "%s.head", g.key);
	snprintf(key, sizeof(key), "%s", g.key);
	snprintf(okey, sizeof(okey), "%s/other.key", g.dir);
	CHECK_EQ_INT(kt_store_open(db, KT_STORE_CREATE, &st), 0);
	CHECK_EQ_INT(kt_signer_open(key, &sg), 0);
	CHECK_EQ_INT(kt_signer_open(okey, &other), 0);
	{
		struct kt_signer *none = NULL;

		CHECK_EQ_INT(kt_signer_load("/nonexistent/kubetape.key", &none), -ENOENT);
		CHECK(none == NULL);
	}
	if (!st || !sg || !other)
		goto out;
	CHECK_EQ_INT(kt_signer_attach(sg, st), 0);
	a = record(st, sg, "forge-a", "a", now - 30 * DAY, 2, true);
	b = record(st, sg, "forge-b", "a", now - 29 * DAY, 2, true);
	CHECK_EQ_INT(kt_signer_save_head(sg), 0);
	CHECK_EQ_INT(node_problems(db, &np), 0);

	/* unsigned prune of a signed store: refused, nothing deleted */
	CHECK_EQ_INT(kt_store_prune(st, &r, NULL, NULL, NULL), -EPERM);
	/* another node's key: refused */
	r.signer = other;
	CHECK_EQ_INT(kt_store_prune(st, &r, NULL, NULL, NULL), -EKEYREJECTED);
	CHECK_EQ_INT(kt_fx_sql_int(db, "SELECT count(*) FROM sessions"), 2);
	kt_store_close(st);
	st = NULL;

	/* a: deleted by hand with a prune record that is not signed */
	CHECK_EQ_INT(kt_fx_sql_exec(db, "INSERT INTO prunes (session_id, uuid, ts_us, rule, start_us, end_us)"
				    " SELECT id, uuid, end_us + 31 * 86400000000, 'older-than 86400s', start_us, end_us"
				    " FROM sessions WHERE uuid = 'forge-a';"
				    " DELETE FROM chunks WHERE session_id = 1; DELETE FROM commands WHERE session_id = 1;"
				    " DELETE FROM chain_heads WHERE session_id = 1; DELETE FROM sessions WHERE id = 1"), 0);
	CHECK(node_problems(db, &np) >= 1);
	CHECK(strstr(np.first, "forge-a") && strstr(np.first, "is not signed into the chain: deleted"));
	CHECK_EQ_INT(kt_store_open(db, KT_STORE_RDONLY, &st), 0);
	if (st) {
		CHECK_EQ_INT(kt_verify_pruned(st, NULL, a, &pr), -EBADMSG);
		kt_store_close(st);
		st = NULL;
	}

	/* b: pruned with another key, after replacing meta's key (what an
	 * editor of the store without the node key can do): broken under the
	 * node's real public key */
	CHECK_EQ_INT(kt_fx_sql_exec(db, "DELETE FROM meta WHERE key = 'node_pubkey'"), 0);
	CHECK_EQ_INT(kt_store_open(db, 0, &st), 0);
	if (st) {
		struct kt_prune_stats stats;

		CHECK_EQ_INT(kt_store_prune(st, &r, NULL, NULL, &stats), 0);
		CHECK_EQ_INT(stats.sessions, 1);
		kt_store_close(st);
		st = NULL;
	}
	CHECK(node_problems(db, &np) >= 2);
	CHECK_EQ_INT(kt_fx_sql_int(db, "SELECT count(*) FROM sessions"), 0);
	{
		struct kt_store *ro = NULL;
		uint8_t pk[KT_PK_LEN];
		char pub[320];

		snprintf(pub, sizeof(pub), "%s.pub", key);
		CHECK_EQ_INT(kt_pubkey_load(pub, pk), 0);
		CHECK_EQ_INT(kt_store_open(db, KT_STORE_RDONLY, &ro), 0);
		if (ro) {
			CHECK_EQ_INT(kt_verify_pruned(ro, pk, b, &pr), -EBADMSG);
			kt_store_close(ro);
		}
	}
out:
	kt_signer_free(other);
	kt_signer_free(sg);
	kt_store_close(st);
}

/* Size budget: oldest first, held exempt, the file shrinks after reclaim. */
static void t_size(void)
{
	struct kt_store *st = NULL;
	struct kt_signer *sg = NULL;
	struct kt_prune_rule r = { .who = "test" };
	struct kt_prune_stats stats;
	int64_t now = kt_now_us(), ids[6], one, freed = 0;
	char db[300], uuid[16];

	char key[300];

	snprintf(db, sizeof(db), "%s/size.db", g.dir);
	snprintf(key, sizeof(key), "%s/size.key", g.dir); /* its own chain */
	if (kt_ev_open_signed(db, key, &st, &sg))
		goto out;
	r.signer = sg;
	for (int i = 0; i < 6; i++) {
		snprintf(uuid, sizeof(uuid), "boot-s%d", i);
		ids[i] = record(st, sg, uuid, "a", now - (20 - i) * DAY, 40, true);
	}
	one = kt_fx_sql_int(db, "SELECT sum(length(data)) FROM chunks WHERE session_id = 1");
	CHECK(one > 10000);
	CHECK_EQ_INT(kt_store_hold(st, ids[0], "test", ""), 0);
	/* budget of ~3.5 sessions: s0 held, so s1, s2, s3 go (the oldest) */
	r.max_bytes = (uint64_t)(one * 7 / 2);
	CHECK_EQ_INT(kt_store_prune(st, &r, NULL, NULL, &stats), 0);
	CHECK_EQ_INT(stats.sessions, 3);
	CHECK_EQ_INT(stats.held, 1);
	CHECK(stats.total_after <= (int64_t)r.max_bytes);
	CHECK_EQ_INT(kt_fx_sql_int(db, "SELECT group_concat(id) = '1,5,6' FROM (SELECT id FROM sessions ORDER BY id)"), 1);
	CHECK_EQ_INT(kt_store_reclaim(st, &freed), 0);
	CHECK(freed > one * 2);
	CHECK_EQ_INT(kt_fx_sql_int(db, "PRAGMA auto_vacuum"), 2);
out:
	kt_signer_free(sg);
	kt_store_close(st);
}

int main(void)
{
	kt_log_init("test_prune", KT_LOG_WARN);
	if (kt_ev_paths_init(&g, "prune"))
		return 1;
	RUN(t_age_and_hold);
	RUN(t_size);
	RUN(t_age_signed_late);
	RUN(t_forged);
	kt_fx_rm_dir(g.dir);
	return kt_test_done();
}
