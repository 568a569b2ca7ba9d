// SPDX-License-Identifier: Apache-2.0
/*
 * `kubetape replay ID`: plays a session on the terminal with its original
 * timing.  This file is the command and the terminal loop only: option
 * parsing, the size warning, keys and signals around ppoll(); timing,
 * seeking and the command index are the player core (player.c), frames and
 * keyframes come from the store's reader (reader.h, via playsrc.c),
 * terminal modes from termio.c.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "keys.h"
#include "log.h"
#include "player.h"
#include "playsrc.h"
#include "termio.h"
#include "timefmt.h"
#include "satint.h"
#include "screen.h"

#define POLL_MS 150           /* following an active session */
#define SIZE_WARN_WAIT_MS 2000

enum {
	OPT_SPEED = KT_OPT_CMD_BASE, OPT_IDLE, OPT_FROM, OPT_FROM_CMD, OPT_NO_TIMING,
	OPT_NO_KEYFRAMES, OPT_PAUSED,
};

static void usage(FILE *out)
{
	fputs("Usage: kubetape replay ID [--speed X | --no-timing] [--idle-limit S]\n"
	      "                       [--from OFFSET | --from-command N] [--follow]\n"
	      "\n"
	      "Play a session on this terminal with its original timing.\n"
	      "\n"
	      "Options:\n"
	      "      --speed X         playback speed (default 1; 0 = no timing)\n"
	      "      --no-timing       write everything at once (= --speed 0)\n"
	      "      --idle-limit S    cut pauses longer than S seconds (\"2\", \"0.5\", \"1m\")\n"
	      "      --from OFFSET     start at OFFSET into the session: 1:30, 90s,\n"
	      "                        +00:01:30.5 (as show and search print it)\n"
	      "      --from-command N  start where the Nth command of 'show' ran (1-based)\n"
	      "  -f, --follow          keep playing an active session as it is recorded\n"
	      "      --paused          start paused (show the screen at --from, then keys)\n"
	      "      --no-keyframes    seek by rendering from the session start instead of\n"
	      "                        using the store's keyframes (slower; for checking)\n"
	      "\n"
	      "Keys (when stdin is a terminal):\n"
	      "  space  pause / resume       +  -   speed x2 / /2\n"
	      "  .      one frame (paused)   ]  [   next / previous command\n"
	      "  right  left   +10 s / -10 s q      quit (Ctrl-C too)\n"
	      "\n"
	      "Seeking (--from, arrows, ]/[) draws the screen from the nearest keyframe\n"
	      "the recorder stored, never by replaying from the start.  Where the\n"
	      "recorder lost data a highlighted '[kubetape: N bytes lost here]' line is\n"
	      "shown.  At the end the session's last frame stays on screen (also one\n"
	      "left on an alternate screen by a killed vim or less) until q; seeking\n"
	      "back plays on.  On quit (q, Ctrl-C, Ctrl-Z, SIGTERM, SIGHUP) the terminal\n"
	      "is restored: alternate screen left, cursor shown, colours reset.  Without\n"
	      "keys (stdin not a terminal) the replay ends, restoring it, at the end.\n"
	      "When stdout is not a terminal the frames are written with their timing\n"
	      "(or at once with --no-timing).\n", out);
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int write_all(void *ctx, const void *buf, size_t len)
{
	const char *p = buf;

	(void)ctx;
	while (len) {
		ssize_t n = write(STDOUT_FILENO, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* "2", "0.5" (seconds) or a duration ("2s", "1m"). */
static int parse_seconds(const char *s, int64_t *us)
{
	char *end;
	double v;

	if (strpbrk(s, "wdhms"))
		return tf_parse_duration(s, us, NULL);
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 1e9)
		return -EINVAL;
	*us = (int64_t)(v * 1e6);
	return 0;
}

/* ------------------------------------------------------------- commands */

struct cmdlist {
	int64_t *ts;
	size_t n, cap;
};

static int on_command(const struct kt_command *c, void *ctx)
{
	struct cmdlist *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		int64_t *v = realloc(l->ts, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->ts = v;
		l->cap = cap;
	}
	l->ts[l->n++] = c->ts_us;
	return 0;
}

/* ------------------------------------------------------------- size warning */

/* The largest size the session had (start size and every RESIZE). */
static int recorded_size(struct kt_store *st, const struct kt_session_info *s,
			 int *rows, int *cols)
{
	struct kt_stream *stream;
	struct kt_frame f;
	uint16_t c, r;
	int err;

	/* sizes as the screen model draws them (screen.h), not as recorded */
	kt_screen_size_norm(s->rows, s->cols, rows, cols);
	err = kt_stream_open(st, s->id, 0, &stream);
	if (err)
		return err;
	while ((err = kt_stream_next(stream, &f)) > 0 || err == -EBADMSG) {
		if (err > 0 && f.type == KT_FRAME_RESIZE && !kt_frame_resize_parse(&f, &c, &r)) {
			int nr, nc;

			kt_screen_size_norm(r, c, &nr, &nc);
			*rows = nr > *rows ? nr : *rows;
			*cols = nc > *cols ? nc : *cols;
		}
	}
	kt_stream_close(stream);
	return err;
}

static void warn_size(struct kt_cli *cli, const struct kt_session_info *s, bool keys)
{
	int rows, cols, trows, tcols;
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };

	if (kt_tty_size(STDOUT_FILENO, &trows, &tcols) ||
	    recorded_size(cli->store, s, &rows, &cols) || !rows || !cols)
		return;
	if (trows >= rows && tcols >= cols)
		return;
	pr_warn("replay: this terminal is %dx%d (cols x rows), the session used up to %dx%d: "
		"lines will wrap or scroll differently", tcols, trows, cols, rows);
	/* before the replay draws over it; any key goes on at once */
	if (keys && poll(&pfd, 1, SIZE_WARN_WAIT_MS) > 0) {
		char b[16];

		if (read(STDIN_FILENO, b, sizeof(b)) < 0) {
			/* nothing to do: we only waited */
		}
	} else if (!keys) {
		poll(NULL, 0, SIZE_WARN_WAIT_MS);
	}
}

/* ------------------------------------------------------------- the loop */

struct loop {
	struct kt_player *p;
	bool keys, out_tty;
	int sig;        /* the fatal signal that ended it */
};

static int handle_signal(struct loop *l, int sig)
{
	switch (sig) {
	case SIGINT: case SIGTERM: case SIGHUP: case SIGQUIT:
		l->sig = sig;
		return KT_PLAY_QUIT;
	case SIGTSTP:
		kt_tty_suspend(l->out_tty ? kt_player_reset(l->p) : NULL);
		/* back: the shell drew over the screen, draw ours again */
		return l->out_tty ? kt_player_seek(l->p, kt_player_pos(l->p), mono_us()) : 0;
	case SIGCONT:
		/* stopped by SIGSTOP (uncatchable): modes may have been reset */
		kt_tty_reenter();
		return l->out_tty ? kt_player_seek(l->p, kt_player_pos(l->p), mono_us()) : 0;
	default:
		return 0; /* SIGWINCH: the replay keeps the recorded geometry */
	}
}

static int play_loop(struct loop *l)
{
	struct kt_keys kd;
	int err;

	kt_keys_init(&kd);
	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = kt_tty_sigfd(), .events = POLLIN },
			{ .fd = STDIN_FILENO, .events = POLLIN },
		};
		int64_t wait_us, sig_wait;
		struct timespec ts, *tsp = &ts;
		int st, sig;

		st = kt_player_tick(l->p, mono_us(), &wait_us);
		if (st < 0)
			return st;
		/*
		 * The end.  A viewer at a terminal keeps the session's last
		 * frame until q (or a seek back): restoring the terminal now
		 * would leave an alternate screen that vim or less never left,
		 * and the last frame with it.  Without keys nothing could end
		 * the wait: finish.
		 */
		if (st == KT_PLAY_END && !(l->keys && l->out_tty))
			return 0;
		if (st == KT_PLAY_END)
			wait_us = -1;	/* until a key or a signal */
		if (st == KT_PLAY_IDLE)
			wait_us = POLL_MS * 1000;
		if (kt_keys_pending(&kd) && (wait_us < 0 || wait_us > KT_KEYS_ESC_MS * 1000))
			wait_us = KT_KEYS_ESC_MS * 1000;
		sig_wait = wait_us;
		if (sig_wait < 0) {
			tsp = NULL;
		} else {
			ts.tv_sec = sig_wait / 1000000;
			ts.tv_nsec = (sig_wait % 1000000) * 1000;
		}
		err = ppoll(fds, l->keys ? 2 : 1, tsp, NULL);
		if (err < 0 && errno != EINTR)
			return -errno;
		while ((sig = kt_tty_take_signal())) {
			err = handle_signal(l, sig);
			if (err)
				return err == KT_PLAY_QUIT ? 0 : err;
		}
		if (err > 0 && l->keys && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			unsigned char buf[64];
			enum kt_key keys[16];
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

			if (n <= 0 && !(n < 0 && (errno == EINTR || errno == EAGAIN))) {
				l->keys = false; /* EOF: play on without keys */
				continue;
			}
			for (size_t i = 0, k = n > 0 ? kt_keys_feed(&kd, buf, (size_t)n, keys, 16) : 0;
			     i < k; i++) {
				err = kt_player_key(l->p, keys[i], mono_us());
				if (err)
					return err == KT_PLAY_QUIT ? 0 : err;
			}
		} else if (err == 0 && kt_keys_pending(&kd)) {
			kt_keys_timeout(&kd); /* a lone Escape */
		}
	}
}

