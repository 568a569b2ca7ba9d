// SPDX-License-Identifier: Apache-2.0
/* Shell quoting of recorded argv (see shquote.h). */
#include <string.h>

#include "humanfmt.h"
#include "shquote.h"

static int is_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("_@%+=:,./-", c);
}

/* printable = no control bytes, valid UTF-8 without C1 controls */
static int is_printable(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t l = hf_utf8_len(s + i, n - i);

		if (!l || (l == 1 && (s[i] < 0x20 || s[i] == 0x7f)))
			return 0;
		i += l;
	}
	return 1;
}

size_t shq_word(FILE *out, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i, w = 0;
	int safe = n > 0;

	for (i = 0; i < n && safe; i++)
		safe = s[i] && is_safe(s[i]);
	/* zsh expands a leading '=' (=cmd is the path of cmd) */
	if (safe && s[0] != '=')
		return fwrite(s, 1, n, out);

	if (is_printable(s, n)) {
		w += (size_t)fprintf(out, "'");
		for (i = 0; i < n; i++) {
			if (s[i] == '\'')
				w += (size_t)fprintf(out, "'\\''");
			else
				w += fwrite(s + i, 1, 1, out);
		}
		return w + (size_t)fprintf(out, "'");
	}

	w += (size_t)fprintf(out, "$'");
	for (i = 0; i < n;) {
		size_t l = hf_utf8_len(s + i, n - i);

		if (l > 1) {
			w += fwrite(s + i, 1, l, out);
			i += l;
			continue;
		}
		switch (s[i]) {
		case '\n': w += (size_t)fprintf(out, "\\n"); break;
		case '\t': w += (size_t)fprintf(out, "\\t"); break;
		case '\r': w += (size_t)fprintf(out, "\\r"); break;
		case '\\': w += (size_t)fprintf(out, "\\\\"); break;
		case '\'': w += (size_t)fprintf(out, "\\'"); break;
		default:
			if (l == 1 && s[i] >= 0x20 && s[i] != 0x7f)
				w += fwrite(s + i, 1, 1, out);
			else
				w += (size_t)fprintf(out, "\\x%02x", s[i]);
		}
		i++;
	}
	return w + (size_t)fprintf(out, "'");
}

size_t shq_argv(FILE *out, const char *argv, size_t len)
{
	size_t w = 0, i = 0;
	int first = 1;

	/* a trailing NUL ends the last word; it does not start an empty one */
	if (len && argv[len - 1] == 0)
		len--;
	while (i <= len && len) {
		const char *p = argv + i;
		const char *e = memchr(p, 0, len - i);
		size_t n = e ? (size_t)(e - p) : len - i;

		if (!first)
			w += fwrite(" ", 1, 1, out);
		first = 0;
		w += shq_word(out, p, n);
		i += n + 1;
	}
	return w;
}
