// SPDX-License-Identifier: Apache-2.0
/*
 * Audit requests and a session's identity as JSON, for `kubetape ... --json`
 * and the web API (same style switch as store/json.h).  Lists stored as JSON
 * text (groups, source IPs) are emitted as arrays.
 */
#include <string.h>

#include "audit.h"
#include "json.h"

#define SET(o, k, v) do { if (json_object_set_new(o, k, v)) bad = true; } while (0)
#define jstr(arr) kt_json_string((arr), strnlen((arr), sizeof(arr)))

static json_t *jlist(const char *text)
{
	json_t *a = json_loads(text, 0, NULL);

	if (a && json_is_array(a))
		return a;
	json_decref(a);
	return json_array();
}

static json_t *jtime(int64_t us, const struct kt_json_style *st)
{
	char buf[KT_JSON_TIME_LEN];

	return us > 0 && st->format_time ? json_string(st->format_time(us, buf, sizeof(buf))) : json_null();
}

static json_t *jargv(const char *argv, size_t len)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < len;) {
		size_t l = strnlen(argv + i, len - i);

		if (json_array_append_new(a, kt_json_string(argv + i, l))) {
			json_decref(a);
			return NULL;
		}
		i += l + 1;
	}
	return a;
}

json_t *kt_json_audit_request(const struct kt_audit_request *r, const struct kt_json_style *st)
{
	bool cli = st->profile == KT_JSON_CLI, bad = false;
	json_t *o = json_object();

	if (!o)
		return NULL;
	SET(o, "id", json_integer(r->id));
	SET(o, "audit_id", jstr(r->audit_id));
	SET(o, "verb", jstr(r->verb));
	SET(o, "subresource", jstr(r->subresource));
	SET(o, "username", jstr(r->username));
	SET(o, "user_uid", jstr(r->user_uid));
	SET(o, "groups", jlist(r->groups));
	SET(o, "impersonated_user", jstr(r->impersonated_user));
	SET(o, "impersonated_groups", jlist(r->impersonated_groups));
	SET(o, "source_ips", jlist(r->source_ips));
	SET(o, "user_agent", jstr(r->user_agent));
	SET(o, "k8s_namespace", jstr(r->k8s_namespace));
	SET(o, "pod", jstr(r->pod));
	SET(o, "container", jstr(r->container));
	SET(o, "argv", jargv(r->argv, r->argv_len));
	SET(o, "argv_truncated", json_boolean(r->argv_truncated));
	SET(o, "tty", json_boolean(r->tty));
	SET(o, "stdin", json_boolean(r->stdin_));
	SET(o, "decision", jstr(r->decision));
	SET(o, "reason", jstr(r->reason));
	SET(o, "code", json_integer(r->code));
	SET(o, "received_us", json_integer(r->received_us));
	SET(o, "started_us", json_integer(r->started_us));
	SET(o, "completed_us", json_integer(r->completed_us));
	if (cli) {
		SET(o, "stdout", json_boolean(r->stdout_));
		SET(o, "stderr", json_boolean(r->stderr_));
		SET(o, "stages", json_integer(r->stages));
		SET(o, "received", jtime(r->received_us, st));
		SET(o, "started", jtime(r->started_us, st));
		SET(o, "completed", jtime(r->completed_us, st));
	}
	SET(o, "exec_id", jstr(r->exec_id));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *kt_json_identity(const struct kt_audit_identity *id, const struct kt_json_style *st)
{
	const struct kt_audit_request *r = id->n_cand && id->tier != KT_TIER_AMBIGUOUS ? &id->cand[0] : NULL;
	json_t *o = json_object(), *c = json_array(), *os = json_array();
	bool bad = !o || !c || !os;

	if (bad) {
		json_decref(o);
		json_decref(c);
		json_decref(os);
		return NULL;
	}
	SET(o, "tier", json_string(kt_audit_tier_name(id->tier)));
	SET(o, "user", r ? jstr(r->username) : json_null());
	SET(o, "impersonated_user", r && r->impersonated_user[0] ? jstr(r->impersonated_user) : json_null());
	SET(o, "exec_id", id->exec_id[0] ? jstr(id->exec_id) : json_null());
	SET(o, "request", r ? kt_json_audit_request(r, st) : json_null());
	for (int i = 0; id->tier == KT_TIER_AMBIGUOUS && i < id->n_cand; i++)
		if (json_array_append_new(c, kt_json_audit_request(&id->cand[i], st)))
			bad = true;
	for (int i = 0; i < id->n_other_sessions && i < KT_AUDIT_MAX_CAND; i++)
		if (json_array_append_new(os, json_integer(id->other_sessions[i])))
			bad = true;
	SET(o, "candidates", c);
	SET(o, "candidates_total", json_integer(id->tier == KT_TIER_AMBIGUOUS ? id->n_cand_total : 0));
	SET(o, "competing_sessions", os);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
