// SPDX-License-Identifier: Apache-2.0
/*
 * `kubetape search QUERY`: which sessions ran a command, or showed some
 * text on screen.  Commands are matched on their argv
 * (kt_store_commands_search), screen text on what the terminal displayed
 * (kt_store_screen_search: lines as they scrolled off and the final screen,
 * rendered by the store's terminal model, so colour codes or backspace
 * editing do not break a match).  The query is user text handed to the
 * store unchanged; the store treats it as words, never as SQL or FTS syntax.
 *
 * Limits: only output the store has indexed is searchable (the recorder
 * indexes in the background); a note on stderr says how many sessions are
 * behind.  Hits come newest first per kind, commands before screen lines.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evidence_cli.h"
#include "commands.h"
#include "filter.h"
#include "humanfmt.h"
#include "json_out.h"
#include "log.h"
#include "searchfmt.h"

#define QUERY_MAX 1024 /* the store's limit, checked here for a clear message */
#define DEFAULT_LIMIT 1000

enum { OPT_JSON = KT_OPT_CMD_BASE, OPT_LIMIT, OPT_IN };
enum { IN_COMMANDS = 1, IN_SCREEN = 2, IN_ALL = 3 };

static void usage(FILE *out)
{
	fputs("Usage: kubetape search QUERY... [FILTERS] [--in commands|screen|all]\n"
	      "                       [--json] [--limit N]\n"
	      "\n"
	      "Find sessions by what was run or shown.  QUERY is plain words (several\n"
	      "operands are joined by spaces): a hit contains every word, as a substring,\n"
	      "ignoring ASCII case.  Quotes, *, %, AND/OR/NOT are ordinary characters.\n"
	      "\n"
	      "  commands  argv of every exec in a session: \"passwd\" finds cat /etc/passwd\n"
	      "  screen    what the terminal displayed, as rendered (colours, cursor\n"
	      "            movement and backspace editing do not break a match): lines\n"
	      "            as they scrolled off the screen and the session's final screen.\n"
	      "            Only output the recorder has indexed is searchable.\n"
	      "\n"
	      "Each hit: SESSION, OFFSET from the session start (+MM:SS.mmm; replay it\n"
	      "with 'kubetape replay ID --from OFFSET'), NAMESPACE/POD, IN (command,\n"
	      "screen, final screen) and MATCH: the command line quoted for a shell, or\n"
	      "the screen line.\n"
	      "\n", out);
	kt_filter_usage(out);
	fputs("\n"
	      "Options:\n"
	      "      --in WHERE       commands, screen or all (default all)\n"
	      "      --json           a JSON array, one object per hit\n"
	      "      --limit N        at most N hits in all, commands first (default 1000;\n"
	      "                       0 = all)\n", out);
}

struct search_ctx {
	bool json;
	struct tbl tbl;
	size_t n;          /* hits printed or buffered */
	int err;
};

static int add_hit(struct search_ctx *x, const struct sf_hit *h)
{
	if (!x->json) {
		x->err = sf_add_row(&x->tbl, h);
		if (x->err)
			pr_err("search: out of memory");
	} else {
		/* streamed: hits are not held */
		x->err = jo_array_item(sf_json(h), x->n, stdout);
		if (x->err == -ENOMEM)
			pr_err("search: out of memory");
	}
	x->n++;
	return x->err ? 1 : 0;
}

static int on_command(const struct kt_session_info *s, const struct kt_command *c, void *ctx)
{
	struct sf_hit h = { .kind = SF_COMMAND, .s = s, .ts_us = c->ts_us, .c = c };

	return add_hit(ctx, &h);
}

static int on_screen(const struct kt_session_info *s, const struct kt_screen_hit *sh, void *ctx)
{
	struct sf_hit h = {
		.kind = SF_SCREEN, .s = s, .ts_us = sh->ts_us, .text = sh->text,
		.line_id = sh->id, .final = sh->final,
	};

	return add_hit(ctx, &h);
}

static int count_pending(int64_t id, void *ctx)
{
	(void)id;
	(*(size_t *)ctx)++;
	return 0;
}

/* The query as the store gets it: operands joined by one space.  The
 * checks duplicate the store's so the user gets a sentence, not -EINVAL. */
