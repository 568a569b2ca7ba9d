// SPDX-License-Identifier: Apache-2.0
/* `kubetape verify [ID...|--all]`: is the recording what the recorder signed? */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "evidence_cli.h"
#include "humanfmt.h"
#include "log.h"
#include "prune.h"
#include "timefmt.h"

enum { OPT_ALL = KT_OPT_CMD_BASE, OPT_PUBKEY, OPT_HEAD, OPT_STATS };

static void usage(FILE *out)
{
	fputs("Usage: kubetape verify (ID... | --all) [--pubkey FILE] [--head FILE]\n"
	      "\n"
	      "Check sessions against the node's signed hash chain: every frame is\n"
	      "rehashed in order and compared with the signed checkpoints; the\n"
	      "session's metadata, commands, exit codes and end are compared with\n"
	      "the signed stream; the node-wide chain of checkpoints shows deleted\n"
	      "sessions or checkpoints.  One line per session:\n"
	      "  verified        every frame signed, final checkpoint present\n"
	      "  unsigned tail   a signed prefix verifies; later frames are not signed\n"
	      "                  yet (active session, or the recorder was killed)\n"
	      "  unsigned        no checkpoint (recorded before signing, or too new)\n"
	      "  BROKEN          what does not match: which chunk, command, checkpoint\n"
	      "\n"
	      "Options:\n"
	      "      --all            every session in the store\n"
	      "      --pubkey FILE    the node's public key (kubetape-recorder\n"
	      "                       --print-pubkey); default node.key.pub next to the\n"
	      "                       store, else the key recorded in the store (weaker:\n"
	      "                       whoever edits the store can replace it)\n"
	      "      --head FILE      the node chain's head file; default node.key.head\n"
	      "                       next to the store when readable (detects a deleted\n"
	      "                       tail of the chain)\n"
	      "      --stats          print the time spent and bytes hashed\n"
	      "\n"
	      "Exit status 4 when anything is broken.\n", out);
}

struct vctx {
	struct kt_cli *cli;
	const uint8_t *pk;
	int broken, n;
	uint64_t bytes;
};

static int verify_one(struct vctx *v, int64_t id)
{
	struct kt_verify_result r;
	struct kt_store *st;
	int err;

	err = kt_cli_store(v->cli, &st);
	if (err)
		return KT_EXIT_RUNTIME;
	err = kt_verify_session(st, id, v->pk, 0, &r);
	if (err == -ENOENT) {
		struct kt_prune_record pr;
		char when[64];

		err = kt_verify_pruned(st, v->pk, id, &pr);
		if (err == -EBADMSG) {
			printf("%-6lld BROKEN         not in the store; its prune record (rule '%s') is not signed into the node chain: deleted\n",
			       (long long)id, pr.rule);
			v->broken++;
			return KT_EXIT_OK;
		}
		if (err == 0) {
			/* its place in the node chain is checked by kt_verify_node */
			tf_format_time(pr.ts_us, when, sizeof(when));
			printf("%-6lld pruned         by rule '%s' at %s (session %s)\n", (long long)id,
			       pr.rule, when, pr.uuid);
			return KT_EXIT_OK;
		}
		printf("%-6lld BROKEN         no such session (deleted?)\n", (long long)id);
		v->broken++;
		return KT_EXIT_OK;
	}
	if (err)
		return KT_EXIT_RUNTIME;
	v->n++;
	v->bytes += r.bytes;
	if (r.state == KT_VERIFY_BROKEN) {
		char safe[sizeof(r.why) * 4 + 1];

		v->broken++;
		printf("%-6lld BROKEN         %s\n", (long long)id,
		       hf_sanitize(r.why, strlen(r.why), safe, sizeof(safe)));
	} else if (r.state == KT_VERIFY_UNSIGNED_TAIL) {
		printf("%-6lld unsigned tail  frames 0..%" PRIu64 " signed (%u checkpoints); %" PRIu64 " later frames not signed%s\n",
		       (long long)id, r.frames_signed ? r.frames_signed - 1 : 0, r.checkpoints,
		       r.frames - r.frames_signed, r.final ? "" : ", no final checkpoint");
	} else if (r.state == KT_VERIFY_UNSIGNED) {
		printf("%-6lld unsigned       no checkpoint (%" PRIu64 " frames)\n", (long long)id, r.frames);
	} else {
		printf("%-6lld verified       %" PRIu64 " frames, %u checkpoints\n", (long long)id, r.frames,
		       r.checkpoints);
	}
	return KT_EXIT_OK;
}

