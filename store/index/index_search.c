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
#include "satint.h"
#include "term/fastvt.h"

/* ---------------------------------------------------------------- search */

struct squery {
	char **words;        /* ASCII-lowered */
	size_t *wlen;
	int nwords;
	char *fts;           /* "t1" AND "t2" ...: single trigrams, bound as a parameter */
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
static int squery_make(const char *query, struct squery *q)
{
	struct kt_search_plan plan;
	size_t len, maxw, o = 0, nterms = 0;
	size_t **starts = NULL, *nchars = NULL;
	const char *terms[QUERY_TRIGRAMS_MAX];
	size_t tlen[QUERY_TRIGRAMS_MAX];
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
	if (!q->words || !q->wlen || !starts || !nchars || !q->fts) {
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
		}
		if (!any)
			break;
	}
	q->fts[o] = 0;
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
};

static int open_line(int64_t line, int64_t ts, const char *text, size_t len, void *ctx)
{
	struct verify *v = ctx;

	return line >= v->stop_at ? 0 : consider(v, line, ts, text, len);
}

/* An open block: its lines are in screen_pending. */
static int verify_open(struct kt_store *st, const struct block *b, struct verify *v)
{
	return ix_pending_rows(st, b->id, "screen search", open_line, v);
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
	sqlite3_stmt *q = NULL;
	uint8_t *raw = NULL;
	int rc, err;

	if (!b->chunk_seq && !b->frame_index) {
		err = ix_screen_fresh(s, &scr);
	} else {
		err = ix_prep(st, "SELECT rows, cols, raw_len, codec, data FROM keyframes"
			      " WHERE session_id = ?1 AND chunk_seq = ?2 AND frame_index = ?3", &q);
		if (err)
			return err;
		sqlite3_bind_int64(q, 1, s->id);
		sqlite3_bind_int64(q, 2, b->chunk_seq);
		sqlite3_bind_int64(q, 3, b->frame_index);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			int64_t raw_len = sqlite3_column_int64(q, 2);

			err = ix_zdecompress(st, sqlite3_column_int(q, 3), raw_len,
					     sqlite3_column_blob(q, 4),
					     (size_t)sqlite3_column_bytes(q, 4), &raw);
			if (!err)
				err = fv_restore(sqlite3_column_int(q, 0), sqlite3_column_int(q, 1), raw,
						 (size_t)raw_len, &scr);
		} else if (rc == SQLITE_DONE) {
			pr_err("store %s: screen block %lld: no keyframe at its start", st->path,
			       (long long)b->id);
			err = -EBADMSG;
		} else {
			err = kt_sql_err(st, rc, "screen search");
		}
		sqlite3_finalize(q);
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

int kt_store_screen_search_stats(struct kt_store *st, const char *query,
				 const struct kt_session_filter *f, kt_screen_hit_cb cb,
				 void *ctx, struct kt_screen_search_stats *stats)
{
	static const struct kt_session_filter any = KT_SESSION_FILTER_INIT;
	struct squery sq;
	struct verify v = { .q = &sq, .stats = stats };
	struct kt_session_info *s = NULL;
	sqlite3_stmt *stmt = NULL;
	char scols[1024], *sql = NULL;
	const size_t sqlcap = 8192;
	int64_t after_block = 0, after_line = 0, nhits = 0;
	size_t o;
	int n = 0, rc, err;

	if (!st || !query || !cb)
		return -EINVAL;
	if (!f)
		f = &any;
	if (stats)
		memset(stats, 0, sizeof(*stats));
	err = squery_make(query, &sq);
	if (err)
		return err;
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
	if (f->after_id > 0) {
		after_block = f->after_id >> LINE_BITS;
		after_line = f->after_id & BLOCK_LINES_MAX;
	}
	/*
	 * Candidate blocks newest first: closed ones whose trigram set holds
	 * every query trigram, and the open ones (not in the FTS yet).
	 * ?1..?6 session filter, ?7 FTS query, ?8 last block (pagination).
	 * CROSS JOIN keeps the FTS index the outer loop.
	 */
	if (sq.fts) {
		snprintf(sql, sqlcap,
			 "SELECT %s, " BLOCK_COLS("b.") " FROM screen_fts"
			 " CROSS JOIN screen_blocks b ON b.id = screen_fts.rowid"
			 " CROSS JOIN sessions s ON s.id = b.session_id"
			 " WHERE screen_fts MATCH ?7%s", scols,
			 after_block ? " AND screen_fts.rowid <= ?8" : "");
		err = kt_session_filter_sql(f, "s.", sql, sqlcap, &n);
		if (err)
			goto cleanup;
		o = strlen(sql);
		n = 0;
		snprintf(sql + o, sqlcap - o,
			 " UNION ALL SELECT %s, " BLOCK_COLS("b.") " FROM screen_blocks b"
			 " CROSS JOIN sessions s ON s.id = b.session_id WHERE b.open = 1%s",
			 scols, after_block ? " AND b.id <= ?8" : "");
	} else {
		/* short words only: every block of the filter's sessions */
		snprintf(sql, sqlcap,
			 "SELECT %s, " BLOCK_COLS("b.") " FROM screen_blocks b"
			 " CROSS JOIN sessions s ON s.id = b.session_id WHERE 1%s",
			 scols, after_block ? " AND b.id <= ?8" : "");
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
		sqlite3_bind_text(stmt, 7, sq.fts, -1, SQLITE_STATIC);
	if (after_block)
		sqlite3_bind_int64(stmt, 8, after_block);

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
		b.chunk_seq = sqlite3_column_int64(stmt, k + 1);
		b.frame_index = (uint32_t)sqlite3_column_int64(stmt, k + 2);
		b.end_chunk_seq = sqlite3_column_int64(stmt, k + 3);
		b.end_frame_index = (uint32_t)sqlite3_column_int64(stmt, k + 4);
		b.final = sqlite3_column_int(stmt, k + 5) != 0;
		b.open = sqlite3_column_int(stmt, k + 6) != 0;
		if (stats) {
			stats->blocks++;
			stats->open_blocks += b.open;
		}
		verify_reset(&v, b.id == after_block ? after_line : BLOCK_LINES_MAX + 1);
		err = b.open ? verify_open(st, &b, &v) : verify_closed(st, s, &b, &v);
		if (err)
			goto cleanup;
		/* newest first within the block too: ids must only go down */
		for (size_t i = v.n; i-- > 0;) {
			struct kt_screen_hit h = {
				.id = b.id << LINE_BITS | v.m[i].line,
				.session_id = s->id,
				.ts_us = v.m[i].ts_us,
				.final = b.final,
				.text = v.m[i].text,
			};

			if (stats)
				stats->hits++;
			err = cb(s, &h, ctx);
			if (err)
				goto cleanup;
			if (f->limit > 0 && ++nhits >= f->limit)
				goto cleanup;
		}
	}
	if (rc != SQLITE_DONE)
		err = kt_sql_err(st, rc, "screen search");
cleanup:
	sqlite3_finalize(stmt);
	verify_reset(&v, 0);
	free(v.m);
	free(v.scratch.p);
	free(v.low.p);
	squery_free(&sq);
	free(sql);
	free(s);
	return err;
}

int kt_store_screen_search(struct kt_store *st, const char *query,
			   const struct kt_session_filter *f,
			   kt_screen_hit_cb cb, void *ctx)
{
	return kt_store_screen_search_stats(st, query, f, cb, ctx, NULL);
}
