// SPDX-License-Identifier: Apache-2.0
/*
 * The read-path CLI end to end: builds a real store in a temp dir through
 * the store API (three sessions with commands and terminal chunks, one with
 * a gap), then runs the built `kubetape` binary and checks its output and
 * exit codes.  The binary is found in $KT_BIN_DIR, else $KT_OUT (set by
 * tests/run.sh), else next to this program's directory (build/tests/.. ).
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kt_test.h"
#include "kt_fixture.h"
#include "log.h"
#include "store.h"

#define S 1000000LL

static char g_bin[4096], g_dir[64], g_db[128], g_err[128];
static int64_t g_t0;                 /* start of session 1: now - 3h */
static uint8_t g_out[600], g_in[32]; /* expected `cat` / `cat --input` bytes */
static size_t g_out_len, g_in_len;

/* Runs `<env> kubetape ARGS` through sh; ARGS is a printf format. */
static void run_env(struct kt_fx_res *r, const char *env, const char *fmt, ...)
{
	char args[2048], cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "env -u KUBETAPE_DB %s '%s' %s", env ? env : "", g_bin, args);
	kt_fx_run_sh(r, cmd, g_err);
}
#define run(r, ...) run_env(r, NULL, __VA_ARGS__)

/* ------------------------------------------------------------ the store */

static void put_cmd(struct kt_store *st, int64_t sid, int64_t ts, uint32_t pid,
		    uint32_t ppid, const char *argv, size_t argv_len, const char *cwd,
		    int64_t end, int status)
{
	struct kt_command c = kt_fx_cmd(sid, ts, pid, ppid, argv, argv_len);

	c.ns_pid = pid - 90;
	c.cwd = cwd;
	CHECK_EQ_INT(kt_store_command_add(st, &c), 0);
	if (end)
		CHECK_EQ_INT(kt_store_command_exit(st, sid, pid, end, status), 0);
}

static void out_frame(struct kt_chunk_builder *b, int64_t ts, const void *d, size_t n)
{
	CHECK_EQ_INT(kt_chunk_add(b, KT_FRAME_OUT, ts, d, (uint32_t)n), 0);
	memcpy(g_out + g_out_len, d, n);
	g_out_len += n;
}

static void in_frame(struct kt_chunk_builder *b, int64_t ts, const char *d)
{
	CHECK_EQ_INT(kt_chunk_add(b, KT_FRAME_IN, ts, d, (uint32_t)strlen(d)), 0);
	memcpy(g_in + g_in_len, d, strlen(d));
	g_in_len += strlen(d);
}

static struct kt_session_info base_session(const char *uuid, int64_t start)
{
	struct kt_session_info s = { 0 };

	snprintf(s.uuid, sizeof(s.uuid), "%s", uuid);
	s.kernel_id = 0x1f;
	s.start_us = start;
	snprintf(s.runtime, sizeof(s.runtime), "containerd");
	snprintf(s.capture, sizeof(s.capture), "syscall");
	s.leader_pid = 100;
	s.leader_ns_pid = 10;
	snprintf(s.leader_comm, sizeof(s.leader_comm), "bash");
	return s;
}

