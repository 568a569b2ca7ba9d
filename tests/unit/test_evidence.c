// SPDX-License-Identifier: Apache-2.0
/*
 * Tamper evidence on a real store, written the way the recorder writes it
 * (evidence frames from recorder/rec_evidence.c, chunks through the store,
 * checkpoints signed with a real key), then every tampering of the issue's
 * table applied to a copy with plain SQLite, each caught by
 * kt_verify_session / kt_verify_node with the right reason.  Also: a clean
 * store verifies before and after compaction; the redaction rules.  The
 * evidence cases run once per chain version (FORMAT.md "Chain versions"):
 * the new one (SHA-256) and version 1 (BLAKE2b), whose sessions are made
 * version 1 before their first frame, as an upgraded store's old ones are.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sodium.h>
#include <unistd.h>

#include "store.h"
#include "evidence.h"
#include "rec_evidence.h"
#include "redact.h"
#include "log.h"
#include "kt_test.h"
#include "kt_fixture.h"
#include "evidence_fixture.h"

static struct kt_ev_paths g;
static int64_t g_sid[2];
static int g_ver;           /* the chain version this round writes */
static char g_name[64];

/* RUN, with the chain version in the case's name */
#define RUNV(fn) do { snprintf(g_name, sizeof(g_name), "%s_v%d", #fn, g_ver); \
	kt_t_cur = g_name; kt_t_cur_failed = 0; fn(); \
	if (kt_t_cur_failed) kt_t_failed_cases++; else printf("PASS %s\n", g_name); \
	fflush(stdout); } while (0)

/* One session the recorder's way: META, output in several chunks, commands
 * with CMD/EXIT frames, checkpoints, END and the final checkpoint. */
static void record(struct kt_store *st, struct kt_signer *sg, const char *uuid, int64_t t0,
		   int64_t *sid)
{
	struct kt_session_info s = kt_fx_session(uuid, "ns", "pod", t0);
	struct kt_chunk_builder b;
	char line[64];
	int32_t seq;

	kt_chunk_builder_init(&b);
	CHECK_EQ_INT(kt_store_session_create(st, &s), 0);
	*sid = s.id;
	CHECK_EQ_INT(kt_fx_sql_int(g.db, "SELECT chain_ver FROM sessions ORDER BY id DESC LIMIT 1"),
		     KT_CHAIN_VER_NEW);
	if (g_ver != KT_CHAIN_VER_NEW) {
		char q[128];

		snprintf(q, sizeof(q), "UPDATE sessions SET chain_ver = %d WHERE id = %lld", g_ver,
			 (long long)s.id);
		CHECK_EQ_INT(kt_fx_sql_exec(g.db, q), 0);
	}
	CHECK_EQ_INT(kt_rec_ev_meta(&b, &s), 0);
	for (int c = 0; c < 6; c++) {
		struct kt_command cmd = kt_fx_cmd(s.id, t0 + c * 1000000 + 10, 100 + c, 99,
						  ARGV("env\0FOO=bar\0ls"));

		CHECK_EQ_INT(kt_store_command_add(st, &cmd), 0);
		CHECK_EQ_INT(kt_rec_ev_cmd(&b, &cmd), 0);
		for (int i = 0; i < 200; i++) {
			int n = snprintf(line, sizeof(line), "chunk %d line %d hello\r\n", c, i);

			CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_OUT, t0 + c * 1000000 + 100 + i, line, n), 0);
		}
		CHECK_EQ_INT(kt_rec_ev_withheld(&b, t0 + c * 1000000 + 500, 7), 0);
		CHECK_EQ_INT(kt_store_command_exit_seq(st, s.id, 100 + c, t0 + c * 1000000 + 900, c << 8, &seq), 0);
		CHECK_EQ_INT(seq, c);
		CHECK_EQ_INT(kt_rec_ev_exit(&b, seq, t0 + c * 1000000 + 900, c << 8), 0);
		CHECK_EQ_INT(kt_store_chunk_append(st, s.id, &b), 0);
		kt_chunk_builder_reset(&b);
		if (c % 2 == 0)
			CHECK_EQ_INT(kt_store_checkpoint(st, sg, s.id, t0 + c * 1000000 + 950, false), 1);
	}
	kt_ev_end_session(st, sg, &s, &b, t0 + 7000000, 3 << 8);
	/* nothing new: no second final checkpoint */
	CHECK_EQ_INT(kt_store_checkpoint(st, sg, s.id, s.end_us, true), 0);
	kt_chunk_builder_free(&b);
}

