// SPDX-License-Identifier: Apache-2.0
/* Human-readable values for the CLI (see humanfmt.h). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "humanfmt.h"
#include "store.h"

char *hf_bytes(uint64_t n, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(buf, len, "%lluB", (unsigned long long)n);
		return buf;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	/* one decimal below 10 like ls -h; the %.1f rounding can reach 10.0 */
	if (v < 9.95)
		snprintf(buf, len, "%.1f%c", v, units[u]);
	else
		snprintf(buf, len, "%.0f%c", v, units[u]);
	return buf;
}

char *hf_exit(bool has, int status, char *buf, size_t len)
{
	const char *name;

	if (!has) {
		snprintf(buf, len, "-");
	} else if (WIFEXITED(status)) {
		snprintf(buf, len, "%d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		name = sigabbrev_np(WTERMSIG(status));
		if (name)
			snprintf(buf, len, "SIG%s%s", name, WCOREDUMP(status) ? " (core)" : "");
		else
			snprintf(buf, len, "signal %d%s", WTERMSIG(status),
				 WCOREDUMP(status) ? " (core)" : "");
	} else {
		snprintf(buf, len, "status 0x%x", (unsigned)status);
	}
	return buf;
}

size_t hf_utf8_len(const unsigned char *s, size_t n)
{
	size_t need;
	unsigned cp;

	if (!n)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong, surrogates, beyond U+10FFFF */
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	/* C1 controls (U+0080-U+009F) act like ESC sequences on some terminals */
	if (cp < 0xa0)
		return 0;
	return need;
}

char *hf_sanitize(const char *str, size_t n, char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t o = 0, i = 0;
	char tmp[5];

	if (!len)
		return buf;
	while (i < n) {
		size_t l, tl;
		const char *src;

		/* printable ASCII (most of any table) is copied a run at a time */
		for (l = 0; i + l < n && s[i + l] >= 0x20 && s[i + l] < 0x7f; l++)
			;
		if (l) {
			if (o + l >= len)
				l = len - 1 - o;
			memcpy(buf + o, s + i, l);
			o += l;
			i += l;
			if (o + 1 >= len)
				break;
			continue;
		}
		l = hf_utf8_len(s + i, n - i);

		if (l == 1 && s[i] >= 0x20 && s[i] != 0x7f) {
			src = (const char *)s + i;
			tl = 1;
		} else if (l > 1) {
			src = (const char *)s + i;
			tl = l;
		} else {
			l = 1;
			if (s[i] == '\n')
				memcpy(tmp, "\\n", tl = 2);
			else if (s[i] == '\t')
				memcpy(tmp, "\\t", tl = 2);
			else if (s[i] == '\r')
				memcpy(tmp, "\\r", tl = 2);
			else
				tl = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", s[i]);
			src = tmp;
		}
		if (o + tl >= len)
			break;
		memcpy(buf + o, src, tl);
		o += tl;
		i += l;
	}
	buf[o] = 0;
	return buf;
}

size_t hf_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}
