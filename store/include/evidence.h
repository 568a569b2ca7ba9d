/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tamper evidence and the access log (store/FORMAT.md, "Tamper evidence",
 * "Access log").
 *
 *  - Every session's frame stream is hash-chained frame by frame (over the
 *    logical frames, so compaction and re-chunking change nothing) with the
 *    hash its chain version names: 1 BLAKE2b-256, 2 SHA-256.
 *    The recorder puts the session's metadata, each command, each exit and
 *    the end into the stream as evidence frames (KT_FRAME_META..END), so the
 *    chain covers them; the verifier checks the tables against them.
 *  - Checkpoints sign (Ed25519, libsodium) a session's chain head; they form
 *    one node-wide chain (each names the hash of the one before), anchored in
 *    a head file next to the key, so deleting a session, checkpoints or the
 *    tail of the chain is detected.
 *  - The access log records who read what.  Reading never writes evidence.
 */
#ifndef KUBETAPE_EVIDENCE_H
#define KUBETAPE_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "store.h"

#define KT_HASH_LEN 32 /* BLAKE2b-256 (chain version 1) or SHA-256 (2) */
#define KT_PK_LEN 32   /* Ed25519 public key */
#define KT_SIG_LEN 64  /* Ed25519 signature */

/* ---- evidence frames (recorder side) ------------------------------------ */

/* Payloads of the evidence frames, exactly as FORMAT.md defines them; the
 * verifier re-encodes the tables' rows with the same functions and compares.
 * malloc'd into *out (*len bytes); -ENOMEM. */
int kt_evidence_meta(const struct kt_session_info *s, uint8_t **out, size_t *len);
int kt_evidence_cmd(const struct kt_command *c, uint8_t **out, size_t *len);
/* fixed size payloads: the return value is the length written (<= 32) */
size_t kt_evidence_exit(int32_t seq, int64_t end_us, int exit_status, uint8_t out[32]);
size_t kt_evidence_end(const struct kt_session_info *s, uint8_t out[32]);

/*
 * Chain versions (FORMAT.md "Chain versions"): which hash a session's chain
 * and its checkpoints use, recorded in sessions.chain_ver and
 * checkpoints.ver (and signed: the checkpoint message's version byte).
 * New sessions get KT_CHAIN_VER_NEW; every version stays verifiable.
 */
#define KT_CHAIN_BLAKE2B 1   /* BLAKE2b-256 (libsodium) */
#define KT_CHAIN_SHA256 2    /* SHA-256 (OpenSSL libcrypto: SHA-NI where the CPU has it) */
#define KT_CHAIN_VER_NEW KT_CHAIN_SHA256
bool kt_chain_ver_known(int64_t ver);

/*
 * A hasher for one chain version, reused across frames (OpenSSL's context
 * set-up is too dear per frame).  NULL with errno EPROTONOSUPPORT for an
 * unknown version, ENOMEM.  Free accepts NULL.
 */
struct kt_chain;
struct kt_chain *kt_chain_new(int64_t ver);
void kt_chain_free(struct kt_chain *c);
/* Chain step: h = H(h || type || ts_us || len || payload), H by c's
 * version (FORMAT.md, "Tamper evidence"; public for bench/ and tools). */
int kt_chain_step(struct kt_chain *c, uint8_t h[KT_HASH_LEN], const struct kt_frame *f);

/* The count in a KT_FRAME_WITHHELD payload; -EBADMSG if malformed. */
int kt_frame_withheld_parse(const struct kt_frame *f, uint64_t *bytes);

/*
 * kt_store_command_exit, also telling which command it closed (*seq, -1 if
 * none: a forked child that never exec'd), for the EXIT frame.
 */
int kt_store_command_exit_seq(struct kt_store *st, int64_t session_id, uint32_t pid,
			      int64_t end_us, int exit_status, int32_t *seq);

/* ---- signing (store/sign.c) ---------------------------------------------- */

struct kt_signer;
/*
 * The node key at `key_path` (64-byte libsodium Ed25519 secret key, mode
 * 0600; created with a fresh key pair if missing, its directory 0700).  The
 * public key is written next to it as `<key_path>.pub` in the text form
 * kt_pubkey_parse reads; the node chain's head goes to `<key_path>.head`.
 * A key file of the wrong size or with group/other access: -EINVAL, logged.
 */
int kt_signer_open(const char *key_path, struct kt_signer **out);
/* The same for a key that must exist (`kubetape prune`, the recorder's
 * worker): -ENOENT (logged) instead of creating one. */
int kt_signer_load(const char *key_path, struct kt_signer **out);
void kt_signer_free(struct kt_signer *sg);
/* "kubetape-ed25519 <64 hex digits>" */
const char *kt_signer_pubkey_text(const struct kt_signer *sg);
/*
 * Continue the node chain in `st` (writable): after the later of the store's
 * last checkpoint and the head file (a store whose tail was cut keeps the
 * gap: it is never healed).  Records the public key in meta.
 */
