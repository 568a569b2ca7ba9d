// SPDX-License-Identifier: Apache-2.0
/* `kubetape access-log`: who read what, and when. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "commands.h"
#include "evidence_cli.h"
#include "humanfmt.h"
#include "json_out.h"
#include "timefmt.h"
#include "log.h"

enum { OPT_JSON = KT_OPT_CMD_BASE, OPT_SESSION, OPT_LIMIT };

static void usage(FILE *out)
{
	fputs("Usage: kubetape access-log [--session ID] [--limit N] [--json]\n"
	      "\n"
	      "Every view, replay, export, search and verify through the CLI or the\n"
	      "web, newest first: when, who (uid, or the web identity), what, which\n"
	      "session and the arguments.  Listing the log is not logged.\n"
	      "\n"
	      "Options:\n"
	      "      --session ID   only reads of this session\n"
	      "      --limit N      at most N entries (default 100; 0 = all)\n"
	      "      --json         a JSON array\n", out);
}

struct actx {
	bool json;
	size_t n;
};

static int one(const struct kt_access_entry *e, void *ctx)
{
	struct actx *a = ctx;
	char t[TF_TIME_LEN];
	const char *w = e->who ? e->who : "", *d = e->detail ? e->detail : "";

	tf_format_time(e->ts_us, t, sizeof(t));
	if (a->json) {
		json_t *j = json_pack("{s:I, s:s, s:I, s:s, s:s, s:s}", "id", (json_int_t)e->id, "time", t,
				      "session", (json_int_t)e->session_id, "who", w,
				      "action", e->action ? e->action : "", "detail", d);

		return jo_array_item(j, a->n++, stdout);
	}
	a->n++;
	{
		char sw[512], sd[2048], sid[24] = "-";

		if (e->session_id)
			snprintf(sid, sizeof(sid), "%" PRId64, e->session_id);
		printf("%-25s  %-10s %-7s %-40s %s\n", t, e->action ? e->action : "", sid,
		       hf_sanitize(w, strnlen(w, 120), sw, sizeof(sw)),
		       hf_sanitize(d, strnlen(d, 500), sd, sizeof(sd)));
	}
	return 0;
}

static int run(struct kt_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "session", required_argument, NULL, OPT_SESSION },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ 0 },
	};
	struct actx a = { 0 };
	int64_t sid = 0;
	uint64_t limit = 100;
	struct kt_store *st;
	int c, err;

	while ((c = kt_cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c < 0)
			return kt_cli_opt_exit(c);
		if (c == OPT_JSON)
			a.json = true;
		else if (c == OPT_SESSION && kt_parse_session_id(optarg, &sid))
			return kt_cli_usage_error(cli, "invalid session ID '%s'", optarg);
		else if (c == OPT_LIMIT && kt_parse_uint(optarg, 1000000000, &limit))
			return kt_cli_usage_error(cli, "--limit: '%s' is not a number", optarg);
	}
	if (optind < argc)
		return kt_cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (kt_cli_store(cli, &st))
		return KT_EXIT_RUNTIME;
	if (!a.json)
		printf("%-25s  %-10s %-7s %-40s %s\n", "TIME", "ACTION", "SESSION", "WHO", "ARGUMENTS");
	err = kt_access_list(st, sid, 0, (int)limit, one, &a);
	if (a.json)
		jo_array_end(a.n, stdout);
	return err ? KT_EXIT_RUNTIME : KT_EXIT_OK;
}

const struct kt_cmd kt_cmd_access_log = {
	.name = "access-log",
	.summary = "who viewed, replayed, exported or searched what, and when",
	.run = run,
	.usage = usage,
};
