// SPDX-License-Identifier: Apache-2.0
/*
 * PostgreSQL schema step 4: command search by walking the newest sessions
 * (FORMAT-pg.md "Migrations", "Queries").  Its own file so that the step
 * stays self-contained next to pg_schema.c's list (whoever merges a step of
 * their own renumbers the later one).  Never edit a released step.
 *
 * A command search for a frequent word (`password`, `rm -rf`) at the CLI's
 * limit of 1,000 is answered by walking sessions newest first
 * (sessions_gid_key) and each one's commands (src, session_id, seq) until
 * the limit is reached: on 100,000 sessions / 10 M commands
 * (bench/pg_scale.sh) that is ~1,800 sessions, ~180,000 commands tested
 * for `password`.  Through commands_src_session_id_seq_key every one of
 * those commands is a heap tuple to fetch and deform (argv_text is the
 * 20th column, after variable-width ones); with argv_text in the index the
 * walk is an index-only scan (a few leaf pages a session, a 4-column
 * tuple), and only the ~1,000 hits are fetched from the heap
 * (pgr_command.c writes the query so).  The index is ~6% of the commands'
 * text and keys (628 MB on the 10 M set, 2.3 GB of table); building it on
 * that set took ~70 s on 2 loaded cores, inside the migration's
 * transaction (shippers wait for it).
 *
 * Index-only scans need the visibility map: autovacuum sets it on tables
 * that only grow (autovacuum_vacuum_insert_threshold, PostgreSQL 13+);
 * commands of the last minutes are fetched from the heap, as before.
 */
#include "pg_int.h"

const char kt_pg_step_search_walk[] =
	"CREATE INDEX commands_session_text ON commands (src, session_id, seq)"
	"  INCLUDE (argv_text);";
