// SPDX-License-Identifier: Apache-2.0
/*
 * Time parsing/printing for the CLI (see timefmt.h).  Calendar math is done
 * here (Howard Hinnant's civil-date algorithms) rather than with timegm() and
 * gmtime_r(): those normalise "Feb 30" silently, depend on the C library's
 * time_t range and are awkward to fuzz.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "timefmt.h"

#define US_PER_SEC 1000000LL
/* 9999-12-31T23:59:59Z: the largest time we parse or print */
#define TF_MAX_SEC 253402300799LL

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

int64_t tf_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

static int fail(const char **why, const char *msg, int err)
{
	if (why)
		*why = msg;
	return err;
}

/* Exactly n digits at *p; advances *p. */
static bool take_digits(const char **p, int n, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < n; i++) {
		if (!is_digit((*p)[i]))
			return false;
		v = v * 10 + (unsigned)((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

/* ".123456789" -> microseconds (digits past the sixth are truncated). */
static bool take_fraction(const char **p, int64_t *us)
{
	const char *s = *p;
	int64_t v = 0;
	int n = 0;

	if (*s != '.')
		return true;
	s++;
	if (!is_digit(*s))
		return false;
	for (; is_digit(*s); s++, n++) {
		if (n >= 9)
			return false;
		if (n < 6)
			v = v * 10 + (*s - '0');
	}
	for (; n < 6; n++)
		v *= 10;
	*p = s;
	*us = v;
	return true;
}

int tf_parse_duration(const char *s, int64_t *out, const char **why)
{
	static const struct { char unit; int64_t us; } units[] = {
		{ 'w', 7 * 86400 * US_PER_SEC }, { 'd', 86400 * US_PER_SEC },
		{ 'h', 3600 * US_PER_SEC }, { 'm', 60 * US_PER_SEC },
		{ 's', US_PER_SEC },
	};
	const size_t nunits = sizeof(units) / sizeof(units[0]);
	size_t next_unit = 0; /* units must come largest first, once each */
	int64_t total = 0;

	if (!s || !*s)
		return fail(why, "empty duration", -EINVAL);
	while (*s) {
		int64_t n = 0, part;
		size_t u;

		if (!is_digit(*s))
			return fail(why, "expected a number (durations look like 90s, 30m, 2h, 1d, 1h30m)", -EINVAL);
		for (; is_digit(*s); s++) {
			if (n > (INT64_MAX - 9) / 10)
				return fail(why, "duration too large", -ERANGE);
			n = n * 10 + (*s - '0');
		}
		if (!*s)
			return fail(why, "missing unit (s, m, h, d or w)", -EINVAL);
		for (u = 0; u < nunits && units[u].unit != *s; u++)
			;
		if (u == nunits)
			return fail(why, "unknown unit (use s, m, h, d or w)", -EINVAL);
		if (u < next_unit)
			return fail(why, "units out of order or repeated (write 1h30m)", -EINVAL);
		next_unit = u + 1;
		s++;
		if (__builtin_mul_overflow(n, units[u].us, &part) ||
		    __builtin_add_overflow(total, part, &total))
			return fail(why, "duration too large", -ERANGE);
	}
	*out = total;
	return 0;
}

/* Epoch seconds with an optional fraction: "1795341600", "1795341600.25". */
static int parse_epoch(const char *s, int64_t *out, const char **why)
{
	int64_t sec = 0, frac = 0;

	if (!is_digit(*s))
		return fail(why, "malformed epoch seconds", -EINVAL);
	for (; is_digit(*s); s++) {
		sec = sec * 10 + (*s - '0');
		if (sec > TF_MAX_SEC)
			return fail(why, "epoch seconds after year 9999", -ERANGE);
	}
	if (!take_fraction(&s, &frac) || *s)
		return fail(why, "malformed epoch seconds", -EINVAL);
	*out = sec * US_PER_SEC + frac;
	return 0;
}

/* YYYY-MM-DD[(T| )HH:MM[:SS[.frac]][Z|+HH:MM|+HHMM]] */
static int parse_iso(const char *s, int64_t *out, const char **why)
{
	unsigned y, mo, d, h = 0, mi = 0, sec = 0, oh, om;
	int64_t frac = 0, offset = 0, t;

	if (!take_digits(&s, 4, &y) || *s++ != '-' || !take_digits(&s, 2, &mo) ||
	    *s++ != '-' || !take_digits(&s, 2, &d))
		return fail(why, "malformed date (use 2026-11-22T10:00:00Z)", -EINVAL);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return fail(why, "no such date (years 1970-9999)", -EINVAL);
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (!take_digits(&s, 2, &h) || *s++ != ':' || !take_digits(&s, 2, &mi))
			return fail(why, "malformed time of day (use HH:MM or HH:MM:SS)", -EINVAL);
		if (*s == ':') {
			s++;
			if (!take_digits(&s, 2, &sec) || !take_fraction(&s, &frac))
				return fail(why, "malformed seconds", -EINVAL);
		}
		if (h > 23 || mi > 59 || sec > 59)
			return fail(why, "no such time of day", -EINVAL);
		if (*s == 'Z' || *s == 'z') {
			s++;
		} else if (*s == '+' || *s == '-') {
			int sign = *s++ == '-' ? -1 : 1;

			if (!take_digits(&s, 2, &oh))
				return fail(why, "malformed UTC offset (use +HH:MM)", -EINVAL);
			if (*s == ':')
				s++;
			if (!take_digits(&s, 2, &om) || oh > 23 || om > 59)
				return fail(why, "malformed UTC offset (use +HH:MM)", -EINVAL);
			offset = sign * (int64_t)(oh * 3600 + om * 60);
		}
	}
	if (*s)
		return fail(why, "unexpected text after the time", -EINVAL);
	t = tf_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
	if (t < 0 || t > TF_MAX_SEC)
		return fail(why, "time out of range (1970-9999)", -ERANGE);
	*out = t * US_PER_SEC + frac;
	return 0;
}

int tf_parse_time(const char *s, int64_t now_us, int64_t *out, const char **why)
{
	const char *p;
	int64_t d;
	int err;

	if (!s || !*s)
		return fail(why, "empty time", -EINVAL);
	if (is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) && s[4] == '-')
		return parse_iso(s, out, why);
	for (p = s; is_digit(*p) || *p == '.'; p++)
		;
	if (!*p)
		return parse_epoch(s, out, why);
	err = tf_parse_duration(s, &d, why);
	if (err)
		return err;
	if (now_us < d)
		return fail(why, "reaches before 1970", -ERANGE);
	*out = now_us - d;
	return 0;
}

char *tf_format_time(int64_t us, char *buf, size_t len)
{
	int64_t sec, y;
	unsigned m, d, sod;

	if (!len)
		return buf;
	if (us < 0 || us / US_PER_SEC > TF_MAX_SEC) {
		snprintf(buf, len, "-");
		return buf;
	}
	sec = us / US_PER_SEC;
	civil_from_days(sec / 86400, &y, &m, &d);
	sod = (unsigned)(sec % 86400);
	snprintf(buf, len, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y, m, d,
		 sod / 3600, sod / 60 % 60, sod % 60);
	return buf;
}

char *tf_format_duration(int64_t us, char *buf, size_t len)
{
	long long s;

	if (us < 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	s = us / US_PER_SEC;
	if (us < US_PER_SEC)
		snprintf(buf, len, "%lldms", (long long)(us / 1000));
	else if (s < 10)
		snprintf(buf, len, "%lld.%llds", s, (long long)(us % US_PER_SEC / 100000));
	else if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, s / 3600 % 24);
	return buf;
}

int tf_parse_offset(const char *s, int64_t *out, const char **why)
{
	const int64_t max_fields = 3; /* H:M:S */
	int64_t fields[3], frac = 0, total = 0;
	int n = 0;

	if (!s || !*s)
		return fail(why, "empty offset", -EINVAL);
	if (*s == '+')
		s++;
	/* a unit letter anywhere: the duration form ("90s", "1m30s") */
	if (strpbrk(s, "wdhms"))
		return tf_parse_duration(s, out, why);
	for (;;) {
		int64_t v = 0;

		if (!is_digit(*s))
			return fail(why, "expected [[H:]M:]S[.fff] or a duration (90s, 1m30s)", -EINVAL);
		for (; is_digit(*s); s++) {
			/* no field may exceed what fits in int64 microseconds */
			if (v > (INT64_MAX / US_PER_SEC - 9) / 10)
				return fail(why, "offset too large", -ERANGE);
			v = v * 10 + (*s - '0');
		}
		if (n >= max_fields)
			return fail(why, "too many ':' fields (at most H:M:S)", -EINVAL);
		fields[n++] = v;
		if (*s != ':')
			break;
		s++;
	}
	if (!take_fraction(&s, &frac))
		return fail(why, "malformed fraction of a second", -EINVAL);
	if (*s)
		return fail(why, "unexpected characters after the offset", -EINVAL);
	for (int i = 0; i < n; i++) {
		/* only the leading field may exceed its clock range */
		if (i > 0 && fields[i] > 59)
			return fail(why, "minutes and seconds after a ':' must be 0-59", -EINVAL);
		if (total > (INT64_MAX / US_PER_SEC - fields[i]) / 60)
			return fail(why, "offset too large", -ERANGE);
		total = total * 60 + fields[i];
	}
	if (total > (INT64_MAX - frac) / US_PER_SEC)
		return fail(why, "offset too large", -ERANGE);
	*out = total * US_PER_SEC + frac;
	return 0;
}

/* v as decimal, at least `width` digits, at p; returns the end */
static char *put_uint(char *p, unsigned long long v, int width)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n < width)
		tmp[n++] = '0';
	while (n)
		*p++ = tmp[--n];
	return p;
}

