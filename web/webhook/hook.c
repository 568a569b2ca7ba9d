// SPDX-License-Identifier: Apache-2.0
/*
 * kubetape-webhook's HTTP side: POST /audit (the API server's audit webhook
 * backend: an EventList per batch) and POST /admit (the optional exec-id
 * mutating admission webhook).  Every request must authenticate: a client
 * certificate signed by --client-ca, or the bearer token (--token-file),
 * compared in constant time.  Bodies are bounded (--max-body): a
 * Content-Length over it is refused with 413 before the body is read, and
 * a chunked body that grows past it too.  Answers are JSON; anything
 * malformed is a 400 that says what and where (items[N]: reason), and
 * stores nothing (a batch is all or nothing).  A retried batch is a no-op
 * (stages are stored once per auditID) and still answers 200.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "admission.h"
#include "audit.h"
#include "hook.h"
#include "log.h"

struct kt_hook kt_hook;

enum route { R_NONE, R_AUDIT, R_ADMIT, R_DONE };

struct conn {
	enum route route;
	char *body;
	size_t len, cap;
	bool too_big;
	char *resp;          /* response body being written */
	size_t resp_len, resp_off;
};

static void conn_free(struct conn *c)
{
	free(c->body);
	free(c->resp);
	memset(c, 0, sizeof(*c));
}

static bool const_eq(const char *a, size_t al, const char *b, size_t bl)
{
	unsigned char d = al != bl;

	for (size_t i = 0; i < al && i < bl; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static bool authenticated(struct lws *wsi, const char **how)
{
	char hdr[KT_HOOK_MAX_TOKEN + 16];
	union lws_tls_cert_info_results r;
	int n;

	if (kt_hook.client_ca && !lws_tls_peer_cert_info(wsi, LWS_TLS_CERT_INFO_VERIFIED, &r, 0) &&
	    r.verified) {
		*how = "client certificate";
		return true;
	}
	if (!kt_hook.token)
		return false;
	n = lws_hdr_copy(wsi, hdr, sizeof(hdr), WSI_TOKEN_HTTP_AUTHORIZATION);
	if (n > 7 && !strncasecmp(hdr, "Bearer ", 7) &&
	    const_eq(hdr + 7, (size_t)n - 7, kt_hook.token, kt_hook.token_len)) {
		*how = "bearer token";
		return true;
	}
	return false;
}

static int respond(struct lws *wsi, struct conn *c, unsigned status, char *body)
{
	uint8_t buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;

	free(c->resp);
	c->resp = body;
	c->resp_len = body ? strlen(body) : 0;
	c->resp_off = 0;
	c->route = R_DONE;
	if (lws_add_http_common_headers(wsi, status | LWSAHH_FLAG_NO_SERVER_NAME, "application/json",
					c->resp_len, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
					(const unsigned char *)"no-store", 8, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

/* {"kind":"Status","apiVersion":"v1","status":"Failure","code":N,"message":...} */
static int error(struct lws *wsi, struct conn *c, unsigned status, const char *msg)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:s}", "kind", "Status", "apiVersion", "v1",
			      "status", "Failure", "code", (int)status, "message", msg);
	char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	return respond(wsi, c, status, body);
}

static int on_request(struct lws *wsi, struct conn *c, const char *path)
{
	const char *how = NULL;
	char *uri;
	int ulen, method;

	conn_free(c);
	method = lws_http_get_uri_and_method(wsi, &uri, &ulen);
	if (!authenticated(wsi, &how)) {
		kt_hook.stats.unauthenticated++;
		return error(wsi, c, 401, "authentication required: a client certificate from the "
			     "configured CA, or the bearer token");
	}
	if (!strcmp(path, "/audit"))
		c->route = R_AUDIT;
	else if (!strcmp(path, "/admit") && kt_hook.admission)
		c->route = R_ADMIT;
	else if (!strcmp(path, "/healthz"))
		return respond(wsi, c, 200, strdup("{\"status\":\"ok\"}"));
	else
		return error(wsi, c, 404, "no such endpoint (POST /audit, POST /admit)");
	if (method != LWSHUMETH_POST)
		return error(wsi, c, 405, "method not allowed: POST");
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
		char cl[24];

		lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH);
		if (strtoull(cl, NULL, 10) > kt_hook.max_body) {
			kt_hook.stats.too_big++;
			return error(wsi, c, 413, "request body too large");
		}
	}
	pr_debug("%s %s (%s)", method == LWSHUMETH_POST ? "POST" : "?", path, how);
	return 0; /* the body arrives in LWS_CALLBACK_HTTP_BODY */
}

