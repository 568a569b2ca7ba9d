/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ptyrun — drive a program on a fresh pty from a small script, recording the
 * exact byte stream it shows.  Used by the e2e tests, the demo and the
 * benchmarks to play "a human at kubectl exec -it" deterministically.
 *
 *   ptyrun [-v] [--raw] [--rows R --cols C] [--script FILE|-] [--out FILE]
 *          [--timeout S] [--expect-timeout S] -- CMD ARGS...
 *
 * --raw puts the pty in raw mode (cfmakeraw, and ONLCR cleared) before CMD
 * starts, as kubectl does to the user's terminal.  Use it when CMD is itself
 * a terminal client such as `ctr task exec --tty`: ctr's own raw mode keeps
 * OPOST on, so without --raw every "\r\n" the container's pty produced
 * would reach --out as "\r\r\n".  With --raw, --out holds exactly the bytes
 * the container's pty master gave the shim.
 *
 * Script: one step per line; blank lines and lines starting with '#' are
 * ignored.  TEXT and PATTERN take the rest of the line; a value wrapped in
 * double quotes has them stripped (so leading/trailing spaces survive).
 * C escapes \r \n \t \e \xHH \\ are decoded; any other backslash pair is
 * kept as is, so regex escapes such as \$ or \. still reach regcomp.
 *
 *   send TEXT               write TEXT to the master (what the user types)
 *   expect PATTERN [T]      wait until the output received since the end of
 *                           the previous match contains PATTERN, as plain
 *                           text or as a POSIX extended regex (the earlier
 *                           match wins); T seconds, default --expect-timeout
 *   expect-text TEXT [T]    the same, plain text only
 *   expect-re REGEX [T]     the same, regex only
 *   sleep S                 keep draining for S seconds
 *   resize ROWS COLS        TIOCSWINSZ on the master (the child gets SIGWINCH)
 *   wait-exit [T]           wait for the child to exit (default 30 s)
 *   eof                     send the terminal's EOF character (^D)
 *
 * The optional trailing timeout [T] is taken only when the last word is a
 * number and there is a word before it; quote the pattern otherwise
 * (expect "seq 5").  A script that ends without wait-exit gets one.
 *
 * Without --script the child just runs until it exits (--timeout applies).
 *
 * Exit status: the child's exit code, or 128+signal; 124 when an expect is
 * not met (timeout, or the child closed the pty first) or --timeout expires;
 * 125 on a driver error (bad script, syscall failure, write after exit).
 *
 * Every byte read from the master goes to --out unmodified.  The master is
 * drained in every wait (expect, sleep, send, wait-exit), so a child that
 * prints megabytes never blocks on a full pty buffer.
 *
 * Limits: regexes are matched line by line (REG_NEWLINE) from the start of
 * the current line, so a regex match never spans a newline unless the
 * pattern itself contains \n; NUL bytes in the output are seen as \x01 by
 * the matcher; the match window keeps the last 4 MiB since the last match.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pty.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define EXIT_TIMEOUT 124
#define EXIT_DRIVER  125
#define WINDOW_MAX   (4u << 20)	/* match window cap; halves when exceeded */

static int master = -1, sigfd = -1;
static pid_t child = -1;
static bool child_done, master_eof;
static int child_status;
static FILE *out;
static unsigned long long nread_total;
static int verbose;
static const char *script_name = "-";
static int lineno;

/* Bytes received since the end of the last match (the matcher's window). */
static char *win;
static size_t win_len, win_cap, win_scanned;

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Kill the child's whole process group (it is a session leader on the pty),
 * give it a moment, then SIGKILL.  Used on every abnormal exit. */
static void kill_child(void)
{
	if (child <= 0 || child_done)
		return;
	kill(-child, SIGHUP);
	kill(child, SIGTERM);
	for (int i = 0; i < 40; i++) {
		if (waitpid(child, &child_status, WNOHANG) == child) {
			child_done = true;
			return;
		}
		usleep(25000);
	}
	kill(-child, SIGKILL);
	kill(child, SIGKILL);
	if (waitpid(child, &child_status, 0) == child)
		child_done = true;
}

