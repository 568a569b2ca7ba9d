/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writing a command's result to `-o FILE` atomically: the data goes to a
 * temp file next to FILE (".FILE.kubetape-XXXXXX", same file system), which
 * is fsync'ed and renamed over FILE only when everything was written.  A
 * failed or interrupted export leaves no FILE and no temp file behind.
 * Without `force` an existing FILE is never replaced, even one created
 * while the export ran (renameat2 RENAME_NOREPLACE, else link + unlink).
 * The file gets the mode a plain create would (0666 & ~umask).
 * Path NULL or "-" means stdout (nothing atomic about it).
 * Errors are logged as "<cmd>: ..." and returned as negative errnos.
 */
#ifndef KUBETAPE_REPLAY_OUTFILE_H
#define KUBETAPE_REPLAY_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

struct kt_outfile {
	FILE *f;            /* where to write */
	const char *path;   /* NULL for stdout */
	char *tmp;          /* temp path while open */
	bool force;
	const char *cmd;
};

/* Cheap early check, before a long job: -EEXIST (logged) if FILE exists and
 * !force, -EISDIR for a directory. */
int kt_outfile_check(const char *path, bool force, const char *cmd);
int kt_outfile_open(struct kt_outfile *o, const char *path, bool force, const char *cmd);
/* Flush, fsync, close, rename.  On failure the temp file is removed. */
int kt_outfile_commit(struct kt_outfile *o);
/* Drops the temp file (no-op for stdout or after commit).  NULL-safe. */
void kt_outfile_abort(struct kt_outfile *o);

#endif
