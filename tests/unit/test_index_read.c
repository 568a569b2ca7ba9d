// SPDX-License-Identifier: Apache-2.0
/*
 * Reading the screen index on real SQLite stores (the writing side and the
 * fixture: test_index.c, index_fixture.h): seeking (keyframe + the frames
 * after it give the screen a full replay gives), block boundaries at
 * keyframes, trigram false positives rejected, encoded blobs not indexed,
 * stable pagination, a read-only store.
 */
#include "index_fixture.h"

static struct kt_screen *replay(struct rec *r, int64_t until_us)
{
	struct kt_screen *s = NULL;

	kt_screen_new(24, 80, &s);
	for (size_t i = 0; i < r->n && r->f[i].ts <= until_us; i++) {
		if (r->f[i].type == KT_FRAME_OUT) {
			kt_screen_feed(s, r->f[i].data, r->f[i].len);
		} else if (r->f[i].type == KT_FRAME_RESIZE) {
			const uint8_t *p = (const uint8_t *)r->f[i].data;

			kt_screen_resize(s, p[2] | p[3] << 8, p[0] | p[1] << 8);
		}
	}
	return s;
}

static void t_seek(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path)), *ro = NULL;
	struct rec r = { .st = st };
	int64_t targets[6];

	r.sid = add_session(st, "s1", true);
	record_shell(&r, 6000);
	CHECK(index_all(st, r.sid, 0) >= 0);
	CHECK(kt_fx_sql_int(path, "SELECT count(*) FROM keyframes") >= 2);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &ro), 0);
	targets[0] = T0;                       /* before any keyframe */
	targets[1] = r.ts;                     /* the end */
	for (int i = 2; i < 6; i++)
		targets[i] = T0 + (r.ts - T0) * (i * 2 - 1) / 10;
	for (int i = 0; i < 6; i++) {
		struct kt_stream *stream = NULL;
		struct kt_screen *seek = NULL, *full = replay(&r, targets[i]);
		uint8_t *kf = NULL;
		size_t kflen;
		int64_t kts;
		uint16_t rows, cols;
		struct kt_frame f;
		char why[256];
		int ret;

		CHECK_EQ_INT(kt_stream_open_at(ro, r.sid, targets[i], &stream, &kf, &kflen, &kts,
					       &rows, &cols), 0);
		if (i == 0)
			CHECK(kf == NULL);
		if (i == 1)
			CHECK(kf != NULL && kts > T0);
		if (kf) {
			CHECK(kts <= targets[i]);
			CHECK_EQ_INT(kt_screen_restore(rows, cols, kf, kflen, &seek), 0);
		} else {
			kt_screen_new(rows, cols, &seek);
		}
		/* the first frame after the keyframe is newer than the keyframe */
		while ((ret = kt_stream_next(stream, &f)) == 1 && f.ts_us <= targets[i]) {
			CHECK(f.ts_us >= kts);
			if (f.type == KT_FRAME_OUT) {
				kt_screen_feed(seek, f.data, f.len);
			} else if (f.type == KT_FRAME_RESIZE) {
				uint16_t c, rr;

				kt_frame_resize_parse(&f, &c, &rr);
				kt_screen_resize(seek, rr, c);
			}
		}
		CHECK_EQ_INT(kt_screen_compare(full, seek, why, sizeof(why)), 0);
		if (why[0])
			printf("  target %d: %s\n", i, why);
		free(kf);
		kt_stream_close(stream);
		kt_screen_free(seek);
		kt_screen_free(full);
	}
	{
		struct kt_stream *stream = NULL;
		uint8_t *kf = NULL;
		size_t kflen;
		int64_t kts;
		uint16_t rows, cols;

		CHECK_EQ_INT(kt_stream_open_at(ro, 999, T0, &stream, &kf, &kflen, &kts, &rows, &cols),
			     -ENOENT);
	}
	kt_store_close(ro);
	kt_store_close(st);
	rec_free(&r);
}

static int count_line(const char *text, size_t len, int64_t ts, void *ctx)
{
	(*(int64_t *)ctx)++;
	return 0;
}

