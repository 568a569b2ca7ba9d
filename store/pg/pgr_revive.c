// SPDX-License-Identifier: Apache-2.0
/*
 * A reader's connection after the server went away (a restart, a
 * failover, an administrator's pg_terminate_backend, a network cut): the
 * call that finds it broken fails (logged, -ECONNRESET), and the next one
 * reconnects first.  Long-lived readers need it: kubetape-web keeps one
 * store for its lifetime, and a follower polls the server for hours.
 * Only between statements of ours: never inside a cursor's transaction
 * (its rows would come from another snapshot).  At most one attempt a
 * second, because a reconnect to an unreachable server blocks for up to
 * its connect_timeout (5 s) and the web serves everyone from one thread.
 */
#include "log.h"
#include "pgr_int.h"

#define REVIVE_EVERY_US 1000000

void kt_pgr_revive(struct kt_pgr *pg)
{
	int64_t now;
	PGresult *r;

	if (PQstatus(pg->conn) == CONNECTION_OK || pg->cursors)
		return;
	now = kt_now_us();
	if (pg->revive_us && now - pg->revive_us < REVIVE_EVERY_US)
		return;
	pg->revive_us = now;
	PQreset(pg->conn);
	if (PQstatus(pg->conn) != CONNECTION_OK)
		return; /* the query that follows fails and logs why */
	/* a new server session: nothing prepared, the session settings gone */
	pg->n_prepared = 0;
	r = PQexec(pg->conn, "SET default_transaction_read_only = on");
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		/* a defence only: the reader role can write nothing but
		 * access_log rows anyway (FORMAT-pg.md "Roles") */
		pr_warn("store %s: reconnected, but not read-only: %s", pg->label,
			PQresultErrorMessage(r));
	PQclear(r);
	pg->revive_us = 0;
	pr_info("store %s: reconnected", pg->label);
}
