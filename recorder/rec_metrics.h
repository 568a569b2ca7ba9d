/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The recorder's Prometheus metrics (--metrics-listen, store/include/metrics.h).
 * The main loop hands over a counter snapshot once a second
 * (kt_rec_metrics_tick: memcpy under a mutex plus one read of the kernel's
 * stats map); everything that needs the store is computed on the scrape
 * thread with its own read-only connection, never on the capture path.
 */
#ifndef KUBETAPE_REC_METRICS_H
#define KUBETAPE_REC_METRICS_H

struct kt_rec_metrics;
struct kt_loader;
struct kt_recorder;

int kt_rec_metrics_start(const char *addr, const char *db, struct kt_rec_metrics **out);
void kt_rec_metrics_tick(struct kt_rec_metrics *m, struct kt_loader *ld, struct kt_recorder *rec);
void kt_rec_metrics_stop(struct kt_rec_metrics *m);

#endif
