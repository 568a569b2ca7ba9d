// SPDX-License-Identifier: Apache-2.0
/*
 * The replay player core on a synthetic frame list with a fake clock
 * (timing, speed, idle cap, pause/step, command stops, seek targets, gap
 * notices, the final terminal reset), the key decoder (split escape
 * sequences) and `--from` parsing.  No terminal, no store: the Makefile
 * links unit tests with libkubetape only, so the replay sources are
 * compiled in here.
 */
#include <errno.h>
#include <stdint.h>

#include "kt_test.h"
#include "../../replay/keys.c"
#include "../../replay/player.c"
#include "../../replay/timefmt.c"

#define S 1000000LL
#define MS 1000LL
#define T0 (1795341600LL * S)

/* ------------------------------------------------------------ fake source */

struct fsrc {
	struct kt_frame f[64];
	char text[64][16];
	size_t n, pos;
	int64_t kf[8];      /* keyframe times: seek positions after the last <= target */
	size_t nkf;
	size_t visible;     /* frames "stored" now (follow tests); n if 0 */
	int more;           /* what more() answers */
	int seeks;
	int64_t last_kf;
};

static void add(struct fsrc *s, uint8_t type, int64_t t, const char *text)
{
	size_t i = s->n++;

	snprintf(s->text[i], sizeof(s->text[i]), "%s", text);
	s->f[i] = (struct kt_frame){ .type = type, .ts_us = T0 + t,
				     .len = (uint32_t)strlen(s->text[i]),
				     .data = (const uint8_t *)s->text[i] };
}

static void add_gap(struct fsrc *s, int64_t t, uint8_t bytes)
{
	size_t i = s->n++;

	/* varint lost_bytes, varint lost_events (< 128 each) */
	s->text[i][0] = (char)bytes;
	s->text[i][1] = 1;
	s->f[i] = (struct kt_frame){ .type = KT_FRAME_GAP, .ts_us = T0 + t, .len = 2,
				     .data = (const uint8_t *)s->text[i] };
}

static int f_seek(void *ctx, int64_t target, uint8_t **redraw, size_t *len)
{
	struct fsrc *s = ctx;
	int64_t kf = T0;
	char buf[32];

	for (size_t i = 0; i < s->nkf; i++)
		if (T0 + s->kf[i] <= target)
			kf = T0 + s->kf[i];
	s->pos = 0;
	while (s->pos < s->n && s->f[s->pos].ts_us <= kf && kf > T0)
		s->pos++;
	s->seeks++;
	s->last_kf = kf - T0;
	snprintf(buf, sizeof(buf), "<KF%lld>", (long long)((kf - T0) / MS));
	*redraw = (uint8_t *)strdup(buf);
	*len = strlen(buf);
	return *redraw ? 0 : -ENOMEM;
}

static int f_next(void *ctx, struct kt_frame *f)
{
	struct fsrc *s = ctx;
	size_t lim = s->visible ? s->visible : s->n;

	if (s->pos >= lim)
		return 0;
	*f = s->f[s->pos++];
	return 1;
}

static int f_more(void *ctx)
{
	return ((struct fsrc *)ctx)->more;
}

/* ------------------------------------------------------------ fake terminal */

static char g_out[8192];
static size_t g_len;

static int w_buf(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	if (g_len + len >= sizeof(g_out))
		return -ENOSPC;
	memcpy(g_out + g_len, buf, len);
	g_len += len;
	g_out[g_len] = 0;
	return 0;
}

static void clear_out(void)
{
	g_len = 0;
	g_out[0] = 0;
}

static struct fsrc g_src;

static void setup(struct kt_player *p, double speed, int64_t idle)
{
	struct kt_player_cfg cfg = { .speed = speed, .idle_limit_us = idle };
	struct kt_play_src src = { .ctx = &g_src, .seek = f_seek, .next = f_next, .more = f_more };

	kt_player_init(p, &cfg, &src, w_buf, NULL, T0, T0 + 60 * S);
	clear_out();
}

