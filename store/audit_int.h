/* SPDX-License-Identifier: Apache-2.0 */
/* Private to store/audit*.c: the request row reader shared by audit.c and
 * audit_join.c. */
#ifndef KUBETAPE_AUDIT_INT_H
#define KUBETAPE_AUDIT_INT_H

#include "audit.h"
#include "store_int.h"

extern const char *const kt_audit_req_cols; /* "id, audit_id, ..." */
void kt_audit_request_from_row(sqlite3_stmt *q, int first, struct kt_audit_request *r);
/* The same from a row of either backend (store_int.h kt_row). */
void kt_audit_request_read(struct kt_row *q, int first, struct kt_audit_request *r);

#endif
