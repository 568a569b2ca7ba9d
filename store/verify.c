// SPDX-License-Identifier: Apache-2.0
/*
 * The read side of tamper evidence (FORMAT.md, "Tamper evidence"): rehash a
 * session's frames, check them against its signed checkpoints, check the
 * tables (sessions, commands) against the evidence frames in the stream,
 * and (verify_node.c) check the node chain.  Reads only.
 *
 * Limits: a checkpoint localizes a change to the frames (and chunks) it
 * covers, not to one byte; an unsigned tail (frames after the last
 * checkpoint) is reported as such, not as verified.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <zstd.h>

#include "evidence_int.h"
#include "log.h"
#include "prune.h"
#include "pg/pgr.h"

const char *kt_verify_state_name(int state)
{
	switch (state) {
	case KT_VERIFY_OK: return "verified";
	case KT_VERIFY_UNSIGNED_TAIL: return "unsigned tail";
	case KT_VERIFY_UNSIGNED: return "unsigned";
	default: return "broken";
	}
}

static void problem(struct kt_verify_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void problem(struct kt_verify_result *r, const char *fmt, ...)
{
	size_t n = strlen(r->why);
	va_list ap;

	if (r->problems++ && n + 2 < sizeof(r->why))
		n += (size_t)snprintf(r->why + n, sizeof(r->why) - n, "; ");
	va_start(ap, fmt);
	if (n < sizeof(r->why))
		vsnprintf(r->why + n, sizeof(r->why) - n, fmt, ap);
	va_end(ap);
}

static void cp_blob(struct kt_row *q, int col, uint8_t *dst, size_t len)
{
	size_t n;
	const char *p = q->bytes(q, col, &n);

	if (n == len)
		memcpy(dst, p, len);
}

void kt_cp_read(struct kt_row *q, struct kt_cp *cp)
{
	size_t n;

	memset(cp, 0, sizeof(*cp));
	cp->node_seq = q->i64(q, 0);
	cp->session_id = q->i64(q, 1);
	kt_strlcpy(cp->uuid, q->bytes(q, 2, &n), sizeof(cp->uuid));
	cp->seq = q->i64(q, 3);
	cp->ts_us = q->i64(q, 4);
	cp->n_frames = q->i64(q, 5);
	cp_blob(q, 6, cp->head, KT_HASH_LEN);
	cp->final = (uint8_t)q->i64(q, 7);  /* 0, 1 or KT_CP_PRUNE */
	cp_blob(q, 8, cp->prev, KT_HASH_LEN);
	cp_blob(q, 9, cp->sig, KT_SIG_LEN);
	cp->ver = q->i64(q, 10);
}

bool kt_cp_sig_ok(const struct kt_cp *cp, const uint8_t *pk)
{
	uint8_t msg[KT_CP_MSG_MAX];
	size_t n;

	/* an unknown version has no message to check (its own problem) */
	if (!pk || !kt_chain_ver_known(cp->ver))
		return false;
	n = kt_cp_message(cp, msg);
	return crypto_sign_verify_detached(cp->sig, msg, n, pk) == 0;
}

/* ---- evidence frames found in the stream ---------------------------------- */

struct ev_frame {
	uint8_t *p;
	size_t len;
	int64_t fno;    /* frame number */
};

struct ev_state {
	struct ev_frame meta, end;
	struct ev_frame *cmd, *exit; /* by command seq */
	int32_t ncmd, cap;
	bool evidence;  /* any evidence frame seen */
};

static int ev_keep(struct ev_frame *e, const struct kt_frame *f, int64_t fno)
{
	free(e->p);
	e->p = malloc(f->len ? f->len : 1);
	if (!e->p)
		return -ENOMEM;
	memcpy(e->p, f->data, f->len);
	e->len = f->len;
	e->fno = fno;
	return 0;
}

