#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# kubetape-web on the cluster store (--db postgresql://, a kubetape_reader
# role) against kubetape-web on the node store it was shipped from: the
# same answers (list, session, commands, search, streams with keyframe
# seeks, export) and a live session over the WebSocket within 5 s of its
# commit on the node.  A real PostgreSQL started here (tests/lib/pg.sh);
# the node store is written through the store API (tests/web/kt_webfill.c,
# as web_api.sh) and shipped by `kubetape ship`; the assertions live in
# tests/web/pg_web_test.mjs.
. "$(dirname "$0")/../lib/common.sh"
. "$KT_REPO/tests/lib/pg.sh"

require_root
require_cmd node psql
require_built "$KT_OUT/kubetape" "$KT_OUT/kubetape-web" "$KT_OUT/tests/web/kt_webfill"

K="$KT_OUT/kubetape"
PORT=$((58000 + $$ % 1000))
DB=$KT_TMP/w1.db

step_start
pg_start "$PORT"
DEMO=$("$KT_OUT/tests/web/kt_webfill" "$DB" populate 300) || fatal pg_web_fill "kt_webfill populate failed"
BIG=$("$KT_OUT/tests/web/kt_webfill" "$DB" big 3) || fatal pg_web_fill "kt_webfill big failed"
"$K" --db "$DB" ship --to "$PG_URL" --node-name w1 --once --migrate >"$KT_TMP/ship-once.log" 2>&1 ||
	{ show "$KT_TMP/ship-once.log"; fatal pg_web_ship "ship --once --migrate failed"; }
READER=$(pg_reader kt_web) || fatal pg_web_reader_role "cannot create the reader role"
# the follow-mode shipper (default --poll-ms) for the live session
"$K" --db "$DB" ship --to "$PG_URL" --node-name w1 >"$KT_TMP/ship.log" 2>&1 &
SHIPPER=$!
at_exit "kill -TERM $SHIPPER 2>/dev/null; wait $SHIPPER 2>/dev/null"
pass pg_web_setup

cd "$KT_REPO/tests/web" || fatal pg_web_cd "cannot cd to tests/web"
KT_OUT=$KT_OUT KT_NODE_DB=$DB KT_PG_READER=$READER KT_PG_ADMIN=$PG_URL \
	KT_DEMO_ID=$DEMO KT_BIG_ID=$BIG node pg_web_test.mjs || kt_failed=$((kt_failed + 1))
check pg_web_access_logged "$(psqlq "SELECT action, count(*) FROM access_log GROUP BY 1" 2>&1 | tr '\n' ' ')" \
	test "$(psqlq "SELECT count(DISTINCT action) FROM access_log WHERE db_user = 'kt_web' AND who LIKE 'web %' AND action IN ('view', 'replay', 'export', 'search', 'live')")" = 5
kill -TERM "$SHIPPER"
wait "$SHIPPER"
rc=$?
check pg_web_shipper_exit0 "shipper exited $rc on SIGTERM" test "$rc" = 0
finish