static void t_build_store(void)
{
	struct kt_store *st = NULL;
	struct kt_chunk_builder b;
	struct kt_session_info a, bb, c;
	uint8_t all[256];
	int64_t t0 = g_t0;

	snprintf(g_db, sizeof(g_db), "%s/kt.db", g_dir);
	CHECK_EQ_INT(kt_store_open(g_db, KT_STORE_CREATE, &st), 0);
	if (!st)
		return;

	/* 1: ended normally, tty, commands as a process tree, a gap */
	a = base_session("0badf00d-1", t0);
	snprintf(a.node, sizeof(a.node), "node-a");
	snprintf(a.k8s_namespace, sizeof(a.k8s_namespace), "default");
	snprintf(a.pod, sizeof(a.pod), "web-1");
	snprintf(a.container, sizeof(a.container), "nginx");
	snprintf(a.hostname, sizeof(a.hostname), "web-1");
	a.has_tty = true;
	snprintf(a.tty_name, sizeof(a.tty_name), "pts/3 on devpts 0:85");
	a.cols = 120;
	a.rows = 40;
	CHECK_EQ_INT(kt_store_session_create(st, &a), 0);
	put_cmd(st, a.id, t0, 100, 90, ARGV("bash\0-l"), "/", 0, 0);
	put_cmd(st, a.id, t0 + 3214000, 101, 100, ARGV("ls\0-la"), "/root", t0 + 3226000, 0);
	put_cmd(st, a.id, t0 + 5 * S, 102, 100, ARGV("sh\0-c\0echo \"it's\""), "/root",
		t0 + 6 * S, 0);
	put_cmd(st, a.id, t0 + 5 * S + 100, 103, 102, ARGV("echo\0it's"), "/root", 0, 0);
	put_cmd(st, a.id, t0 + 7 * S, 104, 100, ARGV("printf\0a\tb\x1b[2J"), "/tmp",
		t0 + 7 * S + 500, 1 << 8);

	kt_chunk_builder_init(&b);
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	out_frame(&b, t0 + 1000, "hello\r\n", 7);
	out_frame(&b, t0 + 2000, all, sizeof(all));
	in_frame(&b, t0 + 3 * S, "ls -la\r");
	out_frame(&b, t0 + 3 * S + 10, "\x1b[31mred\x1b[0m\r\n", 14);
	CHECK_EQ_INT(kt_chunk_add_gap(&b, t0 + 4 * S, 4096, 3), 0);
	CHECK_EQ_INT(kt_store_chunk_append(st, a.id, &b), 0);
	kt_chunk_builder_reset(&b);
	CHECK_EQ_INT(kt_chunk_add_resize(&b, t0 + 5 * S, 100, 30), 0);
	out_frame(&b, t0 + 5 * S + 1, "after the gap\r\n", 15);
	out_frame(&b, t0 + 5 * S + 2, "", 0);
	in_frame(&b, t0 + 300 * S, "exit\r");
	CHECK_EQ_INT(kt_store_chunk_append(st, a.id, &b), 0);
	kt_chunk_builder_reset(&b);
	CHECK_EQ_INT(kt_store_session_get(st, a.id, &a), 0);
	a.state = KT_SESSION_ENDED;
	a.end_us = t0 + 312 * S;
	a.has_exit = true;
	a.exit_status = 0;
	CHECK_EQ_INT(kt_store_session_update(st, &a), 0);

	/* 2: active, no tty, attribution guessed from the hostname */
	bb = base_session("0badf00d-2", t0 + 3600 * S);
	snprintf(bb.node, sizeof(bb.node), "node-b");
	snprintf(bb.k8s_namespace, sizeof(bb.k8s_namespace), "kube-system");
	snprintf(bb.pod, sizeof(bb.pod), "coredns-x");
	snprintf(bb.container, sizeof(bb.container), "coredns");
	bb.attribution_guess = true;
	bb.entry_flags = KT_SESSION_F_FROM_NODE;
	CHECK_EQ_INT(kt_store_session_create(st, &bb), 0);
	put_cmd(st, bb.id, t0 + 3600 * S, 200, 190, ARGV("cat\0/etc/resolv.conf"), "/", 0, 0);

	/* 3: interrupted, killed, lost data */
	c = base_session("0badf00d-3", t0 + 7200 * S);
	snprintf(c.node, sizeof(c.node), "node-a");
	snprintf(c.k8s_namespace, sizeof(c.k8s_namespace), "default");
	snprintf(c.pod, sizeof(c.pod), "db-0");
	snprintf(c.container, sizeof(c.container), "postgres");
	c.has_tty = true;
	CHECK_EQ_INT(kt_store_session_create(st, &c), 0);
	CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_OUT, t0 + 7200 * S, "psql\r\n", 6), 0);
	CHECK_EQ_INT(kt_chunk_add_gap(&b, t0 + 7201 * S, 8192, 2), 0);
	CHECK_EQ_INT(kt_store_chunk_append(st, c.id, &b), 0);
	kt_chunk_builder_free(&b);
	CHECK_EQ_INT(kt_store_session_get(st, c.id, &c), 0);
	c.state = KT_SESSION_INTERRUPTED;
	c.end_us = t0 + 7260 * S;
	c.has_exit = true;
	c.exit_status = 9; /* SIGKILL */
	CHECK_EQ_INT(kt_store_session_update(st, &c), 0);
	kt_store_close(st);

	CHECK_EQ_INT(a.id, 1);
	CHECK_EQ_INT(bb.id, 2);
	CHECK_EQ_INT(c.id, 3);
}

