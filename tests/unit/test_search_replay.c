// SPDX-License-Identifier: Apache-2.0
/*
 * `kubetape search`, `replay` and `export --format text` end to end: builds
 * a real store through the store API (a session with commands, output
 * drawn with colours, cursor movement and backspace editing, enough data
 * for keyframes; a second session with a long pause), indexes it with
 * kt_index_session as the recorder does, and runs the built binary.
 *
 * Checks: command and screen hits with session, offset and pod; hostile
 * queries reach the store as literal text (no SQL/FTS errors, % and _ are
 * literal); length/UTF-8 errors are clear; replay writes the recorded
 * frames, honours --speed/--idle-limit, and seeking through keyframes,
 * without them, and from a command all end on the same screen as a full
 * replay (checked by feeding the output to kt_screen); export --format text.
 *
 * The binary is $KT_BIN_DIR/kubetape, else $KT_OUT/kubetape, else next to
 * this program's directory.
 */
#include <errno.h>
#include <fcntl.h>
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
#include "screen.h"
#include "store.h"

#define S 1000000LL
#define MS 1000LL

static char g_bin[4096], g_dir[64], g_db[128];
static int64_t g_t0;
static uint8_t *g_raw;     /* session 1's output bytes */
static size_t g_raw_len;

/* Runs kubetape with argv (no shell: hostile text reaches it unchanged). */
static void runv(struct kt_fx_res *r, const char *const *args)
{
	char out[128], err[128];
	const char *argv[64];
	struct timespec a, b;
	size_t n = 0, len;
	pid_t pid;
	int st;

	memset(r, 0, sizeof(*r));
	snprintf(out, sizeof(out), "%s/out", g_dir);
	snprintf(err, sizeof(err), "%s/err", g_dir);
	argv[n++] = g_bin;
	argv[n++] = "--db";
	argv[n++] = g_db;
	for (; *args && n < 63; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	clock_gettime(CLOCK_MONOTONIC, &a);
	pid = fork();
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int i = open("/dev/null", O_RDONLY);

		dup2(i, 0);
		dup2(o, 1);
		dup2(e, 2);
		unsetenv("KUBETAPE_DB");
		execv(g_bin, (char *const *)argv);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	r->ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = kt_fx_slurp_path(out, &r->out_len);
	r->err = kt_fx_slurp_path(err, &len);
	if (!r->out)
		r->out = strdup("");
	if (!r->err)
		r->err = strdup("");
}

#define RUNV(r, ...) runv(r, (const char *const[]){ __VA_ARGS__, NULL })

/* ------------------------------------------------------------ the store */

static void cmd(struct kt_store *st, int64_t sid, int64_t ts, uint32_t pid,
		const char *argv, size_t len)
{
	struct kt_command c = kt_fx_cmd(sid, ts, pid, 100, argv, len);

	CHECK_EQ_INT(kt_store_command_add(st, &c), 0);
}

static void out(struct kt_chunk_builder *b, int64_t ts, const char *d, size_t n)
{
	CHECK_EQ_INT(kt_chunk_add(b, KT_FRAME_OUT, ts, d, (uint32_t)n), 0);
	memcpy(g_raw + g_raw_len, d, n);
	g_raw_len += n;
}
#define OUT(b, ts, lit) out(b, ts, lit, sizeof(lit) - 1)

static void flush_chunk(struct kt_store *st, int64_t sid, struct kt_chunk_builder *b)
{
	CHECK_EQ_INT(kt_store_chunk_append(st, sid, b), 0);
	kt_chunk_builder_reset(b);
}

static void t_build_store(void)
{
	struct kt_store *st = NULL;
	struct kt_chunk_builder b;
	struct kt_session_info a, c;
	char line[128];
	int64_t t0 = g_t0, t;
	int ret, n = 0;

	g_raw = malloc(8u << 20);
	snprintf(g_db, sizeof(g_db), "%s/kt.db", g_dir);
	CHECK_EQ_INT(kt_store_open(g_db, KT_STORE_CREATE, &st), 0);
	if (!st || !g_raw)
		return;
	kt_chunk_builder_init(&b);

	/* 1: shop/web-1, 60 s, ~3 MiB of output (keyframes), edited text */
	a = kt_fx_session("search-1", "shop", "web-1", t0);
	CHECK_EQ_INT(kt_store_session_create(st, &a), 0);
	cmd(st, a.id, t0, 100, ARGV("bash"));
	cmd(st, a.id, t0 + 2 * S, 101, ARGV("cat\0/etc/passwd"));
	cmd(st, a.id, t0 + 4 * S, 102, ARGV("grep\0-r\0it's\0%_x"));
	cmd(st, a.id, t0 + 10 * S, 103, ARGV("seq\0100000"));
	cmd(st, a.id, t0 + 50 * S, 104, ARGV("make\0deploy"));
	OUT(&b, t0 + 1 * MS, "$ ");
	/* typed "sudx", erased the x, typed "o ..." */
	OUT(&b, t0 + 1 * S, "sudx");
	OUT(&b, t0 + 1 * S + 100 * MS, "\b \bo apt-get\r\n");
	/* colour codes in the middle of a word */
	OUT(&b, t0 + 2 * S, "root:x:0:0:pass\x1b[1;31mw\x1b[0mord-hint:/root\r\n");
	/* cursor movement: the two halves join on screen */
	OUT(&b, t0 + 3 * S, "left-\x1b[5Cright\x1b[10Dhalf\r\n");
	flush_chunk(st, a.id, &b);
	/* 40 s of output in chunks of ~64 KiB: keyframes every 1 MiB */
	for (t = t0 + 10 * S; t < t0 + 50 * S; t += 100 * MS) {
		for (int i = 0; i < 80; i++) {
			int len = snprintf(line, sizeof(line), "line %06d %s\r\n", n++,
					   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
			out(&b, t, line, (size_t)len);
		}
		if (b.len > 64 * 1024)
			flush_chunk(st, a.id, &b);
	}
	OUT(&b, t0 + 50 * S, "$ make deploy\r\n\x1b[32mdeployed final-marker\x1b[0m\r\n$ ");
	flush_chunk(st, a.id, &b);
	kt_fx_end_session(st, &a, t0 + 60 * S);

	/* 2: other/db-0, a 20 s pause between two outputs */
	c = kt_fx_session("search-2", "other", "db-0", t0 + 100 * S);
	CHECK_EQ_INT(kt_store_session_create(st, &c), 0);
	cmd(st, c.id, t0 + 100 * S, 200, ARGV("psql"));
	CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_OUT, t0 + 100 * S, "one\r\n", 5), 0);
	CHECK_EQ_INT(kt_chunk_add(&b, KT_FRAME_OUT, t0 + 120 * S, "two\r\n", 5), 0);
	flush_chunk(st, c.id, &b);
	kt_fx_end_session(st, &c, t0 + 121 * S);
	kt_chunk_builder_free(&b);

	/* what the recorder's indexer does */
	while ((ret = kt_index_session(st, a.id, 0)) == 1)
		;
	CHECK_EQ_INT(ret, 0);
	while ((ret = kt_index_session(st, c.id, 0)) == 1)
		;
	CHECK_EQ_INT(ret, 0);
	kt_store_close(st);
	CHECK_EQ_INT(a.id, 1);
	CHECK_EQ_INT(c.id, 2);
}

