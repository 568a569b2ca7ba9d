// SPDX-License-Identifier: Apache-2.0
/*
 * libpq, loaded when a PostgreSQL store is first used (dlopen) rather than
 * linked into every program that links the store.
 *
 * Why: libpq brings ~20 shared libraries (libssl, libcrypto, GSSAPI and
 * Kerberos, OpenLDAP with GnuTLS, SASL, p11-kit ...).  Loading and
 * relocating them, and their constructors (GnuTLS's global init parses its
 * ASN.1 tables), cost every process start ~440 page faults and ~19 ms of
 * CPU on the bench machine (bench/pg_scale.sh, FORMAT-pg.md "Reader start
 * cost") although only `--db postgres://`, `kubetape ship` and a shipping
 * recorder use it.  A run on a node's SQLite store, `--help`, or the
 * recorder that does not ship, no longer pays it.
 *
 * How: this file defines the libpq functions store/pg/ and its tests call,
 * each forwarding to the symbol of the same name in libpq.so.5, loaded
 * once (pthread_once) on the first call.  The programs do not link -lpq,
 * so these definitions are not exported (no shared library references
 * them at link time) and libpq's own internal calls keep binding to
 * libpq.  The entry points (kt_pgr_open, the shipper's connect) call
 * kt_pq_load() first so a missing libpq is a clear error there; a call
 * through a wrapper without it (a programming error) aborts with the
 * same message.  Limit: the soname is libpq.so.5 (the ABI every libpq
 * since PostgreSQL 8.2 keeps); the headers are still libpq-dev's.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "dl_load.h"
#include "log.h"
#include "pg_int.h"

#define KT_PQ_SONAME "libpq.so.5"

/* every libpq function store/pg/ and tests/ call (add one here and below) */
#define KT_PQ_FUNCS(X) \
	X(PQclear) X(PQgetvalue) X(PQntuples) X(PQstatus) X(PQsetvalue) \
	X(PQresultStatus) X(PQerrorMessage) X(PQgetisnull) X(PQtransactionStatus) \
	X(PQmakeEmptyPGresult) X(PQgetlength) X(PQexecParams) X(PQexec) \
	X(PQsetResultAttrs) X(PQfname) X(PQfinish) X(PQconnectdbParams) \
	X(PQserverVersion) X(PQresultErrorMessage) X(PQprepare) X(PQnfields) \
	X(PQgetResult) X(PQexitPipelineMode) X(PQexecPrepared) X(PQsendQueryParams) \
	X(PQresultErrorField) X(PQreset) X(PQpipelineSync) X(PQparameterStatus) \
	X(PQfformat) X(PQenterPipelineMode) X(PQpipelineStatus) X(PQsendFlushRequest) \
	X(PQflush) X(PQsendQuery) X(PQputCopyData) X(PQputCopyEnd)

#define KT_PQ_ENUM(n) I_##n,
enum { KT_PQ_FUNCS(KT_PQ_ENUM) KT_PQ_N };
#define KT_PQ_NAME(n) #n,
static const char *const names[KT_PQ_N] = { KT_PQ_FUNCS(KT_PQ_NAME) };

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void *syms[KT_PQ_N];
static int load_err;
static char load_msg[256];

static void load(void)
{
	/* -ENOSYS: an older libpq (PQpipelineStatus & co. are PostgreSQL 14's) */
	load_err = kt_dl_load(KT_PQ_SONAME, "PostgreSQL's client library, libpq 14 or newer",
			      "libpq5", names, syms, KT_PQ_N, load_msg, sizeof(load_msg));
}

int kt_pq_load(void)
{
	pthread_once(&once, load);
	if (load_err)
		pr_err("store: %s", load_msg);
	return load_err;
}

static void *sym(int i)
{
	pthread_once(&once, load);
	if (load_err) {
		/* a caller skipped kt_pq_load(): there is no value to return */
		fprintf(stderr, "kubetape: %s\n", load_msg);
		abort();
	}
	assert(syms[i]);
	return syms[i];
}

#define F(n) ((__typeof__(n) *)sym(I_##n))

/* NULL is a no-op in libpq too; a program that never connected (a
 * shipper freed before its first connect) need not load libpq for it */
