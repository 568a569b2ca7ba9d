// SPDX-License-Identifier: Apache-2.0
/*
 * `kubetape sessions`: list recorded sessions, newest start first (ties by
 * id), on a node's store and on the cluster store alike: the server's gids
 * follow shipping order, not start time, so ordering by id there would
 * interleave nodes at random.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "filter.h"
#include "humanfmt.h"
#include "identity.h"
#include "json_out.h"
#include "evidence_cli.h"
#include "log.h"
#include "table.h"
#include "timefmt.h"
#include "satint.h"

enum { OPT_JSON = KT_OPT_CMD_BASE, OPT_LIMIT, OPT_USER, OPT_GROUP };

static void usage(FILE *out)
{
	fputs("Usage: kubetape sessions [FILTERS] [--user NAME] [--group NAME] [--json] [--limit N]\n"
	      "\n"
	      "List recorded sessions, newest start first.  Times are UTC.\n"
	      "\n"
	      "Columns: ID, START, DURATION ('active' while recorded), NODE (the recorder's\n"
	      "--node-name), NAMESPACE/POD/CONTAINER\n"
	      "('?' = pod guessed from the hostname), FIRST COMMAND (clipped to the\n"
	      "terminal), BYTES (terminal output + input), EXIT (code or signal of the\n"
	      "session's first process), STATE (active, ended, interrupted = the recorder\n"
	      "stopped while it was open), LOST (shown only when the recorder dropped data:\n"
	      "the recording is incomplete).  When the store holds audit events\n"
	      "(kubetape audit import): USER, the Kubernetes user joined to the session\n"
	      "(the impersonated user first: the human behind a proxy), and JOIN, how sure\n"
	      "that is: exact, matched, ambiguous (candidates: see show), none.\n"
	      "\n", out);
	kt_filter_usage(out);
	fputs("      --user NAME      sessions joined to requests of user NAME (user or\n"
	      "                       impersonated user; ambiguous joins included, marked)\n"
	      "      --group NAME     sessions joined to requests of a member of group NAME\n"
	      "\n"
	      "Output:\n"
	      "      --json           a JSON array, one object per session with every\n"
	      "                       stored field\n"
	      "      --limit N        at most N sessions\n", out);
}

enum col { C_ID, C_START, C_DUR, C_NODE, C_WHO, C_USER, C_JOIN, C_CMD, C_BYTES, C_EXIT, C_STATE, C_LOST, C_N };

struct list_ctx {
	struct kt_cli *cli;
	bool json;
	struct tbl tbl;
	size_t n;
	bool any_guess, any_lost, any_node, any_it, any_late;
	int err;
	/* identity: computed when the store holds audit requests */
	bool audit;
	const char *user, *group;
	struct kt_audit_join_opts jo;
	struct kt_audit_identity *id;
	struct kt_store *st;
	size_t limit;
};

