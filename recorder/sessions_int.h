/* SPDX-License-Identifier: Apache-2.0 */
/* The recorder core's state, shared by sessions.c (events to rows) and
 * continuity.c (commits, adoption, store faults).  Not for other files. */
#ifndef KUBETAPE_SESSIONS_INT_H
#define KUBETAPE_SESSIONS_INT_H

#include <stdbool.h>
#include <stdint.h>
#include "sessions.h"

#define NBUCKETS 256
#define CLOCK_REFRESH_US (10 * 1000000LL)

struct rec_session {
	struct rec_session *next;
	uint64_t kid;              /* kernel session id */
	uint64_t tty_key;
	struct kt_session_info info;
	struct kt_chunk_builder cb;
	uint64_t gap_bytes, gap_events; /* loss already marked in the stream */
	int64_t last_frame_us;
	int64_t closing_since_us;  /* no process left since (wall), 0 = live */
	int64_t cp_us;             /* last checkpoint (wall), 0 = none yet */
	bool dirty;                /* info changed since the last update */
	bool orphan;               /* adopted with no kernel record left */
	/* logging loss once per state change: since when it is losing (0:
	 * not), the last new loss, and the totals when it started */
	int64_t losing_since_us, loss_last_us;
	uint64_t loss_from_bytes, loss_from_events;
};

/* A session that lost nothing new for this long is logged as no longer
 * losing (one line per episode, not one per gap). */
#define LOSS_QUIET_US 5000000LL

/* Kernel state to drop once the closing rows are committed (before that a
 * crash must still find it: the next recorder re-reads the same events). */
struct retire {
	uint64_t kid, tty_key;
};

/* Terminal bytes of one direction arriving back to back, with nothing else
 * of the session between them, go into one frame while within this span of
 * its first byte (store/chunk_merge.c): far below a display frame, so a
 * player shows the same; the tty backend sends a ring record per pty_write
 * (~0.5-1.5 KiB in a flood) and each frame costs a header, a hash-chain
 * step and a worker pass. */
#define COALESCE_US 2000

#define STORE_RETRY_US 1000000LL
/* Read but not committed (so not given back to the kernel): commit once an
 * eighth of a ring is held, whatever the age, so the rings keep room for a
 * burst; this much over all rings when their sizes are not known (tests). */
#define HOLD_MAX_BYTES (2u << 20)
/* While catching up after an outage, commit every this many ring bytes, so
 * a disk with less room than the whole backlog still makes progress. */
#define CATCHUP_BYTES (1u << 20)

struct kt_recorder {
	struct kt_store *st;
	struct kt_kops k;           /* the kernel side */
	struct kt_recorder_opts o;
	struct rec_session *buckets[NBUCKETS];
	int64_t boot_to_wall_ns;
	int64_t clock_at_us;
	int64_t capture_idle_since_us; /* lazy capture: no tty recorded since */
	bool in_tx;
	char boot_id[9];
	struct kt_recorder_counters n;
	struct retire *retire;
	size_t nretire, retire_cap;
	/* store faults: everything since the last commit is rolled back and
	 * re-read from the rings (records are consumed only after a commit) */
	int tx_err;                /* a write failed in this batch */
	bool store_down;
	int64_t down_since_us, retry_at_us;
	uint64_t down_retries;
	bool caught_up;            /* this batch read the rings to their end */
	int64_t loss_checked_us;   /* last time loss was marked anyway */
	uint64_t saved_pos[KT_KOPS_RINGS]; /* ring positions in the store */
	bool saved_valid;
	/* what was read since the last commit and is only in memory: since
	 * when (kt_now_us, 0 = nothing) and how many ring bytes */
	int64_t held_since_us;
	uint64_t held_bytes;
	bool force_commit;         /* shutdown: write everything now */
	size_t ring_size[KT_KOPS_RINGS]; /* 0: not known */
};

bool kt_rec_store_fault(int err);

static inline void note_err(struct kt_recorder *r, int err)
{
	if (kt_rec_store_fault(err) && !r->tx_err)
		r->tx_err = err;
}


struct rec_session **kt_rec_slot(struct kt_recorder *r, uint64_t kid);
int kt_rec_ensure_tx(struct kt_recorder *r);
void kt_rec_session_free(struct rec_session *s);
int kt_rec_session_flush(struct kt_recorder *r, struct rec_session *s);
void kt_rec_check_loss(struct kt_recorder *r, struct rec_session *s, int64_t now);
void kt_rec_refresh_clock(struct kt_recorder *r);
void kt_rec_session_close(struct kt_recorder *r, struct rec_session **pp, int state);
void kt_rec_retire_committed(struct kt_recorder *r);
void kt_rec_lazy_capture_tick(struct kt_recorder *r, int64_t now);
void kt_rec_flush_all(struct kt_recorder *r, int64_t now);
bool kt_rec_commit_due(const struct kt_recorder *r, int64_t now);
void kt_rec_drop_all(struct kt_recorder *r);

#endif
