// SPDX-License-Identifier: Apache-2.0
/*
 * Audit events (store/audit_parse.c, audit.c) and the join
 * (store/audit_join.c) against real SQLite files.  Fixtures are written
 * here from the audit.k8s.io/v1 Event reference: one JSON object per call
 * of ev(), with the fields a kube-apiserver writes for pods/exec.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <time.h>

#include "kt_test.h"
#include "kt_fixture.h"
#include "audit.h"
#include "log.h"

static char tmpdir[64];
static int dbn;

static struct kt_store *create_store(char *path, size_t len)
{
	struct kt_store *st = NULL;

	snprintf(path, len, "%s/a%d.db", tmpdir, ++dbn);
	if (kt_store_open(path, KT_STORE_CREATE, &st))
		return NULL;
	return st;
}

#define T0 1780000000000000LL /* 2026-05-28T20:26:40Z */

/* "2026-...Z" for T0 + us */
static const char *ts(int64_t us, char *buf)
{
	time_t s = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	sprintf(buf + strlen(buf), ".%06lldZ", (long long)(us % 1000000));
	return buf;
}

struct evspec {
	const char *id, *stage, *verb, *sub, *user, *imp, *query, *exec_id, *ns, *pod;
	int code;
	int64_t recv, at;
};

/* One Event line (no newline). */
static char *ev(const struct evspec *e)
{
	char a[40], b[40], *out = NULL, imp[256] = "", ann[256] = "", status[64] = "";
	const char *sub = e->sub ? e->sub : "exec", *ns = e->ns ? e->ns : "default";
	const char *pod = e->pod ? e->pod : "web-1";

	if (e->imp)
		snprintf(imp, sizeof(imp), "\"impersonatedUser\":{\"username\":\"%s\",\"groups\":[\"devs\"]},", e->imp);
	if (e->code)
		snprintf(status, sizeof(status), "\"responseStatus\":{\"metadata\":{},\"code\":%d},", e->code);
	snprintf(ann, sizeof(ann), "\"annotations\":{\"authorization.k8s.io/decision\":\"%s\","
		 "\"authorization.k8s.io/reason\":\"RBAC: allowed\"%s%s%s}",
		 e->code == 403 ? "forbid" : "allow", e->exec_id ? ",\"" KT_AUDIT_EXEC_ID_ANNOTATION "\":\"" : "",
		 e->exec_id ? e->exec_id : "", e->exec_id ? "\"" : "");
	if (asprintf(&out,
		     "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
		     "\"auditID\":\"%s\",\"stage\":\"%s\","
		     "\"requestURI\":\"/api/v1/namespaces/%s/pods/%s/%s?%s\","
		     "\"verb\":\"%s\",\"user\":{\"username\":\"%s\",\"uid\":\"u-1\",\"groups\":[\"system:authenticated\",\"ops\"]},"
		     "%s\"sourceIPs\":[\"10.0.0.7\",\"192.0.2.1\"],\"userAgent\":\"kubectl/v1.31.0 (linux/amd64)\","
		     "\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"%s\",\"name\":\"%s\",\"apiVersion\":\"v1\",\"subresource\":\"%s\"},"
		     "%s\"requestReceivedTimestamp\":\"%s\",\"stageTimestamp\":\"%s\",%s}",
		     e->id, e->stage ? e->stage : "ResponseStarted", ns, pod, sub,
		     e->query ? e->query : "command=sh&command=-c&command=id&container=app&stdin=true&stdout=true&tty=true",
		     e->verb ? e->verb : "create", e->user ? e->user : "alice", imp, ns, pod, sub, status,
		     ts(T0 + e->recv, a), ts(T0 + e->at, b), ann) < 0)
		return NULL;
	return out;
}

static int ingest(struct kt_store *st, const struct evspec *e, struct kt_audit_ingest_stats *stats)
{
	char *line = ev(e), why[256];
	int err = kt_audit_ingest(st, line, strlen(line), false, stats, why, sizeof(why));

	if (err)
		printf("# ingest: %s\n", why);
	free(line);
	return err;
}