/* Print the tail of the window with control bytes escaped, for diagnostics. */
static void dump_tail(void)
{
	size_t n = win_len > 300 ? 300 : win_len;
	fprintf(stderr, "ptyrun: last %zu bytes received since previous match: \"", n);
	for (const unsigned char *p = (unsigned char *)win + win_len - n; p < (unsigned char *)win + win_len; p++) {
		if (*p == '\r') fputs("\\r", stderr);
		else if (*p == '\n') fputs("\\n", stderr);
		else if (*p == '"' || *p == '\\') fprintf(stderr, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f) fprintf(stderr, "\\x%02x", *p);
		else fputc(*p, stderr);
	}
	fputs("\"\n", stderr);
}

static void finish_out(void)
{
	if (out && fflush(out) != 0)
		fprintf(stderr, "ptyrun: writing --out: %s\n", strerror(errno));
}

static void die(int code, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "ptyrun: %s:%d: ", script_name, lineno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (code == EXIT_TIMEOUT)
		dump_tail();
	kill_child();
	finish_out();
	exit(code);
}

static void win_append(const char *buf, size_t n)
{
	if (win && win_len + n + 1 > WINDOW_MAX) {
		/* Keep the newest half; earlier text can no longer match. */
		size_t keep = WINDOW_MAX / 2 > win_len ? win_len : WINDOW_MAX / 2;
		memmove(win, win + win_len - keep, keep);
		win_scanned = win_scanned > win_len - keep ? win_scanned - (win_len - keep) : 0;
		win_len = keep;
		if (n + 1 > WINDOW_MAX - win_len) {	/* one huge read */
			buf += n - (WINDOW_MAX / 2);
			n = WINDOW_MAX / 2;
			win_len = win_scanned = 0;
		}
	}
	if (win_len + n + 1 > win_cap) {
		size_t cap = win_cap ? win_cap : 65536;
		while (cap < win_len + n + 1)
			cap *= 2;
		char *p = realloc(win, cap);
		if (!p)
			die(EXIT_DRIVER, "out of memory");
		win = p;
		win_cap = cap;
	}
	for (size_t i = 0; i < n; i++)
		win[win_len + i] = buf[i] ? buf[i] : '\x01';
	win_len += n;
	win[win_len] = '\0';
}

/* Read whatever the master has.  Returns false once it reports EOF/EIO
 * (every slave fd closed: the child and anything it left behind are gone). */
static bool drain_master(void)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(master, buf, sizeof buf);
		if (n > 0) {
			nread_total += (size_t)n;
			/* flushed as it comes: tests watch --out while the
			 * session runs (phases keyed on what it printed) */
			if (out && (fwrite(buf, 1, (size_t)n, out) != (size_t)n || fflush(out)))
				die(EXIT_DRIVER, "writing --out: %s", strerror(errno));
			win_append(buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		master_eof = true;	/* 0 or EIO: no slave left open */
		return false;
	}
}

static void reap(void)
{
	struct signalfd_siginfo si;
	while (read(sigfd, &si, sizeof si) > 0)
		;
	if (!child_done && waitpid(child, &child_status, WNOHANG) == child)
		child_done = true;
}

/*
 * One wait step: poll the master (and for POLLOUT if want_write), the
 * SIGCHLD signalfd, until the deadline.  Returns 1 if the master is
 * writable, 0 on deadline or after an event the caller must re-check.
 */
static int pump(double deadline, bool want_write)
{
	struct pollfd p[2] = {
		/* fd -1 once at EOF: a hung-up master would report POLLHUP
		 * forever and turn every wait into a busy loop. */
		{ .fd = master_eof ? -1 : master, .events = (short)(POLLIN | (want_write ? POLLOUT : 0)) },
		{ .fd = sigfd, .events = POLLIN },
	};
	double left = deadline - now();
	int ms = left <= 0 ? 0 : left > 1000 ? 1000000 : (int)(left * 1000) + 1;
	int r = poll(p, 2, ms);
	if (r < 0) {
		if (errno == EINTR)
			return 0;
		die(EXIT_DRIVER, "poll: %s", strerror(errno));
	}
	if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
		drain_master();
	if (p[1].revents & POLLIN)
		reap();
	return (p[0].revents & POLLOUT) ? 1 : 0;
}

static double overall_deadline = 0;	/* 0: none */

static double cap_deadline(double d)
{
	return overall_deadline && overall_deadline < d ? overall_deadline : d;
}

