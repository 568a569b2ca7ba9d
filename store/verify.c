// SPDX-License-Identifier: Apache-2.0
/*
 * The read side of tamper evidence (FORMAT.md, "Tamper evidence"): rehash a
 * session's frames, check them against its signed checkpoints, check the
 * tables (sessions, commands) against the evidence frames in the stream,
 * and check the node chain.  Reads only.
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

static void cp_from_row(sqlite3_stmt *q, struct kt_cp *cp)
{
	memset(cp, 0, sizeof(*cp));
	cp->node_seq = sqlite3_column_int64(q, 0);
	cp->session_id = sqlite3_column_int64(q, 1);
	kt_strlcpy(cp->uuid, (const char *)sqlite3_column_text(q, 2), sizeof(cp->uuid));
	cp->seq = sqlite3_column_int64(q, 3);
	cp->ts_us = sqlite3_column_int64(q, 4);
	cp->n_frames = sqlite3_column_int64(q, 5);
	if (sqlite3_column_bytes(q, 6) == KT_HASH_LEN)
		memcpy(cp->head, sqlite3_column_blob(q, 6), KT_HASH_LEN);
	cp->final = sqlite3_column_int(q, 7);
	if (sqlite3_column_bytes(q, 8) == KT_HASH_LEN)
		memcpy(cp->prev, sqlite3_column_blob(q, 8), KT_HASH_LEN);
	if (sqlite3_column_bytes(q, 9) == KT_SIG_LEN)
		memcpy(cp->sig, sqlite3_column_blob(q, 9), KT_SIG_LEN);
}
#define CP_COLS "node_seq, session_id, uuid, seq, ts_us, n_frames, head, final, prev, sig"

static bool cp_sig_ok(const struct kt_cp *cp, const uint8_t *pk)
{
	uint8_t msg[KT_CP_MSG_MAX];
	size_t n = kt_cp_message(cp, msg);

	return pk && crypto_sign_verify_detached(cp->sig, msg, n, pk) == 0;
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
	int ncp;
	struct kt_verify_result *r;
	struct ev_state ev;
	bool *cp_ok;
};

/* Rehash every frame in order, compare at each checkpoint, collect the
 * evidence frames. */