/* Blocks: one per keyframe interval, contiguous, starting at keyframes,
 * holding every line a full replay emits; the final screen on its own. */
static void t_blocks(void)
{
	char path[128], line[200], want[64];
	struct kt_store *st = create_store(path, sizeof(path));
	struct rec r = { .st = st };
	struct kt_screen *full = NULL;
	struct kt_screen_search_stats stats;
	struct hits h = { 0 };
	int64_t emitted = 0, nkf;

	r.sid = add_session(st, "s1", true);
	r.ts = T0;
	for (int i = 0; i < 30000; i++) {
		snprintf(line, sizeof(line), "row-%06d-end %0100d\r\n", i, i % 7);
		rec_out(&r, line, 10);
	}
	rec_out(&r, "the last screen\r\n", 10);
	rec_flush(&r);
	kt_fx_end_id(st, r.sid, r.ts + 1);
	CHECK_EQ_INT(index_all(st, r.sid, 300000) > 5, 1);

	kt_screen_new(24, 80, &full);
	kt_screen_set_line_cb(full, count_line, &emitted);
	for (size_t i = 0; i < r.n; i++)
		kt_screen_feed(full, r.f[i].data, r.f[i].len);
	nkf = kt_fx_sql_int(path, "SELECT count(*) FROM keyframes");
	CHECK(nkf >= 3);
	/* one block per interval (before the first keyframe, between two, after
	 * the last) plus the final screen */
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks WHERE final = 0"), nkf + 1);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks WHERE final = 1"), 1);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT total(n_lines) FROM screen_blocks WHERE final = 0"), emitted);
	/* 115-column lines on 80 columns: two rows each */
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT n_lines FROM screen_blocks WHERE final = 1"), 12);
	/* every block but the first starts at a keyframe */
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks b JOIN keyframes k"
			   " ON k.session_id = b.session_id AND k.chunk_seq = b.chunk_seq"
			   " AND k.frame_index = b.frame_index WHERE b.final = 0"), nkf);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks WHERE seq = 0 AND chunk_seq = 0"
			   " AND frame_index = 0"), 1);
	/* contiguous: each ends where the next starts */
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks a JOIN screen_blocks b"
			   " ON b.seq = a.seq + 1 AND b.final = 0 WHERE a.end_chunk_seq = b.chunk_seq"
			   " AND a.end_frame_index = b.frame_index"), nkf);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_pending"), 0);
	/* lines at both ends of a block, in the middle, and their times: the
	 * line of frame i is complete (scrolls off later) at T0 + 10 (i + 1) */
	for (int i = 0; i < 30000; i += 997) {
		snprintf(want, sizeof(want), "row-%06d-end", i);
		h.n = 0;
		CHECK_EQ_INT(kt_store_screen_search_stats(st, want, NULL, on_hit, &h, &stats), 0);
		CHECK_EQ_INT(h.n, 1);
		/* row-000000-end has no trigram row-001000-end lacks: candidates
		 * may be more, the hit is one */
		CHECK(stats.blocks >= 1 && stats.blocks <= 2);
		if (h.n == 1)
			CHECK_EQ_INT(h.ts[0], T0 + 10LL * (i + 1));
	}
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "the last screen", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 1);
	CHECK(h.final[0]);
	kt_screen_free(full);
	kt_store_close(st);
	rec_free(&r);
}

/* All trigrams of the word in one block, the word nowhere: a candidate
 * that verification rejects. */
