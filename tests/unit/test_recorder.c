// SPDX-License-Identifier: Apache-2.0
/*
 * The recorder core (recorder/sessions.c + continuity.c), "events in, rows
 * out", on a synthetic kernel (struct kt_kops) and a real SQLite store:
 * the kernel side is what cannot run in a unit test (the BPF selftest and
 * tests/e2e/restart_test.sh run the real one); everything else is real.
 *
 * The synthetic kernel: recorder_fixture.h.  More cases (bad events, loss
 * timing, tty reuse after retirement, command exits out of order, a
 * read-only store): test_recorder_events.c.
 *
 * Cases: a plain session; a lost session start (rebuilt from the kernel's
 * map); kernel loss shown as a gap frame; exits out of order; tty reuse;
 * restart with adoption (same id, nothing twice, nothing lost), including a
 * crash between commit and consume; store errors (SQLite's own
 * max_page_count makes it full): no row from a rolled-back insert, every
 * session gets its row afterwards, bytes only in their own session.
 */
#include "recorder_fixture.h"

/* ---- cases ---------------------------------------------------------------- */

static void t_plain_session(void)
{
	struct kt_store *st = store_new("plain");
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r = rec_new(st, k);
	struct kt_session_info i;
	uint64_t gap;
	char *out;
	int64_t id;

	ev_start(k, 11, 0xa1, true);
	ev_exec(k, 11, 1011, "bash");
	ev_out(k, 11, "hello ");
	ev_out(k, 11, "world\r\n");
	ev_exit(k, 11, 1011, true, true, 3);
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0); /* grace 0: closed */
	id = id_of(st, 11);
	CHECK(id > 0);
	CHECK_EQ_INT(kt_store_session_get(st, id, &i), 0);
	CHECK_EQ_INT(i.state, KT_SESSION_ENDED);
	CHECK(i.has_exit && i.exit_status == 3 << 8);
	out = stream_of(st, id, &gap);
	CHECK_EQ_STR(out, "hello world\r\n");
	free(out);
	CHECK_EQ_INT(k->rings[1].cons, k->rings[1].end); /* consumed after commit */
	CHECK(!k_sess(k, 11));                            /* retired */
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
}

static void t_lost_start_and_gap(void)
{
	struct kt_store *st = store_new("loss");
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r = rec_new(st, k);
	struct kt_session_info i;
	uint64_t gap;
	char *out;

	ev_start(k, 21, 0xb1, false); /* its start event never reached the ring */
	ev_out(k, 21, "abc");
	k_sess(k, 21)->lost_bytes = 500;
	k_sess(k, 21)->lost_events = 2;
	ev_out(k, 21, "def");
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK_EQ_INT(count_sessions(st), 1);
	CHECK_EQ_INT(kt_store_session_get(st, id_of(st, 21), &i), 0);
	CHECK_EQ_INT(i.lost_bytes, 500);
	out = stream_of(st, id_of(st, 21), &gap);
	CHECK_EQ_STR(out, "abcdef");
	CHECK_EQ_INT(gap, 500);
	free(out);
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
}

static void t_exits_out_of_order_and_tty_reuse(void)
{
	struct kt_store *st = store_new("order");
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r = rec_new(st, k);
	struct kt_session_info i;
	uint64_t gap;
	char *out;

	ev_start(k, 31, 0xc1, true);
	ev_exec(k, 31, 2000, "sleep");
	ev_exit(k, 31, 1031, true, false, 0); /* leader first */
	ev_out(k, 31, "tail");
	/* the freed tty_struct is reused by a new session before the old one
	 * is retired: the newer session owns the key */
	ev_start(k, 32, 0xc1, true);
	k->ttys[0][1] = 32;
	ev_out(k, 32, "new");
	ev_exit(k, 31, 2000, false, true, 0); /* the child last */
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK_EQ_INT(kt_store_session_get(st, id_of(st, 31), &i), 0);
	CHECK_EQ_INT(i.state, KT_SESSION_ENDED);
	out = stream_of(st, id_of(st, 31), &gap);
	CHECK_EQ_STR(out, "tail");
	free(out);
	out = stream_of(st, id_of(st, 32), &gap);
	CHECK_EQ_STR(out, "new");
	free(out);
	/* the old session's retire left the key with the new one */
	{
		bool owned = false;

		for (int t = 0; t < k->nttys; t++)
			owned |= k->ttys[t][0] == 0xc1 && k->ttys[t][1] == 32;
		CHECK(owned);
	}
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
}

