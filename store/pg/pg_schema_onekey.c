// SPDX-License-Identifier: Apache-2.0
/*
 * PostgreSQL schema step 5 (the brief numbers it 6: whoever merges renumbers
 * it to follow theirs): one index for a command's key and its text
 * (FORMAT-pg.md "Migrations", "Reader start cost").  Its own file so that
 * the step stays self-contained next to pg_schema.c's list.  Never edit a
 * released step.
 *
 * Step 4 left two B-trees on the same key (src, session_id, seq): the
 * unique constraint's, and commands_session_text with argv_text included.
 * A command search (pgr_command.c) walks the second and then looks each
 * hit's row up through the first, a different index: for 1,000 hits that
 * is ~1,000 more leaf pages and that index's inner pages the reading
 * backend touches.  A `kubetape` run is a new server backend, and on a
 * host that charges a process each page it touches for the first time
 * (bench/page_touch.c) those pages are the search's cost, not the rows.
 * With one index, unique, with argv_text included, the hits' lookups land
 * on leaf pages the walk has just read.  The constraint keeps its name and
 * its key (the shipper's conflicts are on the primary key; INCLUDE columns
 * take no part in uniqueness).  The commands' indexes go from five to four
 * (less to plan in a new backend, less to write per shipped command, 388
 * MB less on bench/pg_scale.sh's 10 M commands).  Building the new index
 * on that set: ~90 s on 2 loaded cores, inside the migration's transaction
 * (shippers wait).
 */
#include "pg_int.h"

const char kt_pg_step_one_key[] =
	"ALTER TABLE commands ADD CONSTRAINT commands_key_text"
	"  UNIQUE (src, session_id, seq) INCLUDE (argv_text);"
	"ALTER TABLE commands DROP CONSTRAINT commands_src_session_id_seq_key;"
	"ALTER TABLE commands RENAME CONSTRAINT commands_key_text TO commands_src_session_id_seq_key;"
	"DROP INDEX commands_session_text;";
