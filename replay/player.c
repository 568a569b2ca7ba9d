// SPDX-License-Identifier: Apache-2.0
/* The replay player core (see player.h): no terminal, no clock of its own. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "player.h"
#include "satint.h"

/*
 * Undoing what a replayed program may have left set.  DECSC/DECRC around
 * the margin reset because CSI r homes the cursor; origin mode is left
 * alone (resetting it homes the cursor too, and DECRC would restore it).
 * The first 8 bytes leave the alternate screen: only written when the
 * output entered it, since ?1049l also restores a saved cursor position.
 */
#define LEAVE_ALT "\x1b[?1049l"
const char kt_play_reset_seq[] =
	LEAVE_ALT
	"\x1b[0m"                 /* SGR */
	"\x1b(B\x0f"              /* G0 = ASCII, shifted in */
	"\x1b[4l"                 /* insert mode off */
	"\x1b[?1l\x1b>"           /* cursor keys and keypad: normal */
	"\x1b[?5l\x1b[?7h"        /* no reverse video, autowrap on */
	"\x1b[?25h"               /* cursor shown */
	"\x1b[?2004l"             /* bracketed paste off */
	"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1004l\x1b[?1006l\x1b[?1015l" /* mouse, focus */
	"\x1b" "7\x1b[r\x1b" "8"; /* scroll margins */

/* ------------------------------------------------------------ mode scanner */

enum { M_GROUND, M_ESC, M_CSI, M_STR, M_STR_ESC };

static void apply_modes(struct kt_modes *m, bool set)
{
	for (int i = 0; i < m->nparam; i++) {
		switch (m->param[i]) {
		case 47: case 1047: case 1049: m->alt = set; break;
		case 25: m->cursor_hidden = !set; break;
		}
	}
}

void kt_modes_scan(struct kt_modes *m, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = buf[i];

		switch (m->st) {
		case M_GROUND:
			if (c == 0x1b) {
				m->st = M_ESC;
			} else if (c == 0x9b) { /* C1 CSI (8-bit) */
				m->st = M_CSI;
				m->priv = false;
				m->nparam = 0;
			} else {
				/* fast path: nothing but ESC matters */
				const uint8_t *e = memchr(buf + i, 0x1b, len - i);

				i = e ? (size_t)(e - buf) - 1 : len;
			}
			break;
		case M_ESC:
			m->st = M_GROUND;
			if (c == '[') {
				m->st = M_CSI;
				m->priv = false;
				m->nparam = 0;
			} else if (c == ']' || c == 'P' || c == '_' || c == '^' || c == 'X') {
				m->st = M_STR;
			} else if (c == 'c') { /* RIS */
				m->alt = m->cursor_hidden = false;
			} else if (c == 0x1b) {
				m->st = M_ESC;
			}
			break;
		case M_CSI:
			if (c == '?' && m->nparam == 0) {
				m->priv = true;
			} else if (c >= '0' && c <= '9') {
				if (m->nparam == 0)
					m->param[m->nparam++] = 0;
				if (m->param[m->nparam - 1] < 100000)
					m->param[m->nparam - 1] = m->param[m->nparam - 1] * 10 + (c - '0');
			} else if (c == ';') {
				if (m->nparam == 0)
					m->param[m->nparam++] = 0;
				if (m->nparam < (int)(sizeof(m->param) / sizeof(m->param[0])))
					m->param[m->nparam++] = 0;
			} else if (c >= 0x40 && c <= 0x7e) {
				if (m->priv && (c == 'h' || c == 'l'))
					apply_modes(m, c == 'h');
				m->st = M_GROUND;
			} else if (c == 0x1b) {
				m->st = M_ESC;
			} else if (c < 0x20 || c > 0x3f) {
				m->st = M_GROUND; /* cancelled */
			}
			break;
		case M_STR:
			if (c == 0x07 || c == 0x9c)
				m->st = M_GROUND;
			else if (c == 0x1b)
				m->st = M_STR_ESC;
			break;
		case M_STR_ESC:
			/* ESC \ ends the string; any other ESC x starts over there */
			m->st = M_GROUND;
			if (c != '\\') {
				m->st = M_ESC;
				i--;
			}
			break;
		}
	}
}

/* ------------------------------------------------------------ output */

