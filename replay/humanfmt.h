/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Turning store values into short human text for tables and `show`:
 * sizes, wait(2) statuses, session states, and making recorded text safe
 * to print on an auditor's terminal.
 */
#ifndef KUBETAPE_REPLAY_HUMANFMT_H
#define KUBETAPE_REPLAY_HUMANFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "0B", "512B", "1.5K", "23K", "4.0M", ... (powers of 1024, like ls -h). */
char *hf_bytes(uint64_t n, char *buf, size_t len);

/* wait(2) status: "0", "127", "SIGKILL", "SIGSEGV (core)"; "-" if !has. */
char *hf_exit(bool has, int status, char *buf, size_t len);

/*
 * Copies recorded text (argv, names: attacker-controlled) so it cannot drive
 * the terminal: control bytes and invalid UTF-8 become \xNN, \n \t \r become
 * \n \t \r.  Valid UTF-8 passes through.  Always NUL-terminates; output is
 * cut at a character boundary if `len` is too small.  Returns buf.
 */
char *hf_sanitize(const char *s, size_t n, char *buf, size_t len);

/* Length of the valid UTF-8 sequence at s (1-4), 0 if invalid/truncated. */
size_t hf_utf8_len(const unsigned char *s, size_t n);

/* Display columns of sanitized text: one per code point (no wide chars). */
size_t hf_width(const char *s);

#endif
