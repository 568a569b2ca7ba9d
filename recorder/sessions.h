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
#include "events.h"

/*
 * The kernel side as the recorder core sees it: "events in, rows out".
 * recorder/loader_ops.c implements it on the BPF maps and rings
 * (kt_loader_kops); tests/unit/test_recorder.c on a synthetic kernel.
 * Every call gets `ctx`.
 */
#define KT_KOPS_RINGS 2
struct kt_kops {
	void *ctx;
	const char *(*backend)(void *ctx);
	/* the kernel state was left by an earlier recorder (pinned) */
	bool (*adopted)(void *ctx);
	/* the kernel's record of a live session; -ENOENT if it is gone */
	int (*session_lookup)(void *ctx, uint64_t sid, struct kt_session *out);
	/* every live session's record, in as few calls as the kernel allows
	 * (the loss counters, each tick); NULL or an error: session_lookup
	 * one by one */
	int (*sessions_batch)(void *ctx, int (*cb)(const struct kt_session *s, void *cb_ctx),
			      void *cb_ctx);
	/* forget a finished session (its tty entry if it still maps to it) */
	void (*session_retire)(void *ctx, uint64_t sid, uint64_t tty_key);
	void (*tty_claim)(void *ctx, uint64_t tty_key, uint64_t sid);
	/* lazy capture hook (syscall backend) */
	bool (*capture_lazy)(void *ctx);
	bool (*capture_is_up)(void *ctx);
	int (*capture_up)(void *ctx);
	void (*capture_down)(void *ctx);
	uint32_t (*nr_ttys)(void *ctx);
	/* wait for records; read up to max_bytes per ring (0: all), handing
	 * each to kt_recorder_event; records are kept until consume() */
	int (*wait)(void *ctx, int timeout_ms);
	int (*read)(void *ctx, size_t max_bytes);
	uint32_t (*ring_id)(void *ctx, int i);
	uint64_t (*ring_read_pos)(void *ctx, int i);
	int (*ring_skip_to)(void *ctx, int i, uint64_t pos);
	bool (*caught_up)(void *ctx);
	void (*consume)(void *ctx);
	void (*rewind)(void *ctx);
};
#include "redact.h"
#include "evidence.h"

struct kt_recorder_opts {
	const struct kt_attrib_config *attrib;
	int64_t flush_age_us;     /* a frame is committed at most this late */
	size_t flush_bytes;       /* a chunk is cut at this many raw bytes */
	int64_t close_grace_us;   /* wait for trailing output after the last process */
	/* The kernel state outlives this process (pinned): on SIGTERM open
	 * sessions stay active for the next recorder instead of being marked
	 * interrupted. */
	bool keep_kernel_state;
	struct kt_signer *signer; /* checkpoints (rec_evidence.h); NULL: unsigned */
	const struct kt_redact *redact; /* argv redaction (redact.h); NULL: none */
};

struct kt_recorder;

int kt_recorder_new(struct kt_store *st, const struct kt_recorder_opts *o,
		    struct kt_recorder **out);
void kt_recorder_free(struct kt_recorder *r);
/* The kernel side is set up after the recorder (it needs the callback
 * context), before any other call. */
void kt_recorder_set_kops(struct kt_recorder *r, const struct kt_kops *k);
/* Ring i's size: output waiting for flush_age never holds more than an
 * eighth of it (without it, HOLD_MAX_BYTES over all rings). */
void kt_recorder_set_ring_size(struct kt_recorder *r, int i, size_t bytes);

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