void PQclear(PGresult *r) { if (r) F(PQclear)(r); }
char *PQgetvalue(const PGresult *r, int t, int f) { return F(PQgetvalue)(r, t, f); }
int PQntuples(const PGresult *r) { return F(PQntuples)(r); }
ConnStatusType PQstatus(const PGconn *c) { return F(PQstatus)(c); }
int PQsetvalue(PGresult *r, int t, int f, char *v, int len) { return F(PQsetvalue)(r, t, f, v, len); }
ExecStatusType PQresultStatus(const PGresult *r) { return F(PQresultStatus)(r); }
char *PQerrorMessage(const PGconn *c) { return F(PQerrorMessage)(c); }
int PQgetisnull(const PGresult *r, int t, int f) { return F(PQgetisnull)(r, t, f); }
PGTransactionStatusType PQtransactionStatus(const PGconn *c) { return F(PQtransactionStatus)(c); }
PGresult *PQmakeEmptyPGresult(PGconn *c, ExecStatusType s) { return F(PQmakeEmptyPGresult)(c, s); }
int PQgetlength(const PGresult *r, int t, int f) { return F(PQgetlength)(r, t, f); }
PGresult *PQexecParams(PGconn *c, const char *q, int n, const Oid *types,
		       const char *const *vals, const int *lens, const int *fmts, int rfmt)
{
	return F(PQexecParams)(c, q, n, types, vals, lens, fmts, rfmt);
}
PGresult *PQexec(PGconn *c, const char *q) { return F(PQexec)(c, q); }
int PQsetResultAttrs(PGresult *r, int n, PGresAttDesc *d) { return F(PQsetResultAttrs)(r, n, d); }
char *PQfname(const PGresult *r, int f) { return F(PQfname)(r, f); }
void PQfinish(PGconn *c) { if (c) F(PQfinish)(c); }
PGconn *PQconnectdbParams(const char *const *keys, const char *const *vals, int expand)
{
	return F(PQconnectdbParams)(keys, vals, expand);
}
int PQserverVersion(const PGconn *c) { return F(PQserverVersion)(c); }
char *PQresultErrorMessage(const PGresult *r) { return F(PQresultErrorMessage)(r); }
PGresult *PQprepare(PGconn *c, const char *name, const char *q, int n, const Oid *types)
{
	return F(PQprepare)(c, name, q, n, types);
}
int PQnfields(const PGresult *r) { return F(PQnfields)(r); }
PGresult *PQgetResult(PGconn *c) { return F(PQgetResult)(c); }
int PQexitPipelineMode(PGconn *c) { return F(PQexitPipelineMode)(c); }
PGresult *PQexecPrepared(PGconn *c, const char *name, int n, const char *const *vals,
			 const int *lens, const int *fmts, int rfmt)
{
	return F(PQexecPrepared)(c, name, n, vals, lens, fmts, rfmt);
}
int PQsendQueryParams(PGconn *c, const char *q, int n, const Oid *types,
		      const char *const *vals, const int *lens, const int *fmts, int rfmt)
{
	return F(PQsendQueryParams)(c, q, n, types, vals, lens, fmts, rfmt);
}
char *PQresultErrorField(const PGresult *r, int code) { return F(PQresultErrorField)(r, code); }
void PQreset(PGconn *c) { F(PQreset)(c); }
int PQpipelineSync(PGconn *c) { return F(PQpipelineSync)(c); }
const char *PQparameterStatus(const PGconn *c, const char *p) { return F(PQparameterStatus)(c, p); }
int PQfformat(const PGresult *r, int f) { return F(PQfformat)(r, f); }
int PQenterPipelineMode(PGconn *c) { return F(PQenterPipelineMode)(c); }
PGpipelineStatus PQpipelineStatus(const PGconn *c) { return F(PQpipelineStatus)(c); }
int PQsendFlushRequest(PGconn *c) { return F(PQsendFlushRequest)(c); }
int PQflush(PGconn *c) { return F(PQflush)(c); }
int PQsendQuery(PGconn *c, const char *q) { return F(PQsendQuery)(c, q); }
int PQputCopyData(PGconn *c, const char *b, int n) { return F(PQputCopyData)(c, b, n); }
int PQputCopyEnd(PGconn *c, const char *e) { return F(PQputCopyEnd)(c, e); }
