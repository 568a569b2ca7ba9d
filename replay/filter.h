/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The session filter flags shared by every command that selects sessions
 * (sessions today; search and export later):
 *
 *   -n/--namespace NS  --pod POD  --container NAME  --node NODE
 *   --since TIME  --until TIME   (absolute, epoch seconds, or a duration ago)
 *   --active  --tty  --no-tty
 *
 * Use: put KT_FILTER_LONGOPTS in the command's option table and parse with
 * kt_filter_getopt() (or put KT_FILTER_SHORTOPTS in the short option string
 * and offer every option to kt_filter_opt()).
 */
#ifndef KUBETAPE_REPLAY_FILTER_H
#define KUBETAPE_REPLAY_FILTER_H

#include <stdio.h>

#include "cli.h"
#include "store.h"

enum {
	KT_OPT_NAMESPACE = 'n',
	KT_OPT_POD = KT_OPT_FILTER_BASE,
	KT_OPT_CONTAINER,
	KT_OPT_NODE,
	KT_OPT_SINCE,
	KT_OPT_UNTIL,
	KT_OPT_ACTIVE,
	KT_OPT_TTY,
	KT_OPT_NO_TTY,
};

#define KT_FILTER_SHORTOPTS "n:"
#define KT_FILTER_LONGOPTS \
	{ "namespace", required_argument, NULL, KT_OPT_NAMESPACE }, \
	{ "pod", required_argument, NULL, KT_OPT_POD }, \
	{ "container", required_argument, NULL, KT_OPT_CONTAINER }, \
	{ "node", required_argument, NULL, KT_OPT_NODE }, \
	{ "since", required_argument, NULL, KT_OPT_SINCE }, \
	{ "until", required_argument, NULL, KT_OPT_UNTIL }, \
	{ "active", no_argument, NULL, KT_OPT_ACTIVE }, \
	{ "tty", no_argument, NULL, KT_OPT_TTY }, \
	{ "no-tty", no_argument, NULL, KT_OPT_NO_TTY }

/* The --help lines for the flags above, for a command's usage(). */
void kt_filter_usage(FILE *out);

/* Resets to KT_SESSION_FILTER_INIT: matches every session. */
void kt_filter_init(struct kt_session_filter *f);

/*
 * Applies option `c` (with its argument) to `f`.  Returns 1 if `c` is a
 * filter option, 0 if it is not (the caller handles it), or -EINVAL after
 * logging one line (malformed value, contradictory flags).
 */
int kt_filter_opt(struct kt_cli *cli, struct kt_session_filter *f, int c,
		  const char *arg);

/*
 * kt_cli_getopt() for a command whose longopts hold KT_FILTER_LONGOPTS:
 * filter options are applied to `f` and not returned, so the result is the
 * command's next own option, -1 (done), or KT_OPT_HELP / KT_OPT_ERROR
 * (also after a malformed filter value) for kt_cli_opt_exit().
 */
int kt_filter_getopt(struct kt_cli *cli, int argc, char **argv,
		     const struct option *longopts, struct kt_session_filter *f);

/* Cross-flag checks after parsing (--since after --until).  0 or -EINVAL. */
int kt_filter_check(struct kt_cli *cli, const struct kt_session_filter *f);

#endif
