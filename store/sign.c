// SPDX-License-Identifier: Apache-2.0
/*
 * The node's Ed25519 key (libsodium) and the node chain's state.  The key
 * lives outside the database (an editor of the store must not be able to
 * re-sign it), mode 0600, created on first start; the public key is written
 * next to it for auditors.  The head file (<key>.head) holds the last
 * checkpoint's number and hash: a store whose chain tail was cut no longer
 * reaches it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sodium.h>

#include "evidence_int.h"
#include "log.h"
#include "pg/pgr.h"

#define PUB_PREFIX "kubetape-ed25519 "

void kt_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * n] = 0;
}

int kt_hex_decode(const char *hex, uint8_t *out, size_t n)
{
	size_t bin_len;

	if (sodium_hex2bin(out, n, hex, 2 * n, NULL, &bin_len, NULL) || bin_len != n)
		return -EINVAL;
	return 0;
}

int kt_pubkey_parse(const char *text, uint8_t pk[KT_PK_LEN])
{
	size_t pl = strlen(PUB_PREFIX);

	if (strncmp(text, PUB_PREFIX, pl) || strspn(text + pl, "0123456789abcdefABCDEF") != 2 * KT_PK_LEN)
		return -EINVAL;
	return kt_hex_decode(text + pl, pk, KT_PK_LEN);
}

int kt_pubkey_load(const char *path, uint8_t pk[KT_PK_LEN])
{
	char line[256];
	FILE *f = fopen(path, "re");
	int err;

	if (!f) {
		err = -errno;
		pr_err("public key %s: %s", path, strerror(-err));
		return err;
	}
	err = fgets(line, sizeof(line), f) ? kt_pubkey_parse(line, pk) : -EINVAL;
	fclose(f);
	if (err)
		pr_err("public key %s: not a kubetape public key (expected '" PUB_PREFIX "<64 hex digits>')", path);
	return err;
}

int kt_head_read(const char *path, int64_t *node_seq, uint8_t hash[KT_HASH_LEN])
{
	char line[160], hex[2 * KT_HASH_LEN + 1];
	long long n;
	FILE *f = fopen(path, "re");
	int err = -EINVAL;

	if (!f)
		return -errno;
	if (fgets(line, sizeof(line), f) && sscanf(line, "%lld %64s", &n, hex) == 2 && n >= 0 &&
	    kt_hex_decode(hex, hash, KT_HASH_LEN) == 0) {
		*node_seq = n;
		err = 0;
	}
	fclose(f);
	if (err)
		pr_err("chain head %s: malformed", path);
	return err;
}

/* Write `data` to `path` atomically with `mode`. */
static int write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[4096];
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) || write(fd, data, len) != (ssize_t)len || fsync(fd))
		err = -errno ?: -EIO;
	close(fd);
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static int load_or_create_key(struct kt_signer *sg, const char *path, bool create)
{
	struct stat stb;
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT && create) {
		crypto_sign_keypair(sg->pk, sg->sk);
		err = write_file(path, sg->sk, sizeof(sg->sk), 0600);
		if (err)
			pr_err("node key %s: cannot create: %s", path, strerror(-err));
		else
			pr_info("node key %s created", path);
		return err;
	}
	if (fd < 0) {
		err = -errno;
		pr_err("node key %s: %s", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &stb) || (stb.st_mode & 077)) {
		pr_err("node key %s: readable by group or others (mode %o): refusing it", path,
		       (unsigned)stb.st_mode & 0777);
		err = -EINVAL;
	} else if ((n = read(fd, sg->sk, sizeof(sg->sk))) != (ssize_t)sizeof(sg->sk)) {
		pr_err("node key %s: not a 64-byte Ed25519 secret key", path);
		err = -EINVAL;
	} else {
		crypto_sign_ed25519_sk_to_pk(sg->pk, sg->sk);
	}
	close(fd);
	return err;
}

static int signer_open(const char *key_path, bool create, struct kt_signer **out)
{
	struct kt_signer *sg;
	char pub[4096], text[160];
	int err;

	*out = NULL;
	if (sodium_init() < 0) {
		pr_err("libsodium failed to initialize");
		return -EIO;
	}
	sg = calloc(1, sizeof(*sg));
	if (!sg)
		return -ENOMEM;
	err = load_or_create_key(sg, key_path, create);
	if (err)
		goto cleanup;
	memcpy(sg->pk_text, PUB_PREFIX, strlen(PUB_PREFIX));
	kt_hex_encode(sg->pk, KT_PK_LEN, sg->pk_text + strlen(PUB_PREFIX));
	if (asprintf(&sg->head_path, "%s.head", key_path) < 0) {
		sg->head_path = NULL;
		err = -ENOMEM;
		goto cleanup;
	}
	snprintf(pub, sizeof(pub), "%s.pub", key_path);
	snprintf(text, sizeof(text), "%s\n", sg->pk_text);
	err = write_file(pub, text, strlen(text), 0644);
	if (err) {
		pr_err("public key %s: cannot write: %s", pub, strerror(-err));
		goto cleanup;
	}
	*out = sg;
	return 0;
cleanup:
	kt_signer_free(sg);
	return err;
}

int kt_signer_open(const char *key_path, struct kt_signer **out)
{
	return signer_open(key_path, true, out);
}

int kt_signer_load(const char *key_path, struct kt_signer **out)
{
	return signer_open(key_path, false, out);
}

void kt_signer_free(struct kt_signer *sg)
{
	if (!sg)
		return;
	sodium_memzero(sg->sk, sizeof(sg->sk));
	free(sg->head_path);
	free(sg);
}

