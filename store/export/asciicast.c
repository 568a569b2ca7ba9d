// SPDX-License-Identifier: Apache-2.0
/* asciicast v2 writer: JSON event lines from terminal bytes (asciicast.h). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "asciicast.h"
#include "evidence.h"
#include "store.h"
#include "screen.h"
#include "satint.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD in UTF-8 */

enum u8_result { U8_OK, U8_BAD, U8_SHORT };

/*
 * The sequence starting at p[0] (n >= 1 bytes available), per Unicode's
 * well-formed UTF-8 table (no overlongs, surrogates or > U+10FFFF):
 *   U8_OK     *len bytes form one character
 *   U8_BAD    the first *len bytes are a maximal ill-formed subpart: one
 *             U+FFFD replaces them ("best practice", what Python does)
 *   U8_SHORT  all n bytes are a valid prefix that the buffer end cut off
 */
static enum u8_result u8_next(const uint8_t *p, size_t n, size_t *len)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	size_t need;

	if (c < 0x80) {
		*len = 1;
		return U8_OK;
	}
	if (c < 0xc2 || c > 0xf4) {
		*len = 1;
		return U8_BAD;
	}
	if (c < 0xe0) {
		need = 1;
	} else if (c < 0xf0) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0;  /* no overlongs */
		else if (c == 0xed)
			hi = 0x9f;  /* no surrogates */
	} else {
		need = 3;
		if (c == 0xf0)
			lo = 0x90;  /* no overlongs */
		else if (c == 0xf4)
			hi = 0x8f;  /* nothing above U+10FFFF */
	}
	for (size_t i = 1; i <= need; i++) {
		if (i >= n) {
			*len = n;
			return U8_SHORT;
		}
		if (p[i] < lo || p[i] > hi) {
			*len = i;
			return U8_BAD;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	*len = need + 1;
	return U8_OK;
}

/*
 * The hot loop of big exports: runs of bytes that need no escaping (printable
 * ASCII, well-formed UTF-8 other than C1 controls) go out in one fwrite.
 */
void kt_acast_put_text(FILE *out, const void *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = data;
	size_t i = 0, run = 0, l;

	while (i < len) {
		uint8_t c = p[i];
		char esc[8];
		enum u8_result r = U8_OK;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			i++;
			continue;
		}
		l = 1;
		if (c >= 0x80) {
			r = u8_next(p + i, len - i, &l);
			/* C1 controls (U+0080..U+009F, "\xc2\x80".."\xc2\x9f") are
			 * valid but would act on a terminal that cats the file */
			if (r == U8_OK && !(c == 0xc2 && p[i + 1] < 0xa0)) {
				i += l;
				continue;
			}
		}
		if (i > run)
			fwrite(p + run, 1, i - run, out);
		if (r != U8_OK) {
			/* U8_SHORT here is the end of the data: one U+FFFD */
			fputs(REPLACEMENT, out);
		} else {
			const char *s = NULL;
			unsigned cp = l == 2 ? p[i + 1] : c; /* C1: \xc2\x8N = U+008N */

			switch (c) {
			case '"': s = "\\\""; break;
			case '\\': s = "\\\\"; break;
			case '\n': s = "\\n"; break;
			case '\r': s = "\\r"; break;
			case '\t': s = "\\t"; break;
			case '\b': s = "\\b"; break;
			case '\f': s = "\\f"; break;
			}
			if (!s) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[cp >> 4];
				esc[5] = hex[cp & 15];
				esc[6] = 0;
				s = esc;
			}
			fputs(s, out);
		}
		i += l;
		run = i;
	}
	if (len > run)
		fwrite(p + run, 1, len - run, out);
}

void kt_acast_init(struct kt_acast *w, FILE *out, int64_t start_us)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->start_us = start_us;
}

static int status(const struct kt_acast *w)
{
	return ferror(w->out) ? -EIO : 0;
}

static void put_str(FILE *out, const char *s)
{
	fputc('"', out);
	kt_acast_put_text(out, s, strlen(s));
	fputc('"', out);
}

