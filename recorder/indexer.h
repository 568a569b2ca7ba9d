/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The background worker renders recorded output through the terminal model
 * and writes keyframes (for seeking) and screen text (for search) as
 * sessions are recorded, then compacts the raw chunks the recorder appended
 * into large zstd chunks: compression never runs on the capture path.  It runs as a separate worker process, a fresh exec of the
 * recorder binary (--index-worker), because it parses attacker-controlled
 * terminal output with libvterm: the worker drops every capability and sets
 * no_new_privs, holds no BPF fds, runs at nice 10, and never slows capture.
 * During a flood it falls behind and catches up later; its work is
 * resumable, so nothing is lost if it stops or crashes (the recorder
 * restarts it, a bounded number of times).
 */
#ifndef KUBETAPE_INDEXER_H
#define KUBETAPE_INDEXER_H

struct kt_indexer;

/* Starts the worker on `db` (already created by the recorder). */
int kt_indexer_start(const char *db, struct kt_indexer **out);
/* Reap and restart a worker that died; call from the main loop. */
void kt_indexer_check(struct kt_indexer *ix);
/* SIGTERM the worker, wait `grace_ms`, then SIGKILL. */
void kt_indexer_stop(struct kt_indexer *ix, int grace_ms);

/* The worker's main: returns the process exit status.  lifeline: read end
 * of a pipe only the recorder writes to (-1: none); ppid: the recorder's
 * pid (0: unknown).  It exits when either says the recorder is gone. */
int kt_indexer_worker(const char *db, int lifeline, long ppid);

#endif
