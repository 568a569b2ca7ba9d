// SPDX-License-Identifier: Apache-2.0
/*
 * The recorder core's batching (recorder/sessions.c kt_rec_commit_due,
 * check_loss_all) on the synthetic kernel of recorder_fixture.h:
 *   - output of a quiet session waits for flush_age: nothing committed and
 *     nothing given back to the kernel before, everything at once after;
 *   - a session start commits at once (its row), whatever the age;
 *   - more than the hold bound read commits without waiting (2 MiB, or an
 *     eighth of each ring when the recorder knows their sizes);
 *   - SIGTERM's shutdown writes what waits, whatever the age;
 *   - store fault while output waits: nothing lost, nothing twice;
 *   - loss counters of every session read in one batch call, not one
 *     lookup per session; the batch failing falls back to lookups, and the
 *     gaps are the same either way.
 */
#include "recorder_fixture.h"

static void out_n(struct kernel *k, uint64_t sid, char c, size_t n)
{
	char *t = malloc(n + 1);

	memset(t, c, n);
	t[n] = 0;
	ev_out(k, sid, t);
	free(t);
}

static bool consumed(const struct kernel *k)
{
	for (int i = 0; i < KT_KOPS_RINGS; i++)
		if (k->rings[i].cons != k->rings[i].end)
			return false;
	return true;
}

static void t_age_flush(void)
{
	struct kt_store *st;
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r;
	uint64_t gap;
	char *out;

	rec_flush_age_us = 300000;
	st = store_new("age");
	r = rec_new(st, k);
	ev_start(k, 90, 0xb0, true);
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK_EQ_INT(count_sessions(st), 1);   /* a start commits at once */
	CHECK(consumed(k));
	ev_out(k, 90, "abc");
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	ev_out(k, 90, "def");
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	/* younger than flush_age: only in memory and in the ring */
	out = stream_of(st, id_of(st, 90), &gap);
	CHECK_EQ_STR(out, "");
	free(out);
	CHECK(!consumed(k));
	usleep(350000);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	out = stream_of(st, id_of(st, 90), &gap);
	CHECK_EQ_STR(out, "abcdef");           /* one chunk for both ticks */
	free(out);
	CHECK(consumed(k));
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
	rec_flush_age_us = 0;
}

/*
 * Held output past the bound commits without waiting a minute: `under`
 * frames of 4000 bytes stay held, `under + over` do not.  ring_mib 0: the
 * recorder does not know the ring sizes (2 MiB over all rings); else an
 * eighth of each ring of that size.
 */
static void hold_case(const char *name, size_t ring_mib, int under, int over)
{
	struct kt_store *st;
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r;
	uint64_t gap;
	char *out;
	size_t n;

	rec_flush_age_us = 60 * 1000000LL;
	rec_flush_bytes = 64u << 20;           /* no chunk cut by size */
	st = store_new(name);
	r = rec_new(st, k);
	for (int i = 0; ring_mib && i < KT_KOPS_RINGS; i++)
		kt_recorder_set_ring_size(r, i, ring_mib << 20);
	ev_start(k, 91, 0xb1, true);
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	for (int i = 0; i < under; i++)
		out_n(k, 91, 'x', 4000);
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK(!consumed(k));
	for (int i = 0; i < over; i++)
		out_n(k, 91, 'y', 4000);
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK(consumed(k));
	out = stream_of(st, id_of(st, 91), &gap);
	n = strlen(out);
	free(out);
	CHECK_EQ_INT(n, (size_t)(under + over) * 4000);
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
	rec_flush_age_us = 0;
	rec_flush_bytes = 1 << 20;
}

static void t_hold_bound(void)
{
	hold_case("hold", 0, 1, 600);          /* 2.4 MB > 2 MiB */
}

/* an eighth of a 1 MiB ring: 80 KB stays, 160 KB commits */
static void t_hold_bound_ring_size(void)
{
	hold_case("holdring", 1, 20, 20);
}

