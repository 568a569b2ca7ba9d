// SPDX-License-Identifier: Apache-2.0
/*
 * `kubetape export` and `kubetape cat --follow` end to end: builds a real
 * store through the store API, runs the built binary and checks its output,
 * exit codes and files.  The binary is found like test_cli_read finds it
 * ($KT_BIN_DIR, else $KT_OUT, else next to this program).
 *
 * Sessions:
 *   1  ended, tty 100x30, nothing lost: ASCII, escape sequences, UTF-8 with
 *      characters split across frames, NUL/DEL/C1, a resize, input,
 *      commands.  tests/e2e/asciicast_compat_test.sh plays it with asciinema.
 *   2  ended, a gap, invalid UTF-8
 *   3  ended, invalid UTF-8, nothing lost (compared with Python's decoder
 *      by the e2e test)
 *   4, 5  created active by the follow tests
 *
 * KT_EXPORT_FIXTURE=PATH: only build the store at PATH (replaced) and exit;
 * the e2e test uses it.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
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

extern char **environ;

static char g_bin[4096], g_dir[64], g_db[4096], g_err[128];
static int64_t g_t0;
static uint8_t g_out1[256 * 1024], g_in1[64]; /* session 1: expected raw bytes */
static size_t g_out1_len, g_in1_len;
static uint8_t g_out2[256];
static size_t g_out2_len;

