// SPDX-License-Identifier: Apache-2.0
/*
 * A session reader: following, seeking with the no-keyframe fallback, and
 * the defaults every reader shares (reader.h says why each rule holds).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "reader.h"
#include "screen.h"
#include "store_int.h"
#include "pg/pgr_stream.h"
#include "term/fastvt.h"

const char *kt_store_default_path(void)
{
	const char *env = getenv(KT_DB_ENV);

	return env && *env ? env : KT_DEFAULT_DB_PATH;
}

void kt_session_term_size(const struct kt_session_info *s, unsigned *cols, unsigned *rows)
{
	*cols = s->cols ? s->cols : KT_SCREEN_DEFAULT_COLS;
	*rows = s->rows ? s->rows : KT_SCREEN_DEFAULT_ROWS;
}

/* ------------------------------------------------------------- following */

static int64_t env_seconds(const char *name, int64_t dflt)
{
	const char *v = getenv(name);
	char *end;
	long long n;

	if (!v || !*v)
		return dflt * 1000000;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || *end || n <= 0 || n > 86400) {
		pr_warn("%s='%s' is not a number of seconds (1..86400): using %lld", name, v,
			(long long)dflt);
		n = dflt;
	}
	return (int64_t)n * 1000000;
}

void kt_follow_init(struct kt_follow *fw, int64_t session_id)
{
	memset(fw, 0, sizeof(*fw));
	fw->session_id = session_id;
	fw->stall_us = env_seconds(KT_FOLLOW_STALL_ENV, KT_FOLLOW_STALL_S);
	fw->outage_max_us = env_seconds(KT_FOLLOW_OUTAGE_ENV, KT_FOLLOW_OUTAGE_S);
}

int kt_follow_read_error(struct kt_follow *fw, struct kt_store *st, int err)
{
	int64_t now = kt_mono_us(), down;

	if (err != -ECONNRESET || !st->pg || fw->ended)
		return err;
	if (!fw->down_since) {
		fw->down_since = now;
		pr_warn("store %s: following session %" PRId64 ": the server is unreachable; "
			"waiting for it (at most %" PRId64 " s)", st->path, fw->session_id,
			fw->outage_max_us / 1000000);
	}
	/* the connection's own count starts at its first reconnect try */
	down = now - fw->down_since;
	if (down < kt_pgr_down_us(st->pg))
		down = kt_pgr_down_us(st->pg);
	if (down >= fw->outage_max_us) {
		pr_err("store %s: following session %" PRId64 ": the server has been unreachable "
		       "for %" PRId64 " s: giving up (the session is recorded on its node either "
		       "way; follow it again when the server is back)", st->path, fw->session_id,
		       down / 1000000);
		return err;
	}
	return 0;
}

/* The node's shipper, seen from the server: its commit mark has moved
 * (or not) since the follower last looked.  The follower's own clock
 * times it: the node's and the server's need not agree. */
