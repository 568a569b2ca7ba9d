// SPDX-License-Identifier: Apache-2.0
/*
 * GET /api/sessions/ID/stream and /api/sessions/ID/export.cast: a session's
 * frames produced per writeable callback, at most KT_WEB_WRITE_BUDGET bytes
 * each time, so a multi-GB session never sits in memory and a slow reader
 * only slows itself (lws calls back when its socket drains).
 *
 * Seeking (?from=US, relative to the session start): the terminal state at
 * a time depends on everything before it, so the stream begins at the last
 * keyframe at or before `from` (kt_stream_open_at): a RESIZE and an OUT
 * record carrying the keyframe's redraw bytes, then the frames after it.
 * The META record tells the player where `from` is, so it plays the frames
 * between the keyframe and `from` without delay.  A seek costs one keyframe
 * plus less than one keyframe interval of frames, never the whole session.  The export reuses
 * store/export/asciicast.c through a FILE that appends to the output buffer.
 *
 * On the cluster store a server outage mid-stream is waited out as a
 * follower waits it out (store/reader.c kt_follow_read_error: one line
 * each way, giving up after KUBETAPE_FOLLOW_OUTAGE_S, 120 s): the stream
 * keeps its position, nothing is written meanwhile (the retry resets the
 * stall deadline: the client is not the one stalling), and it goes on
 * where it was when the server is back.  Before, the response was cut
 * (closing is the only way to tell an HTTP client mid-body) and the
 * player had to start again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "access.h"
#include "asciicast.h"
#include "screen.h"
#include "framefmt.h"
#include "jsonenc.h"
#include "log.h"
#include "peers.h"
#include "reader.h"
#include "params.h"
#include "routes.h"
#include "satint.h"

struct web_stream {
	struct web_cursor cur;
	struct web_buf out;
	bool export;
	bool produced;         /* everything is in `out` */
	bool ended;            /* the session was over when the stream reached its end */
	struct kt_follow fw;   /* the store's rule: drain once more after the end */
	int64_t session_id;
	FILE *fp;              /* export: writes into `out` */
	struct lws *wsi;       /* counted by limits_stream_begin */
	struct kt_acast ac;
	bool waiting;          /* the server is down: produce again after a pause */
	lws_sorted_usec_list_t sul; /* that pause */
};

/* A retry of a stream waiting out a server outage, this often (the
 * connection's own backoff decides when it really tries the server). */
#define STREAM_RETRY_US (250 * 1000)

void stream_free(struct conn *c)
{
	struct web_stream *ws = c->stream;

	if (!ws)
		return;
	if (ws->fp)
		fclose(ws->fp);
	lws_sul_cancel(&ws->sul);
	if (ws->wsi)
		limits_stream_end(ws->wsi);
	kt_stream_close(ws->cur.s);
	web_buf_free(&ws->out);
	free(ws);
	c->stream = NULL;
}

static ssize_t cookie_write(void *ctx, const char *buf, size_t len)
{
	struct web_stream *ws = ctx;

	return web_buf_put(&ws->out, buf, len) ? -1 : (ssize_t)len;
}

static int enc_acast(void *ctx, const struct kt_frame *f, const uint8_t *data, size_t len)
{
	struct web_stream *ws = ctx;

	/* IN frames reach it only when asked for (web_cursor_fill) */
	return kt_acast_frame(&ws->ac, f, data, len, true);
}

static int meta(struct web_stream *ws, const struct kt_session_info *s, int64_t from,
		int64_t stream_start_us, bool keyframe)
{
	size_t len = 0;
	int rows, cols, err;
	char *js;

	/* the player's terminal: any recorded size by the screen model's rule */
	kt_screen_size_norm(s->rows, s->cols, &rows, &cols);
	js = je_dump(json_pack("{s:I,s:I,s:I,s:I,s:b,s:i,s:i,s:b}",
				     "session_id", (json_int_t)s->id,
				     "start_us", (json_int_t)s->start_us,
				     "from_us", (json_int_t)kt_add_sat(s->start_us, from),
				     /* where the frames begin: the nearest keyframe */
				     "stream_start_us", (json_int_t)stream_start_us,
				     "keyframe", keyframe,
				     "cols", cols, "rows", rows,
				     "active", s->state == KT_SESSION_ACTIVE), &len);
	if (!js)
		return -ENOMEM;
	err = web_rec_put(&ws->out, WEB_REC_META, s->start_us, js, len);
	free(js);
	return err;
}

