// SPDX-License-Identifier: Apache-2.0
/*
 * Screen text search: the query's words and trigrams, the candidate blocks
 * (SQL), and verifying each candidate (open blocks from screen_pending,
 * closed ones re-rendered by index_render.c).  Design in index_int.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index_int.h"
#include "log.h"
#include "pg/pgr.h"
#include "satint.h"
#include "term/fastvt.h"

/* ---------------------------------------------------------------- search */

struct squery {
	char **words;        /* ASCII-lowered */
	size_t *wlen;
	int nwords;
	char *fts;           /* "t1" AND "t2" ...: single trigrams, bound as a parameter */
	/* the same trigrams that are ASCII, as a PostgreSQL text[] literal for
	 * screen_blocks.trigrams (the cluster store); a non-ASCII trigram is
	 * left out there, its case folding being FTS5's (a superset of
	 * candidates, each verified by rendering like every other) */
	char *pgarr;
	/* the same trigrams (pointers into words), for the trigram sets */
	const char *term[QUERY_TRIGRAMS_MAX];
	size_t tlen[QUERY_TRIGRAMS_MAX];
	size_t nterms;
};

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static void squery_free(struct squery *q)
{
	for (int i = 0; i < q->nwords; i++)
		free(q->words[i]);
	free(q->words);
	free(q->wlen);
	free(q->fts);
	free(q->pgarr);
}

/*
 * User text -> words and an FTS5 query.  Validation (length, UTF-8, empty)
 * is the command search's, with its messages.  Each word of 3+ characters
 * gives its trigrams (of characters, not bytes), each one double-quoted
 * FTS5 string (internal " doubled) that the trigram tokenizer turns into
 * exactly one token, folded as the index is; they are ANDed (detail=none
 * refuses phrases, i.e. a quoted word longer than 3 characters).  At most
 * QUERY_TRIGRAMS_MAX terms, taken round-robin over the words so each word
 * constrains the candidates: the candidates are a superset anyway, and a
 * 1000-term AND would walk 1000 doclists.  No user byte reaches SQL text.
 * Only words of 1-2 characters: q->fts NULL (no trigram to look up).
 */
/* One ASCII trigram (3 bytes) into the text[] literal at *o, quoted with
 * " and \ escaped. */
static void pg_term(char *arr, size_t *o, const char *t)
{
	arr[0] = '{';
	if (*o > 1)
		arr[(*o)++] = ',';
	arr[(*o)++] = '"';
	for (int k = 0; k < 3; k++) {
		if (t[k] == '"' || t[k] == '\\')
			arr[(*o)++] = '\\';
		arr[(*o)++] = t[k];
	}
	arr[(*o)++] = '"';
}

