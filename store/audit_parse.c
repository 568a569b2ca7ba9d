// SPDX-License-Identifier: Apache-2.0
/*
 * audit.k8s.io/v1 Events (JSON) -> struct kt_audit_event.  Pure: no
 * database.  The input comes from the network (the webhook) and from files
 * written by other programs, so everything is checked: types, lengths,
 * timestamps, the requestURI's encoding.  A value longer than its field is
 * an error, not a truncation, for everything the join or a search compares
 * (names, ids): a clipped username could name someone else.  The user agent
 * is informational and clipped at a UTF-8 boundary.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "audit.h"
#include "store_int.h"

static int fail(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ---- RFC 3339 ----------------------------------------------------------- */

static int digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant) */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int kt_audit_parse_time(const char *s, int64_t *us)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	int64_t frac = 0, t;
	const char *p;

	if (!s || strlen(s) < 20)
		return -EINVAL;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &sec))
		return -EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	p = s + 19;
	if (*p == '.') {
		int n = 0;

		for (p++; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 6)
				frac = frac * 10 + (*p - '0');
		if (!n || n > 9)
			return -EINVAL;
		for (; n < 6; n++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return -EINVAL;
		if (*p == '-') {
			oh = -oh;
			om = -om;
		}
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + (sec > 59 ? 59 : sec);
	t -= oh * 3600 + om * 60;
	*us = t * 1000000 + frac;
	return 0;
}

/* ---- requestURI ----------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Query-unescape [s, s+n) into out (room for n + 1); '+' is a space (Go's
 * url.QueryUnescape, which kubectl's url.Values encoding pairs with).  A
 * decoded NUL is refused: argv is stored NUL-separated. */
static int unescape(const char *s, size_t n, bool plus, char *out, size_t *olen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -EINVAL;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (c == '\0')
			return -EINVAL;
		out[o++] = c;
	}
	out[o] = '\0';
	*olen = o;
	return 0;
}

static int parse_bool(const char *v, bool *b)
{
	if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "True") || !strcmp(v, "TRUE"))
		*b = true;
	else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "False") || !strcmp(v, "FALSE") || !*v)
		*b = false;
	else
		return -EINVAL;
	return 0;
}

/* Copy a path segment or value into a fixed field; too long is an error. */
static int put_field(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return -ENAMETOOLONG;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

int kt_audit_parse_uri(const char *uri, struct kt_audit_request *r)
{
	static const char pfx[] = "/api/v1/namespaces/";
	const char *p, *q, *seg[4];
	size_t seglen[4];
	char *buf = NULL;
	size_t ulen, dlen;
	int err = -EINVAL;

	if (!uri || strncmp(uri, pfx, sizeof(pfx) - 1))
		return -EINVAL;
	ulen = strlen(uri);
	buf = malloc(ulen + 1);
	if (!buf)
		return -ENOMEM;
	p = uri + sizeof(pfx) - 1;
	q = strchr(p, '?');
	if (!q)
		q = uri + ulen;
	/* NS / pods / POD / exec|attach */
	for (int i = 0; i < 4; i++) {
		const char *e = memchr(p, '/', (size_t)(q - p));

		if (!e)
			e = q;
		if (e == p || (i < 3 && e == q))
			goto out;
		seg[i] = p;
		seglen[i] = (size_t)(e - p);
		p = e == q ? q : e + 1;
	}
	if (p != q || seglen[1] != 4 || memcmp(seg[1], "pods", 4))
		goto out;
	if (!(seglen[3] == 4 && !memcmp(seg[3], "exec", 4)) &&
	    !(seglen[3] == 6 && !memcmp(seg[3], "attach", 6)))
		goto out;
	if (unescape(seg[0], seglen[0], false, buf, &dlen) || put_field(r->k8s_namespace, sizeof(r->k8s_namespace), buf, dlen))
		goto out;
	if (unescape(seg[2], seglen[2], false, buf, &dlen) || put_field(r->pod, sizeof(r->pod), buf, dlen))
		goto out;
	put_field(r->subresource, sizeof(r->subresource), seg[3], seglen[3]);

	r->argv_len = 0;
	r->argc = 0;
	r->argv_truncated = false;
	for (p = *q ? q + 1 : q; *p;) {
		const char *amp = strchr(p, '&'), *eq;
		size_t n = amp ? (size_t)(amp - p) : strlen(p), klen;
		char key[16];

		eq = memchr(p, '=', n);
		klen = eq ? (size_t)(eq - p) : n;
		if (klen && klen < sizeof(key) && !unescape(p, klen, true, key, &dlen)) {
			const char *v = eq ? eq + 1 : p + n;
			size_t vlen = eq ? n - klen - 1 : 0;

			if (unescape(v, vlen, true, buf, &dlen))
				goto out;
			if (!strcmp(key, "command")) {
				if (r->argv_len + dlen + 1 > sizeof(r->argv)) {
					r->argv_truncated = true;
				} else {
					memcpy(r->argv + r->argv_len, buf, dlen + 1);
					r->argv_len += dlen + 1;
				}
				r->argc++;
			} else if (!strcmp(key, "container")) {
				if (put_field(r->container, sizeof(r->container), buf, dlen))
					goto out;
			} else if (!strcmp(key, "tty")) {
				if (parse_bool(buf, &r->tty))
					goto out;
			} else if (!strcmp(key, "stdin")) {
				if (parse_bool(buf, &r->stdin_))
					goto out;
			} else if (!strcmp(key, "stdout")) {
				if (parse_bool(buf, &r->stdout_))
					goto out;
			} else if (!strcmp(key, "stderr")) {
				if (parse_bool(buf, &r->stderr_))
					goto out;
			}
		} else if (klen >= sizeof(key)) {
			/* unknown long key: ignored like other unknown parameters */
		} else if (klen) {
			goto out;
		}
		p += n;
		if (*p == '&')
			p++;
	}
	err = 0;
out:
	free(buf);
	return err;
}

/* ---- Event -------------------------------------------------------------- */

/* Optional string member: absent/null -> "", wrong type -> error. */
static int get_str(const json_t *o, const char *key, const char **v)
{
	json_t *j = json_object_get(o, key);

	*v = "";
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_string(j))
		return -EINVAL;
	*v = json_string_value(j);
	return 0;
}