/* a, b, c at 0, 1 s, 2 s; d at 10 s */
static void basic_frames(void)
{
	memset(&g_src, 0, sizeof(g_src));
	add(&g_src, KT_FRAME_OUT, 0, "a");
	add(&g_src, KT_FRAME_OUT, 1 * S, "b");
	add(&g_src, KT_FRAME_OUT, 2 * S, "c");
	add(&g_src, KT_FRAME_OUT, 10 * S, "d");
}

/* ------------------------------------------------------------ timing */

static void t_timing_speed1(void)
{
	struct kt_player p;
	int64_t w;

	basic_frames();
	setup(&p, 1, 0);
	CHECK_EQ_INT(kt_player_start(&p, T0, 0, false), 0);
	/* no redraw when not drawing; the frame at the target is written */
	CHECK_EQ_STR(g_out, "a");
	CHECK_EQ_INT(kt_player_tick(&p, 0, &w), KT_PLAY_WAIT);
	CHECK_EQ_STR(g_out, "a");
	CHECK_EQ_INT(w, 1 * S);
	CHECK_EQ_INT(kt_player_tick(&p, 999 * MS, &w), KT_PLAY_WAIT);
	CHECK_EQ_STR(g_out, "a");
	CHECK_EQ_INT(w, 1 * MS);
	CHECK_EQ_INT(kt_player_tick(&p, 1 * S, &w), KT_PLAY_WAIT);
	CHECK_EQ_STR(g_out, "ab");
	CHECK_EQ_INT(kt_player_tick(&p, 9 * S, &w), KT_PLAY_WAIT);
	CHECK_EQ_STR(g_out, "abc");
	CHECK_EQ_INT(w, 1 * S);
	CHECK_EQ_INT(kt_player_tick(&p, 10 * S, &w), KT_PLAY_END);
	CHECK_EQ_STR(g_out, "abcd");
	kt_player_free(&p);
}

static void t_timing_speed_and_keys(void)
{
	struct kt_player p;
	int64_t w;

	basic_frames();
	setup(&p, 2, 0);
	kt_player_start(&p, T0, 0, false);
	kt_player_tick(&p, 0, &w);
	CHECK_EQ_INT(w, 500 * MS);           /* 1 s of session at x2 */
	kt_player_tick(&p, 500 * MS, &w);
	CHECK_EQ_STR(g_out, "ab");
	/* '+' doubles from now on: the next second of session takes 250 ms */
	CHECK_EQ_INT(kt_player_key(&p, KT_KEY_FASTER, 500 * MS), 0);
	kt_player_tick(&p, 500 * MS, &w);
	CHECK_EQ_INT(w, 250 * MS);
	CHECK_EQ_INT(kt_player_key(&p, KT_KEY_SLOWER, 500 * MS), 0);
	CHECK_EQ_INT(kt_player_key(&p, KT_KEY_SLOWER, 500 * MS), 0);
	kt_player_tick(&p, 500 * MS, &w);
	CHECK_EQ_INT(w, 1 * S);              /* back at x1 */
	kt_player_free(&p);
}

static void t_no_timing(void)
{
	struct kt_player p;
	int64_t w;

	basic_frames();
	setup(&p, 0, 0);
	kt_player_start(&p, T0, 0, false);
	CHECK_EQ_INT(kt_player_tick(&p, 0, &w), KT_PLAY_END);
	CHECK_EQ_STR(g_out, "abcd");
	kt_player_free(&p);
}

static void t_idle_limit(void)
{
	struct kt_player p;
	int64_t w;

	basic_frames();
	setup(&p, 1, 2 * S);
	kt_player_start(&p, T0, 0, false);
	kt_player_tick(&p, 0, &w);
	kt_player_tick(&p, 2 * S, &w);
	CHECK_EQ_STR(g_out, "abc");
	CHECK_EQ_INT(w, 2 * S);              /* 8 s pause cut to 2 s */
	CHECK_EQ_INT(kt_player_tick(&p, 4 * S, &w), KT_PLAY_END);
	CHECK_EQ_STR(g_out, "abcd");
	/* the clock jumped over the cut: position is the frame's time */
	CHECK_EQ_INT(kt_player_pos(&p) - T0, 10 * S);
	kt_player_free(&p);
}

/* ------------------------------------------------------------ pause, step */

