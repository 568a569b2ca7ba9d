/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to store/: the access log on the cluster store (pgr_access.c),
 * for store/access.c.  No libpq type here.
 */
#ifndef KUBETAPE_PGR_ACCESS_H
#define KUBETAPE_PGR_ACCESS_H

#include <stdint.h>

struct kt_pgr;
struct kt_access_entry;

/* One entry in the server's access_log (session_id: sessions.gid, 0 =
 * none); 0 or -errno (logged). */
int kt_pgr_access_log(struct kt_pgr *pg, const char *who, const char *action,
		      int64_t session_id, const char *detail);
/* As kt_access_list; `who` carries the server's database role and client
 * address: "<who> [db role R from A]". */
int kt_pgr_access_list(struct kt_pgr *pg, int64_t session_id, int64_t since_us, int limit,
		       int (*cb)(const struct kt_access_entry *e, void *ctx), void *ctx);

#endif
