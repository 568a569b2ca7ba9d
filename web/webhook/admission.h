/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The optional mutating admission webhook (admission.k8s.io/v1) for CONNECT
 * on pods/exec: gives each exec an id that reaches the node and the audit
 * log, for the exact join tier (store/audit.h).
 *
 * The command becomes `env KUBETAPE_EXEC_ID=<id> <command...>` (JSONPatch
 * "replace /command"), so the session's first exec carries the id, and the
 * response's auditAnnotations {"exec-id": <id>} reach the audit event as
 * "exec-id.kubetape.io/exec-id" (the API server prefixes the webhook name).
 * A user-supplied prefix `env KUBETAPE_EXEC_ID=...` is stripped first, so
 * nobody can make a session claim another request's id.
 *
 * Caveats (deploy/README.md): the image must have `env` on its PATH (else
 * the exec fails: "env: not found"); attach has no command and is allowed
 * unchanged; the recorder sees `env` as the session's first command.
 */
#ifndef KUBETAPE_WEBHOOK_ADMISSION_H
#define KUBETAPE_WEBHOOK_ADMISSION_H

#include <stddef.h>

/*
 * An AdmissionReview request (JSON text) -> the AdmissionReview response
 * (malloc'd JSON text).  exec_id: the id to give (tests pass one; NULL =
 * a fresh random one).  Returns 0, or -EINVAL with a reason in why for a
 * request that is not an AdmissionReview v1 (-> HTTP 400), -ENOMEM.
 * Anything well-formed but not ours (other kinds, attach, no command) is
 * allowed without a patch.
 */
int kt_admission_review(const char *body, size_t len, const char *exec_id,
			char **out, size_t *out_len, char *why, size_t why_len);

#endif
