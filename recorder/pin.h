/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bpffs directory where the recorder leaves its kernel state (maps,
 * links, programs) so it outlives the recorder process: a restarted or
 * upgraded recorder adopts it (recorder/loader.c).  Layout:
 *   <pin-dir>/v<KT_PIN_LAYOUT>/map_*, link_*, prog_*
 */
#ifndef KUBETAPE_PIN_H
#define KUBETAPE_PIN_H

#include <stddef.h>

#define KT_PIN_DEFAULT "/sys/fs/bpf/kubetape"

/* Mount bpffs on /sys/fs/bpf when `root` is under it and nothing is
 * mounted there; create `root`; fail with a clear line if it is not on a
 * bpffs.  Then lock it (one recorder per pin dir): -EBUSY if held.
 * Returns the lock fd (keep it open) or -errno. */
int kt_pin_prepare(const char *root);

/* Remove a pinned directory and everything in it (the kernel objects go
 * when their last reference does).  Missing: 0. */
int kt_pin_rmtree(const char *dir);

/* Does path exist? */
int kt_pin_exists(const char *path);

/* Calls cb for every "v<N>" under root other than v<own> (pinned state of
 * another kubetape version) and every leftover "tmp-*" dir. */
int kt_pin_foreign(const char *root, int own, void (*cb)(const char *path, int layout, void *ctx),
		   void *ctx);

#endif