static void t_record(void)
{
	struct kt_store *st = NULL;
	struct kt_signer *sg = NULL;

	if (kt_ev_open_signed(g.db, g.key, &st, &sg))
		goto out;
	kt_store_set_zstd_level(st, 0); /* raw appends, as the recorder writes */
	record(st, sg, "boot0001-1", 1700000000000000, &g_sid[0]);
	record(st, sg, "boot0001-2", 1700000100000000, &g_sid[1]);
	CHECK_EQ_INT(kt_signer_save_head(sg), 0);
out:
	kt_signer_free(sg);
	kt_store_close(st);
	/* the key is private, the public key next to it */
	CHECK_EQ_INT(kt_fx_sql_int(g.db, "SELECT count(*) FROM checkpoints"), 8);
	{
		char q[128];

		/* every checkpoint names its session's version */
		snprintf(q, sizeof(q), "SELECT count(*) FROM checkpoints c JOIN sessions s ON"
			 " s.id = c.session_id WHERE c.ver = %d AND s.chain_ver = %d", g_ver, g_ver);
		CHECK_EQ_INT(kt_fx_sql_int(g.db, q), 8);
	}
	{
		char cmd[1024];

		snprintf(cmd, sizeof(cmd), "test \"$(stat -c %%a '%s')\" = 600 && test -s '%s.pub'", g.key, g.key);
		CHECK_EQ_INT(system(cmd), 0);
	}
}

static void t_clean_verifies(void)
{
	struct kt_verify_result r;
	struct kt_ev_node np;

	for (int i = 0; i < 2; i++) {
		kt_ev_verify(&g, g.db, g_sid[i], &r, &np);
		CHECK_EQ_INT(r.state, KT_VERIFY_OK);
		CHECK_EQ_INT(r.problems, 0);
		CHECK_EQ_INT(r.final, 1);
		CHECK_EQ_INT(r.checkpoints, 4);
		CHECK_EQ_INT(r.frames, r.frames_signed);
		if (r.problems)
			printf("# %s\n", r.why);
	}
	CHECK_EQ_INT(np.n, 0);
	if (np.n)
		printf("# %s\n", np.first);
}

/* Compaction re-chunks and recompresses: the chain is over frames, so it
 * still verifies, and a flipped byte inside a merged chunk is still caught. */
static void t_compaction_keeps_chain(void)
{
	struct kt_store *st = NULL;
	struct kt_compact_stats cs = {0};
	struct kt_verify_result r;
	struct kt_ev_node np;
	int64_t before = kt_fx_sql_int(g.db, "SELECT count(*) FROM chunks");
	int ret;

	CHECK_EQ_INT(kt_store_open(g.db, KT_STORE_CREATE, &st), 0);
	if (!st)
		return;
	/* small merged chunks, so chunk-level tampering still has chunks to move */
	CHECK_EQ_INT(kt_store_set_compaction(st, 9, 8192), 0);
	for (int i = 0; i < 2; i++) {
		while ((ret = kt_index_session(st, g_sid[i], 0)) == 1)
			;
		CHECK_EQ_INT(ret, 0);
		while ((ret = kt_store_compact_session(st, g_sid[i], 0, &cs)) == 1)
			;
		CHECK_EQ_INT(ret, 0);
	}
	kt_store_close(st);
	CHECK(kt_fx_sql_int(g.db, "SELECT count(*) FROM chunks") < before);
	CHECK_EQ_INT(kt_fx_sql_int(g.db, "SELECT count(*) FROM chunks WHERE codec = 0"), 0);
	for (int i = 0; i < 2; i++) {
		kt_ev_verify(&g, g.db, g_sid[i], &r, &np);
		CHECK_EQ_INT(r.state, KT_VERIFY_OK);
		if (r.problems)
			printf("# %s\n", r.why);
	}
	CHECK_EQ_INT(np.n, 0);
}