static void t_time(void)
{
	int64_t us;

	CHECK_EQ_INT(kt_audit_parse_time("1970-01-01T00:00:01Z", &us), 0);
	CHECK_EQ_INT(us, 1000000);
	CHECK_EQ_INT(kt_audit_parse_time("2026-05-28T20:26:40.123456Z", &us), 0);
	CHECK_EQ_INT(us, T0 + 123456);
	CHECK_EQ_INT(kt_audit_parse_time("2026-05-28T22:26:40.5+02:00", &us), 0);
	CHECK_EQ_INT(us, T0 + 500000);
	CHECK_EQ_INT(kt_audit_parse_time("2026-05-28T20:26:40.123456789Z", &us), 0);
	CHECK_EQ_INT(us, T0 + 123456);
	CHECK(kt_audit_parse_time("2026-02-30T00:00:00Z", &us) < 0);
	CHECK(kt_audit_parse_time("2026-05-28 20:26:40Z", &us) < 0);
	CHECK(kt_audit_parse_time("2026-05-28T20:26:40", &us) < 0);
	CHECK(kt_audit_parse_time("2026-05-28T20:26:40.Z", &us) < 0);
	CHECK(kt_audit_parse_time("2026-05-28T20:26:40Zjunk", &us) < 0);
}

static void t_uri(void)
{
	struct kt_audit_request r = { 0 };

	CHECK_EQ_INT(kt_audit_parse_uri("/api/v1/namespaces/prod/pods/db-0/exec?command=sh&command=-c"
					"&command=echo+hi%20there%26%3D&container=pg&stdin=true&tty=true", &r), 0);
	CHECK_EQ_STR(r.k8s_namespace, "prod");
	CHECK_EQ_STR(r.pod, "db-0");
	CHECK_EQ_STR(r.subresource, "exec");
	CHECK_EQ_STR(r.container, "pg");
	CHECK_EQ_INT(r.argc, 3);
	CHECK_EQ_INT(r.argv_len, sizeof("sh\0-c\0echo hi there&="));
	CHECK(!memcmp(r.argv, "sh\0-c\0echo hi there&=", r.argv_len));
	CHECK(r.tty && r.stdin_ && !r.stdout_);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(kt_audit_parse_uri("/api/v1/namespaces/a/pods/b/attach?container=c&stdin=true", &r), 0);
	CHECK_EQ_STR(r.subresource, "attach");
	CHECK_EQ_INT(r.argc, 0);
	CHECK(kt_audit_parse_uri("/api/v1/namespaces/a/pods/b/log", &r) < 0);
	CHECK(kt_audit_parse_uri("/api/v1/namespaces/a/pods/b/exec?command=%zz", &r) < 0);
	CHECK(kt_audit_parse_uri("/api/v1/namespaces/a/pods/b/exec?command=a%00b", &r) < 0);
	CHECK(kt_audit_parse_uri("/api/v1/namespaces/a/pods/b/exec?command=%4", &r) < 0);
	CHECK(kt_audit_parse_uri("/api/v1/namespaces//pods/b/exec", &r) < 0);
	CHECK(kt_audit_parse_uri("/api/v1/namespaces/a/pods/b/exec/x", &r) < 0);
	CHECK(kt_audit_parse_uri("/api/v1/namespaces/a/pods/b/exec?tty=maybe", &r) < 0);
}

static void t_exec_id_argv(void)
{
	char id[KT_EXEC_ID_MAX + 1];

	CHECK_EQ_INT(kt_exec_id_from_argv(ARGV("env\0KUBETAPE_EXEC_ID=ab-12\0sh"), id, sizeof(id)),
		     sizeof("env\0KUBETAPE_EXEC_ID=ab-12"));
	CHECK_EQ_STR(id, "ab-12");
	CHECK_EQ_INT(kt_exec_id_from_argv(ARGV("/usr/bin/env\0KUBETAPE_EXEC_ID=x\0sh"), id, sizeof(id)),
		     sizeof("/usr/bin/env\0KUBETAPE_EXEC_ID=x"));
	CHECK_EQ_INT(kt_exec_id_from_argv(ARGV("env\0KUBETAPE_EXEC_ID=a b\0sh"), id, sizeof(id)), 0);
	CHECK_EQ_INT(kt_exec_id_from_argv(ARGV("sh\0KUBETAPE_EXEC_ID=x"), id, sizeof(id)), 0);
	CHECK_EQ_INT(kt_exec_id_from_argv(ARGV("env\0KUBETAPE_EXEC_ID="), id, sizeof(id)), 0);
	CHECK_EQ_STR(id, "");
	CHECK(!kt_exec_id_valid("a;b", 3));
}

