/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libkubetape store: the only code that knows the SQLite schema and the chunk
 * format (documented in store/FORMAT.md).  The recorder writes through it;
 * replay/ and web/ read through it.
 *
 * Conventions (libbpf style): functions return 0 or a negative errno; free
 * and close functions accept NULL; errors are logged once, here, with the
 * SQLite message attached.
 *
 * Times are microseconds since the Unix epoch (int64).  Session ids are the
 * SQLite rowid of the sessions table (what users type: `kubetape show 42`).
 */
#ifndef KUBETAPE_STORE_H
#define KUBETAPE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define KT_SCHEMA_VERSION 9
#define KT_STREAM_VERSION 1

struct kt_store;

enum kt_store_flags {
	KT_STORE_RDONLY = 1 << 0, /* readers: never blocks the recorder (WAL) */
	KT_STORE_CREATE = 1 << 1, /* create + migrate (recorder only) */
};

/*
 * RDONLY on a missing file: -ENOENT.  A file that is not a kubetape
 * database, or one with a newer schema (or, without CREATE, an older one):
 * -EPROTO, logged in one line.  CREATE creates the file and migrates it.
 */
int kt_store_open(const char *path, unsigned flags, struct kt_store **out);
/* Commits an open kt_store_begin() batch (with a warning) before closing. */
void kt_store_close(struct kt_store *st);
/*
 * zstd level for chunks written from now on (default 3); -EINVAL if out of
 * range.  0 stores chunks raw (codec 0): no compression on the write path;
 * kt_store_compact_session compresses them later, off the capture path
 * (the recorder: raw appends + compaction in its niced index worker).
 */
int kt_store_set_zstd_level(struct kt_store *st, int level);

/*
 * Group writes; the recorder commits once per flush tick.  Outside a batch
 * every write call is its own transaction.  Inside one, calls validate
 * before writing (missing session, duplicate uuid: nothing written), but an
 * I/O-level failure (disk full) may leave a call half done; the commit will
 * then most likely fail too.  -EINVAL for begin inside a batch or commit
 * outside one; a failed commit rolls the whole batch back.
 */
int kt_store_begin(struct kt_store *st);
int kt_store_commit(struct kt_store *st);
/* Drop an open batch (nothing of it is written); no batch: 0. */
int kt_store_rollback(struct kt_store *st);
/*
 * Writer bookkeeping in the meta table (FORMAT.md): integer values under
 * keys the caller names ("ring.*": the recorder's ring positions).  Inside
 * a batch they commit with it.  get: -ENOENT when absent.
 */
int kt_store_meta_get_int(struct kt_store *st, const char *key, int64_t *val);
int kt_store_meta_set_int(struct kt_store *st, const char *key, int64_t val);

/*
 * Runs of the recorder's BPF programs the kernel skipped (recursion_misses):
 * loss that cannot be attributed to a session, counted per node
 * (FORMAT.md, meta "skipped.*"; store/skipped.c).
 */
struct kt_skipped {
	uint64_t runs;              /* all skipped runs counted in this store */
	int64_t first_us, last_us;  /* when the first / latest were counted */
};
int kt_store_skipped_get(struct kt_store *st, struct kt_skipped *out);
/* The kernel's count for program prog_id of boot boot_id already added (0 if none). */
int kt_store_skipped_seen(struct kt_store *st, const char *boot_id, uint32_t prog_id,
			  uint64_t *misses);
/* Add `added` runs (the program's kernel count is now `misses`); in the
 * caller's transaction. */
int kt_store_skipped_add(struct kt_store *st, const char *boot_id, uint32_t prog_id,
			 uint64_t misses, uint64_t added, int64_t now_us);
/* While quiet, SQLite errors are logged at debug level: a caller that
 * retries through an outage logs the state change itself, once. */
void kt_store_set_quiet(struct kt_store *st, bool quiet);
/* Every commit reaches the disk before it returns (synchronous=FULL; the
 * default, NORMAL, leaves the last commits in the page cache until a
 * checkpoint).  For a writer that discards its source once a commit
 * returns (the recorder gives ring space back to the kernel). */
int kt_store_set_durable(struct kt_store *st);
/*
 * WAL checkpoints off the writer's commits: the connection's automatic
 * checkpoint waits until the WAL holds `pages` pages (a backstop), and
 * another process (the recorder's index worker) copies the WAL into the
 * database with kt_store_wal_checkpoint, off the capture path.  The copy
 * costs the same CPU; it just is not paid while ring space is held.
 */
