/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Minimal unit-test harness.  Each test program prints one line per case,
 * "PASS name" or "FAIL name: why", and exits non-zero if any failed;
 * tests/run.sh counts the lines and prints "N passed, N failed".
 *
 *   static void t_roundtrip(void) { CHECK(x == 1); CHECK_EQ_INT(a, b); }
 *   int main(void) { RUN(t_roundtrip); return kt_test_done(); }
 */
#ifndef KT_TEST_H
#define KT_TEST_H

#include <stdio.h>
#include <string.h>
#include <stdlib.h>

static int kt_t_failed_cases, kt_t_cur_failed;
static const char *kt_t_cur;

#define CHECK(cond) do { if (!(cond)) { \
	if (!kt_t_cur_failed) printf("FAIL %s: %s:%d: %s\n", kt_t_cur, __FILE__, __LINE__, #cond); \
	kt_t_cur_failed = 1; } } while (0)
#define CHECK_EQ_INT(a, b) do { long long _a = (long long)(a), _b = (long long)(b); if (_a != _b) { \
	if (!kt_t_cur_failed) printf("FAIL %s: %s:%d: %s == %lld, expected %lld\n", kt_t_cur, __FILE__, __LINE__, #a, _a, _b); \
	kt_t_cur_failed = 1; } } while (0)
#define CHECK_EQ_STR(a, b) do { const char *_a = (a), *_b = (b); if (!_a || !_b || strcmp(_a, _b)) { \
	if (!kt_t_cur_failed) printf("FAIL %s: %s:%d: %s == \"%s\", expected \"%s\"\n", kt_t_cur, __FILE__, __LINE__, #a, _a ? _a : "(null)", _b ? _b : "(null)"); \
	kt_t_cur_failed = 1; } } while (0)

#define RUN(fn) do { kt_t_cur = #fn; kt_t_cur_failed = 0; fn(); \
	if (kt_t_cur_failed) kt_t_failed_cases++; else printf("PASS %s\n", #fn); fflush(stdout); } while (0)

static inline int kt_test_done(void) { return kt_t_failed_cases ? 1 : 0; }

#endif
