// SPDX-License-Identifier: Apache-2.0
/* JSON encoding of sessions and commands (see json_out.h). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "humanfmt.h"
#include "json_out.h"
#include "timefmt.h"

/*
 * Recorded strings may hold invalid UTF-8, which jansson refuses; such
 * strings are emitted with the bad bytes as U+FFFD so a session is never
 * dropped from the output.
 */
static json_t *jstr_n(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	char *fixed, *o;

	if (j)
		return j;
	fixed = malloc(n * 3 + 1);
	if (!fixed)
		return NULL;
	o = fixed;
	for (size_t i = 0; i < n;) {
		size_t l = hf_utf8_len((const unsigned char *)s + i, n - i);

		/* hf_utf8_len rejects C1 controls, which are valid UTF-8 */
		if (!l && (unsigned char)s[i] == 0xc2 && i + 1 < n &&
		    ((unsigned char)s[i + 1] & 0xe0) == 0x80)
			l = 2;
		if (l) {
			memcpy(o, s + i, l);
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

json_t *jo_string(const char *s, size_t n)
{
	return jstr_n(s, n);
}

static json_t *jstr(const char *s)
{
	return jstr_n(s, strlen(s));
}

static json_t *ju64(uint64_t v)
{
	char buf[24];

	if (v <= INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return json_string(buf);
}

static json_t *jtime(int64_t us)
{
	char buf[TF_TIME_LEN];

	return us > 0 ? json_string(tf_format_time(us, buf, sizeof(buf))) : json_null();
}

/* json_object_set_new() frees the value on failure; count failures once. */
#define SET(o, k, v) do { if (json_object_set_new(o, k, v)) bad = true; } while (0)

static void set_exit(json_t *o, bool has, int status, bool *bad_out)
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
		SET(o, "core_dumped", json_boolean(WCOREDUMP(status)));
	} else {
		SET(o, "exit_signal", json_null());
		SET(o, "core_dumped", json_false());
	}
	*bad_out |= bad;
}

json_t *jo_session(const struct kt_session_info *s)
{
	json_t *o = json_object();
	bool bad = false;

	if (!o)
		return NULL;
	SET(o, "id", json_integer(s->id));
	SET(o, "uuid", jstr(s->uuid));
	SET(o, "kernel_id", ju64(s->kernel_id));
	SET(o, "start_us", json_integer(s->start_us));
	SET(o, "end_us", json_integer(s->end_us));
	SET(o, "start", jtime(s->start_us));
	SET(o, "end", jtime(s->end_us));
	SET(o, "duration_us", s->end_us > 0 ? json_integer(s->end_us - s->start_us) : json_null());
	SET(o, "state", json_string(hf_state(s->state)));
	SET(o, "state_code", json_integer(s->state));
	set_exit(o, s->has_exit, s->exit_status, &bad);

	SET(o, "node", jstr(s->node));
	SET(o, "k8s_namespace", jstr(s->k8s_namespace));
	SET(o, "pod", jstr(s->pod));
	SET(o, "pod_uid", jstr(s->pod_uid));
	SET(o, "container", jstr(s->container));
	SET(o, "container_id", jstr(s->container_id));
	SET(o, "runtime", jstr(s->runtime));
	SET(o, "attribution_guess", json_boolean(s->attribution_guess));
	SET(o, "hostname", jstr(s->hostname));
	SET(o, "cgroup_path", jstr(s->cgroup_path));
	SET(o, "cgroup_id", ju64(s->cgroup_id));
	SET(o, "pidns_ino", json_integer(s->pidns_ino));
	SET(o, "mntns_ino", json_integer(s->mntns_ino));

	SET(o, "leader_pid", json_integer(s->leader_pid));
	SET(o, "leader_ns_pid", json_integer(s->leader_ns_pid));
	SET(o, "leader_uid", json_integer(s->leader_uid));
	SET(o, "leader_gid", json_integer(s->leader_gid));
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

json_t *jo_command(const struct kt_command *c)
{
	json_t *o = json_object(), *argv = json_array();
	bool bad = !argv;

	if (!o) {
		json_decref(argv);
		return NULL;
	}
	SET(o, "id", json_integer(c->id));
	SET(o, "session_id", json_integer(c->session_id));
	SET(o, "seq", json_integer(c->seq));
	SET(o, "ts_us", json_integer(c->ts_us));
	SET(o, "end_us", json_integer(c->end_us));
	SET(o, "time", jtime(c->ts_us));
	SET(o, "duration_us", c->end_us > 0 ? json_integer(c->end_us - c->ts_us) : json_null());
	set_exit(o, c->has_exit, c->exit_status, &bad);
	SET(o, "pid", json_integer(c->pid));
	SET(o, "ns_pid", json_integer(c->ns_pid));
	SET(o, "ppid", json_integer(c->ppid));
	SET(o, "uid", json_integer(c->uid));
	SET(o, "gid", json_integer(c->gid));
	SET(o, "euid", json_integer(c->euid));
	SET(o, "egid", json_integer(c->egid));
	SET(o, "comm", jstr_n(c->comm, strnlen(c->comm, sizeof(c->comm))));
	SET(o, "filename", jstr(c->filename ? c->filename : ""));
	/* argv: NUL-separated; a trailing NUL ends the last word */
	if (argv && c->argv) {
		size_t len = c->argv_len;

		if (len && c->argv[len - 1] == 0)
			len--;
		for (size_t i = 0; len && i <= len;) {
			const char *e = memchr(c->argv + i, 0, len - i);
			size_t n = e ? (size_t)(e - (c->argv + i)) : len - i;

			if (json_array_append_new(argv, jstr_n(c->argv + i, n)))
				bad = true;
			i += n + 1;
		}
	}
	if (argv)
		SET(o, "argv", json_incref(argv));
	json_decref(argv);
	SET(o, "argc", json_integer(c->argc));
	SET(o, "cwd", jstr(c->cwd ? c->cwd : ""));
	SET(o, "argv_truncated", json_boolean(c->argv_truncated));
	SET(o, "cwd_truncated", json_boolean(c->cwd_truncated));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *jo_show(const struct kt_session_info *s, const struct kt_cmdtree *t)
{
	json_t *root = json_object(), *arr = json_array(), *js = jo_session(s);
	bool bad = !root || !arr || !js;

	for (size_t i = 0; !bad && i < t->n; i++) {
		json_t *jc = jo_command(&t->v[i].c);

		if (!jc || json_object_set_new(jc, "depth", json_integer(t->v[i].depth)) ||
		    json_array_append_new(arr, jc))
			bad = true;
	}
	if (!bad && (json_object_set(root, "session", js) || json_object_set(root, "commands", arr)))
		bad = true;
	json_decref(js);
	json_decref(arr);
	if (bad) {
		json_decref(root);
		return NULL;
	}
	return root;
}

int jo_dump(json_t *j, FILE *out, bool pretty)
{
	size_t flags = JSON_PRESERVE_ORDER | (pretty ? JSON_INDENT(2) : JSON_COMPACT);

	return json_dumpf(j, out, flags) ? -EIO : 0;
}