/* ------------------------------------------------------------ search */

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void t_search_commands(void)
{
	struct kt_fx_res r;

	RUNV(&r, "search", "--in", "commands", "passwd");
	CHECK_EQ_INT(r.status, 0);
	CHECK(strncmp(r.out, "SESSION", 7) == 0);
	CHECK(strstr(r.out, "+00:02.000") && strstr(r.out, "shop/web-1") &&
	      strstr(r.out, "command") && strstr(r.out, "cat /etc/passwd"));
	CHECK_EQ_INT(count_lines(r.out), 2);
	kt_fx_res_free(&r);
	/* quoted for a shell, as show prints it */
	RUNV(&r, "search", "--in", "commands", "it's");
	CHECK_EQ_INT(r.status, 0);
	CHECK(strstr(r.out, "grep -r 'it'\\''s' %_x") != NULL || strstr(r.out, "grep -r \"it's\"") != NULL);
	kt_fx_res_free(&r);
	/* filters: the other namespace has no such command */
	RUNV(&r, "search", "-n", "other", "passwd");
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_STR(r.out, "");
	CHECK(strstr(r.err, "no match") != NULL);
	kt_fx_res_free(&r);
}

static void t_search_screen(void)
{
	struct kt_fx_res r;

	/* colour codes inside the word do not break it */
	RUNV(&r, "search", "--in", "screen", "password-hint");
	CHECK_EQ_INT(r.status, 0);
	CHECK(strstr(r.out, "screen") && strstr(r.out, "+00:02.000") && strstr(r.out, "shop/web-1"));
	CHECK(strstr(r.out, "root:x:0:0:password-hint:/root") != NULL);
	kt_fx_res_free(&r);
	/* backspace editing: what was displayed, not what was typed */
	RUNV(&r, "search", "--in", "screen", "sudo apt-get");
	CHECK_EQ_INT(r.status, 0);
	CHECK(strstr(r.out, "+00:01.100") != NULL);
	kt_fx_res_free(&r);
	RUNV(&r, "search", "--in", "screen", "sudx");
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_STR(r.out, "");
	kt_fx_res_free(&r);
	/* cursor movement */
	RUNV(&r, "search", "--in", "screen", "left-half");
	CHECK_EQ_INT(r.status, 0);
	CHECK(strstr(r.out, "left-half right") != NULL);
	kt_fx_res_free(&r);
	/* the final screen */
	RUNV(&r, "search", "--in", "screen", "final-marker");
	CHECK_EQ_INT(r.status, 0);
	CHECK(strstr(r.out, "final screen") && strstr(r.out, "+00:50.000"));
	kt_fx_res_free(&r);
	/* --in all: both kinds, commands first */
	RUNV(&r, "search", "deploy");
	CHECK_EQ_INT(r.status, 0);
	CHECK(strstr(r.out, "command") && strstr(r.out, "make deploy"));
	CHECK(strstr(r.out, "screen") != NULL);
	CHECK(strstr(r.out, "command") < strstr(r.out, "screen"));
	kt_fx_res_free(&r);
	RUNV(&r, "search", "--limit", "1", "deploy");
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_INT(count_lines(r.out), 2);
	kt_fx_res_free(&r);
}