/* ------------------------------------------------------------ helpers */

/* ids of `sessions --json ARGS`, in output order, as "3,1"; "ERR" if bad. */
static void json_ids(const char *args, char *buf, size_t len)
{
	struct kt_fx_res r;
	json_error_t e;
	json_t *arr;
	size_t i, o = 0;
	json_t *v;

	run(&r, "--db '%s' sessions --json %s", g_db, args);
	arr = r.status == 0 ? json_loads(r.out, 0, &e) : NULL;
	snprintf(buf, len, "ERR");
	if (json_is_array(arr)) {
		buf[0] = 0;
		json_array_foreach(arr, i, v)
			o += (size_t)snprintf(buf + o, len - o, "%s%lld", i ? "," : "",
					      (long long)json_integer_value(json_object_get(v, "id")));
	}
	json_decref(arr);
	kt_fx_res_free(&r);
}

static char *iso(int64_t us, char *buf, size_t len)
{
	time_t t = (time_t)(us / S);
	struct tm tm;

	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	return buf;
}

/* Expect a usage-ish failure: exit `code`, one stderr line, no stdout. */
static void expect_fail(int code, const char *fmt_args)
{
	struct kt_fx_res r;

	run(&r, "--db '%s' %s", g_db, fmt_args);
	if (r.status != code || r.err_lines != 1 || r.out_len != 0) {
		printf("  kubetape %s: exit %d, %d stderr lines, %zu stdout bytes:\n%s",
		       fmt_args, r.status, r.err_lines, r.out_len, r.err ? r.err : "");
		CHECK(!"expected exactly one error line and exit code");
	}
	kt_fx_res_free(&r);
}

/* ------------------------------------------------------------ tests */

static void t_sessions_table(void)
{
	struct kt_fx_res r;
	char *l1, *l2, *l3;

	run(&r, "--db '%s' sessions", g_db);
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_INT(r.err_lines, 0);
	CHECK(strncmp(r.out, "ID  START", 9) == 0);
	CHECK(strstr(r.out, "NAMESPACE/POD/CONTAINER") != NULL);
	/* the recorder's node name, between the duration and the pod */
	CHECK(strstr(r.out, " NODE ") != NULL);
	CHECK(strstr(r.out, "node-b  kube-system/coredns-x") != NULL);
	CHECK(strstr(r.out, "node-a  default/web-1/nginx") != NULL);
	/* newest first */
	l1 = strchr(r.out, '\n');
	l2 = l1 ? strchr(l1 + 1, '\n') : NULL;
	l3 = l2 ? strchr(l2 + 1, '\n') : NULL;
	CHECK(l1 && strncmp(l1 + 1, " 3  ", 4) == 0);
	CHECK(l2 && strncmp(l2 + 1, " 2  ", 4) == 0);
	CHECK(l3 && strncmp(l3 + 1, " 1  ", 4) == 0);
	CHECK(strstr(r.out, "default/web-1/nginx") != NULL);
	CHECK(strstr(r.out, "kube-system/coredns-x/coredns?") != NULL);
	CHECK(strstr(r.out, "5m12s") != NULL);    /* duration of 1 */
	CHECK(strstr(r.out, "active") != NULL);   /* 2 */
	CHECK(strstr(r.out, "SIGKILL") != NULL);  /* exit of 3 */
	CHECK(strstr(r.out, "interrupted") != NULL);
	CHECK(strstr(r.out, "LOST") != NULL);     /* 3 lost data */
	CHECK(strstr(r.out, "8.0K!") != NULL);
	CHECK(strstr(r.out, "bash -l") != NULL);  /* first command */
	/* not a terminal: nothing clipped, no colors */
	CHECK(strchr(r.out, '\033') == NULL);
	kt_fx_res_free(&r);
}

