// SPDX-License-Identifier: Apache-2.0
/* `kubetape show ID`: a session's metadata and its command timeline. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmdtree.h"
#include "commands.h"
#include "humanfmt.h"
#include "evidence_cli.h"
#include "identity.h"
#include "json_out.h"
#include "log.h"
#include "shquote.h"
#include "table.h"
#include "timefmt.h"
#include "satint.h"

enum { OPT_JSON = KT_OPT_CMD_BASE };

static void usage(FILE *out)
{
	fputs("Usage: kubetape show ID [--json]\n"
	      "\n"
	      "ID as listed by 'sessions', or NODE:ID (the session's id on the node\n"
	      "that recorded it; on the cluster store, NODE is its shipping name).\n"
	      "\n"
	      "Show one session: who (namespace, pod, container, node), when, how it\n"
	      "ended, its terminal and what the recorder lost, then every command it ran.\n"
	      "\n"
	      "Command timeline columns: OFFSET from the session start, PID and PPID\n"
	      "(host pids), UID (euid when it differs), EXIT (code or signal), DURATION,\n"
	      "CWD and COMMAND: argv quoted for a POSIX shell, indented under the\n"
	      "command of its parent process.\n"
	      "\n"
	      "Kubernetes user: the exec request of the API server's audit log joined to\n"
	      "the session (kubetape audit import): user, impersonated user, groups, source\n"
	      "IPs, user agent and the join tier: exact (admission webhook id), matched\n"
	      "(the only request with this pod, container and command within the window,\n"
	      "$" KT_AUDIT_WINDOW_ENV " seconds, default 5), ambiguous (candidates listed)\n"
	      "or none (no request: entered from the node?).\n"
	      "\n"
	      "Options:\n"
	      "      --json   one JSON object: {\"session\": {...}, \"commands\": [...],\n"
	      "               \"identity\": {\"tier\", \"user\", \"request\", \"candidates\", ...}}\n", out);
}

static void kv(const char *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void kv(const char *k, const char *fmt, ...)
{
	char *v = NULL, *safe;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&v, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* values include recorded names: never let them reach the tty raw */
	safe = malloc((size_t)n * 4 + 1);
	if (safe)
		printf("  %-14s %s\n", k, hf_sanitize(v, (size_t)n, safe, (size_t)n * 4 + 1));
	free(safe);
	free(v);
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static void print_session(const struct kt_session_info *s, int64_t now_us)
{
	char a[TF_TIME_LEN], b[64], c[64];

	printf("Session %lld (%s)\n", (long long)s->id, kt_session_state_name(s->state));
	kv("UUID", "%s", or_dash(s->uuid));
	kv("Node", "%s", or_dash(s->node));
	kv("Namespace", "%s", or_dash(s->k8s_namespace));
	kv("Pod", "%s%s", or_dash(s->pod), s->attribution_guess ? " (guessed from hostname)" : "");
	kv("Pod UID", "%s", or_dash(s->pod_uid));
	kv("Container", "%s", or_dash(s->container));
	kv("Container ID", "%s", or_dash(s->container_id));
	kv("Runtime", "%s", or_dash(s->runtime));
	kv("Entry", "%s", s->entry_flags & KT_SESSION_F_FROM_NODE ?
	   "entered from the node (nsenter or another setns), not through the runtime" :
	   s->entry_flags & KT_SESSION_F_INTERACTIVE ?
	   "interactive container: the container's own process on its terminal" :
	   "exec into the running container");
	if (s->entry_flags) {
		char f[128];

		kv("Flags", "%s", kt_session_flags_str(s->entry_flags, f, sizeof(f)));
	}
	if (s->entry_flags & KT_SESSION_F_LATE)
		kv("Recorded from", "%s: recording started late (the session was running when "
		   "the recorder started with no kernel state to adopt); nothing before is recorded",
		   tf_format_time(s->start_us, a, sizeof(a)));
	kv("Hostname", "%s", or_dash(s->hostname));
	kv("Cgroup", "%s (id %llu)", or_dash(s->cgroup_path), (unsigned long long)s->cgroup_id);
	kv("Namespaces", "pid %u, mnt %u", s->pidns_ino, s->mntns_ino);
	kv("Leader", "pid %u (%u in its pid namespace), uid %u, gid %u, comm %s",
	   s->leader_pid, s->leader_ns_pid, s->leader_uid, s->leader_gid, or_dash(s->leader_comm));
	kv("Start", "%s", tf_format_time(s->start_us, a, sizeof(a)));
	if (s->state == KT_SESSION_ACTIVE) {
		kv("End", "- (active)");
		kv("Duration", "%s so far", tf_format_duration(kt_sub_sat(now_us, s->start_us), b, sizeof(b)));
	} else {
		kv("End", "%s%s", s->end_us ? tf_format_time(s->end_us, a, sizeof(a)) : "-",
		   s->state == KT_SESSION_INTERRUPTED ? " (recorder stopped; the session may have gone on)" : "");
		kv("Duration", "%s", s->end_us ? tf_format_duration(kt_sub_sat(s->end_us, s->start_us), b, sizeof(b)) : "-");
	}
	kv("Exit", "%s", hf_exit(s->has_exit, s->exit_status, b, sizeof(b)));
	if (s->has_tty)
		kv("TTY", "%s, %ux%u (cols x rows) at start", or_dash(s->tty_name), s->cols, s->rows);
	else
		kv("TTY", "none (no terminal: output may be partial)");
	kv("Capture", "%s", or_dash(s->capture));
	kv("Bytes", "out %s (%llu), in %s (%llu)", hf_bytes(s->bytes_out, b, sizeof(b)),
	   (unsigned long long)s->bytes_out, hf_bytes(s->bytes_in, c, sizeof(c)),
	   (unsigned long long)s->bytes_in);
	if (s->lost_bytes || s->lost_events)
		kv("LOST", "%llu bytes in %llu events: THE RECORDING IS INCOMPLETE",
		   (unsigned long long)s->lost_bytes, (unsigned long long)s->lost_events);
	else
		kv("Lost", "nothing");
	kv("Commands", "%u", s->n_commands);
}

