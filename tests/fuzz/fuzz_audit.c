// SPDX-License-Identifier: Apache-2.0
/*
 * The audit event parser (store/audit_parse.c) on arbitrary bytes: what the
 * webhook endpoint and `kubetape audit import` feed it comes from the
 * network and from files.  Checks:
 *   - results are 0 or -EINVAL (with a reason), never anything else;
 *   - all-or-nothing mode delivers nothing when it fails;
 *   - every delivered event has terminated fields, an argv that is
 *     NUL-separated within its buffer, a valid exec id or none, a known
 *     stage, and exec or attach as subresource;
 *   - kt_exec_id_from_argv stays inside the bytes it is given.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

#define TERM(f) do { if (!memchr((f), '\0', sizeof(f))) abort(); } while (0)

static int on_event(const struct kt_audit_event *ev, void *ctx)
{
	const struct kt_audit_request *r = &ev->r;
	int *n = ctx;

	TERM(r->audit_id); TERM(r->verb); TERM(r->subresource); TERM(r->username);
	TERM(r->user_uid); TERM(r->groups); TERM(r->impersonated_user);
	TERM(r->impersonated_groups); TERM(r->source_ips); TERM(r->user_agent);
	TERM(r->k8s_namespace); TERM(r->pod); TERM(r->container); TERM(r->decision);
	TERM(r->reason); TERM(r->exec_id);
	if (!r->audit_id[0] || !r->k8s_namespace[0] || !r->pod[0])
		abort();
	if (strcmp(r->subresource, "exec") && strcmp(r->subresource, "attach"))
		abort();
	if (r->argv_len > sizeof(r->argv) || (r->argv_len && r->argv[r->argv_len - 1]))
		abort();
	if (r->exec_id[0] && !kt_exec_id_valid(r->exec_id, strlen(r->exec_id)))
		abort();
	switch (ev->stage) {
	case KT_STAGE_REQUEST_RECEIVED: case KT_STAGE_RESPONSE_STARTED:
	case KT_STAGE_RESPONSE_COMPLETE: case KT_STAGE_PANIC:
		break;
	default:
		abort();
	}
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256], id[KT_EXEC_ID_MAX + 1];
	uint64_t ne = 0, ns = 0;
	int n = 0, err;
	size_t off;

	err = kt_audit_parse((const char *)data, size, false, on_event, &n, &ne, &ns, why, sizeof(why));
	if (err != 0 && err != -EINVAL)
		abort();
	if (err && (n || !why[0]))
		abort();
	if (ns > ne || (uint64_t)n > ne)
		abort();
	n = 0;
	err = kt_audit_parse((const char *)data, size, true, on_event, &n, NULL, NULL, why, sizeof(why));
	if (err != 0 && err != -EINVAL)
		abort();
	off = kt_exec_id_from_argv((const char *)data, size, id, sizeof(id));
	if (off > size || (off && !kt_exec_id_valid(id, strlen(id))))
		abort();
	return 0;
}
