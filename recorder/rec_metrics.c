// SPDX-License-Identifier: Apache-2.0
/*
 * The recorder's metrics (rec_metrics.h).  Names and meanings are listed
 * in deploy/README.md "Metrics".  Store-side figures are read at scrape
 * time: active and total sessions, the index worker's backlog (sessions
 * whose screen index is behind) and lag (age of the oldest chunk still
 * waiting for compaction, which follows indexing).  Reads the recorder's
 * store-outage state (sessions_int.h) without changing it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "rec_metrics.h"
#include "sessions_int.h"

struct kt_rec_metrics {
	struct kt_metrics *srv;
	char *db;
	struct kt_store *st;         /* the scrape thread's own, read-only */
	int64_t last_us;
};

static int count_cb(int64_t id, void *ctx)
{
	(void)id;
	(*(int64_t *)ctx)++;
	return 0;
}

static void render(void *ctx, struct kt_metrics_buf *b)
{
	struct kt_rec_metrics *m = ctx;
	struct kt_store_gauges g;
	int64_t active, total, pending = 0, oldest, raw;

	/* the scrape thread is the only user of m->st */
	if (!m->st && kt_store_open(m->db, KT_STORE_RDONLY, &m->st))
		return;
	if (kt_store_gauges(m->st, &g))
		return;
	active = g.sessions_active;
	total = g.sessions;
	raw = g.raw_chunks;
	oldest = g.oldest_raw_us;
	if (kt_index_pending(m->st, count_cb, &pending) < 0)
		pending = -1;
	kt_mbuf_help(b, "kubetape_store_sessions_active", "gauge", "Sessions being recorded (state active in the store).");
	kt_mbuf_val(b, "kubetape_store_sessions_active", NULL, (double)active);
	kt_mbuf_help(b, "kubetape_store_sessions", "gauge", "Sessions in the store.");
	kt_mbuf_val(b, "kubetape_store_sessions", NULL, (double)total);
	kt_mbuf_help(b, "kubetape_worker_index_backlog_sessions", "gauge", "Sessions whose screen index is behind their output.");
	kt_mbuf_val(b, "kubetape_worker_index_backlog_sessions", NULL, (double)pending);
	kt_mbuf_help(b, "kubetape_worker_raw_chunks", "gauge", "Chunks written raw, waiting for the worker's compaction.");
	kt_mbuf_val(b, "kubetape_worker_raw_chunks", NULL, (double)raw);
	kt_mbuf_help(b, "kubetape_worker_lag_seconds", "gauge", "Age of the oldest chunk waiting for compaction (0: none).");
	kt_mbuf_val(b, "kubetape_worker_lag_seconds", NULL,
		    raw > 0 && oldest > 0 ? (double)(kt_now_us() - oldest) / 1e6 : 0);
}

int kt_rec_metrics_start(const char *addr, const char *db, struct kt_rec_metrics **out)
{
	struct kt_rec_metrics *m = calloc(1, sizeof(*m));
	int err;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->db = strdup(db);
	if (!m->db) {
		err = -ENOMEM;
		goto fail;
	}
	err = kt_metrics_start(addr, render, m, &m->srv);
	if (err)
		goto fail;
	*out = m;
	return 0;
fail:
	free(m->db);
	free(m);
	return err;
}

void kt_rec_metrics_tick(struct kt_rec_metrics *m, struct kt_loader *ld, struct kt_recorder *rec)
{
	struct kt_metrics_buf b = { 0 };
	int64_t now = kt_now_us();
	uint64_t k[KT_STAT_MAX] = { 0 };
	struct kt_recorder_counters c;

	if (!m || now - m->last_us < 1000000)
		return;
	m->last_us = now;
	kt_loader_stats(ld, k);
	kt_recorder_counters(rec, &c);

#define COUNTER(name, help, v) do { kt_mbuf_help(&b, name, "counter", help); kt_mbuf_val(&b, name, NULL, (double)(v)); } while (0)
	COUNTER("kubetape_sessions_total", "Sessions the recorder opened since it started.", c.sessions);
	COUNTER("kubetape_commands_total", "Commands (execve) recorded since start.", c.commands);
	kt_mbuf_help(&b, "kubetape_bytes_recorded_total", "counter", "Terminal bytes recorded since start.");
	kt_mbuf_val(&b, "kubetape_bytes_recorded_total", "direction=\"out\"", (double)c.bytes_out);
	kt_mbuf_val(&b, "kubetape_bytes_recorded_total", "direction=\"in\"", (double)c.bytes_in);
	COUNTER("kubetape_events_total", "Ring buffer records read since start.", c.events);
	COUNTER("kubetape_bad_events_total", "Ring buffer records refused as malformed.", c.bad_events);
	COUNTER("kubetape_kernel_sessions_total", "Sessions the BPF programs detected (kernel counter).", k[KT_STAT_SESSIONS]);
	COUNTER("kubetape_ring_lost_events_total", "Events the kernel could not put in the ring buffer (kernel counter).", k[KT_STAT_LOST_EVENTS]);
	COUNTER("kubetape_ring_lost_bytes_total", "Terminal bytes lost to a full ring buffer (kernel counter).", k[KT_STAT_LOST_BYTES]);
	COUNTER("kubetape_ring_lost_session_starts_total", "Session starts lost (kernel counter).", k[KT_STAT_LOST_SESSION_EV]);
	COUNTER("kubetape_map_full_total", "Processes that could not join their session: map full (kernel counter).", k[KT_STAT_MAP_FULL]);
	COUNTER("kubetape_gaps_total", "Loss marks written into recordings.", c.gaps);
	kt_mbuf_help(&b, "kubetape_store_down", "gauge", "1 while writes to the store fail (outage: records wait in the rings).");
	kt_mbuf_val(&b, "kubetape_store_down", NULL, rec->store_down ? 1 : 0);
	COUNTER("kubetape_store_retries_total", "Store write retries during outages.", rec->down_retries);
	kt_mbuf_help(&b, "kubetape_store_down_seconds", "gauge", "How long the current store outage lasts (0: none).");
	kt_mbuf_val(&b, "kubetape_store_down_seconds", NULL,
		    rec->store_down && rec->down_since_us ? (double)(now - rec->down_since_us) / 1e6 : 0);
#undef COUNTER
	if (!b.oom)
		kt_metrics_publish(m->srv, b.p, b.len);
	kt_mbuf_free(&b);
}

void kt_rec_metrics_stop(struct kt_rec_metrics *m)
{
	if (!m)
		return;
	kt_metrics_stop(m->srv); /* joins the scrape thread: m->st is ours again */
	kt_store_close(m->st);
	free(m->db);
	free(m);
}
