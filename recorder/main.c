// SPDX-License-Identifier: Apache-2.0
/*
 * kubetape-recorder: the node daemon.  The command line is parsed in
 * recorder/options.c, the daemon itself (set-up, drain loop, teardown) is
 * recorder/daemon.c.
 */
#include "daemon.h"
#include "log.h"
#include "options.h"

int main(int argc, char **argv)
{
	struct kt_rec_opts opts;
	int err;

	kt_log_init("kubetape-recorder", KT_LOG_INFO);
	err = kt_rec_opts_parse(argc, argv, &opts);
	if (err)
		return err == KT_REC_OPTS_HELP ? 0 : 2;
	return kt_rec_daemon_run(&opts);
}