/* kill -9 after reading, before the commit; and after the commit, before
 * the consume: the next recorder continues the same session, each byte
 * once. */
static void t_restart_adoption(void)
{
	struct kt_store *st = store_new("adopt");
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r = rec_new(st, k);
	struct kt_session_info i;
	uint64_t gap, cons[2];
	int64_t id;
	char *out;

	ev_start(k, 41, 0xd1, true);
	ev_out(k, 41, "one ");
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	id = id_of(st, 41);
	ev_out(k, 41, "two ");
	kk_read(k, 0);
	/* "kill -9": no tick, no shutdown; the ring keeps what was read */
	kt_recorder_free(r);
	kk_rewind(k);
	k->adopted = true;
	r = rec_new(st, k);
	CHECK_EQ_INT(kt_recorder_adopt(r), 0);
	ev_out(k, 41, "three ");
	kk_read(k, 0);
	cons[0] = k->rings[0].cons;
	cons[1] = k->rings[1].cons;
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	/* crash between commit and consume: the kernel still has the old
	 * consumer positions, the store the new ones */
	k->rings[0].cons = cons[0];
	k->rings[1].cons = cons[1];
	kt_recorder_free(r);
	kk_rewind(k);
	r = rec_new(st, k);
	CHECK_EQ_INT(kt_recorder_adopt(r), 0);
	ev_out(k, 41, "four");
	ev_exit(k, 41, 1041, true, true, 7);
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK_EQ_INT(count_sessions(st), 1);
	CHECK_EQ_INT(id_of(st, 41), id);
	out = stream_of(st, id, &gap);
	CHECK_EQ_STR(out, "one two three four");
	free(out);
	CHECK_EQ_INT(kt_store_session_get(st, id, &i), 0);
	CHECK(i.state == KT_SESSION_ENDED && i.exit_status == 7 << 8);
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
}

/* An open row the kernel no longer knows and no state to adopt: marked
 * interrupted at start-up. */
static void t_unadoptable_marked_interrupted(void)
{
	struct kt_store *st = store_new("unadopt");
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r = rec_new(st, k);
	struct kt_session_info i;

	ev_start(k, 51, 0, true);
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	kt_recorder_free(r);
	k_free(k);
	k = calloc(1, sizeof(*k)); /* a reboot: fresh kernel, nothing pinned */
	r = rec_new(st, k);
	CHECK_EQ_INT(kt_recorder_adopt(r), 0);
	CHECK_EQ_INT(kt_store_session_get(st, 1, &i), 0);
	CHECK_EQ_INT(i.state, KT_SESSION_INTERRUPTED);
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
}

static int64_t page_count(struct kt_store *st)
{
	sqlite3_stmt *q;
	int64_t n = 0;

	sqlite3_prepare_v2(st->db, "PRAGMA page_count", -1, &q, NULL);
	if (sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return n;
}

static void max_pages(struct kt_store *st, int64_t n)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld", (long long)n);
	sqlite3_exec(st->db, sql, NULL, NULL, NULL);
}

/* Disk full (SQLite's own limit): nothing committed, no id leaks; when it
 * writes again every session has its row and only its bytes. */
