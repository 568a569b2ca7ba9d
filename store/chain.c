// SPDX-License-Identifier: Apache-2.0
/*
 * The write side of tamper evidence: evidence frame payloads, the per-frame
 * hash chain kept in chain_heads, and signed checkpoints (FORMAT.md,
 * "Tamper evidence").  The chain is over logical frames (type, time,
 * payload), never chunk bytes, so compaction and re-chunking keep it.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "evidence_int.h"
#include "log.h"

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

struct kt_chain {
	int64_t ver;
	const struct kt_evp *evp; /* version 2: libcrypto (crypto_load.c) */
	EVP_MD *md;           /* version 2: fetched once per hasher */
	EVP_MD_CTX *ctx;
};

bool kt_chain_ver_known(int64_t ver)
{
	return ver == KT_CHAIN_BLAKE2B || ver == KT_CHAIN_SHA256;
}

struct kt_chain *kt_chain_new(int64_t ver)
{
	struct kt_chain *c;

	if (!kt_chain_ver_known(ver)) {
		errno = EPROTONOSUPPORT;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto nomem;
	c->ver = ver;
	if (ver == KT_CHAIN_SHA256) {
		c->evp = kt_evp();
		if (!c->evp) {
			free(c);
			errno = ELIBACC;
			return NULL;
		}
		/* an explicit fetch: EVP_sha256() would be looked up again at
		 * every init (OpenSSL 3), ~100 ns per frame */
		c->md = c->evp->md_fetch(NULL, "SHA256", NULL);
		c->ctx = c->evp->ctx_new();
		if (!c->md || !c->ctx) {
			kt_chain_free(c);
			goto nomem;
		}
	}
	return c;
nomem:
	errno = ENOMEM;
	return NULL;
}

void kt_chain_free(struct kt_chain *c)
{
	if (!c)
		return;
	if (c->evp) {
		c->evp->ctx_free(c->ctx);
		c->evp->md_free(c->md);
	}
	free(c);
}

static int step_sha256(struct kt_chain *c, uint8_t h[KT_HASH_LEN], const uint8_t *hdr,
		       size_t hlen, const struct kt_frame *f)
{
	uint8_t out[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	/* fails only on an OpenSSL fault (a provider error, no memory): the
	 * caller then writes no head at all, because a wrong head would read
	 * as tampering at verify; h is left as it was */
	if (!c->evp->init(c->ctx, c->md, NULL) ||
	    !c->evp->update(c->ctx, h, KT_HASH_LEN) ||
	    !c->evp->update(c->ctx, hdr, hlen) ||
	    (f->len && !c->evp->update(c->ctx, f->data, f->len)) ||
	    !c->evp->final(c->ctx, out, &n) || n != KT_HASH_LEN)
		return -EIO;
	memcpy(h, out, KT_HASH_LEN);
	return 0;
}

static void step_blake2b(uint8_t h[KT_HASH_LEN], const uint8_t *hdr, size_t hlen,
			 const struct kt_frame *f)
{
	crypto_generichash_state s;

	crypto_generichash_init(&s, NULL, 0, KT_HASH_LEN);
	crypto_generichash_update(&s, h, KT_HASH_LEN);
	crypto_generichash_update(&s, hdr, hlen);
	if (f->len)
		crypto_generichash_update(&s, f->data, f->len);
	crypto_generichash_final(&s, h, KT_HASH_LEN);
}

int kt_chain_step(struct kt_chain *c, uint8_t h[KT_HASH_LEN], const struct kt_frame *f)
{
	uint8_t hdr[1 + 8 + 4];

	hdr[0] = f->type;
	put_le(hdr + 1, (uint64_t)f->ts_us, 8);
	put_le(hdr + 9, f->len, 4);
	if (c->ver == KT_CHAIN_SHA256)
		return step_sha256(c, h, hdr, sizeof(hdr), f);
	assert(c->ver == KT_CHAIN_BLAKE2B);
	step_blake2b(h, hdr, sizeof(hdr), f);
	return 0;
}

size_t kt_cp_message(const struct kt_cp *cp, uint8_t out[KT_CP_MSG_MAX])
{
	size_t n = 0, ulen = strnlen(cp->uuid, sizeof(cp->uuid) - 1);
	size_t rlen = strnlen(cp->rule, sizeof(cp->rule) - 1);
	bool prune = cp->final == KT_CP_PRUNE;

	/* the version byte names the hash of this checkpoint's head and
	 * cp_hash: signed, so it cannot be changed without the key */
	assert(kt_chain_ver_known(cp->ver));
	memcpy(out, prune ? "KTPR" : "KTCP", 4);
	out[4] = (uint8_t)cp->ver;
	n = 5;
	put_le(out + n, (uint64_t)cp->node_seq, 8), n += 8;
	memcpy(out + n, cp->prev, KT_HASH_LEN), n += KT_HASH_LEN;
	out[n++] = (uint8_t)ulen;
	memcpy(out + n, cp->uuid, ulen), n += ulen;
	put_le(out + n, (uint64_t)cp->seq, 8), n += 8;
	put_le(out + n, (uint64_t)cp->ts_us, 8), n += 8;
	put_le(out + n, (uint64_t)cp->n_frames, 8), n += 8;
	memcpy(out + n, cp->head, KT_HASH_LEN), n += KT_HASH_LEN;
	out[n++] = cp->final;
	if (prune) {
		/* what verify judges a prune by: the rule and its age */
		put_le(out + n, (uint64_t)cp->min_age_us, 8), n += 8;
		out[n++] = (uint8_t)rlen;
		memcpy(out + n, cp->rule, rlen), n += rlen;
	}
	assert(n <= KT_CP_MSG_MAX);
	return n;
}

int kt_cp_hash(const struct kt_cp *cp, uint8_t out[KT_HASH_LEN])
{
	uint8_t msg[KT_CP_MSG_MAX];
	const struct kt_evp *evp;
	unsigned int hl = 0;
	size_t n;

	if (!kt_chain_ver_known(cp->ver))
		return -EPROTONOSUPPORT;
	n = kt_cp_message(cp, msg);
	if (cp->ver == KT_CHAIN_BLAKE2B) {
		crypto_generichash(out, KT_HASH_LEN, msg, n, NULL, 0);
		return 0;
	}
	evp = kt_evp();
	if (!evp || !evp->digest(msg, n, out, &hl, evp->sha256(), NULL) || hl != KT_HASH_LEN)
		return -EIO;
	return 0;
}

/* ---- evidence frame payloads ---------------------------------------------- */

struct tbuf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void tb_put(struct tbuf *b, const void *d, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 512;
		uint8_t *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

/* key=value\n with \ -> \\, newline -> \n, NUL -> \0 (FORMAT.md) */
static void tb_kv(struct tbuf *b, const char *key, const char *v, size_t n)
{
	tb_put(b, key, strlen(key));
	tb_put(b, "=", 1);
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\\')
			tb_put(b, "\\\\", 2);
		else if (v[i] == '\n')
			tb_put(b, "\\n", 2);
		else if (v[i] == 0)
			tb_put(b, "\\0", 2);
		else
			tb_put(b, &v[i], 1);
	}
	tb_put(b, "\n", 1);
}

static void tb_kvs(struct tbuf *b, const char *key, const char *v)
{
	tb_kv(b, key, v ? v : "", v ? strlen(v) : 0);
}

static void tb_kvi(struct tbuf *b, const char *key, long long v)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", v);
	tb_kvs(b, key, num);
}

static int tb_done(struct tbuf *b, uint8_t **out, size_t *len)
{
	if (b->oom) {
		free(b->p);
		return -ENOMEM;
	}
	*out = b->p;
	*len = b->len;
	return 0;
}

int kt_evidence_meta(const struct kt_session_info *s, uint8_t **out, size_t *len)
{
	struct tbuf b = {0};

	tb_put(&b, "kubetape-meta-v1\n", 17);
	tb_kvs(&b, "uuid", s->uuid);
	tb_kvi(&b, "kernel_id", (long long)s->kernel_id);
	tb_kvi(&b, "start_us", s->start_us);
	tb_kvs(&b, "node", s->node);
	tb_kvs(&b, "k8s_namespace", s->k8s_namespace);
	tb_kvs(&b, "pod", s->pod);
	tb_kvs(&b, "pod_uid", s->pod_uid);
	tb_kvs(&b, "container", s->container);
	tb_kvs(&b, "container_id", s->container_id);
	tb_kvs(&b, "runtime", s->runtime);
	tb_kvi(&b, "attribution_guess", s->attribution_guess);
	tb_kvs(&b, "hostname", s->hostname);
	tb_kvs(&b, "cgroup_path", s->cgroup_path);
	tb_kvi(&b, "cgroup_id", (long long)s->cgroup_id);
	tb_kvi(&b, "pidns_ino", s->pidns_ino);
	tb_kvi(&b, "mntns_ino", s->mntns_ino);
	tb_kvi(&b, "leader_pid", s->leader_pid);
	tb_kvi(&b, "leader_ns_pid", s->leader_ns_pid);
	tb_kvi(&b, "leader_uid", s->leader_uid);
	tb_kvi(&b, "leader_gid", s->leader_gid);
	tb_kvs(&b, "leader_comm", s->leader_comm);
	tb_kvi(&b, "has_tty", s->has_tty);
	tb_kvs(&b, "tty_name", s->tty_name);
	tb_kvs(&b, "capture", s->capture);
	return tb_done(&b, out, len);
}

int kt_evidence_cmd(const struct kt_command *c, uint8_t **out, size_t *len)
{
	struct tbuf b = {0};

	tb_put(&b, "kubetape-cmd-v1\n", 16);
	tb_kvi(&b, "seq", c->seq);
	tb_kvi(&b, "ts_us", c->ts_us);
	tb_kvi(&b, "pid", c->pid);
	tb_kvi(&b, "ns_pid", c->ns_pid);
	tb_kvi(&b, "ppid", c->ppid);
	tb_kvi(&b, "uid", c->uid);
	tb_kvi(&b, "gid", c->gid);
	tb_kvi(&b, "euid", c->euid);
	tb_kvi(&b, "egid", c->egid);
	tb_kvs(&b, "comm", c->comm);
	tb_kvs(&b, "filename", c->filename);
	tb_kvi(&b, "argc", c->argc);
	tb_kv(&b, "argv", c->argv ? c->argv : "", c->argv ? c->argv_len : 0);
	tb_kvs(&b, "cwd", c->cwd);
	tb_kvi(&b, "argv_truncated", c->argv_truncated);
	tb_kvi(&b, "cwd_truncated", c->cwd_truncated);
	return tb_done(&b, out, len);
}

size_t kt_evidence_exit(int32_t seq, int64_t end_us, int exit_status, uint8_t out[32])
{
	put_le(out, (uint32_t)seq, 4);
	put_le(out + 4, (uint64_t)end_us, 8);
	put_le(out + 12, (uint32_t)exit_status, 4);
	return 16;
}

size_t kt_evidence_end(const struct kt_session_info *s, uint8_t out[32])
{
	out[0] = (uint8_t)s->state;
	out[1] = s->has_exit;
	put_le(out + 2, (uint32_t)s->exit_status, 4);
	put_le(out + 6, (uint64_t)s->end_us, 8);
	return 14;
}

int kt_frame_withheld_parse(const struct kt_frame *f, uint64_t *bytes)
{
	const uint8_t *p;

	if (!f || f->type != KT_FRAME_WITHHELD || !f->data)
		return -EBADMSG;
	p = f->data;
	return kt_varint_get(&p, f->data + f->len, bytes) ? -EBADMSG : 0;
}

/* ---- the chain head ------------------------------------------------------ */

int kt_chain_extend(struct kt_store *st, int64_t session_id, const uint8_t *frames,
		    size_t len, int64_t start_us)
{
	uint8_t h[KT_HASH_LEN] = {0};
	struct kt_frame_decoder d;
	struct kt_chain *c;
	struct kt_frame f;
	int64_t n = 0, ver = 0;
	sqlite3_stmt *q;
	int rc, err = 0;

	q = kt_stmt(st, ST_CHAIN_GET);
	if (!q)
		return -ENOMEM;
	sqlite3_bind_int64(q, 1, session_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		n = sqlite3_column_int64(q, 0);
		if (sqlite3_column_bytes(q, 1) == KT_HASH_LEN)
			memcpy(h, sqlite3_column_blob(q, 1), KT_HASH_LEN);
		ver = sqlite3_column_int64(q, 2);
	} else if (rc == SQLITE_DONE) {
		err = -ENOENT;  /* no such session: the append checked it */
	} else {
		err = kt_sql_err(st, rc, "chain head");
	}
	sqlite3_reset(q);
	if (err)
		return err;

	/* the session's own version: one begun before an upgrade stays on
	 * its hash (per chunk, not per frame: the set-up is not free) */
	c = kt_chain_new(ver);
	if (!c) {
		err = -errno;
		if (err == -EPROTONOSUPPORT)
			pr_warn("session %" PRId64 ": chain version %" PRId64 " unknown to this kubetape: not extended",
				session_id, ver);
		return err;
	}
	kt_frame_decoder_init(&d, frames, len, start_us);
	while ((rc = kt_frame_next(&d, &f)) == 1) {
		err = kt_chain_step(c, h, &f);
		if (err) {
			pr_warn("session %" PRId64 ": chain hash failed (OpenSSL): chunk not appended", session_id);
			break;
		}
		n++;
	}
	kt_chain_free(c);
	if (err)
		return err;
	if (rc < 0)
		return rc; /* the builder produced it: cannot happen */

	q = kt_stmt(st, ST_CHAIN_PUT);
	if (!q)
		return -ENOMEM;
	sqlite3_bind_int64(q, 1, session_id);
	sqlite3_bind_int64(q, 2, n);
	sqlite3_bind_blob(q, 3, h, KT_HASH_LEN, SQLITE_TRANSIENT);
	return kt_stmt_done(st, q, "chain head update");
}

/* ---- checkpoints --------------------------------------------------------- */

/*
 * Sign `cp` (its session, seq, time, frames, head and final set) as the
 * node chain's next checkpoint after catching up with the store's tail,
 * insert it, and advance sg: every writer of the node chain goes here.
 */
static int sign_append(struct kt_store *st, struct kt_signer *sg, struct kt_cp *cp)
{
	uint8_t msg[KT_CP_MSG_MAX];
	sqlite3_stmt *q;
	size_t mlen;
	int err;

	if (!kt_chain_ver_known(cp->ver)) {
		pr_err("session %s: chain version %" PRId64 " unknown to this kubetape: not signed",
		       cp->uuid, cp->ver);
		return -EPROTONOSUPPORT;
	}
	err = kt_signer_sync(sg, st);
	if (err)
		return err;
	cp->node_seq = sg->node_seq + 1;
	memcpy(cp->prev, sg->prev, KT_HASH_LEN);
	mlen = kt_cp_message(cp, msg);
	crypto_sign_detached(cp->sig, NULL, msg, mlen, sg->sk);
	q = kt_stmt(st, ST_CP_INSERT);
	if (!q)
		return -ENOMEM;
	sqlite3_bind_int64(q, 1, cp->node_seq);
	sqlite3_bind_int64(q, 2, cp->session_id);
	sqlite3_bind_text(q, 3, cp->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, cp->seq);
	sqlite3_bind_int64(q, 5, cp->ts_us);
	sqlite3_bind_int64(q, 6, cp->n_frames);
	sqlite3_bind_blob(q, 7, cp->head, KT_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int(q, 8, cp->final);
	sqlite3_bind_blob(q, 9, cp->prev, KT_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(q, 10, cp->sig, KT_SIG_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(q, 11, cp->ver);
	err = kt_stmt_done(st, q, "checkpoint insert");
	if (err)
		return err;
	sg->node_seq = cp->node_seq;
	err = kt_cp_hash(cp, sg->prev);
	assert(!err);  /* cp->ver checked before signing */
	sg->head_dirty = true;
	return 0;
}

int kt_store_checkpoint(struct kt_store *st, struct kt_signer *sg, int64_t session_id,
			int64_t now_us, bool final)
{
	struct kt_cp cp = { .session_id = session_id, .ts_us = now_us, .final = final };
	sqlite3_stmt *q = NULL;
	int64_t last_n = -1;
	bool last_final = false, own = false;
	int rc, err;

	err = kt_store_check_writable(st, "checkpoint");
	if (err)
		return err;
	if (!sg)
		return -EINVAL;
	err = kt_op_begin(st, &own);
	if (err)
		return err;
	q = kt_stmt(st, ST_CP_HEAD);
	if (!q) {
		err = -ENOMEM;
		goto end;
	}
	sqlite3_bind_int64(q, 1, session_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		err = -ENOENT;
		goto end;
	}
	if (rc != SQLITE_ROW) {
		err = kt_sql_err(st, rc, "checkpoint (head)");
		goto end;
	}
	kt_strlcpy(cp.uuid, (const char *)sqlite3_column_text(q, 0), sizeof(cp.uuid));
	cp.n_frames = sqlite3_column_int64(q, 1);
	if (sqlite3_column_bytes(q, 2) == KT_HASH_LEN)
		memcpy(cp.head, sqlite3_column_blob(q, 2), KT_HASH_LEN);
	if (sqlite3_column_type(q, 3) != SQLITE_NULL) {
		cp.seq = sqlite3_column_int64(q, 3) + 1;
		last_n = sqlite3_column_int64(q, 4);
		last_final = sqlite3_column_int(q, 5);
	}
	cp.ver = sqlite3_column_int64(q, 6);  /* the session's chain version */
	sqlite3_reset(q);
	q = NULL;
	if ((last_n == cp.n_frames && (last_final || !final)) || (!cp.n_frames && !final))
		goto end; /* nothing (new) to sign: err stays 0 */

	cp.final = final;
	err = sign_append(st, sg, &cp);
	if (err)
		goto end;
	err = 1;
end:
	if (q)
		sqlite3_reset(q);
	rc = kt_op_end(st, own, err < 0 ? err : 0);
	return rc < 0 ? rc : err;
}

int kt_chain_sign_prune(struct kt_store *st, struct kt_signer *sg, struct kt_cp *cp)
{
	/* the caller's commit makes it real; after a rollback the caller puts
	 * sg back (prune.c does) */
	cp->final = KT_CP_PRUNE;
	return sign_append(st, sg, cp);
}
