/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quoting recorded argv so an auditor can copy-paste it into a POSIX shell
 * (bash, zsh, ksh93 for $'...').  Recorded bytes are hostile: the result
 * never contains raw control bytes or invalid UTF-8.
 */
#ifndef KUBETAPE_REPLAY_SHQUOTE_H
#define KUBETAPE_REPLAY_SHQUOTE_H

#include <stdio.h>
#include <stddef.h>

/*
 * Writes one word to `out`: bare if it is made only of safe characters,
 * '...' if it is printable, $'...' with \xNN escapes otherwise.
 * Returns the number of bytes written.
 */
size_t shq_word(FILE *out, const char *s, size_t n);

/* argv as stored (NUL-separated, argv_len bytes), words joined by spaces. */
size_t shq_argv(FILE *out, const char *argv, size_t len);

#endif
