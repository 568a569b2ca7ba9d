// SPDX-License-Identifier: Apache-2.0
/*
 * Issue 10 point 5: a recorded user cannot break the review with a window
 * size, and a hostile store cannot make the readers overflow.  Builds a
 * store through the store API with sessions whose terminal was
 *   1  1 column wide from the start (`stty cols 1`), then resized to 1x1;
 *   2  0x0 (a pty nobody sized), resized to 0x0 again mid-session;
 *   3  2000 rows x 300 columns at start (above the model's 1000), output
 *      addressing row 1500, resized to 65535x65535, then (cols x rows)
 *      300x1000 -> 19x1000 -> 1000x19 with the cursor homed (a shrink
 *      below the cursor put the screen model's cursor row at -18), and
 *      ESC 8 back to a cursor saved before the shrink;
 *   4  an ordinary session whose stored times were then edited to
 *      INT64_MAX / INT64_MIN (start, end, command times);
 * indexes them (kt_index_session: keyframes and search text at those
 * sizes), and runs the built `kubetape` on each: export in every format,
 * replay from the start and with --from/--paused (seek through keyframes),
 * show, sessions, cat, search.  Every run must exit 0 with output and no
 * error line; under the SAN build (KT_OUT=build-san) any overflow or
 * out-of-bounds access aborts the binary and fails here.
 *
 * KT_HOSTILE_FIXTURE=PATH: only build the store at PATH (replaced) and
 * exit; tests/web/size_test.mjs serves it with kubetape-web.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>

#include "kt_test.h"
#include "kt_fixture.h"
#include "log.h"
#include "screen.h"
#include "store.h"

#define S 1000000LL

static char g_bin[4096], g_dir[64], g_db[4096], g_err[128];
static int64_t g_t0, g_id[5];

static void run(struct kt_fx_res *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void run(struct kt_fx_res *r, const char *fmt, ...)
{
	char args[2048], cmd[16384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "env -u KUBETAPE_DB '%s' --db '%s' %s </dev/null", g_bin, g_db,
		 args);
	kt_fx_run_sh(r, cmd, g_err);
}

static void out(struct kt_chunk_builder *b, int64_t ts, const char *s)
{
	CHECK_EQ_INT(kt_chunk_add(b, KT_FRAME_OUT, ts, s, (uint32_t)strlen(s)), 0);
}

/* 60 numbered lines with a searchable word, from ts on */
static void lines(struct kt_chunk_builder *b, int64_t ts, const char *word)
{
	char l[64];

	for (int i = 0; i < 60; i++) {
		snprintf(l, sizeof(l), "%s line %d\r\n", word, i);
		out(b, ts + i * 1000, l);
	}
}

static int64_t session(struct kt_store *st, const char *uuid, int64_t start, int rows, int cols)
{
	struct kt_session_info s = kt_fx_session(uuid, "prod", uuid, start);
	struct kt_command c = kt_fx_cmd(0, start, 100, 1, ARGV("bash\0-i"));

	s.rows = rows;
	s.cols = cols;
	CHECK_EQ_INT(kt_store_session_create(st, &s), 0);
	c.session_id = s.id;
	CHECK_EQ_INT(kt_store_command_add(st, &c), 0);
	CHECK_EQ_INT(kt_store_command_exit(st, s.id, 100, start + 50 * S, 0), 0);
	return s.id;
}

static void finish(struct kt_store *st, int64_t id, struct kt_chunk_builder *b, int64_t end)
{
	CHECK_EQ_INT(kt_store_chunk_append(st, id, b), 0);
	kt_chunk_builder_reset(b);
	kt_fx_end_id(st, id, end);
	while (kt_index_session(st, id, 0) == 1)
		;
	CHECK_EQ_INT(kt_index_session(st, id, 0), 0);
}

static void sql(const char *q)
{
	CHECK_EQ_INT(kt_fx_sql_exec(g_db, q), 0);
}

