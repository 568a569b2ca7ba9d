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
#include <stdint.h>

struct lws;

/*
 * Log `action` on `session_id` (0: none) by this request's identity:
 * "web bearer token", "web cookie <first 8 hex>" or "web (no auth)", with
 * the peer address.  0, or -errno (logged): the caller answers 500 then.
 */
int web_access(struct lws *wsi, const char *action, int64_t session_id, const char *detail);

/* {"state": ..., "checked": "signatures", ...} for the session, against
 * the public key next to the store (else the store's own); NULL on error. */
json_t *web_verification(int64_t session_id);

#endif