/* ---- the tamper table ------------------------------------------------------ */

/* Flip one byte in the middle of chunk `seq`'s stored data. */
static int flip_byte(const char *path, int64_t sid, int64_t seq)
{
	sqlite3 *db;
	sqlite3_stmt *q = NULL;
	uint8_t *d = NULL;
	int n = 0, rc = -1;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT data FROM chunks WHERE session_id = ?1 AND seq = ?2", -1, &q, NULL) ||
	    (sqlite3_bind_int64(q, 1, sid), sqlite3_bind_int64(q, 2, seq), sqlite3_step(q)) != SQLITE_ROW)
		goto out;
	n = sqlite3_column_bytes(q, 0);
	d = malloc(n);
	if (!d || n < 2)
		goto out;
	memcpy(d, sqlite3_column_blob(q, 0), n);
	sqlite3_finalize(q);
	q = NULL;
	d[n / 2] ^= 0x01;
	if (sqlite3_prepare_v2(db, "UPDATE chunks SET data = ?3 WHERE session_id = ?1 AND seq = ?2", -1, &q, NULL))
		goto out;
	sqlite3_bind_int64(q, 1, sid);
	sqlite3_bind_int64(q, 2, seq);
	sqlite3_bind_blob(q, 3, d, n, SQLITE_STATIC);
	rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
out:
	sqlite3_finalize(q);
	sqlite3_close(db);
	free(d);
	return rc;
}

/* Re-sign checkpoint `node_seq` (after changing its frame count) with a
 * key that is not the node's: what a forger with the store but not the key
 * can do. */