static void watch_node(struct kt_follow *fw, struct kt_store *st, const char *src,
		       int64_t synced_us)
{
	int64_t now = kt_mono_us();
	char when[32] = "never";
	struct tm tm;
	time_t t;

	if (!fw->sync_seen || synced_us != fw->sync_mark) {
		if (fw->stall_noted)
			pr_warn("store %s: following session %" PRId64 ": node %s syncs again",
				st->path, fw->session_id, src);
		fw->sync_mark = synced_us;
		fw->sync_seen = now;
		fw->stall_noted = false;
		return;
	}
	if (fw->stall_noted || now - fw->sync_seen < fw->stall_us)
		return;
	fw->stall_noted = true;
	t = (time_t)(synced_us / 1000000);
	if (synced_us > 0 && gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	pr_warn("store %s: following session %" PRId64 ": node %s has not synced for %" PRId64
		" s (its last sync: %s, node clock): its shipper is stopped or cannot reach "
		"the server, so the session may have ended on the node without the server "
		"knowing; still waiting", st->path, fw->session_id, src,
		(now - fw->sync_seen) / 1000000, when);
}

int kt_follow_caught_up(struct kt_follow *fw, struct kt_store *st)
{
	struct kt_session_info *s;
	int err;

	if (fw->ended)
		return KT_FOLLOW_DONE;
	if (st->pg) {
		char src[256];
		int64_t synced;

		/* the server's rule for "its last chunks are in" (pgr_stream.h) */
		err = kt_pgr_follow_ended(st->pg, fw->session_id, &fw->ended, &fw->end_us, src,
					  &synced);
		if (err)
			return kt_follow_read_error(fw, st, err) ?: KT_FOLLOW_WAIT;
		if (fw->down_since) {
			pr_warn("store %s: following session %" PRId64 ": the server is back after "
				"%.1f s", st->path, fw->session_id, (kt_mono_us() - fw->down_since) / 1e6);
			fw->down_since = 0;
		}
		if (!fw->ended)
			watch_node(fw, st, src, synced);
		return fw->ended ? KT_FOLLOW_DRAIN : KT_FOLLOW_WAIT;
	}
	s = malloc(sizeof(*s)); /* large (strings inline): not on a caller's stack */
	if (!s)
		return -ENOMEM;
	err = kt_store_session_get(st, fw->session_id, s);
	if (!err && s->state != KT_SESSION_ACTIVE) {
		/* its last chunks were committed before the state changed:
		 * one more drain gets everything */
		fw->ended = true;
		fw->end_us = s->end_us;
	}
	free(s);
	if (err)
		return err;
	return fw->ended ? KT_FOLLOW_DRAIN : KT_FOLLOW_WAIT;
}

/* ------------------------------------------------------------- reader */

void kt_reader_init(struct kt_reader *r, struct kt_store *st, const struct kt_session_info *s,
		    bool follow)
{
	memset(r, 0, sizeof(*r));
	r->st = st;
	r->session_id = s->id;
	r->start_us = s->start_us;
	r->rows = s->rows;
	r->cols = s->cols;
	r->follow = follow;
	kt_follow_init(&r->fw, s->id);
}

void kt_reader_close(struct kt_reader *r)
{
	if (!r)
		return;
	kt_stream_close(r->stream);
	r->stream = NULL;
	r->have_peek = false;
}

int kt_reader_rewind(struct kt_reader *r)
{
	kt_reader_close(r);
	return kt_stream_open(r->st, r->session_id, 0, &r->stream);
}

/* The next stored frame; corrupt chunks (logged by the store) skipped. */
static int stream_next(struct kt_reader *r, struct kt_frame *f)
{
	int err;

	while ((err = kt_stream_next(r->stream, f)) == -EBADMSG)
		r->corrupt++;
	return err;
}

int kt_reader_next(struct kt_reader *r, int64_t until_us, struct kt_frame *f)
{
	int err;

	if (!r->stream)
		return 0;
	if (!r->have_peek) {
		/* 0 = end of what is stored now; a follower waits out the
		 * server's outage (the stream stays at its position) */
		err = stream_next(r, &r->peek);
		if (err < 0 && r->follow)
			err = kt_follow_read_error(&r->fw, r->st, err);
		if (err <= 0)
			return err;
		r->have_peek = true;
	}
	if (r->peek.ts_us > until_us)
		return 0;
	r->have_peek = false;
	*f = r->peek;
	return 1;
}

bool kt_reader_following(const struct kt_reader *r)
{
	return r->follow && !r->fw.ended;
}

int kt_reader_more(struct kt_reader *r)
{
	if (!r->follow)
		return KT_FOLLOW_DONE;
	return kt_follow_caught_up(&r->fw, r->st);
}

/* ------------------------------------------------------------- seeking */

/*
 * No keyframe at or before the target: render the frames before it into a
 * fastvt (the store's screen model, store/term/fastvt.h) and serialize that.  r->stream is at the session start.  The
 * first frame at or after the target is kept in r->peek.
 */
static int fast_forward(struct kt_reader *r, int64_t target_us, uint16_t rows,
			uint16_t cols, uint8_t **redraw, size_t *len)
{
	struct fv *scr = NULL;
	struct kt_frame f;
	char notice[96];
	int err;

	err = fv_new(rows, cols, &scr); /* normalised there (screen.h) */
	if (err)
		return err;
	r->ff_seeks++;
	for (;;) {
		uint16_t c, h;

		if (r->have_peek) {
			f = r->peek;
		} else {
			err = stream_next(r, &f);
			if (err < 0)
				goto cleanup;
			if (err == 0)
				break;
		}
		/* -EAGAIN: a long unfinished sequence is passing through; the
		 * state after the next frames can be drawn */
		if (f.ts_us >= target_us) {
			err = fv_serialize(scr, redraw, len);
			if (err != -EAGAIN) {
				r->peek = f;
				r->have_peek = true;
				goto cleanup;
			}
		}
		r->have_peek = false;
		switch (f.type) {
		case KT_FRAME_OUT:
			r->ff_bytes += f.len;
			err = fv_feed(scr, f.data, f.len);
			break;
		case KT_FRAME_RESIZE:
			err = 0;
			if (!kt_frame_resize_parse(&f, &c, &h))
				err = fv_resize(scr, h, c);
			break;
		case KT_FRAME_GAP:
			/* the notice the player draws, so both paths agree */
			err = r->gap_notice ?
			      fv_feed(scr, notice, r->gap_notice(&f, notice, sizeof(notice))) : 0;
			break;
		default:
			err = 0;
		}
		if (err)
			goto cleanup;
	}
	/* the end of what is stored comes before the target */
	err = fv_serialize(scr, redraw, len);
cleanup:
	fv_free(scr);
	return err;
}

int kt_reader_seek(struct kt_reader *r, int64_t target_us, uint8_t **redraw, size_t *len)
{
	uint16_t rows = r->rows, cols = r->cols;
	uint8_t *kf = NULL;
	size_t kf_len = 0;
	int64_t kf_ts = 0;
	int err;

	*redraw = NULL;
	*len = 0;
	kt_reader_close(r);
	if (r->no_keyframes)
		err = kt_stream_open(r->st, r->session_id, 0, &r->stream);
	else
		err = kt_stream_open_at(r->st, r->session_id, target_us, &r->stream,
					&kf, &kf_len, &kf_ts, &rows, &cols);
	if (err)
		return err;
	if (kf) {
		r->kf_seeks++;
		r->kf_bytes += kf_len;
		*redraw = kf;
		*len = kf_len;
		return 0;
	}
	return fast_forward(r, target_us, rows, cols, redraw, len);
}

/* ------------------------------------------------------------- maintenance */

int kt_store_index_all(struct kt_store *st, int64_t session_id)
{
	int ret;

	while ((ret = kt_index_session(st, session_id, 0)) == 1)
		;
	return ret;
}

struct round {
	struct kt_store *st;
	size_t budget;
	const struct kt_maintain_ops *ops;
	bool more;
};

static int index_one(int64_t id, void *ctx)
{
	struct round *r = ctx;
	/* one budget per session per round: a flooding session cannot
	 * starve the others' keyframes */
	int ret = kt_index_session(r->st, id, r->budget);

	if (ret > 0)
		r->more = true;
	return r->ops->done(id, false, ret, r->ops->ctx);
}

static int compact_one(int64_t id, void *ctx)
{
	struct round *r = ctx;
	int ret = kt_store_compact_session(r->st, id, 4 * r->budget, NULL);

	if (ret > 0)
		r->more = true;
	return r->ops->done(id, true, ret, r->ops->ctx);
}

int kt_store_maintain_round(struct kt_store *st, size_t budget, const struct kt_maintain_ops *ops)
{
	struct round r = { .st = st, .budget = budget, .ops = ops };

	/* listing errors are the store's to log; the next round lists again */
	kt_index_pending(st, index_one, &r);
	/* compaction merges only chunks the index has passed: after it */
	if (!ops->stop || !ops->stop(ops->ctx))
		kt_compact_pending(st, compact_one, &r);
	return r.more;
}

int kt_store_maintain(struct kt_store *st, int64_t session_id, struct kt_compact_stats *cs)
{
	int ret = kt_store_index_all(st, session_id);

	if (ret)
		return ret;
	while ((ret = kt_store_compact_session(st, session_id, 0, cs)) == 1)
		;
	return ret;
}
