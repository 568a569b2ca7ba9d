/* SPDX-License-Identifier: Apache-2.0 */
/* Private to store/: what chain.c, sign.c and verify.c share (FORMAT.md,
 * "Tamper evidence"). */
#ifndef KUBETAPE_EVIDENCE_INT_H
#define KUBETAPE_EVIDENCE_INT_H

#include "evidence.h"
#include "store_int.h"

/* The bytes a checkpoint signs (KT_CP_MSG_MAX at most); returns the length. */
struct kt_cp {
	int64_t node_seq, session_id, seq, ts_us, n_frames;
	char uuid[40];
	uint8_t head[KT_HASH_LEN], prev[KT_HASH_LEN], sig[KT_SIG_LEN];
	uint8_t final;          /* 0, 1 (the session's end) or KT_CP_PRUNE */
	int64_t ver;            /* chain version: KT_CHAIN_BLAKE2B, KT_CHAIN_SHA256 */
	/* KT_CP_PRUNE only: the prunes row's rule and min_age_us, signed */
	int64_t min_age_us;
	char rule[128];
};
/* checkpoints.final of a prune record signed into the node chain
 * (FORMAT.md "Retention"): message "KTPR" instead of "KTCP" */
#define KT_CP_PRUNE 2
#define KT_CP_MSG_MAX 320
size_t kt_cp_message(const struct kt_cp *cp, uint8_t out[KT_CP_MSG_MAX]);
/* cp_hash, the hash of cp->ver over the message: what the next
 * checkpoint's prev holds; -EPROTONOSUPPORT for an unknown version */
int kt_cp_hash(const struct kt_cp *cp, uint8_t out[KT_HASH_LEN]);

/* OpenSSL's digest functions, from libcrypto loaded on first use
 * (crypto_load.c says why); NULL, logged, with errno ELIBACC if it cannot
 * be loaded.  The pointers have the types of the functions they name. */
#include <openssl/evp.h>
struct kt_evp {
	__typeof__(EVP_MD_fetch) *md_fetch;
	__typeof__(EVP_MD_free) *md_free;
	__typeof__(EVP_MD_CTX_new) *ctx_new;
	__typeof__(EVP_MD_CTX_free) *ctx_free;
	__typeof__(EVP_DigestInit_ex2) *init;
	__typeof__(EVP_DigestUpdate) *update;
	__typeof__(EVP_DigestFinal_ex) *final;
	__typeof__(EVP_Digest) *digest;
	__typeof__(EVP_sha256) *sha256;
};
const struct kt_evp *kt_evp(void);

/* verify.c: a checkpoints row in CP_COLS order (either backend), and
 * whether its signature verifies under pk (false without pk) */
#define CP_COLS "node_seq, session_id, uuid, seq, ts_us, n_frames, head, final, prev, sig, ver"
#define CP_COLS_C "c.node_seq, c.session_id, c.uuid, c.seq, c.ts_us, c.n_frames, c.head," \
	" c.final, c.prev, c.sig, c.ver"
struct kt_row;
void kt_cp_read(struct kt_row *q, struct kt_cp *cp);
bool kt_cp_sig_ok(const struct kt_cp *cp, const uint8_t *pk);

/* Fold the frames of a chunk being appended into the session's chain head
 * (chunk.c, inside the append's transaction). */
int kt_chain_extend(struct kt_store *st, int64_t session_id, const uint8_t *frames,
		    size_t len, int64_t start_us);

struct kt_signer {
	unsigned char sk[64], pk[KT_PK_LEN];
	char pk_text[96];
	char *head_path;
	int64_t node_seq;            /* last checkpoint signed */
	uint8_t prev[KT_HASH_LEN];   /* its hash */
	bool head_dirty;
};

/* Sign and insert a prune record's checkpoint (cp: session_id, uuid, seq,
 * ts_us, n_frames, head, rule, min_age_us set) after sg's chain position,
 * inside the prune's transaction; advances sg.  0 or -errno. */
int kt_chain_sign_prune(struct kt_store *st, struct kt_signer *sg, struct kt_cp *cp);

int kt_hex_decode(const char *hex, uint8_t *out, size_t n);
void kt_hex_encode(const uint8_t *in, size_t n, char *out);
/* head file: "<node_seq> <hash hex>\n"; -ENOENT if missing */
int kt_head_read(const char *path, int64_t *node_seq, uint8_t hash[KT_HASH_LEN]);

#endif
