/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plumbing shared by every `kubetape` command: exit codes, the command table
 * entry, option parsing that folds in the global options, opening the store
 * read-only and parsing session ids.
 *
 * A command is a `struct kt_cmd` (see commands.h) whose run() gets argv
 * starting at its own name and returns one of the KT_EXIT_* codes.  A command
 * parses its options with kt_cli_getopt(), which also accepts the global
 * options (--db, --log-level) and --help anywhere on the line, so
 * `kubetape --db X show 1` and `kubetape show 1 --db X` mean the same.
 */
#ifndef KUBETAPE_REPLAY_CLI_H
#define KUBETAPE_REPLAY_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

/* Documented in `kubetape --help` and replay/README.md; never renumber. */
enum kt_exit {
	KT_EXIT_OK = 0,
	KT_EXIT_RUNTIME = 1,   /* DB unreadable, I/O error, corrupt data */
	KT_EXIT_USAGE = 2,     /* bad flag, malformed filter, time or id */
	KT_EXIT_NOTFOUND = 3,  /* no session with that id */
	KT_EXIT_BROKEN = 4,    /* verify: tamper evidence does not hold */
};

struct kt_cli;

struct kt_cmd {
	const char *name;
	const char *summary;  /* one line for `kubetape --help` */
	int (*run)(struct kt_cli *cli, int argc, char **argv);
	void (*usage)(FILE *out); /* full --help text of the command */
};

struct kt_cli {
	const char *prog;          /* "kubetape" */
	const char *db_path;       /* --db, else $KUBETAPE_DB, else default */
	const struct kt_cmd *cmd;  /* command being run (for messages, --help) */
	struct kt_store *store;    /* opened lazily by kt_cli_store() */
	int argc;                  /* the command's arguments, for the access log */
	char **argv;
	/* kt_cli_getopt() state: command options merged with the global ones */
	const struct option *merged_for;
	struct option merged[96];
};

/*
 * Long-only option values.  Ranges keep the shared groups from colliding:
 * 0x100 global (cli.c), 0x200 session filters (filter.h), 0x300+ commands.
 */
enum {
	KT_OPT_GLOBAL_BASE = 0x100,
	KT_OPT_FILTER_BASE = 0x200,
	KT_OPT_CMD_BASE = 0x300,
};

/* kt_cli_getopt() results besides option characters and -1 (done). */
#define KT_OPT_HELP  (-2) /* usage printed to stdout: exit KT_EXIT_OK */
#define KT_OPT_ERROR (-3) /* one-line error logged: exit KT_EXIT_USAGE */

/*
 * getopt_long() over `longopts` plus the global options.  Global options are
 * handled here and never returned.  Unknown options and missing arguments
 * are logged as one line and reported as KT_OPT_ERROR.  Callers map both
 * negative results with kt_cli_opt_exit().  `longopts` may be NULL.
 * main() resets getopt (optind = 0) before it calls a command's run().
 * Options and operands may be mixed (GNU permutation); "--" ends options.
 */
int kt_cli_getopt(struct kt_cli *cli, int argc, char **argv,
		  const char *shortopts, const struct option *longopts);
static inline int kt_cli_opt_exit(int c)
{
	return c == KT_OPT_HELP ? KT_EXIT_OK : KT_EXIT_USAGE;
}

/* Logs "<cmd>: <message> (see 'kubetape <cmd> --help')"; returns KT_EXIT_USAGE. */
int kt_cli_usage_error(const struct kt_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Handles global options; returns 1 if `c` was one, 0 if not, <0 on error. */
int kt_cli_global_opt(struct kt_cli *cli, int c, const char *arg);
extern const struct option kt_cli_global_longopts[];

/* Opens cli->db_path read-only once.  Returns 0 or a negative errno (logged). */
int kt_cli_store(struct kt_cli *cli, struct kt_store **out);
void kt_cli_cleanup(struct kt_cli *cli);

/*
 * Session ids are positive decimal rowids: "42".  Rejects signs, spaces,
 * trailing garbage, 0 and anything above INT64_MAX.  Returns 0 or -EINVAL.
 */
int kt_parse_session_id(const char *s, int64_t *id);
/* Non-negative decimal <= max, same strictness.  0 or -EINVAL / -ERANGE. */
int kt_parse_uint(const char *s, uint64_t max, uint64_t *out);

/*
 * For a command whose only operand is a session ID, after its options: the
 * ID must be argv[optind] and nothing may follow.  KT_EXIT_OK, else
 * KT_EXIT_USAGE with the error logged (missing ID, unexpected argument).
 */
int kt_cli_session_operand(struct kt_cli *cli, int argc, char **argv);

/*
 * Parses `id_arg`, opens the store and fetches the session.  Returns an exit
 * code: KT_EXIT_OK with *out filled, else the failure already logged as one
 * line (bad id: KT_EXIT_USAGE, unknown id: KT_EXIT_NOTFOUND, DB: RUNTIME).
 */
int kt_cli_get_session(struct kt_cli *cli, const char *id_arg,
		       struct kt_session_info *out);

#endif
