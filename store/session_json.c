// SPDX-License-Identifier: Apache-2.0
/* Sessions and commands as JSON for the CLI and the web API (see json.h). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "json.h"
#include "store_int.h"
#include "satint.h"

#define JS_MAX_SAFE (UINT64_C(1) << 53)

json_t *kt_json_string(const char *s, size_t n)
{
	char *fixed;
	json_t *j;

	if (kt_utf8_valid(s, n))
		return json_stringn(s, n);
	fixed = malloc(n * 3 + 1);
	if (!fixed)
		return NULL;
	j = json_stringn(fixed, kt_utf8_sanitize(fixed, s, n));
	free(fixed);
	return j;
}

/* fixed-size char arrays of the store's structs: NUL-terminated, bounded */
#define jstr(arr) kt_json_string((arr), strnlen((arr), sizeof(arr)))

static json_t *jcstr(const char *s)
{
	return kt_json_string(s ? s : "", s ? strlen(s) : 0);
}

static json_t *ju64(uint64_t v, const struct kt_json_style *st)
{
	char buf[24];

	if (st->profile == KT_JSON_API)
		return json_integer((json_int_t)(v > JS_MAX_SAFE ? JS_MAX_SAFE : v));
	if (v <= INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return json_string(buf);
}

static json_t *jtime(int64_t us, const struct kt_json_style *st)
{
	char buf[KT_JSON_TIME_LEN];

	return us > 0 ? json_string(st->format_time(us, buf, sizeof(buf))) : json_null();
}

static json_t *jduration(int64_t start_us, int64_t end_us)
{
	return end_us > 0 ? json_integer(kt_sub_sat(end_us, start_us)) : json_null();
}

const char *kt_session_state_name(int state)
{
	switch (state) {
	case KT_SESSION_ACTIVE: return "active";
	case KT_SESSION_ENDED: return "ended";
	case KT_SESSION_INTERRUPTED: return "interrupted";
	default: return "unknown";
	}
}

const char *kt_session_flag_name(uint32_t flag)
{
	switch (flag) {
	case KT_SESSION_F_FROM_NODE: return "entered-from-node";
	case KT_SESSION_F_INTERACTIVE: return "interactive-container";
	case KT_SESSION_F_HOST_PID: return "host-pid";
	case KT_SESSION_F_LATE: return "recording-started-late";
	default: return NULL;
	}
}

const char *kt_session_flags_str(uint32_t flags, char *buf, size_t len)
{
	size_t o = 0;

	if (!len)
		return buf;
	buf[0] = 0;
	for (uint32_t f = 1; f && f <= flags; f <<= 1) {
		const char *n = (flags & f) ? kt_session_flag_name(f) : NULL;
		int w;

		if (!n)
			continue;
		w = snprintf(buf + o, len - o, "%s%s", o ? "," : "", n);
		if (w < 0 || (size_t)w >= len - o)
			break;
		o += (size_t)w;
	}
	return buf;
}

/* entry_flags as an array of names; unknown bits (a newer writer) as numbers */
static json_t *jflags(uint32_t flags)
{
	json_t *a = json_array();

	for (uint32_t f = 1; a && f && f <= flags; f <<= 1) {
		const char *n = kt_session_flag_name(f);

		if (flags & f)
			json_array_append_new(a, n ? json_string(n) : json_integer(f));
	}
	return a;
}

/* json_object_set_new() frees the value on failure: remember one failure */
#define SET(o, k, v) do { if (json_object_set_new(o, k, v)) bad = true; } while (0)

static bool set_exit(json_t *o, bool has, int status, bool cli)
{
	bool bad = false;

	SET(o, "has_exit", json_boolean(has));
	SET(o, "exit_status", has ? json_integer(status) : json_null());
	SET(o, "exit_code", has && WIFEXITED(status) ? json_integer(WEXITSTATUS(status)) : json_null());
	if (has && WIFSIGNALED(status)) {
		const char *name = sigabbrev_np(WTERMSIG(status));
		char buf[24];

		if (name)
			snprintf(buf, sizeof(buf), "SIG%s", name);
		else
			snprintf(buf, sizeof(buf), "%d", WTERMSIG(status));
		SET(o, "exit_signal", json_string(buf));
	} else {
		SET(o, "exit_signal", json_null());
	}
	if (cli)
		SET(o, "core_dumped", json_boolean(has && WIFSIGNALED(status) && WCOREDUMP(status)));
	return bad;
}

json_t *kt_json_session(const struct kt_session_info *s, const struct kt_json_style *st)
{
	bool cli = st->profile == KT_JSON_CLI, bad = false;
	json_t *o = json_object();

	if (!o)
		return NULL;
	SET(o, "id", json_integer(s->id));
	SET(o, "uuid", jstr(s->uuid));
	if (cli)
		SET(o, "kernel_id", ju64(s->kernel_id, st));
	SET(o, "start_us", json_integer(s->start_us));
	SET(o, "end_us", json_integer(s->end_us));
	if (cli) {
		SET(o, "start", jtime(s->start_us, st));
		SET(o, "end", jtime(s->end_us, st));
		SET(o, "duration_us", jduration(s->start_us, s->end_us));
	}
	SET(o, "state", json_string(kt_session_state_name(s->state)));
	if (cli)
		SET(o, "state_code", json_integer(s->state));
	else
		SET(o, "active", json_boolean(s->state == KT_SESSION_ACTIVE));
	bad |= set_exit(o, s->has_exit, s->exit_status, cli);

	SET(o, "node", jstr(s->node));
	SET(o, "k8s_namespace", jstr(s->k8s_namespace));
	SET(o, "pod", jstr(s->pod));
	SET(o, "pod_uid", jstr(s->pod_uid));
	SET(o, "container", jstr(s->container));
	SET(o, "container_id", jstr(s->container_id));
	SET(o, "runtime", jstr(s->runtime));
	SET(o, "attribution_guess", json_boolean(s->attribution_guess));
	SET(o, "entry_flags", jflags(s->entry_flags));
	SET(o, "hostname", jstr(s->hostname));
	if (cli) {
		SET(o, "cgroup_path", jstr(s->cgroup_path));
		SET(o, "cgroup_id", ju64(s->cgroup_id, st));
		SET(o, "pidns_ino", json_integer(s->pidns_ino));
		SET(o, "mntns_ino", json_integer(s->mntns_ino));
	}

	SET(o, "leader_pid", json_integer(s->leader_pid));
	SET(o, "leader_ns_pid", json_integer(s->leader_ns_pid));
	SET(o, "leader_uid", json_integer(s->leader_uid));
	if (cli)
		SET(o, "leader_gid", json_integer(s->leader_gid));
	SET(o, "leader_comm", jstr(s->leader_comm));

	SET(o, "has_tty", json_boolean(s->has_tty));
	SET(o, "tty_name", jstr(s->tty_name));
	SET(o, "rows", json_integer(s->rows));
	SET(o, "cols", json_integer(s->cols));
	SET(o, "capture", jstr(s->capture));

	SET(o, "bytes_out", ju64(s->bytes_out, st));
	SET(o, "bytes_in", ju64(s->bytes_in, st));
	SET(o, "lost_bytes", ju64(s->lost_bytes, st));
	SET(o, "lost_events", ju64(s->lost_events, st));
	SET(o, "n_commands", json_integer(s->n_commands));
	SET(o, "first_command", jstr(s->first_command));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * argv: NUL-terminated words, the last terminator optional.  The CLI has
 * always shown an argv of a single NUL (argv [""]) as [], the API as [""].
 */
static json_t *jargv(const struct kt_command *c, bool cli)
{
	json_t *a = json_array();

	if (!a || !c->argv || (cli && c->argv_len == 1 && c->argv[0] == 0))
		return a;
	for (size_t i = 0; i < c->argv_len;) {
		size_t l = strnlen(c->argv + i, c->argv_len - i);

		if (json_array_append_new(a, kt_json_string(c->argv + i, l))) {
			json_decref(a);
			return NULL;
		}
		i += l + 1;
	}
	return a;
}

json_t *kt_json_command(const struct kt_command *c, const struct kt_json_style *st)
{
	bool cli = st->profile == KT_JSON_CLI, bad = false;
	json_t *o = json_object();

	if (!o)
		return NULL;
	SET(o, "id", json_integer(c->id));
	SET(o, "session_id", json_integer(c->session_id));
	SET(o, "seq", json_integer(c->seq));
	SET(o, "ts_us", json_integer(c->ts_us));
	SET(o, "end_us", json_integer(c->end_us));
	if (cli) {
		SET(o, "time", jtime(c->ts_us, st));
		SET(o, "duration_us", jduration(c->ts_us, c->end_us));
	}
	bad |= set_exit(o, c->has_exit, c->exit_status, cli);
	SET(o, "pid", json_integer(c->pid));
	SET(o, "ns_pid", json_integer(c->ns_pid));
	SET(o, "ppid", json_integer(c->ppid));
	SET(o, "uid", json_integer(c->uid));
	SET(o, "gid", json_integer(c->gid));
	SET(o, "euid", json_integer(c->euid));
	SET(o, "egid", json_integer(c->egid));
	SET(o, "comm", jstr(c->comm));
	SET(o, "filename", jcstr(c->filename));
	SET(o, "argv", jargv(c, cli));
	if (cli) {
		SET(o, "argc", json_integer(c->argc));
		SET(o, "cwd", jcstr(c->cwd));
		SET(o, "argv_truncated", json_boolean(c->argv_truncated));
	} else {
		SET(o, "argv_truncated", json_boolean(c->argv_truncated));
		SET(o, "cwd", jcstr(c->cwd));
	}
	SET(o, "cwd_truncated", json_boolean(c->cwd_truncated));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