int kt_store_set_wal_autocheckpoint(struct kt_store *st, int pages);
/* A PASSIVE checkpoint: copies what no reader still needs, never waits
 * for (nor blocks) the writer; 0 or -errno. */
int kt_store_wal_checkpoint(struct kt_store *st);

/* ---- sessions ---------------------------------------------------------- */

enum kt_session_state {
	KT_SESSION_ACTIVE = 0,
	KT_SESSION_ENDED = 1,       /* leader exited, stream closed */
	KT_SESSION_INTERRUPTED = 2, /* recorder stopped while it was open */
};

/*
 * kt_session_info.entry_flags (schema v6).  0: an exec into a running
 * container by its runtime (kubectl exec, crictl exec).
 */
#define KT_SESSION_F_FROM_NODE   (1u << 0) /* entered the container's namespaces from the
					    * node without its runtime (nsenter): its cgroup
					    * is not the container's */
#define KT_SESSION_F_INTERACTIVE (1u << 1) /* the container's own process, started on a
					    * terminal (kubectl run -it, kubectl debug) */
#define KT_SESSION_F_HOST_PID    (1u << 2) /* the leader shares the node's pid
					    * namespace: a hostPID pod's container,
					    * or nsenter without -p */
#define KT_SESSION_F_LATE        (1u << 3) /* recording started late: the session was
					    * running when the recorder started with no
					    * kernel state to adopt (found by the start-up
					    * task iterator); nothing before start_us is
					    * recorded (a LATE frame marks it) */
#define KT_SESSION_F_ALL         0xfu

/* "entered-from-node", "interactive-container", "host-pid",
 * "recording-started-late" (flag: one bit) */
const char *kt_session_flag_name(uint32_t flag);
/* Comma-separated names of the set bits into buf ("" if none); buf. */
const char *kt_session_flags_str(uint32_t flags, char *buf, size_t len);

#define KT_STR_SHORT 72
#define KT_STR_LONG 256

struct kt_session_info {
	int64_t id;                 /* rowid; set by kt_store_session_create */
	char uuid[40];              /* node-unique: "<bootid8>-<bpf id hex>" */
	uint64_t kernel_id;         /* kt_session.id from BPF */
	int64_t start_us, end_us;   /* end_us 0 while active */
	int state;                  /* enum kt_session_state */
	bool has_exit;
	int exit_status;            /* wait(2) status of the leader */

	/* attribution */
	char node[KT_STR_LONG];
	char k8s_namespace[KT_STR_LONG];
	char pod[KT_STR_LONG];
	char pod_uid[KT_STR_SHORT];
	char container[KT_STR_LONG];
	char container_id[KT_STR_SHORT + 64];
	char runtime[24];           /* "containerd", "cri-o", "" */
	bool attribution_guess;     /* pod from uts hostname, no runtime state */
	uint32_t entry_flags;       /* KT_SESSION_F_*: how the leader got in */
	char hostname[72];          /* uts nodename inside the session */
	char cgroup_path[1024];
	uint64_t cgroup_id;
	uint32_t pidns_ino, mntns_ino;

	/* leader */
	uint32_t leader_pid, leader_ns_pid, leader_uid, leader_gid;
	char leader_comm[17];

	/* terminal */
	bool has_tty;
	char tty_name[48];          /* "pts/3 on devpts 0:85" */
	uint16_t rows, cols;        /* at start */
	char capture[16];           /* backend: "syscall", "tty-fentry", ... */

	/* running totals, kept up to date by the writer */
	uint64_t bytes_out, bytes_in;
	uint64_t lost_bytes, lost_events;
	uint32_t n_commands;
	char first_command[KT_STR_LONG]; /* argv joined with spaces, clipped */
};

/* Sets s->id.  -EEXIST if the uuid is already stored. */
int kt_store_session_create(struct kt_store *st, struct kt_session_info *s);
/*
 * Rewrites attribution, totals, state, end and exit from *s (by s->id;
 * -ENOENT if none).  The running totals the store maintains itself
 * (bytes_out/in and lost_* from kt_store_chunk_append, n_commands and
 * first_command from kt_store_command_add) never go backwards: the larger
 * of stored and given value is kept, and an empty first_command keeps the
 * stored one, so a caller that does not track them may pass zeros.
 */
