// SPDX-License-Identifier: Apache-2.0
/*
 * The cluster store's row readers (store/pg/) on arbitrary server results:
 * a sessions row, a commands row and an audit request row built from the
 * input as libpq result objects (PQsetvalue: each value's length, or NULL,
 * and its bytes come from the input), as a hostile or broken PostgreSQL
 * server could send them.  Properties, abort() otherwise: every reader
 * returns 0 or -EBADMSG; after 0 every string is NUL-terminated inside its
 * field and every pointer lies inside the result's value.
 * Input: per column, one length byte (0xff: NULL, else the length) and
 * that many bytes; missing input makes the remaining columns empty.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit_int.h"
#include "log.h"
#include "pg/pgr_int.h"

static struct kt_pgr g_pg = { .label = "fuzz" };

static PGresult *build(int ncols, const uint8_t **p, const uint8_t *end)
{
	PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc *a = calloc(ncols, sizeof(*a));

	if (!r || !a)
		abort();
	for (int i = 0; i < ncols; i++) {
		a[i].name = "c";
		a[i].format = 1;
		a[i].typlen = -1;
		a[i].atttypmod = -1;
	}
	if (!PQsetResultAttrs(r, ncols, a))
		abort();
	free(a);
	for (int i = 0; i < ncols; i++) {
		int len = *p < end ? *(*p)++ : 0;

		if (len == 0xff) {
			PQsetvalue(r, 0, i, NULL, -1);
			continue;
		}
		if (len > end - *p)
			len = (int)(end - *p);
		PQsetvalue(r, 0, i, (char *)*p, len);
		*p += len;
	}
	return r;
}

static void terminated(const char *s, size_t size)
{
	if (!memchr(s, 0, size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct kt_session_info s;
	struct kt_audit_request *q;
	struct kt_command c;
	struct kt_row row;
	PGresult *r;
	int err;

	kt_log_init(NULL, KT_LOG_ERROR);
	r = build(kt_session_ncols(), &p, end);
	err = kt_pgr_session_row(&g_pg, r, 0, 0, &s);
	if (err && err != -EBADMSG)
		abort();
	if (!err) {
		terminated(s.uuid, sizeof(s.uuid));
		terminated(s.pod, sizeof(s.pod));
		terminated(s.cgroup_path, sizeof(s.cgroup_path));
		terminated(s.first_command, sizeof(s.first_command));
		if (s.id <= 0)
			abort();
	}
	PQclear(r);

	r = build(KT_CMD_NCOLS, &p, end);
	kt_pgr_row(&row, &g_pg, r, 0, "fuzz");
	kt_command_read(&row, 0, &c);
	if (row.err && row.err != -EBADMSG)
		abort();
	if (!row.err) {
		terminated(c.comm, sizeof(c.comm));
		if (c.argv != PQgetvalue(r, 0, 16) || c.argv_len != (size_t)PQgetlength(r, 0, 16) ||
		    c.filename[strlen(c.filename)] || c.cwd[strlen(c.cwd)])
			abort();
	}
	PQclear(r);

	q = malloc(sizeof(*q));
	r = build(29, &p, end);
	kt_pgr_row(&row, &g_pg, r, 0, "fuzz");
	kt_audit_request_read(&row, 0, q);
	if (row.err && row.err != -EBADMSG)
		abort();
	if (!row.err && (q->argv_len > sizeof(q->argv) || (q->argv_len && q->argv[q->argv_len - 1])))
		abort();
	PQclear(r);
	free(q);
	return 0;
}
