// SPDX-License-Identifier: Apache-2.0
/*
 * `kubetape prune` and `kubetape hold`: retention on the node store
 * (store/include/prune.h).  Both open the store read-write (without migrating:
 * the recorder does that) next to a running recorder; each session is
 * pruned in its own short transaction.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "evidence.h"
#include "evidence_cli.h"
#include "humanfmt.h"
#include "log.h"
#include "pg.h"
#include "prune.h"
#include "timefmt.h"

enum {
	OPT_OLDER = KT_OPT_CMD_BASE,
	OPT_MAXB,
	OPT_NS,
	OPT_DRY,
	OPT_VACUUM,
	OPT_RELEASE,
	OPT_LIST,
	OPT_REASON,
	OPT_SHIPPED,
	OPT_NODE,
	OPT_KEY,
};

static void who_am_i(char *buf, size_t len)
{
	const char *sudo = getenv("SUDO_USER");

	snprintf(buf, len, "uid %u%s%s", (unsigned)getuid(), sudo ? " via sudo from " : "",
		 sudo ? sudo : "");
}

static int open_rw(struct kt_cli *cli, struct kt_store **st)
{
	/* read-write, no migration: an older store waits for the recorder */
	return kt_store_open(cli->db_path, 0, st) ? KT_EXIT_RUNTIME : KT_EXIT_OK;
}

static void prune_usage(FILE *out)
{
	fputs("Usage: kubetape prune (--older-than DURATION | --max-bytes N)... [--namespace NS]\n"
	      "                      [--shipped-to CONNINFO [--node-name NAME]] [--key FILE]\n"
	      "                      [--dry-run] [--vacuum]\n"
	      "\n"
	      "Delete old sessions from the node store.  Never: active sessions, sessions\n"
	      "under a legal hold (kubetape hold), and sessions ended less than 10 minutes\n"
	      "ago whose screen index or compaction is not finished.  Every prune is\n"
	      "recorded (what, when, which rule, by whom) and signed into the node chain\n"
	      "with the node key, and the session's checkpoints stay, so `kubetape\n"
	      "verify` reports it as pruned, not as deleted.  Safe next to a running\n"
	      "recorder and readers.\n"
	      "\n"
	      "Options:\n"
	      "      --older-than D   sessions that ended more than D ago (30d, 12h, 90m)\n"
	      "      --max-bytes N    oldest first until the stored bytes (chunks and\n"
	      "                       keyframes of the sessions in scope) are <= N\n"
	      "      --namespace NS   only sessions of this Kubernetes namespace (the\n"
	      "                       budget is then the namespace's)\n"
	      "      --shipped-to CONNINFO\n"
	      "                       only sessions the cluster store holds complete\n"
	      "                       (kubetape ship; settled on the server for this node)\n"
	      "      --node-name NAME this node's name on the server (default: $NODE_NAME,\n"
	      "                       else the host name), as given to kubetape ship\n"
	      "      --key FILE       the node's signing key (default: node.key next to\n"
	      "                       the store, the recorder's); a signed store is not\n"
	      "                       pruned without it\n"
	      "      --dry-run        print what would be pruned, delete nothing\n"
	      "      --vacuum         then give the freed space back to the file system\n"
	      "                       (VACUUM the first time: the recorder waits for it)\n", out);
}

struct pctx {
	bool dry;
};

static int on_pruned(const struct kt_session_info *s, int64_t bytes, const char *rule, void *ctx)
{
	struct pctx *p = ctx;
	char when[TF_TIME_LEN];

	printf("%s %-6" PRId64 " %s/%s started %s, %" PRId64 " bytes (%s)\n",
	       p->dry ? "would prune" : "pruned", s->id, s->k8s_namespace, s->pod,
	       tf_format_time(s->start_us, when, sizeof(when)), bytes, rule);
	return 0;
}

