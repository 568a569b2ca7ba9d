// SPDX-License-Identifier: Apache-2.0
/*
 * The lws protocol callback: request routing, method and auth checks,
 * response headers (every response carries the security headers), bodies
 * written in KT_WEB_WRITE_BUDGET pieces per writeable callback, and the
 * login form.  WebSocket reasons are handed to live.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth.h"
#include "hostcheck.h"
#include "jsonenc.h"
#include "peers.h"
#include "log.h"
#include "params.h"
#include "routes.h"
#include "server.h"

/*
 * No inline script or style anywhere: the UI is files from this server
 * only.  xterm.js's own <style> elements and style attributes are routed
 * through the CSSOM by web/ui/csp-shim.js; the one hash allowed in
 * style-src is that of the empty string (the emptied <style> elements).
 */
#define CSP "default-src 'none'; script-src 'self'; " \
	    "style-src 'self' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='; img-src 'self' data:; " \
	    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; " \
	    "base-uri 'none'"

/* one write buffer: single thread, and lws copies what it cannot send now */
static uint8_t wbuf[LWS_PRE + KT_WEB_WRITE_BUDGET];

static int add_hdr(struct lws *wsi, const char *name, const char *val,
		   unsigned char **p, unsigned char *end)
{
	return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
					   (const unsigned char *)val, (int)strlen(val), p, end);
}

/*
 * The security headers, as the vhost's canned headers: lws adds them to
 * every response it writes a status line for, its own error pages too
 * (a bad %-escape, an unknown method such as TRACE), not only ours.
 */
static struct lws_protocol_vhost_options sec_hdrs[] = {
	{ &sec_hdrs[1], NULL, "content-security-policy:", CSP },
	{ &sec_hdrs[2], NULL, "x-content-type-options:", "nosniff" },
	{ &sec_hdrs[3], NULL, "x-frame-options:", "DENY" },
	/* same-origin, not no-referrer: with no-referrer chromium sends "Origin:
	 * null" on the login form's POST, which the Origin check refuses */
	{ &sec_hdrs[4], NULL, "referrer-policy:", "same-origin" },
	{ &sec_hdrs[5], NULL, "cross-origin-opener-policy:", "same-origin" },
	{ NULL, NULL, "cross-origin-resource-policy:", "same-origin" },
};
static struct lws_protocol_vhost_options hsts = {
	sec_hdrs, NULL, "strict-transport-security:", "max-age=31536000"
};

const struct lws_protocol_vhost_options *web_security_headers(bool tls)
{
	return tls ? &hsts : sec_hdrs;
}

int web_write_headers(struct lws *wsi, unsigned status, const char *ctype,
		      lws_filepos_t len, bool cache, const char *extra)
{
	uint8_t buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;

	/* the status line also brings the security headers (sec_hdrs) */
	if (lws_add_http_common_headers(wsi, status | LWSAHH_FLAG_NO_SERVER_NAME, ctype, len, &p, end) ||
	    add_hdr(wsi, "cache-control:", cache ? "no-cache" : "no-store", &p, end))
		return -1;
	/* extra: preformatted "name: value\r\n" lines */
	for (const char *l = extra; l && *l;) {
		const char *colon = strchr(l, ':'), *eol = strstr(l, "\r\n");
		char name[64], val[512];

		if (!colon || !eol || colon > eol || (size_t)(colon - l) + 2 > sizeof(name) ||
		    (size_t)(eol - colon) > sizeof(val))
			return -1;
		snprintf(name, sizeof(name), "%.*s", (int)(colon - l + 1), l);
		snprintf(val, sizeof(val), "%.*s", (int)(eol - colon - 2), colon + 2);
		if (add_hdr(wsi, name, val, &p, end))
			return -1;
		l = eol + 2;
	}
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	return 0;
}

static void conn_reset(struct conn *c)
{
	if (c->body_owned)
		free((void *)c->body);
	stream_free(c);
	c->body = NULL;
	c->body_len = c->body_off = 0;
	c->body_owned = false;
	c->close_after = false;
	c->form_len = 0;
	c->form_too_big = false;
	c->kind = CONN_NONE;
}

