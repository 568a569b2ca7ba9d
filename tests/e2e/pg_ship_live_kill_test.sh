#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The shipper killed (-9) while the real recorder records a live session on
# the real pod (the fault table's "shipper killed" row; pg_ship_kill_test.sh
# kills it on a store at rest).  A follow-mode `kubetape ship` streams the
# session to a PostgreSQL started here; it is killed twice while the
# session prints a 4 KB line every 50 ms (~80 KB/s, bash builtins only, for
# 45 s), and started again each time.
#
# Asserts: after each restart the new shipper resumes from the server's
# marks and the server holds everything the node had at the restart within
# 5 s (caught up), and a line printed after that is on the server within
# 5 s (lag back under 5 s); the recorder never noticed (it does not depend
# on the shipper: no loss, exit 0); once the session ends, the server
# equals the node store row for row and byte for byte (zero loss, zero
# duplicates) and its chunks cover the session's frames without gap or
# overlap; the recording is what the client received.
# Prints the figures: shipper down (ms), caught up after the restart (ms),
# lag after it (ms).
. "$(dirname "$0")/../lib/common.sh"
. "$KT_REPO/tests/lib/pg.sh"
. "$KT_REPO/tests/lib/outage.sh"

require_root
require_containerd
require_bpf
require_cmd python3 sqlite3 psql
require_built "$KT_OUT/kubetape-recorder" "$KT_OUT/kubetape" "$PTYRUN"

K="$KT_OUT/kubetape"
DB=$KT_TMP/node.db
NODE=killnode
PORT=$(free_port)

step_start
pg_start "$PORT"
pass pg_start
pod_up pod_up
start_recorder recorder_start "$DB" "$KT_TMP/recorder.log" --node-name killnode-k8s \
	--stats-file "$KT_TMP/stats.json"
pass recorder_start

SHIPPER=""
start_shipper() {
	"$K" --db "$DB" ship --to "$PG_URL" --node-name "$NODE" --migrate --poll-ms 200 \
		--status-file "$KT_TMP/ship.json" >>"$KT_TMP/ship.log" 2>&1 7>&- &
	SHIPPER=$!
}
# (never a bare `wait`: it would wait for the e2e lock's holder too)
at_exit '[ -z "$SHIPPER" ] || { kill -TERM $SHIPPER 2>/dev/null; wait $SHIPPER 2>/dev/null; }'
# the server's answer to SQL is "t" (for wait_for)
pgt() { [ "$(psql -X -q -A -t "$PG_URL" -c "$1" 2>/dev/null)" = t ]; }
node_out() { sqlite3 "$DB" "SELECT coalesce(sum(out_bytes), 0) FROM chunks WHERE session_id = $LIVE_ID"; }
server_out() { psql -X -q -A -t "$PG_URL" -c "SELECT coalesce(sum(out_bytes), 0) FROM chunks WHERE src = '$NODE' AND session_id = $LIVE_ID" 2>/dev/null; }

# ------------------------------------------------------------------ a live session, streamed
step_start
start_shipper
mkfifo "$KT_TMP/live.fifo"
$PTYRUN --raw --rows 24 --cols 80 --script - --out "$KT_TMP/live.out" --expect-timeout 90 \
	-- $(ctr_exec_tty pgkill-live) <"$KT_TMP/live.fifo" >"$KT_TMP/live.log" 2>&1 &
LIVE=$!
exec 7>"$KT_TMP/live.fifo"
at_exit "exec 7>&-; kill $LIVE 2>/dev/null || true"
step() { printf '%s\n' "$@" >&7; }
step 'expect "# " 10'
wait_for 10 sh -c "[ -n \"\$(sqlite3 '$DB' \"SELECT id FROM sessions WHERE state = 0 AND leader_comm = 'bash'\")\" ]" ||
	fatal live_session "no active session"
LIVE_ID=$(sqlite3 "$DB" "SELECT max(id) FROM sessions WHERE state = 0 AND leader_comm = 'bash'")
# a 4 KB line every 50 ms for 45 s: the recorder commits all the time
# (expected in the same step: ptyrun drains the terminal only while it
# works on a script line, and a full pty would stall the loop)
step 'send "z=$(printf %04000d 0); end=$((SECONDS + 45)); i=0; while [ $SECONDS -lt $end ]; do i=$((i + 1)); echo tick-$i-$z; sleep 0.05; done; echo TICKS-$((6*7))-DONE\r"' \
	'expect "TICKS-42-DONE\r\n" 90'