static void t_false_positive(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path));
	struct rec r = { .st = st };
	struct kt_screen_search_stats stats;
	struct hits h = { 0 };

	r.sid = add_session(st, "s1", true);
	rec_out(&r, "a sudden move\r\n", 1);
	rec_out(&r, "judo class\r\nsudden judo\r\nSUDO-less\r\n", 1);
	rec_flush(&r);
	kt_fx_end_id(st, r.sid, T0 + 10);
	CHECK_EQ_INT(index_all(st, r.sid, 0), 0);
	CHECK_EQ_INT(kt_store_screen_search_stats(st, "sudo", NULL, on_hit, &h, &stats), 0);
	/* both blocks are candidates (the lines that scrolled off: none here;
	 * the final screen holds them all): only SUDO-less is a hit */
	CHECK_EQ_INT(h.n, 1);
	CHECK_EQ_STR(h.text[0], "SUDO-less");
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search_stats(st, "sudo class", NULL, on_hit, &h, &stats), 0);
	CHECK_EQ_INT(h.n, 0);
	CHECK_EQ_INT(stats.blocks, 1);     /* a candidate ... */
	CHECK(stats.lines >= 4);           /* ... rendered and looked at */
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search_stats(st, "judo sudden", NULL, on_hit, &h, &stats), 0);
	CHECK_EQ_INT(h.n, 1);
	CHECK_EQ_STR(h.text[0], "sudden judo");
	/* trigrams are of characters: a multi-byte word */
	rec_free(&r);
	memset(&r, 0, sizeof(r));
	r.st = st;
	r.sid = add_session(st, "s2", true);
	rec_out(&r, "caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e\r\n", 1);
	rec_flush(&r);
	kt_fx_end_id(st, r.sid, T0 + 10);
	CHECK_EQ_INT(index_all(st, r.sid, 0), 0);
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "CR\xc3\xa8ME br\xc3\xbbl\xc3\xa9", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 1);
	/* non-ASCII letters compare exactly (ASCII-only case folding) */
	h.n = 0;
	CHECK_EQ_INT(kt_store_screen_search(st, "caf\xc3\x89", NULL, on_hit, &h), 0);
	CHECK_EQ_INT(h.n, 0);
	kt_store_close(st);
	rec_free(&r);
}

/* Lines with a base64/hex blob are not indexed, open or closed. */
static void t_encoded(void)
{
	static const char *b64 = "data: QmFzZTY0IGlzIG5vdCBpbmRleGVkOyBpdCBjb3N0cyBhcyBtdWNoIGFzIHRoZSB0ZXh0Lg==";
	static const char *hex = "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
	static const char *path_line = "/usr/share/doc/libgstreamer-plugins-base-dev/examples/readme";
	static const char *digits = "n 123456789012345678901234567890123456789012345678901234567890";
	char p[128];
	struct kt_store *st = create_store(p, sizeof(p));
	struct rec r = { .st = st };
	struct kt_screen_search_stats stats;
	char buf[512];

	r.sid = add_session(st, "s1", false);
	snprintf(buf, sizeof(buf), "%s\n%s\n%s\n%s\n", b64, hex, path_line, digits);
	rec_out(&r, buf, 1);
	for (int i = 0; i < 30; i++)
		rec_out(&r, "filler line\n", 1);
	rec_flush(&r);
	CHECK_EQ_INT(index_all(st, r.sid, 0), 0);
	for (int round = 0; round < 2; round++) {
		struct hits h = { 0 };

		/* round 0: open block (pending lines), 1: closed (FTS) */
		CHECK_EQ_INT(kt_store_screen_search_stats(st, "IGlzIG5vdCBpbmRl", NULL, on_hit, &h,
							  &stats), 0);
		CHECK_EQ_INT(h.n, 0);
		CHECK_EQ_INT(kt_store_screen_search(st, "data:", NULL, on_hit, &h), 0);
		CHECK_EQ_INT(h.n, 0);
		CHECK_EQ_INT(kt_store_screen_search(st, "884c7d659a2f", NULL, on_hit, &h), 0);
		CHECK_EQ_INT(h.n, 0);
		if (round) /* not even a candidate */
			CHECK_EQ_INT(stats.blocks, 0);
		CHECK_EQ_INT(kt_store_screen_search(st, "plugins-base-dev/examples", NULL, on_hit, &h), 0);
		CHECK_EQ_INT(h.n, 1);
		CHECK_EQ_INT(kt_store_screen_search(st, "9012345678901", NULL, on_hit, &h), 0);
		CHECK_EQ_INT(h.n, 2);
		kt_fx_end_id(st, r.sid, r.ts + 1);
		CHECK_EQ_INT(index_all(st, r.sid, 0), 0);
	}
	kt_store_close(st);
	rec_free(&r);
}

