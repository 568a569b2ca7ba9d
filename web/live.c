// SPDX-License-Identifier: Apache-2.0
/*
 * WS /ws/sessions/ID/live: follow a session as it is recorded.
 *
 * Each viewer has its own kt_stream (no read snapshot is held, so it sees
 * the recorder's later commits) and pulls at most one write's worth of
 * frames per writeable callback; the binary messages are the frame records
 * of framefmt.h, cut at arbitrary byte boundaries (the client parses the
 * concatenation).  When a viewer has caught up it polls every
 * KT_WEB_LIVE_POLL_US on a timer: with the recorder committing every
 * ~0.5 s, a recorded byte is on screen within about 0.6 s.  The session's
 * state is re-read at most once a second while caught up; once it ended and
 * the stream is drained, an END record is sent and the socket closed
 * normally.  Viewers start at the session start (the nearest keyframe
 * until store/screen.h lands), replayed as fast as their socket takes it.
 *
 * Browsers cannot set an Authorization header on a WebSocket: the cookie
 * authenticates, and the Origin must be this server (cross-site WebSocket
 * hijacking); clients that send no Origin (curl, scripts) need the token.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "access.h"
#include "auth.h"
#include "framefmt.h"
#include "hostcheck.h"
#include "jsonenc.h"
#include "peers.h"
#include "log.h"
#include "params.h"
#include "reader.h"
#include "routes.h"
#include "screen.h"

#define MAX_VIEWERS 512
#define STATE_CHECK_US (1000 * 1000)

struct web_live {
	struct web_cursor cur;
	struct web_buf out;
	struct lws *wsi;
	lws_sorted_usec_list_t sul;
	int64_t id;
	int64_t last_check_us;
	struct kt_follow fw;   /* the store's rule: drain once more after the end */
	bool caught_up;        /* the last fill reached the end of what is stored */
	bool ended;            /* END queued: close once `out` is sent */
};

static uint8_t wbuf[LWS_PRE + KT_WEB_WRITE_BUDGET];

/* "/ws/sessions/ID/live" -> id; -EINVAL otherwise. */
static int live_path(struct lws *wsi, int64_t *id)
{
	char uri[128];
	const char *p, *slash;
	int n = lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);

	if (n <= 0 || strncmp(uri, "/ws/sessions/", 13))
		return -EINVAL;
	p = uri + 13;
	slash = strchr(p, '/');
	if (!slash || strcmp(slash, "/live") || web_parse_id(p, (size_t)(slash - p), id))
		return -EINVAL;
	return 0;
}

/* Answer the upgrade request with a plain HTTP status and drop it. */
static int refuse(struct lws *wsi, unsigned status, const char *why)
{
	pr_debug("websocket refused (%u): %s", status, why);
	lws_return_http_status(wsi, status, why);
	return 1;
}

int live_filter(struct lws *wsi)
{
	const char *why;
	unsigned status;
	int64_t id;

	/* Host and Origin first: a rebinding page must learn nothing, not
	 * even whether a session exists */
	if ((why = hostcheck_request(wsi, &status))) {
		refused_log(wsi, status, why);
		return refuse(wsi, status, why);
	}
	if (live_path(wsi, &id))
		return refuse(wsi, 404, "not a live session path");
	if (!kt_auth_ok(wsi))
		return refuse(wsi, 401, "authentication required");
	if (kt_web.live_viewers >= MAX_VIEWERS) {
		pr_warn("websocket refused: %d live viewers already", MAX_VIEWERS);
		return refuse(wsi, 503, "too many live viewers");
	}
	if (limits_stream_begin(wsi))
		return refuse(wsi, 429, "too many streams open");
	/* counted from here; live_closed or the connection's end gives it back */
	/* logged while the request's headers (its identity) are at hand */
	if (web_access(wsi, "live", id, ""))
		return refuse(wsi, 500, "the access log cannot be written");
	return 0;
}

static void tick(lws_sorted_usec_list_t *sul)
{
	struct web_live *l = lws_container_of(sul, struct web_live, sul);

	lws_callback_on_writable(l->wsi);
}

