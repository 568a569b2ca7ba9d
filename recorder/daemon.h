// SPDX-License-Identifier: Apache-2.0
/*
 * kubetape-recorder's daemon: set-up (store, key, BPF, indexer, metrics),
 * the drain loop until SIGTERM/SIGINT, and teardown; also the one-shot
 * modes (--unpin, --print-pubkey, the indexer worker).
 */
#ifndef KT_REC_DAEMON_H
#define KT_REC_DAEMON_H

#include "options.h"

/* Runs what *o asks; returns the process exit status (0, 1 runtime error,
 * 2 usage error), having said why. */
int kt_rec_daemon_run(const struct kt_rec_opts *o);

#endif