static int ev_slot(struct ev_state *ev, uint32_t seq)
{
	if (seq > (1u << 24))
		return -EBADMSG;
	if ((int32_t)seq >= ev->cap) {
		int32_t cap = ev->cap ? ev->cap : 64;
		struct ev_frame *c, *x;

		while (cap <= (int32_t)seq)
			cap *= 2;
		c = realloc(ev->cmd, cap * sizeof(*c));
		if (c)
			ev->cmd = c;
		x = realloc(ev->exit, cap * sizeof(*x));
		if (x)
			ev->exit = x;
		if (!c || !x)
			return -ENOMEM;
		memset(c + ev->cap, 0, (cap - ev->cap) * sizeof(*c));
		memset(x + ev->cap, 0, (cap - ev->cap) * sizeof(*x));
		ev->cap = cap;
	}
	if ((int32_t)seq >= ev->ncmd)
		ev->ncmd = seq + 1;
	return 0;
}

static uint32_t get_u32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The seq of a CMD frame: its "seq=" line (the second one). */
static int cmd_seq(const struct kt_frame *f, uint32_t *seq)
{
	const char *p = memmem(f->data, f->len, "\nseq=", 5);
	char num[16];
	size_t i = 0;

	if (!p)
		return -EBADMSG;
	p += 5;
	while (p < (const char *)f->data + f->len && *p != '\n' && i < sizeof(num) - 1)
		num[i++] = *p++;
	num[i] = 0;
	if (!i || strspn(num, "0123456789") != i)
		return -EBADMSG;
	*seq = (uint32_t)strtoul(num, NULL, 10);
	return 0;
}

static int ev_add(struct ev_state *ev, const struct kt_frame *f, int64_t fno)
{
	uint32_t seq;
	int err;

	switch (f->type) {
	case KT_FRAME_META:
		ev->evidence = true;
		return ev->meta.p ? -EBADMSG : ev_keep(&ev->meta, f, fno);
	case KT_FRAME_END:
		ev->evidence = true;
		return ev_keep(&ev->end, f, fno);
	case KT_FRAME_CMD:
		ev->evidence = true;
		err = cmd_seq(f, &seq) ?: ev_slot(ev, seq);
		return err ?: ev_keep(&ev->cmd[seq], f, fno);
	case KT_FRAME_EXIT:
		ev->evidence = true;
		if (f->len < 16)
			return -EBADMSG;
		seq = get_u32(f->data);
		err = ev_slot(ev, seq);
		return err ?: ev_keep(&ev->exit[seq], f, fno);
	}
	return 0;
}

static void ev_free(struct ev_state *ev)
{
	free(ev->meta.p);
	free(ev->end.p);
	for (int32_t i = 0; i < ev->ncmd; i++) {
		free(ev->cmd[i].p);
		free(ev->exit[i].p);
	}
	free(ev->cmd);
	free(ev->exit);
}

/* The name of the first "key=" line that differs between two payloads. */
static void first_diff(const uint8_t *a, size_t al, const uint8_t *b, size_t bl, char *out, size_t cap)
{
	size_t i = 0, line = 0;

	while (i < al && i < bl && a[i] == b[i]) {
		if (a[i] == '\n')
			line = i + 1;
		i++;
	}
	i = line;
	while (i < al && a[i] != '=' && a[i] != '\n' && i - line < cap - 1)
		i++;
	snprintf(out, cap, "%.*s", (int)(i - line), (const char *)a + line);
}

struct cmd_check {
	struct ev_state *ev;
	struct kt_verify_result *r;
	int64_t signed_frames;
	bool active;
	int32_t rows;
};