static int squery_make(const char *query, struct squery *q)
{
	struct kt_search_plan plan;
	size_t len, maxw, o = 0, nterms = 0, po = 1;
	size_t **starts = NULL, *nchars = NULL;
	const char **terms = q->term;
	size_t *tlen = q->tlen;
	bool indexable;
	int err;

	memset(q, 0, sizeof(*q));
	err = kt_search_plan_make(query, &plan);
	if (err)
		return err;
	indexable = plan.fts != NULL;
	kt_search_plan_free(&plan);
	len = strlen(query);
	maxw = len / 2 + 1;
	q->words = calloc(maxw, sizeof(*q->words));
	q->wlen = calloc(maxw, sizeof(*q->wlen));
	starts = calloc(maxw, sizeof(*starts));
	nchars = calloc(maxw, sizeof(*nchars));
	/* each term: 3 characters of <= 4 bytes, quotes doubled, "" and " AND " */
	q->fts = malloc(QUERY_TRIGRAMS_MAX * (3 * 4 * 2 + 2 + 5) + 1);
	/* "{" + per term: quotes, 3 characters escaped, comma + "}" */
	q->pgarr = malloc(QUERY_TRIGRAMS_MAX * (2 + 3 * 2 + 1) + 3);
	if (!q->words || !q->wlen || !starts || !nchars || !q->fts || !q->pgarr) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < len;) {
		size_t start, n = 0;
		char *w;
		int wi;

		while (i < len && is_space(query[i]))
			i++;
		start = i;
		while (i < len && !is_space(query[i]))
			i++;
		if (i == start)
			break;
		wi = q->nwords++;
		w = q->words[wi] = malloc(i - start + 1);
		starts[wi] = malloc((i - start + 1) * sizeof(size_t));
		if (!w || !starts[wi]) {
			err = -ENOMEM;
			goto cleanup;
		}
		for (size_t k = start; k < i; k++) {
			w[k - start] = ascii_lower(query[k]);
			if (((unsigned char)query[k] & 0xc0) != 0x80)
				starts[wi][n++] = k - start;
		}
		w[i - start] = 0;
		starts[wi][n] = i - start;
		nchars[wi] = n;
		q->wlen[wi] = i - start;
	}
	for (size_t round = 0; nterms < QUERY_TRIGRAMS_MAX; round++) {
		bool any = false;

		for (int wi = 0; wi < q->nwords && nterms < QUERY_TRIGRAMS_MAX; wi++) {
			const char *t;
			size_t tl, k;

			if (nchars[wi] < round + 3)
				continue;
			any = true;
			t = q->words[wi] + starts[wi][round];
			tl = starts[wi][round + 3] - starts[wi][round];
			for (k = 0; k < nterms; k++)
				if (tlen[k] == tl && !memcmp(terms[k], t, tl))
					break;
			if (k < nterms)
				continue;
			terms[nterms] = t;
			tlen[nterms++] = tl;
			if (o)
				o += sprintf(q->fts + o, " AND ");
			q->fts[o++] = '"';
			for (k = 0; k < tl; k++) {
				if (t[k] == '"')
					q->fts[o++] = '"';
				q->fts[o++] = t[k];
			}
			q->fts[o++] = '"';
			if (tl == 3)
				pg_term(q->pgarr, &po, t);
		}
		if (!any)
			break;
	}
	q->nterms = nterms;
	q->fts[o] = 0;
	q->pgarr[po] = '}';
	q->pgarr[po + 1] = 0;
	if (!indexable) {
		/* only words of 1-2 characters: no trigram, every block is a candidate */
		free(q->fts);
		q->fts = NULL;
	}
cleanup:
	for (int i = 0; starts && i < q->nwords; i++)
		free(starts[i]);
	free(starts);
	free(nchars);
	if (err)
		squery_free(q);
	return err;
}

struct match {
	int64_t line, ts_us;
	char *text;
};

/* Verifying one block: its lines in order, the matching ones kept. */
struct verify {
	const struct squery *q;
	int64_t next_line;   /* line number of the next line rendered */
	int64_t stop_at;     /* lines from here on are not wanted (pagination) */
	bool stop;
	struct match *m;
	size_t n, cap;
	struct buf scratch, low;
	struct kt_screen_search_stats *stats;
};

static void verify_reset(struct verify *v, int64_t stop_at)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->m[i].text);
	v->n = 0;
	v->next_line = 0;
	v->stop_at = stop_at;
	v->stop = false;
}

/* Every word a substring, ASCII case-insensitively (as the LIKE plans of
 * the command search; non-ASCII letters must match exactly). */
static int line_matches(struct verify *v, const char *t, size_t n)
{
	if (ix_buf_reserve(&v->low, n + 1))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		v->low.p[i] = ascii_lower(t[i]);
	for (int i = 0; i < v->q->nwords; i++)
		if (!memmem(v->low.p, n, v->q->words[i], v->q->wlen[i]))
			return 0;
	return 1;
}

static int consider(struct verify *v, int64_t line, int64_t ts, const char *t, size_t n)
{
	struct match *m;
	int ret;

	if (v->stats)
		v->stats->lines++;
	if (ix_encoded_line(t, n))
		return 0; /* never indexed: not found in closed blocks either */
	ret = line_matches(v, t, n);
	if (ret <= 0)
		return ret;
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;

		m = realloc(v->m, cap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		v->m = m;
		v->cap = cap;
	}
	m = &v->m[v->n];
	m->text = strndup(t, n);
	if (!m->text)
		return -ENOMEM;
	m->line = line;
	m->ts_us = ts;
	v->n++;
	return 0;
}

static int verify_line(const char *text, size_t len, int64_t ts_us, void *ctx)
{
	struct verify *v = ctx;
	int64_t line = v->next_line++;
	size_t n;
	int err;

	if (line >= v->stop_at) {
		v->stop = true;
		return 0;
	}
	err = ix_sanitize(&v->scratch, text, len, &n);
	return err ? err : consider(v, line, ts_us, v->scratch.p, n);
}