static int on_body(struct conn *c, const void *in, size_t len)
{
	if (c->route != R_AUDIT && c->route != R_ADMIT)
		return 0;
	if (c->too_big || c->len + len > kt_hook.max_body) {
		c->too_big = true;
		return 0;
	}
	if (c->len + len + 1 > c->cap) {
		size_t ncap = (c->len + len + 1) * 2;
		char *nb;

		if (ncap > kt_hook.max_body + 1)
			ncap = kt_hook.max_body + 1;
		nb = realloc(c->body, ncap);
		if (!nb)
			return -1;
		c->body = nb;
		c->cap = ncap;
	}
	memcpy(c->body + c->len, in, len);
	c->len += len;
	c->body[c->len] = '\0';
	return 0;
}

static int audit_batch(struct lws *wsi, struct conn *c)
{
	struct kt_audit_ingest_stats s = { 0 };
	char why[512], *body;
	json_t *j;
	int err;

	err = kt_audit_ingest(kt_hook.st, c->body ? c->body : "", c->len, false, &s, why, sizeof(why));
	if (err == -EINVAL) {
		kt_hook.stats.malformed++;
		pr_warn("audit batch refused (400): %s", why);
		return error(wsi, c, 400, why);
	}
	if (err) {
		/* the store logged it; the API server retries the batch */
		kt_hook.stats.failed++;
		return error(wsi, c, 503, "store unavailable, retry");
	}
	kt_hook.stats.batches++;
	kt_hook.stats.events += s.events;
	kt_hook.stats.stored += s.stored;
	kt_hook.stats.duplicates += s.duplicates;
	j = json_pack("{s:I, s:I, s:I, s:I}", "events", (json_int_t)s.events, "stored", (json_int_t)s.stored,
		      "duplicates", (json_int_t)s.duplicates, "skipped", (json_int_t)s.skipped);
	body = j ? json_dumps(j, 0) : NULL;
	json_decref(j);
	return respond(wsi, c, 200, body);
}

static int admit(struct lws *wsi, struct conn *c)
{
	char why[256], *out = NULL;
	size_t olen;
	int err;

	err = kt_admission_review(c->body ? c->body : "", c->len, NULL, &out, &olen, why, sizeof(why));
	if (err == -EINVAL)
		return error(wsi, c, 400, why);
	if (err)
		return error(wsi, c, 500, why);
	return respond(wsi, c, 200, out);
}

static int on_body_done(struct lws *wsi, struct conn *c)
{
	if (c->route != R_AUDIT && c->route != R_ADMIT)
		return 0;
	if (c->too_big) {
		kt_hook.stats.too_big++;
		return error(wsi, c, 413, "request body too large");
	}
	return c->route == R_AUDIT ? audit_batch(wsi, c) : admit(wsi, c);
}

static int on_writeable(struct lws *wsi, struct conn *c)
{
	static uint8_t wbuf[LWS_PRE + 16384];
	size_t n = c->resp_len - c->resp_off;
	bool last;

	if (c->route != R_DONE)
		return 0;
	if (n > sizeof(wbuf) - LWS_PRE)
		n = sizeof(wbuf) - LWS_PRE;
	last = c->resp_off + n == c->resp_len;
	memcpy(wbuf + LWS_PRE, c->resp + c->resp_off, n);
	if (lws_write(wsi, wbuf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
		return -1;
	c->resp_off += n;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	conn_free(c);
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION:
		/* len = OpenSSL's preverify_ok: a certificate that does not
		 * verify fails the handshake; none at all is allowed (the
		 * token may still authenticate) */
		return len ? 0 : 1;
	case LWS_CALLBACK_HTTP:
		return on_request(wsi, c, in ? (const char *)in : "/");
	case LWS_CALLBACK_HTTP_BODY:
		return on_body(c, in, len);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		return on_body_done(wsi, c);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return on_writeable(wsi, c);
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (c)
			conn_free(c);
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

const struct lws_protocols kt_hook_protocols[] = {
	{ .name = "kubetape-webhook", .callback = callback, .per_session_data_size = sizeof(struct conn) },
	{ 0 }
};