static void t_sessions_filters(void)
{
	char ids[64], a[64], b[32];

	json_ids("", ids, sizeof(ids));
	CHECK_EQ_STR(ids, "3,2,1");
	json_ids("--namespace default", ids, sizeof(ids));
	CHECK_EQ_STR(ids, "3,1");
	json_ids("-n kube-system", ids, sizeof(ids));
	CHECK_EQ_STR(ids, "2");
	json_ids("--pod web-1 --container nginx", ids, sizeof(ids));
	CHECK_EQ_STR(ids, "1");
	json_ids("--pod web-1 --container postgres", ids, sizeof(ids));
	CHECK_EQ_STR(ids, "");
	json_ids("--node node-a", ids, sizeof(ids));
	CHECK_EQ_STR(ids, "3,1");
	json_ids("--active", ids, sizeof(ids));
	CHECK_EQ_STR(ids, "2");
	json_ids("--tty", ids, sizeof(ids));
	CHECK_EQ_STR(ids, "3,1");
	json_ids("--no-tty", ids, sizeof(ids));
	CHECK_EQ_STR(ids, "2");
	json_ids("--limit 1", ids, sizeof(ids));
	CHECK_EQ_STR(ids, "3");
	/* session 1 ended 3h ago, 2 is active, 3 started 1h ago */
	json_ids("--since 2h", ids, sizeof(ids));
	CHECK_EQ_STR(ids, "3,2");
	json_ids("--since 90m --until 61m", ids, sizeof(ids));
	CHECK_EQ_STR(ids, "2");
	snprintf(a, sizeof(a), "--until %lld", (long long)((g_t0 + 1800 * S) / S));
	json_ids(a, ids, sizeof(ids));
	CHECK_EQ_STR(ids, "1");
	snprintf(a, sizeof(a), "--since '%s'", iso(g_t0 + 3000 * S, b, sizeof(b)));
	json_ids(a, ids, sizeof(ids));
	CHECK_EQ_STR(ids, "3,2");
	/* the global option after the command name works the same */
	{
		struct kt_fx_res r;

		run(&r, "sessions --db '%s' --json --namespace default", g_db);
		CHECK_EQ_INT(r.status, 0);
		CHECK(strstr(r.out, "\"id\": 3") || strstr(r.out, "\"id\":3"));
		kt_fx_res_free(&r);
	}
}

static void t_sessions_json(void)
{
	static const char *const keys[] = {
		"id", "uuid", "kernel_id", "start_us", "end_us", "state", "has_exit",
		"exit_status", "node", "k8s_namespace", "pod", "pod_uid", "container",
		"container_id", "runtime", "attribution_guess", "entry_flags", "hostname",
		"cgroup_path", "cgroup_id", "pidns_ino", "mntns_ino", "leader_pid",
		"leader_ns_pid", "leader_uid", "leader_gid", "leader_comm", "has_tty",
		"tty_name", "rows", "cols", "capture", "bytes_out", "bytes_in",
		"lost_bytes", "lost_events", "n_commands", "first_command",
	};
	struct kt_fx_res r;
	json_error_t e;
	json_t *arr, *s1, *s2, *s3;

	run(&r, "--db '%s' sessions --json", g_db);
	CHECK_EQ_INT(r.status, 0);
	arr = json_loads(r.out, 0, &e);
	CHECK(json_is_array(arr));
	CHECK_EQ_INT(json_array_size(arr), 3);
	s3 = json_array_get(arr, 0);
	s2 = json_array_get(arr, 1);
	s1 = json_array_get(arr, 2);
	for (size_t i = 0; s1 && i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!json_object_get(s1, keys[i])) {
			printf("  missing key %s\n", keys[i]);
			CHECK(!"every kt_session_info field");
		}
	CHECK_EQ_STR(json_string_value(json_object_get(s1, "pod")), "web-1");
	CHECK_EQ_STR(json_string_value(json_object_get(s1, "state")), "ended");
	CHECK_EQ_STR(json_string_value(json_object_get(s1, "tty_name")), "pts/3 on devpts 0:85");
	CHECK_EQ_INT(json_integer_value(json_object_get(s1, "bytes_out")), g_out_len);
	CHECK_EQ_INT(json_integer_value(json_object_get(s1, "bytes_in")), g_in_len);
	CHECK_EQ_INT(json_integer_value(json_object_get(s1, "lost_bytes")), 4096);
	CHECK_EQ_INT(json_integer_value(json_object_get(s1, "n_commands")), 5);
	CHECK_EQ_INT(json_integer_value(json_object_get(s1, "start_us")), g_t0);
	CHECK_EQ_INT(json_integer_value(json_object_get(s1, "exit_code")), 0);
	CHECK(json_is_true(json_object_get(s2, "attribution_guess")));
	CHECK_EQ_INT(json_array_size(json_object_get(s2, "entry_flags")), 1);
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(s2, "entry_flags"), 0)),
		     "entered-from-node");
	CHECK_EQ_INT(json_array_size(json_object_get(s1, "entry_flags")), 0);
	CHECK_EQ_STR(json_string_value(json_object_get(s2, "state")), "active");
	CHECK(json_is_false(json_object_get(s2, "has_tty")));
	CHECK_EQ_STR(json_string_value(json_object_get(s3, "exit_signal")), "SIGKILL");
	CHECK_EQ_STR(json_string_value(json_object_get(s3, "state")), "interrupted");
	json_decref(arr);
	kt_fx_res_free(&r);

	/* nothing matches: still valid JSON */
	run(&r, "--db '%s' sessions --json --pod nope", g_db);
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_STR(r.out, "[]\n");
	kt_fx_res_free(&r);
}

