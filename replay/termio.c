// SPDX-License-Identifier: Apache-2.0
/* Terminal modes, signals and restoring the terminal (see termio.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "player.h"
#include "termio.h"

static struct termios saved_in, saved_out;
static bool have_in, have_out, active;
static int pipefd[2] = { -1, -1 };
static volatile sig_atomic_t pending[65];
static volatile sig_atomic_t fatal_pending;

static const int handled[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGCONT, SIGWINCH };

/* Async-signal-safe: tcsetattr and write only. */
static void restore_now(const char *reset)
{
	if (!active)
		return;
	if (reset && have_out) {
		size_t n = strlen(reset), o = 0;

		while (o < n) {
			ssize_t w = write(STDOUT_FILENO, reset + o, n - o);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			o += (size_t)w;
		}
	}
	if (have_in)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_in);
	if (have_out)
		tcsetattr(STDOUT_FILENO, TCSADRAIN, &saved_out);
	active = false;
}

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT) {
		if (fatal_pending) {
			/* the loop did not get to the first one: do it here */
			restore_now(kt_play_reset_seq);
			_exit(128 + sig);
		}
		fatal_pending = sig;
	}
	if (sig > 0 && sig < 65)
		pending[sig] = 1;
	if (pipefd[1] >= 0 && write(pipefd[1], &c, 1) < 0) {
		/* pipe full: the flags are enough */
	}
	errno = saved;
}

static int apply_modes(void)
{
	struct termios t;

	if (have_in) {
		t = saved_in;
		t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | IEXTEN);
		t.c_iflag &= ~(tcflag_t)(IXON | ICRNL);
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		if (tcsetattr(STDIN_FILENO, TCSANOW, &t))
			return -errno;
	}
	if (have_out) {
		/* stdin and stdout are usually one terminal: start from what
		 * is set now, not from saved_out, or stdin's change is undone */
		if (tcgetattr(STDOUT_FILENO, &t))
			return -errno;
		t.c_oflag &= ~(tcflag_t)OPOST;
		if (tcsetattr(STDOUT_FILENO, TCSADRAIN, &t))
			return -errno;
	}
	active = true;
	return 0;
}

int kt_tty_enter(bool keys, bool out_tty)
{
	struct sigaction sa;
	int err;

	if (pipefd[0] < 0 && pipe2(pipefd, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	have_in = keys && tcgetattr(STDIN_FILENO, &saved_in) == 0;
	have_out = out_tty && tcgetattr(STDOUT_FILENO, &saved_out) == 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: poll() returns early */
	for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		sigaction(handled[i], &sa, NULL);
	/* a closed pipe on stdout is an error return, not a death with the
	 * terminal left raw */
	signal(SIGPIPE, SIG_IGN);
	err = apply_modes();
	if (err)
		restore_now(NULL);
	return err;
}

void kt_tty_leave(const char *reset)
{
	restore_now(reset);
}

int kt_tty_reenter(void)
{
	if (active)
		return 0;
	if (have_in)
		tcgetattr(STDIN_FILENO, &saved_in); /* the shell may have changed it */
	if (have_out)
		tcgetattr(STDOUT_FILENO, &saved_out);
	return apply_modes();
}

int kt_tty_sigfd(void)
{
	return pipefd[0];
}

int kt_tty_take_signal(void)
{
	char buf[64];

	while (pipefd[0] >= 0 && read(pipefd[0], buf, sizeof(buf)) > 0)
		;
	for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++) {
		int sig = handled[i];

		if (pending[sig]) {
			pending[sig] = 0;
			return sig;
		}
	}
	return 0;
}

void kt_tty_suspend(const char *reset)
{
	struct sigaction sa, old;

	restore_now(reset);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTSTP, &sa, &old);
	raise(SIGTSTP); /* stops here until SIGCONT */
	sigaction(SIGTSTP, &old, NULL);
	pending[SIGCONT] = 0; /* handled right here */
	kt_tty_reenter();
}

int kt_tty_size(int fd, int *rows, int *cols)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) || !ws.ws_row || !ws.ws_col)
		return -ENOTTY;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return 0;
}
