// SPDX-License-Identifier: Apache-2.0
/*
 * The CLI's --since/--until parser (replay/timefmt.c) on arbitrary bytes.
 * Checks the properties the commands rely on:
 *   - results are 0, -EINVAL or -ERANGE, with an explanation on failure;
 *   - absolute times land in [1970, 9999] and print back to a string that
 *     parses to the same second (format/parse agree on the calendar);
 *   - durations are non-negative and "now minus duration" never wraps;
 *   - the formatters never overrun their buffer, whatever the value.
 * The fuzz build links no replay objects, so the source is compiled in.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../replay/timefmt.c"

#define NOW_US (1795341600LL * 1000000LL)

static void check_ret(int err, const char *why)
{
	if (err != 0 && err != -EINVAL && err != -ERANGE)
		abort();
	if (err && !why)
		abort();
}

/* A formatter must terminate within len and leave the canary alone. */
static void check_fmt(char *(*fn)(int64_t, char *, size_t), int64_t v)
{
	char buf[48];

	memset(buf, 'X', sizeof(buf));
	fn(v, buf, 40);
	if (!memchr(buf, 0, 40) || buf[40] != 'X')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	const char *why;
	int64_t t, d, back;
	char buf[TF_TIME_LEN];
	int err;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;

	why = NULL;
	err = tf_parse_time(s, NOW_US, &t, &why);
	check_ret(err, why);
	if (!err) {
		if (t < 0 || t > 253402300799LL * 1000000LL + 999999)
			abort();
		tf_format_time(t, buf, sizeof(buf));
		if (tf_parse_time(buf, NOW_US, &back, NULL) ||
		    back != t - t % 1000000)
			abort();
	}

	why = NULL;
	err = tf_parse_duration(s, &d, &why);
	check_ret(err, why);
	if (!err) {
		if (d < 0)
			abort();
		/* a duration is also a valid time unless it reaches before 1970 */
		err = tf_parse_time(s, NOW_US, &t, NULL);
		if (d <= NOW_US ? (err || t != NOW_US - d) : err != -ERANGE)
			abort();
	}

	/* the input's first 8 bytes as a raw value for the formatters */
	if (size >= 8) {
		int64_t v;

		memcpy(&v, data, sizeof(v));
		check_fmt(tf_format_time, v);
		check_fmt(tf_format_duration, v);
		check_fmt(tf_format_offset, v);
	}
	free(s);
	return 0;
}