static int prune_run(struct kt_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "older-than", required_argument, NULL, OPT_OLDER },
		{ "max-bytes", required_argument, NULL, OPT_MAXB },
		{ "namespace", required_argument, NULL, OPT_NS },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "vacuum", no_argument, NULL, OPT_VACUUM },
		{ "shipped-to", required_argument, NULL, OPT_SHIPPED },
		{ "node-name", required_argument, NULL, OPT_NODE },
		{ "key", required_argument, NULL, OPT_KEY },
		{ 0 },
	};
	struct kt_prune_rule r = { 0 };
	const char *key = NULL;
	char key_buf[4096];
	const char *shipped_to = NULL, *node = getenv("NODE_NAME");
	char host[256];
	int64_t *ids = NULL;
	size_t nids = 0;
	struct kt_prune_stats stats;
	struct kt_store *st = NULL;
	struct pctx p = { 0 };
	bool vacuum = false;
	char who[96];
	const char *why;
	int64_t freed = 0;
	uint64_t v;
	int c, err, ret;

	while ((c = kt_cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c < 0)
			return kt_cli_opt_exit(c);
		switch (c) {
		case OPT_OLDER:
			if (tf_parse_duration(optarg, &r.older_than_us, &why) || r.older_than_us <= 0)
				return kt_cli_usage_error(cli, "--older-than '%s': %s", optarg,
							  r.older_than_us <= 0 ? "must be > 0" : why);
			break;
		case OPT_MAXB:
			if (kt_parse_uint(optarg, INT64_MAX, &v) || !v)
				return kt_cli_usage_error(cli, "--max-bytes: a positive number of bytes, not '%s'", optarg);
			r.max_bytes = v;
			break;
		case OPT_NS:
			if (!*optarg)
				return kt_cli_usage_error(cli, "--namespace needs a name");
			r.k8s_namespace = optarg;
			break;
		case OPT_DRY: r.dry_run = p.dry = true; break;
		case OPT_SHIPPED: shipped_to = optarg; break;
		case OPT_NODE: node = optarg; break;
		case OPT_VACUUM: vacuum = true; break;
		case OPT_KEY: key = optarg; break;
		}
	}
	if (optind < argc)
		return kt_cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (r.older_than_us <= 0 && !r.max_bytes)
		return kt_cli_usage_error(cli, "give --older-than or --max-bytes (or both)");
	who_am_i(who, sizeof(who));
	r.who = who;
	if (shipped_to) {
		if (!node || !*node) {
			if (gethostname(host, sizeof(host)) < 0)
				return kt_cli_usage_error(cli, "--node-name is required (no host name)");
			host[sizeof(host) - 1] = 0;
			node = host;
		}
		if (kt_pg_shipped_sessions(shipped_to, node, &ids, &nids))
			return KT_EXIT_RUNTIME; /* said why */
		r.only_ids = ids;
		r.n_only_ids = nids;
		r.only_ids_set = true;
	}
	if (!r.dry_run) {
		/* the recorder's key; without one, an unsigned store prunes
		 * unsigned and a signed one refuses (kt_store_prune says so) */
		if (!key && kt_cli_key_path(cli, key_buf, sizeof(key_buf)) == 0 &&
		    access(key_buf, F_OK) == 0)
			key = key_buf;
		if (key && kt_signer_load(key, &r.signer)) {
			free(ids);
			return KT_EXIT_RUNTIME; /* said why */
		}
	}
	ret = r.dry_run ? (kt_store_open(cli->db_path, KT_STORE_RDONLY, &st) ? KT_EXIT_RUNTIME : 0)
			: open_rw(cli, &st);
	if (ret) {
		kt_signer_free(r.signer);
		free(ids);
		return ret;
	}
	ret = KT_EXIT_RUNTIME;
	err = kt_store_prune(st, &r, on_pruned, &p, &stats);
	if (err)
		goto cleanup; /* logged by the store */
	printf("%s %" PRId64 " sessions, %" PRId64 " bytes; exempt: %" PRId64 " held, %" PRId64
	       " active or not settled", r.dry_run ? "would prune" : "pruned", stats.sessions,
	       stats.bytes, stats.held, stats.active);
	if (shipped_to)
		printf(", %" PRId64 " not yet on the server", stats.unshipped);
	putchar('\n');
	if (r.max_bytes) {
		printf("stored bytes in scope: %" PRId64 " before, %" PRId64 " after (budget %" PRIu64 ")%s\n",
		       stats.total_before, stats.total_after, r.max_bytes,
		       (uint64_t)stats.total_after > r.max_bytes ? ": over budget, the rest is exempt" : "");
	}
	if (vacuum && !r.dry_run) {
		err = kt_store_reclaim(st, &freed);
		if (err)
			goto cleanup;
		if (freed >= 0)
			printf("vacuum: the file shrank by %" PRId64 " bytes\n", freed);
		else /* the first VACUUM also switches to incremental auto_vacuum */
			printf("vacuum: the file grew by %" PRId64 " bytes (little was free)\n", -freed);
	}
	ret = KT_EXIT_OK;