static void store_full(const char *name)
{
	struct kt_store *st = store_new(name);
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r = rec_new(st, k);
	char big[4000];
	uint64_t gap, cons;
	char *out;

	big[sizeof(big) - 1] = 0;
	ev_start(k, 61, 0xe1, true);  /* quiet */
	ev_out(k, 61, "q1 ");
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	cons = k->rings[1].cons;
	/* room for rows, small chunks and checkpoints, not for the flood */
	max_pages(st, page_count(st) + 12);
	/* the flood is handled after the new session 63 (hash order), so the
	 * failing batch already holds 63's first checkpoint */
	ev_start(k, 64, 0xe2, true);  /* floods */
	for (int j = 0; j < 50; j++) {
		/* incompressible, so it takes pages (chunks are zstd) */
		for (size_t c = 0; c < sizeof(big) - 1; c++)
			big[c] = 'a' + (char)(rand() % 26);
		ev_out(k, 64, big);
	}
	ev_out(k, 61, "q2 ");
	ev_start(k, 63, 0xe3, true);  /* starts during the outage */
	ev_exec(k, 63, 1063, "hostname");
	ev_out(k, 63, "n1 ");
	kk_read(k, 0);
	CHECK(kt_recorder_tick(r) < 0);
	CHECK(kt_recorder_store_down(r));
	CHECK_EQ_INT(count_sessions(st), 1);            /* no rolled-back row */
	CHECK_EQ_INT(k->rings[1].cons, cons);             /* nothing given back */
	max_pages(st, 1000000);
	usleep(1100 * 1000);                            /* the retry interval */
	for (int t = 0; t < 100 && (kt_recorder_store_down(r) || !kk_caught_up(k)); t++) {
		kt_recorder_tick(r);
		kt_recorder_poll(r, 0);
	}
	kt_recorder_tick(r);
	CHECK(!kt_recorder_store_down(r));
	CHECK_EQ_INT(count_sessions(st), 3);
	out = stream_of(st, id_of(st, 61), &gap);
	CHECK_EQ_STR(out, "q1 q2 ");
	free(out);
	out = stream_of(st, id_of(st, 63), &gap);
	CHECK_EQ_STR(out, "n1 ");
	free(out);
	out = stream_of(st, id_of(st, 64), &gap);
	CHECK_EQ_INT(strlen(out), 50 * (sizeof(big) - 1));
	free(out);
	CHECK(id_of(st, 61) != id_of(st, 63) && id_of(st, 64) != id_of(st, 63));
	if (signer) {
		/* end them all: the signed chain must verify across the rollback */
		struct kt_verify_result vr;
		char head[300];

		ev_exit(k, 61, 1061, true, true, 0);
		ev_exit(k, 64, 1064, true, true, 0);
		ev_exit(k, 63, 1063, true, true, 0);
		kk_read(k, 0);
		kt_recorder_tick(r);
		kt_recorder_tick(r);
		for (uint64_t kid = 61; kid <= 64; kid += kid == 61 ? 2 : 1) {
			CHECK_EQ_INT(kt_verify_session(st, id_of(st, kid), NULL, 0, &vr), 0);
			if (vr.state != KT_VERIFY_OK)
				printf("# session %llu: %s: %s\n", (unsigned long long)kid,
				       kt_verify_state_name(vr.state), vr.why);
			CHECK_EQ_INT(vr.state, KT_VERIFY_OK);
		}
		snprintf(head, sizeof(head), "%s/node.key.head", dir);
		CHECK_EQ_INT(kt_verify_node(st, NULL, head, NULL, NULL, NULL), 0);
	}
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
}

static void t_store_full(void)
{
	store_full("full");
}

/* The same with the signed hash chain (store/evidence.h): checkpoints in
 * the rolled-back batch are gone, the signer continues from the store. */
static void t_store_full_signed(void)
{
	struct kt_store *st;
	char key[300];

	snprintf(key, sizeof(key), "%s/node.key", dir);
	CHECK_EQ_INT(kt_signer_open(key, &signer), 0);
	st = store_new("full_signed");
	CHECK(st && kt_signer_attach(signer, st) == 0);
	kt_store_close(st);
	if (!signer)
		return;
	store_full("full_signed");
	kt_signer_free(signer);
	signer = NULL;
}