static void t_search_json(void)
{
	json_error_t e;
	json_t *arr, *v;
	struct kt_fx_res r;
	size_t i;
	int kinds = 0;

	RUNV(&r, "search", "--json", "deploy");
	CHECK_EQ_INT(r.status, 0);
	arr = json_loads(r.out, 0, &e);
	CHECK(json_is_array(arr) && json_array_size(arr) >= 2);
	json_array_foreach(arr, i, v) {
		const char *k = json_string_value(json_object_get(v, "kind"));

		CHECK_EQ_INT(json_integer_value(json_object_get(v, "session_id")), 1);
		CHECK_EQ_STR(json_string_value(json_object_get(v, "pod")), "web-1");
		if (k && !strcmp(k, "command")) {
			kinds |= 1;
			CHECK_EQ_STR(json_string_value(json_object_get(v, "command_line")), "make deploy");
			CHECK_EQ_STR(json_string_value(json_object_get(v, "offset")), "+00:50.000");
			CHECK_EQ_INT(json_integer_value(json_object_get(v, "offset_us")), 50 * S);
		} else if (k && !strcmp(k, "screen")) {
			kinds |= 2;
			CHECK(json_is_string(json_object_get(v, "text")));
			CHECK(json_is_boolean(json_object_get(v, "final")));
		}
	}
	CHECK_EQ_INT(kinds, 3);
	json_decref(arr);
	kt_fx_res_free(&r);
	RUNV(&r, "search", "--json", "nothing-like-this");
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_STR(r.out, "[]\n");
	kt_fx_res_free(&r);
}

