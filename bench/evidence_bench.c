// SPDX-License-Identifier: Apache-2.0
/*
 * evidence_bench DIR [MIB] — the cost of tamper evidence (issue 10):
 *   - CPU of the hash chain on the write path (kt_chain_step per frame, as
 *     kt_store_chunk_append runs it), per MiB of frames and per frame;
 *   - what it stores: chain_heads, checkpoints, evidence frames (META, CMD,
 *     EXIT, END), against the session's bytes;
 *   - kubetape verify: ms per MiB (one large session, compacted as the
 *     recorder's worker does) and ms per session (1000 small sessions).
 * The session is shell-like: typed-echo frames of 1-16 bytes between 64 KiB
 * output bursts in 8 KiB frames (one BPF data event each), a command
 * (CMD + EXIT frames) per burst, a checkpoint every 30 s of virtual time at
 * one burst per second.  Built and run by bench/evidence.sh.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include <sqlite3.h>

#include "store.h"
#include "evidence.h"
#include "reader.h"

#define T0 1795300000000000LL

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "evidence_bench: %s: %s\n", what, strerror(-err));
	exit(1);
}

static uint64_t ev_bytes, frames_total, bytes_total;

/* one session of `mib` MiB; returns its id */
static int64_t session(struct kt_store *st, struct kt_signer *sg, const char *uuid, double mib,
		       int64_t t0, double *append_s)
{
	struct kt_session_info s = { 0 };
	struct kt_chunk_builder b;
	char buf[8192];
	uint64_t target = (uint64_t)(mib * 1048576), done = 0;
	int64_t t = t0, last_cp = t0;
	int32_t seq;
	int err, cmd = 0;
	double a0;

	snprintf(s.uuid, sizeof(s.uuid), "%s", uuid);
	snprintf(s.pod, sizeof(s.pod), "bench");
	s.start_us = t0;
	s.has_tty = true;
	memset(buf, 'x', sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i += 80)
		buf[i] = '\n';
	kt_chunk_builder_init(&b);
	if ((err = kt_store_session_create(st, &s)))
		die("session", err);
	a0 = now_s();
	{
		uint8_t *p;
		size_t len;

		kt_evidence_meta(&s, &p, &len);
		kt_chunk_add(&b, KT_FRAME_META, t, p, len);
		ev_bytes += len + 3;
		free(p);
	}
	while (done < target) {
		struct kt_command c = { .session_id = s.id, .ts_us = t, .pid = 1000 + cmd, .filename = "/bin/cat",
					.argv = "cat\0/var/log/app.log", .argv_len = 21, .argc = 2, .cwd = "/" };
		uint8_t *p, x[32];
		size_t len;

		for (int i = 0; i < 20; i++) {	/* typing: echo frames */
			kt_chunk_add(&b, KT_FRAME_OUT, t += 150000 / 20, buf + 1, 1 + i % 16);
			done += 1 + i % 16;
		}
		if ((err = kt_store_command_add(st, &c)))
			die("command", err);
		kt_evidence_cmd(&c, &p, &len);
		kt_chunk_add(&b, KT_FRAME_CMD, t, p, len);
		ev_bytes += len + 4;
		free(p);
		for (int i = 0; i < 8; i++) {	/* a 64 KiB burst */
			kt_chunk_add(&b, KT_FRAME_OUT, t += 1000, buf, sizeof(buf));
			done += sizeof(buf);
		}
		kt_store_command_exit_seq(st, s.id, c.pid, t, 0, &seq);
		len = kt_evidence_exit(seq, t, 0, x);
		kt_chunk_add(&b, KT_FRAME_EXIT, t, x, len);
		ev_bytes += len + 3;
		t += 1000000 - 150000 - 8000;
		cmd++;
		if ((err = kt_store_chunk_append(st, s.id, &b)))
			die("append", err);
		kt_chunk_builder_reset(&b);
		if (t - last_cp >= 30000000) {
			kt_store_checkpoint(st, sg, s.id, t, false);
			last_cp = t;
		}
	}
	s.state = KT_SESSION_ENDED;
	s.end_us = t;
	{
		uint8_t x[32];
		size_t len = kt_evidence_end(&s, x);

		kt_chunk_add(&b, KT_FRAME_END, t, x, len);
		ev_bytes += len + 3;
	}
	if ((err = kt_store_chunk_append(st, s.id, &b)) || (err = kt_store_session_update(st, &s)))
		die("end", err);
	kt_store_checkpoint(st, sg, s.id, t, true);
	*append_s += now_s() - a0;
	kt_chunk_builder_free(&b);
	return s.id;
}

static void node_problem(const char *p, void *ctx)
{
	fprintf(stderr, "evidence_bench: node chain: %s\n", p);
}