static void t_usage_errors(void)
{
	expect_fail(2, "sessions --since 5x");
	expect_fail(2, "sessions --until 2026-02-30");
	expect_fail(2, "sessions --since ''");
	expect_fail(2, "sessions --bogus");
	expect_fail(2, "sessions -x");
	expect_fail(2, "sessions --namespace");
	expect_fail(2, "sessions --tty --no-tty");
	expect_fail(2, "sessions --limit 0");
	expect_fail(2, "sessions --limit 12abc");
	expect_fail(2, "sessions --since 1h --until 2h");
	expect_fail(2, "sessions extra");
	expect_fail(2, "show 12abc");
	expect_fail(2, "show -1");
	expect_fail(2, "show 0");
	expect_fail(2, "show ' 1'");
	expect_fail(2, "show +1");
	expect_fail(2, "show 99999999999999999999");
	expect_fail(2, "show 9223372036854775808");
	expect_fail(2, "show");
	expect_fail(2, "show 1 2");
	expect_fail(2, "cat abc");
	expect_fail(2, "cat 1 -o");
	expect_fail(2, "frobnicate");
	expect_fail(2, "--log-level loud sessions");
	expect_fail(2, "sessions --since \"$(printf '5\\nx')\""); /* still one line */
}

static void t_not_found(void)
{
	char path[256];
	struct stat sb;

	expect_fail(3, "show 999");
	expect_fail(3, "show 9223372036854775807");
	snprintf(path, sizeof(path), "%s/never", g_dir);
	{
		char args[512];

		snprintf(args, sizeof(args), "cat 999 -o '%s'", path);
		expect_fail(3, args);
	}
	CHECK(stat(path, &sb) != 0); /* no output file for an unknown id */
}

static void t_db_errors(void)
{
	struct kt_fx_res r;

	run(&r, "--db '%s/missing.db' sessions", g_dir);
	CHECK_EQ_INT(r.status, 1);
	CHECK(r.err_lines >= 1);
	kt_fx_res_free(&r);
	run(&r, "--db /etc/passwd show 1");
	CHECK_EQ_INT(r.status, 1);
	kt_fx_res_free(&r);
}

/* offset of `needle` in r->out, or -1 */
static long pos(const struct kt_fx_res *r, const char *needle)
{
	const char *p = strstr(r->out, needle);

	return p ? p - r->out : -1;
}