static void t_search_hostile(void)
{
	static const char *const q[] = {
		"'", "\"", "''", "a' OR 1=1 --", "\"unterminated", "NEAR(a b)", "a AND b",
		"OR", "NOT", "*", "x*", "^start", "col:val", "-", "(", ")", "{}",
		"a\\", "%", "_", "%%", "\\%", "'; DROP TABLE sessions; --",
		"text MATCH 'x'", "\x01\x02", "ünïcödé", "\xe2\x80\xae", "[", "]",
	};
	struct kt_fx_res r;
	char big[2100];

	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		RUNV(&r, "search", q[i]);
		if (r.status != 0 || strstr(r.err, "SQL") || strstr(r.err, "sqlite") ||
		    strstr(r.err, "error") || strstr(r.err, "fts5")) {
			printf("  query #%zu: exit %d: %s\n", i, r.status, r.err);
			CHECK(!"hostile query failed");
		}
		kt_fx_res_free(&r);
	}
	/* LIKE wildcards are literal: only the argv that has them */
	RUNV(&r, "search", "--in", "commands", "%");
	CHECK_EQ_INT(count_lines(r.out), 2);
	CHECK(strstr(r.out, "%_x") != NULL);
	kt_fx_res_free(&r);
	RUNV(&r, "search", "--in", "commands", "_");
	CHECK_EQ_INT(count_lines(r.out), 2);
	kt_fx_res_free(&r);
	/* clear errors */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	RUNV(&r, "search", big);
	CHECK_EQ_INT(r.status, 2);
	CHECK(strstr(r.err, "query too long") != NULL);
	CHECK_EQ_STR(r.out, "");
	kt_fx_res_free(&r);
	RUNV(&r, "search", "ok\xff\xfe");
	CHECK_EQ_INT(r.status, 2);
	CHECK(strstr(r.err, "not valid UTF-8") != NULL);
	kt_fx_res_free(&r);
	RUNV(&r, "search", " \t ");
	CHECK_EQ_INT(r.status, 2);
	CHECK(strstr(r.err, "empty query") != NULL);
	kt_fx_res_free(&r);
	RUNV(&r, "search");
	CHECK_EQ_INT(r.status, 2);
	kt_fx_res_free(&r);
	RUNV(&r, "search", "--in", "bogus", "x");
	CHECK_EQ_INT(r.status, 2);
	CHECK(strstr(r.err, "--in") != NULL);
	kt_fx_res_free(&r);
	RUNV(&r, "search", "--limit", "-1", "x");
	CHECK_EQ_INT(r.status, 2);
	kt_fx_res_free(&r);
	RUNV(&r, "search", "--limit", "1x", "x");
	CHECK_EQ_INT(r.status, 2);
	kt_fx_res_free(&r);
	/* 0 = every hit: no note about a cap */
	RUNV(&r, "search", "--limit", "0", "x");
	CHECK_EQ_INT(r.status, 0);
	CHECK(strstr(r.err, "--limit 0 shows all") == NULL);
	kt_fx_res_free(&r);
}

/* ------------------------------------------------------------ replay */

/* The screen a terminal shows after `bytes`, as text. */
static char *screen_of(const char *bytes, size_t len)
{
	struct kt_screen *scr = NULL;
	char *text = NULL;
	size_t tl;

	if (kt_screen_new(24, 80, &scr))
		return NULL;
	if (kt_screen_feed(scr, bytes, len) || kt_screen_text(scr, &text, &tl))
		text = NULL;
	kt_screen_free(scr);
	return text;
}

static void t_replay_output(void)
{
	struct kt_fx_res r;

	RUNV(&r, "replay", "1", "--speed", "0");
	CHECK_EQ_INT(r.status, 0);
	/* not a terminal, from the start: the frames, then the reset */
	CHECK(r.out_len > g_raw_len && memcmp(r.out, g_raw, g_raw_len) == 0);
	CHECK(strstr(r.out + g_raw_len, "\x1b[?25h") != NULL);
	CHECK(strstr(r.out + g_raw_len, "1049") == NULL); /* never entered the alt screen */
	kt_fx_res_free(&r);
}

static void t_replay_timing(void)
{
	struct kt_fx_res r;

	/* 60 s at x1000: about 60 ms, and not instant */
	RUNV(&r, "replay", "1", "--speed", "1000");
	CHECK_EQ_INT(r.status, 0);
	CHECK(r.ms >= 40 && r.ms < 3000);
	kt_fx_res_free(&r);
	/* session 2 pauses 20 s: cut to 0.2 s */
	RUNV(&r, "replay", "2", "--idle-limit", "0.2");
	CHECK_EQ_INT(r.status, 0);
	CHECK(r.ms >= 150 && r.ms < 3000);
	CHECK(strstr(r.out, "one\r\ntwo\r\n") != NULL);
	kt_fx_res_free(&r);
}

