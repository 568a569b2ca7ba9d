/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Retention applied continuously (--retain-older-than, --retain-max-bytes):
 * the index worker runs kt_store_prune (store/include/prune.h) with these
 * rules 5 s after it starts and then every 10 minutes, on its own
 * connection at nice 10, never on the capture path.  Held, active and
 * unsettled sessions are exempt as with `kubetape prune`; each prune is
 * recorded with who = "kubetape-recorder retention".
 */
#ifndef KUBETAPE_RETENTION_H
#define KUBETAPE_RETENTION_H

#include <stdbool.h>

struct kt_store;

/* Parse a recorder flag: "older" (30d, 12h, 90m, 45s, or seconds) or
 * "bytes" (N, NK, NM, NG).  -EINVAL on a malformed value. */
int kt_retention_set(bool older, const char *arg);
/* The node key file (kept; the worker loads it at its first prune, so that
 * every prune record is signed into the node chain). */
void kt_retention_set_key(const char *key_path);
/* Append the flags that pass the rules (and the key) to the worker;
 * returns how many argv slots it used (0, 4 or 6). */
int kt_retention_argv(char **argv);
/* The worker's round: prunes when due. */
void kt_retention_tick(struct kt_store *st);
/* The worker is done: free what retention holds (the key). */
void kt_retention_done(void);

#endif