static int run(struct kt_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "speed", required_argument, NULL, OPT_SPEED },
		{ "no-timing", no_argument, NULL, OPT_NO_TIMING },
		{ "idle-limit", required_argument, NULL, OPT_IDLE },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "from-command", required_argument, NULL, OPT_FROM_CMD },
		{ "follow", no_argument, NULL, 'f' },
		{ "no-keyframes", no_argument, NULL, OPT_NO_KEYFRAMES },
		{ "paused", no_argument, NULL, OPT_PAUSED },
		{ 0 },
	};
	struct kt_player_cfg cfg = { .speed = 1 };
	struct kt_session_info s;
	struct kt_reader ps = { 0 };
	struct kt_player p = { 0 };
	struct kt_play_src src;
	struct cmdlist cmds = { 0 };
	struct loop l = { .p = &p };
	const char *why = NULL;
	bool follow = false, no_kf = false, have_from = false, entered = false, paused = false;
	int64_t from_us = 0, target;
	uint64_t from_cmd = 0;
	char *end;
	int c, err, ret;

	while ((c = kt_cli_getopt(cli, argc, argv, "f", opts)) != -1) {
		if (c < 0)
			return kt_cli_opt_exit(c);
		switch (c) {
		case OPT_SPEED:
			errno = 0;
			cfg.speed = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(cfg.speed) || cfg.speed < 0 ||
			    cfg.speed > KT_PLAY_SPEED_MAX || (cfg.speed > 0 && cfg.speed < KT_PLAY_SPEED_MIN))
				return kt_cli_usage_error(cli, "invalid --speed '%s' (0, or %g to %g)", optarg,
							  KT_PLAY_SPEED_MIN, KT_PLAY_SPEED_MAX);
			break;
		case OPT_NO_TIMING:
			cfg.speed = 0;
			break;
		case OPT_IDLE:
			if (parse_seconds(optarg, &cfg.idle_limit_us) || cfg.idle_limit_us <= 0)
				return kt_cli_usage_error(cli, "invalid --idle-limit '%s' (seconds > 0: 2, 0.5, 1m)", optarg);
			break;
		case OPT_FROM:
			if (tf_parse_offset(optarg, &from_us, &why))
				return kt_cli_usage_error(cli, "invalid --from '%s': %s", optarg, why);
			have_from = true;
			break;
		case OPT_FROM_CMD:
			if (kt_parse_uint(optarg, INT32_MAX, &from_cmd) || !from_cmd)
				return kt_cli_usage_error(cli, "invalid --from-command '%s' (a positive integer)", optarg);
			break;
		case 'f':
			follow = true;
			break;
		case OPT_NO_KEYFRAMES:
			no_kf = true;
			break;
		case OPT_PAUSED:
			paused = true;
			break;
		}
	}
	if (kt_cli_session_operand(cli, argc, argv))
		return KT_EXIT_USAGE;
	if (have_from && from_cmd)
		return kt_cli_usage_error(cli, "--from and --from-command exclude each other");
	ret = kt_cli_get_session(cli, argv[optind], &s);
	if (ret)
		return ret;

	ret = KT_EXIT_RUNTIME;
	err = kt_store_commands_list(cli->store, s.id, on_command, &cmds);
	if (err) {
		if (err == -ENOMEM)
			pr_err("replay: out of memory");
		goto cleanup;
	}
	target = kt_add_sat(s.start_us, from_us);
	if (from_cmd) {
		if (from_cmd > cmds.n) {
			ret = kt_cli_usage_error(cli, "--from-command %llu: session %lld has %zu command(s)",
						 (unsigned long long)from_cmd, (long long)s.id, cmds.n);
			goto cleanup;
		}
		/* the exec time, as ]/[ (see kt_player_set_commands) */
		target = cmds.ts[from_cmd - 1];
	}

	kt_reader_init(&ps, cli->store, &s, follow);
	ps.no_keyframes = no_kf;
	src = kt_playsrc_ops(&ps);
	kt_player_init(&p, &cfg, &src, write_all, NULL, s.start_us,
		       s.state == KT_SESSION_ACTIVE ? 0 : s.end_us);
	if (kt_player_set_commands(&p, cmds.ts, cmds.n)) {
		pr_err("replay: out of memory");
		goto cleanup;
	}

	l.out_tty = isatty(STDOUT_FILENO);
	l.keys = isatty(STDIN_FILENO);
	if (l.out_tty)
		warn_size(cli, &s, l.keys);
	if (l.keys || l.out_tty) {
		err = kt_tty_enter(l.keys, l.out_tty);
		if (err) {
			pr_err("replay: setting up the terminal: %s", strerror(-err));
			goto cleanup;
		}
		entered = true;
	}
	/* the first screen: a blank one at the start, a redraw for --from */
	err = kt_player_start(&p, target, mono_us(), l.out_tty || target > s.start_us);
	/* without keys nothing could resume it */
	p.paused = paused && l.keys;
	if (!err)
		err = play_loop(&l);
	if (err != -EPIPE || !entered) {
		int e = kt_player_finish(&p);

		err = err ? err : e;
	}
	if (entered)
		kt_tty_leave(NULL);
	entered = false;
	if (err == -EPIPE) {
		ret = KT_EXIT_OK; /* the reader went away (| head): not an error */
	} else if (err) {
		pr_err("replay: %s", strerror(-err));
	} else {
		ret = l.sig ? 128 + l.sig : KT_EXIT_OK;
	}
	if (ps.corrupt)
		pr_err("replay: %u corrupt chunk(s) skipped: the replay was incomplete", ps.corrupt);
	pr_debug("replay: %llu frames, %llu bytes, %llu seeks (%llu by keyframe, %llu rendered "
		 "from the start over %llu bytes)", (unsigned long long)p.frames,
		 (unsigned long long)p.bytes, (unsigned long long)p.seeks,
		 (unsigned long long)ps.kf_seeks, (unsigned long long)ps.ff_seeks,
		 (unsigned long long)ps.ff_bytes);
cleanup:
	if (entered)
		kt_tty_leave(kt_play_reset_seq);
	kt_player_free(&p);
	kt_reader_close(&ps);
	free(cmds.ts);
	return ret;
}

const struct kt_cmd kt_cmd_replay = {
	.name = "replay",
	.summary = "play a session on this terminal with its timing (seek, pause, speed)",
	.run = run,
	.usage = usage,
};
