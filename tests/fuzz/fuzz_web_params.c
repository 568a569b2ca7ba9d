// SPDX-License-Identifier: Apache-2.0
/*
 * kubetape-web's request parameters (web/params.c) on arbitrary query
 * strings, with the parameter lists and ranges of the real endpoints
 * (web/api.c, web/stream.c), and a search text through the store's query
 * planner (kt_search_plan_make, what /api/search hands it to).
 *
 * lws is not run here: web_query_load reads lws's parsed URI arguments
 * through lws_hdr_fragment_length/lws_hdr_copy_fragment, and this harness
 * defines those two to serve the input's '&'-separated fragments the way
 * lws does (already percent-decoded, so any byte, NUL included, can be in
 * them).  The router (http.c route/route_api/session_path) takes a struct
 * lws and is static: not reachable without a server; the session path's
 * id parser (web_parse_id) is fuzzed here on the path segment instead.
 *
 * Input: byte 0 picks the endpoint (sessions, commands, stream, export,
 * search, a path id), the rest is the query string (or the path segment).
 * Properties, abort() otherwise: each call returns 0 or -EINVAL (with a
 * printable NUL-terminated reason); accepted values are valid UTF-8 without
 * control characters, within their length and integer ranges; an accepted
 * id is 1..2^53 and equals the decimal it came from.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "params.h"
#include "store.h"
#include "store_int.h"

static const uint8_t *g_q;
static size_t g_qlen;

/* fragment idx of the query: [start, end) */
static bool frag(int idx, size_t *start, size_t *end)
{
	size_t s = 0;

	for (int i = 0;; i++) {
		const uint8_t *amp = memchr(g_q + s, '&', g_qlen - s);
		size_t e = amp ? (size_t)(amp - g_q) : g_qlen;

		if (i == idx) {
			*start = s;
			*end = e;
			return s < g_qlen || (idx == 0 && g_qlen);
		}
		if (!amp)
			return false;
		s = e + 1;
	}
}

int lws_hdr_fragment_length(struct lws *wsi, enum lws_token_indexes h, int frag_idx)
{
	size_t s, e;

	if (h != WSI_TOKEN_HTTP_URI_ARGS || !frag(frag_idx, &s, &e))
		return 0;
	return (int)(e - s);
}

int lws_hdr_copy_fragment(struct lws *wsi, char *dest, int len, enum lws_token_indexes h,
			  int frag_idx)
{
	size_t s, e;

	if (h != WSI_TOKEN_HTTP_URI_ARGS || !frag(frag_idx, &s, &e))
		return -1;
	if (e - s + 1 > (size_t)len)
		return -1;
	memcpy(dest, g_q + s, e - s);
	dest[e - s] = 0;
	return (int)(e - s);
}

static void check_why(const struct web_query *q)
{
	size_t n = strnlen(q->why, sizeof(q->why));

	if (!n || n == sizeof(q->why))
		abort();
	for (size_t i = 0; i < n; i++)
		if ((uint8_t)q->why[i] < 0x20)
			abort();
}

static void check_str(struct web_query *q, const char *name, size_t max)
{
	const char *v = NULL;
	int r = web_q_str(q, name, max, &v);

	if (r && r != -EINVAL)
		abort();
	if (r) {
		check_why(q);
		return;
	}
	if (v && (strlen(v) > max || !web_utf8_valid(v, strlen(v))))
		abort();
	for (const char *p = v; p && *p; p++)
		if ((uint8_t)*p < 0x20 || *p == 0x7f)
			abort();
}

static void check_int(struct web_query *q, const char *name, int64_t min, int64_t max)
{
	int64_t v = INT64_MIN;
	int r = web_q_int(q, name, min, max, &v);

	if (r && r != -EINVAL)
		abort();
	if (r)
		check_why(q);
	else if (v != INT64_MIN && (v < min || v > max || strtoll(web_query_get(q, name), NULL, 10) != v))
		abort();
}