int kt_signer_attach(struct kt_signer *sg, struct kt_store *st);
/*
 * Sign the session's chain head as its next checkpoint (inside the caller's
 * batch if any).  `final` at session end.  Returns 1 if one was written, 0 if
 * the last checkpoint already covers every frame (and is final, when final
 * is asked), <0 on error.
 */
int kt_store_checkpoint(struct kt_store *st, struct kt_signer *sg, int64_t session_id,
			int64_t now_us, bool final);
/* Write the head file (atomically), after the checkpoints are committed. */
int kt_signer_save_head(struct kt_signer *sg);
/*
 * Catch up with checkpoints another process appended to the node chain
 * (a prune by `kubetape prune` or the worker while the recorder signs):
 * inside the caller's write transaction, before signing.  0 or -errno.
 */
int kt_signer_sync(struct kt_signer *sg, struct kt_store *st);

/* "kubetape-ed25519 <hex>" (a .pub file's first line) -> pk; -EINVAL */
int kt_pubkey_parse(const char *text, uint8_t pk[KT_PK_LEN]);
/* Read a .pub file; -errno / -EINVAL, logged. */
int kt_pubkey_load(const char *path, uint8_t pk[KT_PK_LEN]);
/* The public key the recorder stored in meta (not trustworthy on its own:
 * whoever can edit the store can replace it).  -ENOENT if none. */
int kt_store_pubkey(struct kt_store *st, uint8_t pk[KT_PK_LEN]);

/* ---- verification (store/verify.c) --------------------------------------- */

enum kt_verify_state {
	KT_VERIFY_OK = 0,           /* every frame signed, final checkpoint */
	KT_VERIFY_UNSIGNED_TAIL = 1,/* a signed prefix verifies; frames after it
				     * are not signed yet (active session, or the
				     * recorder was killed) */
	KT_VERIFY_UNSIGNED = 2,     /* no checkpoint at all (recorded before
				     * signing, or not yet 30 s old) */
	KT_VERIFY_BROKEN = 3,       /* something does not match: see why */
};
const char *kt_verify_state_name(int state); /* "verified", "unsigned tail", ... */

struct kt_verify_result {
	int state;                  /* enum kt_verify_state */
	uint64_t frames;            /* frames stored */
	uint64_t frames_signed;     /* frames covered by the last good checkpoint */
	uint32_t checkpoints;
	bool final;                 /* a final checkpoint verified */
	uint64_t bytes;             /* raw frame bytes hashed */
	int problems;
	char why[1024];             /* problems, "; "-separated (clipped) */
};

enum kt_verify_flags {
	/* signatures, checkpoint coverage and row/frame counts only: no frame
	 * is hashed (listings); a full verify also rehashes every frame */
	KT_VERIFY_QUICK = 1 << 0,
};

/*
 * Verify one session against `pk` (NULL: the key in meta, see
 * kt_store_pubkey).  Returns 0 with *r filled (whatever the state), or
 * -ENOENT for no such session, or another -errno when the store cannot be
 * read.  Reading only.
 */
int kt_verify_session(struct kt_store *st, int64_t session_id, const uint8_t *pk,
		      unsigned flags, struct kt_verify_result *r);

/*
 * The node chain: every checkpoint in node order, linked by hashes, signed,
 * numbered without gaps, naming sessions that exist, and reaching the head
 * file `head_path` (NULL: not checked).  Each problem is passed to cb (a
 * sentence); returns the number of problems, or -errno.
 */
int kt_verify_node(struct kt_store *st, const uint8_t *pk, const char *head_path,
		   void (*cb)(const char *problem, void *ctx), void *ctx, int64_t *ncheckpoints);

/* ---- access log (store/access.c) ----------------------------------------- */

/*
 * Record that `who` did `action` (view, replay, export, search, verify...)
 * on `session_id` (0: none) with `detail`, in `access/<name>.access` next
 * to the store (its own SQLite file, created on first use: a reader never
 * waits for the recorder's write lock).
 * -errno (logged) when it cannot: callers refuse to show data then.
 */
int kt_access_log(const char *db_path, const char *who, const char *action,
		  int64_t session_id, const char *detail);
/*
 * The same for an open store: a node store's access/ file, or on the
 * cluster store (postgres://) the server's access_log table through the
 * store's connection (session_id is then the cluster id).  kt_access_log
 * with a postgres:// path opens a connection for the one entry.
 */
int kt_store_access_log(struct kt_store *st, const char *who, const char *action,
			int64_t session_id, const char *detail);
/* "uid 1000 (alice)" [+ " via sudo from uid N"] for the CLI */
void kt_access_who_cli(char *buf, size_t len);

struct kt_access_entry {
	int64_t id, ts_us, session_id;
	const char *who, *action, *detail;
};
/* Newest first; since_us 0 = all; limit 0 = all. */
int kt_access_list(struct kt_store *st, int64_t session_id, int64_t since_us, int limit,
		   int (*cb)(const struct kt_access_entry *e, void *ctx), void *ctx);

#endif
