/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Query string and path validation.  Every endpoint names the parameters
 * it accepts; an unknown, repeated, over-long or malformed one is a 400
 * with a message saying which.  lws has already percent-decoded each
 * "name=value" fragment; values are then checked to be valid UTF-8 without
 * control characters (the store rejects invalid UTF-8 in searches too).
 */
#ifndef KUBETAPE_WEB_PARAMS_H
#define KUBETAPE_WEB_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lws;

#define WEB_Q_MAX_PARAMS 24
#define WEB_Q_MAX_VALUE 1024   /* the store's search limit */
#define WEB_Q_BUF 8192

struct web_query {
	int n;
	struct {
		const char *name, *val;
	} p[WEB_Q_MAX_PARAMS];
	char buf[WEB_Q_BUF];
	size_t used;
	char why[160];             /* the 400 message after a failure */
};

/* -EINVAL with q->why set: unknown/duplicate/too long/too many/bad UTF-8. */
int web_query_load(struct lws *wsi, struct web_query *q, const char *const *allowed);
/* NULL when absent. */
const char *web_query_get(const struct web_query *q, const char *name);

/* Each leaves *out untouched when absent; -EINVAL with q->why when malformed. */
int web_q_str(struct web_query *q, const char *name, size_t maxlen, const char **out);
int web_q_int(struct web_query *q, const char *name, int64_t min, int64_t max, int64_t *out);
/* "1"/"true" -> 1, "0"/"false" -> 0 */
int web_q_bool(struct web_query *q, const char *name, int *out);

/* Strict decimal id 1..2^53 (JSON-safe) from exactly [s, s+len). */
int web_parse_id(const char *s, size_t len, int64_t *out);
/* Well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool web_utf8_valid(const char *s, size_t len);

#endif
