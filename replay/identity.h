/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who ran a session (store/audit.h) for the CLI: the join window, a short
 * "who" for tables, the identity block of `show` and its JSON.
 */
#ifndef KUBETAPE_REPLAY_IDENTITY_H
#define KUBETAPE_REPLAY_IDENTITY_H

#include <jansson.h>
#include <stdio.h>

#include "audit.h"
#include "cli.h"

#define KT_AUDIT_WINDOW_ENV "KUBETAPE_AUDIT_WINDOW"

/* The join options: window from $KUBETAPE_AUDIT_WINDOW (seconds, e.g. 2.5),
 * else the store's default.  -EINVAL (logged) for a malformed value. */
int ki_join_opts(struct kt_audit_join_opts *o);
/* Parse a window in seconds ("3", "2.5"): 0 or -EINVAL. */
int ki_parse_window(const char *s, int64_t *us);

/* Does the store hold any audit request?  (Identity is not computed, and
 * its column not shown, for a store that has none.) */
bool ki_have_audit(struct kt_store *st);

/* "alice", "bob (via proxy-sa)", "2 candidates?" or "-" */
const char *ki_who(const struct kt_audit_identity *id, char *buf, size_t len);
/* The human of a request: impersonated user (via user), or user. */
const char *ki_req_who(const struct kt_audit_request *r, char *buf, size_t len);

/* `show`'s "Kubernetes user" block. */
void ki_print_identity(FILE *out, const struct kt_audit_identity *id);

/* New references (CLI style) or NULL. */
json_t *ki_json_identity(const struct kt_audit_identity *id);
json_t *ki_json_request(const struct kt_audit_request *r);
/* root["identity"] = the session's identity (computed here); 0 or -errno. */
int ki_json_add_identity(struct kt_store *st, json_t *root, const struct kt_session_info *s);

#endif