static void t_malformed(void)
{
	static const char *bad[] = {
		"{",
		"[]",
		"{\"kind\":\"Event\"}",
		"{\"kind\":\"Pod\",\"auditID\":\"x\"}",
		"{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"items\":{}}",
		"{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"items\":[1]}",
		"{\"auditID\":\"a\",\"stage\":\"Nope\",\"verb\":\"get\",\"requestURI\":\"/\",\"user\":{},"
		"\"requestReceivedTimestamp\":\"2026-01-01T00:00:00Z\",\"stageTimestamp\":\"2026-01-01T00:00:00Z\"}",
		"{\"auditID\":\"a\",\"stage\":\"ResponseStarted\",\"verb\":\"get\",\"requestURI\":\"/x\",\"user\":{\"username\":1},"
		"\"requestReceivedTimestamp\":\"2026-01-01T00:00:00Z\",\"stageTimestamp\":\"2026-01-01T00:00:00Z\"}",
		"{\"auditID\":\"a\",\"stage\":\"ResponseStarted\",\"verb\":\"get\",\"requestURI\":\"/x\",\"user\":{\"username\":\"u\"},"
		"\"requestReceivedTimestamp\":\"yesterday\",\"stageTimestamp\":\"2026-01-01T00:00:00Z\"}",
		/* exec with a URI that names another pod */
		"{\"auditID\":\"a\",\"stage\":\"ResponseStarted\",\"verb\":\"get\",\"requestURI\":\"/api/v1/namespaces/n/pods/p/exec?command=x\","
		"\"user\":{\"username\":\"u\"},\"objectRef\":{\"resource\":\"pods\",\"subresource\":\"exec\",\"namespace\":\"n\",\"name\":\"q\"},"
		"\"requestReceivedTimestamp\":\"2026-01-01T00:00:00Z\",\"stageTimestamp\":\"2026-01-01T00:00:00Z\"}",
		"{\"auditID\":\"a b\",\"stage\":\"ResponseStarted\",\"verb\":\"get\",\"requestURI\":\"/x\",\"user\":{\"username\":\"u\"},"
		"\"requestReceivedTimestamp\":\"2026-01-01T00:00:00Z\",\"stageTimestamp\":\"2026-01-01T00:00:00Z\"}",
	};
	char path[128], why[256];
	struct kt_store *st = create_store(path, sizeof(path));
	struct kt_audit_ingest_stats s = { 0 };
	char *good = ev(&(struct evspec){ .id = "good-1", .code = 101 });
	char *mixed = NULL;

	CHECK(st != NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = 0;
		if (kt_audit_ingest(st, bad[i], strlen(bad[i]), false, &s, why, sizeof(why)) != -EINVAL ||
		    !why[0]) {
			printf("# bad[%zu] accepted or no reason: %s\n", i, why);
			CHECK(0);
		}
	}
	CHECK_EQ_INT(s.stored, 0);
	/* a bad line among good ones: all-or-nothing vs partial */
	CHECK(asprintf(&mixed, "%s\n{oops\n", good) > 0);
	CHECK_EQ_INT(kt_audit_ingest(st, mixed, strlen(mixed), false, &s, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "line 2") != NULL);
	CHECK_EQ_INT(s.stored, 0);
	CHECK_EQ_INT(kt_audit_ingest(st, mixed, strlen(mixed), true, &s, why, sizeof(why)), -EINVAL);
	CHECK_EQ_INT(s.stored, 1);
	free(mixed);
	free(good);
	kt_store_close(st);
}