static int make_query(struct kt_cli *cli, int argc, char **argv, char **out)
{
	size_t len = 0, o = 0;
	char *q;
	bool blank = true;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if (len - 1 > QUERY_MAX)
		return kt_cli_usage_error(cli, "query too long (%zu bytes; at most %d)", len - 1, QUERY_MAX);
	q = malloc(len);
	if (!q) {
		pr_err("search: out of memory");
		return KT_EXIT_RUNTIME;
	}
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);

		memcpy(q + o, argv[i], n);
		o += n;
		q[o++] = i + 1 < argc ? ' ' : 0;
	}
	for (size_t i = 0; i < o - 1;) {
		size_t l = hf_utf8_len((const unsigned char *)q + i, o - 1 - i);

		/* C1 controls are valid UTF-8 that hf_utf8_len refuses */
		if (!l && (unsigned char)q[i] == 0xc2 && i + 1 < o - 1 &&
		    ((unsigned char)q[i + 1] & 0xe0) == 0x80)
			l = 2;
		if (!l) {
			unsigned char bad = (unsigned char)q[i];

			free(q);
			return kt_cli_usage_error(cli, "query is not valid UTF-8 (byte 0x%02x at %zu)",
						  bad, i);
		}
		if (l > 1 || (q[i] != ' ' && q[i] != '\t' && q[i] != '\n' && q[i] != '\r' &&
			      q[i] != '\v' && q[i] != '\f'))
			blank = false;
		i += l;
	}
	if (blank) {
		free(q);
		return kt_cli_usage_error(cli, "empty query");
	}
	*out = q;
	return KT_EXIT_OK;
}

static int run(struct kt_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		KT_FILTER_LONGOPTS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "in", required_argument, NULL, OPT_IN },
		{ 0 },
	};
	struct kt_session_filter f;
	struct search_ctx x = { 0 };
	struct kt_store *st;
	char *query = NULL;
	/* A common word over a million commands has tens of thousands of hits:
	 * an auditor reads the newest first and asks for more explicitly. */
	uint64_t limit = DEFAULT_LIMIT;
	int in = IN_ALL, c, err, ret = KT_EXIT_RUNTIME;

	kt_filter_init(&f);
	while ((c = kt_filter_getopt(cli, argc, argv, opts, &f)) != -1) {
		if (c < 0)
			return kt_cli_opt_exit(c);
		switch (c) {
		case OPT_JSON:
			x.json = true;
			break;
		case OPT_LIMIT:
			if (kt_parse_uint(optarg, INT32_MAX, &limit))
				return kt_cli_usage_error(cli, "invalid --limit '%s' (0 for all, or a positive integer)", optarg);
			break;
		case OPT_IN:
			if (strcmp(optarg, "commands") == 0)
				in = IN_COMMANDS;
			else if (strcmp(optarg, "screen") == 0)
				in = IN_SCREEN;
			else if (strcmp(optarg, "all") == 0)
				in = IN_ALL;
			else
				return kt_cli_usage_error(cli, "invalid --in '%s' (commands, screen or all)", optarg);
			break;
		default:
			return kt_cli_usage_error(cli, "unhandled option");
		}
	}
	if (optind >= argc)
		return kt_cli_usage_error(cli, "missing QUERY");
	if (kt_filter_check(cli, &f))
		return KT_EXIT_USAGE;
	ret = make_query(cli, argc - optind, argv + optind, &query);
	if (ret)
		return ret;
	ret = KT_EXIT_RUNTIME;
	if (kt_cli_store(cli, &st))
		goto cleanup;
	ret = kt_cli_access(cli, 0);
	if (ret)
		goto cleanup;
	ret = KT_EXIT_RUNTIME;

	tbl_init(&x.tbl, sf_cols, SF_NCOLS);
	if (in & IN_COMMANDS) {
		f.limit = (int)limit;
		err = kt_store_commands_search(st, query, &f, on_command, &x);
		if (err < 0 || x.err)
			goto cleanup; /* logged by the store or add_hit */
	}
	if ((in & IN_SCREEN) && (!limit || x.n < limit)) {
		size_t pending = 0;

		f.limit = limit ? (int)(limit - x.n) : 0;
		err = kt_store_screen_search(st, query, &f, on_screen, &x);
		if (err < 0 || x.err)
			goto cleanup;
		/* an empty answer must not look like "never displayed" */
		if (kt_index_pending(st, count_pending, &pending) == 0 && pending)
			fprintf(stderr, "note: %zu session(s) not fully indexed yet: their latest "
				"screen text is not searchable\n", pending);
	}

	if (limit && x.n >= limit)
		fprintf(stderr, "note: showing the first %llu hits (commands newest first, then screen "
			"text); --limit 0 shows all\n", (unsigned long long)limit);
	if (x.json) {
		jo_array_end(x.n, stdout);
	} else if (!x.n) {
		fprintf(stderr, "no match\n");
	} else if (tbl_print(&x.tbl, stdout, tbl_term_width(STDOUT_FILENO),
			     tbl_use_color(STDOUT_FILENO))) {
		goto cleanup;
	}
	ret = KT_EXIT_OK;
cleanup:
	tbl_free(&x.tbl);
	free(query);
	return ret;
}

const struct kt_cmd kt_cmd_search = {
	.name = "search",
	.summary = "find sessions by command (argv) or by text shown on screen",
	.run = run,
	.usage = usage,
};