static void t_show(void)
{
	struct kt_fx_res r;

	run(&r, "--db '%s' show 1", g_db);
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_INT(r.err_lines, 0);
	CHECK(pos(&r, "Session 1 (ended)") == 0);
	CHECK(pos(&r, "web-1") > 0);
	CHECK(pos(&r, "nginx") > 0);
	CHECK(pos(&r, "node-a") > 0);
	CHECK(pos(&r, "pts/3 on devpts 0:85, 120x40") > 0);
	CHECK(pos(&r, "out 600B") < 0); /* human units and exact count */
	CHECK(pos(&r, "4096 bytes in 3 events") > 0);
	CHECK(pos(&r, "guessed") < 0);
	CHECK(pos(&r, "5m12s") > 0);
	/* timeline in order, offsets, quoting, tree */
	CHECK(pos(&r, "+00:00.000") > 0);
	CHECK(pos(&r, "+00:03.214") > 0);
	CHECK(pos(&r, "bash -l") > 0);
	CHECK(pos(&r, "bash -l") < pos(&r, "\\_ ls -la"));
	CHECK(pos(&r, "\\_ ls -la") < pos(&r, "\\_ sh -c 'echo \"it'\\''s\"'"));
	CHECK(pos(&r, "\\_ sh -c") < pos(&r, "    \\_ echo 'it'\\''s'"));
	CHECK(pos(&r, "\\_ echo") < pos(&r, "\\_ printf $'a\\tb\\x1b[2J'"));
	CHECK(pos(&r, "12ms") > 0);   /* ls ran 12 ms */
	CHECK(strchr(r.out, '\033') == NULL); /* recorded ESC never raw */
	kt_fx_res_free(&r);

	run(&r, "show 2 --db '%s'", g_db);
	CHECK_EQ_INT(r.status, 0);
	CHECK(pos(&r, "coredns-x (guessed from hostname)") > 0);
	CHECK(pos(&r, "Session 2 (active)") == 0);
	CHECK(pos(&r, "running") > 0);
	kt_fx_res_free(&r);

	run(&r, "--db '%s' show 3", g_db);
	CHECK_EQ_INT(r.status, 0);
	CHECK(pos(&r, "LOST") > 0);
	CHECK(pos(&r, "SIGKILL") > 0);
	CHECK(pos(&r, "none recorded") > 0);
	kt_fx_res_free(&r);
}

static void t_show_json(void)
{
	struct kt_fx_res r;
	json_error_t e;
	json_t *root, *cmds, *c;
	size_t i;

	run(&r, "--db '%s' show 1 --json", g_db);
	CHECK_EQ_INT(r.status, 0);
	root = json_loads(r.out, 0, &e);
	CHECK(json_is_object(root));
	CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(root, "session"), "id")), 1);
	cmds = json_object_get(root, "commands");
	CHECK_EQ_INT(json_array_size(cmds), 5);
	json_array_foreach(cmds, i, c)
		CHECK_EQ_INT(json_integer_value(json_object_get(c, "seq")), i);
	c = json_array_get(cmds, 2);
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(c, "argv"), 2)), "echo \"it's\"");
	CHECK_EQ_INT(json_integer_value(json_object_get(c, "depth")), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(cmds, 3), "depth")), 2);
	CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(cmds, 4), "exit_code")), 1);
	json_decref(root);
	kt_fx_res_free(&r);
}

static void t_cat(void)
{
	struct kt_fx_res r;
	char path[256];
	size_t n = 0;
	char *data;

	run(&r, "--db '%s' cat 1", g_db);
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_INT(r.out_len, g_out_len);
	CHECK(r.out_len == g_out_len && memcmp(r.out, g_out, g_out_len) == 0);
	CHECK_EQ_INT(r.err_lines, 1); /* the gap */
	CHECK(r.err && strstr(r.err, "4096 bytes") != NULL);
	kt_fx_res_free(&r);

	run(&r, "--db '%s' cat --input 1", g_db);
	CHECK_EQ_INT(r.status, 0);
	CHECK(r.out_len == g_in_len && memcmp(r.out, g_in, g_in_len) == 0);
	kt_fx_res_free(&r);

	snprintf(path, sizeof(path), "%s/out.bin", g_dir);
	run(&r, "cat 1 -o '%s' --db '%s'", path, g_db);
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_INT(r.out_len, 0);
	data = kt_fx_slurp_path(path, &n);
	CHECK(data && n == g_out_len && memcmp(data, g_out, n) == 0);
	free(data);
	kt_fx_res_free(&r);

	/* an active session: what is stored so far (nothing here) */
	run(&r, "--db '%s' cat 2", g_db);
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_INT(r.out_len, 0);
	kt_fx_res_free(&r);
}

