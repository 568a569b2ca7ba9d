// SPDX-License-Identifier: Apache-2.0
/* Who ran a session, for the CLI (see identity.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "humanfmt.h"
#include "identity.h"
#include "json.h"
#include "log.h"
#include "shquote.h"
#include "timefmt.h"

static const struct kt_json_style cli_style = {
	.profile = KT_JSON_CLI,
	.format_time = tf_format_time,
};

int ki_parse_window(const char *s, int64_t *us)
{
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v > 0) || v > 86400)
		return -EINVAL;
	*us = (int64_t)(v * 1e6);
	return *us > 0 ? 0 : -EINVAL;
}

int ki_join_opts(struct kt_audit_join_opts *o)
{
	const char *env = getenv(KT_AUDIT_WINDOW_ENV);

	memset(o, 0, sizeof(*o));
	if (!env || !*env)
		return 0;
	if (ki_parse_window(env, &o->window_us)) {
		pr_err("invalid $" KT_AUDIT_WINDOW_ENV " '%s' (seconds, > 0, e.g. 2.5)", env);
		return -EINVAL;
	}
	return 0;
}

bool ki_have_audit(struct kt_store *st)
{
	return kt_audit_any(st);
}

const char *ki_req_who(const struct kt_audit_request *r, char *buf, size_t len)
{
	if (r->impersonated_user[0])
		snprintf(buf, len, "%s (via %s)", r->impersonated_user, r->username);
	else
		snprintf(buf, len, "%s", r->username);
	return buf;
}

const char *ki_who(const struct kt_audit_identity *id, char *buf, size_t len)
{
	switch (id->tier) {
	case KT_TIER_EXACT:
	case KT_TIER_MATCHED:
		return ki_req_who(&id->cand[0], buf, len);
	case KT_TIER_AMBIGUOUS:
		if (id->n_cand_total > 1)
			snprintf(buf, len, "%d candidates?", id->n_cand_total);
		else
			snprintf(buf, len, "%s?", id->cand[0].impersonated_user[0] ?
				 id->cand[0].impersonated_user : id->cand[0].username);
		return buf;
	default:
		snprintf(buf, len, "-");
		return buf;
	}
}

static void print_req(FILE *out, const struct kt_audit_request *r, const char *indent)
{
	char a[TF_TIME_LEN], *cmd = NULL, safe[2048];
	size_t clen = 0;
	FILE *m = open_memstream(&cmd, &clen);

#define KV(k, ...) do { char _b[1536]; snprintf(_b, sizeof(_b), __VA_ARGS__); \
	fprintf(out, "%s%-14s %s\n", indent, k, hf_sanitize(_b, strlen(_b), safe, sizeof(safe))); } while (0)
	KV("User", "%s", r->username[0] ? r->username : "-");
	if (r->impersonated_user[0])
		KV("Impersonated", "%s (groups %s): the human, through the user above", r->impersonated_user,
		   r->impersonated_groups);
	KV("Groups", "%s", r->groups);
	KV("Source IPs", "%s", r->source_ips);
	KV("User agent", "%s", r->user_agent[0] ? r->user_agent : "-");
	KV("Audit ID", "%s", r->audit_id);
	KV("Request", "%s %s (%s)%s%s, code %d%s%s", r->verb, r->subresource,
	   r->verb[0] == 'g' ? "WebSocket" : "SPDY", r->tty ? ", tty" : "", r->stdin_ ? ", stdin" : "",
	   r->code, r->decision[0] ? ", decision " : "", r->decision);
	if (m) {
		shq_argv(m, r->argv, r->argv_len);
		if (!fclose(m))
			KV("Command", "%s%s (container %s)", cmd ? cmd : "", r->argv_truncated ? " [truncated]" : "",
			   r->container[0] ? r->container : "default");
	}
	free(cmd);
	KV("Received", "%s", tf_format_time(r->received_us, a, sizeof(a)));
	if (r->started_us)
		KV("Started", "%s", tf_format_time(r->started_us, a, sizeof(a)));
	if (r->exec_id[0])
		KV("Exec ID", "%s", r->exec_id);
#undef KV
}

void ki_print_identity(FILE *out, const struct kt_audit_identity *id)
{
	static const char *const why[] = {
		[KT_TIER_NONE] = "no exec request in the audit log matches: someone may have entered from the node (nsenter, crictl, a runtime CLI), or its audit event has not arrived",
		[KT_TIER_EXACT] = "the admission webhook's exec id is on both sides",
		[KT_TIER_MATCHED] = "the only exec request with this pod, container and command within the join window",
		[KT_TIER_AMBIGUOUS] = "several exec requests or sessions fit: candidates below, none chosen",
	};
	char b[600];

	fprintf(out, "\nKubernetes user:\n");
	fprintf(out, "  %-14s %s (%s)\n", "Join", kt_audit_tier_name(id->tier), why[id->tier & 3]);
	if (id->exec_id[0])
		fprintf(out, "  %-14s %s\n", "Exec ID", id->exec_id);
	if (id->tier == KT_TIER_EXACT || id->tier == KT_TIER_MATCHED) {
		print_req(out, &id->cand[0], "  ");
		return;
	}
	for (int i = 0; i < id->n_cand; i++) {
		fprintf(out, "  Candidate %d: %s\n", i + 1, ki_req_who(&id->cand[i], b, sizeof(b)));
		print_req(out, &id->cand[i], "    ");
	}
	if (id->n_cand_total > id->n_cand)
		fprintf(out, "  (%d more candidates)\n", id->n_cand_total - id->n_cand);
	if (id->n_other_sessions) {
		fprintf(out, "  Also fits sessions:");
		for (int i = 0; i < id->n_other_sessions && i < KT_AUDIT_MAX_CAND; i++)
			fprintf(out, " %lld", (long long)id->other_sessions[i]);
		fprintf(out, "\n");
	}
}

json_t *ki_json_identity(const struct kt_audit_identity *id)
{
	return kt_json_identity(id, &cli_style);
}

json_t *ki_json_request(const struct kt_audit_request *r)
{
	return kt_json_audit_request(r, &cli_style);
}

int ki_json_add_identity(struct kt_store *st, json_t *root, const struct kt_session_info *s)
{
	struct kt_audit_join_opts o;
	struct kt_audit_identity *id;
	int err;

	err = ki_join_opts(&o);
	if (err)
		return err;
	id = malloc(sizeof(*id));
	if (!id)
		return -ENOMEM;
	err = kt_audit_session_identity(st, s, &o, id);
	if (!err && json_object_set_new(root, "identity", ki_json_identity(id)))
		err = -ENOMEM;
	free(id);
	return err;
}
