// SPDX-License-Identifier: Apache-2.0
/* Store records as JSON (see jsonenc.h). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "jsonenc.h"
#include "params.h"

#define JS_MAX_SAFE (UINT64_C(1) << 53)

json_t *je_str_n(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	char *fixed, *o;
	json_t *j;

	if (web_utf8_valid(s, n))
		return json_stringn(s, n);
	fixed = malloc(n * 3 + 1);
	if (!fixed)
		return NULL;
	o = fixed;
	for (size_t i = 0; i < n;) {
		size_t l = 0;

		/* the longest valid sequence starting here (1..4 bytes) */
		for (size_t k = 1; k <= 4 && i + k <= n; k++)
			if (web_utf8_valid(s + i, k)) {
				l = k;
				break;
			}
		if (l) {
			memcpy(o, p + i, l);
			o += l;
			i += l;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	j = json_stringn(fixed, (size_t)(o - fixed));
	free(fixed);
	return j;
}

/* fixed-size char arrays of the store's structs: NUL-terminated, bounded */
#define jstr(arr) je_str_n((arr), strnlen((arr), sizeof(arr)))

static json_t *jcstr(const char *s)
{
	return je_str_n(s, strlen(s));
}

static json_t *ju64(uint64_t v)
{
	return json_integer((json_int_t)(v > JS_MAX_SAFE ? JS_MAX_SAFE : v));
}

static const char *state_name(int st)
{
	switch (st) {
	case KT_SESSION_ACTIVE: return "active";
	case KT_SESSION_ENDED: return "ended";
	case KT_SESSION_INTERRUPTED: return "interrupted";
	default: return "unknown";
	}
}

/* json_object_set_new() frees the value on failure: remember one failure */
#define SET(o, k, v) do { if (json_object_set_new(o, k, v)) bad = true; } while (0)

static bool set_exit(json_t *o, bool has, int status)
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
	return bad;
}

json_t *je_session(const struct kt_session_info *s)
{
	json_t *o = json_object();
	bool bad = false;

	if (!o)
		return NULL;
	SET(o, "id", json_integer(s->id));
	SET(o, "uuid", jstr(s->uuid));
	SET(o, "start_us", json_integer(s->start_us));
	SET(o, "end_us", json_integer(s->end_us));
	SET(o, "state", json_string(state_name(s->state)));
	SET(o, "active", json_boolean(s->state == KT_SESSION_ACTIVE));
	bad |= set_exit(o, s->has_exit, s->exit_status);
	SET(o, "node", jstr(s->node));
	SET(o, "k8s_namespace", jstr(s->k8s_namespace));
	SET(o, "pod", jstr(s->pod));
	SET(o, "pod_uid", jstr(s->pod_uid));
	SET(o, "container", jstr(s->container));
	SET(o, "container_id", jstr(s->container_id));
	SET(o, "runtime", jstr(s->runtime));
	SET(o, "attribution_guess", json_boolean(s->attribution_guess));
	SET(o, "hostname", jstr(s->hostname));
	SET(o, "leader_pid", json_integer(s->leader_pid));
	SET(o, "leader_ns_pid", json_integer(s->leader_ns_pid));
	SET(o, "leader_uid", json_integer(s->leader_uid));
	SET(o, "leader_comm", jstr(s->leader_comm));
	SET(o, "has_tty", json_boolean(s->has_tty));
	SET(o, "tty_name", jstr(s->tty_name));
	SET(o, "rows", json_integer(s->rows));
	SET(o, "cols", json_integer(s->cols));
	SET(o, "capture", jstr(s->capture));
	SET(o, "bytes_out", ju64(s->bytes_out));
	SET(o, "bytes_in", ju64(s->bytes_in));
	SET(o, "lost_bytes", ju64(s->lost_bytes));
	SET(o, "lost_events", ju64(s->lost_events));
	SET(o, "n_commands", json_integer(s->n_commands));
	SET(o, "first_command", jstr(s->first_command));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *je_command(const struct kt_command *c)
{
	json_t *o = json_object(), *argv = json_array();
	bool bad = !o || !argv;

	if (bad)
		goto cleanup;
	for (size_t i = 0; c->argv && i < c->argv_len;) {
		size_t l = strnlen(c->argv + i, c->argv_len - i);

		if (json_array_append_new(argv, je_str_n(c->argv + i, l)))
			bad = true;
		i += l + 1;
	}
	SET(o, "id", json_integer(c->id));
	SET(o, "session_id", json_integer(c->session_id));
	SET(o, "seq", json_integer(c->seq));
	SET(o, "ts_us", json_integer(c->ts_us));
	SET(o, "end_us", json_integer(c->end_us));
	bad |= set_exit(o, c->has_exit, c->exit_status);
	SET(o, "pid", json_integer(c->pid));
	SET(o, "ns_pid", json_integer(c->ns_pid));
	SET(o, "ppid", json_integer(c->ppid));
	SET(o, "uid", json_integer(c->uid));
	SET(o, "gid", json_integer(c->gid));
	SET(o, "euid", json_integer(c->euid));
	SET(o, "egid", json_integer(c->egid));
	SET(o, "comm", jstr(c->comm));
	SET(o, "filename", jcstr(c->filename ? c->filename : ""));
	SET(o, "argv", argv);
	argv = NULL;
	SET(o, "argv_truncated", json_boolean(c->argv_truncated));
	SET(o, "cwd", jcstr(c->cwd ? c->cwd : ""));
	SET(o, "cwd_truncated", json_boolean(c->cwd_truncated));
cleanup:
	json_decref(argv);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *je_dump(json_t *j, size_t *len)
{
	char *s;

	if (!j)
		return NULL;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s)
		*len = strlen(s);
	return s;
}
