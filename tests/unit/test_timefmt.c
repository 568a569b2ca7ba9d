// SPDX-License-Identifier: Apache-2.0
/*
 * replay/timefmt.c: durations, absolute times, garbage, overflow.
 * The Makefile links unit tests with libkubetape and the recorder's library
 * objects only, so the (dependency-free) source is compiled in here.
 */
#include <errno.h>
#include <stdint.h>

#include "kt_test.h"
#include "../../replay/timefmt.c"

#define S 1000000LL
#define NOW (1795341600LL * S) /* 2026-11-22T10:00:00Z */

static int64_t dur(const char *s)
{
	int64_t v = -1;
	const char *why = NULL;

	return tf_parse_duration(s, &v, &why) ? -1 : v;
}

static int dur_err(const char *s)
{
	int64_t v = 12345;
	const char *why = NULL;
	int err = tf_parse_duration(s, &v, &why);

	/* failures explain themselves and leave the output alone */
	if (err && (!why || v != 12345))
		return 999;
	return err;
}

static int64_t at(const char *s)
{
	int64_t v = -1;

	return tf_parse_time(s, NOW, &v, NULL) ? -1 : v;
}

static int at_err(const char *s)
{
	int64_t v;
	const char *why = NULL;
	int err = tf_parse_time(s, NOW, &v, &why);

	return err && !why ? 999 : err;
}

static void t_durations(void)
{
	CHECK_EQ_INT(dur("90s"), 90 * S);
	CHECK_EQ_INT(dur("30m"), 1800 * S);
	CHECK_EQ_INT(dur("2h"), 7200 * S);
	CHECK_EQ_INT(dur("1d"), 86400 * S);
	CHECK_EQ_INT(dur("1w"), 7 * 86400 * S);
	CHECK_EQ_INT(dur("1h30m"), 5400 * S);
	CHECK_EQ_INT(dur("1d2h3m4s"), (86400 + 7200 + 180 + 4) * S);
	CHECK_EQ_INT(dur("0s"), 0);
	CHECK_EQ_INT(dur("007m"), 7 * 60 * S);
}

static void t_duration_garbage(void)
{
	CHECK_EQ_INT(dur_err(""), -EINVAL);
	CHECK_EQ_INT(dur_err("5x"), -EINVAL);
	CHECK_EQ_INT(dur_err("5"), -EINVAL);
	CHECK_EQ_INT(dur_err("h"), -EINVAL);
	CHECK_EQ_INT(dur_err("-5m"), -EINVAL);
	CHECK_EQ_INT(dur_err("+5m"), -EINVAL);
	CHECK_EQ_INT(dur_err(" 5m"), -EINVAL);
	CHECK_EQ_INT(dur_err("5m "), -EINVAL);
	CHECK_EQ_INT(dur_err("5 m"), -EINVAL);
	CHECK_EQ_INT(dur_err("1.5h"), -EINVAL);
	CHECK_EQ_INT(dur_err("5M"), -EINVAL);
	CHECK_EQ_INT(dur_err("30m1h"), -EINVAL); /* out of order */
	CHECK_EQ_INT(dur_err("1h1h"), -EINVAL);  /* repeated */
	CHECK_EQ_INT(dur_err("5mm"), -EINVAL);
	CHECK_EQ_INT(dur_err("5ms"), -EINVAL);   /* no millisecond unit */
}

static void t_duration_overflow(void)
{
	CHECK_EQ_INT(dur_err("99999999999999999999s"), -ERANGE);
	CHECK_EQ_INT(dur_err("9223372036854775807s"), -ERANGE);
	CHECK_EQ_INT(dur_err("15250285w"), -ERANGE);  /* > INT64_MAX us */
	CHECK_EQ_INT(dur_err("15250284w106751d"), -ERANGE); /* overflow in the sum */
	CHECK_EQ_INT(dur("9223372036854s"), 9223372036854LL * S);
}

static void t_absolute(void)
{
	CHECK_EQ_INT(at("2026-11-22T10:00:00Z"), NOW);
	CHECK_EQ_INT(at("2026-11-22t10:00:00z"), NOW);
	CHECK_EQ_INT(at("2026-11-22T10:00:00"), NOW);    /* no zone = UTC */
	CHECK_EQ_INT(at("2026-11-22 10:00"), NOW);
	CHECK_EQ_INT(at("2026-11-22T10:00"), NOW);
	CHECK_EQ_INT(at("2026-11-22"), NOW - 10 * 3600 * S);
	CHECK_EQ_INT(at("2026-11-22T11:00:00+01:00"), NOW);
	CHECK_EQ_INT(at("2026-11-22T05:30:00-0430"), NOW);
	CHECK_EQ_INT(at("2026-11-22T10:00:00.25Z"), NOW + 250000);
	CHECK_EQ_INT(at("2026-11-22T10:00:00.123456789Z"), NOW + 123456);
	CHECK_EQ_INT(at("1970-01-01T00:00:00Z"), 0);
	CHECK_EQ_INT(at("2024-02-29"), 1709164800LL * S); /* leap day */
	CHECK_EQ_INT(at("2000-02-29"), 951782400LL * S);  /* 400-year leap */
	CHECK_EQ_INT(at("9999-12-31T23:59:59Z"), 253402300799LL * S);
	CHECK_EQ_INT(at("1795341600"), NOW);               /* epoch seconds */
	CHECK_EQ_INT(at("1795341600.5"), NOW + 500000);
	CHECK_EQ_INT(at("0"), 0);
}