/* Runs `kubetape --db DB ARGS` through sh; ARGS is a printf format. */
static void run(struct kt_fx_res *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void run(struct kt_fx_res *r, const char *fmt, ...)
{
	char args[2048], cmd[16384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "env -u KUBETAPE_DB '%s' --db '%s' %s", g_bin, g_db, args);
	kt_fx_run_sh(r, cmd, g_err);
}

/* ------------------------------------------------------------ the store */

static void put_cmd(struct kt_store *st, int64_t sid, int64_t ts, uint32_t pid,
		    uint32_t ppid, const char *argv, size_t argv_len)
{
	struct kt_command c = kt_fx_cmd(sid, ts, pid, ppid, argv, argv_len);

	CHECK_EQ_INT(kt_store_command_add(st, &c), 0);
	CHECK_EQ_INT(kt_store_command_exit(st, sid, pid, ts + 1000, 0), 0);
}

static void frame(struct kt_chunk_builder *b, uint8_t type, int64_t ts, const void *d,
		  size_t n, uint8_t *acc, size_t *acc_len)
{
	CHECK_EQ_INT(kt_chunk_add(b, type, ts, d, (uint32_t)n), 0);
	if (acc) {
		memcpy(acc + *acc_len, d, n);
		*acc_len += n;
	}
}
#define OUT1(ts, lit) frame(&b, KT_FRAME_OUT, ts, lit, sizeof(lit) - 1, g_out1, &g_out1_len)
#define IN1(ts, lit) frame(&b, KT_FRAME_IN, ts, lit, sizeof(lit) - 1, g_in1, &g_in1_len)

static struct kt_session_info session(const char *uuid, int64_t start, const char *pod)
{
	struct kt_session_info s = kt_fx_session(uuid, "prod", pod, start);

	s.cols = 100;
	s.rows = 30;
	return s;
}

static void t_build_store(void)
{
	struct kt_store *st = NULL;
	struct kt_chunk_builder b;
	struct kt_session_info a, g, v;
	int64_t t0 = g_t0;
	static uint8_t big[100000];

	unlink(g_db);
	CHECK_EQ_INT(kt_store_open(g_db, KT_STORE_CREATE, &st), 0);
	if (!st)
		return;
	kt_chunk_builder_init(&b);

	/* 1: everything but loss */
	a = session("e0e0-1", t0, "web-0");
	CHECK_EQ_INT(kt_store_session_create(st, &a), 0);
	put_cmd(st, a.id, t0, 100, 90, ARGV("bash\0-i"));
	put_cmd(st, a.id, t0 + 2 * S, 101, 100, ARGV("ls\0-la"));
	put_cmd(st, a.id, t0 + 4 * S, 102, 100, ARGV("printf\0\\e[1mbold\\xe2\\x82\\xac"));
	OUT1(t0 + 1000, "\x1b]0;root@web-0:/\x07root@web-0:/# ");
	IN1(t0 + 1 * S, "ls -la\r");
	OUT1(t0 + 1 * S + 10, "ls -la\r\n");
	OUT1(t0 + 2 * S + 10, "total 0 \xe2\x82");          /* euro sign cut 2+1 ... */
	CHECK_EQ_INT(kt_store_chunk_append(st, a.id, &b), 0); /* ... across chunks */
	kt_chunk_builder_reset(&b);
	OUT1(t0 + 2 * S + 20, "\xac caf\xc3\xa9 \xf0");   /* emoji cut 1+2+1 */
	OUT1(t0 + 2 * S + 30, "\x9f\x98");
	OUT1(t0 + 2 * S + 40, "\x80 \x1b[1;32mgreen\x1b[0m\ttab\r\n");
	CHECK_EQ_INT(kt_chunk_add_resize(&b, t0 + 3 * S, 120, 40), 0);
	OUT1(t0 + 3 * S + 1, "\x1b[?1049h\x1b[H\x1b[2Jfull screen\x1b[?1049l");
	OUT1(t0 + 3 * S + 2, "nul\0del\x7f c1\xc2\x9b" "0m quote\" backslash\\\r\n");
	IN1(t0 + 4 * S, "\x1b[A\r");
	OUT1(t0 + 4 * S + 5, "\x1b[1mbold\xe2\x82\xac\x1b[0m\r\n");
	for (size_t i = 0; i < sizeof(big); i++)   /* a big frame of text lines */
		big[i] = (uint8_t)(i % 80 == 79 ? '\n' : 'a' + i % 26);
	frame(&b, KT_FRAME_OUT, t0 + 5 * S, big, sizeof(big), g_out1, &g_out1_len);
	OUT1(t0 + 6 * S, "root@web-0:/# exit\r\n");
	CHECK_EQ_INT(kt_store_chunk_append(st, a.id, &b), 0);
	kt_chunk_builder_reset(&b);
	kt_fx_end_session(st, &a, t0 + 7 * S);

	/* 2: a gap (with a character cut by it) and invalid UTF-8 */
	g = session("e0e0-2", t0 + 100 * S, "db-0");
	CHECK_EQ_INT(kt_store_session_create(st, &g), 0);
	put_cmd(st, g.id, t0 + 100 * S, 200, 190, ARGV("sh"));
	frame(&b, KT_FRAME_OUT, t0 + 101 * S, "before \xe2\x82", 9, g_out2, &g_out2_len);
	CHECK_EQ_INT(kt_chunk_add_gap(&b, t0 + 102 * S, 4096, 2), 0);
	frame(&b, KT_FRAME_OUT, t0 + 103 * S, "\xac" "after \xff\xfe\r\n", 11, g_out2, &g_out2_len);
	CHECK_EQ_INT(kt_store_chunk_append(st, g.id, &b), 0);
	kt_chunk_builder_reset(&b);
	kt_fx_end_session(st, &g, t0 + 104 * S);

	/* 3: invalid UTF-8 of every kind, nothing lost */
	v = session("e0e0-3", t0 + 200 * S, "bin-0");
	v.has_tty = false;
	v.cols = v.rows = 0;
	CHECK_EQ_INT(kt_store_session_create(st, &v), 0);
	frame(&b, KT_FRAME_OUT, t0 + 200 * S, ARGV("\xff\xc0\xaf\xe0\x80\xaf|\xed\xa0\x80|"
		"\xf4\x90\x80\x80|\xf0\x90\x80" "A|\xe2\x82") - 1, NULL, NULL);
	frame(&b, KT_FRAME_OUT, t0 + 201 * S, ARGV("B\xc3\xa9\xa9\r\n\xe2") - 1, NULL, NULL);
	CHECK_EQ_INT(kt_store_chunk_append(st, v.id, &b), 0);
	kt_chunk_builder_free(&b);
	kt_fx_end_session(st, &v, t0 + 202 * S);
	kt_store_close(st);
	CHECK_EQ_INT(a.id, 1);
	CHECK_EQ_INT(g.id, 2);
	CHECK_EQ_INT(v.id, 3);
}

/* ------------------------------------------------------------ asciicast */

struct cast {
	json_t *header;
	json_t *ev[4096];
	size_t n;
};

static void cast_free(struct cast *c)
{
	json_decref(c->header);
	for (size_t i = 0; i < c->n; i++)
		json_decref(c->ev[i]);
	memset(c, 0, sizeof(*c));
}

/* Parses an asciicast; CHECKs every line is JSON and times never decrease. */
static void cast_parse(struct cast *c, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;
	double last = 0;
	json_error_t e;

	memset(c, 0, sizeof(*c));
	for (; p < end && (nl = memchr(p, '\n', (size_t)(end - p))); p = nl + 1) {
		json_t *j = json_loadb(p, (size_t)(nl - p), JSON_ALLOW_NUL, &e);

		if (!j) {
			printf("  line is not JSON (%s): %.*s\n", e.text, (int)(nl - p), p);
			CHECK(!"JSON lines");
			continue;
		}
		if (!c->header) {
			c->header = j;
			continue;
		}
		if (!json_is_array(j) || json_array_size(j) != 3 ||
		    !json_is_string(json_array_get(j, 1)) || !json_is_string(json_array_get(j, 2)) ||
		    !json_is_number(json_array_get(j, 0))) {
			CHECK(!"events are [time, code, data]");
		} else if (json_number_value(json_array_get(j, 0)) < last) {
			CHECK(!"times never decrease");
		} else {
			last = json_number_value(json_array_get(j, 0));
		}
		if (c->n < sizeof(c->ev) / sizeof(c->ev[0]))
			c->ev[c->n++] = j;
		else
			json_decref(j);
	}
	CHECK(p == end); /* ends with a newline */
}

static const char *code_of(const struct cast *c, size_t i)
{
	return json_string_value(json_array_get(c->ev[i], 1));
}

/* Concatenated data of every event with `code`. */
static size_t cat_events(const struct cast *c, const char *code, uint8_t *buf, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++) {
		json_t *d = json_array_get(c->ev[i], 2);
		size_t l = json_string_length(d);

		if (strcmp(code_of(c, i), code) || n + l > cap)
			continue;
		memcpy(buf + n, json_string_value(d), l);
		n += l;
	}
	return n;
}