static void t_pause_step(void)
{
	struct kt_player p;
	int64_t w;

	basic_frames();
	/* typed input between b and c: '.' skips what shows nothing */
	g_src.n = 2;
	add(&g_src, KT_FRAME_IN, 1500 * MS, "x");
	add(&g_src, KT_FRAME_OUT, 2 * S, "c");
	add(&g_src, KT_FRAME_OUT, 10 * S, "d");
	setup(&p, 1, 0);
	kt_player_start(&p, T0, 0, false);
	kt_player_tick(&p, 0, &w);
	CHECK_EQ_INT(kt_player_key(&p, KT_KEY_PAUSE, 500 * MS), 0);
	CHECK_EQ_INT(kt_player_tick(&p, 5 * S, &w), KT_PLAY_WAIT);
	CHECK_EQ_INT(w, -1);                 /* paused: wait for a key */
	CHECK_EQ_STR(g_out, "a");
	CHECK_EQ_INT(kt_player_key(&p, KT_KEY_STEP, 5 * S), 0);
	CHECK_EQ_STR(g_out, "ab");
	CHECK_EQ_INT(kt_player_key(&p, KT_KEY_STEP, 5 * S), 0);
	CHECK_EQ_STR(g_out, "abc");          /* the IN frame was stepped over */
	CHECK_EQ_INT(kt_player_pos(&p) - T0, 2 * S);
	/* resume: d is 8 s of session away, counted from the resume */
	CHECK_EQ_INT(kt_player_key(&p, KT_KEY_PAUSE, 6 * S), 0);
	kt_player_tick(&p, 6 * S, &w);
	CHECK_EQ_INT(w, 8 * S);
	/* '.' while playing does nothing */
	CHECK_EQ_INT(kt_player_key(&p, KT_KEY_STEP, 6 * S), 0);
	CHECK_EQ_STR(g_out, "abc");
	kt_player_free(&p);
}

/* ------------------------------------------------------------ seeking */

static void t_seek_keyframe(void)
{
	struct kt_player p;
	int64_t w;

	basic_frames();
	g_src.kf[g_src.nkf++] = 1 * S;       /* a keyframe right after b */
	setup(&p, 1, 0);
	/* --from 2.5 s: the keyframe, then c at once, then timing from 2.5 s */
	CHECK_EQ_INT(kt_player_start(&p, T0 + 2500 * MS, 100 * S, true), 0);
	CHECK_EQ_STR(g_out, "<KF1000>c");
	CHECK_EQ_INT(g_src.last_kf, 1 * S);
	CHECK_EQ_INT(kt_player_tick(&p, 100 * S, &w), KT_PLAY_WAIT);
	CHECK_EQ_INT(w, 7500 * MS);
	/* a seek while paused still draws the target's screen */
	kt_player_key(&p, KT_KEY_PAUSE, 100 * S);
	clear_out();
	CHECK_EQ_INT(kt_player_seek(&p, T0, 100 * S), 0);
	CHECK_EQ_STR(g_out, "<KF0>a");
	kt_player_free(&p);
}

static void t_seek_arrows_clamp(void)
{
	struct kt_player p;
	int64_t w;

	basic_frames();
	setup(&p, 1, 0);
	kt_player_start(&p, T0, 0, false);
	kt_player_tick(&p, 3 * S, &w);
	CHECK_EQ_STR(g_out, "abc");
	clear_out();
	/* -10 s from 3 s: the session start, not before it */
	CHECK_EQ_INT(kt_player_key(&p, KT_KEY_BACK, 3 * S), 0);
	CHECK_EQ_INT(kt_player_pos(&p), T0);
	CHECK_EQ_STR(g_out, "<KF0>a");
	/* +10 s: b, c at once, d is due at 10 s */
	clear_out();
	CHECK_EQ_INT(kt_player_key(&p, KT_KEY_FORWARD, 3 * S), 0);
	CHECK_EQ_INT(kt_player_pos(&p) - T0, 10 * S);
	CHECK_EQ_STR(g_out, "<KF0>abcd");
	/* past the end of an ended session: its end */
	CHECK_EQ_INT(kt_player_seek(&p, T0 + 1000 * S, 3 * S), 0);
	CHECK_EQ_INT(kt_player_pos(&p) - T0, 60 * S);
	CHECK_EQ_INT(kt_player_tick(&p, 3 * S, &w), KT_PLAY_END);
	kt_player_free(&p);
}