static void t_stages_idempotent(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path));
	struct kt_audit_ingest_stats s = { 0 };
	struct evspec e = { .id = "a-1", .stage = "ResponseStarted", .code = 101, .recv = 0, .at = 20000,
			    .imp = "bob" };
	struct kt_audit_request r;
	char *list = NULL, *l1, *l2;

	CHECK(st != NULL);
	CHECK_EQ_INT(ingest(st, &e, &s), 0);
	CHECK_EQ_INT(ingest(st, &e, &s), 0);
	CHECK_EQ_INT(s.stored, 1);
	CHECK_EQ_INT(s.duplicates, 1);
	e.stage = "ResponseComplete";
	e.at = 9000000;
	CHECK_EQ_INT(ingest(st, &e, &s), 0);
	CHECK_EQ_INT(s.stored, 2);
	CHECK_EQ_INT(kt_audit_request_get(st, 1, &r), 0);
	CHECK_EQ_STR(r.audit_id, "a-1");
	CHECK_EQ_STR(r.username, "alice");
	CHECK_EQ_STR(r.impersonated_user, "bob");
	CHECK_EQ_STR(r.impersonated_groups, "[\"devs\"]");
	CHECK_EQ_STR(r.groups, "[\"system:authenticated\",\"ops\"]");
	CHECK_EQ_STR(r.source_ips, "[\"10.0.0.7\",\"192.0.2.1\"]");
	CHECK_EQ_STR(r.user_agent, "kubectl/v1.31.0 (linux/amd64)");
	CHECK_EQ_STR(r.decision, "allow");
	CHECK_EQ_INT(r.code, 101);
	CHECK_EQ_INT(r.started_us, T0 + 20000);
	CHECK_EQ_INT(r.completed_us, T0 + 9000000);
	CHECK_EQ_INT(r.stages, KT_STAGE_RESPONSE_STARTED | KT_STAGE_RESPONSE_COMPLETE);
	CHECK(r.tty && r.stdin_);
	/* the same two stages again as an EventList batch (a webhook retry) */
	e.stage = "ResponseStarted";
	e.at = 20000;
	l1 = ev(&e);
	e.stage = "ResponseComplete";
	e.at = 9000000;
	l2 = ev(&e);
	CHECK(asprintf(&list, "{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"metadata\":{},"
		       "\"items\":[%s,%s,{\"auditID\":\"other\",\"stage\":\"ResponseComplete\",\"verb\":\"list\","
		       "\"requestURI\":\"/api/v1/pods\",\"user\":{\"username\":\"x\"},\"objectRef\":{\"resource\":\"pods\"},"
		       "\"requestReceivedTimestamp\":\"2026-01-01T00:00:00Z\",\"stageTimestamp\":\"2026-01-01T00:00:00Z\"}]}",
		       l1, l2) > 0);
	CHECK_EQ_INT(kt_audit_ingest(st, list, strlen(list), false, &s, NULL, 0), 0);
	CHECK_EQ_INT(s.duplicates, 3);
	CHECK_EQ_INT(s.skipped, 1);
	CHECK_EQ_INT(kt_fx_sql_int(path, "SELECT count(*) FROM audit_requests"), 1);
	free(list);
	free(l1);
	free(l2);
	kt_store_close(st);
}

/* A session of web-1/app started at T0 + start_off whose first command is argv. */
static int64_t mk_session(struct kt_store *st, const char *uuid, int64_t start_off,
			  const char *argv, size_t len)
{
	struct kt_session_info s = kt_fx_session(uuid, "default", "web-1", T0 + start_off);
	struct kt_command c;

	if (kt_store_session_create(st, &s))
		return -1;
	c = kt_fx_cmd(s.id, s.start_us, 100, 1, argv, len);
	if (kt_store_command_add(st, &c))
		return -1;
	return s.id;
}