static void check_bool(struct web_query *q, const char *name)
{
	int v = -1, r = web_q_bool(q, name, &v);

	if (r && r != -EINVAL)
		abort();
	if (r)
		check_why(q);
	else if (v != -1 && v != 0 && v != 1)
		abort();
}

static void filter(struct web_query *q)
{
	static const char *const names[] = { "namespace", "pod", "container", "node" };

	for (size_t i = 0; i < 4; i++)
		check_str(q, names[i], 253);
	check_int(q, "since", 0, INT64_MAX / 2);
	check_int(q, "until", 0, INT64_MAX / 2);
	check_bool(q, "active");
	check_bool(q, "tty");
}

static void search_text(struct web_query *q)
{
	const char *text = NULL;
	struct kt_search_plan plan;
	int r;

	/* an empty text is refused (and logged) by the planner: skip it */
	if (web_q_str(q, "q", WEB_Q_MAX_VALUE, &text) || !text || !*text)
		return;
	memset(&plan, 0, sizeof(plan));
	r = kt_search_plan_make(text, &plan);
	if (r && r != -EINVAL && r != -ENOMEM)
		abort();
	if (!r) {
		for (int i = 0; i < plan.nlike; i++)
			if (!plan.like[i] || plan.like[i][0] != '%')
				abort();
		kt_search_plan_free(&plan);
	}
}

static const char *const allowed_sessions[] = { "namespace", "pod", "container", "node",
	"since", "until", "active", "tty", "limit", "after", NULL };
static const char *const allowed_commands[] = { "limit", "after", NULL };
static const char *const allowed_stream[] = { "from", "input", NULL };
static const char *const allowed_export[] = { "input", NULL };
static const char *const allowed_search[] = { "q", "in", "namespace", "pod", "container",
	"node", "since", "until", "active", "tty", "limit", "after", NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct web_query q;
	const char *const *allowed;
	int which, r;

	if (size < 1)
		return 0;
	which = data[0] % 6;
	g_q = data + 1;
	g_qlen = size - 1;
	if (which == 5) {
		int64_t id = -1;
		char dec[32];

		r = web_parse_id((const char *)g_q, g_qlen, &id);
		if (r && r != -EINVAL)
			abort();
		if (!r) {
			if (id < 1 || id > (INT64_C(1) << 53) || g_qlen >= sizeof(dec))
				abort();
			memcpy(dec, g_q, g_qlen);
			dec[g_qlen] = 0;
			if (strtoll(dec, NULL, 10) != id)
				abort();
		}
		return 0;
	}
	allowed = (const char *const *[]){ allowed_sessions, allowed_commands, allowed_stream,
					    allowed_export, allowed_search }[which];
	r = web_query_load(NULL, &q, allowed);
	if (r && r != -EINVAL)
		abort();
	if (r) {
		check_why(&q);
		return 0;
	}
	if (q.n < 0 || q.n > WEB_Q_MAX_PARAMS || q.used > sizeof(q.buf))
		abort();
	for (int i = 0; i < q.n; i++) {
		bool known = false;

		for (const char *const *a = allowed; *a; a++)
			known |= !strcmp(*a, q.p[i].name);
		if (!known || strlen(q.p[i].val) > WEB_Q_MAX_VALUE)
			abort();
		for (int k = 0; k < i; k++)
			if (!strcmp(q.p[k].name, q.p[i].name))
				abort();
	}
	switch (which) {
	case 0:
		filter(&q);
		check_int(&q, "limit", 1, 1000);
		check_int(&q, "after", 1, INT64_C(1) << 53);
		break;
	case 1:
		check_int(&q, "limit", 1, 10000);
		check_int(&q, "after", -1, INT32_MAX);
		break;
	case 2:
	case 3:
		check_int(&q, "from", 0, INT64_C(1) << 53);
		check_bool(&q, "input");
		break;
	case 4:
		filter(&q);
		check_str(&q, "in", 16);
		check_int(&q, "limit", 1, 1000);
		check_int(&q, "after", 1, INT64_C(1) << 53);
		search_text(&q);
		break;
	}
	return 0;
}
