/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The terminal side of `kubetape replay`: raw-ish mode, signals, and the
 * guarantee that the user's terminal is restored however the process ends
 * (normal exit, error path, SIGINT/SIGTERM/SIGHUP/SIGQUIT, Ctrl-Z).
 *
 * Modes: stdin (when a terminal, for keys) loses ICANON, ECHO and IEXTEN
 * but keeps ISIG, so Ctrl-C and Ctrl-Z still arrive as signals; stdout
 * (when a terminal) loses OPOST, so recorded bytes reach the screen
 * exactly as the user's terminal got them (the pty already turned \n into
 * \r\n where the program wanted it).
 *
 * Signals are turned into flags plus a byte on a self-pipe (kt_tty_sigfd,
 * for poll), so the main loop restores the terminal between two writes,
 * never in the middle of an escape sequence.  A second fatal signal while
 * the first is pending (the loop is stuck in a write to a stopped
 * terminal) restores from the handler and exits there.
 *
 * One terminal per process (static state): this is a CLI.
 */
#ifndef KUBETAPE_REPLAY_TERMIO_H
#define KUBETAPE_REPLAY_TERMIO_H

#include <stdbool.h>

/* Saves and changes the modes, installs the handlers.  0 or -errno. */
int kt_tty_enter(bool keys, bool out_tty);
/* Writes `reset` (may be NULL) to stdout when it is a terminal and restores
 * the saved modes.  Idempotent; handlers stay installed. */
void kt_tty_leave(const char *reset);
/* Re-applies the modes after a stop (SIGCONT) or kt_tty_leave. */
int kt_tty_reenter(void);
/* Read end of the self-pipe: readable when a signal arrived. */
int kt_tty_sigfd(void);
/* The next pending signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP,
 * SIGCONT, SIGWINCH), 0 when none.  Drains the pipe. */
int kt_tty_take_signal(void);
/* Ctrl-Z: restores the terminal (writing `reset`), stops the process the
 * default way and returns after SIGCONT with the modes re-applied. */
void kt_tty_suspend(const char *reset);
/* Terminal size of fd: 0, or -ENOTTY. */
int kt_tty_size(int fd, int *rows, int *cols);

#endif