static int each_session(const struct kt_session_info *s, void *ctx)
{
	return verify_one(ctx, s->id) ? -EIO : 0;
}

static void node_problem(const char *p, void *ctx)
{
	struct vctx *v = ctx;
	char safe[2048];

	printf("node   BROKEN         %s\n", hf_sanitize(p, strlen(p), safe, sizeof(safe)));
	v->broken++;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run(struct kt_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, OPT_ALL },
		{ "pubkey", required_argument, NULL, OPT_PUBKEY },
		{ "head", required_argument, NULL, OPT_HEAD },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ 0 },
	};
	struct vctx v = { .cli = cli };
	const char *pub_path = NULL, *head = NULL;
	bool all = false, have, trusted, stats = false;
	uint8_t pk[KT_PK_LEN];
	struct kt_store *st;
	char head_buf[4096];
	int64_t ncp = 0;
	double t0;
	int c, ret, n;

	while ((c = kt_cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c < 0)
			return kt_cli_opt_exit(c);
		if (c == OPT_ALL)
			all = true;
		else if (c == OPT_PUBKEY)
			pub_path = optarg;
		else if (c == OPT_HEAD)
			head = optarg;
		else if (c == OPT_STATS)
			stats = true;
	}
	if (all == (optind < argc))
		return kt_cli_usage_error(cli, "give session IDs or --all");
	for (int i = optind; i < argc; i++) {
		int64_t id;

		if (kt_parse_session_id(argv[i], &id))
			return kt_cli_usage_error(cli, "invalid session ID '%s'", argv[i]);
	}
	if (kt_cli_store(cli, &st))
		return KT_EXIT_RUNTIME;
	if (kt_cli_pubkey(cli, pub_path, pk, &have, &trusted))
		return KT_EXIT_RUNTIME;
	if (!have)
		pr_warn("verify: no public key (none given, none next to the store or in it): signatures cannot be checked");
	else if (!trusted)
		pr_warn("verify: using the public key recorded in the store itself; pass --pubkey FILE (kubetape-recorder --print-pubkey) for a check a store editor cannot defeat");
	v.pk = have ? pk : NULL;
	if (!head)
		head = kt_cli_head_path(cli, head_buf, sizeof(head_buf));
	if (!head)
		pr_warn("verify: no readable chain head file next to the store (--head): a deleted tail of the node chain is not detected");
	ret = kt_cli_access(cli, 0);
	if (ret)
		return ret;

	t0 = now_s();
	if (all) {
		struct kt_session_filter f = KT_SESSION_FILTER_INIT;

		if (kt_store_sessions_list(st, &f, each_session, &v))
			return KT_EXIT_RUNTIME;
	} else {
		for (int i = optind; i < argc; i++) {
			int64_t id;

			kt_parse_session_id(argv[i], &id);
			ret = verify_one(&v, id);
			if (ret)
				return ret;
		}
	}
	n = kt_verify_node(st, v.pk, head, node_problem, &v, &ncp);
	if (n < 0)
		return KT_EXIT_RUNTIME;
	if (n == 0)
		printf("node   %s %" PRId64 " checkpoints, linked and signed%s\n",
		       ncp ? "verified      " : "unsigned      ", ncp,
		       head ? ", reaching the head file" : "");
	if (stats) {
		double dt = now_s() - t0;

		printf("# verify: %d sessions, %.1f MiB of frames hashed in %.1f ms: %.2f ms/MiB, %.2f ms/session\n",
		       v.n, v.bytes / 1048576.0, dt * 1e3, v.bytes ? dt * 1e3 / (v.bytes / 1048576.0) : 0,
		       v.n ? dt * 1e3 / v.n : 0);
	}
	return v.broken ? KT_EXIT_BROKEN : KT_EXIT_OK;
}

const struct kt_cmd kt_cmd_verify = {
	.name = "verify",
	.summary = "check sessions against the node's signed hash chain",
	.run = run,
	.usage = usage,
};