static int check_command(const struct kt_command *c, void *ctx)
{
	struct cmd_check *k = ctx;
	struct ev_state *ev = k->ev;
	struct ev_frame *cf = c->seq >= 0 && c->seq < ev->ncmd ? &ev->cmd[c->seq] : NULL;
	struct ev_frame *xf = cf ? &ev->exit[c->seq] : NULL;
	uint8_t *enc = NULL, x[32];
	size_t len, xl;
	char field[32];

	k->rows++;
	if (!cf || !cf->p) {
		if (!k->active)
			problem(k->r, "command %d (pid %u) is not in the stream: row inserted", c->seq, c->pid);
		return 0;
	}
	if (kt_evidence_cmd(c, &enc, &len))
		return -ENOMEM;
	if (len != cf->len || memcmp(enc, cf->p, len)) {
		first_diff(cf->p, cf->len, enc, len, field, sizeof(field));
		problem(k->r, "command %d: %s differs from the %s stream (frame %" PRId64 ")", c->seq,
			field, cf->fno < k->signed_frames ? "signed" : "unsigned", cf->fno);
	}
	free(enc);
	if (c->has_exit) {
		xl = kt_evidence_exit(c->seq, c->end_us, c->exit_status, x);
		if (!xf->p) {
			if (!k->active)
				problem(k->r, "command %d: exit status %d is not in the stream: edited",
					c->seq, c->exit_status);
		} else if (xf->len != xl || memcmp(xf->p, x, xl)) {
			problem(k->r, "command %d: exit (status %d, end) differs from the %s stream (frame %" PRId64 ")",
				c->seq, c->exit_status, xf->fno < k->signed_frames ? "signed" : "unsigned",
				xf->fno);
		}
	} else if (xf->p) {
		problem(k->r, "command %d: the stream has its exit, the table does not: edited", c->seq);
	}
	return 0;
}

/* ---- the session ------------------------------------------------------------ */

struct walk {
	struct kt_store *st;
	int64_t sid;
	struct kt_cp *cps;
	int ncp, cap;
	struct kt_verify_result *r;
	struct ev_state ev;
	bool *cp_ok;
	/* walk_frames' state across chunks */
	int64_t ver;             /* sessions.chain_ver */
	struct kt_chain *chain;  /* its hasher; NULL: unknown version */
	uint8_t h[KT_HASH_LEN], *raw, *scratch;
	size_t raw_cap, scratch_cap;
	int64_t fno, seg_chunk, last_chunk;
	ZSTD_DCtx *dctx;
	int k;
};

/* One chunk: rehash its frames, compare at each checkpoint it completes. */
static int walk_chunk(struct kt_row *q, void *ctx)
{
	struct walk *w = ctx;
	int64_t seq = q->i64(q, 0), nframes = q->i64(q, 1);
	int64_t raw_len = q->i64(q, 3);
	const char *why = NULL, *data;
	struct kt_frame_decoder d;
	struct kt_frame f;
	size_t dlen;
	int64_t n = 0;
	int rc, err;

	if (q->err)
		return q->err;
	if (seq > w->fno)
		problem(w->r, "frames %" PRId64 "..%" PRId64 " missing: no chunk holds them (chunk deleted before chunk seq %" PRId64 ")",
			w->fno, seq - 1, seq);
	else if (seq < w->fno)
		problem(w->r, "chunk seq %" PRId64 " overlaps the chunk before it (frames up to %" PRId64 "): chunks reordered or altered",
			seq, w->fno - 1);
	if (w->seg_chunk < 0)
		w->seg_chunk = seq;
	w->last_chunk = seq;
	if (raw_len < 0 || raw_len > KT_CHUNK_RAW_MAX) {
		problem(w->r, "chunk seq %" PRId64 ": corrupt (raw_len %" PRId64 ")", seq, raw_len);
		w->fno = seq + nframes;
		return 0;
	}
	if ((size_t)raw_len > w->raw_cap) {
		uint8_t *p = realloc(w->raw, raw_len ? raw_len : 1);

		if (!p)
			return -ENOMEM;
		w->raw = p;
		w->raw_cap = raw_len;
	}
	data = q->bytes(q, 5, &dlen);
	err = kt_chunk_decode(w->dctx, (int)q->i64(q, 4), data, dlen, w->raw, raw_len,
			      &w->scratch, &w->scratch_cap, &why);
	if (err == -ENOMEM)
		return err;
	if (err) {
		problem(w->r, "chunk seq %" PRId64 ": does not decode (%s)", seq, why ? why : "corrupt");
		w->fno = seq + nframes;
		return 0;
	}
	w->r->bytes += raw_len;
	kt_frame_decoder_init(&d, w->raw, raw_len, q->i64(q, 2));
	w->fno = seq;
	while ((rc = kt_frame_next(&d, &f)) == 1) {
		if (w->chain && kt_chain_step(w->chain, w->h, &f))
			return -EIO; /* OpenSSL failed: no verdict rather than a false one */
		if (ev_add(&w->ev, &f, w->fno) == -ENOMEM)
			return -ENOMEM;
		w->fno++;
		n++;
		while (w->k < w->ncp && w->cps[w->k].n_frames == w->fno) {
			struct kt_cp *cp = &w->cps[w->k];

			if (!w->chain) {
				/* unknown version: reported once, nothing checked */
			} else if (memcmp(w->h, cp->head, KT_HASH_LEN)) {
				problem(w->r, "checkpoint %" PRId64 ": frames %" PRId64 "..%" PRId64 " (chunks seq %" PRId64 "..%" PRId64 ") do not match what was signed",
					cp->seq, w->k ? w->cps[w->k - 1].n_frames : 0, w->fno - 1,
					w->seg_chunk, seq);
				/* continue from the signed head: later segments
				 * are checked on their own, so the report names
				 * the altered segment only */
				memcpy(w->h, cp->head, KT_HASH_LEN);
			} else {
				w->cp_ok[w->k] = true;
			}
			w->k++;
			/* the next segment starts here, or in the next chunk */
			w->seg_chunk = d.p < d.end ? seq : -1;
		}
	}
	if (rc < 0)
		problem(w->r, "chunk seq %" PRId64 ": corrupt frame after frame %" PRId64, seq, w->fno);
	if (n != nframes)
		problem(w->r, "chunk seq %" PRId64 ": holds %" PRId64 " frames, its row says %" PRId64,
			seq, n, nframes);
	return 0;
}