int main(int argc, char **argv)
{
	char db[4096], key[4096];
	struct kt_store *st = NULL;
	struct kt_signer *sg = NULL;
	struct kt_verify_result r;
	struct kt_compact_stats cs = { 0 };
	uint8_t pk[KT_PK_LEN];
	double mib = argc > 2 ? atof(argv[2]) : 64, append_s = 0, t, chain_s;
	int64_t big;
	int err;

	if (argc < 2 || mib <= 0) {
		fprintf(stderr, "usage: evidence_bench DIR [MIB]\n");
		return 2;
	}
	snprintf(db, sizeof(db), "%s/bench.db", argv[1]);
	snprintf(key, sizeof(key), "%s/node.key", argv[1]);
	if ((err = kt_store_open(db, KT_STORE_CREATE, &st)) || (err = kt_signer_open(key, &sg)) ||
	    (err = kt_signer_attach(sg, st)))
		die("open", err);
	kt_store_set_zstd_level(st, 0);
	if ((err = kt_pubkey_parse(kt_signer_pubkey_text(sg), pk)))
		die("public key", err);

	/* the write path: appends with the chain, then the chain alone */
	kt_store_begin(st);
	big = session(st, sg, "bench-big", mib, T0, &append_s);
	kt_store_commit(st);
	/* the chain alone, per chain version (the store writes the newest) */
	for (int ver = KT_CHAIN_BLAKE2B; ver <= KT_CHAIN_SHA256; ver++) {
		struct kt_stream *s;
		struct kt_frame f;
		struct kt_chain *c = kt_chain_new(ver);
		uint8_t h[KT_HASH_LEN] = { 0 };

		if (!c)
			die("chain", -errno);
		if ((err = kt_stream_open(st, big, 0, &s)))
			die("stream", err);
		frames_total = bytes_total = 0;
		t = now_s();
		while (kt_stream_next(s, &f) == 1) {
			kt_chain_step(c, h, &f);
			frames_total++;
			bytes_total += f.len + 13;
		}
		chain_s = now_s() - t;
		kt_stream_close(s);
		kt_chain_free(c);
		printf("chain v%d (%s): %" PRIu64 " frames, %.1f MiB: %.2f ms/MiB, %.0f ns/frame (of %.2f ms/MiB for the whole append path, raw)\n",
		       ver, ver == KT_CHAIN_SHA256 ? "SHA-256" : "BLAKE2b", frames_total,
		       bytes_total / 1048576.0, chain_s * 1e3 / (bytes_total / 1048576.0),
		       chain_s * 1e9 / frames_total, append_s * 1e3 / (bytes_total / 1048576.0));
	}
	{
		sqlite3 *rdb = NULL;
		sqlite3_stmt *q = NULL;
		int64_t cp_bytes = 0, ncp = 0, head_bytes = 0;

		/* the store's tables, read beside it (its handle is private) */
		if (sqlite3_open_v2(db, &rdb, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
			die("sqlite3_open", -EIO);
		sqlite3_prepare_v2(rdb, "SELECT count(*), sum(length(uuid) + length(head) + length(prev) + length(sig) + 6 * 8)"
				   " FROM checkpoints", -1, &q, NULL);
		if (sqlite3_step(q) == SQLITE_ROW) {
			ncp = sqlite3_column_int64(q, 0);
			cp_bytes = sqlite3_column_int64(q, 1);
		}
		sqlite3_finalize(q);
		sqlite3_close(rdb);
		head_bytes = 32 + 16;
		printf("storage: %" PRId64 " checkpoints %" PRId64 " B, chain head %" PRId64 " B, evidence frames %" PRIu64
		       " B: %.4f%% of %.1f MiB of frames\n", ncp, cp_bytes, head_bytes, ev_bytes,
		       100.0 * (cp_bytes + head_bytes + ev_bytes) / bytes_total, bytes_total / 1048576.0);
	}

	/* verify the big one after the worker's indexing and compaction */
	kt_store_maintain(st, big, &cs);
	t = now_s();
	if ((err = kt_verify_session(st, big, pk, 0, &r)) || r.state != KT_VERIFY_OK)
		die("verify big", err ? err : -EBADMSG);
	t = now_s() - t;
	printf("verify: %.1f MiB session (compacted, %" PRIu64 " chunks in, %" PRIu64 " out): %.0f ms, %.2f ms/MiB\n",
	       r.bytes / 1048576.0, cs.chunks_in, cs.chunks_out, t * 1e3, t * 1e3 / (r.bytes / 1048576.0));

	/* many small sessions */
	{
		int n = 1000;
		int64_t first = 0;
		double quick;

		kt_store_begin(st);
		for (int i = 0; i < n; i++) {
			char u[40];
			int64_t id;

			snprintf(u, sizeof(u), "bench-small-%d", i);
			id = session(st, sg, u, 0.004, T0 + (int64_t)(i + 1) * 3600000000LL, &append_s);
			if (!first)
				first = id;
		}
		kt_store_commit(st);
		t = now_s();
		for (int i = 0; i < n; i++)
			if (kt_verify_session(st, first + i, pk, 0, &r) || r.state != KT_VERIFY_OK)
				die("verify small", -EBADMSG);
		t = now_s() - t;
		quick = now_s();
		for (int i = 0; i < n; i++)
			if (kt_verify_session(st, first + i, pk, KT_VERIFY_QUICK, &r) || r.state != KT_VERIFY_OK)
				die("verify quick", -EBADMSG);
		quick = now_s() - quick;
		printf("verify: %d sessions of ~4 KiB (2 checkpoints each): %.3f ms/session full, %.3f ms/session quick (listings)\n",
		       n, t * 1e3 / n, quick * 1e3 / n);
		t = now_s();
		if (kt_verify_node(st, pk, NULL, node_problem, NULL, NULL) != 0)
			die("node", -EBADMSG);
		printf("verify: node chain of %d checkpoints: %.1f ms\n", 2 * n + 3, (now_s() - t) * 1e3);
	}
	{
		/* Ed25519 costs the same whatever the key: a fresh one, as the
		 * node key's secret half is the signer's own */
		uint8_t m[160] = { 0 }, sig[64], bpk[32], sk[64];

		crypto_sign_keypair(bpk, sk);
		t = now_s();
		for (int i = 0; i < 1000; i++)
			crypto_sign_detached(sig, NULL, m, sizeof(m), sk);
		printf("sign: %.1f us per checkpoint signature\n", (now_s() - t) * 1e3);
	}
	kt_signer_free(sg);
	kt_store_close(st);
	return 0;
}