int kt_store_session_update(struct kt_store *st, const struct kt_session_info *s);
int kt_store_session_get(struct kt_store *st, int64_t id, struct kt_session_info *out);
/*
 * Sessions by the node that recorded them.  On the cluster store
 * (--db postgres://, FORMAT-pg.md) a session's id is its cluster-wide gid;
 * origin gives the node it was shipped from (its --node-name) and the
 * session's id on that node, and returns 1.  On a node's own store it
 * returns 0 and sets nothing.  find is the way back: the id of session
 * node_id of `node` (the shipping node's name on the cluster store, the
 * recorder's node name on a node's store).  -ENOENT if none.
 */
int kt_store_session_origin(struct kt_store *st, int64_t id, char *node, size_t len,
			    int64_t *node_id);
int kt_store_session_find(struct kt_store *st, const char *node, int64_t node_id,
			  int64_t *id);
/* Mark every ACTIVE session INTERRUPTED at `now_us` (recorder start/stop). */
int kt_store_sessions_interrupt_open(struct kt_store *st, int64_t now_us, int *count);

struct kt_session_filter {
	const char *k8s_namespace, *pod, *container, *node; /* exact (see substr); NULL = any */
	int64_t since_us, until_us;  /* overlap with [since, until]; 0 = open */
	int active;                  /* -1 any, 0 ended/interrupted, 1 active */
	int tty;                     /* -1 any, 0 no tty, 1 tty */
	int64_t after_id;            /* pagination: id < after_id (0 = start);
				      * in search: command id < after_id */
	int limit;                   /* 0 = no limit (search: max hits) */
	bool substr;                 /* namespace and pod match as substrings,
				      * ASCII case-insensitive, not exactly */
	bool by_start;               /* list: newest start first (start_us, id),
				      * paginated after (after_start_us, after_id) */
	int64_t after_start_us;
};
#define KT_SESSION_FILTER_INIT { .active = -1, .tty = -1 }

/* Newest first (by id, or by start time with by_start).  The callback
 * returns non-zero to stop (that value returned). */
typedef int (*kt_session_cb)(const struct kt_session_info *s, void *ctx);
int kt_store_sessions_list(struct kt_store *st, const struct kt_session_filter *f,
			   kt_session_cb cb, void *ctx);
/* How many sessions the filter matches (after_id, limit and by_start
 * ignored). */
int kt_store_sessions_count(struct kt_store *st, const struct kt_session_filter *f,
			    int64_t *count);

/* ---- commands (one row per execve inside a session) -------------------- */

struct kt_command {
	int64_t id;              /* rowid */
	int64_t session_id;
	int32_t seq;             /* 0-based order within the session */
	int64_t ts_us;           /* exec time */
	int64_t end_us;          /* 0 while running */
	bool has_exit;
	int exit_status;
	uint32_t pid, ns_pid, ppid;
	uint32_t uid, gid, euid, egid;
	char comm[17];
	const char *filename;    /* owned by the store/caller, valid in callback */
	const char *argv;        /* NUL-separated, argv_len bytes */
	size_t argv_len;
	uint32_t argc;
	const char *cwd;         /* "" when unknown */
	bool argv_truncated, cwd_truncated;
};

/*
 * Sets c->id and c->seq (the store numbers commands per session; the
 * caller's seq is ignored) and updates the session's n_commands and
 * first_command.  -ENOENT if the session does not exist.
 */
int kt_store_command_add(struct kt_store *st, struct kt_command *c);
/*
 * The last running command of `pid` in the session gets end time and status.
 * Returns 0 also when no running command matched (a forked child that never
 * exec'd), so the recorder can call it for every exit.
 */
int kt_store_command_exit(struct kt_store *st, int64_t session_id, uint32_t pid,
			  int64_t end_us, int exit_status);

typedef int (*kt_command_cb)(const struct kt_command *c, void *ctx);
int kt_store_commands_list(struct kt_store *st, int64_t session_id,
			   kt_command_cb cb, void *ctx);