static int resign_other_key(const char *path, int64_t node_seq)
{
	unsigned char pk[32], sk[64], sig[64], msg[200], *p = msg;
	sqlite3 *db;
	sqlite3_stmt *q = NULL;
	int rc = -1;

	crypto_sign_keypair(pk, sk);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	/* any message: the point is that no key but the node's verifies */
	memcpy(p, "forged", 6);
	crypto_sign_detached(sig, NULL, msg, 6, sk);
	if (sqlite3_prepare_v2(db, "UPDATE checkpoints SET sig = ?2, n_frames = n_frames - 1 WHERE node_seq = ?1",
			       -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, node_seq);
		sqlite3_bind_blob(q, 2, sig, 64, SQLITE_STATIC);
		rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	return rc;
}

struct tamper {
	const char *name;
	const char *sql;       /* applied to a fresh copy, or NULL */
	int flip_chunk;        /* >= 0: flip a byte in the chunk with this rank */
	int resign;            /* re-sign node checkpoint 2 with another key */
	int session;           /* which session to verify (index into g_sid) */
	const char *want;      /* substring of the session's reason ("" none) */
	const char *want_node; /* substring of the node chain's first problem */
};

static void t_tamper_table(void)
{
	static const struct tamper T[] = {
		/* raw chunk: the checkpoint's hash; merged chunk: zstd notices first */
		{ "byte changed in a chunk", NULL, 0, 0, 0, "", NULL },
		{ "chunk deleted", "DELETE FROM chunks WHERE session_id = 1 AND seq ="
		  " (SELECT seq FROM chunks WHERE session_id = 1 ORDER BY seq LIMIT 1 OFFSET 1)",
		  -1, 0, 0, "missing: no chunk holds them", NULL },
		{ "two chunks swapped", "CREATE TEMP TABLE a AS SELECT seq, data, raw_len, codec, nframes"
		  " FROM chunks WHERE session_id = 1 ORDER BY seq LIMIT 2 OFFSET 1;"
		  "UPDATE chunks SET data = (SELECT data FROM a WHERE a.seq <> chunks.seq),"
		  " raw_len = (SELECT raw_len FROM a WHERE a.seq <> chunks.seq),"
		  " codec = (SELECT codec FROM a WHERE a.seq <> chunks.seq),"
		  " nframes = (SELECT nframes FROM a WHERE a.seq <> chunks.seq)"
		  " WHERE session_id = 1 AND seq IN (SELECT seq FROM a)", -1, 0, 0, "", NULL },
		{ "argv edited", "UPDATE commands SET argv = CAST('env' || x'00' || 'FOO=baz' || x'00' || 'ls' || x'00' AS BLOB),"
		  " argv_text = 'env FOO=baz ls' WHERE session_id = 1 AND seq = 2",
		  -1, 0, 0, "command 2: argv differs from the signed stream", NULL },
		{ "exit code edited", "UPDATE commands SET exit_status = 0 WHERE session_id = 1 AND seq = 3",
		  -1, 0, 0, "command 3: exit (status 0, end) differs", NULL },
		{ "session deleted", "DELETE FROM chunks WHERE session_id = 1; DELETE FROM commands WHERE session_id = 1;"
		  " DELETE FROM sessions WHERE id = 1; DELETE FROM checkpoints WHERE session_id = 1",
		  -1, 0, 0, NULL, "checkpoints 1..4 missing" },
		{ "last checkpoints deleted", "DELETE FROM checkpoints WHERE session_id = 2 AND seq >= 2",
		  -1, 0, 1, "final checkpoint is missing", "the last checkpoints were deleted" },
		{ "checkpoint re-signed with another key", NULL, -1, 1, 0, "checkpoint 1: signature invalid",
		  "checkpoint 2 (session boot0001-1): signature invalid" },
		{ "metadata edited", "UPDATE sessions SET pod = 'innocent' WHERE id = 1", -1, 0, 0,
		  "session metadata: pod differs", NULL },
		{ "frames appended after the end", NULL, -1, 0, 1, "after the final checkpoint", NULL },
	};
	char copy[300];

	snprintf(copy, sizeof(copy), "%s/copy.db", g.dir);
	for (size_t i = 0; i < sizeof(T) / sizeof(T[0]); i++) {
		const struct tamper *t = &T[i];
		struct kt_verify_result r;
		struct kt_ev_node np;
		int64_t sid = g_sid[t->session];

		if (kt_fx_db_copy(g.db, copy)) {
			CHECK(!"copy");
			continue;
		}
		if (t->sql)
			CHECK_EQ_INT(kt_fx_sql_exec(copy, t->sql), 0);
		if (t->flip_chunk >= 0) {
			/* the second chunk: a merged (compressed) one after compaction */
			int64_t seq = kt_fx_sql_int(copy, "SELECT seq FROM chunks WHERE session_id = 1 ORDER BY seq LIMIT 1");

			CHECK_EQ_INT(flip_byte(copy, g_sid[0], seq), 0);
		}
		if (t->resign)
			CHECK_EQ_INT(resign_other_key(copy, 2), 0);
		if (!strcmp(t->name, "frames appended after the end")) {
			struct kt_store *st = NULL;
			struct kt_chunk_builder b;

			kt_chunk_builder_init(&b);
			CHECK_EQ_INT(kt_store_open(copy, KT_STORE_CREATE, &st), 0);
			CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_OUT, 1700000200000000, "forged\r\n", 8), 0);
			CHECK_EQ_INT(kt_store_chunk_append(st, sid, &b), 0);
			kt_store_close(st);
			kt_chunk_builder_free(&b);
		}
		kt_ev_verify(&g, copy, sid, &r, &np);
		kt_ev_expect(t->name, &r, &np, t->want, t->want_node);
		printf("# tamper | %-38s | %s | %s%s%s\n", t->name,
		       r.state < 0 ? "session gone" : kt_verify_state_name(r.state), r.problems ? r.why : "",
		       np.n ? " || node: " : "", np.n ? np.first : "");
	}
}

/* A recorder killed mid-session: what was signed verifies, the rest is an
 * unsigned tail, not "broken". */
