// SPDX-License-Identifier: Apache-2.0
/*
 * The asciicast v2 writer (store/export/asciicast.c) on its own: escaping of every
 * control byte, invalid UTF-8 replaced as Python's decoder does (so as
 * asciinema records it), UTF-8 split across frames, NUL, header fields,
 * event order and times, resize/marker/gap events.  Every line produced is
 * parsed back with jansson.  Also the progress line's text.
 */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>

#include "kt_test.h"
#include "../../store/export/asciicast.c"
#include "../../replay/humanfmt.c"
#include "../../replay/progress.c"

#define S 1000000LL
#define T0 1795000000000000LL /* a session start, epoch us */
#define FFFD "\xef\xbf\xbd"

/* A writer into memory, and the lines it wrote parsed back. */
struct cap {
	FILE *f;
	char *buf;
	size_t len;
	struct kt_acast w;
	json_t *lines[64];
	size_t n;
	char *raw[64];   /* each line as text, for format checks */
};

static void cap_open(struct cap *c)
{
	memset(c, 0, sizeof(*c));
	c->f = open_memstream(&c->buf, &c->len);
	kt_acast_init(&c->w, c->f, T0);
}

/* Finishes the writer and parses every line; CHECKs each is valid JSON. */
static void cap_parse(struct cap *c, bool finish)
{
	json_error_t e;
	char *p, *nl;

	if (finish)
		CHECK_EQ_INT(kt_acast_finish(&c->w), 0);
	fclose(c->f);
	c->f = NULL;
	CHECK(c->len == 0 || c->buf[c->len - 1] == '\n');
	for (p = c->buf; p && *p && c->n < 64; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		c->raw[c->n] = strndup(p, (size_t)(nl - p));
		c->lines[c->n] = json_loadb(p, (size_t)(nl - p), JSON_ALLOW_NUL, &e);
		if (!c->lines[c->n]) {
			printf("  not JSON (%s): %.*s\n", e.text, (int)(nl - p), p);
			CHECK(!"every line is JSON");
		}
		c->n++;
	}
}

static void cap_free(struct cap *c)
{
	for (size_t i = 0; i < c->n; i++) {
		json_decref(c->lines[i]);
		free(c->raw[i]);
	}
	free(c->buf);
	memset(c, 0, sizeof(*c));
}

/* The event's fields; NULL data when the line is not a 3-array. */
static const char *ev(struct cap *c, size_t i, double *t, const char **code, size_t *len)
{
	json_t *a = i < c->n ? c->lines[i] : NULL;

	if (!json_is_array(a) || json_array_size(a) != 3)
		return NULL;
	if (t)
		*t = json_real_value(json_array_get(a, 0));
	if (code)
		*code = json_string_value(json_array_get(a, 1));
	if (len)
		*len = json_string_length(json_array_get(a, 2));
	return json_string_value(json_array_get(a, 2));
}

