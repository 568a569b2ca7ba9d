// SPDX-License-Identifier: Apache-2.0
/* A session's frames with follow, signals, gap warnings (framesrc.h). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "framesrc.h"
#include "log.h"
#include "progress.h"
#include "timefmt.h"
#include "satint.h"

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	caught = sig;
}

void kt_src_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: the poll sleep returns early with EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int kt_src_signal(void)
{
	return caught;
}

int kt_src_open(struct kt_src *s, struct kt_store *st,
		const struct kt_session_info *si, const char *cmd, bool follow)
{
	memset(s, 0, sizeof(*s));
	kt_reader_init(&s->r, st, si, follow);
	s->start_us = si->start_us;
	s->cmd = cmd;
	return kt_reader_rewind(&s->r);
}

void kt_src_close(struct kt_src *s)
{
	if (!s)
		return;
	kt_reader_close(&s->r);
}

static void warn_gap(struct kt_src *s, const struct kt_frame *f)
{
	uint64_t bytes = 0, events = 0;
	char off[32];
	int bad;

	/* the payload format belongs to the store (FORMAT.md) */
	bad = kt_frame_gap_parse(f, &bytes, &events);
	s->gaps++;
	s->gap_bytes += bytes;
	s->gap_events += events;
	if (s->gaps > KT_SRC_MAX_GAP_WARNINGS)
		return;
	tf_format_offset(kt_sub_sat(f->ts_us, s->start_us), off, sizeof(off));
	if (bad)
		pr_warn("%s: data lost at %s (amount unknown: malformed gap record)", s->cmd, off);
	else
		pr_warn("%s: %llu bytes (%llu events) lost at %s: the output has a hole there",
			s->cmd, (unsigned long long)bytes, (unsigned long long)events, off);
}

int kt_src_next(struct kt_src *s, int64_t until_us, struct kt_frame *f)
{
	int err;

	if (caught)
		return -EINTR;
	/* 0 = end of what is stored now (or a later frame, kept).  A corrupt
	 * chunk (logged by the store) is skipped so the rest still comes. */
	err = kt_reader_next(&s->r, until_us, f);
	if (err <= 0)
		return err;
	if (f->type == KT_FRAME_OUT || f->type == KT_FRAME_IN)
		s->payload += f->len;
	else if (f->type == KT_FRAME_GAP)
		warn_gap(s, f);
	return 1;
}

int kt_src_wait(struct kt_src *s)
{
	struct timespec ts = { 0, KT_SRC_POLL_MS * 1000000L };
	int ret;

	if (!kt_reader_following(&s->r))
		return 0;
	if (caught)
		return -EINTR;
	ret = kt_reader_more(&s->r);
	if (ret < 0)
		return ret;
	if (ret == KT_FOLLOW_DRAIN)
		return 1;
	if (nanosleep(&ts, NULL) && caught)
		return -EINTR;
	return 1;
}

int kt_src_finish(struct kt_src *s)
{
	kt_src_close(s);
	if (s->gaps > KT_SRC_MAX_GAP_WARNINGS)
		pr_warn("%s: %llu gaps in all, %llu bytes (%llu events) lost", s->cmd,
			(unsigned long long)s->gaps, (unsigned long long)s->gap_bytes,
			(unsigned long long)s->gap_events);
	if (s->r.corrupt) {
		pr_err("%s: %u corrupt chunk(s) skipped: the output is incomplete",
		       s->cmd, s->r.corrupt);
		return -EBADMSG;
	}
	return 0;
}

int kt_src_copy(struct kt_src *s, uint8_t type, FILE *out, struct kt_progress *pg)
{
	struct kt_frame f;
	int err;

	for (;;) {
		while ((err = kt_src_next(s, INT64_MAX, &f)) > 0) {
			if (f.type == type && f.len && fwrite(f.data, 1, f.len, out) != f.len)
				return -EIO;
			if (pg)
				kt_progress_update(pg, s->payload);
		}
		if (err < 0)
			return err;
		/* a follower (tail -f | grep) sees each batch as it comes */
		if (s->r.follow && fflush(out))
			return -EIO;
		err = kt_src_wait(s);
		if (err <= 0)
			return err;
	}
}