static int put_meta(struct web_live *l, const struct kt_session_info *s)
{
	size_t len = 0;
	int rows, cols, err;
	char *js;

	kt_screen_size_norm(s->rows, s->cols, &rows, &cols); /* screen.h's rule */
	js = je_dump(json_pack("{s:I,s:I,s:I,s:I,s:b,s:i,s:i,s:b}",
				     "session_id", (json_int_t)s->id,
				     "start_us", (json_int_t)s->start_us,
				     "from_us", (json_int_t)s->start_us,
				     "stream_start_us", (json_int_t)s->start_us,
				     "keyframe", 0,
				     "cols", cols, "rows", rows,
				     "active", s->state == KT_SESSION_ACTIVE), &len);

	if (!js)
		return -ENOMEM;
	err = web_rec_put(&l->out, WEB_REC_META, s->start_us, js, len);
	free(js);
	return err;
}

int live_established(struct lws *wsi, struct conn *c)
{
	struct kt_session_info s;
	struct kt_store *st = kt_web_store();
	struct web_live *l;
	int64_t id;
	int err;

	if (live_path(wsi, &id) || !st) {
		limits_stream_end(wsi);
		return -1;
	}
	err = kt_store_session_get(st, id, &s);
	if (err) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
				 (unsigned char *)"no such session", 15);
		return -1;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -1;
	l->wsi = wsi;
	l->id = id;
	kt_follow_init(&l->fw, id);
	err = kt_stream_open(st, id, 0, &l->cur.s);
	if (!err)
		err = put_meta(l, &s);
	if (err) {
		kt_stream_close(l->cur.s);
		web_buf_free(&l->out);
		free(l);
		return -1;
	}
	c->kind = CONN_LIVE;
	c->live = l;
	kt_web.live_viewers++;
	pr_debug("live viewer for session %lld (%u viewers)", (long long)id, kt_web.live_viewers);
	lws_callback_on_writable(wsi);
	return 0;
}

/* Queue END once the session is over and everything stored was sent. */
static int check_ended(struct web_live *l)
{
	int64_t now = lws_now_usecs();
	int err;

	if (now - l->last_check_us < STATE_CHECK_US)
		return 0;
	l->last_check_us = now;
	err = kt_follow_caught_up(&l->fw, kt_web_store());
	if (err < 0)
		return err;
	if (err == KT_FOLLOW_WAIT)
		return 0;
	/* ended (kt_follow_caught_up says why): one more fill drains it */
	err = web_cursor_fill(&l->cur, &l->out, KT_WEB_WRITE_BUDGET, web_enc_binary, &l->out);
	if (err < 0)
		return err;
	if (err == 0) {
		l->ended = true;
		return web_rec_put(&l->out, WEB_REC_END, l->fw.end_us, NULL, 0);
	}
	return 0;
}

int live_writeable(struct lws *wsi, struct conn *c)
{
	struct web_live *l = c->live;
	size_t n;
	int r;

	if (!l)
		return -1;
	if (!l->ended && web_buf_avail(&l->out) < KT_WEB_WRITE_BUDGET) {
		r = web_cursor_fill(&l->cur, &l->out, KT_WEB_WRITE_BUDGET, web_enc_binary, &l->out);
		if (r < 0)
			return -1;
		l->caught_up = r == 0;
		if (l->caught_up && check_ended(l))
			return -1;
	}
	n = web_buf_avail(&l->out);
	if (n > KT_WEB_WRITE_BUDGET)
		n = KT_WEB_WRITE_BUDGET;
	if (n) {
		memcpy(wbuf + LWS_PRE, l->out.p + l->out.off, n);
		if (lws_write(wsi, wbuf + LWS_PRE, n, LWS_WRITE_BINARY) < (int)n)
			return -1;
		web_buf_consume(&l->out, n);
	}
	if (web_buf_avail(&l->out) || (!l->caught_up && !l->ended)) {
		lws_callback_on_writable(wsi);
	} else if (l->ended) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"session ended", 13);
		return -1;
	} else {
		lws_sul_schedule(lws_get_context(wsi), 0, &l->sul, tick, KT_WEB_LIVE_POLL_US);
	}
	return 0;
}

void live_closed(struct conn *c)
{
	struct web_live *l = c ? c->live : NULL;
	struct lws *l_wsi;

	if (!l)
		return;
	l_wsi = l->wsi;
	lws_sul_cancel(&l->sul);
	kt_stream_close(l->cur.s);
	web_buf_free(&l->out);
	free(l);
	c->live = NULL;
	c->kind = CONN_NONE;
	kt_web.live_viewers--;
	limits_stream_end(l_wsi);
}