/* The decoded JSON string of kt_acast_put_text(in). */
static void text_of(const void *in, size_t n, char *out, size_t cap, size_t *outlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_error_t e;
	json_t *j;

	fputc('"', f);
	kt_acast_put_text(f, in, n);
	fputc('"', f);
	fclose(f);
	j = json_loadb(buf, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	if (!json_is_string(j)) {
		printf("  not a JSON string: %s (%s)\n", buf, e.text);
		CHECK(!"valid JSON string");
		*outlen = 0;
	} else {
		*outlen = json_string_length(j);
		CHECK(*outlen < cap);
		memcpy(out, json_string_value(j), *outlen < cap ? *outlen : cap - 1);
	}
	json_decref(j);
	free(buf);
}

/* kt_acast_put_text(in) must decode to `want` (want_len bytes). */
static void expect_text(const char *in, size_t n, const char *want, size_t want_len)
{
	char out[512];
	size_t len;

	text_of(in, n, out, sizeof(out), &len);
	if (len != want_len || memcmp(out, want, len)) {
		printf("  input of %zu bytes decoded to %zu bytes, expected %zu\n", n, len, want_len);
		CHECK(!"decoded text");
	}
}
#define EXPECT_TEXT(in, want) expect_text(in, sizeof(in) - 1, want, sizeof(want) - 1)

/* ---------------------------------------------------------------- tests */

static void t_escape_every_ascii_byte(void)
{
	char in[128], out[256];
	size_t len;
	char *buf = NULL;
	size_t blen = 0;
	FILE *f;

	for (int i = 0; i < 128; i++)
		in[i] = (char)i;
	text_of(in, sizeof(in), out, sizeof(out), &len);
	CHECK_EQ_INT(len, 128);
	CHECK(memcmp(in, out, 128) == 0);
	/* the encoded form: no raw control byte, short escapes where JSON has them */
	f = open_memstream(&buf, &blen);
	kt_acast_put_text(f, in, sizeof(in));
	fclose(f);
	for (size_t i = 0; i < blen; i++)
		CHECK((unsigned char)buf[i] >= 0x20 && (unsigned char)buf[i] != 0x7f);
	CHECK(strstr(buf, "\\u0000\\u0001") == buf);
	CHECK(strstr(buf, "\\b\\t\\n\\u000b\\f\\r") != NULL);
	CHECK(strstr(buf, "\\u001b") != NULL);
	CHECK(strstr(buf, " !\\\"#") != NULL);
	CHECK(strstr(buf, "[\\\\]") != NULL);
	CHECK(strstr(buf, "~\\u007f") != NULL);
	free(buf);
}

static void t_nul(void)
{
	EXPECT_TEXT("\0a\0", "\0a\0");
}

static void t_valid_utf8_verbatim(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	static const char s[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbd \xc2\xa0";

	kt_acast_put_text(f, s, sizeof(s) - 1);
	fclose(f);
	/* not \u-escaped: the file stays readable and compact */
	CHECK_EQ_STR(buf, s);
	free(buf);
	/* C1 controls are valid UTF-8 but escaped (they act on terminals) */
	EXPECT_TEXT("a\xc2\x85z\xc2\x9b", "a\xc2\x85z\xc2\x9b");
	f = open_memstream(&buf, &len);
	kt_acast_put_text(f, "\xc2\x9b", 2);
	fclose(f);
	CHECK_EQ_STR(buf, "\\u009b");
	free(buf);
}

/* Expected values are Python's bytes.decode("utf-8", "replace"). */
static void t_invalid_utf8_like_python(void)
{
	EXPECT_TEXT("\xff", FFFD);
	EXPECT_TEXT("a\x80z", "a" FFFD "z");
	EXPECT_TEXT("\xc0\xaf", FFFD FFFD);                 /* overlong */
	EXPECT_TEXT("\xe0\x80\xaf", FFFD FFFD FFFD);        /* overlong */
	EXPECT_TEXT("\xed\xa0\x80", FFFD FFFD FFFD);        /* surrogate */
	EXPECT_TEXT("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD); /* > U+10FFFF */
	EXPECT_TEXT("\xf0\x90\x80" "A", FFFD "A");             /* cut 4-byte: one */
	EXPECT_TEXT("\xe2\x82" "A", FFFD "A");
	EXPECT_TEXT("\xe2\x82", FFFD);                      /* cut at the end */
	EXPECT_TEXT("\xf5\xf8\xfe", FFFD FFFD FFFD);
	EXPECT_TEXT("\xc3\xa9\xa9", "\xc3\xa9" FFFD);
}

static void t_split_across_frames(void)
{
	struct cap c;
	const char *d, *code;
	size_t len;

	cap_open(&c);
	/* a 3-byte char split 2+1, a 4-byte one split 1+2+1 */
	CHECK_EQ_INT(kt_acast_output(&c.w, T0 + 1, "price \xe2\x82", 8), 0);
	CHECK_EQ_INT(kt_acast_output(&c.w, T0 + 2, "\xac!", 2), 0);
	CHECK_EQ_INT(kt_acast_output(&c.w, T0 + 3, "\xf0", 1), 0);    /* nothing yet */
	CHECK_EQ_INT(kt_acast_output(&c.w, T0 + 4, "\x9f\x98", 2), 0); /* still nothing */
	CHECK_EQ_INT(kt_acast_output(&c.w, T0 + 5, "\x80", 1), 0);
	/* a held-back prefix that the next frame refutes: one U+FFFD */
	CHECK_EQ_INT(kt_acast_output(&c.w, T0 + 6, "\xe2\x82", 2), 0);
	CHECK_EQ_INT(kt_acast_output(&c.w, T0 + 7, "A", 1), 0);
	/* input has its own carry */
	CHECK_EQ_INT(kt_acast_output(&c.w, T0 + 8, "\xc3", 1), 0);
	CHECK_EQ_INT(kt_acast_input(&c.w, T0 + 9, "\xc3", 1), 0);
	CHECK_EQ_INT(kt_acast_input(&c.w, T0 + 10, "\xa8", 1), 0);
	CHECK_EQ_INT(kt_acast_output(&c.w, T0 + 11, "\xa9", 1), 0);
	/* left incomplete at the end: U+FFFD at finish */
	CHECK_EQ_INT(kt_acast_output(&c.w, T0 + 12, "end\xe2", 4), 0);
	cap_parse(&c, true);
	CHECK_EQ_INT(c.n, 8);
	d = ev(&c, 0, NULL, &code, &len);
	CHECK_EQ_STR(d, "price ");
	CHECK_EQ_STR(ev(&c, 1, NULL, NULL, NULL), "\xe2\x82\xac!");
	CHECK_EQ_STR(ev(&c, 2, NULL, NULL, NULL), "\xf0\x9f\x98\x80");
	CHECK_EQ_STR(ev(&c, 3, NULL, NULL, NULL), FFFD "A");
	CHECK_EQ_STR(ev(&c, 4, NULL, &code, NULL), "\xc3\xa8");
	CHECK_EQ_STR(code, "i");
	CHECK_EQ_STR(ev(&c, 5, NULL, &code, NULL), "\xc3\xa9");
	CHECK_EQ_STR(code, "o");
	CHECK_EQ_STR(ev(&c, 6, NULL, NULL, NULL), "end");
	CHECK_EQ_STR(ev(&c, 7, NULL, &code, NULL), FFFD);
	CHECK_EQ_STR(code, "o");
	/* the events carry the time of the frame that completed them */
	CHECK(strncmp(c.raw[2], "[0.000005, \"o\"", 14) == 0);
	cap_free(&c);
}

static void t_header(void)
{
	struct cap c;
	struct kt_acast_header h = { .width = 120, .height = 40, .timestamp = 1795000000,
				     .title = "ns/pod \"x\"/c #7", .term = "xterm-256color" };
	json_t *j;

	cap_open(&c);
	CHECK_EQ_INT(kt_acast_header(&c.w, &h), 0);
	h = (struct kt_acast_header){ .width = 80, .height = 24 };
	CHECK_EQ_INT(kt_acast_header(&c.w, &h), 0);
	h.shell = "/bin/sh";
	CHECK_EQ_INT(kt_acast_header(&c.w, &h), 0);
	cap_parse(&c, true);
	CHECK_EQ_INT(c.n, 3);
	j = c.lines[0];
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "version")), 2);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "width")), 120);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "height")), 40);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "timestamp")), 1795000000);
	CHECK_EQ_STR(json_string_value(json_object_get(j, "title")), "ns/pod \"x\"/c #7");
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(j, "env"), "TERM")),
		     "xterm-256color");
	CHECK(!json_object_get(json_object_get(j, "env"), "SHELL"));
	CHECK(strncmp(c.raw[0], "{\"version\": 2, \"width\": 120", 27) == 0);
	/* what is unknown is left out */
	CHECK_EQ_STR(c.raw[1], "{\"version\": 2, \"width\": 80, \"height\": 24}");
	CHECK_EQ_STR(c.raw[2], "{\"version\": 2, \"width\": 80, \"height\": 24, \"env\": {\"SHELL\": \"/bin/sh\"}}");
	cap_free(&c);
}