static void check_overall(void)
{
	if (overall_deadline && now() >= overall_deadline)
		die(EXIT_TIMEOUT, "--timeout expired");
}

/* Decode C escapes in place; returns the decoded length. */
static size_t unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (*r != '\\' || !r[1]) {
			*w++ = *r;
			continue;
		}
		switch (r[1]) {
		case 'r': *w++ = '\r'; r++; break;
		case 'n': *w++ = '\n'; r++; break;
		case 't': *w++ = '\t'; r++; break;
		case 'e': *w++ = '\033'; r++; break;
		case '\\': *w++ = '\\'; r++; break;
		case 'x': {
			int v = 0, k = 0;
			while (k < 2 && r[2 + k] && strchr("0123456789abcdefABCDEF", r[2 + k])) {
				char c = r[2 + k];
				v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
				k++;
			}
			if (!k)
				die(EXIT_DRIVER, "\\x needs hex digits");
			*w++ = (char)v;
			r += 1 + k;
			break;
		}
		default:	/* keep: regex escapes like \. \$ \( */
			*w++ = *r;
			break;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

static char *strip_quotes(char *s)
{
	size_t n = strlen(s);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s[n - 1] = '\0';
		return s + 1;
	}
	return s;
}

static bool parse_seconds(const char *s, double *v)
{
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	return s[0] && !*end && !errno && *v >= 0;
}

static void send_bytes(const char *buf, size_t n)
{
	size_t off = 0;
	while (off < n) {
		check_overall();
		if (master_eof || child_done)
			die(EXIT_DRIVER, "send: the child has exited");
		/* Non-blocking write; keep draining so a child stuck writing
		 * its output (and so not reading input) cannot deadlock us. */
		ssize_t w = write(master, buf + off, n - off);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			die(EXIT_DRIVER, "send: write to pty: %s", strerror(errno));
		pump(cap_deadline(now() + 1), true);
	}
	/* Pick up any immediate echo without waiting. */
	drain_master();
}

enum match_mode { M_ANY, M_TEXT, M_RE };

static void do_expect(char *arg, enum match_mode mode, double def_timeout)
{
	double timeout = def_timeout;
	/* Optional trailing timeout: last word numeric, with a word before it. */
	char *sp = strrchr(arg, ' ');
	double v;
	if (sp && sp > arg && parse_seconds(sp + 1, &v)) {
		timeout = v;
		while (sp > arg && sp[-1] == ' ')
			sp--;
		*sp = '\0';
	}
	char *pat = strip_quotes(arg);
	size_t plen = unescape(pat);
	if (!plen)
		die(EXIT_DRIVER, "expect: empty pattern");
	if (memchr(pat, '\0', plen))
		die(EXIT_DRIVER, "expect: pattern cannot contain NUL");

	regex_t re;
	bool have_re = false;
	if (mode != M_TEXT) {
		int rc = regcomp(&re, pat, REG_EXTENDED | REG_NEWLINE);
		if (rc == 0)
			have_re = true;
		else if (mode == M_RE) {
			char e[256];
			regerror(rc, &re, e, sizeof e);
			die(EXIT_DRIVER, "expect-re: bad regex \"%s\": %s", pat, e);
		}
	}
	bool re_multiline = memchr(pat, '\n', plen) != NULL;

	double deadline = cap_deadline(now() + timeout);
	win_scanned = 0;	/* window only holds unmatched data */
	for (;;) {
		size_t mstart = SIZE_MAX, mend = 0;
		if (mode != M_RE) {
			size_t from = win_scanned >= plen ? win_scanned - plen + 1 : 0;
			char *h = memmem(win ? win + from : "", win_len - from, pat, plen);
			if (h) {
				mstart = (size_t)(h - win);
				mend = mstart + plen;
			}
		}
		if (have_re && win_len > 0) {
			size_t from = 0;
			if (!re_multiline && win_scanned > 0) {
				/* Re-scan only from the start of the line that
				 * was incomplete at the previous scan; that is
				 * a line start, so '^' may match there. */
				char *nl = memrchr(win, '\n', win_scanned);
				from = nl ? (size_t)(nl - win) + 1 : 0;
			}
			regmatch_t m;
			if (regexec(&re, win + from, 1, &m, 0) == 0 &&
			    from + (size_t)m.rm_so < mstart) {
				mstart = from + (size_t)m.rm_so;
				mend = from + (size_t)m.rm_eo;
			}
		}
		win_scanned = win_len;
		if (mstart != SIZE_MAX) {
			memmove(win, win + mend, win_len - mend);
			win_len -= mend;
			win[win_len] = '\0';
			win_scanned = 0;
			break;
		}
		if (master_eof) {
			if (have_re)
				regfree(&re);
			die(EXIT_TIMEOUT, "expect \"%s\": the child closed the pty first", pat);
		}
		check_overall();
		if (now() >= deadline) {
			if (have_re)
				regfree(&re);
			die(EXIT_TIMEOUT, "expect \"%s\": not seen within %gs", pat, timeout);
		}
		pump(deadline, false);
	}
	if (have_re)
		regfree(&re);
}