static void t_shutdown_writes_waiting(void)
{
	struct kt_store *st;
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r;
	uint64_t gap;
	char *out;

	rec_flush_age_us = 60 * 1000000LL;
	st = store_new("shut");
	r = rec_new(st, k);
	ev_start(k, 92, 0xb2, true);
	ev_out(k, 92, "waiting");
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);  /* the start commits the output too */
	ev_out(k, 92, " more");
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK(!consumed(k));
	CHECK_EQ_INT(kt_recorder_shutdown(r), 0);
	CHECK(consumed(k));
	out = stream_of(st, id_of(st, 92), &gap);
	CHECK_EQ_STR(out, "waiting more");
	free(out);
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
	rec_flush_age_us = 0;
}

/* The store refuses the commit of output that waited: it is read again
 * from the ring and written once. */
static void t_fault_while_waiting(void)
{
	struct kt_store *st;
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r;
	uint64_t gap;
	char *out;

	rec_flush_age_us = 200000;
	st = store_new("fault");
	r = rec_new(st, k);
	ev_start(k, 93, 0xb3, true);
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	ev_out(k, 93, "one ");
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	query_only(st, true);
	ev_out(k, 93, "two ");
	kk_read(k, 0);
	usleep(250000);
	CHECK(kt_recorder_tick(r) < 0);
	CHECK(kt_recorder_store_down(r));
	CHECK(!consumed(k));
	query_only(st, false);
	ev_out(k, 93, "three");
	usleep(1100 * 1000);                     /* the retry interval */
	for (int t = 0; t < 100 && (kt_recorder_store_down(r) || !kk_caught_up(k)); t++) {
		kt_recorder_tick(r);
		kt_recorder_poll(r, 0);
	}
	usleep(250000);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK(!kt_recorder_store_down(r));
	CHECK(consumed(k));
	out = stream_of(st, id_of(st, 93), &gap);
	CHECK_EQ_STR(out, "one two three");
	free(out);
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
	rec_flush_age_us = 0;
}

/* Loss on two of three sessions: with the batch, one batch call per tick
 * and no lookups; with the batch failing, lookups; the same gaps. */
static void loss_case(bool batch_works)
{
	struct kt_store *st;
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r;
	struct kt_session_info i;
	uint64_t gap;
	char *out;

	st = store_new(batch_works ? "lossb" : "lossl");
	r = rec_new(st, k);
	k->batch_err = batch_works ? 0 : -EINVAL;
	for (uint64_t s = 94; s < 97; s++)
		ev_start(k, s, 0xb4 + s, true);
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	k->batch_calls = k->lookup_calls = 0;
	for (uint64_t s = 94; s < 97; s++)
		ev_out(k, s, "out");
	k_sess(k, 94)->lost_bytes = 10;
	k_sess(k, 94)->lost_events = 1;
	k_sess(k, 96)->lost_bytes = 70;
	k_sess(k, 96)->lost_events = 2;
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK_EQ_INT(k->batch_calls, 1);
	CHECK_EQ_INT(k->lookup_calls, batch_works ? 0 : 3);
	out = stream_of(st, id_of(st, 94), &gap);
	CHECK_EQ_STR(out, "out");
	CHECK_EQ_INT(gap, 10);
	free(out);
	out = stream_of(st, id_of(st, 95), &gap);
	CHECK_EQ_INT(gap, 0);
	free(out);
	out = stream_of(st, id_of(st, 96), &gap);
	CHECK_EQ_INT(gap, 70);
	free(out);
	CHECK_EQ_INT(kt_store_session_get(st, id_of(st, 96), &i), 0);
	CHECK_EQ_INT(i.lost_bytes, 70);
	CHECK_EQ_INT(i.lost_events, 2);
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
}

static void t_loss_batch(void)
{
	loss_case(true);
}

static void t_loss_batch_fallback(void)
{
	loss_case(false);
}

int main(void)
{
	kt_log_init("test_recorder_batch", getenv("KT_DEBUG") ? KT_LOG_DEBUG : KT_LOG_ERROR);
	kt_attrib_config_defaults(&ac);
	ac.n_containerd = ac.n_crio = 0;
	ac.node_name = "unit";
	if (kt_fx_mkdtemp(dir, sizeof(dir), "kt-test-recorder-batch"))
		return 1;
	RUN(t_age_flush);
	RUN(t_hold_bound);
	RUN(t_hold_bound_ring_size);
	RUN(t_shutdown_writes_waiting);
	RUN(t_fault_while_waiting);
	RUN(t_loss_batch);
	RUN(t_loss_batch_fallback);
	kt_fx_rm_dir(dir);
	return kt_test_done();
}