static int add_row(struct list_ctx *x, const struct kt_session_info *s)
{
	char a[TF_TIME_LEN], b[64];
	const char *ns = s->k8s_namespace[0] ? s->k8s_namespace : "-";
	const char *pod = s->pod[0] ? s->pod : "-";
	const char *ctr = s->container[0] ? s->container : "-";
	struct tbl *t = &x->tbl;
	int err = 0;

	err |= tbl_cellf(t, "%lld", (long long)s->id);
	err |= tbl_cell(t, tf_format_time(s->start_us, a, sizeof(a)));
	if (s->state == KT_SESSION_ACTIVE)
		err |= tbl_cell(t, "active");
	else if (s->end_us >= s->start_us && s->end_us > 0)
		err |= tbl_cell(t, tf_format_duration(kt_sub_sat(s->end_us, s->start_us), b, sizeof(b)));
	else
		err |= tbl_cell(t, "-");
	err |= tbl_cell(t, s->node[0] ? s->node : "-");
	if (!s->k8s_namespace[0] && !s->pod[0] && !s->container[0])
		err |= tbl_cell(t, "-");
	else
		err |= tbl_cellf(t, "%s/%s/%s%s%s%s", ns, pod, ctr, s->attribution_guess ? "?" : "",
				 s->entry_flags & KT_SESSION_F_FROM_NODE ? " (node)" :
				 s->entry_flags & KT_SESSION_F_INTERACTIVE ? " (it)" : "",
				 s->entry_flags & KT_SESSION_F_LATE ? " (late)" : "");
	if (x->audit) {
		char w[600];

		err |= tbl_cell(t, ki_who(x->id, w, sizeof(w)));
		err |= tbl_cell(t, kt_audit_tier_name(x->id->tier));
		if (x->id->tier == KT_TIER_NONE || x->id->tier == KT_TIER_AMBIGUOUS)
			tbl_alert_last(t);
	} else {
		err |= tbl_cell(t, "");
		err |= tbl_cell(t, "");
	}
	err |= tbl_cell(t, s->first_command[0] ? s->first_command : "-");
	err |= tbl_cell(t, hf_bytes(s->bytes_out + s->bytes_in, b, sizeof(b)));
	err |= tbl_cell(t, hf_exit(s->has_exit, s->exit_status, b, sizeof(b)));
	err |= tbl_cell(t, kt_session_state_name(s->state));
	if (s->lost_bytes)
		err |= tbl_cellf(t, "%s!", hf_bytes(s->lost_bytes, b, sizeof(b)));
	else if (s->lost_events)
		err |= tbl_cellf(t, "%llu ev!", (unsigned long long)s->lost_events);
	else
		err |= tbl_cell(t, "");
	if (s->lost_bytes || s->lost_events) {
		tbl_alert_last(t);
		x->any_lost = true;
	}
	x->any_guess |= s->attribution_guess;
	x->any_node |= s->entry_flags & KT_SESSION_F_FROM_NODE;
	x->any_it |= s->entry_flags & KT_SESSION_F_INTERACTIVE;
	x->any_late |= s->entry_flags & KT_SESSION_F_LATE;
	return err ? -ENOMEM : 0;
}

static int on_session(const struct kt_session_info *s, void *ctx)
{
	struct list_ctx *x = ctx;

	if (x->audit) {
		x->err = kt_audit_session_identity(x->st, s, &x->jo, x->id);
		if (x->err)
			return 1;
		if (!kt_audit_identity_has(x->id, x->user, x->group))
			return 0;
	}
	if (!x->json) {
		x->err = add_row(x, s);
		if (x->err)
			pr_err("sessions: out of memory");
	} else {
		/* streamed: the array can be larger than memory allows */
		json_t *j = jo_session(s);

		if (j && x->audit && json_object_set_new(j, "identity", ki_json_identity(x->id))) {
			json_decref(j);
			j = NULL;
		}
		/* signatures and coverage only: a listing must stay fast
		 * (kubetape verify rehashes the frames).  A verification
		 * that could not run (the server went away mid-list, a
		 * read error) ends the listing: a null in its place would
		 * read as "nothing to verify" for a row that may well
		 * have evidence; the array stays unterminated, so no
		 * consumer takes the part for the whole. */
		if (j) {
			json_t *v = kt_cli_verification_json(x->cli, s->id, KT_VERIFY_QUICK, NULL);

			if (!v) {
				pr_err("sessions: cannot check the evidence of session %lld (the "
				       "error above): the listing stops", (long long)s->id);
				json_decref(j);
				x->err = -EIO;
				return 1;
			}
			json_object_set_new(j, "verification", v);
		}
		x->err = jo_array_item(j, x->n, stdout);
		if (x->err == -ENOMEM)
			pr_err("sessions: out of memory encoding session %lld", (long long)s->id);
	}
	x->n++;
	if (x->limit && x->n >= x->limit)
		return 1;
	return x->err ? 1 : 0;
}

