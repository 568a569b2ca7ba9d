/* SPDX-License-Identifier: Apache-2.0 */
/*
 * asciicast v2 writer (https://docs.asciinema.org/manual/asciicast/v2/):
 * one JSON header line, then one `[time, code, data]` line per event.
 *
 * Terminal bytes are arbitrary; JSON strings must be Unicode.  The writer
 * decodes them as UTF-8 the way asciinema's own recorder does (Python's
 * incremental "utf-8" decoder with errors="replace"): every maximal
 * ill-formed subpart becomes one U+FFFD, and a sequence cut at the end of a
 * frame is held back and completed by the next frame of the same stream
 * ("o" and "i" each have their own carry), so a character split across two
 * reads never turns into two replacement characters.  Valid UTF-8 therefore
 * round-trips byte for byte: `asciinema cat` of the file prints exactly the
 * recorded output.  Output is UTF-8 (not \u-escaped); control characters
 * (C0, DEL and C1) are escaped, \n \r \t \b \f in their short forms.
 *
 * Times are microseconds relative to the session start, written with six
 * decimals, clamped so they never decrease (and never go below 0).
 * Memory use is constant: bytes are escaped straight into the FILE.
 * Functions return 0 or -EIO once the FILE reports a write error (errno
 * tells why); later calls keep returning it.
 */
#ifndef KUBETAPE_REPLAY_ASCIICAST_H
#define KUBETAPE_REPLAY_ASCIICAST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum { KT_ACAST_OUT, KT_ACAST_IN };

struct kt_acast {
	FILE *out;
	int64_t start_us;     /* absolute time of t = 0 */
	int64_t last_rel_us;  /* last event time written (monotonic clamp) */
	struct {
		uint8_t buf[4];
		uint8_t n;    /* bytes of an incomplete UTF-8 sequence held back */
	} carry[2];           /* KT_ACAST_OUT, KT_ACAST_IN */
	uint64_t events;      /* event lines written */
};

struct kt_acast_header {
	unsigned width, height;   /* required by the format */
	int64_t timestamp;        /* start, epoch seconds; <= 0: omitted */
	const char *title;        /* NULL: omitted */
	const char *term, *shell; /* env.TERM / env.SHELL; NULL: omitted */
};

void kt_acast_init(struct kt_acast *w, FILE *out, int64_t start_us);
int kt_acast_header(struct kt_acast *w, const struct kt_acast_header *h);

/* "o" / "i": terminal bytes at absolute time ts_us.  Nothing is written
 * for an empty frame or one that only holds back part of a character. */
int kt_acast_output(struct kt_acast *w, int64_t ts_us, const void *data, size_t len);
int kt_acast_input(struct kt_acast *w, int64_t ts_us, const void *data, size_t len);
/* "r" with "COLSxROWS". */
int kt_acast_resize(struct kt_acast *w, int64_t ts_us, unsigned cols, unsigned rows);
/* "m": a marker labelled with arbitrary bytes (decoded like output). */
int kt_acast_marker(struct kt_acast *w, int64_t ts_us, const void *label, size_t len);
/*
 * Recorded loss: a marker "[kubetape: N bytes lost here]" plus, so that it
 * shows in playback, an "o" event with a reverse-video notice on its own
 * line.  A character held back in either stream cannot be completed across
 * the hole: it is written as U+FFFD first.  !known: the amount is unknown.
 * The notice is not part of the recorded output; see replay/README.md.
 */
int kt_acast_gap(struct kt_acast *w, int64_t ts_us, uint64_t lost_bytes, bool known);
/*
 * One stored frame (store.h) as its event, the mapping every exporter
 * shares (CLI export, web export): OUT "o", IN "i" and a WITHHELD frame's
 * marker only when `input`, RESIZE "r", GAP the loss notice; a frame that
 * does not parse or of a newer type is skipped.  data/len: the payload (or
 * a slice of it, for a reader that cuts long frames).
 */
struct kt_frame;
int kt_acast_frame(struct kt_acast *w, const struct kt_frame *f, const void *data, size_t len,
		   bool input);
/* Held-back incomplete characters become U+FFFD; flushes the FILE. */
int kt_acast_finish(struct kt_acast *w);

/*
 * The string encoder on its own: writes `len` bytes as the inside of a JSON
 * string (no quotes), with incomplete trailing sequences replaced, not held.
 * Exposed for the header and for tests.
 */
void kt_acast_put_text(FILE *out, const void *data, size_t len);

#endif
