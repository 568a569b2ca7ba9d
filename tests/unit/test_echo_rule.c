// SPDX-License-Identifier: Apache-2.0
/*
 * The syscall backend's ECHO-race rule (bpf/echo_rule.h), without a kernel:
 * when a typed write that returns with ECHO on must still be withheld
 * because n_tty took some of it in before the ioctl that turned ECHO back
 * on.  The BPF selftest (tests/bpf/capture_echo.h) forces the race on a
 * real pty; this checks the arithmetic's corners the pty cannot reach on
 * demand: a reset n_tty, uncountable flip buffers, counter wrap.
 */
#include <stdint.h>
#include "kt_test.h"
#include "echo_rule.h"

/* nothing seen, or ECHO last seen off */
static void t_flags(void)
{
	CHECK_EQ_INT(kt_echo_rule(0, 0, 5000, 10), KT_ECHO_RECORD);
	CHECK_EQ_INT(kt_echo_rule(KT_EM_OFF, 0, 5000, 10), KT_ECHO_WITHHOLD);
	/* off seen after a snapshot: the ECHO-on ioctl is in flight */
	CHECK_EQ_INT(kt_echo_rule(kt_echo_on_state(100) | KT_EM_OFF, 100, 5000, 10), KT_ECHO_WITHHOLD);
	/* a snapshot already passed: only the flags decide */
	CHECK_EQ_INT(kt_echo_rule(kt_echo_on_state(100) & ~KT_EM_VALID, 0, 100, 10), KT_ECHO_RECORD);
}

/* the race: a 2051-byte write whose 2048-byte password line n_tty took in
 * before the snapshot; only its 3-byte tail came after */
static void t_race(void)
{
	uint64_t st = kt_echo_on_state(4096 + 2048);

	/* the tail still in the flip buffers */
	CHECK_EQ_INT(kt_echo_rule(st, 3, 4096 + 2048, 2051), KT_ECHO_WITHHOLD);
	/* the tail taken in by n_tty already */
	CHECK_EQ_INT(kt_echo_rule(st, 0, 4096 + 2051, 2051), KT_ECHO_WITHHOLD);
	/* a one-byte write taken in before the snapshot: nothing after */
	CHECK_EQ_INT(kt_echo_rule(kt_echo_on_state(700), 0, 700, 1), KT_ECHO_WITHHOLD);
}

/* typed after the snapshot: all of it still pending, in n_tty, or both */
static void t_after(void)
{
	uint64_t st = kt_echo_on_state(9000);

	CHECK_EQ_INT(kt_echo_rule(st, 8, 9000, 8), KT_ECHO_PASSED);
	CHECK_EQ_INT(kt_echo_rule(st, 0, 9008, 8), KT_ECHO_PASSED);
	CHECK_EQ_INT(kt_echo_rule(st, 3, 9005, 8), KT_ECHO_PASSED);
	/* more arrived than this write (another writer): still passes */
	CHECK_EQ_INT(kt_echo_rule(st, 50, 9100, 8), KT_ECHO_PASSED);
	/* one byte short: some of it went in before */
	CHECK_EQ_INT(kt_echo_rule(st, 3, 9004, 8), KT_ECHO_WITHHOLD);
}

/* flip buffers that could not be counted: never "enough" */
static void t_unknown(void)
{
	CHECK_EQ_INT(kt_echo_rule(kt_echo_on_state(10), KT_UNKNOWN, 1 << 20, 1), KT_ECHO_WITHHOLD);
}

/* a byte counted twice (taken in by n_tty before its buffer's `read`
 * moved) only adds to bytes that came after the snapshot: the race's
 * password, taken in before it, is in neither count */
static void t_double_count(void)
{
	uint64_t st = kt_echo_on_state(6144);

	/* the 3-byte tail in both counts: 6 < 2051 */
	CHECK_EQ_INT(kt_echo_rule(st, 3, 6147, 2051), KT_ECHO_WITHHOLD);
	/* a visible line in both: passes either way */
	CHECK_EQ_INT(kt_echo_rule(st, 8, 6152, 8), KT_ECHO_PASSED);
}

/* n_tty reset (^C, tcflush, a new ldisc) after the snapshot: read_head
 * restarted from 0, so all it holds came after */
static void t_reset(void)
{
	uint64_t st = kt_echo_on_state(1000000);

	CHECK_EQ_INT(kt_echo_rule(st, 0, 12, 12), KT_ECHO_PASSED);
	CHECK_EQ_INT(kt_echo_rule(st, 12, 0, 12), KT_ECHO_PASSED);
	CHECK_EQ_INT(kt_echo_rule(st, 0, 5, 12), KT_ECHO_WITHHOLD);
}

/* read_head is kept modulo 2^62 (two bits hold the flags): its top bits
 * never matter, and crossing 2^62 (4 EiB typed into one tty: never) reads
 * as a reset, which errs on the side of withholding */
static void t_wrap(void)
{
	uint64_t big = (1ULL << 62) - 4;
	uint64_t st = kt_echo_on_state(big);

	CHECK_EQ_INT(st & (KT_EM_OFF | KT_EM_VALID), KT_EM_VALID);
	CHECK_EQ_INT(kt_echo_rule(st, 0, big | (3ULL << 62), 0), KT_ECHO_PASSED);
	CHECK_EQ_INT(kt_echo_rule(st, 0, (big + 2) | (1ULL << 63), 2), KT_ECHO_PASSED);
	CHECK_EQ_INT(kt_echo_rule(st, 0, big + 4, 4), KT_ECHO_WITHHOLD);
}

int main(void)
{
	RUN(t_flags);
	RUN(t_race);
	RUN(t_after);
	RUN(t_unknown);
	RUN(t_double_count);
	RUN(t_reset);
	RUN(t_wrap);
	return kt_test_done();
}
