// SPDX-License-Identifier: Apache-2.0
/* Shared command plumbing: global options, store access, id parsing. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "evidence_cli.h"
#include "log.h"

enum {
	OPT_DB = KT_OPT_GLOBAL_BASE,
	OPT_LOG_LEVEL,
	OPT_HELP,
};

const struct option kt_cli_global_longopts[] = {
	{ "db", required_argument, NULL, OPT_DB },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, OPT_HELP },
	{ 0 },
};

int kt_cli_usage_error(const struct kt_cli *cli, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* user text is quoted in msg: keep the error on one line */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (cli && cli->cmd)
		pr_err("%s: %s (see '%s %s --help')", cli->cmd->name, msg,
		       cli->prog, cli->cmd->name);
	else
		pr_err("%s (see '%s --help')", msg, cli ? cli->prog : "kubetape");
	return KT_EXIT_USAGE;
}

int kt_cli_global_opt(struct kt_cli *cli, int c, const char *arg)
{
	int lvl;

	switch (c) {
	case OPT_DB:
		if (!arg || !*arg) {
			kt_cli_usage_error(cli, "--db needs a path");
			return -EINVAL;
		}
		cli->db_path = arg;
		return 1;
	case OPT_LOG_LEVEL:
		lvl = kt_log_parse_level(arg);
		if (lvl < 0) {
			kt_cli_usage_error(cli, "invalid --log-level '%s' (error, warn, info, debug)", arg);
			return -EINVAL;
		}
		kt_log_init(NULL, (enum kt_log_level)lvl);
		return 1;
	default:
		return 0;
	}
}

static size_t opt_count(const struct option *o)
{
	size_t n = 0;

	while (o && o[n].name)
		n++;
	return n;
}

/* Merged once per longopts table; commands parse one table per process. */
static int merge_longopts(struct kt_cli *cli, const struct option *longopts)
{
	size_t nc = opt_count(longopts), ng = opt_count(kt_cli_global_longopts);
	const size_t cap = sizeof(cli->merged) / sizeof(cli->merged[0]);

	if (cli->merged_for == longopts && cli->merged[0].name)
		return 0;
	if (nc + ng + 1 > cap) {
		pr_err("internal: too many options for %s", cli->cmd ? cli->cmd->name : "kubetape");
		return -E2BIG;
	}
	/* the command's own options first so it may shadow a global name */
	if (nc)
		memcpy(cli->merged, longopts, nc * sizeof(*longopts));
	memcpy(cli->merged + nc, kt_cli_global_longopts, ng * sizeof(*longopts));
	memset(&cli->merged[nc + ng], 0, sizeof(cli->merged[0]));
	cli->merged_for = longopts;
	return 0;
}

/* The option getopt just complained about, as the user typed it.  A short
 * option is named by optopt (it may sit inside a cluster like -xv); a long
 * one only by argv[optind - 1]. */
static const char *opt_name(char **argv, int opt, char *buf, size_t len)
{
	const char *arg = optind > 0 ? argv[optind - 1] : NULL;

	if (opt > 0 && opt < 0x100)
		snprintf(buf, len, "-%c", opt);
	else if (arg)
		snprintf(buf, len, "%.*s", (int)strcspn(arg, "="), arg);
	else
		snprintf(buf, len, "?");
	return buf;
}

