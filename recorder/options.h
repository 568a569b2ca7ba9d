// SPDX-License-Identifier: Apache-2.0
/*
 * kubetape-recorder's command line: parsing it into one struct, so the
 * daemon (recorder/daemon.c) starts from plain values.
 */
#ifndef KT_REC_OPTIONS_H
#define KT_REC_OPTIONS_H

#include <stdbool.h>

#include "attrib.h"
#include "loader.h"
#include "sessions.h"

struct kt_rec_opts {
	struct kt_loader_opts lo;
	struct kt_recorder_opts ro;	/* .attrib, .redact, .signer set by the daemon */
	struct kt_attrib_config ac;
	const char *db, *stats_file, *metrics_addr;
	const char *pin_dir;		/* NULL: --pin-dir none */
	const char *redact_path, *key_path;
	bool index, worker, unpin, print_pubkey;
	int life_fd;			/* --worker-lifeline (internal) */
	long worker_ppid;		/* --worker-parent (internal) */
	long nice_val;
};

/* Parse argv into *o (defaults for what is not given).  Returns 0 to run,
 * KT_REC_OPTS_HELP when --help was printed (exit 0), or -EINVAL on a usage
 * error, already said on stderr (exit 2). */
#define KT_REC_OPTS_HELP 1
int kt_rec_opts_parse(int argc, char **argv, struct kt_rec_opts *o);

#endif