struct block {
	int64_t id, chunk_seq, end_chunk_seq;
	uint32_t frame_index, end_frame_index;
	bool final, open;
	/* hit ids are hit_base << LINE_BITS | line: the block's id on a node;
	 * on the cluster store its session's gid and its seq
	 * (KT_PGR_BLOCK_KEY), block ids being a node's own */
	int64_t hit_base;
};

static int open_line(int64_t line, int64_t ts, const char *text, size_t len, void *ctx)
{
	struct verify *v = ctx;

	return line >= v->stop_at ? 0 : consider(v, line, ts, text, len);
}

struct open_ctx {
	struct kt_store *st;
	const struct block *b;
	struct verify *v;
};

static int open_row(struct kt_row *q, void *ctx)
{
	struct open_ctx *x = ctx;
	size_t len;
	const char *lines = q->bytes(q, 1, &len);

	return q->err ? q->err : ix_pending_walk(x->st, x->b->id, (const uint8_t *)lines, len,
						  q->i64(q, 0), open_line, x->v);
}

/* An open block: its lines are in screen_pending. */
static int verify_open(struct kt_store *st, const struct kt_session_info *s,
		       const struct block *b, struct verify *v)
{
	struct open_ctx x = { st, b, v };

	if (!st->pg)
		return ix_pending_rows(st, b->id, "screen search", open_line, v);
	/* the cluster store: the block's node is its session's */
	return kt_session_rows(st, s->id, NULL,
			       "SELECT p.first_line, p.lines FROM screen_pending p JOIN screen_blocks b"
			       " ON b.src = p.src AND b.id = p.block_id WHERE p.src = $1"
			       " AND b.session_id = $2 AND p.block_id = $3 ORDER BY p.first_line",
			       1, &b->id, "screen search", open_row, &x);
}

struct kf_ctx {
	struct kt_store *st;
	struct fv *scr;
	uint8_t *raw;
};

/* The keyframe a closed block starts from, restored into a screen. */
static int kf_row(struct kt_row *q, void *ctx)
{
	struct kf_ctx *k = ctx;
	int64_t raw_len = q->i64(q, 2);
	size_t len;
	const char *data = q->bytes(q, 4, &len);
	int err = q->err;

	if (!err)
		err = ix_zdecompress(k->st, (int)q->i64(q, 3), raw_len, data, len, &k->raw);
	if (!err)
		err = fv_restore((int)q->i64(q, 0), (int)q->i64(q, 1), k->raw, (size_t)raw_len,
				 &k->scr);
	return err ? err : 1; /* one row */
}

/*
 * A closed block: render it again from the keyframe at its start (or the
 * session start) up to its end, as the indexer did, and look at its lines
 * (the final block: the visible lines at its end).  Cost: one keyframe
 * restore and at most one keyframe interval of output.
 */
static int verify_closed(struct kt_store *st, const struct kt_session_info *s,
			 const struct block *b, struct verify *v)
{
	struct fv *scr = NULL;
	uint8_t *raw = NULL;
	int err;

	if (!b->chunk_seq && !b->frame_index) {
		err = ix_screen_fresh(s, &scr);
	} else {
		struct kf_ctx k = { .st = st };
		const int64_t at[2] = { b->chunk_seq, b->frame_index };

		err = kt_session_rows(st, s->id, "SELECT rows, cols, raw_len, codec, data FROM keyframes"
				      " WHERE session_id = ?1 AND chunk_seq = ?2 AND frame_index = ?3",
				      "SELECT rows, cols, raw_len, codec, data FROM keyframes"
				      " WHERE src = $1 AND session_id = $2 AND chunk_seq = $3"
				      " AND frame_index = $4", 2, at, "screen search", kf_row, &k);
		scr = k.scr;
		raw = k.raw;
		if (err > 0)
			err = 0;
		if (!err && !scr) {
			pr_err("store %s: screen block %lld: no keyframe at its start", st->path,
			       (long long)b->id);
			err = -EBADMSG;
		}
	}
	if (err)
		goto cleanup;
	if (!b->final)
		fv_set_line_cb(scr, verify_line, v);
	err = ix_render_span(st, s->id, scr, b->chunk_seq, b->frame_index, b->end_chunk_seq,
			     b->end_frame_index, &v->stop, v->stats ? &v->stats->rendered : NULL);
	if (!err && b->final)
		err = fv_visible_lines(scr, verify_line, v);
cleanup:
	fv_free(scr);
	free(raw);
	return err;
}

#define BLOCK_COLS(p) \
	p "id AS block_id, " p "chunk_seq, " p "frame_index, " p "end_chunk_seq, " \
	p "end_frame_index, " p "final, " p "open"