struct page {
	int n;
	int64_t ids[4096];
	int64_t sum_ts;
};

static int on_page(const struct kt_session_info *s, const struct kt_screen_hit *h, void *ctx)
{
	struct page *p = ctx;

	if (p->n < 4096)
		p->ids[p->n] = h->id;
	p->n++;
	p->sum_ts += h->ts_us;
	return 0;
}

/* Pages of 7 over open, closed and final blocks of two sessions give the
 * same hits as one unlimited search, ids strictly decreasing. */
static void t_pagination(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path));
	struct rec r1 = { .st = st }, r2 = { .st = st };
	struct page *all = calloc(1, sizeof(*all)), *pages = calloc(1, sizeof(*pages));
	struct kt_session_filter f = KT_SESSION_FILTER_INIT;

	r1.sid = add_session(st, "s1", true);
	r2.sid = add_session(st, "s2", true);
	record_shell(&r1, 6000);
	kt_fx_end_id(st, r1.sid, r1.ts + 1);
	record_shell(&r2, 3000);       /* active: its last block is open */
	CHECK(index_all(st, r1.sid, 0) >= 0);
	CHECK(index_all(st, r2.sid, 0) >= 0);
	CHECK(kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks WHERE open = 0 AND final = 0") >= 3);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM screen_blocks WHERE open = 1"), 1);

	CHECK_EQ_INT(kt_store_screen_search(st, "core.1", NULL, on_page, all), 0);
	CHECK(all->n > 100 && all->n < 4096);
	for (int i = 1; i < all->n && i < 4096; i++)
		CHECK(all->ids[i] < all->ids[i - 1]);
	f.limit = 7;
	for (;;) {
		struct page one = { 0 };

		CHECK_EQ_INT(kt_store_screen_search(st, "core.1", &f, on_page, &one), 0);
		CHECK(one.n <= 7);
		for (int i = 0; i < one.n && pages->n < 4096; i++)
			pages->ids[pages->n++] = one.ids[i];
		pages->sum_ts += one.sum_ts;
		if (one.n < 7)
			break;
		f.after_id = one.ids[one.n - 1];
	}
	CHECK_EQ_INT(pages->n, all->n);
	CHECK_EQ_INT(pages->sum_ts, all->sum_ts);
	CHECK(!memcmp(pages->ids, all->ids, sizeof(int64_t) * (size_t)(all->n < 4096 ? all->n : 4096)));
	/* ids stay when the open block closes */
	kt_fx_end_id(st, r2.sid, r2.ts + 1);
	CHECK_EQ_INT(index_all(st, r2.sid, 0), 0);
	memset(pages, 0, sizeof(*pages));
	CHECK_EQ_INT(kt_store_screen_search(st, "core.1", NULL, on_page, pages), 0);
	/* the final screens add hits at the front, nothing else changes */
	CHECK(pages->n >= all->n);
	CHECK(!memcmp(pages->ids + (pages->n - all->n), all->ids,
		      sizeof(int64_t) * (size_t)all->n));
	free(all);
	free(pages);
	kt_store_close(st);
	rec_free(&r1);
	rec_free(&r2);
}

static void t_readonly(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path)), *ro = NULL;
	int64_t sid = add_session(st, "s1", true);

	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &ro), 0);
	CHECK_EQ_INT(kt_index_session(ro, sid, 0), -EROFS);
	CHECK_EQ_INT(kt_index_session(st, 12345, 0), -ENOENT);
	kt_store_close(ro);
	kt_store_close(st);
}

int main(void)
{
	if (kt_fx_mkdtemp(tmpdir, sizeof(tmpdir), "kt_test_index_read"))
		return 1;
	kt_log_init("test_index_read", KT_LOG_ERROR);
	RUN(t_seek);
	RUN(t_blocks);
	RUN(t_false_positive);
	RUN(t_encoded);
	RUN(t_pagination);
	RUN(t_readonly);
	kt_fx_rm_dir(tmpdir);
	return kt_test_done();
}
