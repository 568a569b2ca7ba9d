/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The screen indexer: a low-priority thread of the recorder, with its own
 * store connection, that renders recorded output through the terminal model
 * and writes keyframes (for seeking) and screen text (for search) as
 * sessions are recorded.  It never runs on the capture path: during a flood
 * it falls behind and catches up later; its work is resumable, so nothing is
 * lost if the recorder stops mid-way.
 */
#ifndef KUBETAPE_INDEXER_H
#define KUBETAPE_INDEXER_H

struct kt_indexer;

/* Opens `db` (already created by the recorder) and starts the thread. */
int kt_indexer_start(const char *db, struct kt_indexer **out);
/* Let it finish ended sessions for at most `grace_ms`, then stop and join. */
void kt_indexer_stop(struct kt_indexer *ix, int grace_ms);

#endif