static void t_commands(void)
{
	/* a pipeline at 5 s (two execs 2 ms apart) is one stop */
	const int64_t cmds[] = { T0, T0 + 5 * S, T0 + 5 * S + 2 * MS, T0 + 20 * S, T0 + 30 * S };
	struct kt_player p;

	basic_frames();
	setup(&p, 1, 0);
	CHECK_EQ_INT(kt_player_set_commands(&p, cmds, 5), 0);
	CHECK_EQ_INT(p.nstops, 4);
	kt_player_start(&p, T0, 0, false);
	CHECK_EQ_INT(kt_player_key(&p, KT_KEY_NEXT_CMD, 0), 0);
	CHECK_EQ_INT(kt_player_pos(&p) - T0, 5 * S);
	CHECK_EQ_INT(kt_player_key(&p, KT_KEY_NEXT_CMD, 0), 0);
	CHECK_EQ_INT(kt_player_pos(&p) - T0, 20 * S);
	/* '[' right after a stop goes to the one before it */
	CHECK_EQ_INT(kt_player_key(&p, KT_KEY_PREV_CMD, 0), 0);
	CHECK_EQ_INT(kt_player_pos(&p) - T0, 5 * S);
	/* '[' 3 s into a command: that command's start */
	CHECK_EQ_INT(kt_player_seek(&p, T0 + 8 * S, 0), 0);
	CHECK_EQ_INT(kt_player_key(&p, KT_KEY_PREV_CMD, 0), 0);
	CHECK_EQ_INT(kt_player_pos(&p) - T0, 5 * S);
	/* past the last stop: ']' stays */
	CHECK_EQ_INT(kt_player_seek(&p, T0 + 31 * S, 0), 0);
	CHECK_EQ_INT(kt_player_key(&p, KT_KEY_NEXT_CMD, 0), 0);
	CHECK_EQ_INT(kt_player_pos(&p) - T0, 31 * S);
	CHECK_EQ_INT(kt_player_key(&p, KT_KEY_QUIT, 0), KT_PLAY_QUIT);
	kt_player_free(&p);
}

/* ------------------------------------------------------------ follow, gaps, reset */

static void t_follow(void)
{
	struct kt_player p;
	int64_t w;

	basic_frames();
	g_src.visible = 2;
	g_src.more = 1;
	setup(&p, 1, 0);
	p.end_us = 0; /* active */
	kt_player_start(&p, T0, 0, false);
	kt_player_tick(&p, 0, &w);
	CHECK_EQ_INT(kt_player_tick(&p, 5 * S, &w), KT_PLAY_IDLE);
	CHECK_EQ_STR(g_out, "ab");
	g_src.visible = 4;                   /* the recorder committed more */
	CHECK_EQ_INT(kt_player_tick(&p, 5 * S, &w), KT_PLAY_WAIT);
	CHECK_EQ_STR(g_out, "abc");          /* c was due already */
	g_src.more = 0;                      /* the session ended */
	CHECK_EQ_INT(kt_player_tick(&p, 20 * S, &w), KT_PLAY_END);
	CHECK_EQ_STR(g_out, "abcd");
	kt_player_free(&p);
}

static void t_gap_notice(void)
{
	struct kt_player p;
	int64_t w;

	memset(&g_src, 0, sizeof(g_src));
	add(&g_src, KT_FRAME_OUT, 0, "x");
	add_gap(&g_src, 1 * S, 100);
	setup(&p, 0, 0);
	kt_player_start(&p, T0, 0, false);
	CHECK_EQ_INT(kt_player_tick(&p, 0, &w), KT_PLAY_END);
	CHECK_EQ_STR(g_out, "x\r\n\x1b[7m[kubetape: 100 bytes lost here]\x1b[0m\r\n");
	kt_player_free(&p);
}

