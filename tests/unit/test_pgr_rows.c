// SPDX-License-Identifier: Apache-2.0
/*
 * The cluster store's readers against hostile rows: what a broken or
 * hostile PostgreSQL server could send (values of the wrong width, NULL in
 * NOT NULL columns, text-format columns, missing columns, strings longer
 * than their field, an argv without its terminator) must give -EBADMSG and
 * one log line, or a clipped value as on a node, never a crash or a read
 * out of bounds.  The results are libpq's own objects (PQmakeEmptyPGresult,
 * PQsetvalue), exactly what the readers get from a server; no server runs.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kt_test.h"
#include "audit_int.h"
#include "log.h"
#include "pg/pgr_int.h"

static struct kt_pgr g_pg = { .label = "postgresql://test/kubetape" };

/* A result of ncols binary columns (text ones: typid 25, bigints: 20). */
static PGresult *result(int ncols, const bool *is_text)
{
	PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc *a = calloc(ncols, sizeof(*a));
	char (*names)[16] = calloc(ncols, 16);

	for (int i = 0; i < ncols; i++) {
		snprintf(names[i], 16, "c%d", i);
		a[i].name = names[i];
		a[i].format = 1;
		a[i].typid = is_text && is_text[i] ? 25 : 20;
		a[i].typlen = is_text && is_text[i] ? -1 : 8;
		a[i].atttypmod = -1;
	}
	if (!r || !PQsetResultAttrs(r, ncols, a)) {
		PQclear(r);
		r = NULL;
	}
	free(a);
	free(names);
	return r;
}

static void set_i64(PGresult *r, int row, int col, int64_t v)
{
	char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (char)((uint64_t)v >> (56 - 8 * i));
	PQsetvalue(r, row, col, b, 8);
}

static void set_str(PGresult *r, int row, int col, const char *s)
{
	PQsetvalue(r, row, col, (char *)s, (int)strlen(s));
}

/* A well-formed sessions row: gid 7, every string "x", every number 1. */
static PGresult *session_result(void)
{
	int n = kt_session_ncols();
	bool *text = calloc(n, sizeof(bool));
	PGresult *r;

	for (int i = 0; i < n; i++)
		text[i] = kt_session_col_is_str(i);
	r = result(n, text);
	for (int i = 0; r && i < n; i++) {
		if (text[i])
			set_str(r, 0, i, "x");
		else
			set_i64(r, 0, i, i == 0 ? 7 : 1);
	}
	free(text);
	return r;
}

static int first_int_col(void)
{
	for (int i = 1; i < kt_session_ncols(); i++)
		if (!kt_session_col_is_str(i))
			return i;
	return -1;
}

static int first_str_col(void)
{
	for (int i = 0; i < kt_session_ncols(); i++)
		if (kt_session_col_is_str(i))
			return i;
	return -1;
}

static void t_session_row_ok(void)
{
	PGresult *r = session_result();
	struct kt_session_info s;

	CHECK(r);
	CHECK_EQ_INT(kt_pgr_session_row(&g_pg, r, 0, 0, &s), 0);
	CHECK_EQ_INT(s.id, 7);
	CHECK_EQ_STR(s.uuid, "x");
	CHECK_EQ_INT(s.start_us, 1);
	PQclear(r);
}

static void t_session_wrong_width(void)
{
	PGresult *r = session_result();
	struct kt_session_info s;

	PQsetvalue(r, 0, first_int_col(), "\1\2\3\4", 4);
	CHECK_EQ_INT(kt_pgr_session_row(&g_pg, r, 0, 0, &s), -EBADMSG);
	PQclear(r);
}

static void t_session_null(void)
{
	PGresult *r = session_result();
	struct kt_session_info s;

	PQsetvalue(r, 0, first_str_col(), NULL, -1);
	CHECK_EQ_INT(kt_pgr_session_row(&g_pg, r, 0, 0, &s), -EBADMSG);
	PQclear(r);
	r = session_result();
	PQsetvalue(r, 0, first_int_col(), NULL, -1);
	CHECK_EQ_INT(kt_pgr_session_row(&g_pg, r, 0, 0, &s), -EBADMSG);
	PQclear(r);
}

static void t_session_bad_gid(void)
{
	PGresult *r = session_result();
	struct kt_session_info s;

	set_i64(r, 0, 0, 0);
	CHECK_EQ_INT(kt_pgr_session_row(&g_pg, r, 0, 0, &s), -EBADMSG);
	set_i64(r, 0, 0, INT64_MIN);
	CHECK_EQ_INT(kt_pgr_session_row(&g_pg, r, 0, 0, &s), -EBADMSG);
	PQclear(r);
}

static void t_session_missing_columns(void)
{
	PGresult *r = result(3, NULL);
	struct kt_session_info s;

	set_i64(r, 0, 0, 1);
	set_i64(r, 0, 1, 1);
	set_i64(r, 0, 2, 1);
	CHECK_EQ_INT(kt_pgr_session_row(&g_pg, r, 0, 0, &s), -EBADMSG);
	/* a row that is not there */
	CHECK_EQ_INT(kt_pgr_session_row(&g_pg, r, 5, 0, &s), -EBADMSG);
	PQclear(r);
}