static void do_sleep(double secs)
{
	double deadline = cap_deadline(now() + secs);
	while (now() < deadline)
		pump(deadline, false);
	check_overall();
}

/* Wait for the child to exit, then collect what is still buffered. */
static void do_wait_exit(double timeout)
{
	double deadline = cap_deadline(now() + timeout);
	while (!child_done) {
		check_overall();
		if (now() >= deadline)
			die(EXIT_TIMEOUT, "wait-exit: child still running after %gs", timeout);
		pump(deadline, false);
		if (!child_done && waitpid(child, &child_status, WNOHANG) == child)
			child_done = true;
	}
	/* The child is gone; read until every slave fd is closed, but don't
	 * hang on a background process that inherited the slave: stop after
	 * 200 ms of silence. */
	double quiet = now() + 0.2;
	while (!master_eof && now() < quiet) {
		unsigned long long before = nread_total;
		pump(quiet, false);
		if (nread_total != before)
			quiet = now() + 0.2;
	}
}

static void run_script(FILE *f, double expect_timeout)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	bool waited = false;
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		char *arg = s + strcspn(s, " \t");
		if (*arg) {
			*arg++ = '\0';
			while (*arg == ' ' || *arg == '\t')
				arg++;
		}
		waited = false;
		double v;
		if (!strcmp(s, "send")) {
			char *t = strip_quotes(arg);
			size_t len = unescape(t);
			send_bytes(t, len);
		} else if (!strcmp(s, "expect")) {
			do_expect(arg, M_ANY, expect_timeout);
		} else if (!strcmp(s, "expect-text")) {
			do_expect(arg, M_TEXT, expect_timeout);
		} else if (!strcmp(s, "expect-re")) {
			do_expect(arg, M_RE, expect_timeout);
		} else if (!strcmp(s, "sleep")) {
			if (!parse_seconds(arg, &v))
				die(EXIT_DRIVER, "sleep: bad seconds \"%s\"", arg);
			do_sleep(v);
		} else if (!strcmp(s, "resize")) {
			struct winsize ws = { 0 };
			unsigned r, c;
			char extra;
			if (sscanf(arg, "%u %u %c", &r, &c, &extra) != 2 || !r || !c || r > 65535 || c > 65535)
				die(EXIT_DRIVER, "resize: want ROWS COLS, got \"%s\"", arg);
			ws.ws_row = (unsigned short)r;
			ws.ws_col = (unsigned short)c;
			if (ioctl(master, TIOCSWINSZ, &ws) < 0)
				die(EXIT_DRIVER, "resize: TIOCSWINSZ: %s", strerror(errno));
		} else if (!strcmp(s, "wait-exit")) {
			double t = 30;
			if (*arg && !parse_seconds(arg, &t))
				die(EXIT_DRIVER, "wait-exit: bad seconds \"%s\"", arg);
			do_wait_exit(t);
			waited = true;
		} else if (!strcmp(s, "eof")) {
			struct termios tio;
			char c = 4;
			if (tcgetattr(master, &tio) == 0 && tio.c_cc[VEOF])
				c = (char)tio.c_cc[VEOF];
			send_bytes(&c, 1);
		} else {
			die(EXIT_DRIVER, "unknown step \"%s\"", s);
		}
	}
	free(line);
	if (ferror(f))
		die(EXIT_DRIVER, "reading script: %s", strerror(errno));
	if (!waited) {
		lineno++;
		do_wait_exit(30);
	}
}