static int walk_frames(struct walk *w)
{
	uint8_t h[KT_HASH_LEN] = {0}, *raw = NULL, *scratch = NULL;
	size_t raw_cap = 0, scratch_cap = 0;
	int64_t fno = 0, seg_chunk = -1, last_chunk = -1;
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	sqlite3_stmt *q = NULL;
	int k = 0, rc, err = 0;

	if (!dctx)
		return -ENOMEM;
	rc = sqlite3_prepare_v2(w->st->db, "SELECT seq, nframes, start_us, raw_len, codec, data"
				" FROM chunks WHERE session_id = ?1 ORDER BY seq", -1, &q, NULL);
	if (rc != SQLITE_OK) {
		err = kt_sql_err(w->st, rc, "verify (chunks)");
		goto cleanup;
	}
	sqlite3_bind_int64(q, 1, w->sid);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(q, 0), nframes = sqlite3_column_int64(q, 1);
		int64_t raw_len = sqlite3_column_int64(q, 3);
		const char *why = NULL;
		struct kt_frame_decoder d;
		struct kt_frame f;
		int64_t n = 0;

		if (seq > fno)
			problem(w->r, "frames %" PRId64 "..%" PRId64 " missing: no chunk holds them (chunk deleted before chunk seq %" PRId64 ")",
				fno, seq - 1, seq);
		else if (seq < fno)
			problem(w->r, "chunk seq %" PRId64 " overlaps the chunk before it (frames up to %" PRId64 "): chunks reordered or altered",
				seq, fno - 1);
		if (seg_chunk < 0)
			seg_chunk = seq;
		last_chunk = seq;
		if (raw_len < 0 || raw_len > KT_CHUNK_RAW_MAX) {
			problem(w->r, "chunk seq %" PRId64 ": corrupt (raw_len %" PRId64 ")", seq, raw_len);
			fno = seq + nframes;
			continue;
		}
		if ((size_t)raw_len > raw_cap) {
			uint8_t *p = realloc(raw, raw_len ? raw_len : 1);

			if (!p) {
				err = -ENOMEM;
				goto cleanup;
			}
			raw = p;
			raw_cap = raw_len;
		}
		err = kt_chunk_decode(dctx, sqlite3_column_int(q, 4), sqlite3_column_blob(q, 5),
				      sqlite3_column_bytes(q, 5), raw, raw_len, &scratch, &scratch_cap, &why);
		if (err == -ENOMEM)
			goto cleanup;
		if (err) {
			problem(w->r, "chunk seq %" PRId64 ": does not decode (%s)", seq, why ? why : "corrupt");
			err = 0;
			fno = seq + nframes;
			continue;
		}
		w->r->bytes += raw_len;
		kt_frame_decoder_init(&d, raw, raw_len, sqlite3_column_int64(q, 2));
		fno = seq;
		while ((rc = kt_frame_next(&d, &f)) == 1) {
			kt_chain_step(h, &f);
			if (ev_add(&w->ev, &f, fno) == -ENOMEM) {
				err = -ENOMEM;
				goto cleanup;
			}
			fno++;
			n++;
			while (k < w->ncp && w->cps[k].n_frames == fno) {
				if (memcmp(h, w->cps[k].head, KT_HASH_LEN)) {
					problem(w->r, "checkpoint %" PRId64 ": frames %" PRId64 "..%" PRId64 " (chunks seq %" PRId64 "..%" PRId64 ") do not match what was signed",
						w->cps[k].seq, k ? w->cps[k - 1].n_frames : 0, fno - 1, seg_chunk, seq);
					/* continue from the signed head: later segments
					 * are checked on their own, so the report names
					 * the altered segment only */
					memcpy(h, w->cps[k].head, KT_HASH_LEN);
				} else {
					w->cp_ok[k] = true;
				}
				k++;
				/* the next segment starts here, or in the next chunk */
				seg_chunk = d.p < d.end ? seq : -1;
			}
		}
		if (rc < 0)
			problem(w->r, "chunk seq %" PRId64 ": corrupt frame after frame %" PRId64, seq, fno);
		if (n != nframes)
			problem(w->r, "chunk seq %" PRId64 ": holds %" PRId64 " frames, its row says %" PRId64,
				seq, n, nframes);
	}
	if (rc != SQLITE_DONE && !err)
		err = kt_sql_err(w->st, rc, "verify (chunks)");
	w->r->frames = fno;
	for (; k < w->ncp; k++)
		if (w->cps[k].n_frames > fno)
			problem(w->r, "checkpoint %" PRId64 " signed %" PRId64 " frames, only %" PRId64 " are stored (chunks after seq %" PRId64 " deleted)",
				w->cps[k].seq, w->cps[k].n_frames, fno, last_chunk);
cleanup:
	sqlite3_finalize(q);
	ZSTD_freeDCtx(dctx);
	free(raw);
	free(scratch);
	return err;
}

