/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsing and printing times for the CLI.  Everything is microseconds since
 * the Unix epoch (the store's unit), always UTC: input without a zone is
 * read as UTC, because that is what every command prints.
 *
 * Pure functions (no locale, no TZ, no allocation) so they can be fuzzed.
 */
#ifndef KUBETAPE_REPLAY_TIMEFMT_H
#define KUBETAPE_REPLAY_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/*
 * A duration: one or more <number><unit> parts, e.g. "90s", "30m", "2h",
 * "1d", "1w", "1h30m".  Units: s, m, h, d, w.  No sign, no spaces, no bare
 * number.  Returns 0, -EINVAL (malformed) or -ERANGE (overflows int64 us);
 * on error *why (if not NULL) gets a short static explanation.
 */
int tf_parse_duration(const char *s, int64_t *us, const char **why);

/*
 * A point in time, for --since/--until:
 *   duration            "2h", "1d12h"        -> now_us minus it ("ago")
 *   epoch seconds       "1795341600"         -> absolute
 *   ISO-8601 / RFC 3339 "2026-11-22T10:00:00Z", "2026-11-22T10:00:00.5+01:00",
 *                       "2026-11-22 10:00", "2026-11-22"
 * Years 1970-9999; the calendar is checked (no Feb 30, no 24:00).
 * Same returns as tf_parse_duration.
 */
int tf_parse_time(const char *s, int64_t now_us, int64_t *us, const char **why);

/* "2026-11-22T10:00:03Z" (seconds, truncated); "-" for times before 1970
 * or after 9999.  buf should hold TF_TIME_LEN. */
#define TF_TIME_LEN 32
char *tf_format_time(int64_t us, char *buf, size_t len);

/* Compact human duration: "0.250s", "59s", "4m12s", "2h03m", "3d04h".
 * Negative input prints "-". */
char *tf_format_duration(int64_t us, char *buf, size_t len);

/* Offset from the start of a session: "+00:03.214", "+1:02:03.214". */
char *tf_format_offset(int64_t us, char *buf, size_t len);

/*
 * An offset into a session, for `replay --from`: the clock form
 * "[+][[H:]MM:]SS[.fff]" ("1:30", "01:30.5", "+00:01:30.5", "+1:02:03",
 * "90", "90.25": what `show` prints, with or without the sign) or a
 * duration ("90s", "1m30s").  In the clock form the fields after the
 * first are 0-59.  Same returns as tf_parse_duration.
 */
int tf_parse_offset(const char *s, int64_t *us, const char **why);

/* Days since 1970-01-01 of a proleptic Gregorian date (exposed for tests). */
int64_t tf_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
