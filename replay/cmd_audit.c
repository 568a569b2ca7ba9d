// SPDX-License-Identifier: Apache-2.0
/*
 * `kubetape audit import|gaps|follow`: Kubernetes audit events into the
 * store and the findings of the join (store/audit.h).  import and follow
 * write (the store is opened read-write, created and migrated if needed);
 * they commit in small batches so the recorder, which writes the same file,
 * never waits long (SQLite has one writer at a time).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd_audit.h"
#include "commands.h"
#include "evidence_cli.h"
#include "humanfmt.h"
#include "identity.h"
#include "json_out.h"
#include "log.h"
#include "shquote.h"
#include "table.h"
#include "timefmt.h"

enum { OPT_JSON = KT_OPT_CMD_BASE, OPT_WINDOW, OPT_SINCE, OPT_UNTIL, OPT_STATE, OPT_ONCE, OPT_POLL };

static void usage(FILE *out)
{
	fputs("Usage: kubetape audit import FILE|-\n"
	      "       kubetape audit follow FILE [--once] [--poll-ms N]\n"
	      "       kubetape audit gaps [--since TIME] [--until TIME] [--window SECONDS] [--json]\n"
	      "\n"
	      "Who ran it: the Kubernetes API server's audit events (audit.k8s.io/v1) for\n"
	      "pods/exec and pods/attach, joined to the recorded sessions.\n"
	      "\n"
	      "  import FILE   store the exec/attach requests of FILE ('-': stdin): JSON lines\n"
	      "                (one Event per line, the log backend and managed-cluster\n"
	      "                exports) or one EventList / Event document.  Other events are\n"
	      "                skipped; a stage already stored is a duplicate (importing twice\n"
	      "                changes nothing).  A malformed line is reported with its number\n"
	      "                and skipped (exit 1 at the end); the good lines are kept.\n"
	      "  follow FILE   like tail -F: import lines as they are appended, across\n"
	      "                rotation (rename + new file, or truncation), resuming where it\n"
	      "                stopped (offset and inode kept in the store).  Runs until\n"
	      "                SIGTERM/SIGINT; --once imports what is there and exits.\n"
	      "  gaps          findings: exec requests the API server let through that have\n"
	      "                no recorded session (recorder down, evasion, a detection hole)\n"
	      "                and sessions with no exec request (entered from the node:\n"
	      "                nsenter, crictl, a runtime CLI).  Default range: the time the\n"
	      "                stored audit events cover, +- the window.  Attach requests are\n"
	      "                not listed: they join the container's own process, which is\n"
	      "                not a new session.\n"
	      "\n"
	      "Options:\n"
	      "      --window S   join window in seconds (default $" KT_AUDIT_WINDOW_ENV ", else 5):\n"
	      "                   how far a session start may be from the request's\n"
	      "                   ResponseStarted time (clock skew + kubelet/runtime delay)\n"
	      "      --json       gaps as {\"requests\": [...], \"sessions\": [...]}\n", out);
}

/* ---- import -------------------------------------------------------------- */

int kt_audit_open_rw(struct kt_cli *cli, struct kt_store **st)
{
	/* the store logs why (with the SQLite message) */
	return kt_store_open(cli->db_path, KT_STORE_CREATE, st);
}