/*
 * Search over argv; `query` is user text, never SQL nor FTS5 syntax.  The
 * query is split on whitespace; a command matches when its space-joined argv
 * contains every word as a substring (ASCII case-insensitive): "passwd"
 * finds "cat /etc/passwd".  Quotes, FTS operators, % and _ are literal.
 * Newest hit first; the filter restricts the sessions, after_id/limit page
 * over command ids.  -EINVAL (logged) for an empty query, one longer than
 * 1024 bytes or one that is not valid UTF-8 (rejected, not sanitized).
 * Words of 1-2 characters are not indexed (trigram) and scan the table.
 */
typedef int (*kt_command_hit_cb)(const struct kt_session_info *s,
				 const struct kt_command *c, void *ctx);
int kt_store_commands_search(struct kt_store *st, const char *query,
			     const struct kt_session_filter *f,
			     kt_command_hit_cb cb, void *ctx);

/* ---- the terminal stream ------------------------------------------------ */

enum kt_frame_type {
	KT_FRAME_OUT = 1,    /* bytes the terminal showed */
	KT_FRAME_IN = 2,     /* bytes the user typed */
	KT_FRAME_RESIZE = 3, /* payload: u16 cols, u16 rows (LE) */
	KT_FRAME_GAP = 4,    /* payload: varint lost_bytes, varint lost_events */
	/* evidence frames (store/evidence.h); players skip them */
	KT_FRAME_WITHHELD = 5, /* payload: varint bytes typed with ECHO off, not kept */
	KT_FRAME_META = 6,   /* the session's metadata, signed with the stream */
	KT_FRAME_CMD = 7,    /* a command row as stored */
	KT_FRAME_EXIT = 8,   /* a command's exit as stored */
	KT_FRAME_END = 9,    /* the session's end as stored */
	/* recording started late (KT_SESSION_F_LATE): at this frame's time;
	 * payload: varint leader_start_us, when the session's leader started */
	KT_FRAME_LATE = 10,
};

struct kt_frame {
	uint8_t type;
	int64_t ts_us;        /* absolute */
	uint32_t len;
	const uint8_t *data;  /* points into the decoder's buffer */
};

/* Frames accumulated by the writer, encoded per FORMAT.md. */
struct kt_chunk_builder {
	uint8_t *buf;
	size_t len, cap;
	int64_t start_us, last_us;
	uint64_t out_bytes, in_bytes; /* payload totals in this chunk */
	uint32_t nframes;
	uint64_t lost_bytes, lost_events; /* sums of this chunk's GAP frames */
	size_t last_off; /* where the last frame starts (kt_chunk_extend) */
};

void kt_chunk_builder_init(struct kt_chunk_builder *b);
void kt_chunk_builder_free(struct kt_chunk_builder *b);
void kt_chunk_builder_reset(struct kt_chunk_builder *b);
/*
 * Append one frame.  A ts_us earlier than the previous frame's is clamped to
 * it (timestamps never go backwards; the store also clamps across chunks).
 * -EINVAL for type 0 or a malformed RESIZE/GAP payload, -E2BIG when the
 * chunk would exceed 64 MiB (append it and reset first), -ENOMEM.
 */
int kt_chunk_add(struct kt_chunk_builder *b, uint8_t type, int64_t ts_us,
		 const void *data, uint32_t len);
/*
 * Append `len` bytes to the chunk's last frame if it is an OUT/IN frame of
 * `type` and ts_us is at most span_us after its timestamp
 * (store/chunk_merge.c says why and what stays exact).  -ESRCH when it
 * cannot (add a new frame instead), -E2BIG, -ENOMEM.
 */
int kt_chunk_extend(struct kt_chunk_builder *b, uint8_t type, int64_t ts_us, int64_t span_us,
		    const void *data, uint32_t len);
int kt_chunk_add_resize(struct kt_chunk_builder *b, int64_t ts_us,
			uint16_t cols, uint16_t rows);
int kt_chunk_add_gap(struct kt_chunk_builder *b, int64_t ts_us,
		     uint64_t lost_bytes, uint64_t lost_events);

/*
 * Compress and append the builder's frames as the session's next chunk and
 * add its OUT/IN payload bytes and GAP losses to the session's totals in the
 * same transaction (readers see them live).  An empty builder is a no-op.
 * The builder is not reset.  -ENOENT if the session does not exist.
 */
int kt_store_chunk_append(struct kt_store *st, int64_t session_id,
			  const struct kt_chunk_builder *b);