static bool has_event(const struct cast *c, const char *code, const char *data)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(code_of(c, i), code) &&
		    !strcmp(json_string_value(json_array_get(c->ev[i], 2)), data))
			return true;
	return false;
}

static void t_asciicast(void)
{
	static uint8_t got[sizeof(g_out1)];
	struct kt_fx_res r;
	struct cast c;
	size_t n;
	json_t *h;

	run(&r, "export 1");  /* asciicast is the default */
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_INT(r.err_lines, 0);
	cast_parse(&c, r.out, r.out_len);
	h = c.header;
	CHECK_EQ_INT(json_integer_value(json_object_get(h, "version")), 2);
	CHECK_EQ_INT(json_integer_value(json_object_get(h, "width")), 100);
	CHECK_EQ_INT(json_integer_value(json_object_get(h, "height")), 30);
	CHECK_EQ_INT(json_integer_value(json_object_get(h, "timestamp")), g_t0 / S);
	CHECK_EQ_STR(json_string_value(json_object_get(h, "title")), "prod/web-0/app #1");
	CHECK(!json_object_get(h, "env")); /* not recorded: left out */
	/* the output, split characters and all, comes back byte for byte */
	n = cat_events(&c, "o", got, sizeof(got));
	CHECK_EQ_INT(n, g_out1_len);
	CHECK(n == g_out1_len && memcmp(got, g_out1, n) == 0);
	n = cat_events(&c, "i", got, sizeof(got));
	CHECK(n == g_in1_len && memcmp(got, g_in1, n) == 0);
	CHECK(has_event(&c, "r", "120x40"));
	CHECK(has_event(&c, "m", "$ bash -i"));
	CHECK(has_event(&c, "m", "$ ls -la"));
	CHECK(has_event(&c, "m", "$ printf '\\e[1mbold\\xe2\\x82\\xac'"));
	/* no character became U+FFFD */
	CHECK(memmem(r.out, r.out_len, "\xef\xbf\xbd", 3) == NULL);
	/* markers sit between the output around them: ls at +2s comes after
	 * the echo of "ls -la" (+1s) and before its listing (+2s + 10us) */
	{
		size_t im = 0, iecho = 0, ilist = 0;

		for (size_t i = 0; i < c.n; i++) {
			const char *d = json_string_value(json_array_get(c.ev[i], 2));

			if (!strcmp(d, "$ ls -la"))
				im = i;
			if (!strcmp(d, "ls -la\r\n"))
				iecho = i;
			if (!strncmp(d, "total 0", 7))
				ilist = i;
		}
		CHECK(iecho < im && im < ilist);
	}
	cast_free(&c);
	kt_fx_res_free(&r);

	run(&r, "export 1 --format asciicast --no-input");
	CHECK_EQ_INT(r.status, 0);
	cast_parse(&c, r.out, r.out_len);
	for (size_t i = 0; i < c.n; i++)
		CHECK(strcmp(code_of(&c, i), "i") != 0);
	cast_free(&c);
	kt_fx_res_free(&r);
}