/* A JSON array of strings -> its compact JSON text (validated). */
static int get_list(const json_t *o, const char *key, char *dst, size_t cap, char *why, size_t wl,
		    const char *ctx)
{
	json_t *j = json_object_get(o, key);
	size_t i;
	json_t *v;
	char *s;

	snprintf(dst, cap, "[]");
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_array(j))
		return fail(why, wl, "%s%s is not an array", ctx, key);
	json_array_foreach(j, i, v)
		if (!json_is_string(v))
			return fail(why, wl, "%s%s[%zu] is not a string", ctx, key, i);
	s = json_dumps(j, JSON_COMPACT);
	if (!s)
		return -ENOMEM;
	if (strlen(s) >= cap) {
		free(s);
		return fail(why, wl, "%s%s longer than %zu bytes", ctx, key, cap - 1);
	}
	strcpy(dst, s);
	free(s);
	return 0;
}

#define STR(o, key, field, ctx) do { \
	const char *_v; \
	if (get_str(o, key, &_v)) \
		return fail(why, wl, "%s%s is not a string", ctx, key); \
	if (put_field(field, sizeof(field), _v, strlen(_v))) \
		return fail(why, wl, "%s%s longer than %zu bytes", ctx, key, sizeof(field) - 1); \
} while (0)

static int parse_user(const json_t *u, char *name, size_t ncap, char *uid, size_t ucap,
		      char *groups, size_t gcap, const char *ctx, char *why, size_t wl)
{
	const char *v;
	int err;

	if (!json_is_object(u))
		return fail(why, wl, "%s is not an object", ctx);
	if (get_str(u, "username", &v))
		return fail(why, wl, "%s.username is not a string", ctx);
	if (put_field(name, ncap, v, strlen(v)))
		return fail(why, wl, "%s.username longer than %zu bytes", ctx, ncap - 1);
	if (uid) {
		if (get_str(u, "uid", &v))
			return fail(why, wl, "%s.uid is not a string", ctx);
		if (put_field(uid, ucap, v, strlen(v)))
			return fail(why, wl, "%s.uid longer than %zu bytes", ctx, ucap - 1);
	}
	{
		char c[32];

		snprintf(c, sizeof(c), "%s.", ctx);
		err = get_list(u, "groups", groups, gcap, why, wl, c);
	}
	return err;
}

static int parse_stage(const char *s, enum kt_audit_stage *st)
{
	if (!strcmp(s, "RequestReceived"))
		*st = KT_STAGE_REQUEST_RECEIVED;
	else if (!strcmp(s, "ResponseStarted"))
		*st = KT_STAGE_RESPONSE_STARTED;
	else if (!strcmp(s, "ResponseComplete"))
		*st = KT_STAGE_RESPONSE_COMPLETE;
	else if (!strcmp(s, "Panic"))
		*st = KT_STAGE_PANIC;
	else
		return -EINVAL;
	return 0;
}

