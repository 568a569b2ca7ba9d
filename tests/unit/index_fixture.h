/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The screen index tests' fixture (test_index.c, test_index_read.c): real
 * stores in a mkdtemp directory, sessions recorded frame by frame, a
 * shell-like recording, search hit collectors.  Header-only (static
 * inline) like kt_fixture.h.
 */
#ifndef KT_INDEX_FIXTURE_H
#define KT_INDEX_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kt_test.h"
#include "kt_fixture.h"
#include "log.h"
#include "screen.h"
#include "store.h"
#include "store_int.h"

#define T0 1700000000000000LL

static char tmpdir[64];
static int dbn;

static inline struct kt_store *create_store(char *path, size_t len)
{
	struct kt_store *st = NULL;

	snprintf(path, len, "%s/i%d.db", tmpdir, ++dbn);
	if (kt_store_open(path, KT_STORE_CREATE, &st))
		return NULL;
	return st;
}

static inline int64_t add_session(struct kt_store *st, const char *uuid, bool tty)
{
	struct kt_session_info s = kt_fx_session(uuid, "prod", "web-1", T0);

	s.has_tty = tty;
	if (kt_store_session_create(st, &s))
		return -1;
	return s.id;
}


/* ---- a recorded session: frames in chunks of ~64 KiB ---- */

struct rec {
	struct kt_store *st;
	int64_t sid;
	struct kt_chunk_builder b;
	int64_t ts;
	/* everything written, for full replays */
	struct { uint8_t type; int64_t ts; char *data; uint32_t len; } *f;
	size_t n, cap;
};

static inline void rec_frame(struct rec *r, uint8_t type, const void *data, uint32_t len, int64_t dt)
{
	r->ts += dt;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 1024;
		r->f = realloc(r->f, r->cap * sizeof(*r->f));
	}
	r->f[r->n].type = type;
	r->f[r->n].ts = r->ts;
	r->f[r->n].data = malloc(len ? len : 1);
	memcpy(r->f[r->n].data, data, len);
	r->f[r->n].len = len;
	r->n++;
	kt_chunk_add(&r->b, type, r->ts, data, len);
	if (r->b.len > 65536) {
		kt_store_chunk_append(r->st, r->sid, &r->b);
		kt_chunk_builder_reset(&r->b);
	}
}

static inline void rec_out(struct rec *r, const char *s, int64_t dt)
{
	rec_frame(r, KT_FRAME_OUT, s, (uint32_t)strlen(s), dt);
}

static inline void rec_resize(struct rec *r, uint16_t cols, uint16_t rows, int64_t dt)
{
	uint8_t p[4] = { cols & 0xff, cols >> 8, rows & 0xff, rows >> 8 };

	rec_frame(r, KT_FRAME_RESIZE, p, 4, dt);
}

static inline void rec_flush(struct rec *r)
{
	if (r->b.nframes)
		kt_store_chunk_append(r->st, r->sid, &r->b);
	kt_chunk_builder_reset(&r->b);
}

static inline void rec_free(struct rec *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->f[i].data);
	free(r->f);
	kt_chunk_builder_free(&r->b);
}

/*
 * A shell session: commands, colourful output, an editor, a resize.  A
 * round is ~205 bytes every 20 ms (~300 KB in 30 s), which passes the
 * indexer's 256 KiB minimum between keyframes (KF_MIN_BYTES), so these
 * recordings get a keyframe (and a new search block) every 30 s.
 */
static inline void record_shell(struct rec *r, int rounds)
{
	static const char pad[] = "owner=app group=app mode=0644 size=4096 "
				  "path=/var/lib/app/data/cache/objects/by-id/ "
				  "checksum=sha256:0f3c9a7e51b2d8c4 labels=tier:web,env:prod";
	char buf[512];
	uint32_t x = 7;

	r->ts = T0;
	rec_out(r, "\x1b]0;root@web-1:/\x07\x1b[01;32mroot@web-1\x1b[00m:/# ", 1000);
	rec_out(r, "sdo\b\budo cat /etc/shadow\r\n", 2000000);
	rec_out(r, "root:$y$j9T$secrethash:19000:0:99999:7:::\r\n", 1000);
	for (int i = 0; i < rounds; i++) {
		x = x * 1103515245 + 12345;
		snprintf(buf, sizeof(buf), "\x1b[0m\x1b[01;34mdir%05d\x1b[0m  file-%u.txt  \x1b[31mcore.%d\x1b[0m  %s\r\n",
			 i, x % 100000, i, pad);
		rec_out(r, buf, 20000);
		if (i % 500 == 250) {
			rec_out(r, "\x1b[?1049h\x1b[H\x1b[2J~\r\n~\r\n\x1b[24;1H-- INSERT --", 100000);
			rec_out(r, "\x1b[1;1Hvim-only-text", 100000);
			rec_out(r, "\x1b[?1049l", 100000);
		}
		if (i == rounds / 2)
			rec_resize(r, 100, 30, 1000);
	}
	rec_out(r, "# echo LAST-SCREEN-MARKER\r\nLAST-SCREEN-MARKER\r\n# ", 1000000);
	rec_flush(r);
}

/* ---- search helpers ---- */

struct hits {
	int n;
	int64_t id[64];
	int64_t ts[64];
	bool final[64];
	char text[64][256];
};

static inline int on_hit(const struct kt_session_info *s, const struct kt_screen_hit *h, void *ctx)
{
	struct hits *x = ctx;

	if (x->n < 64) {
		x->id[x->n] = h->id;
		x->ts[x->n] = h->ts_us;
		x->final[x->n] = h->final;
		snprintf(x->text[x->n], sizeof(x->text[0]), "%s", h->text);
	}
	x->n++;
	return 0;
}

static inline int index_all(struct kt_store *st, int64_t sid, size_t budget)
{
	int ret, calls = 0;

	while ((ret = kt_index_session(st, sid, budget)) == 1)
		calls++;
	return ret < 0 ? ret : calls;
}

#endif