static void t_asciicast_gap(void)
{
	struct kt_fx_res r;
	struct cast c;

	run(&r, "export 2 -F asciicast");
	CHECK_EQ_INT(r.status, 0);
	CHECK(r.err && strstr(r.err, "4096 bytes") != NULL); /* warned on stderr too */
	cast_parse(&c, r.out, r.out_len);
	CHECK(has_event(&c, "m", "[kubetape: 4096 bytes lost here]"));
	CHECK(has_event(&c, "o", "\r\n\x1b[7m[kubetape: 4096 bytes lost by the recorder here]\x1b[0m\r\n"));
	/* the euro sign cut by the gap: one U+FFFD before, one after */
	CHECK(has_event(&c, "o", "before "));
	CHECK(has_event(&c, "o", "\xef\xbf\xbd"));
	CHECK(has_event(&c, "o", "\xef\xbf\xbd" "after \xef\xbf\xbd\xef\xbf\xbd\r\n"));
	cast_free(&c);
	kt_fx_res_free(&r);

	/* no tty: 80x24 so players can still size a terminal */
	run(&r, "export 3");
	CHECK_EQ_INT(r.status, 0);
	cast_parse(&c, r.out, r.out_len);
	CHECK_EQ_INT(json_integer_value(json_object_get(c.header, "width")), 80);
	CHECK_EQ_INT(json_integer_value(json_object_get(c.header, "height")), 24);
	cast_free(&c);
	kt_fx_res_free(&r);
}

static void t_raw(void)
{
	struct kt_fx_res r;

	run(&r, "export 1 --format raw");
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_INT(r.out_len, g_out1_len);
	CHECK(r.out_len == g_out1_len && memcmp(r.out, g_out1, g_out1_len) == 0);
	kt_fx_res_free(&r);
	/* raw stays pure: no loss notice in the bytes, a warning on stderr */
	run(&r, "export 2 --format=raw");
	CHECK_EQ_INT(r.status, 0);
	CHECK(r.out_len == g_out2_len && memcmp(r.out, g_out2, g_out2_len) == 0);
	CHECK_EQ_INT(r.err_lines, 1);
	kt_fx_res_free(&r);
}

static void t_json(void)
{
	struct kt_fx_res a, b;
	json_error_t e;
	json_t *j;

	run(&a, "export 1 --format json");
	run(&b, "show --json 1");
	CHECK_EQ_INT(a.status, 0);
	CHECK(a.out_len == b.out_len && memcmp(a.out, b.out, a.out_len) == 0);
	j = json_loads(a.out, 0, &e);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "commands")), 3);
	CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(j, "session"), "id")), 1);
	json_decref(j);
	kt_fx_res_free(&a);
	kt_fx_res_free(&b);
}