static void usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: ptyrun [-v] [--raw] [--rows R --cols C] [--script FILE|-] [--out FILE]\n"
		"              [--timeout S] [--expect-timeout S] -- CMD ARGS...\n"
		"script steps: send TEXT | expect PATTERN [T] | expect-text TEXT [T] |\n"
		"              expect-re REGEX [T] | sleep S | resize ROWS COLS |\n"
		"              wait-exit [T] | eof\n"
		"exit: child's code (128+sig), 124 expect/--timeout failed, 125 driver error\n");
	exit(code);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rows", required_argument, 0, 'r' },
		{ "cols", required_argument, 0, 'c' },
		{ "script", required_argument, 0, 's' },
		{ "out", required_argument, 0, 'o' },
		{ "timeout", required_argument, 0, 't' },
		{ "expect-timeout", required_argument, 0, 'e' },
		{ "verbose", no_argument, 0, 'v' },
		{ "raw", no_argument, 0, 'R' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	unsigned rows = 24, cols = 80;
	const char *script = NULL, *outpath = NULL;
	double timeout = 0, expect_timeout = 10;
	int o, raw = 0;
	while ((o = getopt_long(argc, argv, "+r:c:s:o:t:e:vh", opts, NULL)) != -1) {
		switch (o) {
		case 'r': rows = (unsigned)atoi(optarg); break;
		case 'c': cols = (unsigned)atoi(optarg); break;
		case 's': script = optarg; break;
		case 'o': outpath = optarg; break;
		case 't':
			if (!parse_seconds(optarg, &timeout)) usage(EXIT_DRIVER);
			break;
		case 'e':
			if (!parse_seconds(optarg, &expect_timeout)) usage(EXIT_DRIVER);
			break;
		case 'v': verbose++; break;
		case 'R': raw = 1; break;
		case 'h': usage(0); break;
		default: usage(EXIT_DRIVER);
		}
	}
	if (optind >= argc || rows == 0 || cols == 0 || rows > 65535 || cols > 65535)
		usage(EXIT_DRIVER);

	FILE *sf = NULL;
	if (script) {
		script_name = script;
		sf = strcmp(script, "-") ? fopen(script, "r") : stdin;
		if (!sf) {
			fprintf(stderr, "ptyrun: --script %s: %s\n", script, strerror(errno));
			return EXIT_DRIVER;
		}
	}
	if (outpath) {
		out = fopen(outpath, "w");
		if (!out) {
			fprintf(stderr, "ptyrun: --out %s: %s\n", outpath, strerror(errno));
			return EXIT_DRIVER;
		}
	}

	/* SIGCHLD through a signalfd so exit is noticed in the same poll as
	 * pty data, without a polling interval. */
	sigset_t mask, old;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &old);
	sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigfd < 0) {
		perror("ptyrun: signalfd");
		return EXIT_DRIVER;
	}

	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
	double t0 = now();
	child = forkpty(&master, NULL, NULL, &ws);
	if (child < 0) {
		perror("ptyrun: forkpty");
		return EXIT_DRIVER;
	}
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (raw) {
			struct termios tio;
			if (tcgetattr(0, &tio) == 0) {
				cfmakeraw(&tio);
				tio.c_oflag &= ~(tcflag_t)ONLCR;
				tcsetattr(0, TCSANOW, &tio);
			}
		}
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "ptyrun: exec %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	fcntl(master, F_SETFD, FD_CLOEXEC);
	if (timeout > 0)
		overall_deadline = t0 + timeout;

	if (sf) {
		run_script(sf, expect_timeout);
		if (sf != stdin)
			fclose(sf);
	} else {
		do_wait_exit(timeout > 0 ? timeout : 1e9);
	}
	finish_out();
	if (out && fclose(out) != 0) {
		fprintf(stderr, "ptyrun: closing --out: %s\n", strerror(errno));
		return EXIT_DRIVER;
	}

	int code = WIFEXITED(child_status) ? WEXITSTATUS(child_status)
		 : WIFSIGNALED(child_status) ? 128 + WTERMSIG(child_status) : EXIT_DRIVER;
	if (verbose)
		fprintf(stderr, "ptyrun: %llu bytes received in %.3fs; child %s %d\n",
			nread_total, now() - t0,
			WIFSIGNALED(child_status) ? "killed by signal" : "exited",
			WIFSIGNALED(child_status) ? WTERMSIG(child_status) : WEXITSTATUS(child_status));
	return code;
}
