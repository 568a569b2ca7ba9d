/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A one-line progress bar on stderr for long exports:
 *   export  [########............]  41%  1.2G/2.9G  86.1M/s  ETA 0:21
 * Only when enabled (the caller decides: stderr is a terminal and the data
 * does not go to that same terminal), only once the job has run for
 * KT_PROGRESS_DELAY_MS (short jobs print nothing) and redrawn at most every
 * KT_PROGRESS_EVERY_MS.  The total is an estimate (the session's byte
 * counters; an active session keeps growing): past it the bar shows 99% and
 * no ETA.  kt_progress_done() erases the line.
 */
#ifndef KUBETAPE_REPLAY_PROGRESS_H
#define KUBETAPE_REPLAY_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#define KT_PROGRESS_DELAY_MS 500
#define KT_PROGRESS_EVERY_MS 200

struct kt_progress {
	bool on, drawn;
	const char *label;
	uint64_t total;
	int64_t t0_us, last_us;
};

void kt_progress_init(struct kt_progress *p, const char *label, uint64_t total, bool enable);
/* Cheap enough per frame: one clock read, a draw only when due. */
void kt_progress_update(struct kt_progress *p, uint64_t done);
void kt_progress_done(struct kt_progress *p);
/* The text of the line for `done` bytes after `elapsed_us` (tests). */
void kt_progress_format(const struct kt_progress *p, uint64_t done, int64_t elapsed_us,
			unsigned width, char *buf, size_t len);

#endif