static void t_env_db(void)
{
	struct kt_fx_res r;
	char env[256];

	snprintf(env, sizeof(env), "KUBETAPE_DB='%s'", g_db);
	run_env(&r, env, "show 1");
	CHECK_EQ_INT(r.status, 0);
	kt_fx_res_free(&r);
	/* --db wins over the environment */
	run_env(&r, env, "--db '%s/missing.db' show 1", g_dir);
	CHECK_EQ_INT(r.status, 1);
	kt_fx_res_free(&r);
}

/* A recorder holding a write transaction open must not block readers (WAL). */
static void t_concurrent_writer(void)
{
	struct kt_store *st = NULL;
	struct kt_session_info s;
	struct kt_chunk_builder b;
	char ids[64];
	struct kt_fx_res r;

	CHECK_EQ_INT(kt_store_open(g_db, KT_STORE_CREATE, &st), 0);
	if (!st)
		return;
	CHECK_EQ_INT(kt_store_begin(st), 0);
	s = base_session("0badf00d-4", kt_now_us());
	snprintf(s.k8s_namespace, sizeof(s.k8s_namespace), "late");
	CHECK_EQ_INT(kt_store_session_create(st, &s), 0);
	kt_chunk_builder_init(&b);
	CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_OUT, kt_now_us(), "live\n", 5), 0);
	CHECK_EQ_INT(kt_store_chunk_append(st, s.id, &b), 0);

	json_ids("", ids, sizeof(ids)); /* the open batch is invisible */
	CHECK_EQ_STR(ids, "3,2,1");
	run(&r, "--db '%s' cat 1", g_db);
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_INT(r.out_len, g_out_len);
	kt_fx_res_free(&r);

	CHECK_EQ_INT(kt_store_commit(st), 0);
	json_ids("", ids, sizeof(ids));
	CHECK_EQ_STR(ids, "4,3,2,1");
	run(&r, "--db '%s' cat 4", g_db);  /* an active session's output so far */
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_STR(r.out, "live\n");
	kt_fx_res_free(&r);

	/* a session stored after the others but started before them (one the
	 * recorder found running at its start): listed by start time, not id */
	s = base_session("0badf00d-5", g_t0 - 3600 * S);
	CHECK_EQ_INT(kt_store_session_create(st, &s), 0);
	json_ids("", ids, sizeof(ids));
	CHECK_EQ_STR(ids, "4,3,2,1,5");
	json_ids("--limit 2", ids, sizeof(ids));
	CHECK_EQ_STR(ids, "4,3");
	kt_chunk_builder_free(&b);
	kt_store_close(st);
}

static void t_help(void)
{
	static const char *const cmds[] = { "--help", "-h", "help", "sessions --help",
		"show --help", "cat -h", "show 1 --help" };
	struct kt_fx_res r;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		run(&r, "%s", cmds[i]);
		CHECK_EQ_INT(r.status, 0);
		CHECK(strstr(r.out, "Usage: kubetape") == r.out);
		kt_fx_res_free(&r);
	}
	run(&r, "--help");
	CHECK(strstr(r.out, "3  not found") != NULL);
	kt_fx_res_free(&r);
	run(&r, "%s", "");
	CHECK_EQ_INT(r.status, 2);
	kt_fx_res_free(&r);
}

int main(int argc, char **argv)
{
	if (kt_fx_find_bin(argc, argv, "kubetape", g_bin, sizeof(g_bin)) ||
	    kt_fx_mkdtemp(g_dir, sizeof(g_dir), "kt-cli-read"))
		return 1;
	snprintf(g_err, sizeof(g_err), "%s/stderr", g_dir);
	g_t0 = (kt_now_us() / S - 3 * 3600) * S;

	kt_log_init("test_cli_read", KT_LOG_WARN);
	RUN(t_build_store);
	if (kt_t_failed_cases) {
		kt_fx_rm_dir(g_dir);
		return 1;
	}
	RUN(t_sessions_table);
	RUN(t_sessions_filters);
	RUN(t_sessions_json);
	RUN(t_usage_errors);
	RUN(t_not_found);
	RUN(t_db_errors);
	RUN(t_show);
	RUN(t_show_json);
	RUN(t_cat);
	RUN(t_env_db);
	RUN(t_help);
	RUN(t_concurrent_writer); /* last: it adds a session */
	kt_fx_rm_dir(g_dir);
	return kt_test_done();
}
