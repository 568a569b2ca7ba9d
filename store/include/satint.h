/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Saturating int64 arithmetic for values read from the database.  A corrupt
 * or hostile store can hold any int64 in a time, sequence or offset column
 * (start_us = INT64_MAX, first_line = INT64_MIN); adding or subtracting them
 * in C is undefined behaviour on overflow (the SAN build aborts on it).
 * These clamp to INT64_MIN/INT64_MAX instead, so a display shows an absurd
 * but defined number and comparisons stay ordered.  Validate ranges where a
 * value is used as an index or a count; this is for arithmetic only.
 */
#ifndef KUBETAPE_SATINT_H
#define KUBETAPE_SATINT_H

#include <stdint.h>

static inline int64_t kt_add_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static inline int64_t kt_sub_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? INT64_MAX : INT64_MIN;
	return r;
}

#endif