static int tier_of(struct kt_store *st, int64_t sid, struct kt_audit_identity *id)
{
	struct kt_session_info s;

	if (kt_store_session_get(st, sid, &s) || kt_audit_session_identity(st, &s, NULL, id))
		return -1;
	return id->tier;
}

static void t_join_tiers(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path));
	struct kt_audit_identity *id = calloc(1, sizeof(*id));
	int64_t a, b, c, d;

	CHECK(st != NULL && id != NULL);
	/* matched: session before the event arrives, then the event; skew +2 s */
	a = mk_session(st, "s-a", 2000000, ARGV("sh\0-c\0id"));
	CHECK_EQ_INT(tier_of(st, a, id), KT_TIER_NONE);
	CHECK_EQ_INT(ingest(st, &(struct evspec){ .id = "r-a", .code = 101, .at = 0 }, NULL), 0);
	CHECK_EQ_INT(tier_of(st, a, id), KT_TIER_MATCHED);
	CHECK_EQ_STR(id->cand[0].audit_id, "r-a");
	CHECK(kt_audit_identity_has(id, "alice", NULL));
	CHECK(kt_audit_identity_has(id, NULL, "ops"));
	CHECK(!kt_audit_identity_has(id, "bob", NULL));

	/* event first, session later; skew -2 s (session clock behind) */
	CHECK_EQ_INT(ingest(st, &(struct evspec){ .id = "r-b", .code = 101, .at = 60000000,
			   .recv = 60000000, .verb = "get", .user = "carol",
			   .query = "command=bash&container=app&stdin=true&tty=true" }, NULL), 0);
	b = mk_session(st, "s-b", 58000000, ARGV("bash"));
	CHECK_EQ_INT(tier_of(st, b, id), KT_TIER_MATCHED);
	CHECK_EQ_STR(id->cand[0].username, "carol");
	CHECK_EQ_STR(id->cand[0].verb, "get");

	/* outside the window: no match */
	c = mk_session(st, "s-c", 120000000, ARGV("top"));
	CHECK_EQ_INT(ingest(st, &(struct evspec){ .id = "r-c", .code = 101, .at = 110000000,
			   .recv = 110000000, .query = "command=top&container=app" }, NULL), 0);
	CHECK_EQ_INT(tier_of(st, c, id), KT_TIER_NONE);

	/* two concurrent identical execs: both sessions ambiguous, both listed */
	CHECK_EQ_INT(ingest(st, &(struct evspec){ .id = "r-d1", .code = 101, .at = 200000000,
			   .recv = 200000000, .user = "dave", .query = "command=sleep&command=5&container=app" }, NULL), 0);
	CHECK_EQ_INT(ingest(st, &(struct evspec){ .id = "r-d2", .code = 101, .at = 200100000,
			   .recv = 200100000, .user = "erin", .query = "command=sleep&command=5&container=app" }, NULL), 0);
	d = mk_session(st, "s-d1", 200300000, ARGV("sleep\0" "5"));
	CHECK_EQ_INT(tier_of(st, d, id), KT_TIER_AMBIGUOUS);
	CHECK_EQ_INT(id->n_cand, 2);
	CHECK(kt_audit_identity_has(id, "dave", NULL) && kt_audit_identity_has(id, "erin", NULL));
	d = mk_session(st, "s-d2", 200400000, ARGV("sleep\0" "5"));
	CHECK_EQ_INT(tier_of(st, d, id), KT_TIER_AMBIGUOUS);
	CHECK_EQ_INT(id->n_cand, 2);

	/* the same with the admission webhook's ids: exact, each its own */
	CHECK_EQ_INT(ingest(st, &(struct evspec){ .id = "r-e1", .code = 101, .at = 300000000,
			   .recv = 300000000, .user = "dave", .exec_id = "id-1",
			   .query = "command=sleep&command=5&container=app" }, NULL), 0);
	CHECK_EQ_INT(ingest(st, &(struct evspec){ .id = "r-e2", .code = 101, .at = 300000000,
			   .recv = 300000000, .user = "erin", .exec_id = "id-2",
			   .query = "command=sleep&command=5&container=app" }, NULL), 0);
	d = mk_session(st, "s-e2", 300100000, ARGV("env\0KUBETAPE_EXEC_ID=id-2\0sleep\0" "5"));
	CHECK_EQ_INT(tier_of(st, d, id), KT_TIER_EXACT);
	CHECK_EQ_STR(id->cand[0].username, "erin");
	CHECK_EQ_STR(id->exec_id, "id-2");
	d = mk_session(st, "s-e1", 300100000, ARGV("env\0KUBETAPE_EXEC_ID=id-1\0sleep\0" "5"));
	CHECK_EQ_INT(tier_of(st, d, id), KT_TIER_EXACT);
	CHECK_EQ_STR(id->cand[0].username, "dave");

	/* denied: kept, never a candidate */
	CHECK_EQ_INT(ingest(st, &(struct evspec){ .id = "r-f", .code = 403, .stage = "ResponseComplete",
			   .at = 400000000, .recv = 400000000, .user = "mallory",
			   .query = "command=cat&command=%2Fetc%2Fshadow&container=app" }, NULL), 0);
	d = mk_session(st, "s-f", 400100000, ARGV("cat\0/etc/shadow"));
	CHECK_EQ_INT(tier_of(st, d, id), KT_TIER_NONE);
	free(id);
	kt_store_close(st);
}

