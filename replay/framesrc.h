/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A session's frames for the commands that write terminal data (cat,
 * export): the store's reader (reader.h) plus what each of them would
 * otherwise repeat:
 *   - following an active session (`--follow`): the reader returns 0 at the
 *     current end; kt_src_wait() polls every KT_SRC_POLL_MS while the
 *     reader's follow rule says wait, and lets the caller drain the rest
 *     once the session ended;
 *   - Ctrl-C / SIGTERM: kt_src_catch_signals() turns them into -EINTR from
 *     kt_src_next()/kt_src_wait(), so the caller can clean up (temp files)
 *     and flush what it wrote;
 *   - gaps: each GAP frame is warned about on stderr (the first
 *     KT_SRC_MAX_GAP_WARNINGS, then a total at the end), and still returned;
 *   - corrupt chunks: skipped and counted (the store logs each);
 *     kt_src_finish() reports them as -EBADMSG so the exit status says the
 *     output is incomplete.
 * Memory: one decompressed chunk at a time (the store's bound, 64 MiB).
 */
#ifndef KUBETAPE_REPLAY_FRAMESRC_H
#define KUBETAPE_REPLAY_FRAMESRC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "reader.h"

#define KT_SRC_POLL_MS 150
#define KT_SRC_MAX_GAP_WARNINGS 10

struct kt_progress;

struct kt_src {
	struct kt_reader r;        /* stream, peek, follow rule, corrupt chunks */
	int64_t start_us;
	const char *cmd;           /* command name for messages */
	uint64_t gaps, gap_bytes, gap_events;
	uint64_t payload;          /* OUT + IN bytes returned so far */
};

/* Opens the session's stream.  0 or a negative errno (logged by the store). */
int kt_src_open(struct kt_src *s, struct kt_store *st,
		const struct kt_session_info *si, const char *cmd, bool follow);
/*
 * 1: *f is the next frame and its ts_us <= until_us (f->data valid until the
 * next call).  0: nothing more is stored now, or the next frame is later
 * than until_us (it is kept for the next call).  -EINTR after a caught
 * signal, else a store error (logged).
 */
int kt_src_next(struct kt_src *s, int64_t until_us, struct kt_frame *f);
/*
 * Call when kt_src_next(s, INT64_MAX, ...) returned 0.  1: more may come,
 * call kt_src_next() again (after sleeping when the session is still
 * active); 0: done (not following, or the session ended and was drained);
 * -EINTR; or a store error.
 */
int kt_src_wait(struct kt_src *s);
/* The gap total when there were many; -EBADMSG (logged) if chunks were
 * corrupt, else 0.  Closes the stream. */
int kt_src_finish(struct kt_src *s);
void kt_src_close(struct kt_src *s);

/*
 * Copies the payload of every frame of `type` (KT_FRAME_OUT or _IN) to out
 * until kt_src_wait() says done, flushing whenever it waits.  Progress (may
 * be NULL) counts OUT + IN bytes.  0, -EIO (errno: why), -EINTR, or a store
 * error.  Shared by `cat` and `export --format raw`.
 */
int kt_src_copy(struct kt_src *s, uint8_t type, FILE *out, struct kt_progress *pg);

/* SIGINT/SIGTERM set a flag instead of killing (no SA_RESTART: sleeps end). */
void kt_src_catch_signals(void);
/* The signal caught, 0 if none. */
int kt_src_signal(void);

#endif