int kt_acast_header(struct kt_acast *w, const struct kt_acast_header *h)
{
	FILE *out = w->out;
	int rows, cols;

	/* players size their terminal from it: the screen model's rule for any
	 * recorded size (0, 1, 65535), as the text export and replay draw it */
	kt_screen_size_norm(h->height, h->width, &rows, &cols);
	/* same layout as asciinema's own files: ", " and ": " separators */
	fprintf(out, "{\"version\": 2, \"width\": %d, \"height\": %d", cols, rows);
	if (h->timestamp > 0)
		fprintf(out, ", \"timestamp\": %" PRId64, h->timestamp);
	if (h->title) {
		fputs(", \"title\": ", out);
		put_str(out, h->title);
	}
	if (h->term || h->shell) {
		fputs(", \"env\": {", out);
		if (h->term) {
			fputs("\"TERM\": ", out);
			put_str(out, h->term);
		}
		if (h->shell) {
			fputs(h->term ? ", \"SHELL\": " : "\"SHELL\": ", out);
			put_str(out, h->shell);
		}
		fputc('}', out);
	}
	fputs("}\n", out);
	return status(w);
}

/* `[T, "code", "` with T relative, monotonic, in seconds with 6 decimals. */
static void open_event(struct kt_acast *w, int64_t ts_us, const char *code)
{
	int64_t rel = kt_sub_sat(ts_us, w->start_us);

	if (rel < w->last_rel_us)
		rel = w->last_rel_us;  /* also keeps it >= 0: last starts at 0 */
	w->last_rel_us = rel;
	fprintf(w->out, "[%" PRId64 ".%06" PRId64 ", \"%s\", \"", rel / 1000000,
		rel % 1000000, code);
}

static void close_event(struct kt_acast *w)
{
	fputs("\"]\n", w->out);
	w->events++;
}

static int put_stream(struct kt_acast *w, int which, const char *code,
		      int64_t ts_us, const uint8_t *p, size_t n)
{
	uint8_t *cbuf = w->carry[which].buf;
	size_t cn = w->carry[which].n, head = 0, tail = 0, l;
	uint8_t tmp[8];

	if (!n)
		return status(w);
	if (cn) {
		/* complete (or refute) the held-back sequence with up to 3 new bytes */
		size_t k = n < 4 ? n : 4;

		memcpy(tmp, cbuf, cn);
		memcpy(tmp + cn, p, k);
		if (u8_next(tmp, cn + k, &l) == U8_SHORT) {
			/* still incomplete: then k == n and cn + n <= 3 */
			memcpy(cbuf, tmp, cn + k);
			w->carry[which].n = (uint8_t)(cn + k);
			return status(w);
		}
		/* the carry was a valid prefix, so l >= cn: either one character
		 * or one U+FFFD for exactly the carried bytes */
		head = l;
		p += l - cn;
		n -= l - cn;
		w->carry[which].n = 0;
	}
	/* Hold back a trailing valid-but-cut sequence.  Decoding restarts at
	 * every non-continuation byte, so the last one within 3 bytes of the
	 * end decides. */
	for (size_t j = 1; j <= 3 && j <= n; j++) {
		if ((p[n - j] & 0xc0) == 0x80)
			continue;
		if (p[n - j] >= 0x80 && u8_next(p + n - j, j, &l) == U8_SHORT)
			tail = j;
		break;
	}
	if (!head && n == tail) {
		memcpy(cbuf, p, tail);
		w->carry[which].n = (uint8_t)tail;
		return status(w);
	}
	open_event(w, ts_us, code);
	if (head)
		kt_acast_put_text(w->out, tmp, head);
	kt_acast_put_text(w->out, p, n - tail);
	close_event(w);
	memcpy(cbuf, p + n - tail, tail);
	w->carry[which].n = (uint8_t)tail;
	return status(w);
}

int kt_acast_output(struct kt_acast *w, int64_t ts_us, const void *data, size_t len)
{
	return put_stream(w, KT_ACAST_OUT, "o", ts_us, data, len);
}