static void t_times_monotonic(void)
{
	struct cap c;
	double t[5];

	cap_open(&c);
	kt_acast_output(&c.w, T0 - 5 * S, "early", 5);       /* before the start: 0 */
	kt_acast_output(&c.w, T0 + 1 * S + 1, "a", 1);
	kt_acast_marker(&c.w, T0 + 1 * S, "$ late", 6);       /* earlier: clamped */
	kt_acast_resize(&c.w, T0 + 3723 * S + 456789, 100, 30);
	kt_acast_output(&c.w, T0 + 3723 * S + 456789, "", 0); /* empty: nothing */
	kt_acast_output(&c.w, T0 + 3723 * S + 456790, "b", 1);
	cap_parse(&c, true);
	CHECK_EQ_INT(c.n, 5);
	for (size_t i = 0; i < c.n; i++)
		CHECK(ev(&c, i, &t[i], NULL, NULL));
	CHECK(strncmp(c.raw[0], "[0.000000, \"o\", \"early\"]", 24) == 0);
	CHECK(strncmp(c.raw[1], "[1.000001, ", 11) == 0);
	CHECK_EQ_STR(c.raw[2], "[1.000001, \"m\", \"$ late\"]");
	CHECK_EQ_STR(c.raw[3], "[3723.456789, \"r\", \"100x30\"]");
	CHECK_EQ_STR(c.raw[4], "[3723.456790, \"o\", \"b\"]");
	for (size_t i = 1; i < c.n; i++)
		CHECK(t[i] >= t[i - 1]);
	CHECK_EQ_INT(c.w.events, 5);
	cap_free(&c);
}