/* Position the cursor at the last keyframe before `from` and queue the META
 * record and the keyframe's RESIZE + OUT records ahead of the frames. */
static int open_at(struct web_stream *ws, struct kt_store *st, const struct kt_session_info *s,
		   int64_t from)
{
	uint8_t *kf = NULL, rs[4];
	size_t kf_len = 0, off = 0;
	int64_t kf_ts = s->start_us;
	uint16_t rows = 0, cols = 0;
	int err;

	err = kt_stream_open_at(st, s->id, kt_add_sat(s->start_us, from), &ws->cur.s, &kf, &kf_len, &kf_ts,
				&rows, &cols);
	if (err)
		return err;
	if (!kf)
		kf_ts = s->start_us;
	err = meta(ws, s, from, kf_ts, kf != NULL);
	if (!err && kf && rows && cols) {
		int r, c;

		kt_screen_size_norm(rows, cols, &r, &c); /* as web_enc_binary */
		rs[0] = c & 0xff;
		rs[1] = c >> 8;
		rs[2] = r & 0xff;
		rs[3] = r >> 8;
		err = web_rec_put(&ws->out, KT_FRAME_RESIZE, kf_ts, rs, sizeof(rs));
	}
	while (!err && kf && off < kf_len) {
		size_t n = kf_len - off > WEB_REC_MAX_PAYLOAD ? WEB_REC_MAX_PAYLOAD : kf_len - off;

		err = web_rec_put(&ws->out, KT_FRAME_OUT, kf_ts, kf + off, n);
		off += n;
	}
	free(kf);
	return err;
}

int stream_start(struct lws *wsi, struct conn *c, int64_t id, bool export)
{
	static const char *const allowed_stream[] = { "from", "input", NULL };
	static const char *const allowed_export[] = { "input", NULL };
	cookie_io_functions_t io = { .write = cookie_write };
	struct kt_session_info s;
	struct web_stream *ws = NULL;
	struct kt_store *st;
	struct web_query q;
	int64_t from = 0;
	int input = 0, err;
	char extra[128];

	if (web_query_load(wsi, &q, export ? allowed_export : allowed_stream) ||
	    web_q_int(&q, "from", 0, INT64_C(1) << 53, &from) ||
	    web_q_bool(&q, "input", &input))
		return web_error(wsi, c, 400, "%s", q.why);
	st = kt_web_store();
	if (!st)
		return web_error(wsi, c, 503, "the store is not available");
	err = kt_store_session_get(st, id, &s);
	if (err == -ENOENT)
		return web_error(wsi, c, 404, "no such session");
	if (err)
		return web_error(wsi, c, 500, "store error: %s", strerror(-err));
	if (web_access(wsi, export ? "export" : "replay", id, input ? "input=1" : ""))
		return web_error(wsi, c, 500, "the access log cannot be written");

	if (limits_stream_begin(wsi))
		return web_respond_error(wsi, c, 429, "retry-after: 5\r\n",
					 "too many streams open from this client or in total");
	ws = calloc(1, sizeof(*ws));
	if (!ws) {
		limits_stream_end(wsi);
		return web_error(wsi, c, 500, "out of memory");
	}
	ws->wsi = wsi;
	ws->export = export;
	ws->session_id = id;
	kt_follow_init(&ws->fw, id);
	ws->cur.with_input = input;
	if (export)
		err = kt_stream_open(st, id, 0, &ws->cur.s);
	else
		err = open_at(ws, st, &s, from);
	if (err)
		goto cleanup;
	if (export) {
		struct kt_acast_header h = {
			.timestamp = s.start_us / 1000000, .title = NULL, .term = "xterm-256color",
		};
		char title[KT_STR_LONG * 3 + 32];

		snprintf(title, sizeof(title), "%s/%s/%s session %lld", s.k8s_namespace, s.pod,
			 s.container, (long long)id);
		h.title = title;
		kt_session_term_size(&s, &h.width, &h.height);
		ws->fp = fopencookie(ws, "w", io);
		if (!ws->fp) {
			err = -ENOMEM;
			goto cleanup;
		}
		kt_acast_init(&ws->ac, ws->fp, s.start_us);
		err = kt_acast_header(&ws->ac, &h);
		if (!err && fflush(ws->fp))
			err = -ENOMEM;
		snprintf(extra, sizeof(extra),
			 "content-disposition: attachment; filename=\"kubetape-%lld.cast\"\r\n",
			 (long long)id);
	} else {
		extra[0] = 0;
	}
	if (err)
		goto cleanup;
	c->stream = ws;
	c->stream_release = stream_free;
	c->kind = export ? CONN_EXPORT : CONN_STREAM;
	limits_stream_sndbuf(wsi);
	limits_stream_progress(wsi);
	if (web_write_headers(wsi, 200, export ? "application/x-asciicast" : "application/vnd.kubetape.frames",
			      LWS_ILLEGAL_HTTP_CONTENT_LEN, false, extra))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
cleanup:
	c->stream = ws;
	c->stream_release = stream_free;
	stream_free(c);
	return web_error(wsi, c, 500, "cannot stream the session: %s", strerror(-err));
}