static void t_unsigned_tail(void)
{
	char copy[300];
	struct kt_verify_result r;
	struct kt_ev_node np;
	struct kt_store *st = NULL;
	struct kt_chunk_builder b;

	struct kt_signer *sg = NULL;
	struct kt_session_info s = kt_fx_session("boot0001-3", "ns", "pod", 1700000300000000);

	snprintf(copy, sizeof(copy), "%s/tail.db", g.dir);
	CHECK_EQ_INT(kt_fx_db_copy(g.db, copy), 0);
	/* a session whose recorder dies after a checkpoint and more output */
	kt_chunk_builder_init(&b);
	if (kt_ev_open_signed(copy, g.key, &st, &sg))
		goto out;
	CHECK_EQ_INT(kt_store_session_create(st, &s), 0);
	CHECK_EQ_INT(kt_rec_ev_meta(&b, &s), 0);
	CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_OUT, s.start_us + 1, "early\r\n", 7), 0);
	CHECK_EQ_INT(kt_store_chunk_append(st, s.id, &b), 0);
	kt_chunk_builder_reset(&b);
	CHECK_EQ_INT(kt_store_checkpoint(st, sg, s.id, s.start_us + 2, false), 1);
	CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_OUT, s.start_us + 3, "late\r\n", 6), 0);
	CHECK_EQ_INT(kt_store_chunk_append(st, s.id, &b), 0);
	/* the next recorder marks it interrupted */
	CHECK_EQ_INT(kt_store_sessions_interrupt_open(st, s.start_us + 4, NULL), 0);
out:
	kt_signer_free(sg); /* no kt_signer_save_head: the test's head file stays */
	kt_store_close(st);
	kt_chunk_builder_free(&b);
	kt_ev_verify(&g, copy, s.id, &r, &np);
	CHECK_EQ_INT(r.state, KT_VERIFY_UNSIGNED_TAIL);
	CHECK(r.frames > r.frames_signed && r.frames_signed > 0);
	if (r.problems)
		printf("# %s\n", r.why);
}

static void t_redact_rules(void)
{
	static const struct { const char *in; size_t len; const char *want, *rules; } T[] = {
		{ ARGV("env\0FOO_TOKEN=xyz\0cmd"), "env FOO_TOKEN=[redacted:token] cmd", "token" },
		{ ARGV("env\0DB_PASSWORD=hunter2"), "env DB_PASSWORD=[redacted:password]", "password" },
		{ ARGV("env\0aws_secret_access_key=abc"), "env aws_secret_access_key=[redacted:secret]", "secret" },
		{ ARGV("app\0--password=hunter2\0-v"), "app --password=[redacted:password-flag] -v", "password-flag" },
		{ ARGV("app\0--password\0hunter2\0-v"), "app --password [redacted:password-flag] -v", "password-flag" },
		{ ARGV("/usr/bin/mysql\0-uroot\0-phunter2\0db"), "/usr/bin/mysql -uroot -p[redacted:mysql-p] db", "mysql-p" },
		{ ARGV("mysql\0-p\0db"), NULL, "" },
		{ ARGV("aws\0s3\0ls\0--key=AKIAABCDEFGHIJKLMNOP"), "aws s3 ls --key=[redacted:aws-access-key]", "aws-access-key" },
		{ ARGV("ls\0-l\0/tmp"), NULL, "" },
		{ ARGV("custom\0--pin=1234"), "custom --pin=[redacted:pin]", "pin" },
	};
	struct kt_redact *rd = NULL;
	char rules[300];
	FILE *f;

	snprintf(rules, sizeof(rules), "%s/rules", g.dir);
	f = fopen(rules, "w");
	if (!f)
		return;
	fputs("# a custom rule\nflag pin --pin\n", f);
	fclose(f);
	CHECK_EQ_INT(kt_redact_load(rules, &rd), 0);
	for (size_t i = 0; rd && i < sizeof(T) / sizeof(T[0]); i++) {
		char *out = NULL, fired[128], joined[256];
		size_t out_len = 0;
		int ret = kt_redact_argv(rd, T[i].in, T[i].len, &out, &out_len, fired, sizeof(fired));

		CHECK_EQ_INT(ret, T[i].want ? 1 : 0);
		if (ret == 1) {
			size_t n = out_len < sizeof(joined) ? out_len : sizeof(joined) - 1;

			memcpy(joined, out, n);
			joined[n] = 0;
			while (n && joined[n - 1] == 0)
				n--;
			for (size_t k = 0; k < n; k++)
				if (!joined[k])
					joined[k] = ' ';
			joined[n] = 0;
			CHECK_EQ_STR(joined, T[i].want);
			CHECK_EQ_STR(fired, T[i].rules);
		}
		free(out);
	}
	kt_redact_free(rd);
	/* a malformed file is an error naming the line */
	f = fopen(rules, "w");
	if (f) {
		fputs("flag\n", f);
		fclose(f);
	}
	CHECK_EQ_INT(kt_redact_load(rules, &rd), -EINVAL);
}