static void t_build_store(void)
{
	struct kt_store *st = NULL;
	struct kt_chunk_builder b;
	int64_t t;
	char big[32000];

	unlink(g_db);
	CHECK_EQ_INT(kt_store_open(g_db, KT_STORE_CREATE, &st), 0);
	if (!st)
		return;
	kt_chunk_builder_init(&b);

	/* 1: one column wide, then 1x1 */
	t = g_t0;
	g_id[1] = session(st, "cols1", t, 24, 1);
	lines(&b, t + S, "narrow");
	CHECK_EQ_INT(kt_chunk_add_resize(&b, t + 2 * S, 1, 1), 0);
	out(&b, t + 3 * S, "still narrow\r\n\x1b[2;1H\x1b#6wide\x1b" "7\x1b[99;99Hend");
	finish(st, g_id[1], &b, t + 60 * S);

	/* 2: 0x0 */
	t = g_t0 + 100 * S;
	g_id[2] = session(st, "zero", t, 0, 0);
	lines(&b, t + S, "unsized");
	CHECK_EQ_INT(kt_chunk_add_resize(&b, t + 2 * S, 0, 0), 0);
	out(&b, t + 3 * S, "after zero resize\r\n");
	finish(st, g_id[2], &b, t + 60 * S);

	/* 3: huge, and the shrink below a homed cursor; 32 KB frames so
	 * there is a keyframe to seek to (one per 30 s and 256 KiB, at 34 s:
	 * checked below) */
	t = g_t0 + 200 * S;
	g_id[3] = session(st, "tall", t, 2000, 300);
	lines(&b, t + S, "tall");
	out(&b, t + 2 * S, "\x1b[1500;1Hdeep row\x1b[H");
	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = i % 100 == 99 ? '\n' : 'a' + i % 26;
	big[sizeof(big) - 1] = 0;
	CHECK_EQ_INT(kt_chunk_add_resize(&b, t + 3 * S, 65535, 65535), 0);
	for (int i = 0; i < 9; i++)
		out(&b, t + (4 + i) * S, big);
	out(&b, t + 34 * S, big);
	out(&b, t + 35 * S, big);
	CHECK_EQ_INT(kt_chunk_add_resize(&b, t + 36 * S, 300, 1000), 0);
	lines(&b, t + 37 * S, "before shrink");
	out(&b, t + 38 * S, "\x1b[H\x1b" "7");
	CHECK_EQ_INT(kt_chunk_add_resize(&b, t + 39 * S, 19, 1000), 0);   /* cols, rows */
	out(&b, t + 39 * S + 1, "\x1b[H");
	CHECK_EQ_INT(kt_chunk_add_resize(&b, t + 39 * S + 2, 1000, 19), 0);
	out(&b, t + 40 * S, "\x1b" "8after shrink\r\n");
	finish(st, g_id[3], &b, t + 60 * S);
	{
		char q[96];

		snprintf(q, sizeof(q), "SELECT count(*) FROM keyframes WHERE session_id = %lld",
			 (long long)g_id[3]);
		CHECK(kt_fx_sql_int(g_db, q) >= 1);
	}

	/* 4: ordinary, then its times edited in the file */
	t = g_t0 + 300 * S;
	g_id[4] = session(st, "hostile-times", t, 24, 80);
	lines(&b, t + S, "times");
	finish(st, g_id[4], &b, t + 60 * S);
	kt_chunk_builder_free(&b);
	kt_store_close(st);

	sql("UPDATE sessions SET start_us = 9223372036854775807, end_us = -9223372036854775807 - 1"
	    " WHERE uuid = 'hostile-times';"
	    "UPDATE commands SET ts_us = -9223372036854775807 - 1, end_us = 9223372036854775807"
	    " WHERE session_id = (SELECT id FROM sessions WHERE uuid = 'hostile-times');");
}

/* exit 0, some output, nothing on stderr */
static void expect_ok(const char *what, struct kt_fx_res *r)
{
	if (r->status != 0 || !r->out_len || r->err_lines) {
		printf("# %s: exit %d, %zu bytes out, stderr: %.300s\n", what, r->status, r->out_len,
		       r->err ? r->err : "");
		CHECK(0);
	}
}

static void t_export_every_format(void)
{
	static const char *const fmts[] = { "asciicast", "raw", "json", "text" };
	struct kt_fx_res r;
	char what[64];

	for (int i = 1; i <= 3; i++)
		for (size_t f = 0; f < 4; f++) {
			run(&r, "export %lld --format %s", (long long)g_id[i], fmts[f]);
			snprintf(what, sizeof(what), "export %d %s", i, fmts[f]);
			expect_ok(what, &r);
			kt_fx_res_free(&r);
		}
}

/* what the text export shows, at sizes the model normalises */
static void t_text_content(void)
{
	struct kt_fx_res r;

	run(&r, "export %lld --format text", (long long)g_id[1]);
	CHECK(r.out && strstr(r.out, "narrow line 59"));
	/* at 1x1 (2 columns, 1 row) a row leaves the screen before libvterm
	 * wraps onto the next one, so a long line leaves in pieces (screen.h) */
	CHECK(r.out && strstr(r.out, "+00:03.000 st\n+00:03.000 il\n+00:03.000 l\n"));
	kt_fx_res_free(&r);
	run(&r, "export %lld --format text", (long long)g_id[2]);
	CHECK(r.out && strstr(r.out, "unsized line 0"));
	CHECK(r.out && strstr(r.out, "after zero resize"));
	kt_fx_res_free(&r);
	run(&r, "export %lld --format text", (long long)g_id[3]);
	CHECK(r.out && strstr(r.out, "deep row"));
	CHECK(r.out && strstr(r.out, "after shrink"));
	kt_fx_res_free(&r);
}

