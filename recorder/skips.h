/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs of the recorder's BPF programs the kernel skipped (recursion_misses)
 * made visible: a log line once per change and a node-level counter in the
 * store (store/skipped.c), so no skipped run is ever silent.
 */
#ifndef KUBETAPE_SKIPS_H
#define KUBETAPE_SKIPS_H

#include <stdint.h>
#include "loader.h"
#include "store.h"

struct kt_skips;

int kt_skips_new(struct kt_skips **out);
void kt_skips_free(struct kt_skips *sk);
/* Read the programs' counts (at most once a second unless `force`); log
 * and store what is new.  Call with no store transaction open. */
void kt_skips_check(struct kt_skips *sk, struct kt_loader *ld, struct kt_store *st,
		    int64_t now_us, bool force);
/* Skipped runs this process counted into the store; the kernel's total now. */
uint64_t kt_skips_counted(const struct kt_skips *sk);
uint64_t kt_skips_kernel_total(const struct kt_skips *sk);

#endif
