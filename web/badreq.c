// SPDX-License-Identifier: Apache-2.0
/*
 * Requests lws's HTTP parser gives up on before any callback, where lws
 * lets us answer them: it hands the connection to the raw role
 * (LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG, main.c) when
 * the method is not one it knows (TRACE, PROPFIND, a binary first line),
 * and when a client speaks plain HTTP to the HTTPS port.  Without this,
 * lws answers the first with its own HTML 403 and hangs up on the second.
 * Here they get the JSON error every other response carries, with the
 * security headers, and the connection is closed.
 *
 * What lws 4.1 answers itself with no hook (see web/API.md, "Malformed
 * requests"): a bad %-escape, a URI not starting with '/', and "OPTIONS *"
 * get its HTML 403 (with our security headers, the vhost's canned
 * headers); %00 in the URI, more header fields than its table holds, and a
 * header block over KT_WEB_HEADER_DATA are closed without an answer.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <libwebsockets.h>

#include "peers.h"
#include "log.h"
#include "server.h"

/* The whole response, HTTP/1.1, written once: it is short enough for any
 * socket buffer, and lws keeps what the socket did not take and flushes
 * it before closing. */
static int write_error(struct lws *wsi, unsigned status, const char *reason, const char *msg,
		       const char *extra)
{
	uint8_t buf[LWS_PRE + 2048];
	char *p = (char *)buf + LWS_PRE, *end = (char *)buf + sizeof(buf);
	char body[256];
	int n, blen;

	blen = snprintf(body, sizeof(body), "{\"error\":{\"status\":%u,\"message\":\"%s\"}}", status, msg);
	n = snprintf(p, (size_t)(end - p), "HTTP/1.1 %u %s\r\n", status, reason);
	p += n;
	for (const struct lws_protocol_vhost_options *h = web_security_headers(kt_web.tls); h; h = h->next) {
		n = snprintf(p, (size_t)(end - p), "%s %s\r\n", h->name, h->value);
		if (n < 0 || n >= end - p)
			return -1;
		p += n;
	}
	n = snprintf(p, (size_t)(end - p),
		     "content-type: application/json\r\ncontent-length: %d\r\n"
		     "cache-control: no-store\r\nconnection: close\r\n%s\r\n%s",
		     blen, extra ? extra : "", body);
	if (n < 0 || n >= end - p)
		return -1;
	p += n;
	n = (int)(p - (char *)buf - LWS_PRE);
	return lws_write(wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_RAW) == n ? 0 : -1;
}

/* A method token: 1-16 upper-case letters then a space ("TRACE ",
 * "PROPFIND "): 405.  Anything else is not HTTP: 400. */
static bool looks_like_method(const uint8_t *in, size_t len)
{
	size_t i = 0;

	while (i < len && i < 16 && in[i] >= 'A' && in[i] <= 'Z')
		i++;
	return i > 0 && i < len && in[i] == ' ';
}

int badreq_callback(struct lws *wsi, struct conn *c, enum lws_callback_reasons reason,
		    const void *in, size_t len)
{
	switch (reason) {
	case LWS_CALLBACK_RAW_ADOPT:
		c->kind = CONN_RAW;
		/* lws cleared the header deadline: answer, then go, or be gone
		 * in a few seconds if the client does not take the answer */
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, KT_WEB_HEADER_DEADLINE_S);
		return 0;
	case LWS_CALLBACK_RAW_RX:
		/* the first call carries what the HTTP parser was given (none
		 * when a plain-HTTP client came to the TLS port); later data
		 * is ignored */
		if (c->raw_status)
			return 0;	/* the rest of the request: read, ignored */
		if (!in || !len)
			c->raw_status = 400;
		else
			c->raw_status = looks_like_method(in, len) ? 405 : 400;
		c->raw_plain_on_tls = kt_web.tls && !in;
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_RAW_WRITEABLE:
		if (!c->raw_status || c->raw_done)
			return 0;
		if (!c->raw_sent) {
			int err;

			c->raw_sent = true;
			if (c->raw_status == 405)
				err = write_error(wsi, 405, "Method Not Allowed", "method not allowed",
						  "allow: GET, POST\r\n");
			else if (c->raw_plain_on_tls)
				err = write_error(wsi, 400, "Bad Request", "this server speaks HTTPS only", NULL);
			else
				err = write_error(wsi, 400, "Bad Request", "not an HTTP request", NULL);
			if (err)
				return -1;
		}
		if (lws_partial_buffered(wsi)) {
			lws_callback_on_writable(wsi);	/* lws sends the rest first */
			return 0;
		}
		/*
		 * Closing now, with the client's request bytes still unread
		 * (plain HTTP to the TLS port: lws read none of them), would
		 * make the kernel reset the connection, and the client could
		 * lose the answer.  Half-close instead: the client reads the
		 * answer and the end, closes, and lws sees it (RAW_CLOSE); the
		 * timeout set at adoption covers a client that does not.
		 */
		c->raw_done = true;
		shutdown(lws_get_socket_fd(wsi), SHUT_WR);
		return 0;
	default:
		return 0;
	}
}