const char *kt_signer_pubkey_text(const struct kt_signer *sg)
{
	return sg->pk_text;
}

/*
 * The store's last checkpoint: *node_seq (0: none) and its hash.  A prune
 * checkpoint's hash covers its prunes row's rule (FORMAT.md "Retention"),
 * read here too.
 */
static int chain_tail(struct kt_store *st, int64_t *node_seq, uint8_t hash[KT_HASH_LEN])
{
	struct kt_cp cp = {0};
	sqlite3_stmt *q;
	int rc, err = 0;

	*node_seq = 0;
	q = kt_stmt(st, ST_CP_TAIL);	/* per checkpoint: cached */
	if (!q)
		return -ENOMEM;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(q, 6) == KT_HASH_LEN &&
	    sqlite3_column_bytes(q, 8) == KT_HASH_LEN) {
		cp.node_seq = sqlite3_column_int64(q, 0);
		cp.session_id = sqlite3_column_int64(q, 1);
		kt_strlcpy(cp.uuid, (const char *)sqlite3_column_text(q, 2), sizeof(cp.uuid));
		cp.seq = sqlite3_column_int64(q, 3);
		cp.ts_us = sqlite3_column_int64(q, 4);
		cp.n_frames = sqlite3_column_int64(q, 5);
		memcpy(cp.head, sqlite3_column_blob(q, 6), KT_HASH_LEN);
		cp.final = (uint8_t)sqlite3_column_int(q, 7);
		memcpy(cp.prev, sqlite3_column_blob(q, 8), KT_HASH_LEN);
		if (sqlite3_column_text(q, 9))
			kt_strlcpy(cp.rule, (const char *)sqlite3_column_text(q, 9), sizeof(cp.rule));
		cp.min_age_us = sqlite3_column_int64(q, 10);
		cp.ver = sqlite3_column_int64(q, 11);
		*node_seq = cp.node_seq;
		/* a tail of an unknown version: nothing can follow it here */
		err = kt_cp_hash(&cp, hash);
		if (err)
			pr_err("node chain: checkpoint %" PRId64 " has chain version %" PRId64 ", unknown to this kubetape",
			       cp.node_seq, cp.ver);
	} else if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		err = kt_sql_err(st, rc, "node chain tail");
	}
	sqlite3_reset(q);
	return err;
}

int kt_signer_sync(struct kt_signer *sg, struct kt_store *st)
{
	uint8_t hash[KT_HASH_LEN];
	int64_t n;
	int err = chain_tail(st, &n, hash);

	/* only forward: a store behind sg is a cut tail (attach continues
	 * after the head file on purpose) */
	if (!err && n > sg->node_seq) {
		sg->node_seq = n;
		memcpy(sg->prev, hash, KT_HASH_LEN);
	}
	return err;
}

int kt_signer_attach(struct kt_signer *sg, struct kt_store *st)
{
	sqlite3_stmt *q = NULL;
	int64_t head_seq = 0;
	uint8_t head_hash[KT_HASH_LEN];
	int rc, err;

	err = kt_store_check_writable(st, "signer attach");
	if (err)
		return err;
	sg->node_seq = 0;
	memset(sg->prev, 0, sizeof(sg->prev));
	err = kt_signer_sync(sg, st);
	if (err)
		return err;
	/* The head file is the anchor outside the store: when it is ahead,
	 * the store lost its chain's tail.  Continue after the head, so the
	 * gap stays visible to verify instead of being papered over. */
	if (kt_head_read(sg->head_path, &head_seq, head_hash) == 0 && head_seq > sg->node_seq) {
		pr_warn("node chain: the store ends at checkpoint %lld but %s says %lld: checkpoints were removed; continuing after %lld (verify will report the gap)",
			(long long)sg->node_seq, sg->head_path, (long long)head_seq, (long long)head_seq);
		sg->node_seq = head_seq;
		memcpy(sg->prev, head_hash, KT_HASH_LEN);
	}
	rc = sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO meta (key, value) VALUES ('node_pubkey', ?1)",
				-1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "signer attach (pubkey)");
	sqlite3_bind_text(q, 1, sg->pk_text, -1, SQLITE_STATIC);
	err = kt_stmt_done(st, q, "signer attach (pubkey)");
	sqlite3_finalize(q);
	return err;
}

int kt_signer_save_head(struct kt_signer *sg)
{
	char text[160], hex[2 * KT_HASH_LEN + 1];
	int err;

	if (!sg || !sg->head_dirty)
		return 0;
	kt_hex_encode(sg->prev, KT_HASH_LEN, hex);
	snprintf(text, sizeof(text), "%lld %s\n", (long long)sg->node_seq, hex);
	err = write_file(sg->head_path, text, strlen(text), 0600);
	if (err)
		pr_err("chain head %s: cannot write: %s", sg->head_path, strerror(-err));
	else
		sg->head_dirty = false;
	return err;
}

int kt_store_pubkey(struct kt_store *st, uint8_t pk[KT_PK_LEN])
{
	sqlite3_stmt *q = NULL;
	int rc, err = -ENOENT;

	/* the cluster store has one key per node (kt_nodes.pubkey), used by
	 * kt_verify_session for each session's own node; no store-wide key */
	if (st->pg)
		return -ENOENT;
	rc = sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = 'node_pubkey'", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "public key");
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
		err = kt_pubkey_parse((const char *)sqlite3_column_text(q, 0), pk) ? -EINVAL : 0;
	sqlite3_finalize(q);
	return err;
}