/* players get the normalised size, not 65535 or 0 */
static void t_asciicast_sizes(void)
{
	struct kt_fx_res r;

	run(&r, "export %lld", (long long)g_id[1]);
	CHECK(r.out && strstr(r.out, "\"width\": 2, \"height\": 24"));
	CHECK(r.out && strstr(r.out, "\"r\", \"2x1\""));
	kt_fx_res_free(&r);
	run(&r, "export %lld", (long long)g_id[2]);
	CHECK(r.out && strstr(r.out, "\"width\": 80, \"height\": 24"));
	CHECK(r.out && strstr(r.out, "\"r\", \"80x24\""));
	kt_fx_res_free(&r);
	run(&r, "export %lld", (long long)g_id[3]);
	CHECK(r.out && strstr(r.out, "\"width\": 300, \"height\": 1000"));
	CHECK(r.out && strstr(r.out, "\"r\", \"1000x1000\""));
	CHECK(r.out && strstr(r.out, "\"r\", \"19x1000\""));
	CHECK(r.out && strstr(r.out, "\"r\", \"1000x19\""));
	kt_fx_res_free(&r);
}

static void t_replay(void)
{
	static const char *const from[] = { "", "--from 2s", "--from 35s", "--from 39s",
					    "--from 45s", "--from-command 1" };
	struct kt_fx_res r;
	char what[96];

	for (int i = 1; i <= 3; i++)
		for (size_t k = 0; k < sizeof(from) / sizeof(from[0]); k++) {
			run(&r, "replay %lld --no-timing %s", (long long)g_id[i], from[k]);
			snprintf(what, sizeof(what), "replay %d %s", i, from[k]);
			expect_ok(what, &r);
			kt_fx_res_free(&r);
		}
}

static void t_search_show(void)
{
	struct kt_fx_res r;

	run(&r, "search --in screen 'narrow line 30'");
	expect_ok("search narrow", &r);
	CHECK(r.out && strstr(r.out, "narrow line 30"));
	kt_fx_res_free(&r);
	run(&r, "search --in screen 'after shrink'");
	expect_ok("search shrink", &r);
	kt_fx_res_free(&r);
	for (int i = 1; i <= 3; i++) {
		run(&r, "show %lld", (long long)g_id[i]);
		expect_ok("show", &r);
		kt_fx_res_free(&r);
	}
}

/* start_us = INT64_MAX and friends: every reader still answers */
static void t_hostile_times(void)
{
	static const char *const cmds[] = { "show %lld", "show %lld --json", "export %lld",
		"export %lld --format json", "export %lld --format text", "cat %lld",
		"replay %lld --no-timing", "replay %lld --no-timing --from 10s" };
	struct kt_fx_res r;
	char args[64];

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(args, sizeof(args), cmds[i], (long long)g_id[4]);
#pragma GCC diagnostic pop
		run(&r, "%s", args);
		/* under SAN, an overflow is "runtime error" and exit 1 */
		expect_ok(args, &r);
		kt_fx_res_free(&r);
	}
	run(&r, "sessions");
	expect_ok("sessions", &r);
	kt_fx_res_free(&r);
	run(&r, "sessions --json");
	expect_ok("sessions --json", &r);
	kt_fx_res_free(&r);
	run(&r, "search times");
	expect_ok("search times", &r);
	kt_fx_res_free(&r);
}

int main(int argc, char **argv)
{
	const char *fixture = getenv("KT_HOSTILE_FIXTURE");

	kt_log_init("test_hostile_size", KT_LOG_WARN);
	g_t0 = (kt_now_us() / S - 3 * 3600) * S;
	if (fixture && *fixture) {
		snprintf(g_db, sizeof(g_db), "%s", fixture);
		RUN(t_build_store);
		return kt_test_done();
	}
	if (kt_fx_find_bin(argc, argv, "kubetape", g_bin, sizeof(g_bin)) ||
	    kt_fx_mkdtemp(g_dir, sizeof(g_dir), "kt-hostile"))
		return 1;
	snprintf(g_err, sizeof(g_err), "%s/stderr", g_dir);
	snprintf(g_db, sizeof(g_db), "%s/kt.db", g_dir);
	RUN(t_build_store);
	if (kt_t_failed_cases) {
		kt_fx_rm_dir(g_dir);
		return 1;
	}
	RUN(t_export_every_format);
	RUN(t_text_content);
	RUN(t_asciicast_sizes);
	RUN(t_replay);
	RUN(t_search_show);
	RUN(t_hostile_times);
	kt_fx_rm_dir(g_dir);
	return kt_test_done();
}
