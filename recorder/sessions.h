/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The recorder's table of open sessions: turns kernel events into store
 * rows and chunks.  Single-threaded; called from the ring-buffer callback
 * and the main loop's tick.
 */
#ifndef KUBETAPE_SESSIONS_H
#define KUBETAPE_SESSIONS_H

#include <stdint.h>
#include "store.h"
#include "attrib.h"
#include "loader.h"

struct kt_recorder_opts {
	const struct kt_attrib_config *attrib;
	int64_t flush_age_us;     /* a frame is committed at most this late */
	size_t flush_bytes;       /* a chunk is cut at this many raw bytes */
	int64_t close_grace_us;   /* wait for trailing output after the last process */
	/* The kernel state outlives this process (pinned): on SIGTERM open
	 * sessions stay active for the next recorder instead of being marked
	 * interrupted. */
	bool keep_kernel_state;
};

struct kt_recorder;

int kt_recorder_new(struct kt_store *st, struct kt_loader *ld,
		    const struct kt_recorder_opts *o, struct kt_recorder **out);
void kt_recorder_free(struct kt_recorder *r);
/* The loader is created after the recorder (it needs the callback context). */
void kt_recorder_set_loader(struct kt_recorder *r, struct kt_loader *ld);

/* ring_buffer_sample_fn: one kernel event */
int kt_recorder_event(void *ctx, void *data, size_t size);

/*
 * Before the first read: skip ring records an earlier recorder committed
 * but did not consume, take over its open sessions (same rows, same ids:
 * they continue) when the kernel state was adopted, and mark the others
 * interrupted.
 */
int kt_recorder_adopt(struct kt_recorder *r);

/* Wait up to timeout_ms for kernel events and read them (not while the
 * store is failing: the rings are the backlog then). */
int kt_recorder_poll(struct kt_recorder *r, int timeout_ms);

/*
 * Periodic work: write everything read so far (chunks, gap markers, closed
 * sessions) with the ring positions in one transaction, commit, then give
 * the ring space back to the kernel.  A failed commit is rolled back and
 * everything since the previous one is read again from the rings once the
 * store writes (retried every second, logged once per state change).
 */
int kt_recorder_tick(struct kt_recorder *r);

/* Write everything; without keep_kernel_state also mark still-open
 * sessions interrupted.  0 even when the store cannot be written (logged:
 * what is left to the next recorder). */
int kt_recorder_shutdown(struct kt_recorder *r);
/* The store is failing (rings hold the backlog). */
bool kt_recorder_store_down(const struct kt_recorder *r);

struct kt_recorder_counters {
	uint64_t events, bad_events, sessions, commands, bytes_out, bytes_in;
	uint64_t gaps, lost_bytes, lost_events;
};
void kt_recorder_counters(const struct kt_recorder *r, struct kt_recorder_counters *c);

#endif