/*
 * By hand rather than snprintf: `search` formats one per hit, and the
 * format string's parsing was a twentieth of a 1000-hit search.  Same
 * output, and the same truncation to len - 1 bytes, as the snprintf of
 * "%c%llu:%02llu:%02llu.%03llu" / "%c%02llu:%02llu.%03llu".
 */
char *tf_format_offset(int64_t us, char *buf, size_t len)
{
	/* unsigned: INT64_MIN has no positive counterpart */
	unsigned long long a = us < 0 ? -(unsigned long long)us : (unsigned long long)us;
	unsigned long long ms = a / 1000, s = ms / 1000;
	char tmp[48], *p = tmp;
	size_t n;

	*p++ = us < 0 ? '-' : '+';
	if (s >= 3600) {
		p = put_uint(p, s / 3600, 1);
		*p++ = ':';
		p = put_uint(p, s / 60 % 60, 2);
	} else {
		p = put_uint(p, s / 60, 2);
	}
	*p++ = ':';
	p = put_uint(p, s % 60, 2);
	*p++ = '.';
	p = put_uint(p, ms % 1000, 3);
	if (!len)
		return buf;
	n = (size_t)(p - tmp) < len - 1 ? (size_t)(p - tmp) : len - 1;
	memcpy(buf, tmp, n);
	buf[n] = 0;
	return buf;
}
