// SPDX-License-Identifier: Apache-2.0
/*
 * The lws protocol callback: request routing, method and auth checks, and
 * the login form (responses are written by respond.c).  WebSocket reasons
 * are handed to live.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "hostcheck.h"
#include "peers.h"
#include "log.h"
#include "params.h"
#include "routes.h"
#include "server.h"

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

	web_conn_reset(c);
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
			return web_body_writeable(wsi, c);
		if (c->kind == CONN_STREAM || c->kind == CONN_EXPORT)
			return stream_writeable(wsi, c);
		return 0;
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (c && c->kind != CONN_LIVE)
			web_conn_reset(c);
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