#define NBLOCK_COLS 7

/* One candidate search, its cursor and its callback. */
struct search {
	struct kt_store *st;
	const struct kt_session_filter *f;
	struct verify v;
	kt_screen_hit_cb cb;
	void *ctx;
	int64_t after_block, after_line, nhits;
	bool full;           /* the limit was reached (search_block returned 1) */
};

/* Verify one candidate block and deliver its hits: 0, 1 when the limit is
 * reached, <0 error. */
static int search_block(struct search *x, const struct kt_session_info *s, const struct block *b)
{
	struct verify *v = &x->v;
	int err;

	if (v->stats) {
		v->stats->blocks++;
		v->stats->open_blocks += b->open;
	}
	verify_reset(v, b->hit_base == x->after_block ? x->after_line : BLOCK_LINES_MAX + 1);
	err = b->open ? verify_open(x->st, s, b, v) : verify_closed(x->st, s, b, v);
	if (err)
		return err;
	/* newest first within the block too: ids must only go down */
	for (size_t i = v->n; i-- > 0;) {
		struct kt_screen_hit h = {
			.id = b->hit_base << LINE_BITS | v->m[i].line,
			.session_id = s->id,
			.ts_us = v->m[i].ts_us,
			.final = b->final,
			.text = v->m[i].text,
		};

		if (v->stats)
			v->stats->hits++;
		err = x->cb(s, &h, x->ctx);
		if (err)
			return err;
		if (x->f->limit > 0 && ++x->nhits >= x->f->limit) {
			x->full = true;
			return 1;
		}
	}
	return 0;
}

/* The cluster store's candidates (store/pg/pgr_screen.c), as blocks. */
static int pg_block(const struct kt_session_info *s, const struct kt_pgr_block *pb, void *ctx)
{
	struct block b = {
		.id = pb->id, .chunk_seq = pb->chunk_seq, .end_chunk_seq = pb->end_chunk_seq,
		.frame_index = pb->frame_index, .end_frame_index = pb->end_frame_index,
		.final = pb->final, .open = pb->open, .hit_base = pb->key,
	};

	return search_block(ctx, s, &b);
}

/* Candidate block ids as a JSON array for json_each (SQLite has no
 * array parameter; the ids are numbers, nothing to escape). */
static int ids_json(const struct ix_ids *ids, struct buf *out)
{
	char t[24];
	int err = ix_buf_put(out, "[", 1);

	for (size_t i = 0; i < ids->n && !err; i++) {
		int k = snprintf(t, sizeof(t), "%s%lld", i ? "," : "", (long long)ids->v[i]);

		err = ix_buf_put(out, t, (size_t)k);
	}
	return err ?: ix_buf_put(out, "]", 1);
}