/* SIGTERM while the store cannot write: shutdown returns 0, gives nothing
 * back to the kernel and leaves the rows as they were (active, not ended or
 * interrupted); the next recorder, on a writable store, continues the open
 * session and creates the one that started during the outage, each with
 * only its own bytes. */
static void t_shutdown_during_outage(void)
{
	struct kt_store *st = store_new("down_term");
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r = rec_new(st, k);
	struct kt_session_info i;
	char big[4000];
	uint64_t cons[2], gap;
	int64_t id;
	char *out;

	big[sizeof(big) - 1] = 0;
	ev_start(k, 81, 0xf1, true);
	ev_out(k, 81, "a1 ");
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	id = id_of(st, 81);
	cons[0] = k->rings[0].cons;
	cons[1] = k->rings[1].cons;
	max_pages(st, page_count(st));
	for (int j = 0; j < 20; j++) {
		for (size_t c = 0; c < sizeof(big) - 1; c++)
			big[c] = 'a' + (char)(rand() % 26);
		ev_out(k, 81, big);
	}
	ev_start(k, 82, 0xf2, true);  /* starts during the outage */
	ev_out(k, 82, "b1 ");
	kk_read(k, 0);
	CHECK(kt_recorder_tick(r) < 0);
	CHECK(kt_recorder_store_down(r));
	CHECK_EQ_INT(kt_recorder_shutdown(r), 0);
	CHECK_EQ_INT(k->rings[0].cons, cons[0]);  /* the backlog stays */
	CHECK_EQ_INT(k->rings[1].cons, cons[1]);
	CHECK_EQ_INT(count_sessions(st), 1);
	CHECK_EQ_INT(kt_store_session_get(st, id, &i), 0);
	CHECK_EQ_INT(i.state, KT_SESSION_ACTIVE);
	kt_recorder_free(r);
	/* repaired; the next recorder adopts the pinned rings */
	max_pages(st, 1000000);
	kk_rewind(k);
	k->adopted = true;
	r = rec_new(st, k);
	CHECK_EQ_INT(kt_recorder_adopt(r), 0);
	ev_out(k, 81, "a2");
	ev_exit(k, 81, 1081, true, true, 3);
	ev_exit(k, 82, 1082, true, true, 4);
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK_EQ_INT(count_sessions(st), 2);
	CHECK_EQ_INT(id_of(st, 81), id);
	out = stream_of(st, id, &gap);
	CHECK_EQ_INT(strlen(out), 3 + 20 * (sizeof(big) - 1) + 2);
	CHECK(strncmp(out, "a1 ", 3) == 0 && strcmp(out + strlen(out) - 2, "a2") == 0);
	free(out);
	out = stream_of(st, id_of(st, 82), &gap);
	CHECK_EQ_STR(out, "b1 ");
	free(out);
	CHECK_EQ_INT(kt_store_session_get(st, id, &i), 0);
	CHECK_EQ_INT(i.state, KT_SESSION_ENDED);
	CHECK(i.has_exit && i.exit_status == 3 << 8);
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
}

int main(void)
{
	kt_log_init("test_recorder", getenv("KT_DEBUG") ? KT_LOG_DEBUG : KT_LOG_WARN);
	kt_attrib_config_defaults(&ac);
	ac.n_containerd = ac.n_crio = 0;
	ac.node_name = "unit";
	if (kt_fx_mkdtemp(dir, sizeof(dir), "kt-test-recorder"))
		return 1;
	RUN(t_plain_session);
	RUN(t_lost_start_and_gap);
	RUN(t_exits_out_of_order_and_tty_reuse);
	RUN(t_restart_adoption);
	RUN(t_unadoptable_marked_interrupted);
	RUN(t_store_full);
	RUN(t_store_full_signed);
	RUN(t_shutdown_during_outage);
	kt_fx_rm_dir(dir);
	return kt_test_done();
}