static void t_gap(void)
{
	struct cap c;
	const char *d, *code;

	cap_open(&c);
	kt_acast_output(&c.w, T0 + 1, "ab\xe2\x82", 4);         /* held back ... */
	kt_acast_gap(&c.w, T0 + 2, 4096, true);                 /* ... never completed */
	kt_acast_output(&c.w, T0 + 3, "\xac" "cd", 3);          /* orphan continuation */
	kt_acast_gap(&c.w, T0 + 4, 0, false);
	cap_parse(&c, true);
	CHECK_EQ_INT(c.n, 7);
	CHECK_EQ_STR(ev(&c, 0, NULL, NULL, NULL), "ab");
	d = ev(&c, 1, NULL, &code, NULL);
	CHECK_EQ_STR(code, "m");
	CHECK_EQ_STR(d, "[kubetape: 4096 bytes lost here]");
	CHECK_EQ_STR(ev(&c, 2, NULL, &code, NULL), FFFD);
	CHECK_EQ_STR(code, "o");
	d = ev(&c, 3, NULL, &code, NULL);
	CHECK_EQ_STR(code, "o");
	CHECK_EQ_STR(d, "\r\n\x1b[7m[kubetape: 4096 bytes lost by the recorder here]\x1b[0m\r\n");
	CHECK_EQ_STR(ev(&c, 4, NULL, NULL, NULL), FFFD "cd");
	CHECK_EQ_STR(ev(&c, 5, NULL, NULL, NULL), "[kubetape: data (amount unknown) lost here]");
	CHECK(strstr(ev(&c, 6, NULL, NULL, NULL), "data (amount unknown) lost by the recorder") != NULL);
	cap_free(&c);
}

static void t_marker_bytes(void)
{
	struct cap c;
	static const char label[] = "$ printf '\x1b]0;x\x07' \xff";

	cap_open(&c);
	kt_acast_marker(&c.w, T0, label, sizeof(label) - 1);
	cap_parse(&c, true);
	CHECK_EQ_INT(c.n, 1);
	CHECK_EQ_STR(ev(&c, 0, NULL, NULL, NULL), "$ printf '\x1b]0;x\x07' " FFFD);
	CHECK(strchr(c.raw[0], '\x1b') == NULL);
	cap_free(&c);
}