static int get_time(const json_t *o, const char *key, int64_t *us, char *why, size_t wl)
{
	const char *v;

	if (get_str(o, key, &v) || !*v)
		return fail(why, wl, "%s missing or not a string", key);
	if (kt_audit_parse_time(v, us))
		return fail(why, wl, "%s '%.40s' is not an RFC 3339 time", key, v);
	return 0;
}

int kt_audit_event_from_json(const json_t *o, struct kt_audit_event *ev, char *why, size_t wl)
{
	struct kt_audit_request *r = &ev->r;
	const char *v, *res, *sub, *grp, *ns, *name, *uri;
	json_t *j, *ref, *ann;
	int64_t received;

	memset(ev, 0, sizeof(*ev));
	if (!json_is_object(o))
		return fail(why, wl, "an Event must be a JSON object");
	if (get_str(o, "kind", &v) || (*v && strcmp(v, "Event")))
		return fail(why, wl, "kind is not \"Event\"");
	if (get_str(o, "apiVersion", &v) || (*v && strcmp(v, "audit.k8s.io/v1")))
		return fail(why, wl, "apiVersion is not \"audit.k8s.io/v1\"");
	if (get_str(o, "auditID", &v) || !*v)
		return fail(why, wl, "auditID missing or not a string");
	if (put_field(r->audit_id, sizeof(r->audit_id), v, strlen(v)))
		return fail(why, wl, "auditID longer than %zu bytes", sizeof(r->audit_id) - 1);
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x21 || *p == 0x7f)
			return fail(why, wl, "auditID holds a space or control character");
	if (get_str(o, "stage", &v) || parse_stage(v, &ev->stage))
		return fail(why, wl, "stage missing or not one of RequestReceived, ResponseStarted, ResponseComplete, Panic");
	if (get_str(o, "verb", &v) || !*v)
		return fail(why, wl, "verb missing or not a string");
	if (put_field(r->verb, sizeof(r->verb), v, strlen(v)))
		return fail(why, wl, "verb longer than %zu bytes", sizeof(r->verb) - 1);
	if (get_time(o, "requestReceivedTimestamp", &received, why, wl) ||
	    get_time(o, "stageTimestamp", &ev->stage_us, why, wl))
		return -EINVAL;
	j = json_object_get(o, "user");
	if (!j)
		return fail(why, wl, "user missing");
	if (parse_user(j, r->username, sizeof(r->username), r->user_uid, sizeof(r->user_uid),
		       r->groups, sizeof(r->groups), "user", why, wl))
		return -EINVAL;
	j = json_object_get(o, "impersonatedUser");
	if (j && !json_is_null(j)) {
		if (parse_user(j, r->impersonated_user, sizeof(r->impersonated_user), NULL, 0,
			       r->impersonated_groups, sizeof(r->impersonated_groups),
			       "impersonatedUser", why, wl))
			return -EINVAL;
	} else {
		strcpy(r->impersonated_groups, "[]");
	}
	if (get_list(o, "sourceIPs", r->source_ips, sizeof(r->source_ips), why, wl, ""))
		return -EINVAL;
	if (get_str(o, "userAgent", &v))
		return fail(why, wl, "userAgent is not a string");
	kt_strlcpy(r->user_agent, v, sizeof(r->user_agent));
	/* clipped: do not leave half a UTF-8 character */
	for (size_t n = strlen(r->user_agent); n && ((unsigned char)r->user_agent[n - 1] & 0x80); n--) {
		if (kt_utf8_valid(r->user_agent, n))
			break;
		r->user_agent[n - 1] = '\0';
	}
	if (get_str(o, "requestURI", &uri) || !*uri)
		return fail(why, wl, "requestURI missing or not a string");

	ref = json_object_get(o, "objectRef");
	if (ref && !json_is_null(ref) && !json_is_object(ref))
		return fail(why, wl, "objectRef is not an object");
	if (!ref || json_is_null(ref))
		return 1;
	if (get_str(ref, "resource", &res) || get_str(ref, "subresource", &sub) ||
	    get_str(ref, "apiGroup", &grp) || get_str(ref, "namespace", &ns) ||
	    get_str(ref, "name", &name))
		return fail(why, wl, "objectRef has a member that is not a string");
	if (strcmp(res, "pods") || *grp || (strcmp(sub, "exec") && strcmp(sub, "attach")))
		return 1; /* not ours: well-formed, skipped */

	j = json_object_get(o, "responseStatus");
	if (j && !json_is_null(j)) {
		json_t *c;

		if (!json_is_object(j))
			return fail(why, wl, "responseStatus is not an object");
		c = json_object_get(j, "code");
		if (c && !json_is_null(c)) {
			if (!json_is_integer(c) || json_integer_value(c) < 0 || json_integer_value(c) > 999)
				return fail(why, wl, "responseStatus.code is not an HTTP status");
			r->code = (int)json_integer_value(c);
		}
	}
	ann = json_object_get(o, "annotations");
	if (ann && !json_is_null(ann)) {
		if (!json_is_object(ann))
			return fail(why, wl, "annotations is not an object");
		if (get_str(ann, "authorization.k8s.io/decision", &v))
			return fail(why, wl, "annotations[authorization.k8s.io/decision] is not a string");
		kt_strlcpy(r->decision, v, sizeof(r->decision));
		if (get_str(ann, "authorization.k8s.io/reason", &v))
			return fail(why, wl, "annotations[authorization.k8s.io/reason] is not a string");
		kt_strlcpy(r->reason, v, sizeof(r->reason));
		if (get_str(ann, KT_AUDIT_EXEC_ID_ANNOTATION, &v))
			return fail(why, wl, "annotations[" KT_AUDIT_EXEC_ID_ANNOTATION "] is not a string");
		if (*v && !kt_exec_id_valid(v, strlen(v)))
			return fail(why, wl, "annotations[" KT_AUDIT_EXEC_ID_ANNOTATION "] is not a valid exec id");
		kt_strlcpy(r->exec_id, v, sizeof(r->exec_id));
	}

	if (kt_audit_parse_uri(uri, r))
		return fail(why, wl, "requestURI '%.80s' is not a pods/exec or pods/attach URI", uri);
	if (strcmp(r->subresource, sub) || (*ns && strcmp(r->k8s_namespace, ns)) ||
	    (*name && strcmp(r->pod, name)))
		return fail(why, wl, "requestURI and objectRef name different pods or subresources");
	r->received_us = received;
	r->stages = ev->stage;
	if (ev->stage == KT_STAGE_RESPONSE_STARTED)
		r->started_us = ev->stage_us;
	else if (ev->stage == KT_STAGE_RESPONSE_COMPLETE || ev->stage == KT_STAGE_PANIC)
		r->completed_us = ev->stage_us;
	return 0;
}