int kt_store_screen_search_stats(struct kt_store *st, const char *query,
				 const struct kt_session_filter *f, kt_screen_hit_cb cb,
				 void *ctx, struct kt_screen_search_stats *stats)
{
	static const struct kt_session_filter any = KT_SESSION_FILTER_INIT;
	struct squery sq;
	struct search x = { .st = st, .cb = cb, .ctx = ctx };
	struct kt_session_info *s = NULL;
	sqlite3_stmt *stmt = NULL;
	char scols[1024], *sql = NULL;
	const size_t sqlcap = 8192;
	struct ix_ids ids = { 0 };
	struct buf json = { 0 };
	uint64_t *codes = NULL;
	size_t o, ncodes = 0;
	int n = 0, rc, err;

	if (!st || !query || !cb)
		return -EINVAL;
	if (!f)
		f = &any;
	x.f = f;
	if (stats)
		memset(stats, 0, sizeof(*stats));
	err = squery_make(query, &sq);
	if (err)
		return err;
	x.v = (struct verify){ .q = &sq, .stats = stats };
	if (f->after_id > 0) {
		x.after_block = f->after_id >> LINE_BITS;
		x.after_line = f->after_id & BLOCK_LINES_MAX;
	}
	if (st->pg) {
		err = kt_pgr_screen_candidates(st, sq.fts ? sq.pgarr : NULL, f, x.after_block,
					       pg_block, &x);
		goto cleanup;
	}
	sql = malloc(sqlcap);
	s = malloc(sizeof(*s));
	if (!sql || !s) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (!kt_session_cols_prefixed("s.", scols, sizeof(scols))) {
		err = -ENAMETOOLONG;
		goto cleanup;
	}
	/*
	 * Candidate blocks newest first: closed ones whose trigram set holds
	 * every query trigram (index_cand.c, passed as a JSON array), and the
	 * open ones (not in a set yet).  ?1..?6 session filter, ?7 the closed
	 * candidates, ?8 last block (pagination).
	 */
	if (sq.fts) {
		err = ix_query_codes(st, sq.term, sq.tlen, sq.nterms, &codes, &ncodes);
		if (!err && ncodes)
			err = ix_candidates(st, sq.fts, codes, ncodes, f, x.after_block, &ids);
		if (!err)
			err = ids_json(&ids, &json);
		if (err)
			goto cleanup;
		snprintf(sql, sqlcap,
			 "SELECT %s, " BLOCK_COLS("b.") " FROM json_each(?7) j"
			 " CROSS JOIN screen_blocks b ON b.id = j.value"
			 " CROSS JOIN sessions s ON s.id = b.session_id WHERE 1", scols);
		err = kt_session_filter_sql(f, "s.", sql, sqlcap, &n);
		if (err)
			goto cleanup;
		o = strlen(sql);
		n = 0;
		snprintf(sql + o, sqlcap - o,
			 " UNION ALL SELECT %s, " BLOCK_COLS("b.") " FROM screen_blocks b"
			 " CROSS JOIN sessions s ON s.id = b.session_id WHERE b.open = 1%s",
			 scols, x.after_block ? " AND b.id <= ?8" : "");
	} else {
		/* short words only: every block of the filter's sessions */
		snprintf(sql, sqlcap,
			 "SELECT %s, " BLOCK_COLS("b.") " FROM screen_blocks b"
			 " CROSS JOIN sessions s ON s.id = b.session_id WHERE 1%s",
			 scols, x.after_block ? " AND b.id <= ?8" : "");
	}
	err = kt_session_filter_sql(f, "s.", sql, sqlcap, &n);
	if (err)
		goto cleanup;
	o = strlen(sql);
	if ((size_t)snprintf(sql + o, sqlcap - o, " ORDER BY block_id DESC") >= sqlcap - o) {
		err = -ENAMETOOLONG;
		goto cleanup;
	}
	rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK) {
		err = kt_sql_err(st, rc, "screen search");
		goto cleanup;
	}
	kt_session_filter_bind(stmt, f, 1);
	if (sq.fts)
		sqlite3_bind_text(stmt, 7, json.p, (int)json.len, SQLITE_STATIC);
	if (x.after_block)
		sqlite3_bind_int64(stmt, 8, x.after_block);

	s->id = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int k = sqlite3_column_count(stmt) - NBLOCK_COLS;
		struct block b;

		if (sqlite3_column_int64(stmt, 0) != s->id || !s->id)
			kt_session_from_row(stmt, 0, s);
		b.id = sqlite3_column_int64(stmt, k);
		if (b.id <= 0 || b.id > INT64_MAX >> LINE_BITS) {
			/* hit ids are id << LINE_BITS: a hostile rowid overflows */
			pr_err("store %s: screen block id %lld out of range", st->path,
			       (long long)b.id);
			err = -EBADMSG;
			goto cleanup;
		}
		b.hit_base = b.id;
		b.chunk_seq = sqlite3_column_int64(stmt, k + 1);
		b.frame_index = (uint32_t)sqlite3_column_int64(stmt, k + 2);
		b.end_chunk_seq = sqlite3_column_int64(stmt, k + 3);
		b.end_frame_index = (uint32_t)sqlite3_column_int64(stmt, k + 4);
		b.final = sqlite3_column_int(stmt, k + 5) != 0;
		b.open = sqlite3_column_int(stmt, k + 6) != 0;
		err = search_block(&x, s, &b);
		if (err)
			goto cleanup;
	}
	if (rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, "screen search");
cleanup:
	if (x.full && err == 1)
		err = 0; /* the limit was reached */
	sqlite3_finalize(stmt);
	verify_reset(&x.v, 0);
	free(x.v.m);
	free(x.v.scratch.p);
	free(x.v.low.p);
	squery_free(&sq);
	free(sql);
	free(s);
	free(ids.v);
	free(json.p);
	free(codes);
	return err;
}

int kt_store_screen_search(struct kt_store *st, const char *query,
			   const struct kt_session_filter *f,
			   kt_screen_hit_cb cb, void *ctx)
{
	return kt_store_screen_search_stats(st, query, f, cb, ctx, NULL);
}
