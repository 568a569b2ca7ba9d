/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The web side of the access log and of tamper evidence: every view,
 * replay, export and search through the API is logged (store/evidence.h,
 * kt_access_log) with the request's identity before anything is sent, and
 * a session's verification state is part of its JSON.
 */
#ifndef KUBETAPE_WEB_ACCESS_H
#define KUBETAPE_WEB_ACCESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct lws;

/*
 * Log `action` on `session_id` (0: none) by this request's identity:
 * "web bearer token", "web cookie <first 8 hex>" or "web (no auth)", with
 * the peer address.  0, or -errno (logged): the caller answers 500 then.
 */
int web_access(struct lws *wsi, const char *action, int64_t session_id, const char *detail);

/*
 * The key sessions are checked against: node.key.pub next to the store
 * (trusted), else none (the store's own key, which whoever edits the store
 * can replace: "key_from_store" says so).  Read once per request.
 */
struct web_verify_key {
	bool trusted;
	uint8_t pk[32];         /* KT_PK_LEN */
};
void web_verify_key_load(struct web_verify_key *k);

/* {"state": ..., "checked": "signatures", ...} for the session (quick:
 * signatures and coverage, no frame rehashed); NULL on error. */
json_t *web_verification(const struct web_verify_key *k, int64_t session_id);

#endif