/* Rehash every frame in order, compare at each checkpoint, collect the
 * evidence frames. */
static int walk_frames(struct walk *w)
{
	int err;

	memset(w->h, 0, sizeof(w->h));
	w->fno = 0;
	w->seg_chunk = w->last_chunk = -1;
	w->k = 0;
	w->dctx = ZSTD_createDCtx();
	if (!w->dctx)
		return -ENOMEM;
	err = kt_session_rows(w->st, w->sid, "SELECT seq, nframes, start_us, raw_len, codec, data"
			      " FROM chunks WHERE session_id = ?1 ORDER BY seq",
			      "SELECT seq, nframes, start_us, raw_len, codec, data"
			      " FROM chunks WHERE src = $1 AND session_id = $2 ORDER BY seq",
			      0, NULL, "verify (chunks)", walk_chunk, w);
	w->r->frames = w->fno;
	for (; !err && w->k < w->ncp; w->k++)
		if (w->cps[w->k].n_frames > w->fno)
			problem(w->r, "checkpoint %" PRId64 " signed %" PRId64 " frames, only %" PRId64 " are stored (chunks after seq %" PRId64 " deleted)",
				w->cps[w->k].seq, w->cps[w->k].n_frames, w->fno, w->last_chunk);
	ZSTD_freeDCtx(w->dctx);
	free(w->raw);
	free(w->scratch);
	w->raw = w->scratch = NULL;
	return err;
}