/* ---- documents and JSON lines -------------------------------------------- */

/* One parsed JSON value: an Event or an EventList.  Returns 0 or -EINVAL. */
static int one_value(const json_t *v, const char *where, kt_audit_event_cb cb, void *ctx,
		     uint64_t *n_events, uint64_t *n_skipped, char *why, size_t wl)
{
	struct kt_audit_event *ev;
	const char *kind = "";
	char sub[512];
	json_t *items, *it;
	size_t i;
	int err = 0;

	if (json_is_object(v) && get_str(v, "kind", &kind))
		return fail(why, wl, "%skind is not a string", where);
	ev = malloc(sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	if (!strcmp(kind, "EventList")) {
		const char *api;

		if (get_str(v, "apiVersion", &api) || (*api && strcmp(api, "audit.k8s.io/v1"))) {
			err = fail(why, wl, "%sapiVersion is not \"audit.k8s.io/v1\"", where);
			goto out;
		}
		items = json_object_get(v, "items");
		if (!json_is_array(items) && !json_is_null(items) && items) {
			err = fail(why, wl, "%sitems is not an array", where);
			goto out;
		}
		json_array_foreach(items, i, it) {
			err = kt_audit_event_from_json(it, ev, sub, sizeof(sub));
			if (err < 0) {
				fail(why, wl, "%sitems[%zu]: %s", where, i, sub);
				goto out;
			}
			(*n_events)++;
			if (err == 1) {
				(*n_skipped)++;
				err = 0;
				continue;
			}
			if (cb && (err = cb(ev, ctx)) < 0)
				goto out;
		}
		goto out;
	}
	err = kt_audit_event_from_json(v, ev, sub, sizeof(sub));
	if (err < 0) {
		fail(why, wl, "%s%s", where, sub);
		goto out;
	}
	(*n_events)++;
	if (err == 1) {
		(*n_skipped)++;
		err = 0;
	} else if (cb) {
		err = cb(ev, ctx);
	}
out:
	free(ev);
	return err < 0 ? err : 0;
}

static int parse_pass(const char *buf, size_t len, bool partial, kt_audit_event_cb cb, void *ctx,
		      uint64_t *n_events, uint64_t *n_skipped, char *why, size_t wl)
{
	json_error_t jerr;
	json_t *v;
	size_t off = 0, lineno = 0;
	int err, first_err = 0;

	/* one document (Event or EventList, possibly pretty-printed)? */
	v = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &jerr);
	if (v) {
		size_t used = (size_t)jerr.position;
		bool rest_blank = true;

		for (size_t i = used; i < len && rest_blank; i++)
			rest_blank = buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t';
		if (rest_blank) {
			err = one_value(v, "", cb, ctx, n_events, n_skipped, why, wl);
			json_decref(v);
			return err;
		}
		json_decref(v);
	}
	/* JSON lines */
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;
		char where[40], sub[512];
		bool blank = true;

		lineno++;
		for (size_t i = 0; i < n && blank; i++)
			blank = buf[off + i] == ' ' || buf[off + i] == '\r' || buf[off + i] == '\t';
		if (!blank) {
			snprintf(where, sizeof(where), "line %zu: ", lineno);
			if (n > KT_AUDIT_EVENT_MAX) {
				err = fail(sub, sizeof(sub), "%sover %u bytes", where, KT_AUDIT_EVENT_MAX);
			} else {
				v = json_loadb(buf + off, n, JSON_REJECT_DUPLICATES, &jerr);
				if (!v) {
					err = fail(sub, sizeof(sub), "%snot JSON: %s (column %d)", where,
						   jerr.text, jerr.column);
				} else {
					err = one_value(v, where, cb, ctx, n_events, n_skipped, sub, sizeof(sub));
					json_decref(v);
				}
			}
			if (err == -EINVAL) {
				if (!first_err) {
					first_err = err;
					kt_strlcpy(why, sub, wl);
				}
				if (!partial)
					return err;
			} else if (err < 0) {
				return err;
			}
		}
		off += n + (nl ? 1 : 0);
	}
	return first_err;
}