static int count_entry(const struct kt_access_entry *e, void *ctx)
{
	int *n = ctx;

	if (!strcmp(e->action, "export") && e->session_id == 7 && !strncmp(e->who, "uid ", 4) &&
	    !strcmp(e->detail, "--format raw"))
		(*n)++;
	return 0;
}

/* Entries kt_access_list gives for session_id (0: all) that cb counts,
 * through a read-only store; -1 if it fails. */
static int access_count(int64_t session_id, int (*cb)(const struct kt_access_entry *, void *))
{
	struct kt_store *st = NULL;
	int n = 0;

	if (kt_store_open(g.db, KT_STORE_RDONLY, &st))
		return -1;
	if (kt_access_list(st, session_id, 0, 0, cb, &n))
		n = -1;
	kt_store_close(st);
	return n;
}

/* The access log: its own file in access/ next to the store, shared by
 * the CLI and the web (mode 0660 in a setgid 2770 directory); reading it
 * needs no write access. */
static void t_access_log(void)
{
	char who[160], cmd[1024];

	kt_access_who_cli(who, sizeof(who));
	CHECK(!strncmp(who, "uid ", 4));
	CHECK_EQ_INT(kt_access_log(g.db, who, "export", 7, "--format raw"), 0);
	CHECK_EQ_INT(kt_access_log(g.db, "web bearer token from 127.0.0.1", "replay", 7, ""), 0);
	snprintf(cmd, sizeof(cmd), "test \"$(stat -c %%a '%s/access')\" = 2770 && "
		 "test \"$(stat -c %%a '%s/access/kt.db.access')\" = 660", g.dir, g.dir);
	CHECK_EQ_INT(system(cmd), 0);
	CHECK_EQ_INT(access_count(7, count_entry), 1);
}

static int count_action(const struct kt_access_entry *e, void *ctx)
{
	if (!strcmp(e->action, "wal"))
		(*(int *)ctx)++;
	return 0;
}

/* The log keeps its WAL between readers (store/access.c): it must stay
 * bounded (checkpointed and truncated every ACCESS_CKPT_FRAMES commits,
 * whichever process commits), keep every row, and its -wal and -shm must
 * be shareable like the log (0660). */
static void t_access_log_wal(void)
{
	const char *sfx[] = { "-wal", "-shm" };
	char path[300];
	struct stat sb;
	off_t max = 0;

	snprintf(path, sizeof(path), "%s/access/kt.db.access-wal", g.dir);
	for (int i = 0; i < 100; i++) {
		CHECK_EQ_INT(kt_access_log(g.db, "uid 0 (root)", "wal", 0, "x"), 0);
		if (stat(path, &sb) == 0 && sb.st_size > max)
			max = sb.st_size;
	}
	/* 32 one-page frames (24-byte frame header) and the 32-byte WAL header,
	 * with room for a commit of two pages */
	CHECK(max > 0);
	CHECK(max <= 32 + 34 * (4096 + 24));
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/access/kt.db.access%s", g.dir, sfx[i]);
		CHECK_EQ_INT(stat(path, &sb), 0);
		CHECK_EQ_INT(sb.st_mode & 07777, 0660);
	}
	CHECK_EQ_INT(access_count(0, count_action), 100);
}

int main(void)
{
	kt_log_init("test_evidence", KT_LOG_ERROR);
	if (sodium_init() < 0)
		return 1;
	for (int round = 0; round < 2; round++) {
		g_ver = round ? KT_CHAIN_BLAKE2B : KT_CHAIN_VER_NEW;
		if (kt_ev_paths_init(&g, "kt-evidence"))
			return 1;
		RUNV(t_record);
		RUNV(t_clean_verifies);
		RUNV(t_tamper_table);
		RUNV(t_compaction_keeps_chain);
		RUNV(t_tamper_table); /* again, on merged compressed chunks */
		RUNV(t_unsigned_tail);
		if (!round) {
			RUN(t_redact_rules);
			RUN(t_access_log);
			RUN(t_access_log_wal);
		}
		kt_fx_rm_dir(g.dir);
	}
	return kt_test_done();
}