static int load_cp(struct kt_row *q, void *ctx)
{
	struct walk *w = ctx;

	if (w->ncp == w->cap) {
		struct kt_cp *p;

		w->cap = w->cap ? w->cap * 2 : 16;
		p = realloc(w->cps, w->cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		w->cps = p;
	}
	kt_cp_read(q, &w->cps[w->ncp++]);
	return 0;
}

static int load_checkpoints(struct walk *w)
{
	int err = kt_session_rows(w->st, w->sid, "SELECT " CP_COLS " FROM checkpoints"
				  " WHERE session_id = ?1 AND final < 2 ORDER BY seq",
				  "SELECT " CP_COLS " FROM checkpoints"
				  " WHERE src = $1 AND session_id = $2 AND final < 2 ORDER BY seq",
				  0, NULL, "verify (checkpoints)", load_cp, w);

	if (err)
		return err;
	w->cp_ok = calloc(w->ncp + 1, sizeof(bool));
	return w->cp_ok ? 0 : -ENOMEM;
}

static int ver_row(struct kt_row *q, void *ctx)
{
	struct walk *w = ctx;

	w->ver = q->i64(q, 0);
	return q->err;
}

/* The session's chain version (FORMAT.md "Chain versions") and its
 * hasher; an unknown one is a problem, never a guess. */
static int load_ver(struct walk *w)
{
	int err = kt_session_rows(w->st, w->sid, "SELECT chain_ver FROM sessions WHERE id = ?1",
				  "SELECT chain_ver FROM sessions WHERE src = $1 AND id = $2",
				  0, NULL, "verify (chain version)", ver_row, w);

	if (err)
		return err;
	w->chain = kt_chain_new(w->ver);
	if (w->chain)
		return 0;
	if (errno != EPROTONOSUPPORT)
		return errno == ELIBACC ? -ELIBACC : -ENOMEM; /* ELIBACC: logged */
	problem(w->r, "chain version %" PRId64 " unknown to this kubetape (it knows 1 and 2): frames not checked",
		w->ver);
	return 0;
}

/* Signatures and the per-session order of the checkpoints. */
static void check_checkpoints(struct walk *w, const struct kt_session_info *s, const uint8_t *pk)
{
	for (int k = 0; k < w->ncp; k++) {
		struct kt_cp *cp = &w->cps[k];

		if (cp->seq != k)
			problem(w->r, "checkpoint %d missing (the next stored one is %" PRId64 ")", k, cp->seq);
		if (strcmp(cp->uuid, s->uuid))
			problem(w->r, "checkpoint %" PRId64 " belongs to session %s, not this one", cp->seq, cp->uuid);
		if (!kt_chain_ver_known(cp->ver))
			problem(w->r, "checkpoint %" PRId64 ": chain version %" PRId64 " unknown to this kubetape",
				cp->seq, cp->ver);
		else if (cp->ver != w->ver)
			problem(w->r, "checkpoint %" PRId64 ": chain version %" PRId64 ", the session's is %" PRId64 " (altered)",
				cp->seq, cp->ver, w->ver);
		if (kt_chain_ver_known(cp->ver) && !kt_cp_sig_ok(cp, pk))
			problem(w->r, "checkpoint %" PRId64 ": signature invalid (not signed by this node's key, or altered)",
				cp->seq);
		if (k && cp->n_frames < w->cps[k - 1].n_frames)
			problem(w->r, "checkpoint %" PRId64 " covers fewer frames than the one before", cp->seq);
		if (cp->final && k != w->ncp - 1)
			problem(w->r, "checkpoint %" PRId64 " is final but not the last", cp->seq);
	}
}

static void check_rows(struct walk *w, const struct kt_session_info *s, int64_t signed_frames)
{
	struct ev_state *ev = &w->ev;
	struct cmd_check k = { .ev = ev, .r = w->r, .signed_frames = signed_frames,
			       .active = s->state == KT_SESSION_ACTIVE };
	uint8_t *enc = NULL, end[32];
	size_t len;
	char field[32];

	if (ev->meta.p && kt_evidence_meta(s, &enc, &len) == 0) {
		if (len != ev->meta.len || memcmp(enc, ev->meta.p, len)) {
			first_diff(ev->meta.p, ev->meta.len, enc, len, field, sizeof(field));
			problem(w->r, "session metadata: %s differs from the signed stream", field);
		}
		free(enc);
	} else if (!ev->meta.p && w->ncp) {
		problem(w->r, "the stream has no metadata frame: its first frames were removed");
	}
	if (kt_store_commands_list(w->st, s->id, check_command, &k) < 0)
		problem(w->r, "commands unreadable");
	for (int32_t i = 0; i < ev->ncmd; i++)
		if (ev->cmd[i].p && i >= k.rows)
			problem(w->r, "command %d is in the stream but not in the table: deleted", i);
	if (ev->end.p) {
		len = kt_evidence_end(s, end);
		if (len != ev->end.len || memcmp(end, ev->end.p, len))
			problem(w->r, "session end (state, exit status or end time) differs from the %s stream",
				ev->end.fno < signed_frames ? "signed" : "unsigned");
	} else if (ev->evidence && s->state == KT_SESSION_ENDED) {
		problem(w->r, "session marked ended but its end is not in the stream");
	}
}

static int quick_row(struct kt_row *q, void *ctx)
{
	struct kt_verify_result *r = ctx;
	int64_t sum = q->i64(q, 0), end = q->i64(q, 1);

	r->frames = end;
	if (sum != end)
		problem(r, "chunks do not cover frames 0..%" PRId64 " exactly: chunk deleted or altered", end - 1);
	return q->err;
}

static int quick_frames(struct kt_store *st, int64_t sid, struct kt_verify_result *r)
{
	/* ::bigint: sum() of bigint is numeric on PostgreSQL */
	return kt_session_rows(st, sid, "SELECT coalesce(sum(nframes), 0), coalesce(max(seq + nframes), 0)"
			       " FROM chunks WHERE session_id = ?1",
			       "SELECT coalesce(sum(nframes), 0)::bigint, coalesce(max(seq + nframes), 0)"
			       " FROM chunks WHERE src = $1 AND session_id = $2",
			       0, NULL, "verify (chunk count)", quick_row, r);
}

int kt_verify_session(struct kt_store *st, int64_t session_id, const uint8_t *pk,
		      unsigned flags, struct kt_verify_result *r)
{
	struct walk w = { .st = st, .sid = session_id, .r = r };
	struct kt_session_info s;
	uint8_t own_pk[KT_PK_LEN];
	int64_t signed_frames = 0;
	int err;

	memset(r, 0, sizeof(*r));
	if (sodium_init() < 0)
		return -EIO;
	err = kt_store_session_get(st, session_id, &s);
	if (err)
		return err;
	/* the cluster store: the key of the node that shipped the session */
	if (!pk && (st->pg ? kt_pgr_session_pubkey(st, session_id, own_pk)
			   : kt_store_pubkey(st, own_pk)) == 0)
		pk = own_pk;
	err = load_ver(&w) ?: load_checkpoints(&w);
	if (err)
		goto cleanup;
	if (w.ncp && !pk)
		problem(r, "no public key to check the signatures with");
	check_checkpoints(&w, &s, pk);
	if (flags & KT_VERIFY_QUICK) {
		err = quick_frames(st, session_id, r);
		if (err)
			goto cleanup;
		for (int k = 0; k < w.ncp; k++) {
			w.cp_ok[k] = w.cps[k].n_frames <= (int64_t)r->frames;
			if (!w.cp_ok[k])
				problem(r, "checkpoint %" PRId64 " signed %" PRId64 " frames, only %" PRIu64 " are stored: chunks deleted",
					w.cps[k].seq, w.cps[k].n_frames, r->frames);
		}
	} else {
		err = walk_frames(&w);
		if (err)
			goto cleanup;
	}
	r->checkpoints = w.ncp;
	if (w.ncp) {
		/* a bad last checkpoint is reported as such; what it covers
		 * still counts as "meant to be signed" for the checks below */
		signed_frames = w.cps[w.ncp - 1].n_frames;
		r->final = w.cps[w.ncp - 1].final;
	}
	r->frames_signed = signed_frames;
	if (!(flags & KT_VERIFY_QUICK))
		check_rows(&w, &s, signed_frames);
	if (r->final && r->frames > (uint64_t)signed_frames)
		problem(r, "%" PRIu64 " frames after the final checkpoint: appended later",
			r->frames - signed_frames);
	/* the recorder writes END and the final checkpoint in one commit */
	if (s.state == KT_SESSION_ENDED && !r->final && w.ncp)
		problem(r, "session ended but its final checkpoint is missing (checkpoints after %" PRId64 " deleted)",
			w.cps[w.ncp - 1].seq);
	else if (s.state == KT_SESSION_ENDED && !w.ncp && w.ev.evidence)
		problem(r, "session ended but its final checkpoint is missing (all its checkpoints deleted)");
	if (r->problems)
		r->state = KT_VERIFY_BROKEN;
	else if (!w.ncp)
		r->state = KT_VERIFY_UNSIGNED;
	else if (r->final && r->frames == (uint64_t)signed_frames)
		r->state = KT_VERIFY_OK;
	else
		r->state = KT_VERIFY_UNSIGNED_TAIL;
cleanup:
	kt_chain_free(w.chain);
	ev_free(&w.ev);
	free(w.cps);
	free(w.cp_ok);
	return err;
}