/* Runs the kernel skipped on this node while the session was open (see
 * jo_skipped_overlaps): loss no session can be charged with. */
/* On the cluster store: which node shipped it, under which id there. */
static void print_origin(struct kt_store *st, const struct kt_session_info *s)
{
	char node[256];
	int64_t id;

	if (kt_store_session_origin(st, s->id, node, sizeof(node), &id) == 1)
		kv("Shipped from", "%s, session %lld there (also: kubetape show %s:%lld)", node,
		   (long long)id, node, (long long)id);
}

static void print_skipped(struct kt_store *st, const struct kt_session_info *s, int64_t now_us)
{
	char a[TF_TIME_LEN], b[TF_TIME_LEN];
	struct kt_skipped k;
	int err = kt_store_skipped_get(st, &k);

	if (err == -EOPNOTSUPP) {
		/* a node's count, in its meta: not shipped (FORMAT-pg.md) */
		kv("Skipped runs", "not known on the cluster store: the node counts runs its kernel "
		   "skipped in its own store (kubetape --db NODE.db show ID)");
		return;
	}
	if (err || !jo_skipped_overlaps(&k, s, now_us))
		return;
	kv("SKIPPED", "the kernel skipped %llu runs of the recorder's programs on this node "
	   "(recursion_misses, counted %s .. %s); they cannot be attributed to a session: "
	   "THIS RECORDING MAY MISS DATA", (unsigned long long)k.runs,
	   tf_format_time(k.first_us, a, sizeof(a)), tf_format_time(k.last_us, b, sizeof(b)));
}

static int print_identity(struct kt_store *st, const struct kt_session_info *s)
{
	struct kt_audit_join_opts o;
	struct kt_audit_identity *id;
	int err;

	if (!ki_have_audit(st)) {
		printf("\nKubernetes user: unknown (no audit events in this store: kubetape audit import)\n");
		return 0;
	}
	err = ki_join_opts(&o);
	if (err)
		return err;
	id = malloc(sizeof(*id));
	if (!id)
		return -ENOMEM;
	err = kt_audit_session_identity(st, s, &o, id);
	if (!err)
		ki_print_identity(stdout, id);
	free(id);
	return err;
}

