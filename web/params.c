// SPDX-License-Identifier: Apache-2.0
/* Query and path validation (see params.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libwebsockets.h>

#include "params.h"

bool web_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned c = *p, n;
		uint32_t cp;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if ((size_t)(end - p) <= n)
			return false;
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

__attribute__((format(printf, 2, 0)))
static int bad(struct web_query *q, const char *fmt, const char *name)
{
	char safe[40];
	size_t i;

	/* echo only a short, printable-ASCII version of the name */
	for (i = 0; name[i] && i < sizeof(safe) - 1; i++)
		safe[i] = (name[i] >= 0x20 && name[i] < 0x7f && name[i] != '"') ? name[i] : '?';
	safe[i] = 0;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	/* fmt is always one of this file's literals with one %s */
	snprintf(q->why, sizeof(q->why), fmt, safe);
#pragma GCC diagnostic pop
	return -EINVAL;
}

int web_query_load(struct lws *wsi, struct web_query *q, const char *const *allowed)
{
	q->n = 0;
	q->used = 0;
	q->why[0] = 0;
	for (int idx = 0;; idx++) {
		int flen = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, idx);
		char *frag, *eq;
		bool known = false;

		if (flen <= 0)
			break;
		if (q->n == WEB_Q_MAX_PARAMS)
			return bad(q, "too many query parameters%s", "");
		if (flen > WEB_Q_MAX_VALUE + 32 || q->used + (size_t)flen + 1 > sizeof(q->buf))
			return bad(q, "query parameter too long%s", "");
		frag = q->buf + q->used;
		if (lws_hdr_copy_fragment(wsi, frag, flen + 1, WSI_TOKEN_HTTP_URI_ARGS, idx) < 0)
			return bad(q, "unreadable query parameter%s", "");
		q->used += (size_t)flen + 1;
		/* a NUL decoded from %00 shortens the string: refuse it */
		if (strlen(frag) != (size_t)flen)
			return bad(q, "NUL byte in query parameter%s", "");
		eq = strchr(frag, '=');
		if (!eq)
			return bad(q, "query parameter '%s' has no value", frag);
		*eq = 0;
		for (const char *const *a = allowed; a && *a; a++)
			known |= strcmp(*a, frag) == 0;
		if (!known)
			return bad(q, "unknown query parameter '%s'", frag);
		if (web_query_get(q, frag))
			return bad(q, "query parameter '%s' given twice", frag);
		if (strlen(eq + 1) > WEB_Q_MAX_VALUE)
			return bad(q, "query parameter '%s' is too long", frag);
		if (!web_utf8_valid(eq + 1, strlen(eq + 1)) || has_control(eq + 1))
			return bad(q, "query parameter '%s' is not valid UTF-8 text", frag);
		q->p[q->n].name = frag;
		q->p[q->n].val = eq + 1;
		q->n++;
	}
	return 0;
}

const char *web_query_get(const struct web_query *q, const char *name)
{
	for (int i = 0; i < q->n; i++)
		if (strcmp(q->p[i].name, name) == 0)
			return q->p[i].val;
	return NULL;
}

int web_q_str(struct web_query *q, const char *name, size_t maxlen, const char **out)
{
	const char *v = web_query_get(q, name);

	if (!v)
		return 0;
	if (strlen(v) > maxlen)
		return bad(q, "query parameter '%s' is too long", name);
	*out = v;
	return 0;
}

int web_q_int(struct web_query *q, const char *name, int64_t min, int64_t max, int64_t *out)
{
	const char *v = web_query_get(q, name), *p;
	int64_t n = 0;
	bool neg = false;

	if (!v)
		return 0;
	p = v;
	if (*p == '-') {
		neg = true;
		p++;
	}
	if (!*p || strlen(p) > 18)
		return bad(q, "query parameter '%s' must be an integer in range", name);
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return bad(q, "query parameter '%s' must be an integer in range", name);
		n = n * 10 + (*p - '0');
	}
	if (neg)
		n = -n;
	if (n < min || n > max)
		return bad(q, "query parameter '%s' must be an integer in range", name);
	*out = n;
	return 0;
}

int web_q_bool(struct web_query *q, const char *name, int *out)
{
	const char *v = web_query_get(q, name);

	if (!v)
		return 0;
	if (!strcmp(v, "1") || !strcmp(v, "true"))
		*out = 1;
	else if (!strcmp(v, "0") || !strcmp(v, "false"))
		*out = 0;
	else
		return bad(q, "query parameter '%s' must be 0/1 or true/false", name);
	return 0;
}

int web_parse_id(const char *s, size_t len, int64_t *out)
{
	int64_t n = 0;

	if (len == 0 || len > 16 || s[0] == '0')
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		n = n * 10 + (s[i] - '0');
	}
	if (n > (INT64_C(1) << 53))
		return -EINVAL;
	*out = n;
	return 0;
}