int kt_acast_input(struct kt_acast *w, int64_t ts_us, const void *data, size_t len)
{
	return put_stream(w, KT_ACAST_IN, "i", ts_us, data, len);
}

int kt_acast_resize(struct kt_acast *w, int64_t ts_us, unsigned cols, unsigned rows)
{
	int r, c;

	kt_screen_size_norm(rows, cols, &r, &c); /* as the header */
	open_event(w, ts_us, "r");
	fprintf(w->out, "%dx%d", c, r);
	close_event(w);
	return status(w);
}

int kt_acast_marker(struct kt_acast *w, int64_t ts_us, const void *label, size_t len)
{
	open_event(w, ts_us, "m");
	kt_acast_put_text(w->out, label, len);
	close_event(w);
	return status(w);
}

/* A held-back sequence that will never be completed: one U+FFFD. */
static void flush_carry(struct kt_acast *w, int which, const char *code, int64_t ts_us)
{
	if (!w->carry[which].n)
		return;
	w->carry[which].n = 0;
	open_event(w, ts_us, code);
	fputs(REPLACEMENT, w->out);
	close_event(w);
}

int kt_acast_gap(struct kt_acast *w, int64_t ts_us, uint64_t lost_bytes, bool known)
{
	char what[64], msg[160];
	int n;

	if (known)
		snprintf(what, sizeof(what), "%llu bytes", (unsigned long long)lost_bytes);
	else
		snprintf(what, sizeof(what), "data (amount unknown)");
	n = snprintf(msg, sizeof(msg), "[kubetape: %s lost here]", what);
	kt_acast_marker(w, ts_us, msg, (size_t)n);
	flush_carry(w, KT_ACAST_IN, "i", ts_us);
	flush_carry(w, KT_ACAST_OUT, "o", ts_us);
	/* own line, reverse video, attributes reset after */
	n = snprintf(msg, sizeof(msg), "\r\n\x1b[7m[kubetape: %s lost by the recorder here]\x1b[0m\r\n",
		     what);
	open_event(w, ts_us, "o");
	kt_acast_put_text(w->out, msg, (size_t)n);
	close_event(w);
	return status(w);
}

int kt_acast_finish(struct kt_acast *w)
{
	int64_t last = kt_add_sat(w->start_us, w->last_rel_us);

	flush_carry(w, KT_ACAST_IN, "i", last);
	flush_carry(w, KT_ACAST_OUT, "o", last);
	if (fflush(w->out))
		return -EIO;
	return status(w);
}

int kt_acast_frame(struct kt_acast *w, const struct kt_frame *f, const void *data, size_t len,
		   bool input)
{
	uint64_t bytes = 0, events = 0;
	uint16_t cols, rows;

	switch (f->type) {
	case KT_FRAME_OUT:
		return kt_acast_output(w, f->ts_us, data, len);
	case KT_FRAME_IN:
		return input ? kt_acast_input(w, f->ts_us, data, len) : 0;
	case KT_FRAME_RESIZE:
		if (kt_frame_resize_parse(f, &cols, &rows))
			return 0; /* the store validated it on write; skip, not fail */
		return kt_acast_resize(w, f->ts_us, cols, rows);
	case KT_FRAME_GAP:
		if (kt_frame_gap_parse(f, &bytes, &events))
			return kt_acast_gap(w, f->ts_us, 0, false);
		return kt_acast_gap(w, f->ts_us, bytes, true);
	case KT_FRAME_WITHHELD: {
		/* input typed with echo off: only its count was ever recorded */
		char label[80];
		int n;

		if (!input || kt_frame_withheld_parse(f, &bytes))
			return 0;
		n = snprintf(label, sizeof(label), "%llu bytes typed with echo off withheld",
			     (unsigned long long)bytes);
		return kt_acast_marker(w, f->ts_us, label, (size_t)n);
	}
	default:
		return 0; /* a newer frame type: skipped, as store.h asks */
	}
}