size_t kt_play_gap_notice(const struct kt_frame *f, char *buf, size_t len)
{
	uint64_t bytes = 0, events = 0;
	char what[48];
	int n;

	if (kt_frame_gap_parse(f, &bytes, &events))
		snprintf(what, sizeof(what), "data");
	else
		snprintf(what, sizeof(what), "%llu bytes", (unsigned long long)bytes);
	n = snprintf(buf, len, "\r\n\x1b[7m[kubetape: %s lost here]\x1b[0m\r\n", what);
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

static int out(struct kt_player *p, const void *buf, size_t len)
{
	if (!len)
		return 0;
	kt_modes_scan(&p->modes, buf, len);
	p->bytes += len;
	return p->write(p->write_ctx, buf, len);
}

/* 1 if the frame showed something (for '.'), 0 if not, <0 error */
static int emit(struct kt_player *p, const struct kt_frame *f)
{
	char notice[96];
	int err;

	if (f->ts_us > p->virt_us)
		p->virt_us = f->ts_us;
	p->last_us = f->ts_us;
	p->frames++;
	switch (f->type) {
	case KT_FRAME_OUT:
		err = out(p, f->data, f->len);
		return err ? err : f->len > 0;
	case KT_FRAME_GAP:
		err = out(p, notice, kt_play_gap_notice(f, notice, sizeof(notice)));
		return err ? err : 1;
	default:
		/* IN: the terminal echo is in OUT already; RESIZE: a terminal
		 * cannot be resized from inside (size warnings: cmd_replay.c) */
		return 0;
	}
}

/* Fetch the next frame into p->next: 1, 0 (none now), <0 */
static int peek(struct kt_player *p)
{
	int err;

	if (p->have_next)
		return 1;
	err = p->src.next(p->src.ctx, &p->next);
	if (err > 0)
		p->have_next = true;
	return err;
}

/* ------------------------------------------------------------ API */

void kt_player_init(struct kt_player *p, const struct kt_player_cfg *cfg,
		    const struct kt_play_src *src, kt_play_write_fn write, void *wctx,
		    int64_t start_us, int64_t end_us)
{
	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	p->src = *src;
	p->write = write;
	p->write_ctx = wctx;
	p->start_us = start_us;
	p->end_us = end_us;
	p->speed = cfg->speed;
	p->virt_us = p->last_us = start_us;
}

void kt_player_free(struct kt_player *p)
{
	if (!p)
		return;
	free(p->stops);
	p->stops = NULL;
	p->nstops = 0;
}

int kt_player_set_commands(struct kt_player *p, const int64_t *ts, size_t n)
{
	int64_t *v = n ? malloc(n * sizeof(*v)) : NULL;
	size_t k = 0;

	if (n && !v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!k || ts[i] - v[k - 1] > KT_PLAY_CMD_BURST_US)
			v[k++] = ts[i];
	free(p->stops);
	p->stops = v;
	p->nstops = k;
	return 0;
}

int64_t kt_player_pos(const struct kt_player *p)
{
	return p->virt_us;
}

static int seek(struct kt_player *p, int64_t target_us, int64_t now_us, bool draw)
{
	uint8_t *redraw = NULL;
	size_t len = 0;
	int err;

	if (target_us < p->start_us)
		target_us = p->start_us;
	if (p->end_us && target_us > p->end_us)
		target_us = p->end_us;
	p->have_next = false; /* the source's frame pointer dies with the seek */
	err = p->src.seek(p->src.ctx, target_us, &redraw, &len);
	if (err)
		return err;
	err = draw ? out(p, redraw, len) : 0;
	free(redraw);
	if (err)
		return err;
	p->seeks++;
	p->virt_us = p->last_us = target_us;
	p->wall_us = now_us;
	/* from the redraw's state to the target: at once, paused or not */
	while ((err = peek(p)) > 0 && p->next.ts_us <= target_us) {
		p->have_next = false;
		err = emit(p, &p->next);
		if (err < 0)
			return err;
	}
	if (err < 0)
		return err;
	p->virt_us = p->last_us = target_us;
	return 0;
}

int kt_player_seek(struct kt_player *p, int64_t target_us, int64_t now_us)
{
	return seek(p, target_us, now_us, true);
}

int kt_player_start(struct kt_player *p, int64_t target_us, int64_t now_us, bool draw)
{
	return seek(p, target_us, now_us, draw);
}

/* The wall clock drives virt only while playing. */
static void advance(struct kt_player *p, int64_t now_us)
{
	if (!p->paused && p->speed > 0 && now_us > p->wall_us)
		p->virt_us = kt_add_sat(p->virt_us, (int64_t)((double)(now_us - p->wall_us) * p->speed));
	p->wall_us = now_us;
}

int kt_player_tick(struct kt_player *p, int64_t now_us, int64_t *wait_us)
{
	uint64_t batch = p->bytes + KT_PLAY_BATCH_BYTES;
	int err;

	advance(p, now_us);
	*wait_us = -1;
	for (;;) {
		int64_t due;

		err = peek(p);
		if (err < 0)
			return err;
		if (err == 0) {
			err = p->src.more(p->src.ctx);
			if (err < 0)
				return err;
			if (err == 0)
				return KT_PLAY_END;
			/* following: the next frame may already be stored */
			err = peek(p);
			if (err < 0)
				return err;
			if (err == 0)
				return KT_PLAY_IDLE;
		}
		if (p->paused)
			return KT_PLAY_WAIT;
		due = p->next.ts_us;
		if (p->cfg.idle_limit_us > 0 && due > kt_add_sat(p->last_us, p->cfg.idle_limit_us))
			due = kt_add_sat(p->last_us, p->cfg.idle_limit_us);
		if (p->speed > 0 && due > p->virt_us) {
			double w = (double)kt_sub_sat(due, p->virt_us) / p->speed;

			*wait_us = w < 1 ? 1 : (int64_t)w;
			return KT_PLAY_WAIT;
		}
		if (p->bytes >= batch) {
			*wait_us = 0; /* read keys, then come back */
			return KT_PLAY_WAIT;
		}
		p->have_next = false;
		err = emit(p, &p->next);
		if (err < 0)
			return err;
	}
}

static int64_t next_stop(const struct kt_player *p)
{
	for (size_t i = 0; i < p->nstops; i++)
		if (p->stops[i] > p->virt_us)
			return p->stops[i];
	return -1;
}

static int64_t prev_stop(const struct kt_player *p)
{
	int64_t t = -1;

	for (size_t i = 0; i < p->nstops; i++)
		if (p->stops[i] < kt_sub_sat(p->virt_us, KT_PLAY_PREV_SLACK_US))
			t = p->stops[i];
	return t < 0 ? p->start_us : t;
}

static int step(struct kt_player *p)
{
	int err;

	/* frames until one that shows something (typed input, resizes don't) */
	while ((err = peek(p)) > 0) {
		p->have_next = false;
		err = emit(p, &p->next);
		if (err)
			return err < 0 ? err : 0;
	}
	return err;
}

int kt_player_key(struct kt_player *p, enum kt_key key, int64_t now_us)
{
	int64_t t;

	advance(p, now_us);
	switch (key) {
	case KT_KEY_QUIT:
		return KT_PLAY_QUIT;
	case KT_KEY_PAUSE:
		p->paused = !p->paused;
		return 0;
	case KT_KEY_FASTER:
		if (p->speed > 0 && p->speed * 2 <= KT_PLAY_SPEED_MAX)
			p->speed *= 2;
		return 0;
	case KT_KEY_SLOWER:
		if (p->speed > 0 && p->speed / 2 >= KT_PLAY_SPEED_MIN)
			p->speed /= 2;
		return 0;
	case KT_KEY_STEP:
		return p->paused ? step(p) : 0;
	case KT_KEY_NEXT_CMD:
		t = next_stop(p);
		return t < 0 ? 0 : kt_player_seek(p, t, now_us);
	case KT_KEY_PREV_CMD:
		return kt_player_seek(p, prev_stop(p), now_us);
	case KT_KEY_FORWARD:
		t = kt_add_sat(p->virt_us, KT_PLAY_SEEK_STEP_US);
		/* past the end of a finished session: its last screen */
		return kt_player_seek(p, t, now_us);
	case KT_KEY_BACK:
		return kt_player_seek(p, kt_sub_sat(p->virt_us, KT_PLAY_SEEK_STEP_US), now_us);
	default:
		return 0;
	}
}

const char *kt_player_reset(const struct kt_player *p)
{
	return p->modes.alt ? kt_play_reset_seq : kt_play_reset_seq + sizeof(LEAVE_ALT) - 1;
}

int kt_player_finish(struct kt_player *p)
{
	const char *seq = kt_player_reset(p);

	return p->write(p->write_ctx, seq, strlen(seq));
}
