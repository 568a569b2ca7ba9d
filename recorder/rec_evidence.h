/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The recorder's half of tamper evidence: the evidence frames it adds to a
 * session's stream (so the signed hash chain covers the session's metadata,
 * its commands, their exits and its end; store/evidence.h) and the marker of
 * input withheld by the kernel.  Each returns kt_chunk_add's result.
 */
#ifndef KUBETAPE_REC_EVIDENCE_H
#define KUBETAPE_REC_EVIDENCE_H

#include "store.h"
#include "evidence.h"

/* A checkpoint at least this often while a session has new frames. */
#define KT_CHECKPOINT_US (30 * 1000000LL)

int kt_rec_ev_meta(struct kt_chunk_builder *cb, const struct kt_session_info *i);
int kt_rec_ev_cmd(struct kt_chunk_builder *cb, const struct kt_command *c);
int kt_rec_ev_exit(struct kt_chunk_builder *cb, int32_t seq, int64_t end_us, int status);
int kt_rec_ev_end(struct kt_chunk_builder *cb, const struct kt_session_info *i, int64_t ts_us);
int kt_rec_ev_withheld(struct kt_chunk_builder *cb, int64_t ts_us, uint32_t bytes);
/* "recording started late" at ts_us (the session's start); its leader
 * started at leader_start_us */
int kt_rec_ev_late(struct kt_chunk_builder *cb, int64_t ts_us, int64_t leader_start_us);

/* The node key's path: `key` if given, else node.key in the store's
 * directory (outside the database file: whoever edits the store must not
 * be able to re-sign it; deploy/ mounts that directory).  -ENAMETOOLONG. */
int kt_rec_key_path(const char *db, const char *key, char *buf, size_t len);

#endif
