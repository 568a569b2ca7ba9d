// SPDX-License-Identifier: Apache-2.0
/*
 * Writing responses: the security headers every response carries, header
 * blocks, buffered bodies written in KT_WEB_WRITE_BUDGET pieces per
 * writeable callback, JSON errors, and the pieces of a produced body.  The
 * handlers (api.c, stream.c, live.c) and the router (http.c) call it; it
 * calls none of them (a stream is released through conn.stream_release).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonenc.h"
#include "log.h"
#include "peers.h"
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

void web_conn_reset(struct conn *c)
{
	if (c->body_owned)
		free((void *)c->body);
	if (c->stream && c->stream_release)
		c->stream_release(c);
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
	web_conn_reset(c);
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

int web_body_writeable(struct lws *wsi, struct conn *c)
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
	web_conn_reset(c);
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
