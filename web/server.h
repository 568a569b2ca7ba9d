/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kubetape-web: shared state of the server.
 *
 * One lws event loop, one thread.  The store is synchronous SQLite, so every
 * handler keeps its store work short: lists are paginated, streams emit at
 * most KT_WEB_WRITE_BUDGET bytes per writeable callback, and live followers
 * poll on a timer instead of blocking.  A slow client therefore only delays
 * itself: nothing is produced for it until its socket drains.
 *
 * Files: main.c (options, policy, loop), state.c (kt_web, the store),
 * http.c (routing, login form), respond.c (responses, security headers),
 * auth.c (token, login cookie), params.c (query
 * validation), hostcheck.c (Host/Origin), peers.c (per-client caps, login
 * throttling), api.c (JSON endpoints), jsonenc.c (record -> JSON),
 * stream.c (frame stream + asciicast export), live.c (WebSocket follow),
 * assets.c (built-in UI files), badreq.c (what lws's HTTP parser gives
 * up on), listen.c (--listen and lws's log, shared with the webhook).
 */
#ifndef KUBETAPE_WEB_SERVER_H
#define KUBETAPE_WEB_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "store.h"

#define KT_WEB_DEFAULT_LISTEN "127.0.0.1:8321"
/* bytes of response body produced per writeable callback */
#define KT_WEB_WRITE_BUDGET (64 * 1024)
/* cap on a request body (only the login form has one) */
#define KT_WEB_MAX_BODY 4096
/* live followers poll the store this often */
#define KT_WEB_LIVE_POLL_US (100 * 1000)

struct kt_web {
	const char *db_path;
	struct kt_store *st;        /* opened lazily: the recorder may create it later */
	bool auth;                  /* a token is required */
	char *token;                /* from --token-file */
	size_t token_len;
	bool tls;
	struct lws_context *ctx;
	unsigned live_viewers;      /* open live WebSockets */
};

extern struct kt_web kt_web;

/* The store, opening it on first use.  NULL when it cannot be opened
 * (logged once per distinct error, not per request). */
struct kt_store *kt_web_store(void);

enum conn_kind {
	CONN_NONE = 0,
	CONN_BODY,      /* a buffered response body (JSON, static file) */
	CONN_STREAM,    /* frame stream, produced per writeable */
	CONN_EXPORT,    /* asciicast export, produced per writeable */
	CONN_LIVE,      /* WebSocket following a session */
	CONN_LOGIN,     /* POST /login: collecting the form body */
	CONN_RAW,       /* not HTTP lws can parse: a canned JSON error (badreq.c) */
};

struct web_stream;
struct web_live;

/* Per-connection state (lws per_session_data; zeroed by lws). */
struct conn {
	enum conn_kind kind;
	/* CONN_BODY: the whole response body; static assets point into the
	 * binary (owned = false) */
	const uint8_t *body;
	size_t body_len, body_off;
	bool body_owned;
	bool close_after;      /* not kept alive: the client may still be sending */
	/* CONN_STREAM / CONN_EXPORT; stream_release frees it (set by stream.c,
	 * so respond.c, which resets a conn, needs nothing of stream.c) */
	struct web_stream *stream;
	void (*stream_release)(struct conn *c);
	/* CONN_LIVE */
	struct web_live *live;
	/* CONN_LOGIN */
	char form[KT_WEB_MAX_BODY + 1];
	size_t form_len;
	bool form_too_big;
	/* CONN_RAW */
	unsigned raw_status;
	bool raw_plain_on_tls, raw_sent, raw_done;
};

/* ---- respond.c: responses ------------------------------------------------- */

/*
 * Header block for a response: status, content type, length (or
 * LWS_ILLEGAL_HTTP_CONTENT_LEN: the body ends when the connection closes
 * on HTTP/1.1), the security headers every response carries, and `extra`
 * (NULL or "name: value\r\n" lines already validated).  Written at once.
 * 0 or -1 (the connection must be closed).
 */
int web_write_headers(struct lws *wsi, unsigned status, const char *ctype,
		      lws_filepos_t len, bool cache, const char *extra);
/* A complete response with a body copied from `body` (freed by the conn
 * when owned).  Returns what the lws callback must return. */
int web_respond(struct lws *wsi, struct conn *c, unsigned status, const char *ctype,
		const void *body, size_t len, bool owned, bool cache, const char *extra);
/* One piece of a produced body (<= KT_WEB_WRITE_BUDGET); 0 or -1. */
int web_write_piece(struct lws *wsi, const uint8_t *data, size_t len, bool last);
/* {"error": {"status": N, "message": "..."}} */
int web_error(struct lws *wsi, struct conn *c, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same with extra header lines (as in web_write_headers). */
int web_respond_error(struct lws *wsi, struct conn *c, unsigned status, const char *extra,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Drop what the conn holds (an owned body, a stream) and make it CONN_NONE. */
void web_conn_reset(struct conn *c);
/* CONN_BODY: the next piece of the buffered body; at its end the conn is
 * reset and the transaction completed.  What the lws callback returns. */
int web_body_writeable(struct lws *wsi, struct conn *c);
/* The vhost's canned headers (info.headers): the security headers. */
const struct lws_protocol_vhost_options *web_security_headers(bool tls);
/* ---- badreq.c: requests with a method lws does not know ------------------- */

/* The lws callback reasons of a connection lws handed to the raw role
 * (LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG). */
int badreq_callback(struct lws *wsi, struct conn *c, enum lws_callback_reasons reason,
		    const void *in, size_t len);

/* Logs a refused Host/Origin (rate-limited). */
void refused_log(struct lws *wsi, unsigned status, const char *why);

#endif
