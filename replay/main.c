// SPDX-License-Identifier: Apache-2.0
/*
 * kubetape: the auditors' CLI over a kubetape store.
 *
 * main() only parses the global options that come before the command name,
 * finds the command in the table and hands it the rest of argv; commands
 * accept the global options too (kt_cli_getopt), wherever they appear.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "log.h"
#include "reader.h"

static const struct kt_cmd *const commands[] = {
	&kt_cmd_sessions,
	&kt_cmd_show,
	&kt_cmd_cat,
	&kt_cmd_export,
	&kt_cmd_search,
	&kt_cmd_replay,
	&kt_cmd_verify,
	&kt_cmd_access_log,
	&kt_cmd_audit,
	&kt_cmd_ship,
	&kt_cmd_prune,
	&kt_cmd_hold,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: kubetape [--db PATH] [--log-level LEVEL] COMMAND [ARGS...]\n"
		"\n"
		"Read terminal sessions recorded by kubetape-recorder.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out,
		"\n"
		"Global options (before or after COMMAND):\n"
		"  --db PATH          store to read (default: $" KT_DB_ENV ", else\n"
		"                     " KT_DEFAULT_DB_PATH "); opened read-only, safe\n"
		"                     while the recorder writes; or the cluster store,\n"
		"                     postgresql://USER@HOST/DB (store/FORMAT-pg.md;\n"
		"                     password from PGPASSWORD, never in the URL)\n"
		"  --log-level LEVEL  error, warn (default), info or debug\n"
		"  -h, --help         this help; 'kubetape COMMAND --help' for a command\n"
		"\n"
		"Exit status:\n"
		"  0  success\n"
		"  1  runtime error (store unreadable or corrupt, output not writable)\n"
		"  2  usage error (unknown option, malformed filter, time or session ID)\n"
		"  3  not found (no session with that ID)\n"
		"  4  verify: a session or the node chain is broken\n"
		"\n"
		"Every read of recorded data (show, cat, export, replay, search,\n"
		"sessions) is written to the store's access log first\n"
		"('kubetape access-log'); a read that cannot be logged is refused.\n");
}

static const struct kt_cmd *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option top_opts[] = { { 0 } };
	struct kt_cli cli = { .prog = "kubetape" };
	int c, ret;

	kt_log_init("kubetape", KT_LOG_WARN);
	cli.db_path = kt_store_default_path();

	/* "+": stop at the command name; its options are its own to parse */
	while ((c = kt_cli_getopt(&cli, argc, argv, "+", top_opts)) != -1) {
		if (c == KT_OPT_HELP) { /* no command yet: the top-level help */
			usage(stdout);
			return KT_EXIT_OK;
		}
		if (c < 0)
			return KT_EXIT_USAGE;
		return kt_cli_usage_error(&cli, "unknown option '%s'", argv[optind - 1]);
	}
	if (optind >= argc) {
		usage(stderr);
		return KT_EXIT_USAGE;
	}
	cli.cmd = find_command(argv[optind]);
	if (!cli.cmd) {
		if (strcmp(argv[optind], "help") == 0) {
			usage(stdout);
			return KT_EXIT_OK;
		}
		return kt_cli_usage_error(&cli, "unknown command '%s'", argv[optind]);
	}
	argv += optind;
	argc -= optind;
	optind = 0; /* full getopt reset for the command's parse */
	cli.argc = argc;
	cli.argv = argv;
	ret = cli.cmd->run(&cli, argc, argv);
	kt_cli_cleanup(&cli);
	if (fflush(stdout) && ret == KT_EXIT_OK) {
		pr_err("%s: writing output: %s", cli.cmd->name, strerror(errno));
		ret = KT_EXIT_RUNTIME;
	}
	return ret;
}