static void expect_fail(int code, const char *args)
{
	struct kt_fx_res r;

	run(&r, "%s", args);
	if (r.status != code || r.err_lines != 1 || r.out_len != 0) {
		printf("  kubetape %s: exit %d, %d stderr lines, %zu stdout bytes:\n%s",
		       args, r.status, r.err_lines, r.out_len, r.err ? r.err : "");
		CHECK(!"expected exactly one error line and exit code");
	}
	kt_fx_res_free(&r);
}

static bool screen_api_built(void)
{
	struct stat sb;
	char p[4200];
	const char *repo = getenv("KT_REPO");

	snprintf(p, sizeof(p), "%s/store/include/screen.h", repo && *repo ? repo : ".");
	return stat(p, &sb) == 0;
}

static void t_errors(void)
{
	expect_fail(3, "export 99");
	expect_fail(3, "export 99 --format raw");
	expect_fail(2, "export");
	expect_fail(2, "export 1 2");
	expect_fail(2, "export x1");
	expect_fail(2, "export 1 --format bogus");
	expect_fail(2, "export 1 --format");
	expect_fail(2, "export 1 --format json --follow");
	expect_fail(2, "export 1 -o ''");
	expect_fail(2, "export 1 --bogus");
	if (!screen_api_built()) {
		struct kt_fx_res r;

		run(&r, "export 1 --format text");
		CHECK_EQ_INT(r.status, 2);
		CHECK(r.err && strstr(r.err, "format text is not implemented in this build"));
		kt_fx_res_free(&r);
	}
}

/* Files in g_dir whose name starts with '.': leftover temp files. */
static int hidden_files(void)
{
	DIR *d = opendir(g_dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

static void t_output_file(void)
{
	char path[256], none[256];
	struct kt_fx_res r;
	struct stat sb;
	size_t n;
	char *d;
	mode_t mask;

	snprintf(path, sizeof(path), "%s/s1.cast", g_dir);
	run(&r, "export 1 -o '%s'", path);
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_INT(r.out_len, 0);
	kt_fx_res_free(&r);
	d = kt_fx_slurp_path(path, &n);
	CHECK(d && strncmp(d, "{\"version\": 2,", 14) == 0 && d[n - 1] == '\n');
	free(d);
	mask = umask(0);
	umask(mask);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == (0666 & ~mask));

	/* an existing file is never replaced without --force, and kept intact */
	run(&r, "export 1 --format raw -o '%s'", path);
	CHECK_EQ_INT(r.status, 1);
	CHECK_EQ_INT(r.err_lines, 1);
	CHECK(r.err && strstr(r.err, "exists") && strstr(r.err, "--force"));
	kt_fx_res_free(&r);
	d = kt_fx_slurp_path(path, &n);
	CHECK(d && strncmp(d, "{\"version\": 2,", 14) == 0);
	free(d);

	run(&r, "export 1 --format raw -o '%s' --force", path);
	CHECK_EQ_INT(r.status, 0);
	kt_fx_res_free(&r);
	d = kt_fx_slurp_path(path, &n);
	CHECK(d && n == g_out1_len && memcmp(d, g_out1, n) == 0);
	free(d);

	/* unknown id, missing directory, a directory: no file, no temp file */
	snprintf(none, sizeof(none), "%s/none.cast", g_dir);
	run(&r, "export 99 -o '%s'", none);
	CHECK_EQ_INT(r.status, 3);
	kt_fx_res_free(&r);
	CHECK(stat(none, &sb) != 0);
	run(&r, "export 1 -o '%s/no/such/dir.cast'", g_dir);
	CHECK_EQ_INT(r.status, 1);
	CHECK_EQ_INT(r.err_lines, 1);
	kt_fx_res_free(&r);
	run(&r, "export 1 -o '%s'", g_dir);
	CHECK_EQ_INT(r.status, 1);
	kt_fx_res_free(&r);
	/* -o - is stdout */
	run(&r, "export 1 -F raw -o -");
	CHECK_EQ_INT(r.out_len, g_out1_len);
	kt_fx_res_free(&r);
	CHECK_EQ_INT(hidden_files(), 0);
}

/* ------------------------------------------------------------ follow */

/* Starts `kubetape --db DB ARGS > out 2> err` in the background. */
static pid_t spawn(const char *args, const char *out)
{
	static char cmd[16384];
	char *argv[] = { "sh", "-c", cmd, NULL };
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "exec env -u KUBETAPE_DB '%s' --db '%s' %s >'%s' 2>'%s.err'",
		 g_bin, g_db, args, out, out);
	if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ))
		return -1;
	return pid;
}