cleanup:
	kt_store_close(st);
	kt_signer_free(r.signer);
	free(ids);
	return ret;
}

const struct kt_cmd kt_cmd_prune = {
	.name = "prune",
	.summary = "delete old sessions (by age or size budget), never held or active ones",
	.run = prune_run,
	.usage = prune_usage,
};

static void hold_usage(FILE *out)
{
	fputs("Usage: kubetape hold ID [--reason TEXT]\n"
	      "       kubetape hold --release ID\n"
	      "       kubetape hold --list\n"
	      "\n"
	      "Put a session under a legal hold: `kubetape prune` never deletes it until\n"
	      "the hold is released.\n", out);
}

static int print_hold(const struct kt_hold *h, void *ctx)
{
	char when[TF_TIME_LEN];

	(void)ctx;
	printf("%-6" PRId64 " held since %s by %s%s%s (session %s)\n", h->session_id,
	       tf_format_time(h->ts_us, when, sizeof(when)), h->who, *h->reason ? ": " : "",
	       h->reason, h->uuid);
	return 0;
}

static int hold_run(struct kt_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "release", no_argument, NULL, OPT_RELEASE },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "reason", required_argument, NULL, OPT_REASON },
		{ 0 },
	};
	struct kt_store *st = NULL;
	bool release = false, list = false;
	const char *reason = "";
	char who[96];
	int64_t id = 0;
	int c, err, ret;

	while ((c = kt_cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c < 0)
			return kt_cli_opt_exit(c);
		if (c == OPT_RELEASE)
			release = true;
		else if (c == OPT_LIST)
			list = true;
		else if (c == OPT_REASON)
			reason = optarg;
	}
	if (list) {
		if (optind < argc || release)
			return kt_cli_usage_error(cli, "--list takes no ID");
		if (kt_store_open(cli->db_path, KT_STORE_RDONLY, &st))
			return KT_EXIT_RUNTIME;
		err = kt_store_holds_list(st, print_hold, NULL);
		kt_store_close(st);
		return err ? KT_EXIT_RUNTIME : KT_EXIT_OK;
	}
	if (kt_cli_session_operand(cli, argc, argv))
		return KT_EXIT_USAGE;
	if (kt_parse_session_id(argv[optind], &id))
		return kt_cli_usage_error(cli, "invalid session ID '%s'", argv[optind]);
	ret = open_rw(cli, &st);
	if (ret)
		return ret;
	who_am_i(who, sizeof(who));
	err = release ? kt_store_release(st, id) : kt_store_hold(st, id, who, reason);
	kt_store_close(st);
	if (err == -ENOENT) {
		pr_err("hold: session %" PRId64 " %s", id, release ? "is not held" : "does not exist");
		return KT_EXIT_NOTFOUND;
	}
	if (err == -EEXIST) {
		printf("session %" PRId64 " is already held\n", id);
		return KT_EXIT_OK;
	}
	if (err)
		return KT_EXIT_RUNTIME;
	printf("session %" PRId64 " %s\n", id, release ? "released" : "held");
	return KT_EXIT_OK;
}

const struct kt_cmd kt_cmd_hold = {
	.name = "hold",
	.summary = "put a session under a legal hold (or --release it, --list holds)",
	.run = hold_run,
	.usage = hold_usage,
};