static void retry_tick(lws_sorted_usec_list_t *sul)
{
	struct web_stream *ws = lws_container_of(sul, struct web_stream, sul);

	lws_callback_on_writable(ws->wsi);
}

/* Fill `out` to one write's worth; at the end, close the encoding.  A
 * server outage within the follower's limit sets ws->waiting (0). */
static int produce(struct web_stream *ws)
{
	struct kt_store *st = kt_web_store();
	int r;

	ws->waiting = false;
	if (ws->export)
		r = web_cursor_fill(&ws->cur, &ws->out, KT_WEB_WRITE_BUDGET, enc_acast, ws);
	else
		r = web_cursor_fill(&ws->cur, &ws->out, KT_WEB_WRITE_BUDGET, web_enc_binary, &ws->out);
	if (r < 0) {
		/* what was filled before the error stays in `out` */
		r = kt_follow_read_error(&ws->fw, st, r);
		ws->waiting = !r;
		return r;
	}
	if (ws->fw.down_since) {
		pr_warn("streaming session %lld: the server is back after %.1f s",
			(long long)ws->session_id, (kt_mono_us() - ws->fw.down_since) / 1e6);
		ws->fw.down_since = 0;
	}
	if (r == 0 && !ws->export) {
		/* the end of what is stored: END when the session is over (a
		 * store error reads as not over, the client may reconnect) */
		int k = kt_follow_caught_up(&ws->fw, kt_web_store());

		if (k == KT_FOLLOW_DRAIN) {
			/* just ended: its last chunks may have been committed
			 * after the fill above; one more fill drains them */
			r = web_cursor_fill(&ws->cur, &ws->out, KT_WEB_WRITE_BUDGET, web_enc_binary,
					    &ws->out);
			if (r < 0)
				return r;
		}
		if (r == 0) {
			ws->produced = true;
			if (k == KT_FOLLOW_DRAIN || k == KT_FOLLOW_DONE) {
				ws->ended = true;
				r = web_rec_put(&ws->out, WEB_REC_END, ws->fw.end_us, NULL, 0);
				if (r)
					return r;
			}
		}
	} else if (r == 0) {
		ws->produced = true;
		if (kt_acast_finish(&ws->ac))
			return -ENOMEM;
	}
	if (ws->export && fflush(ws->fp))
		return -ENOMEM;
	return 0;
}

int stream_writeable(struct lws *wsi, struct conn *c)
{
	struct web_stream *ws = c->stream;
	size_t n;
	bool last;

	if (!ws)
		return -1;
	if (!ws->produced && web_buf_avail(&ws->out) < KT_WEB_WRITE_BUDGET && produce(ws))
		return -1;	/* mid-body: closing is the only way to tell the client */
	n = web_buf_avail(&ws->out);
	if (!n && ws->waiting) {
		limits_stream_progress(wsi);
		lws_sul_schedule(lws_get_context(wsi), 0, &ws->sul, retry_tick, STREAM_RETRY_US);
		return 0;
	}
	if (n > KT_WEB_WRITE_BUDGET)
		n = KT_WEB_WRITE_BUDGET;
	last = ws->produced && n == web_buf_avail(&ws->out);
	if (web_write_piece(wsi, ws->out.p + ws->out.off, n, last))
		return -1;
	web_buf_consume(&ws->out, n);
	limits_stream_progress(wsi);	/* it reads: the stall deadline starts again */
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	stream_free(c);
	c->kind = CONN_NONE;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}
