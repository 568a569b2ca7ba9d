// SPDX-License-Identifier: Apache-2.0
/*
 * kt_pg_migrate CONNINFO [STEP] — run the cluster store's schema migration
 * (store/pg/pg_schema.c) on CONNINFO, as `kubetape ship --migrate` does when
 * it connects, and nothing else: no node store, no shipping.  With STEP,
 * stop at that step (kt_pg_migrate_to): tests/e2e/pg_upgrade_test.sh builds
 * an older release's schema from the steps as they are in this tree, to
 * check that a released step was not edited.  Logs at info level, so the
 * "schema migrated from version A to B" line shows whether this process
 * did the work.  Exit 0, or 1 with the reason logged.  Test-only: the
 * production programs always migrate to KT_PG_SCHEMA_VERSION.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "pg/pg_int.h"

int main(int argc, char **argv)
{
	/* as the shipper connects (pg_ship.c): the encoding must be bytes */
	const char *keys[] = { "connect_timeout", "application_name", "dbname",
			       "client_encoding", NULL };
	const char *vals[] = { "5", "kt_pg_migrate", NULL, "SQL_ASCII", NULL };
	int target = KT_PG_SCHEMA_VERSION, err;
	PGconn *c;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: kt_pg_migrate CONNINFO [STEP]\n");
		return 2;
	}
	if (argc == 3)
		target = atoi(argv[2]);
	kt_log_init("kt_pg_migrate", KT_LOG_INFO);
	vals[2] = argv[1];
	err = kt_pq_load();
	if (err)
		return 1;
	c = PQconnectdbParams(keys, vals, 1);
	if (!c || PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "kt_pg_migrate: cannot connect: %s", c ? PQerrorMessage(c) : "no memory\n");
		PQfinish(c);
		return 1;
	}
	err = kt_pg_migrate_to(c, true, target);
	if (err == -EINVAL)
		fprintf(stderr, "kt_pg_migrate: step %s is not 1..%d\n", argv[2], KT_PG_SCHEMA_VERSION);
	PQfinish(c);
	return err ? 1 : 0;
}