static void t_session_text_format(void)
{
	PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc a = { .name = "gid", .format = 0, .typid = 20, .typlen = 8, .atttypmod = -1 };
	int64_t v;

	CHECK(PQsetResultAttrs(r, 1, &a));
	PQsetvalue(r, 0, 0, "12345678", 8);
	CHECK_EQ_INT(kt_pgr_i64(&g_pg, r, 0, 0, "test", &v), -EBADMSG);
	PQclear(r);
}

static void t_session_oversized_strings(void)
{
	PGresult *r = session_result();
	struct kt_session_info s;
	char *big = malloc(100001);
	int pod = -1;

	memset(big, 'p', 100000);
	big[100000] = 0;
	for (int i = 0; i < kt_session_ncols(); i++)
		if (kt_session_col_is_str(i))
			set_str(r, 0, i, big), pod = i;
	CHECK(pod >= 0);
	/* clipped to each field, as the node's copy is (kt_strlcpy) */
	CHECK_EQ_INT(kt_pgr_session_row(&g_pg, r, 0, 0, &s), 0);
	CHECK_EQ_INT(strlen(s.pod), sizeof(s.pod) - 1);
	CHECK_EQ_INT(strlen(s.uuid), sizeof(s.uuid) - 1);
	CHECK_EQ_INT(strlen(s.leader_comm), sizeof(s.leader_comm) - 1);
	PQclear(r);
	free(big);
}

static void t_i64_big_endian(void)
{
	PGresult *r = result(2, NULL);
	int64_t a, b;

	set_i64(r, 0, 0, -2);
	set_i64(r, 0, 1, INT64_C(0x0102030405060708));
	CHECK_EQ_INT(kt_pgr_i64(&g_pg, r, 0, 0, "test", &a), 0);
	CHECK_EQ_INT(kt_pgr_i64(&g_pg, r, 0, 1, "test", &b), 0);
	CHECK_EQ_INT(a, -2);
	CHECK_EQ_INT(b, INT64_C(0x0102030405060708));
	PQsetvalue(r, 0, 0, NULL, -1);
	CHECK_EQ_INT(kt_pgr_i64_null(&g_pg, r, 0, 0, "test", 42, &a), 0);
	CHECK_EQ_INT(a, 42);
	PQclear(r);
}

/* commands: KT_CMD_COLS order, comm/filename/argv/cwd text or bytea */
static PGresult *command_result(void)
{
	bool text[KT_CMD_NCOLS] = { [14] = true, [15] = true, [16] = true, [18] = true };
	PGresult *r = result(KT_CMD_NCOLS, text);

	for (int i = 0; r && i < KT_CMD_NCOLS; i++) {
		if (text[i])
			set_str(r, 0, i, "x");
		else
			set_i64(r, 0, i, 1);
	}
	return r;
}

static void t_command_rows(void)
{
	PGresult *r = command_result();
	struct kt_command c;
	struct kt_row row;
	char argv[3] = { 'a', 0, 'b' };

	PQsetvalue(r, 0, 16, argv, 3);
	kt_pgr_row(&row, &g_pg, r, 0, "test");
	kt_command_read(&row, 0, &c);
	CHECK_EQ_INT(row.err, 0);
	CHECK_EQ_INT(c.argv_len, 3);
	CHECK(!memcmp(c.argv, argv, 3));
	CHECK_EQ_STR(c.cwd, "x");
	/* a wrong width anywhere: an error, and no value read after it */
	PQsetvalue(r, 0, 9, "\1", 1);
	kt_pgr_row(&row, &g_pg, r, 0, "test");
	kt_command_read(&row, 0, &c);
	CHECK_EQ_INT(row.err, -EBADMSG);
	CHECK_EQ_STR(c.cwd, "");
	PQclear(r);
}

static void t_audit_argv_unterminated(void)
{
	bool text[30];
	PGresult *r;
	struct kt_audit_request *q = malloc(sizeof(*q));
	struct kt_row row;
	char *argv = malloc(100000);

	/* column 0 src, then the request's 29 columns; argv is column 15 */
	for (int i = 0; i < 30; i++)
		text[i] = i == 0 || (i >= 2 && i <= 15) || i == 22 || i == 23 || i == 29;
	r = result(30, text);
	for (int i = 0; i < 30; i++) {
		if (text[i])
			set_str(r, 0, i, "x");
		else
			set_i64(r, 0, i, 1);
	}
	memset(argv, 'a', 100000);
	PQsetvalue(r, 0, 15, argv, 100000);
	kt_pgr_row(&row, &g_pg, r, 0, "test");
	kt_audit_request_read(&row, 1, q);
	CHECK_EQ_INT(row.err, 0);
	CHECK_EQ_INT(q->argv_len, sizeof(q->argv));
	CHECK_EQ_INT(q->argv[q->argv_len - 1], 0);
	CHECK(q->argv_truncated);
	PQclear(r);
	free(argv);
	free(q);
}

int main(void)
{
	/* the corrupt-row cases log one error each: expected */
	kt_log_init(NULL, KT_LOG_ERROR);
	RUN(t_session_row_ok);
	RUN(t_session_wrong_width);
	RUN(t_session_null);
	RUN(t_session_bad_gid);
	RUN(t_session_missing_columns);
	RUN(t_session_text_format);
	RUN(t_session_oversized_strings);
	RUN(t_i64_big_endian);
	RUN(t_command_rows);
	RUN(t_audit_argv_unterminated);
	return kt_test_done();
}
