// SPDX-License-Identifier: Apache-2.0
/*
 * The syscall backend's n_tty catch-up arithmetic (bpf/catchup.h), without a
 * kernel: what a read that skipped bytes recovers from the 4 KiB ring and
 * what it counts as lost.  The loss must be exact: never more than the hole
 * (the lapped-loss over-count seen on 7.3), never less than what the ring
 * no longer holds.
 */
#include <stdint.h>
#include "kt_test.h"
#include "catchup.h"

#define RING KT_N_TTY_BUF_SIZE

static void t_no_hole(void)
{
	struct kt_catchup c;

	CHECK(!kt_catchup_span(1000, 1000, 1500, &c));
	CHECK_EQ_INT(c.lost + c.copy_len, 0);
	CHECK(!kt_catchup_span(1000, 900, 1500, &c)); /* counters went backwards */
	CHECK_EQ_INT(c.lost + c.copy_len, 0);
	/* the first read of a session: out_next starts at ~0 (not n_tty yet) */
	CHECK(!kt_catchup_span(UINT64_MAX, 5000, 6000, &c));
	CHECK_EQ_INT(c.lost + c.copy_len, 0);
}

static void t_hole_in_ring(void)
{
	struct kt_catchup c;

	CHECK(kt_catchup_span(1000, 1500, 2000, &c));
	CHECK_EQ_INT(c.lost, 0);
	CHECK_EQ_INT(c.copy_from, 1000);
	CHECK_EQ_INT(c.copy_len, 500);
	/* the ring holds exactly [head - 4096, head): from at its edge is intact */
	CHECK(kt_catchup_span(1000, 3000, 1000 + RING, &c));
	CHECK_EQ_INT(c.lost, 0);
	CHECK_EQ_INT(c.copy_len, 2000);
}

static void t_lapped(void)
{
	struct kt_catchup c;

	/* one byte past the edge: exactly one byte lost */
	CHECK(kt_catchup_span(1000, 3000, 1001 + RING, &c));
	CHECK_EQ_INT(c.lost, 1);
	CHECK_EQ_INT(c.copy_from, 1001);
	CHECK_EQ_INT(c.copy_len, 1999);
	/* a 5000-byte hole, the producer 100 past its end */
	CHECK(kt_catchup_span(1000, 6000, 6100, &c));
	CHECK_EQ_INT(c.lost, 6100 - RING - 1000);
	CHECK_EQ_INT(c.copy_from, 6100 - RING);
	CHECK_EQ_INT(c.copy_len, 6000 - (6100 - RING));
}

/*
 * The 7.3 over-count: a 200-byte hole, and by the time this read's exit
 * runs the producer is 8000 bytes further.  The old arithmetic counted
 * head - 4096 - from = 3904 bytes lost, including the 3704 bytes this read
 * and later ones return themselves.  Only the hole can be lost.
 */
static void t_lap_past_start_is_clamped(void)
{
	struct kt_catchup c;

	CHECK(kt_catchup_span(1000, 1200, 9000, &c));
	CHECK_EQ_INT(c.lost, 200);
	CHECK_EQ_INT(c.copy_len, 0);
	CHECK_EQ_INT(c.copy_from, 1200);
	/* lap ending exactly at start: the whole hole is gone, nothing more */
	CHECK(kt_catchup_span(1000, 1200, 1200 + RING, &c));
	CHECK_EQ_INT(c.lost, 200);
	CHECK_EQ_INT(c.copy_len, 0);
}

/* counters near the top (they never wrap: that is 2^64 bytes through one
 * tty; ~0 is the "no read yet" sentinel, see t_no_hole) */
static void t_high_counters(void)
{
	struct kt_catchup c;
	uint64_t from = UINT64_MAX - 20000;

	CHECK(kt_catchup_span(from, from + 100, from + 150, &c));
	CHECK_EQ_INT(c.lost, 0);
	CHECK(c.copy_from == from);
	CHECK_EQ_INT(c.copy_len, 100);
	CHECK(kt_catchup_span(from, from + 5000, from + 5000 + 10, &c));
	CHECK_EQ_INT(c.lost, 5000 + 10 - RING);
	CHECK_EQ_INT(c.copy_len, RING - 10);
}

/* For many shapes: nothing vanishes and nothing is counted twice. */
static void t_conservation(void)
{
	uint64_t seed = 42;

	for (int i = 0; i < 200000; i++) {
		struct kt_catchup c;
		uint64_t from, hole, ahead;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		from = seed >> 1; /* below the top: counters never wrap */
		hole = 1 + (seed >> 33) % (3 * RING);
		ahead = (seed >> 20) % (3 * RING);
		if (!kt_catchup_span(from, from + hole, from + hole + ahead, &c)) {
			CHECK(0);
			return;
		}
		CHECK(c.lost + c.copy_len == hole);
		CHECK(c.copy_from + c.copy_len == from + hole);
		/* what is copied is still in the ring ... */
		CHECK(from + hole + ahead - c.copy_from <= RING || c.copy_len == 0);
		/* ... and what is counted lost is not */
		CHECK(c.lost == 0 || from + hole + ahead - (c.copy_from - 1) > RING);
		if (kt_t_cur_failed)
			return;
	}
}

int main(void)
{
	RUN(t_no_hole);
	RUN(t_hole_in_ring);
	RUN(t_lapped);
	RUN(t_lap_past_start_is_clamped);
	RUN(t_high_counters);
	RUN(t_conservation);
	return kt_test_done();
}
