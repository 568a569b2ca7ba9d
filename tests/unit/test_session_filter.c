// SPDX-License-Identifier: Apache-2.0
/*
 * The session list's substring filters (kt_session_filter.substr, what the
 * web list's "Namespace contains" / "Pod contains" fields use): ASCII
 * case-insensitive, anywhere in the name, '%' and '_' literal; the exact
 * filters stay exact; the count agrees with the list.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kt_test.h"
#include "kt_fixture.h"
#include "store.h"

static char g_dir[128], g_path[192];

static int64_t add(struct kt_store *st, const char *uuid, const char *ns, const char *pod,
		   int64_t start)
{
	struct kt_session_info s = kt_fx_session(uuid, ns, pod, start);

	if (kt_store_session_create(st, &s))
		return -1;
	return s.id;
}

static int count_cb(const struct kt_session_info *s, void *ctx)
{
	(*(int *)ctx)++;
	return 0;
}

/* list and count of one filter, which must agree; the list's size */
static int matches(struct kt_store *st, const char *ns, const char *pod, bool substr)
{
	struct kt_session_filter f = KT_SESSION_FILTER_INIT;
	int64_t total = -1;
	int n = 0;

	f.k8s_namespace = ns;
	f.pod = pod;
	f.substr = substr;
	f.by_start = true;
	if (kt_store_sessions_list(st, &f, count_cb, &n) || kt_store_sessions_count(st, &f, &total))
		return -1;
	if (total != n)
		return -2;
	return n;
}

static struct kt_store *g_ro;

static void t_substr_case_insensitive(void)
{
	/* generated names: auditors type a part, in whatever case */
	CHECK_EQ_INT(matches(g_ro, NULL, "ledger", true), 2);
	CHECK_EQ_INT(matches(g_ro, NULL, "LEDGER", true), 2);
	CHECK_EQ_INT(matches(g_ro, NULL, "Ledger-7F9", true), 1);
	CHECK_EQ_INT(matches(g_ro, NULL, "7f9c", true), 1);
	CHECK_EQ_INT(matches(g_ro, "PAY", NULL, true), 3);
	CHECK_EQ_INT(matches(g_ro, "ments", "LEDGER", true), 2);
	CHECK_EQ_INT(matches(g_ro, "kube-", NULL, true), 1);
	CHECK_EQ_INT(matches(g_ro, NULL, "", true), 5);  /* empty: every name contains it */
}

static void t_substr_wildcards_literal(void)
{
	/* instr, not LIKE: % and _ are characters, not patterns */
	CHECK_EQ_INT(matches(g_ro, NULL, "%", true), 0);
	CHECK_EQ_INT(matches(g_ro, NULL, "_", true), 1);
	CHECK_EQ_INT(matches(g_ro, NULL, "a_b", true), 1);
	CHECK_EQ_INT(matches(g_ro, NULL, "a%b", true), 0);
	CHECK_EQ_INT(matches(g_ro, NULL, "nope", true), 0);
}

static void t_exact_stays_exact(void)
{
	/* the CLI's --namespace/--pod are exact and case-sensitive */
	CHECK_EQ_INT(matches(g_ro, "payments", NULL, false), 2);
	CHECK_EQ_INT(matches(g_ro, "PAYMENTS", NULL, false), 0);
	CHECK_EQ_INT(matches(g_ro, NULL, "ledger", false), 0);
}

int main(void)
{
	struct kt_store *st = NULL;

	if (kt_fx_mkdtemp(g_dir, sizeof(g_dir), "kt-filter"))
		return 1;
	snprintf(g_path, sizeof(g_path), "%s/kt.db", g_dir);
	if (kt_store_open(g_path, KT_STORE_CREATE, &st) ||
	    add(st, "u1", "payments", "ledger-7f9c-x2", 100) < 0 ||
	    add(st, "u2", "payments", "ledger-55aa-k9", 200) < 0 ||
	    add(st, "u3", "payments-dev", "api_a_b", 300) < 0 ||
	    add(st, "u4", "kube-system", "coredns-1", 400) < 0 ||
	    add(st, "u5", "default", "web-0", 500) < 0) {
		printf("FAIL setup: cannot build the store in %s\n", g_dir);
		return 1;
	}
	kt_store_close(st);
	if (kt_store_open(g_path, KT_STORE_RDONLY, &g_ro)) {
		printf("FAIL setup: cannot reopen %s\n", g_path);
		return 1;
	}
	RUN(t_substr_case_insensitive);
	RUN(t_substr_wildcards_literal);
	RUN(t_exact_stays_exact);
	kt_store_close(g_ro);
	kt_fx_rm_dir(g_dir);
	return kt_test_done();
}