static char *argv_text(const struct kt_cmdrec *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (int i = 0; i < r->depth; i++)
		fputs(i + 1 == r->depth ? " \\_ " : "    ", f);
	if (r->c.argv_len)
		shq_argv(f, r->c.argv, r->c.argv_len);
	else /* no argv recorded: the exec'd file is the next best thing */
		shq_word(f, r->c.filename, strlen(r->c.filename));
	if (r->c.argv_truncated)
		fputs(" [argv truncated]", f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int print_commands(const struct kt_session_info *s, const struct kt_cmdtree *l)
{
	static struct tbl_col cols[] = {
		{ .header = "OFFSET", .align = TBL_RIGHT },
		{ .header = "PID", .align = TBL_RIGHT },
		{ .header = "PPID", .align = TBL_RIGHT },
		{ .header = "UID", .align = TBL_RIGHT },
		{ .header = "EXIT", .align = TBL_RIGHT },
		{ .header = "DURATION", .align = TBL_RIGHT },
		{ .header = "CWD", .align = TBL_LEFT },
		{ .header = "COMMAND", .align = TBL_LEFT },
	};
	struct tbl t;
	char b[64];
	int err = 0;

	printf("\nCommands:\n");
	if (!l->n) {
		printf("  none recorded\n");
		return 0;
	}
	tbl_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
	for (size_t i = 0; i < l->n && !err; i++) {
		const struct kt_command *c = &l->v[i].c;
		char *cmd = argv_text(&l->v[i]);

		err |= tbl_cell(&t, tf_format_offset(kt_sub_sat(c->ts_us, s->start_us), b, sizeof(b)));
		err |= tbl_cellf(&t, "%u", c->pid);
		err |= tbl_cellf(&t, "%u", c->ppid);
		if (c->euid != c->uid)
			err |= tbl_cellf(&t, "%u (e%u)", c->uid, c->euid);
		else
			err |= tbl_cellf(&t, "%u", c->uid);
		err |= tbl_cell(&t, hf_exit(c->has_exit, c->exit_status, b, sizeof(b)));
		if (c->end_us)
			err |= tbl_cell(&t, tf_format_duration(kt_sub_sat(c->end_us, c->ts_us), b, sizeof(b)));
		else
			err |= tbl_cell(&t, s->state == KT_SESSION_ACTIVE ? "running" : "-");
		err |= tbl_cellf(&t, "%s%s", c->cwd_truncated ? ".../" : "", or_dash(c->cwd));
		err |= cmd ? tbl_cell(&t, cmd) : -ENOMEM;
		free(cmd);
	}
	if (err) {
		pr_err("show: out of memory");
	} else {
		err = tbl_print(&t, stdout, 0, false);
	}
	tbl_free(&t);
	return err ? -ENOMEM : 0;
}

/* The verification state (kubetape verify has the details). */
static void print_evidence(struct kt_cli *cli, const struct kt_session_info *s)
{
	unsigned flags = kt_cli_verify_flags(s);
	struct kt_verify_result r;
	json_t *j = kt_cli_verification_json(cli, s->id, flags, &r);

	if (!j) {
		kv("Evidence", "cannot be checked (see the error above)");
		return;
	}
	json_decref(j);
	kv("Evidence", "%s%s (%llu frames, %llu signed, %u checkpoints%s)%s%s",
	   r.state == KT_VERIFY_BROKEN ? "BROKEN" : kt_verify_state_name(r.state),
	   flags & KT_VERIFY_QUICK ? ", signatures checked" : "",
	   (unsigned long long)r.frames, (unsigned long long)r.frames_signed, r.checkpoints,
	   r.final ? ", final" : "", r.problems ? ": " : "", r.problems ? r.why : "");
}

static int print_json(struct kt_cli *cli, const struct kt_session_info *s,
		      const struct kt_cmdtree *l)
{
	json_t *v = kt_cli_verification_json(cli, s->id, kt_cli_verify_flags(s), NULL);
	json_t *root = jo_show_verified(s, l, v);
	int err;

	json_decref(v);
	if (!root || ki_json_add_identity(cli->store, root, s) || jo_add_skipped(cli->store, root, s)) {
		json_decref(root);
		pr_err("show: out of memory");
		return -ENOMEM;
	}
	err = jo_dump(root, stdout, true);
	fputc('\n', stdout);
	json_decref(root);
	return err;
}

static int run(struct kt_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ 0 },
	};
	struct kt_session_info s;
	struct kt_cmdtree l = { 0 };
	bool json = false;
	int c, err, ret;

	while ((c = kt_cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c < 0)
			return kt_cli_opt_exit(c);
		if (c == OPT_JSON)
			json = true;
	}
	if (kt_cli_session_operand(cli, argc, argv))
		return KT_EXIT_USAGE;
	ret = kt_cli_get_session(cli, argv[optind], &s);
	if (ret)
		return ret;

	ret = KT_EXIT_RUNTIME;
	err = kt_cmdtree_load(cli->store, s.id, &l, "show");
	if (err)
		goto cleanup; /* logged */
	if (json) {
		err = print_json(cli, &s, &l);
	} else {
		print_session(&s, kt_now_us());
		print_origin(cli->store, &s);
		print_skipped(cli->store, &s, kt_now_us());
		print_evidence(cli, &s);
		err = print_identity(cli->store, &s);
		if (!err)
			err = print_commands(&s, &l);
	}
	if (!err)
		ret = KT_EXIT_OK;
cleanup:
	kt_cmdtree_free(&l);
	return ret;
}

const struct kt_cmd kt_cmd_show = {
	.name = "show",
	.summary = "a session's attribution, terminal, losses and command timeline",
	.run = run,
	.usage = usage,
};