/*
 * Decoding one chunk's raw (decompressed) bytes.  Returns 1 with *f filled,
 * 0 at the end, -EBADMSG on corrupt input (never reads out of bounds).
 */
struct kt_frame_decoder {
	const uint8_t *p, *end;
	int64_t ts_us;
};
void kt_frame_decoder_init(struct kt_frame_decoder *d, const void *buf,
			   size_t len, int64_t chunk_start_us);
/* Frames of unknown types are returned too: callers skip what they don't know. */
int kt_frame_next(struct kt_frame_decoder *d, struct kt_frame *f);
/* Payload of a RESIZE / GAP frame; -EBADMSG if malformed. */
int kt_frame_resize_parse(const struct kt_frame *f, uint16_t *cols, uint16_t *rows);
int kt_frame_gap_parse(const struct kt_frame *f, uint64_t *lost_bytes,
		       uint64_t *lost_events);

/*
 * Reading a session's stream in order, optionally from a time: frames with
 * ts_us >= from_us (0 = all; earlier frames, RESIZE included, are skipped).
 * Timestamps returned never decrease.  A stream does not hold a read
 * snapshot between calls, so it sees chunks the recorder commits later.
 * The stream must be closed before its store.
 */
struct kt_stream;
int kt_stream_open(struct kt_store *st, int64_t session_id, int64_t from_us,
		   struct kt_stream **out);
/*
 * 1 = frame (f->data valid until the next call), 0 = end of what is stored
 * now (call again to follow), <0 error.  -EBADMSG (logged) for a corrupt
 * chunk: its remaining frames are dropped and the next call continues with
 * the next chunk.
 */
int kt_stream_next(struct kt_stream *s, struct kt_frame *f);
void kt_stream_close(struct kt_stream *s);

/* ---- compaction (store/compact.c) ----------------------------------------- */

/*
 * Merging a session's small chunks into large ones at a high zstd level,
 * off the capture path (the recorder appends raw chunks, level 0).  Merges
 * runs of chunks that contain a raw chunk, lie before the screen index
 * position (kt_index_session) and, in an active session, before its last
 * chunk, into chunks of about `target` raw bytes.  The last short run of an
 * active session waits for more output (or 60 s without any).  Chunks the
 * recorder wrote compressed (level != 0) are left alone.  Each merged
 * chunk replaces its run in one transaction: a crash leaves the old chunks
 * or the new one; readers, followers and stored positions (keyframes,
 * screen blocks) are unaffected (a chunk's seq is its first frame's number,
 * FORMAT.md).  Idempotent.  Compresses about `budget` raw bytes per call
 * (0: 16 MiB; one run may exceed it).  Returns 1 if more is ready to merge
 * now, 0 if not, <0 on error.  Needs a writable store.
 */
#define KT_COMPACT_LEVEL 9
#define KT_COMPACT_TARGET (4u << 20)
/* a run written at KT_COMPACT_FAST_RATE bytes/s or faster (raw bytes over
 * its first frame's chunk start to its last chunk's end) is compressed at
 * KT_COMPACT_FAST_LEVEL instead (compact.c says why) */
#define KT_COMPACT_FAST_LEVEL 3
#define KT_COMPACT_FAST_RATE (1000u * 1000u)
struct kt_compact_stats {
	uint64_t chunks_in, chunks_out;   /* chunks replaced, chunks written */
	uint64_t chunks_fast;             /* of chunks_out, at the fast level */
	uint64_t raw_bytes;               /* frame bytes merged */
	uint64_t stored_in, stored_out;   /* their data bytes before and after */
};
int kt_store_compact_session(struct kt_store *st, int64_t session_id, size_t budget,
			     struct kt_compact_stats *stats);
/* Sessions kt_store_compact_session may have work for (raw chunks before
 * their index position), by id; cb as in kt_index_pending. */
int kt_compact_pending(struct kt_store *st, int (*cb)(int64_t session_id, void *ctx),
		       void *ctx);
/* zstd level (1..max) and target raw size (4 KiB..64 MiB) for merged
 * chunks; defaults KT_COMPACT_LEVEL, KT_COMPACT_TARGET.  -EINVAL. */