struct gaps { int nreq, nsess; char req[8][72]; int64_t sess[8]; };
static int g_req(const struct kt_audit_request *r, void *ctx)
{
	struct gaps *g = ctx;

	if (g->nreq < 8)
		snprintf(g->req[g->nreq], 72, "%s", r->audit_id);
	g->nreq++;
	return 0;
}
static int g_sess(const struct kt_session_info *s, void *ctx)
{
	struct gaps *g = ctx;

	if (g->nsess < 8)
		g->sess[g->nsess] = s->id;
	g->nsess++;
	return 0;
}

static void t_gaps(void)
{
	char path[128];
	struct kt_store *st = create_store(path, sizeof(path));
	struct gaps g = { 0 };
	int64_t a, b;

	CHECK(st != NULL);
	a = mk_session(st, "g-a", 100000, ARGV("sh"));
	b = mk_session(st, "g-b", 50000000, ARGV("nsenter"));
	CHECK_EQ_INT(ingest(st, &(struct evspec){ .id = "g-ra", .code = 101, .query = "command=sh&container=app" }, NULL), 0);
	CHECK_EQ_INT(ingest(st, &(struct evspec){ .id = "g-rmiss", .code = 101, .at = 20000000, .recv = 20000000,
			   .query = "command=vi&container=app" }, NULL), 0);
	CHECK_EQ_INT(ingest(st, &(struct evspec){ .id = "g-denied", .code = 403, .at = 30000000, .recv = 30000000,
			   .query = "command=vi&container=app" }, NULL), 0);
	CHECK_EQ_INT(ingest(st, &(struct evspec){ .id = "g-attach", .code = 101, .sub = "attach",
			   .at = 40000000, .recv = 40000000, .query = "container=app&stdin=true" }, NULL), 0);
	CHECK_EQ_INT(kt_audit_gaps(st, NULL, 0, 0, g_req, g_sess, &g), 0);
	CHECK_EQ_INT(g.nreq, 1);
	CHECK_EQ_STR(g.req[0], "g-rmiss");
	CHECK_EQ_INT(g.nsess, 1);
	CHECK_EQ_INT(g.sess[0], b);
	(void)a;
	kt_store_close(st);
}

int main(void)
{
	kt_log_init(NULL, KT_LOG_ERROR);
	if (kt_fx_mkdtemp(tmpdir, sizeof(tmpdir), "test_audit"))
		return 1;
	RUN(t_time);
	RUN(t_uri);
	RUN(t_exec_id_argv);
	RUN(t_malformed);
	RUN(t_stages_idempotent);
	RUN(t_join_tiers);
	RUN(t_gaps);
	kt_fx_rm_dir(tmpdir);
	return kt_test_done();
}