static void t_modes_reset(void)
{
	struct kt_player p;
	int64_t w;

	memset(&g_src, 0, sizeof(g_src));
	/* vim: alternate screen and hidden cursor, the sequence split */
	add(&g_src, KT_FRAME_OUT, 0, "\x1b[?10");
	add(&g_src, KT_FRAME_OUT, 1, "49h\x1b[?25l");
	setup(&p, 0, 0);
	kt_player_start(&p, T0, 0, false);
	CHECK_EQ_INT(kt_player_tick(&p, 0, &w), KT_PLAY_END);
	CHECK(p.modes.alt && p.modes.cursor_hidden);
	clear_out();
	CHECK_EQ_INT(kt_player_finish(&p), 0);
	CHECK(strncmp(g_out, "\x1b[?1049l", 8) == 0);
	CHECK(strstr(g_out, "\x1b[?25h") && strstr(g_out, "\x1b[0m"));
	/* a shell session that never left the main screen: no ?1049l (it
	 * would restore a saved cursor position) */
	kt_modes_scan(&p.modes, (const uint8_t *)"\x1b]0;t\x1b[?1049l\x07\x1b[?1049l", 21);
	CHECK(!p.modes.alt);
	clear_out();
	kt_player_finish(&p);
	CHECK(!strstr(g_out, "1049"));
	/* RIS (a keyframe starts with one) resets the tracking */
	kt_modes_scan(&p.modes, (const uint8_t *)"\x1b[?1049h\x1b" "c", 10);
	CHECK(!p.modes.alt);
	kt_player_free(&p);
}

/* ------------------------------------------------------------ keys */

static size_t keys(struct kt_keys *k, const char *s, size_t n, enum kt_key *out)
{
	return kt_keys_feed(k, s, n, out, 16);
}

static void t_keys_plain(void)
{
	struct kt_keys k;
	enum kt_key o[16];

	kt_keys_init(&k);
	CHECK_EQ_INT(keys(&k, " +-.][qzx", 9, o), 7);
	CHECK_EQ_INT(o[0], KT_KEY_PAUSE);
	CHECK_EQ_INT(o[1], KT_KEY_FASTER);
	CHECK_EQ_INT(o[2], KT_KEY_SLOWER);
	CHECK_EQ_INT(o[3], KT_KEY_STEP);
	CHECK_EQ_INT(o[4], KT_KEY_NEXT_CMD);
	CHECK_EQ_INT(o[5], KT_KEY_PREV_CMD);
	CHECK_EQ_INT(o[6], KT_KEY_QUIT);
}

static void t_keys_arrows(void)
{
	struct kt_keys k;
	enum kt_key o[16];

	kt_keys_init(&k);
	CHECK_EQ_INT(keys(&k, "\x1b[C\x1b[D\x1bOC\x1bOD", 12, o), 4);
	CHECK_EQ_INT(o[0], KT_KEY_FORWARD);
	CHECK_EQ_INT(o[1], KT_KEY_BACK);
	CHECK_EQ_INT(o[2], KT_KEY_FORWARD);
	CHECK_EQ_INT(o[3], KT_KEY_BACK);
	/* with a modifier (Ctrl-Right) */
	CHECK_EQ_INT(keys(&k, "\x1b[1;5C", 6, o), 1);
	CHECK_EQ_INT(o[0], KT_KEY_FORWARD);
	/* other sequences (up, F5, Home) do nothing, and '[' inside them is
	 * not "previous command" */
	CHECK_EQ_INT(keys(&k, "\x1b[A\x1b[15~\x1bOH", 11, o), 0);
}

