// SPDX-License-Identifier: Apache-2.0
/*
 * PostgreSQL schema step 2: the cluster store's access log (FORMAT-pg.md
 * "Access log").  Its own file so that the step stays self-contained next
 * to pg_schema.c's list (whoever merges a step of their own renumbers the
 * later one).  Never edit a released step.
 *
 * Readers of the cluster store (the CLI and kubetape-web with --db
 * postgres://) log every read before they show data, as on a node
 * (store/access.c); the server is where that log belongs, beside what was
 * read.  kubetape_reader may INSERT only who/action/session/detail: the
 * time, the database role and the client address are the server's
 * (defaults it cannot supply, by column privileges), and it can neither
 * UPDATE nor DELETE (append-only for readers).
 */
#include "pg_int.h"

const char kt_pg_step_access_log[] =
	"CREATE TABLE access_log ("
	"  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  ts_us bigint NOT NULL"
	"    DEFAULT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,"
	"  who text NOT NULL,"
	"  action text NOT NULL,"
	/* sessions.gid; NULL when not about one session */
	"  session_id bigint,"
	"  detail text NOT NULL DEFAULT '',"
	"  db_user text NOT NULL DEFAULT current_user,"
	"  client_addr text DEFAULT inet_client_addr()::text);"
	"CREATE INDEX access_log_session ON access_log (session_id, id);"
	"REVOKE ALL ON access_log FROM PUBLIC;"
	"GRANT SELECT ON access_log TO kubetape_reader;"
	"GRANT INSERT (who, action, session_id, detail) ON access_log TO kubetape_reader;";
