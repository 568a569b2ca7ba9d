// SPDX-License-Identifier: Apache-2.0
/*
 * corpus_store DB EVENTS — write one corpus event file (bench/corpus.py) into
 * a fresh kubetape store as one session, the way kubetape-recorder does:
 * frames of at most 8 KiB (KT_DATA_MAX, one BPF data event), a chunk
 * appended when it reaches 128 KiB raw or, at the recorder's 100 ms tick,
 * when its oldest frame is 0.4 s old (recorder/main.c defaults,
 * recorder/sessions.c rules), appended raw, then indexed and compacted as
 * the recorder's worker does (the screen index counts as stored bytes), one
 * transaction per tick.  Time is the corpus's virtual time, so the 0.4 s
 * rule cuts chunks exactly where a live recording would.
 *
 * With no EVENTS it writes the empty session only (the baseline the
 * benchmark subtracts).  Prints "raw_out raw_in chunks".
 *
 * Limits: one session, no commands rows (a real recording adds a row per
 * execve, a few hundred bytes each); input frames are written like output
 * ones, as the recorder does by default.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "reader.h"

#define FRAME_MAX   8192
#define FLUSH_BYTES (128 << 10)
#define FLUSH_AGE   400000
#define TICK        100000
#define T0          1795300000000000LL	/* an arbitrary epoch for virtual time 0 */

static struct kt_store *st;
static struct kt_chunk_builder cb;
static int64_t sid;
static unsigned long chunks;

static void die(const char *what, int err)
{
	fprintf(stderr, "corpus_store: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static void flush(void)
{
	int err;

	if (!cb.nframes)
		return;
	err = kt_store_chunk_append(st, sid, &cb);
	if (err)
		die("chunk append", err);
	kt_chunk_builder_reset(&cb);
	chunks++;
}

int main(int argc, char **argv)
{
	struct kt_session_info s;
	uint64_t raw_out = 0, raw_in = 0;
	int64_t next_tick = T0 + TICK;
	static uint8_t data[1 << 20];
	FILE *f = NULL;
	int err;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: corpus_store DB [EVENTS]\n");
		return 2;
	}
	err = kt_store_open(argv[1], KT_STORE_CREATE, &st);
	if (err)
		die("open store", err);
	/* as the recorder with its worker: raw appends, compressed later */
	kt_store_set_zstd_level(st, 0);
	memset(&s, 0, sizeof(s));
	/* CORPUS_UUID: another session of a store holding others (the
	 * marginal-cost figure of bench/results/20-storage.md) */
	snprintf(s.uuid, sizeof(s.uuid), "%s", getenv("CORPUS_UUID") ? getenv("CORPUS_UUID") : "bench-corpus");
	s.start_us = T0;
	snprintf(s.node, sizeof(s.node), "bench-node");
	snprintf(s.k8s_namespace, sizeof(s.k8s_namespace), "shop");
	snprintf(s.pod, sizeof(s.pod), "web-7d4b9c");
	snprintf(s.container, sizeof(s.container), "app");
	s.has_tty = true;
	s.rows = 24;
	s.cols = 80;
	err = kt_store_session_create(st, &s);
	if (err)
		die("session create", err);
	sid = s.id;
	kt_chunk_builder_init(&cb);
	if (argc == 3 && !(f = fopen(argv[2], "rb")))
		die(argv[2], errno);

	kt_store_begin(st);
	for (;;) {
		uint8_t hdr[13];
		int64_t ts;
		uint32_t len;

		if (!f || fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr))
			break;
		memcpy(&ts, hdr + 1, 8);
		memcpy(&len, hdr + 9, 4);
		if (len > sizeof(data) || fread(data, 1, len, f) != len)
			die("truncated event file", EINVAL);
		ts += T0;
		/* the recorder's ticks between the previous event and this one */
		while (next_tick <= ts) {
			if (cb.nframes && next_tick - cb.start_us >= FLUSH_AGE)
				flush();
			kt_store_commit(st);
			kt_store_begin(st);
			next_tick += TICK;
		}
		for (uint32_t off = 0; off < len || (len == 0 && off == 0); off += FRAME_MAX) {
			uint32_t n = len - off > FRAME_MAX ? FRAME_MAX : len - off;

			if (len == 0)
				break;	/* a pure time step */
			err = kt_chunk_add(&cb, hdr[0] == 'i' ? KT_FRAME_IN : KT_FRAME_OUT, ts, data + off, n);
			if (err)
				die("chunk add", err);
			if (cb.len >= FLUSH_BYTES)
				flush();
		}
		if (hdr[0] == 'i')
			raw_in += len;
		else
			raw_out += len;
	}
	flush();
	kt_store_commit(st);
	s.state = KT_SESSION_ENDED;
	s.end_us = next_tick;
	kt_store_session_update(st, &s);
	/* what the recorder's worker then does: screen index (keyframes and
	 * screen text, part of the stored bytes) and compaction */
	kt_store_maintain(st, s.id, NULL);
	kt_chunk_builder_free(&cb);
	kt_store_close(st);
	if (f)
		fclose(f);
	printf("%" PRIu64 " %" PRIu64 " %lu\n", raw_out, raw_in, chunks);
	return 0;
}
