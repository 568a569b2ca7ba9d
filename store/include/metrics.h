/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Prometheus scrape endpoint (text exposition format 0.0.4) for the
 * recorder and `kubetape ship`: one thread that answers `GET /metrics`
 * with the last text the owner published.  The owner builds the text on
 * its own thread (kt_metrics_publish copies it under a mutex), so a slow or
 * hostile scraper never touches the capture path: the server thread reads
 * one request with a 2 s timeout, answers, closes.
 *
 * Loopback addresses only (127.0.0.0/8, ::1): the counters say what is
 * being recorded (sessions, bytes) and the endpoint has no authentication;
 * scrape it from the node (a sidecar, or hostNetwork scrapers) or put
 * kube-rbac-proxy in front.
 */
#ifndef KUBETAPE_STORE_METRICS_H
#define KUBETAPE_STORE_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct kt_metrics;

struct kt_metrics_buf;
/* Called on the server thread for each scrape, after the published text:
 * appends what is computed at scrape time (store queries on a connection
 * of the callback's own). */
typedef void (*kt_metrics_render_cb)(void *ctx, struct kt_metrics_buf *b);

/* "127.0.0.1:9321" or "[::1]:9321".  -EINVAL (logged) for a malformed or
 * non-loopback address, -errno for bind/listen failures.  render may be
 * NULL. */
int kt_metrics_start(const char *addr, kt_metrics_render_cb render, void *ctx,
		     struct kt_metrics **out);
/* Replace the text served (copied). */
void kt_metrics_publish(struct kt_metrics *m, const char *text, size_t len);
void kt_metrics_stop(struct kt_metrics *m);

/* Append "name{labels} value\n" (and # HELP/# TYPE when help is not NULL)
 * to a growing buffer; keeps going silently once out of memory (the
 * length is then 0). */
struct kt_metrics_buf {
	char *p;
	size_t len, cap;
	int oom;
};
void kt_mbuf_help(struct kt_metrics_buf *b, const char *name, const char *type, const char *help);
void kt_mbuf_val(struct kt_metrics_buf *b, const char *name, const char *labels, double v);
void kt_mbuf_free(struct kt_metrics_buf *b);

/* Store figures for the metrics (store/metrics_store.c): a few indexed or
 * column-only scans, for a scrape thread's own connection. */
struct kt_store;
struct kt_store_gauges {
	int64_t sessions, sessions_active;
	int64_t raw_chunks, oldest_raw_us;  /* chunks waiting for compaction */
};
int kt_store_gauges(struct kt_store *st, struct kt_store_gauges *g);

#endif