int kt_cli_getopt(struct kt_cli *cli, int argc, char **argv,
		  const char *shortopts, const struct option *longopts)
{
	char sopts[128], buf[64];
	int c, err;

	if (merge_longopts(cli, longopts))
		return KT_OPT_ERROR;
	/* ':' first: report a missing argument as ':' instead of '?'; 'h' is
	 * --help for every command. */
	shortopts = shortopts ? shortopts : "";
	/* glibc wants a '+'/'-' ordering flag before the ':' */
	if (*shortopts == '+' || *shortopts == '-')
		snprintf(sopts, sizeof(sopts), "%c:%sh", *shortopts, shortopts + 1);
	else
		snprintf(sopts, sizeof(sopts), ":%sh", shortopts);
	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, sopts, cli->merged, NULL);
		switch (c) {
		case 'h':
		case OPT_HELP:
			if (cli->cmd && cli->cmd->usage)
				cli->cmd->usage(stdout);
			return KT_OPT_HELP;
		case '?':
			kt_cli_usage_error(cli, "unknown option '%s'", opt_name(argv, optopt, buf, sizeof(buf)));
			return KT_OPT_ERROR;
		case ':':
			kt_cli_usage_error(cli, "option '%s' needs a value", opt_name(argv, optopt, buf, sizeof(buf)));
			return KT_OPT_ERROR;
		default:
			err = kt_cli_global_opt(cli, c, optarg);
			if (err < 0)
				return KT_OPT_ERROR;
			if (err == 0)
				return c;
		}
	}
}

int kt_cli_store(struct kt_cli *cli, struct kt_store **out)
{
	int err;

	if (!cli->store) {
		/* the store logs the reason (with the SQLite message) itself */
		err = kt_store_open(cli->db_path, KT_STORE_RDONLY, &cli->store);
		if (err) {
			cli->store = NULL;
			return err;
		}
	}
	*out = cli->store;
	return 0;
}

void kt_cli_cleanup(struct kt_cli *cli)
{
	if (!cli)
		return;
	kt_store_close(cli->store);
	cli->store = NULL;
}

int kt_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int kt_parse_session_id(const char *s, int64_t *id)
{
	uint64_t v;

	if (kt_parse_uint(s, INT64_MAX, &v) || v == 0)
		return -EINVAL;
	*id = (int64_t)v;
	return 0;
}

int kt_cli_session_operand(struct kt_cli *cli, int argc, char **argv)
{
	if (optind >= argc)
		return kt_cli_usage_error(cli, "missing session ID");
	if (optind + 1 < argc)
		return kt_cli_usage_error(cli, "unexpected argument '%s'", argv[optind + 1]);
	return KT_EXIT_OK;
}

int kt_cli_get_session(struct kt_cli *cli, const char *id_arg,
		       struct kt_session_info *out)
{
	struct kt_store *st;
	int64_t id;
	int err;

	const char *colon = id_arg ? strrchr(id_arg, ':') : NULL;
	char node[256];
	int64_t nid;

	if (!id_arg)
		return kt_cli_usage_error(cli, "missing session ID");
	/* NODE:ID, the session's id on the node that recorded it (show prints
	 * it on the cluster store) */
	if (colon && (colon == id_arg || (size_t)(colon - id_arg) >= sizeof(node) ||
		      kt_parse_session_id(colon + 1, &nid)))
		return kt_cli_usage_error(cli, "invalid session ID '%s' (ID, or NODE:ID with the node's own ID)", id_arg);
	if (!colon && kt_parse_session_id(id_arg, &id))
		return kt_cli_usage_error(cli, "invalid session ID '%s' (a positive integer, as listed by 'sessions')", id_arg);
	err = kt_cli_store(cli, &st);
	if (err)
		return KT_EXIT_RUNTIME;
	if (colon) {
		snprintf(node, sizeof(node), "%.*s", (int)(colon - id_arg), id_arg);
		err = kt_store_session_find(st, node, nid, &id);
		if (err == -ENOENT) {
			pr_err("%s: no session %s in %s", cli->cmd ? cli->cmd->name : "kubetape",
			       id_arg, cli->db_path);
			return KT_EXIT_NOTFOUND;
		}
		if (err)
			return KT_EXIT_RUNTIME;
	}
	err = kt_store_session_get(st, id, out);
	if (err == -ENOENT) {
		pr_err("%s: no session %lld in %s", cli->cmd ? cli->cmd->name : "kubetape",
		       (long long)id, cli->db_path);
		return KT_EXIT_NOTFOUND;
	}
	if (err)
		return KT_EXIT_RUNTIME; /* logged by the store */
	/* every read of a session (show, cat, export, replay) is logged first */
	return kt_cli_access(cli, id);
}