static int load_checkpoints(struct walk *w)
{
	sqlite3_stmt *q = NULL;
	int rc, cap = 0;

	rc = sqlite3_prepare_v2(w->st->db, "SELECT " CP_COLS " FROM checkpoints WHERE session_id = ?1"
				" ORDER BY seq", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(w->st, rc, "verify (checkpoints)");
	sqlite3_bind_int64(q, 1, w->sid);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (w->ncp == cap) {
			struct kt_cp *p;

			cap = cap ? cap * 2 : 16;
			p = realloc(w->cps, cap * sizeof(*p));
			if (!p) {
				sqlite3_finalize(q);
				return -ENOMEM;
			}
			w->cps = p;
		}
		cp_from_row(q, &w->cps[w->ncp++]);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return kt_sql_err(w->st, rc, "verify (checkpoints)");
	w->cp_ok = calloc(w->ncp + 1, sizeof(bool));
	return w->cp_ok ? 0 : -ENOMEM;
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
		if (!cp_sig_ok(cp, pk))
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

static int quick_frames(struct kt_store *st, int64_t sid, struct kt_verify_result *r)
{
	sqlite3_stmt *q = NULL;
	int rc;

	rc = sqlite3_prepare_v2(st->db, "SELECT coalesce(sum(nframes), 0), coalesce(max(seq + nframes), 0)"
				" FROM chunks WHERE session_id = ?1", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "verify (chunk count)");
	sqlite3_bind_int64(q, 1, sid);
	if (sqlite3_step(q) == SQLITE_ROW) {
		int64_t sum = sqlite3_column_int64(q, 0), end = sqlite3_column_int64(q, 1);

		r->frames = end;
		if (sum != end)
			problem(r, "chunks do not cover frames 0..%" PRId64 " exactly: chunk deleted or altered", end - 1);
	}
	sqlite3_finalize(q);
	return 0;
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
	if (!pk && kt_store_pubkey(st, own_pk) == 0)
		pk = own_pk;
	err = load_checkpoints(&w);
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
	ev_free(&w.ev);
	free(w.cps);
	free(w.cp_ok);
	return err;
}

/* ---- the node chain ----------------------------------------------------------- */

/* A prune checkpoint's rule and age live in its prunes row (same session,
 * uuid and time): fill them in.  false if there is no such row. */
static bool prune_fill(struct kt_store *st, struct kt_cp *cp)
{
	sqlite3_stmt *q = NULL;
	bool found = false;

	if (sqlite3_prepare_v2(st->db, "SELECT rule, min_age_us FROM prunes WHERE session_id = ?1"
			       " AND uuid = ?2 AND ts_us = ?3 ORDER BY id DESC LIMIT 1", -1, &q, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_int64(q, 1, cp->session_id);
	sqlite3_bind_text(q, 2, cp->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, cp->ts_us);
	if (sqlite3_step(q) == SQLITE_ROW) {
		kt_strlcpy(cp->rule, (const char *)sqlite3_column_text(q, 0), sizeof(cp->rule));
		cp->min_age_us = sqlite3_column_int64(q, 1);
		found = true;
	}
	sqlite3_finalize(q);
	return found;
}

int kt_verify_pruned(struct kt_store *st, const uint8_t *pk, int64_t session_id,
		     struct kt_prune_record *pr)
{
	uint8_t own_pk[KT_PK_LEN];
	sqlite3_stmt *q = NULL;
	struct kt_cp cp;
	int rc, err;

	err = kt_store_prune_get(st, session_id, pr);
	if (err)
		return err;
	if (sodium_init() < 0)
		return -EIO;
	if (!pk && kt_store_pubkey(st, own_pk) == 0)
		pk = own_pk;
	rc = sqlite3_prepare_v2(st->db, "SELECT " CP_COLS " FROM checkpoints WHERE session_id = ?1"
				" AND uuid = ?2 AND ts_us = ?3 AND final = 2", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return kt_sql_err(st, rc, "verify (prune record)");
	sqlite3_bind_int64(q, 1, session_id);
	sqlite3_bind_text(q, 2, pr->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, pr->ts_us);
	err = -EBADMSG; /* no signed record, or a signature that does not cover this one */
	while (err && sqlite3_step(q) == SQLITE_ROW) {
		cp_from_row(q, &cp);
		kt_strlcpy(cp.rule, pr->rule, sizeof(cp.rule));
		cp.min_age_us = pr->min_age_us;
		if (cp_sig_ok(&cp, pk))
			err = 0;
	}
	sqlite3_finalize(q);
	return err;
}

int kt_verify_node(struct kt_store *st, const uint8_t *pk, const char *head_path,
		   void (*cb)(const char *problem, void *ctx), void *ctx, int64_t *ncheckpoints)
{
	uint8_t prev[KT_HASH_LEN] = {0}, head_hash[KT_HASH_LEN], own_pk[KT_PK_LEN];
	sqlite3_stmt *q = NULL, *sq = NULL;
	int64_t expect = 1, head_seq = -1, n = 0;
	int problems = 0, rc, err = 0;
	char msg[512];
	struct kt_cp cp;

#define NODE_PROBLEM(...) do { snprintf(msg, sizeof(msg), __VA_ARGS__); cb(msg, ctx); problems++; } while (0)
	if (sodium_init() < 0)
		return -EIO;
	if (!pk && kt_store_pubkey(st, own_pk) == 0)
		pk = own_pk;
	if (head_path && kt_head_read(head_path, &head_seq, head_hash))
		head_seq = -1;
	rc = sqlite3_prepare_v2(st->db, "SELECT " CP_COLS " FROM checkpoints ORDER BY node_seq", -1, &q, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(st->db, "SELECT 1 FROM sessions WHERE id = ?1 AND uuid = ?2", -1, &sq, NULL);
	if (rc != SQLITE_OK) {
		err = kt_sql_err(st, rc, "verify (node chain)");
		goto cleanup;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		cp_from_row(q, &cp);
		n++;
		if (cp.node_seq != expect)
			NODE_PROBLEM("node chain: checkpoints %" PRId64 "..%" PRId64 " missing (a session or its checkpoints were deleted)",
				     expect, cp.node_seq - 1);
		else if (memcmp(cp.prev, prev, KT_HASH_LEN))
			NODE_PROBLEM("node chain: checkpoint %" PRId64 " does not follow checkpoint %" PRId64,
				     cp.node_seq, cp.node_seq - 1);
		if (cp.final == KT_CP_PRUNE && !prune_fill(st, &cp))
			NODE_PROBLEM("node chain: checkpoint %" PRId64 " signs the prune of session %s (id %" PRId64 ") but its prune record is missing or altered",
				     cp.node_seq, cp.uuid, cp.session_id);
		else if (!cp_sig_ok(&cp, pk))
			NODE_PROBLEM("node chain: checkpoint %" PRId64 " (session %s%s): signature invalid",
				     cp.node_seq, cp.uuid, cp.final == KT_CP_PRUNE ? ", prune record" : "");
		sqlite3_bind_int64(sq, 1, cp.session_id);
		sqlite3_bind_text(sq, 2, cp.uuid, -1, SQLITE_STATIC);
		if (cp.final != KT_CP_PRUNE && sqlite3_step(sq) != SQLITE_ROW) {
			struct kt_prune_record pr;
			int perr = kt_verify_pruned(st, pk, cp.session_id, &pr);

			/* pruned (prune.c keeps the checkpoints and signs the
			 * record into this chain): not tampering, as long as the
			 * signed end is as old as the rule says */
			if (perr == -ENOENT || (!perr && strcmp(pr.uuid, cp.uuid)))
				NODE_PROBLEM("node chain: session %s (id %" PRId64 ") signed by checkpoint %" PRId64 " is not in the store: deleted",
					     cp.uuid, cp.session_id, cp.node_seq);
			else if (perr == -EBADMSG)
				NODE_PROBLEM("node chain: session %s (id %" PRId64 ") signed by checkpoint %" PRId64 " is not in the store, and its prune record ('%s') is not signed into the chain: deleted",
					     cp.uuid, cp.session_id, cp.node_seq, pr.rule);
			else if (perr)
				err = perr;
			else if (cp.final && pr.min_age_us && cp.ts_us > pr.ts_us - pr.min_age_us)
				NODE_PROBLEM("node chain: session %s (id %" PRId64 ") was removed as pruned by rule '%s', but its final checkpoint %" PRId64 " was signed less than that before the prune",
					     cp.uuid, cp.session_id, pr.rule, cp.node_seq);
		}
		sqlite3_reset(sq);
		kt_cp_hash(&cp, prev);
		if (cp.node_seq == head_seq && memcmp(prev, head_hash, KT_HASH_LEN))
			NODE_PROBLEM("node chain: checkpoint %" PRId64 " is not the one the head file names", cp.node_seq);
		expect = cp.node_seq + 1;
	}
	if (rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, "verify (node chain)");
	if (!err && head_seq >= expect)
		NODE_PROBLEM("node chain: ends at checkpoint %" PRId64 " but the head file %s says %" PRId64 ": the last checkpoints were deleted",
			     expect - 1, head_path, head_seq);
	if (ncheckpoints)
		*ncheckpoints = n;
#undef NODE_PROBLEM
cleanup:
	sqlite3_finalize(q);
	sqlite3_finalize(sq);
	return err ? err : problems;
}