int web_respond(struct lws *wsi, struct conn *c, unsigned status, const char *ctype,
		const void *body, size_t len, bool owned, bool cache, const char *extra)
{
	conn_reset(c);
	c->kind = CONN_BODY;
	c->body = body;
	c->body_len = len;
	c->body_owned = owned;
	if (web_write_headers(wsi, status, ctype, len, cache, extra))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int verror(struct lws *wsi, struct conn *c, unsigned status, const char *extra,
		  const char *fmt, va_list ap)
{
	char msg[256];
	size_t len = 0;
	char *body;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	body = je_dump(json_pack("{s:{s:i,s:o}}", "error", "status", (int)status,
				 "message", je_str_n(msg, strlen(msg))), &len);
	if (!body)
		return -1;
	return web_respond(wsi, c, status, "application/json", body, len, true, false,
			   extra ? extra : status == 405 ? "allow: GET\r\n" : NULL);
}

int web_error(struct lws *wsi, struct conn *c, unsigned status, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = verror(wsi, c, status, NULL, fmt, ap);
	va_end(ap);
	return r;
}

int web_respond_error(struct lws *wsi, struct conn *c, unsigned status, const char *extra,
		      const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = verror(wsi, c, status, extra, fmt, ap);
	va_end(ap);
	return r;
}

static int body_writeable(struct lws *wsi, struct conn *c)
{
	size_t n = c->body_len - c->body_off;
	bool last;

	if (n > KT_WEB_WRITE_BUDGET)
		n = KT_WEB_WRITE_BUDGET;
	last = c->body_off + n == c->body_len;
	memcpy(wbuf + LWS_PRE, c->body + c->body_off, n);
	if (lws_write(wsi, wbuf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
		return -1;
	c->body_off += n;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	if (c->close_after)
		return -1;	/* lws flushes what it holds, then closes */
	conn_reset(c);
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Write one piece of a produced body (stream.c); last ends the response. */
int web_write_piece(struct lws *wsi, const uint8_t *data, size_t len, bool last)
{
	if (len > KT_WEB_WRITE_BUDGET)
		return -1;
	memcpy(wbuf + LWS_PRE, data, len);
	if (lws_write(wsi, wbuf + LWS_PRE, len, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)len)
		return -1;
	return 0;
}

/* "/api/sessions/ID[/rest]": 1 with id and rest ("" when none), 0 if not
 * that shape, -EINVAL for a malformed id. */
static int session_path(const char *path, int64_t *id, const char **rest)
{
	const char *p = path + strlen("/api/sessions/"), *slash;

	if (strncmp(path, "/api/sessions/", strlen("/api/sessions/")))
		return 0;
	slash = strchr(p, '/');
	*rest = slash ? slash : "";
	if (web_parse_id(p, slash ? (size_t)(slash - p) : strlen(p), id))
		return -EINVAL;
	return 1;
}

static int route_api(struct lws *wsi, struct conn *c, const char *path, int method)
{
	const char *rest;
	int64_t id;
	int r;

	if (method != LWSHUMETH_GET)
		return web_error(wsi, c, 405, "method not allowed");
	if (!kt_auth_ok(wsi))
		return web_error(wsi, c, 401, "authentication required");
	if (!strcmp(path, "/api/info"))
		return api_info(wsi, c);
	if (!strcmp(path, "/api/sessions"))
		return api_sessions(wsi, c);
	if (!strcmp(path, "/api/search"))
		return api_search(wsi, c);
	r = session_path(path, &id, &rest);
	if (r < 0)
		return web_error(wsi, c, 400, "malformed session id");
	if (r > 0) {
		if (!*rest)
			return api_session(wsi, c, id);
		if (!strcmp(rest, "/commands"))
			return api_commands(wsi, c, id);
		if (!strcmp(rest, "/stream"))
			return stream_start(wsi, c, id, false);
		if (!strcmp(rest, "/export.cast"))
			return stream_start(wsi, c, id, true);
	}
	return web_error(wsi, c, 404, "no such endpoint");
}

/* A refused Host or Origin is logged, at most once a second (a rebinding
 * page may retry in a loop). */
void refused_log(struct lws *wsi, unsigned status, const char *why)
{
	static int64_t last_us;
	int64_t now = lws_now_usecs();
	char peer[64], host[128] = "", origin[128] = "";

	if (now - last_us < 1000000)
		return;
	last_us = now;
	limits_peer(wsi, peer, sizeof(peer));
	lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST);
	lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN);
	for (char *p = host; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
	for (char *p = origin; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
	pr_warn("refused a request from %s (%u: %s; Host '%s', Origin '%s')", peer, status, why,
		host, origin);
}

static int route_method(struct lws *wsi, struct conn *c, const char *path, int method)
{
	const struct web_asset *a;
	const char *why;
	unsigned status;

	if ((why = hostcheck_request(wsi, &status))) {
		refused_log(wsi, status, why);
		return web_error(wsi, c, status, "%s", why);
	}
	if (!web_utf8_valid(path, strlen(path)))
		return web_error(wsi, c, 400, "path is not valid UTF-8");
	if (!strncmp(path, "/api/", 5) || !strcmp(path, "/api"))
		return route_api(wsi, c, path, method);
	if (!strcmp(path, "/login") || !strcmp(path, "/logout")) {
		if (method != LWSHUMETH_POST)
			return web_error(wsi, c, 405, "method not allowed");
		if (!strcmp(path, "/logout")) {
			char hdr[256];

			kt_auth_logout(wsi, hdr, sizeof(hdr));
			strncat(hdr, "location: /login.html\r\n", sizeof(hdr) - strlen(hdr) - 1);
			return web_respond(wsi, c, 303, "text/plain", "", 0, false, false, hdr);
		}
		if (!kt_web.auth)	/* nothing to log in to */
			return web_respond(wsi, c, 303, "text/plain", "", 0, false, false, "location: /\r\n");
		{
			unsigned retry = 0;
			char hdr[64];

			if (limits_login_allow(wsi, &retry)) {
				char accept[128] = "";

				/* the login form (a browser) goes back to the page,
				 * which says why; API clients get the JSON 429 */
				lws_hdr_copy(wsi, accept, sizeof(accept), WSI_TOKEN_HTTP_ACCEPT);
				if (strstr(accept, "text/html"))
					return web_respond(wsi, c, 303, "text/plain", "", 0, false, false,
							   "location: /login.html#throttled\r\n");
				snprintf(hdr, sizeof(hdr), "retry-after: %u\r\n", retry);
				return web_respond_error(wsi, c, 429, hdr,
							 "too many login attempts: retry in %u s", retry);
			}
		}
		if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
			char cl[24];

			lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH);
			if (strtoull(cl, NULL, 10) > KT_WEB_MAX_BODY)
				return web_error(wsi, c, 413, "request body too large");
		}
		c->kind = CONN_LOGIN;
		return 0;	/* the body arrives in LWS_CALLBACK_HTTP_BODY */
	}
	a = web_asset_find(path);
	if (!a)
		return web_error(wsi, c, 404, "not found");
	if (method != LWSHUMETH_GET)
		return web_error(wsi, c, 405, "method not allowed");
	return web_respond(wsi, c, 200, a->ctype, a->data, a->len, false, true, NULL);
}

static int route(struct lws *wsi, struct conn *c, const char *path)
{
	char *uri;
	int ulen, method, r;

	conn_reset(c);
	method = lws_http_get_uri_and_method(wsi, &uri, &ulen);
	r = route_method(wsi, c, path, method);
	/* PUT, PATCH, DELETE...: refused (405), but lws would keep the
	 * connection waiting for a body it cannot delimit: close it after
	 * the answer */
	if (method != LWSHUMETH_GET && method != LWSHUMETH_POST && c->kind == CONN_BODY)
		c->close_after = true;
	return r;
}

static int login_done(struct lws *wsi, struct conn *c)
{
	char hdr[512];
	int err;

	if (c->form_too_big)
		return web_error(wsi, c, 413, "request body too large");
	err = kt_auth_login(c->form, c->form_len, hdr, sizeof(hdr) - 32);
	explicit_bzero(c->form, sizeof(c->form));
	if (err == -EACCES || err == -EINVAL) {
		limits_login_failed(wsi);
		/* back to the form, which shows why */
		return web_respond(wsi, c, 303, "text/plain", "", 0, false, false,
				   "location: /login.html#failed\r\n");
	}
	if (err)
		return web_error(wsi, c, 500, "login failed");
	limits_login_ok(wsi);
	strcat(hdr, "location: /\r\n");
	return web_respond(wsi, c, 303, "text/plain", "", 0, false, false, hdr);
}

static int callback_http(struct lws *wsi, enum lws_callback_reasons reason,
			 void *user, void *in, size_t len)
{
	struct conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		return limits_filter(user);
	case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
		/* the return value is ignored here: kill it */
		if (limits_accept(wsi))
			lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		limits_closed(wsi);
		return 0;
	case LWS_CALLBACK_HTTP:
		return route(wsi, c, in ? (const char *)in : "/");
	case LWS_CALLBACK_HTTP_BODY:
		if (c->kind != CONN_LOGIN)
			return 0;
		if (c->form_len + len > KT_WEB_MAX_BODY)
			c->form_too_big = true;
		else {
			memcpy(c->form + c->form_len, in, len);
			c->form_len += len;
		}
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (c->kind != CONN_LOGIN)
			return 0;
		return login_done(wsi, c);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (c->kind == CONN_BODY)
			return body_writeable(wsi, c);
		if (c->kind == CONN_STREAM || c->kind == CONN_EXPORT)
			return stream_writeable(wsi, c);
		return 0;
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (c && c->kind != CONN_LIVE)
			conn_reset(c);
		return 0;

	/* WebSocket: only /ws/sessions/ID/live */
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return live_filter(wsi);
	case LWS_CALLBACK_ESTABLISHED:
		return live_established(wsi, c);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return live_writeable(wsi, c);
	case LWS_CALLBACK_RECEIVE:
		return 0;	/* viewers send nothing we act on */

	/* not HTTP lws can parse, handed to the raw role: badreq.c */
	case LWS_CALLBACK_RAW_ADOPT:
	case LWS_CALLBACK_RAW_RX:
	case LWS_CALLBACK_RAW_WRITEABLE:
		return badreq_callback(wsi, c, reason, in, len);
	case LWS_CALLBACK_CLOSED:
		live_closed(c);
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

const struct lws_protocols web_protocols[] = {
	{
		.name = "kubetape",
		.callback = callback_http,
		.per_session_data_size = sizeof(struct conn),
		/* the largest message a viewer may send; they send nothing useful */
		.rx_buffer_size = 1024,
	},
	{ 0 }
};
