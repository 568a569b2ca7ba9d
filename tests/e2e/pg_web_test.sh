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
PORT=$(free_port)
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
# ------------------------------------------------------------------ outage mid-stream
# PostgreSQL stopped while a slow client reads the big session's stream
# (not a follow: the session is over) and started again 2 s later: the
# stream waits it out (one line each way in the server's log) and the
# client gets every byte, identical to a stream read without an outage
# (web/stream.c).  Bounded: a 3 MiB stream at 400 KB/s.
step_start
WPORT=$(free_port)
"$KT_OUT/kubetape-web" --db "$READER" --listen "127.0.0.1:$WPORT" >"$KT_TMP/web.log" 2>&1 &
WEB=$!
at_exit "kill $WEB 2>/dev/null || true"
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$WPORT/api/info" || fatal pg_web_outage_web "kubetape-web did not start: $(tail -n 3 "$KT_TMP/web.log")"
BIG_GID=$(psqlq "SELECT gid FROM sessions WHERE src = 'w1' AND id = $BIG")
STREAM_URL="http://127.0.0.1:$WPORT/api/sessions/$BIG_GID/stream"
curl -sf -o "$KT_TMP/stream-full.bin" "$STREAM_URL" || fatal pg_web_outage_full "the stream failed without an outage"
curl -sf --limit-rate 400k -o "$KT_TMP/stream-cut.bin" "$STREAM_URL" &
CURL=$!
wait_for 10 sh -c "[ \$(stat -c %s '$KT_TMP/stream-cut.bin' 2>/dev/null || echo 0) -gt 200000 ]" ||
	fail pg_web_outage_started "the slow stream did not start"
pg_stop
sleep 2
pg_restart || fatal pg_restart "postgres did not restart"
wait_for 60 sh -c "! kill -0 $CURL 2>/dev/null"
wait "$CURL"
rc=$?
check pg_web_stream_outage "curl rc $rc, $(stat -c %s "$KT_TMP/stream-cut.bin") of $(stat -c %s "$KT_TMP/stream-full.bin") bytes; log: $(grep -i 'session' "$KT_TMP/web.log" | head -n 4 | tr '\n' ' ')" \
	sh -c "[ $rc = 0 ] && cmp -s '$KT_TMP/stream-full.bin' '$KT_TMP/stream-cut.bin' && grep -q 'session $BIG_GID: the server is unreachable; waiting for it' '$KT_TMP/web.log' && grep -q 'streaming session $BIG_GID: the server is back after' '$KT_TMP/web.log'"
kill "$WEB" 2>/dev/null

kill -TERM "$SHIPPER"
wait "$SHIPPER"
rc=$?
check pg_web_shipper_exit0 "shipper exited $rc on SIGTERM" test "$rc" = 0
finish
