/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON encoding of store records for --json output (jansson): the store's
 * encoder (store/json.h) with the CLI's fields.  Field names are the struct
 * field names, so the JSON documents store.h; derived fields (state name,
 * ISO times, exit code/signal) are added next to the raw ones.  Unsigned
 * 64-bit values above INT64_MAX are emitted as decimal strings (jansson
 * integers are signed).
 */
#ifndef KUBETAPE_REPLAY_JSON_OUT_H
#define KUBETAPE_REPLAY_JSON_OUT_H

#include <jansson.h>
#include <stdio.h>

#include "cmdtree.h"
#include "json.h"
#include "store.h"

/* New reference, or NULL on allocation failure. */
json_t *jo_session(const struct kt_session_info *s);
json_t *jo_command(const struct kt_command *c);

/*
 * `show --json` and `export --format json`: {"session": {...}, "commands":
 * [...]} with each command's tree "depth".  New reference or NULL (ENOMEM).
 */
json_t *jo_show(const struct kt_session_info *s, const struct kt_cmdtree *t);

/*
 * The node's skipped BPF runs (store/skipped.c) next to a session: does the
 * span they were counted in overlap the session; and `node_skipped_runs`
 * ({runs, first_us, last_us, overlaps_session}) added to a show/export
 * document.  0 or -ENOMEM.
 */
bool jo_skipped_overlaps(const struct kt_skipped *k, const struct kt_session_info *s,
			 int64_t now_us);
int jo_add_skipped(struct kt_store *st, json_t *root, const struct kt_session_info *s);

/* A JSON string of recorded bytes: invalid UTF-8 becomes U+FFFD.  New
 * reference or NULL (ENOMEM). */
json_t *jo_string(const char *s, size_t n);

/* json_dumpf with the project's flags; 0 or -EIO. */
int jo_dump(json_t *j, FILE *out, bool pretty);

/*
 * A JSON array written one element at a time (`sessions --json`, `search
 * --json`), so it is never held in memory: element n (0-based), compact,
 * on its own line.  Takes j's reference; j NULL (failed encoding) writes
 * nothing.  0, -ENOMEM (j NULL) or -EIO.
 */
int jo_array_item(json_t *j, size_t n, FILE *out);
/* Closes the array after n elements ("[]" when there were none). */
void jo_array_end(size_t n, FILE *out);

/* jo_show with a "verification" object in "session" (NULL: none; the
 * caller keeps its reference) */
json_t *jo_show_verified(const struct kt_session_info *s, const struct kt_cmdtree *t,
			 json_t *verification);

#endif