static void t_replay_seek_same_screen(void)
{
	struct kt_fx_res full, kf, nokf, fromcmd;
	char *a, *b, *c, *d;

	RUNV(&full, "replay", "1", "--no-timing");
	RUNV(&kf, "--log-level", "debug", "replay", "1", "--no-timing", "--from", "0:35");
	RUNV(&nokf, "--log-level", "debug", "replay", "1", "--no-timing", "--from", "+00:00:35",
	     "--no-keyframes");
	RUNV(&fromcmd, "replay", "1", "--no-timing", "--from-command", "4");
	CHECK_EQ_INT(full.status, 0);
	CHECK_EQ_INT(kf.status, 0);
	CHECK_EQ_INT(nokf.status, 0);
	CHECK_EQ_INT(fromcmd.status, 0);
	/* a seek starts with a full redraw (RIS), and is far shorter */
	CHECK(strstr(kf.out, "\x1b" "c") != NULL);
	CHECK(kf.out_len < full.out_len);
	/* the keyframe path read one keyframe, rendered nothing from the start */
	CHECK(strstr(kf.err, "(1 by keyframe, 0 rendered from the start over 0 bytes)") != NULL);
	CHECK(strstr(nokf.err, "(0 by keyframe, 1 rendered from the start") != NULL);
	a = screen_of(full.out, full.out_len);
	b = screen_of(kf.out, kf.out_len);
	c = screen_of(nokf.out, nokf.out_len);
	d = screen_of(fromcmd.out, fromcmd.out_len);
	CHECK(a && strstr(a, "deployed final-marker"));
	CHECK(a && b && !strcmp(a, b));
	CHECK(a && c && !strcmp(a, c));
	CHECK(a && d && !strcmp(a, d));
	free(a);
	free(b);
	free(c);
	free(d);
	kt_fx_res_free(&full);
	kt_fx_res_free(&kf);
	kt_fx_res_free(&nokf);
	kt_fx_res_free(&fromcmd);
}

static void t_replay_errors(void)
{
	static const char *const bad[][4] = {
		{ "replay", NULL }, { "replay", "1", "--from", "1:99" },
		{ "replay", "1", "--from", "soon" }, { "replay", "1", "--speed", "-1" },
		{ "replay", "1", "--speed", "fast" }, { "replay", "1", "--from-command", "0" },
		{ "replay", "1", "--from-command", "99" }, { "replay", "1", "--idle-limit", "0" },
		{ "replay", "x" },
	};
	struct kt_fx_res r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		runv(&r, bad[i]);
		if (r.status != 2 || count_lines(r.err) != 1 || r.out_len) {
			printf("  %s %s %s: exit %d: %s\n", bad[i][1] ? bad[i][1] : "",
			       bad[i][2] ? bad[i][2] : "", bad[i][3] ? bad[i][3] : "", r.status, r.err);
			CHECK(!"expected a usage error");
		}
		kt_fx_res_free(&r);
	}
	RUNV(&r, "replay", "1", "--from", "1", "--from-command", "1");
	CHECK_EQ_INT(r.status, 2);
	kt_fx_res_free(&r);
	RUNV(&r, "replay", "99");
	CHECK_EQ_INT(r.status, 3);
	kt_fx_res_free(&r);
}

/* ------------------------------------------------------------ export text */

static void t_export_text(void)
{
	struct kt_fx_res r;

	RUNV(&r, "export", "1", "--format", "text");
	CHECK_EQ_INT(r.status, 0);
	CHECK(strstr(r.out, "+00:01.100 $ sudo apt-get\n") != NULL);
	CHECK(strstr(r.out, "+00:02.000 root:x:0:0:password-hint:/root\n") != NULL);
	CHECK(strstr(r.out, "+00:10.000 line 000000 ") != NULL);
	CHECK(strstr(r.out, "--- final screen ---\n") != NULL);
	CHECK(strstr(r.out, "+00:50.000 deployed final-marker\n") != NULL);
	CHECK(strchr(r.out, '\x1b') == NULL);
	kt_fx_res_free(&r);
}

int main(int argc, char **argv)
{
	if (kt_fx_find_bin(argc, argv, "kubetape", g_bin, sizeof(g_bin)) ||
	    kt_fx_mkdtemp(g_dir, sizeof(g_dir), "kt-search"))
		return 1;
	g_t0 = (kt_now_us() / S - 3 * 3600) * S;
	kt_log_init("test_search_replay", KT_LOG_WARN);
	RUN(t_build_store);
	if (!kt_t_failed_cases) {
		RUN(t_search_commands);
		RUN(t_search_screen);
		RUN(t_search_json);
		RUN(t_search_hostile);
		RUN(t_replay_output);
		RUN(t_replay_timing);
		RUN(t_replay_seek_same_screen);
		RUN(t_replay_errors);
		RUN(t_export_text);
	}
	free(g_raw);
	kt_fx_rm_dir(g_dir);
	return kt_test_done();
}