/* Exit status within `ms`, or -1 (still running: killed). */
static int wait_exit(pid_t pid, int ms)
{
	int st;

	for (int i = 0; i < ms / 10; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/* The file holds exactly `want` within 5 s (followers poll every 150 ms;
 * sanitizer builds on a loaded machine are slow). */
static bool file_is(const char *path, const char *want)
{
	size_t n = 0;
	char *d = NULL;
	bool ok = false;

	for (int i = 0; i < 500 && !ok; i++) {
		free(d);
		d = kt_fx_slurp_path(path, &n);
		ok = d && n == strlen(want) && memcmp(d, want, n) == 0;
		if (!ok)
			usleep(10000);
	}
	if (!ok)
		printf("  %s holds \"%s\", expected \"%s\"\n", path, d ? d : "(none)", want);
	free(d);
	return ok;
}

/* Some file in g_dir named ".PREFIX*" (an -o temp file) contains needle
 * within 5 s. */
static bool temp_has(const char *prefix, const char *needle)
{
	for (int i = 0; i < 500; i++) {
		DIR *dir = opendir(g_dir);
		struct dirent *e;
		bool found = false;

		while (dir && (e = readdir(dir)) && !found) {
			char p[512];
			size_t n;
			char *d;

			if (e->d_name[0] != '.' || strncmp(e->d_name + 1, prefix, strlen(prefix)))
				continue;
			snprintf(p, sizeof(p), "%s/%s", g_dir, e->d_name);
			d = kt_fx_slurp_path(p, &n);
			found = d && strstr(d, needle);
			free(d);
		}
		if (dir)
			closedir(dir);
		if (found)
			return true;
		usleep(10000);
	}
	return false;
}

static void append(struct kt_store *st, int64_t sid, const char *text)
{
	struct kt_chunk_builder b;

	kt_chunk_builder_init(&b);
	CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_OUT, kt_now_us(), text, (uint32_t)strlen(text)), 0);
	CHECK_EQ_INT(kt_store_chunk_append(st, sid, &b), 0);
	kt_chunk_builder_free(&b);
}

static void t_cat_follow(void)
{
	struct kt_store *st = NULL;
	struct kt_session_info s;
	char out[256], args[64];
	pid_t pid;

	CHECK_EQ_INT(kt_store_open(g_db, KT_STORE_CREATE, &st), 0);
	if (!st)
		return;
	s = session("e0e0-4", kt_now_us(), "live-0");
	CHECK_EQ_INT(kt_store_session_create(st, &s), 0);
	append(st, s.id, "one\r\n");
	snprintf(out, sizeof(out), "%s/follow.out", g_dir);
	snprintf(args, sizeof(args), "cat %lld --follow", (long long)s.id);
	pid = spawn(args, out);
	CHECK(pid > 0);
	CHECK(file_is(out, "one\r\n"));            /* flushed while following */
	append(st, s.id, "two \xe2\x82");
	CHECK(file_is(out, "one\r\ntwo \xe2\x82"));
	CHECK(waitpid(pid, NULL, WNOHANG) == 0);  /* still following */
	append(st, s.id, "\xac\r\n");
	kt_fx_end_session(st, &s, kt_now_us());          /* ends: it drains and exits */
	CHECK_EQ_INT(wait_exit(pid, 5000), 0);
	CHECK(file_is(out, "one\r\ntwo \xe2\x82\xac\r\n"));

	/* without --follow an active session ends at what is stored */
	s = session("e0e0-5", kt_now_us(), "live-1");
	CHECK_EQ_INT(kt_store_session_create(st, &s), 0);
	append(st, s.id, "so far");
	snprintf(args, sizeof(args), "cat %lld", (long long)s.id);
	pid = spawn(args, out);
	CHECK_EQ_INT(wait_exit(pid, 5000), 0);
	CHECK(file_is(out, "so far"));

	/* Ctrl-C stops a follower cleanly: exit 0, everything written */
	snprintf(args, sizeof(args), "cat -f %lld", (long long)s.id);
	unlink(out);
	pid = spawn(args, out);
	CHECK(file_is(out, "so far"));
	kill(pid, SIGINT);
	CHECK_EQ_INT(wait_exit(pid, 5000), 0);
	CHECK(file_is(out, "so far"));
	kt_store_close(st);
}

