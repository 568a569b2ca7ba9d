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
#include "redact.h"
#include "evidence.h"

struct kt_recorder_opts {
	const struct kt_attrib_config *attrib;
	int64_t flush_age_us;     /* a frame is committed at most this late */
	size_t flush_bytes;       /* a chunk is cut at this many raw bytes */
	int64_t close_grace_us;   /* wait for trailing output after the last process */
	struct kt_signer *signer; /* checkpoints (rec_evidence.h); NULL: unsigned */
	const struct kt_redact *redact; /* argv redaction (redact.h); NULL: none */
};

struct kt_recorder;

int kt_recorder_new(struct kt_store *st, struct kt_loader *ld,
		    const struct kt_recorder_opts *o, struct kt_recorder **out);
void kt_recorder_free(struct kt_recorder *r);
/* The loader is created after the recorder (it needs the callback context). */
void kt_recorder_set_loader(struct kt_recorder *r, struct kt_loader *ld);

/* ring_buffer_sample_fn: one kernel event */
int kt_recorder_event(void *ctx, void *data, size_t size);

/* Periodic work: flush old chunks, write gap markers, close finished
 * sessions, commit.  Call at least every flush_age_us / 2. */
int kt_recorder_tick(struct kt_recorder *r);

/* Flush everything and mark still-open sessions interrupted. */
int kt_recorder_shutdown(struct kt_recorder *r);

struct kt_recorder_counters {
	uint64_t events, bad_events, sessions, commands, bytes_out, bytes_in;
	uint64_t gaps, lost_bytes, lost_events;
};
void kt_recorder_counters(const struct kt_recorder *r, struct kt_recorder_counters *c);

#endif