int kt_audit_parse(const char *buf, size_t len, bool partial, kt_audit_event_cb cb,
		   void *ctx, uint64_t *n_events, uint64_t *n_skipped, char *why, size_t wl)
{
	uint64_t ne = 0, ns = 0;
	int err;

	if (why && wl)
		why[0] = '\0';
	if (!buf && len)
		return -EINVAL;
	if (!partial) {
		/* one document (a webhook batch, one line): parsed once,
		 * validated, then delivered */
		json_error_t jerr;
		json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

		if (v) {
			err = one_value(v, "", NULL, NULL, &ne, &ns, why, wl);
			ne = ns = 0;
			if (!err)
				err = one_value(v, "", cb, ctx, &ne, &ns, why, wl);
			json_decref(v);
			goto out;
		}
	}
	if (!partial) {
		/* validate everything first: all or nothing */
		err = parse_pass(buf, len, false, NULL, NULL, &ne, &ns, why, wl);
		if (err)
			return err;
		ne = ns = 0;
	}
	err = parse_pass(buf, len, partial, cb, ctx, &ne, &ns, why, wl);
out:
	if (n_events)
		*n_events += ne;
	if (n_skipped)
		*n_skipped += ns;
	return err;
}

/* ---- exec ids ------------------------------------------------------------------ */

bool kt_exec_id_valid(const char *id, size_t len)
{
	if (!id || !len || len > KT_EXEC_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

size_t kt_exec_id_from_argv(const char *argv, size_t len, char *id, size_t id_len)
{
	static const char pfx[] = KT_EXEC_ID_ENV "=";
	const char *a0, *a1, *base;
	size_t l0, l1;

	if (id && id_len)
		id[0] = '\0';
	if (!argv || !len)
		return 0;
	a0 = argv;
	l0 = strnlen(a0, len);
	if (l0 >= len)
		return 0;
	base = memrchr(a0, '/', l0);
	base = base ? base + 1 : a0;
	if (strcmp(base, "env"))
		return 0;
	a1 = a0 + l0 + 1;
	l1 = strnlen(a1, len - l0 - 1);
	if (l0 + 1 + l1 >= len || l1 <= sizeof(pfx) - 1 || memcmp(a1, pfx, sizeof(pfx) - 1))
		return 0;
	if (!kt_exec_id_valid(a1 + sizeof(pfx) - 1, l1 - (sizeof(pfx) - 1)))
		return 0;
	if (l1 - (sizeof(pfx) - 1) >= id_len)
		return 0;
	memcpy(id, a1 + sizeof(pfx) - 1, l1 - (sizeof(pfx) - 1));
	id[l1 - (sizeof(pfx) - 1)] = '\0';
	return l0 + 1 + l1 + 1;
}