static void t_relative(void)
{
	CHECK_EQ_INT(at("2h"), NOW - 7200 * S);
	CHECK_EQ_INT(at("90s"), NOW - 90 * S);
	CHECK_EQ_INT(at("1d"), NOW - 86400 * S);
	CHECK_EQ_INT(at_err("30000d"), -ERANGE); /* before 1970 */
}

static void t_absolute_garbage(void)
{
	static const char *const bad[] = {
		"", "yesterday", "5x", "2026-13-01", "2026-00-10", "2026-02-29",
		"1900-02-29", "2026-04-31", "2026-11-22T24:00", "2026-11-22T10:60",
		"2026-11-22T10:00:60", "2026-11-22T10", "2026-11-22T1:00",
		"2026-11-22 10:00 ", "2026-11-22T10:00:00ZZ", "2026-11-22T10:00:00+1",
		"2026-11-22T10:00:00+24:00", "2026-11-22T10:00:00.", "2026-1-22",
		"26-11-22", "1969-12-31", "2026/11/22", "1795341600.", ".5",
		"1.2.3", "2026-11-22T10:00:00.1234567890Z", "12abc", "-1", "0x10",
		"2026-11-22X10:00", "2026-11-22T10:00:00 Z",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = at_err(bad[i]);

		if (err != -EINVAL && err != -ERANGE) {
			printf("  input \"%s\" -> %d\n", bad[i], err);
			CHECK(err == -EINVAL || err == -ERANGE);
		}
	}
	/* a +HH:MM zone can push the epoch itself below 0 */
	CHECK_EQ_INT(at_err("1970-01-01T00:00:00+01:00"), -ERANGE);
}

static void t_absolute_overflow(void)
{
	CHECK_EQ_INT(at_err("253402300800"), -ERANGE); /* year 10000 */
	CHECK_EQ_INT(at_err("99999999999999999999999"), -ERANGE);
	CHECK_EQ_INT(at_err("9999-12-31T23:59:59-01:00"), -ERANGE);
}

static void t_format(void)
{
	char b[64];

	CHECK_EQ_STR(tf_format_time(NOW, b, sizeof(b)), "2026-11-22T10:00:00Z");
	CHECK_EQ_STR(tf_format_time(NOW + 999999, b, sizeof(b)), "2026-11-22T10:00:00Z");
	CHECK_EQ_STR(tf_format_time(0, b, sizeof(b)), "1970-01-01T00:00:00Z");
	CHECK_EQ_STR(tf_format_time(951782400LL * S, b, sizeof(b)), "2000-02-29T00:00:00Z");
	CHECK_EQ_STR(tf_format_time(-1, b, sizeof(b)), "-");
	CHECK_EQ_STR(tf_format_time(INT64_MAX, b, sizeof(b)), "-");

	CHECK_EQ_STR(tf_format_duration(250000, b, sizeof(b)), "250ms");
	CHECK_EQ_STR(tf_format_duration(3200000, b, sizeof(b)), "3.2s");
	CHECK_EQ_STR(tf_format_duration(59 * S, b, sizeof(b)), "59s");
	CHECK_EQ_STR(tf_format_duration(252 * S, b, sizeof(b)), "4m12s");
	CHECK_EQ_STR(tf_format_duration(7380 * S, b, sizeof(b)), "2h03m");
	CHECK_EQ_STR(tf_format_duration((3 * 86400 + 4 * 3600) * S, b, sizeof(b)), "3d04h");
	CHECK_EQ_STR(tf_format_duration(-5, b, sizeof(b)), "-");
	CHECK_EQ_STR(tf_format_duration(INT64_MAX, b, sizeof(b)), "106751991d04h");

	CHECK_EQ_STR(tf_format_offset(3214000, b, sizeof(b)), "+00:03.214");
	CHECK_EQ_STR(tf_format_offset(0, b, sizeof(b)), "+00:00.000");
	CHECK_EQ_STR(tf_format_offset(3723 * S + 5000, b, sizeof(b)), "+1:02:03.005");
	CHECK_EQ_STR(tf_format_offset(-120000, b, sizeof(b)), "-00:00.120");
	CHECK(tf_format_offset(INT64_MIN, b, sizeof(b))[0] == '-');
}

/* Every day 1970-9999 formats and parses back to itself. */
static void t_roundtrip_days(void)
{
	char b[TF_TIME_LEN];
	int64_t v;

	for (int64_t day = 0; day * 86400 <= 253402300799LL; day += 1) {
		int64_t us = (day * 86400 + 45296) * S; /* 12:34:56 */

		tf_format_time(us, b, sizeof(b));
		if (tf_parse_time(b, NOW, &v, NULL) || v != us) {
			printf("  day %lld: %s\n", (long long)day, b);
			CHECK(!"roundtrip");
			break;
		}
	}
}

int main(void)
{
	RUN(t_durations);
	RUN(t_duration_garbage);
	RUN(t_duration_overflow);
	RUN(t_absolute);
	RUN(t_relative);
	RUN(t_absolute_garbage);
	RUN(t_absolute_overflow);
	RUN(t_format);
	RUN(t_roundtrip_days);
	return kt_test_done();
}