static void t_export_follow(void)
{
	struct kt_store *st = NULL;
	struct kt_session_info s;
	char out[256], cast[256], args[512];
	struct cast c;
	size_t n;
	char *d;
	pid_t pid;

	CHECK_EQ_INT(kt_store_open(g_db, KT_STORE_CREATE, &st), 0);
	if (!st)
		return;
	s = session("e0e0-6", kt_now_us(), "live-2");
	CHECK_EQ_INT(kt_store_session_create(st, &s), 0);
	put_cmd(st, s.id, kt_now_us(), 600, 590, ARGV("top"));
	append(st, s.id, "first\r\n");
	snprintf(out, sizeof(out), "%s/export-follow.out", g_dir);
	snprintf(cast, sizeof(cast), "%s/follow.cast", g_dir);
	snprintf(args, sizeof(args), "export %lld --follow -o '%s'", (long long)s.id, cast);
	pid = spawn(args, out);
	CHECK(temp_has("follow.cast.", "first"));
	put_cmd(st, s.id, kt_now_us(), 601, 590, ARGV("ps"));
	append(st, s.id, "second\r\n");
	CHECK(temp_has("follow.cast.", "second"));
	CHECK(waitpid(pid, NULL, WNOHANG) == 0);
	kill(pid, SIGINT);       /* a follow to a file keeps what it has */
	CHECK_EQ_INT(wait_exit(pid, 5000), 0);
	d = kt_fx_slurp_path(cast, &n);
	CHECK(d != NULL);
	cast_parse(&c, d ? d : "", n);
	CHECK(has_event(&c, "o", "first\r\n"));
	CHECK(has_event(&c, "o", "second\r\n"));
	CHECK(has_event(&c, "m", "$ top"));
	CHECK(has_event(&c, "m", "$ ps"));
	cast_free(&c);
	free(d);
	CHECK_EQ_INT(hidden_files(), 0);
	kt_store_close(st);
}

int main(int argc, char **argv)
{
	const char *fixture = getenv("KT_EXPORT_FIXTURE");

	kt_log_init("test_export", KT_LOG_WARN);
	g_t0 = (kt_now_us() / S - 3 * 3600) * S;
	if (fixture && *fixture) {
		snprintf(g_db, sizeof(g_db), "%s", fixture);
		RUN(t_build_store);
		return kt_test_done();
	}
	if (kt_fx_find_bin(argc, argv, "kubetape", g_bin, sizeof(g_bin)) ||
	    kt_fx_mkdtemp(g_dir, sizeof(g_dir), "kt-export"))
		return 1;
	snprintf(g_err, sizeof(g_err), "%s/stderr", g_dir);
	snprintf(g_db, sizeof(g_db), "%s/kt.db", g_dir);

	RUN(t_build_store);
	if (kt_t_failed_cases) {
		kt_fx_rm_dir(g_dir);
		return 1;
	}
	RUN(t_asciicast);
	RUN(t_asciicast_gap);
	RUN(t_raw);
	RUN(t_json);
	RUN(t_errors);
	RUN(t_output_file);
	RUN(t_cat_follow);   /* these add sessions */
	RUN(t_export_follow);
	kt_fx_rm_dir(g_dir);
	return kt_test_done();
}