static void t_keys_split(void)
{
	struct kt_keys k;
	enum kt_key o[16];
	const char *seq = "\x1b[D";

	/* byte by byte across reads */
	kt_keys_init(&k);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ_INT(keys(&k, seq + i, 1, o), 0);
		CHECK(kt_keys_pending(&k));
	}
	CHECK_EQ_INT(keys(&k, seq + 2, 1, o), 1);
	CHECK_EQ_INT(o[0], KT_KEY_BACK);
	CHECK(!kt_keys_pending(&k));
	/* split after ESC O */
	CHECK_EQ_INT(keys(&k, "\x1bO", 2, o), 0);
	CHECK_EQ_INT(keys(&k, "C ", 2, o), 2);
	CHECK_EQ_INT(o[0], KT_KEY_FORWARD);
	CHECK_EQ_INT(o[1], KT_KEY_PAUSE);
	/* a lone Escape: dropped on timeout, the next '[' is a key again */
	CHECK_EQ_INT(keys(&k, "\x1b", 1, o), 0);
	kt_keys_timeout(&k);
	CHECK_EQ_INT(keys(&k, "[", 1, o), 1);
	CHECK_EQ_INT(o[0], KT_KEY_PREV_CMD);
	/* ESC ESC [ C: the first Escape was alone */
	CHECK_EQ_INT(keys(&k, "\x1b\x1b[C", 4, o), 1);
	CHECK_EQ_INT(o[0], KT_KEY_FORWARD);
	/* a sequence broken by another ESC starts over */
	CHECK_EQ_INT(keys(&k, "\x1b[1\x1b[D", 7, o), 1);
	CHECK_EQ_INT(o[0], KT_KEY_BACK);
	/* Alt+q is q */
	CHECK_EQ_INT(keys(&k, "\x1bq", 2, o), 1);
	CHECK_EQ_INT(o[0], KT_KEY_QUIT);
	/* an overlong CSI (a paste of garbage) is swallowed */
	CHECK_EQ_INT(keys(&k, "\x1b[1;2;3;4;5;6;7;8;9;10C q", 25, o), 2);
	CHECK_EQ_INT(o[0], KT_KEY_PAUSE);
}

/* ------------------------------------------------------------ --from */

static int64_t off(const char *s)
{
	int64_t v = -1;
	const char *why = NULL;

	if (tf_parse_offset(s, &v, &why))
		return -1;
	return v;
}

static void t_from_parse(void)
{
	CHECK_EQ_INT(off("1:30"), 90 * S);
	CHECK_EQ_INT(off("90s"), 90 * S);
	CHECK_EQ_INT(off("+90s"), 90 * S);
	CHECK_EQ_INT(off("1m30s"), 90 * S);
	CHECK_EQ_INT(off("+00:01:30.5"), 90 * S + 500 * MS);
	CHECK_EQ_INT(off("+01:30.250"), 90 * S + 250 * MS);
	CHECK_EQ_INT(off("90"), 90 * S);
	CHECK_EQ_INT(off("90.000001"), 90 * S + 1);
	CHECK_EQ_INT(off("0"), 0);
	CHECK_EQ_INT(off("+1:02:03.214"), 3723 * S + 214 * MS);
	CHECK_EQ_INT(off("120:00"), 7200 * S);     /* the first field may exceed 59 */
	CHECK_EQ_INT(off(""), -1);
	CHECK_EQ_INT(off("+"), -1);
	CHECK_EQ_INT(off("1:60"), -1);
	CHECK_EQ_INT(off("1:2:3:4"), -1);
	CHECK_EQ_INT(off("-5"), -1);
	CHECK_EQ_INT(off("1:"), -1);
	CHECK_EQ_INT(off(":30"), -1);
	CHECK_EQ_INT(off("1.5.5"), -1);
	CHECK_EQ_INT(off("1:30x"), -1);
	CHECK_EQ_INT(off(" 1:30"), -1);
	CHECK_EQ_INT(off("99999999999999999999"), -1);
	CHECK_EQ_INT(off("9999999999999:00"), -1);
	{
		int64_t v;
		const char *why = NULL;

		CHECK_EQ_INT(tf_parse_offset("1:61", &v, &why), -EINVAL);
		CHECK(why && strstr(why, "0-59"));
		CHECK_EQ_INT(tf_parse_offset("99999999999999999999", &v, &why), -ERANGE);
	}
}

int main(void)
{
	RUN(t_timing_speed1);
	RUN(t_timing_speed_and_keys);
	RUN(t_no_timing);
	RUN(t_idle_limit);
	RUN(t_pause_step);
	RUN(t_seek_keyframe);
	RUN(t_seek_arrows_clamp);
	RUN(t_commands);
	RUN(t_follow);
	RUN(t_gap_notice);
	RUN(t_modes_reset);
	RUN(t_keys_plain);
	RUN(t_keys_arrows);
	RUN(t_keys_split);
	RUN(t_from_parse);
	return kt_test_done();
}