int64_t kt_audit_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int kt_audit_lines(struct kt_store *st, const char *name, char *buf, size_t len,
		   uint64_t *lineno, struct kt_audit_ingest_stats *s, uint64_t *bad)
{
	size_t off = 0, in_batch = 0;
	char why[512];
	int err;

	err = kt_store_begin(st);
	if (err)
		return err;
	while (off < len) {
		char *nl = memchr(buf + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;

		(*lineno)++;
		err = kt_audit_ingest(st, buf + off, n, false, s, why, sizeof(why));
		if (err == -EINVAL) {
			/* why starts with "line 1: " (the parser saw one line) */
			const char *w = strncmp(why, "line 1: ", 8) ? why : why + 8;

			pr_err("%s:%llu: %s", name, (unsigned long long)*lineno, w);
			(*bad)++;
		} else if (err) {
			kt_store_commit(st);
			return err;
		}
		off += n + (nl ? 1 : 0);
		/* short transactions: the recorder writes this file too */
		if (++in_batch >= 500) {
			err = kt_store_commit(st);
			if (!err)
				err = kt_store_begin(st);
			if (err)
				return err;
			in_batch = 0;
		}
	}
	return kt_store_commit(st);
}

static void print_stats(const char *name, const struct kt_audit_ingest_stats *s, uint64_t bad,
			int64_t us)
{
	double secs = us > 0 ? us / 1e6 : 0;

	fprintf(stderr, "%s: %llu events: %llu exec/attach stages stored, %llu duplicates, %llu other "
		"events skipped, %llu malformed; %.3f s (%.0f events/s)\n", name,
		(unsigned long long)s->events, (unsigned long long)s->stored,
		(unsigned long long)s->duplicates, (unsigned long long)s->skipped,
		(unsigned long long)bad, secs, secs > 0 ? s->events / secs : 0.0);
}

static int cmd_import(struct kt_cli *cli, int argc, char **argv)
{
	struct kt_audit_ingest_stats s = { 0 };
	struct kt_store *st = NULL;
	const char *name;
	char *buf = NULL, why[512];
	size_t len = 0, first;
	uint64_t lineno = 0, bad = 0;
	int64_t t0;
	FILE *f;
	int c, err, ret = KT_EXIT_RUNTIME;

	while ((c = kt_cli_getopt(cli, argc, argv, "", NULL)) != -1)
		return kt_cli_opt_exit(c);
	if (optind >= argc)
		return kt_cli_usage_error(cli, "audit import: missing FILE ('-' for stdin)");
	if (optind + 1 < argc)
		return kt_cli_usage_error(cli, "audit import: unexpected argument '%s'", argv[optind + 1]);
	name = argv[optind];
	f = strcmp(name, "-") ? fopen(name, "rb") : stdin;
	if (!f) {
		pr_err("audit import: %s: %s", name, strerror(errno));
		return KT_EXIT_RUNTIME;
	}
	buf = kt_audit_slurp(f, &len);
	if (f != stdin)
		fclose(f);
	if (!buf) {
		pr_err("audit import: reading %s: %s", name, strerror(errno));
		return KT_EXIT_RUNTIME;
	}
	if (kt_audit_open_rw(cli, &st))
		goto out;
	t0 = kt_audit_now_us();
	/* JSON lines when the first non-blank line is a JSON value by itself;
	 * otherwise one document (a pretty-printed EventList) */
	first = strspn(buf, " \t\r\n");
	{
		const char *nl = memchr(buf + first, '\n', len - first);
		json_t *v = nl ? json_loadb(buf + first, (size_t)(nl - (buf + first)), 0, NULL) : NULL;

		if (v || !nl) {
			json_decref(v);
			err = kt_audit_lines(st, name, buf, len, &lineno, &s, &bad);
		} else {
			err = kt_audit_ingest(st, buf, len, false, &s, why, sizeof(why));
			if (err == -EINVAL) {
				pr_err("audit import: %s: %s (nothing stored)", name, why);
				bad++;
				err = 0;
			}
		}
	}
	if (err)
		goto out; /* logged by the store */
	print_stats(name, &s, bad, kt_audit_now_us() - t0);
	ret = bad ? KT_EXIT_RUNTIME : KT_EXIT_OK;
out:
	kt_store_close(st);
	free(buf);
	return ret;
}

char *kt_audit_slurp(FILE *f, size_t *len)
{
	size_t cap = 1 << 16, n = 0, r;
	char *buf = malloc(cap + 1), *nb;

	if (!buf)
		return NULL;
	while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				free(buf);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (ferror(f)) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* ---- gaps ------------------------------------------------------------------ */

struct gaps_out {
	bool json;
	struct tbl req, sess;
	json_t *jreq, *jsess;
	size_t nreq, nsess;
	int err;
};

static int gap_request(const struct kt_audit_request *r, void *ctx)
{
	struct gaps_out *g = ctx;
	char a[TF_TIME_LEN], w[600], *cmd = NULL;
	size_t clen = 0;
	FILE *m;
	int err = 0;

	g->nreq++;
	if (g->json)
		return json_array_append_new(g->jreq, ki_json_request(r)) ? -ENOMEM : 0;
	m = open_memstream(&cmd, &clen);
	if (!m)
		return -ENOMEM;
	shq_argv(m, r->argv, r->argv_len);
	fclose(m);
	err |= tbl_cell(&g->req, tf_format_time(r->started_us ? r->started_us : r->received_us, a, sizeof(a)));
	err |= tbl_cell(&g->req, ki_req_who(r, w, sizeof(w)));
	err |= tbl_cellf(&g->req, "%s/%s/%s", r->k8s_namespace, r->pod, r->container[0] ? r->container : "-");
	err |= tbl_cell(&g->req, cmd ? cmd : "");
	err |= tbl_cell(&g->req, r->source_ips);
	err |= tbl_cell(&g->req, r->audit_id);
	free(cmd);
	return err ? -ENOMEM : 0;
}

static int gap_session(const struct kt_session_info *s, void *ctx)
{
	struct gaps_out *g = ctx;
	char a[TF_TIME_LEN];
	int err = 0;

	g->nsess++;
	if (g->json)
		return json_array_append_new(g->jsess, jo_session(s)) ? -ENOMEM : 0;
	err |= tbl_cellf(&g->sess, "%lld", (long long)s->id);
	err |= tbl_cell(&g->sess, tf_format_time(s->start_us, a, sizeof(a)));
	err |= tbl_cellf(&g->sess, "%s/%s/%s", s->k8s_namespace[0] ? s->k8s_namespace : "-",
			 s->pod[0] ? s->pod : "-", s->container[0] ? s->container : "-");
	err |= tbl_cell(&g->sess, s->first_command[0] ? s->first_command : "-");
	return err ? -ENOMEM : 0;
}

static int cmd_gaps(struct kt_cli *cli, int argc, char **argv)
{
	static struct tbl_col rcols[] = {
		{ .header = "TIME", .align = TBL_LEFT },
		{ .header = "USER", .align = TBL_LEFT },
		{ .header = "NAMESPACE/POD/CONTAINER", .align = TBL_LEFT },
		{ .header = "COMMAND", .align = TBL_LEFT, .flex = true },
		{ .header = "SOURCE IPS", .align = TBL_LEFT },
		{ .header = "AUDIT ID", .align = TBL_LEFT },
	};
	static struct tbl_col scols[] = {
		{ .header = "ID", .align = TBL_RIGHT },
		{ .header = "START", .align = TBL_LEFT },
		{ .header = "NAMESPACE/POD/CONTAINER", .align = TBL_LEFT },
		{ .header = "FIRST COMMAND", .align = TBL_LEFT, .flex = true },
	};
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ 0 },
	};
	struct kt_audit_join_opts o;
	struct gaps_out g = { 0 };
	struct kt_store *st;
	int64_t since = 0, until = 0, first, last, w, now = kt_now_us();
	const char *why;
	int c, err, ret = KT_EXIT_RUNTIME;

	if (ki_join_opts(&o))
		return KT_EXIT_USAGE;
	while ((c = kt_cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c < 0)
			return kt_cli_opt_exit(c);
		switch (c) {
		case OPT_JSON:
			g.json = true;
			break;
		case OPT_WINDOW:
			if (ki_parse_window(optarg, &o.window_us))
				return kt_cli_usage_error(cli, "invalid --window '%s' (seconds, > 0)", optarg);
			break;
		case OPT_SINCE:
		case OPT_UNTIL:
			if (tf_parse_time(optarg, now, c == OPT_SINCE ? &since : &until, &why))
				return kt_cli_usage_error(cli, "invalid --%s '%s': %s",
							  c == OPT_SINCE ? "since" : "until", optarg, why);
			break;
		}
	}
	if (optind < argc)
		return kt_cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (kt_cli_store(cli, &st))
		return KT_EXIT_RUNTIME;
	/* it lists sessions and who ran them: a read, logged like sessions' */
	ret = kt_cli_access(cli, 0);
	if (ret)
		return ret;
	ret = KT_EXIT_RUNTIME;
	if (kt_audit_span(st, &first, &last))
		return KT_EXIT_RUNTIME;
	if (!first) {
		fprintf(stderr, "no audit events in this store: import them first (kubetape audit import)\n");
		if (g.json)
			printf("{\"requests\": [], \"sessions\": []}\n");
		return KT_EXIT_OK;
	}
	w = o.window_us ? o.window_us : KT_AUDIT_WINDOW_DEFAULT_US;
	if (!since)
		since = first - w;
	if (!until)
		until = last + w;
	tbl_init(&g.req, rcols, sizeof(rcols) / sizeof(rcols[0]));
	tbl_init(&g.sess, scols, sizeof(scols) / sizeof(scols[0]));
	if (g.json) {
		g.jreq = json_array();
		g.jsess = json_array();
		if (!g.jreq || !g.jsess)
			goto out;
	}
	err = kt_audit_gaps(st, &o, since, until, gap_request, gap_session, &g);
	if (err) {
		pr_err("audit gaps: %s", strerror(-err));
		goto out;
	}
	if (g.json) {
		json_t *root = json_pack("{sOsO}", "requests", g.jreq, "sessions", g.jsess);

		if (!root || jo_dump(root, stdout, true))
			goto out;
		fputc('\n', stdout);
		json_decref(root);
	} else {
		char a[TF_TIME_LEN], b[TF_TIME_LEN];

		printf("Audit gaps from %s to %s (join window %.1f s)\n\n", tf_format_time(since, a, sizeof(a)),
		       tf_format_time(until, b, sizeof(b)), w / 1e6);
		printf("Exec requests with no recorded session: %zu\n", g.nreq);
		if (g.nreq && tbl_print(&g.req, stdout, tbl_term_width(STDOUT_FILENO), false))
			goto out;
		printf("\nSessions with no exec request: %zu\n", g.nsess);
		if (g.nsess && tbl_print(&g.sess, stdout, tbl_term_width(STDOUT_FILENO), false))
			goto out;
	}
	ret = KT_EXIT_OK;
out:
	json_decref(g.jreq);
	json_decref(g.jsess);
	tbl_free(&g.req);
	tbl_free(&g.sess);
	return ret;
}

static int run(struct kt_cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		usage(sub ? stdout : stderr);
		return sub ? KT_EXIT_OK : KT_EXIT_USAGE;
	}
	if (!strcmp(sub, "import"))
		return cmd_import(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "gaps"))
		return cmd_gaps(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "follow"))
		return kt_audit_follow(cli, argc - 1, argv + 1);
	return kt_cli_usage_error(cli, "unknown audit command '%s' (import, follow, gaps)", sub);
}

const struct kt_cmd kt_cmd_audit = {
	.name = "audit",
	.summary = "Kubernetes audit events: import, follow, gaps (who ran it)",
	.run = run,
	.usage = usage,
};