/* Byte soup in random frame sizes: every line is JSON, and valid UTF-8
 * input comes back byte for byte when the "o" events are concatenated. */
static void t_random_roundtrip(void)
{
	static const char *const pieces[] = { "a", "\r\n", "\x1b[1;31m", "\xc3\xa9",
		"\xe2\x82\xac", "\xf0\x9f\x98\x80", "\"", "\\", "\0", "\x7f", "\xc2\x85", "\t" };
	uint8_t in[4096], got[8192];
	size_t n = 0, glen = 0, len;
	unsigned seed = 12345;
	struct cap c;
	const char *d, *code;

	while (n < sizeof(in) - 8) {
		const char *p;
		size_t l;

		seed = seed * 1103515245 + 12345;
		p = pieces[(seed >> 16) % 12];
		l = *p ? strlen(p) : 1;
		memcpy(in + n, p, l);
		n += l;
	}
	cap_open(&c);
	for (size_t off = 0; off < n;) {
		size_t l;

		seed = seed * 1103515245 + 12345;
		l = 1 + (seed >> 16) % 7;
		if (l > n - off)
			l = n - off;
		CHECK_EQ_INT(kt_acast_output(&c.w, T0 + (int64_t)off, in + off, l), 0);
		off += l;
	}
	fclose(c.f);
	c.f = NULL;
	/* lines are parsed one by one: many more than cap_parse keeps */
	for (char *p = c.buf, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		json_error_t e;
		json_t *j = json_loadb(p, (size_t)(nl - p), JSON_ALLOW_NUL, &e);

		c.lines[0] = j;
		c.n = 1;
		d = ev(&c, 0, NULL, &code, &len);
		CHECK(d && strcmp(code, "o") == 0);
		if (d && glen + len <= sizeof(got)) {
			memcpy(got + glen, d, len);
			glen += len;
		}
		json_decref(j);
		c.n = 0;
	}
	CHECK_EQ_INT(glen, n);
	CHECK(glen == n && memcmp(got, in, n) == 0);
	cap_free(&c);
}

static void t_write_error(void)
{
	FILE *f = fopen("/dev/full", "w");
	struct kt_acast w;
	char big[65536];

	if (!f) {
		CHECK(!"/dev/full");
		return;
	}
	memset(big, 'x', sizeof(big));
	kt_acast_init(&w, f, T0);
	kt_acast_output(&w, T0, big, sizeof(big));
	kt_acast_output(&w, T0, big, sizeof(big));
	CHECK_EQ_INT(kt_acast_finish(&w), -EIO);
	fclose(f);
}

static void t_progress_text(void)
{
	struct kt_progress p;
	char line[256];

	kt_progress_init(&p, "export", 1000 * 1024 * 1024, false);
	kt_progress_format(&p, 250 * 1024 * 1024, 10 * S, 100, line, sizeof(line));
	CHECK_EQ_STR(line, "export  [##########..............................]   25%  250M/1000M  25M/s  ETA 0:30");
	kt_progress_format(&p, 250 * 1024 * 1024, 10 * S, 60, line, sizeof(line));
	CHECK_EQ_STR(line, "export   25%  250M/1000M  25M/s  ETA 0:30");
	/* past the (estimated) total: no ETA, never 100% before the end */
	kt_progress_format(&p, 2000ULL * 1024 * 1024, 10 * S, 60, line, sizeof(line));
	CHECK(strstr(line, " 99%") != NULL && strstr(line, "ETA") == NULL);
}

int main(void)
{
	RUN(t_escape_every_ascii_byte);
	RUN(t_nul);
	RUN(t_valid_utf8_verbatim);
	RUN(t_invalid_utf8_like_python);
	RUN(t_split_across_frames);
	RUN(t_header);
	RUN(t_times_monotonic);
	RUN(t_gap);
	RUN(t_marker_bytes);
	RUN(t_random_roundtrip);
	RUN(t_write_error);
	RUN(t_progress_text);
	return kt_test_done();
}