wait_for 15 pgt "SELECT count(*) > 0 FROM chunks WHERE src = '$NODE' AND session_id = $LIVE_ID" ||
	fatal live_streams "the live session never reached the server"
pass live_streams

# ------------------------------------------------------------------ kill -9 twice, mid-stream
for round in 1 2; do
	step_start
	sleep 2
	kill -9 "$SHIPPER"
	wait "$SHIPPER" 2>/dev/null
	killed=$(now_ms)
	sleep 3	# down for a while: the node runs ahead
	ahead=$(node_out)
	behind=$(server_out)
	start_shipper
	started=$(now_ms)
	if wait_for 5 sh -c "[ \"\$(psql -X -q -A -t '$PG_URL' -c \"SELECT coalesce(sum(out_bytes), 0) FROM chunks WHERE src = '$NODE' AND session_id = $LIVE_ID\")\" -ge $ahead ]"; then
		caught=$(($(now_ms) - started))
	else
		caught="never ($(server_out) of $ahead bytes after 5 s)"
	fi
	# a line printed now: on the server how soon after the node has it
	mark=$(($(node_out) + 1))
	wait_for 10 sh -c "[ \"\$(sqlite3 '$DB' 'SELECT coalesce(sum(out_bytes), 0) FROM chunks WHERE session_id = $LIVE_ID')\" -ge $mark ]"
	t0=$(now_ms)
	if wait_for 10 sh -c "[ \"\$(psql -X -q -A -t '$PG_URL' -c \"SELECT coalesce(sum(out_bytes), 0) FROM chunks WHERE src = '$NODE' AND session_id = $LIVE_ID\")\" -ge $mark ]"; then
		lag=$(($(now_ms) - t0))
	else
		lag=never
	fi
	echo "# figure: shipper kill -9 #$round: down $((started - killed)) ms; at the restart the node had $ahead output bytes, the server $behind ($((ahead - behind)) behind); caught up ${caught} ms after the restart; lag after it ${lag} ms"
	check "resume_caught_up_under_5s_$round" "caught up: $caught" sh -c "[ '$caught' -lt 5000 ] 2>/dev/null"
	check "lag_back_under_5s_$round" "lag $lag ms" sh -c "[ '$lag' -lt 5000 ] 2>/dev/null"
done

# ------------------------------------------------------------------ the end: equal, exact
step_start
step 'send "exit 0\r"' 'wait-exit 10'
exec 7>&-
wait "$LIVE" || fail live_client "client exited $?"
wait_for 15 sh -c "[ \"\$(sqlite3 '$DB' 'SELECT state FROM sessions WHERE id = $LIVE_ID')\" != 0 ]" ||
	fail live_ended "the live session did not end"
stop_recorder
rrc=$?
check recorder_exit0 "recorder exited $rrc" test "$rrc" = 0
check recorder_no_loss "loss counters: $(cat "$KT_TMP/stats.json" 2>/dev/null)" \
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); k=d['kernel']; sys.exit(not (k['lost_events']==0 and k['lost_bytes']==0))" "$KT_TMP/stats.json"
# the node store is final; the follow shipper converges on it
wait_for 30 pg_store_diff "$DB" "$NODE" >/dev/null
pg_store_diff "$DB" "$NODE" >"$KT_TMP/diff.txt"
check no_loss_no_dup "$(cat "$KT_TMP/diff.txt")" test ! -s "$KT_TMP/diff.txt"
pg_trigram_diff "$DB" "$NODE" || fail no_loss_no_dup "screen trigrams differ"
# chunks: seq is the first frame number; each starts where the previous ended
check chunks_cover_frames "gaps or overlaps in the server's chunks" \
	test "$(psqlq "SELECT count(*) FROM (SELECT seq, nframes, lead(seq) OVER (ORDER BY seq) AS nxt
		FROM chunks WHERE src = '$NODE' AND session_id = $LIVE_ID) x WHERE nxt IS NOT NULL AND nxt != seq + nframes")" = 0
"$K" --db "$DB" cat "$LIVE_ID" >"$KT_TMP/live.rec" 2>/dev/null
check recording_exact "the recording differs from what the client received" cmp -s "$KT_TMP/live.rec" "$KT_TMP/live.out"
check ticks_done "the client did not see the loop end" grep -q "TICKS-42-DONE" "$KT_TMP/live.out"
kill -TERM "$SHIPPER"
wait "$SHIPPER"
src=$?
SHIPPER=""
check shipper_sigterm_exit0 "shipper exited $src on SIGTERM" test "$src" = 0
finish