static int run(struct kt_cli *cli, int argc, char **argv)
{
	static struct tbl_col cols[C_N] = {
		[C_ID] = { .header = "ID", .align = TBL_RIGHT },
		[C_START] = { .header = "START", .align = TBL_LEFT },
		[C_DUR] = { .header = "DURATION", .align = TBL_RIGHT },
		[C_NODE] = { .header = "NODE", .align = TBL_LEFT },
		[C_WHO] = { .header = "NAMESPACE/POD/CONTAINER", .align = TBL_LEFT },
		[C_USER] = { .header = "USER", .align = TBL_LEFT },
		[C_JOIN] = { .header = "JOIN", .align = TBL_LEFT },
		[C_CMD] = { .header = "FIRST COMMAND", .align = TBL_LEFT, .flex = true },
		[C_BYTES] = { .header = "BYTES", .align = TBL_RIGHT },
		[C_EXIT] = { .header = "EXIT", .align = TBL_RIGHT },
		[C_STATE] = { .header = "STATE", .align = TBL_LEFT },
		[C_LOST] = { .header = "LOST", .align = TBL_RIGHT },
	};
	static const struct option opts[] = {
		KT_FILTER_LONGOPTS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "user", required_argument, NULL, OPT_USER },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ 0 },
	};
	struct kt_session_filter f;
	struct list_ctx x = { 0 };
	struct kt_store *st;
	uint64_t limit;
	int c, err, ret = KT_EXIT_RUNTIME;

	kt_filter_init(&f);
	f.by_start = true;
	while ((c = kt_filter_getopt(cli, argc, argv, opts, &f)) != -1) {
		if (c < 0)
			return kt_cli_opt_exit(c);
		switch (c) {
		case OPT_JSON:
			x.json = true;
			break;
		case OPT_LIMIT:
			if (kt_parse_uint(optarg, INT32_MAX, &limit) || !limit)
				return kt_cli_usage_error(cli, "invalid --limit '%s' (a positive integer)", optarg);
			f.limit = (int)limit;
			break;
		case OPT_USER:
		case OPT_GROUP:
			if (!*optarg)
				return kt_cli_usage_error(cli, "--%s needs a name", c == OPT_USER ? "user" : "group");
			*(c == OPT_USER ? &x.user : &x.group) = optarg;
			break;
		default:
			return kt_cli_usage_error(cli, "unhandled option");
		}
	}
	if (optind < argc)
		return kt_cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (kt_filter_check(cli, &f))
		return KT_EXIT_USAGE;
	if (kt_cli_store(cli, &st))
		return KT_EXIT_RUNTIME;
	ret = kt_cli_access(cli, 0);
	if (ret)
		return ret;
	ret = KT_EXIT_RUNTIME;
	x.cli = cli;

	if (ki_join_opts(&x.jo))
		return KT_EXIT_USAGE;
	x.st = st;
	x.audit = ki_have_audit(st);
	if ((x.user || x.group) && !x.audit) {
		fprintf(stderr, "no audit events in this store: --user/--group need them (kubetape audit import)\n");
		if (x.json)
			jo_array_end(0, stdout);
		return KT_EXIT_OK;
	}
	if (x.audit) {
		x.id = malloc(sizeof(*x.id));
		if (!x.id) {
			pr_err("sessions: out of memory");
			return KT_EXIT_RUNTIME;
		}
		/* the store's limit counts sessions before the user filter */
		if (x.user || x.group) {
			x.limit = (size_t)f.limit;
			f.limit = 0;
		}
	}
	cols[C_USER].hidden = cols[C_JOIN].hidden = !x.audit;
	tbl_init(&x.tbl, cols, C_N);
	err = kt_store_sessions_list(st, &f, on_session, &x);
	if (err < 0 || x.err)
		goto cleanup; /* logged by the store or on_session */

	if (x.json) {
		jo_array_end(x.n, stdout);
	} else if (!x.n) {
		/* stderr: an empty result must not look like a table to scripts */
		fprintf(stderr, "no sessions match\n");
	} else {
		cols[C_LOST].hidden = !x.any_lost;
		if (tbl_print(&x.tbl, stdout, tbl_term_width(STDOUT_FILENO),
			      tbl_use_color(STDOUT_FILENO)))
			goto cleanup;
		if (x.any_guess)
			printf("? = pod guessed from the session's hostname (no runtime state)\n");
		if (x.any_node)
			printf("(node) = entered the container's namespaces from the node (nsenter), not through its runtime\n");
		if (x.any_it)
			printf("(it) = an interactive container: the container's own process on its terminal\n");
		if (x.any_late)
			printf("(late) = recording started late: the session was running when the recorder started; only what came after is recorded\n");
		if (x.any_lost)
			printf("! = the recorder lost data in these sessions: their recordings are incomplete\n");
	}
	ret = KT_EXIT_OK;
cleanup:
	free(x.id);
	tbl_free(&x.tbl);
	return ret;
}

const struct kt_cmd kt_cmd_sessions = {
	.name = "sessions",
	.summary = "list recorded sessions, newest start first (filters, --json)",
	.run = run,
	.usage = usage,
};
