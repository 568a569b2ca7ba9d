/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the `kubetape audit` subcommands (cmd_audit*.c). */
#ifndef KUBETAPE_REPLAY_CMD_AUDIT_H
#define KUBETAPE_REPLAY_CMD_AUDIT_H

#include <stdio.h>

#include "audit.h"
#include "cli.h"

/* The store opened read-write (created and migrated if needed). */
int kt_audit_open_rw(struct kt_cli *cli, struct kt_store **st);
/* CLOCK_MONOTONIC in us (rates). */
int64_t kt_audit_now_us(void);
/* The whole stream, NUL-terminated; NULL with errno. */
char *kt_audit_slurp(FILE *f, size_t *len);
/* Store JSON lines [buf, buf+len) in batches of 500 lines, one error line
 * per malformed line (counted in *bad, numbered from *lineno + 1). */
int kt_audit_lines(struct kt_store *st, const char *name, char *buf, size_t len,
		   uint64_t *lineno, struct kt_audit_ingest_stats *s, uint64_t *bad);
/* `kubetape audit follow` (cmd_audit_follow.c) */
int kt_audit_follow(struct kt_cli *cli, int argc, char **argv);

#endif