int kt_store_set_compaction(struct kt_store *st, int level, size_t target);
/* The fast level (1..max) and the rate (bytes/s, > 0) from which a run
 * uses it; defaults KT_COMPACT_FAST_LEVEL, KT_COMPACT_FAST_RATE.  A fast
 * level not below the compaction level is not used.  -EINVAL. */
int kt_store_set_compaction_fast(struct kt_store *st, int level, uint64_t rate);

/* ---- screen index: keyframes and screen text (store/index/) --------------- */

/*
 * Seeking.  Finds the last keyframe at or before target_us and returns its
 * redraw bytes (*kf, malloc'd, *kf_len; a terminal of *rows x *cols that is
 * written them shows the screen at that point) and a stream positioned at
 * the first frame after it; *kf_ts_us is the keyframe's time.  A player
 * writes the keyframe, then plays the stream's frames fast up to target_us,
 * then in real time.  Cost: one keyframe and the rest of one chunk.  With no
 * keyframe that early (or none indexed yet) *kf is NULL, *kf_ts_us 0, the
 * stream starts at the session's start and rows/cols are the session's
 * starting size (0 if unknown).  -ENOENT for no such session.
 */
int kt_stream_open_at(struct kt_store *st, int64_t session_id, int64_t target_us,
		      struct kt_stream **stream, uint8_t **kf, size_t *kf_len,
		      int64_t *kf_ts_us, uint16_t *rows, uint16_t *cols);

/*
 * Indexing one session (needs a writable store; the recorder runs it in a
 * low-priority thread on its own connection).  Resumes where the last call
 * stopped, feeds OUT and RESIZE frames through a kt_screen, writes
 * keyframes (every 1 MiB of output or 30 s of session time, whichever comes
 * first, never two within 64 KiB), the text of lines leaving the screen,
 * and, once the session has ended and every chunk is indexed, its final
 * screen.  Processes about `budget` bytes of output per call (0: 4 MiB) in
 * transactions of at most 1 MiB of output each, so the recorder, the other
 * writer, waits at most that long.  Idempotent: running it again, or after a
 * crash, never duplicates a row.  Memory: one chunk and one screen.
 * Returns 1 if there is more to index now, 0 when caught up, <0 on error.
 */
int kt_index_session(struct kt_store *st, int64_t session_id, size_t budget);
/* Sessions whose index is behind (new output, or ended and not finished),
 * oldest first; the callback returns non-zero to stop (that value returned). */
typedef int (*kt_index_pending_cb)(int64_t session_id, void *ctx);
int kt_index_pending(struct kt_store *st, kt_index_pending_cb cb, void *ctx);

/*
 * Screen text search: what was displayed, as rendered by a terminal (colour
 * codes, cursor movement and backspace editing do not break matching).  The
 * query works as in kt_store_commands_search (substring words, AND, ASCII
 * case-insensitive, never SQL or FTS syntax; same limits and errors).  Hits
 * newest first; the filter restricts sessions; after_id/limit page over
 * hit ids.  Only indexed output is searchable (see kt_index_session).
 */
struct kt_screen_hit {
	int64_t id;          /* line id (pagination) */
	int64_t session_id;
	int64_t ts_us;       /* when the line was last written on screen; the
			      * offset into the session is ts_us - start_us */
	bool final;          /* on the session's last screen */
	const char *text;    /* the line, UTF-8; valid during the callback */
};
typedef int (*kt_screen_hit_cb)(const struct kt_session_info *s,
				const struct kt_screen_hit *h, void *ctx);
int kt_store_screen_search(struct kt_store *st, const char *query,
			   const struct kt_session_filter *f,
			   kt_screen_hit_cb cb, void *ctx);
/* The same with its cost (tests, bench/): candidate blocks examined (open
 * ones among them), lines looked at, OUT bytes rendered again to verify
 * candidates, hits delivered. */
struct kt_screen_search_stats {
	int64_t blocks, open_blocks, lines, rendered, hits;
};
int kt_store_screen_search_stats(struct kt_store *st, const char *query,
				 const struct kt_session_filter *f, kt_screen_hit_cb cb,
				 void *ctx, struct kt_screen_search_stats *stats);

/* ---- utilities shared by the programs ------------------------------------ */

int64_t kt_now_us(void);
/* CLOCK_MONOTONIC in microseconds: intervals (outages, stalls), never stored */
int64_t kt_mono_us(void);

#endif /* KUBETAPE_STORE_H */
