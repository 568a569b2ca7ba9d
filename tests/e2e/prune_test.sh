#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Retention on a live node (kubetape prune / hold, store/prune.c): the real
# recorder keeps recording a session on the real pod and a reader follows it
# (`kubetape cat --follow`) while older sessions are pruned by age and by
# size, with a legal hold.
#
# Asserts: held and active sessions are never pruned; a released hold can
# be; each prune is recorded and `kubetape verify` reports "pruned by rule",
# with the node chain intact (no BROKEN); the followed session's recording
# and the reader's copy equal what the client received, byte for byte;
# --vacuum shrinks the file; the recorder lost nothing and exits 0; the
# recorder's --retain-max-bytes prunes in its worker.
. "$(dirname "$0")/../lib/common.sh"

require_root
require_containerd
require_bpf
require_cmd python3 sqlite3 curl
require_built "$KT_OUT/kubetape-recorder" "$KT_OUT/kubetape" "$PTYRUN"

DB=$KT_TMP/kt.db
KT="$KT_OUT/kubetape --db $DB"

step_start
pod_up pod_up
MPORT=$(free_port)
start_recorder recorder_start "$DB" "$KT_TMP/recorder.log" --node-name prune-node \
	--stats-file "$KT_TMP/stats.json" --metrics-listen "127.0.0.1:$MPORT"
pass recorder_start
# metric NAME[{labels}]: its value in the recorder's scrape
metric() { curl -sf "http://127.0.0.1:$MPORT/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }

ctr_exec_tty() {
	echo ctr --address "$CONTAINERD_ADDRESS" -n "$CONTAINERD_NAMESPACE" task exec --tty --exec-id "$1" "$CONTAINER_ID" bash
}

# three ended sessions, ~400 KB of output each
step_start
for i in 1 2 3; do
	cat >"$KT_TMP/s$i.script" <<EOF
expect "# " 10
send "seq 1 60000; echo done-$i\r"
expect "done-$i\r\n" 30
send "exit 0\r"
wait-exit 10
EOF
	$PTYRUN --raw --script "$KT_TMP/s$i.script" --out "$KT_TMP/s$i.out" -- $(ctr_exec_tty "prune-$i") \
		>"$KT_TMP/s$i.log" 2>&1 || { show "$KT_TMP/s$i.log"; fatal "record_$i" "client failed"; }
done
# settled: ended, screen index done, compacted (what prune waits for)
settled="SELECT count(*) FROM sessions s WHERE s.state != 0
	AND EXISTS (SELECT 1 FROM screen_index i WHERE i.session_id = s.id AND i.done = 1)
	AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.session_id = s.id AND c.codec = 0)"
wait_for 60 sh -c "[ \"\$(sqlite3 '$DB' \"$settled\")\" -ge 3 ]" ||
	fatal sessions_settled "the recorder did not index and compact the 3 sessions in 60 s ($(sqlite3 "$DB" "$settled"))"
pass sessions_settled

# a live session, followed by a reader, kept open through the prunes
step_start
mkfifo "$KT_TMP/live.fifo"
$PTYRUN --raw --script - --out "$KT_TMP/live.out" --expect-timeout 60 \
	-- $(ctr_exec_tty prune-live) <"$KT_TMP/live.fifo" >"$KT_TMP/live.log" 2>&1 &
LIVE=$!
exec 7>"$KT_TMP/live.fifo"
at_exit "exec 7>&-; kill $LIVE 2>/dev/null || true"
printf '%s\n' 'expect "# " 10' 'send "seq 1 20000; echo live-one\r"' 'expect "live-one\r\n" 20' >&7
wait_for 10 sh -c "[ -n \"\$(sqlite3 '$DB' 'SELECT id FROM sessions WHERE state = 0')\" ]" ||
	fatal live_session "no active session"
LIVE_ID=$(sqlite3 "$DB" "SELECT max(id) FROM sessions WHERE state = 0")
$KT cat --follow "$LIVE_ID" >"$KT_TMP/follow.out" 2>"$KT_TMP/follow.err" &
READER=$!
at_exit "kill $READER 2>/dev/null || true"
pass live_session

step_start
curl -sf "http://127.0.0.1:$MPORT/metrics" >"$KT_TMP/metrics.txt"
check metrics_scrape "no Prometheus text from the recorder" grep -q '^# TYPE kubetape_sessions_total counter' "$KT_TMP/metrics.txt"
wait_for 5 sh -c "curl -sf http://127.0.0.1:$MPORT/metrics | grep -q '^kubetape_sessions_total 4'"
check metrics_values "$(grep -v '^#' "$KT_TMP/metrics.txt" | tr '\n' ' ')" \
	sh -c "curl -sf http://127.0.0.1:$MPORT/metrics >'$KT_TMP/metrics.txt' &&
		grep -q '^kubetape_sessions_total 4\$' '$KT_TMP/metrics.txt' &&
		grep -q '^kubetape_store_sessions_active 1\$' '$KT_TMP/metrics.txt' &&
		grep -q '^kubetape_ring_lost_bytes_total 0\$' '$KT_TMP/metrics.txt' &&
		grep -q '^kubetape_store_down 0\$' '$KT_TMP/metrics.txt' &&
		awk '\$1 == \"kubetape_bytes_recorded_total{direction=\\\"out\\\"}\" && \$2 > 1000000 { ok=1 } END { exit !ok }' '$KT_TMP/metrics.txt'"
check metrics_404 "a path other than /metrics was answered" \
	test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/")" = 404

step_start
$KT hold 2 --reason "case 42" >"$KT_TMP/hold.out" 2>&1
check hold "kubetape hold 2: $(cat "$KT_TMP/hold.out")" contains "$KT_TMP/hold.out" "session 2 held"
$KT hold --list | grep -q "case 42" || fail hold "hold --list does not show it"

step_start
# the age rule counts from a session's final checkpoint too (signed at its
# close, after the close grace, store/prune.c): let 1-3's be over 1 s old
LAST_CP=$(sqlite3 "$DB" "SELECT max(ts_us) FROM checkpoints WHERE final = 1 AND session_id IN (1, 2, 3)")
wait_for 10 sh -c "[ \$(( \$(date +%s%6N) - ${LAST_CP:-0} )) -gt 1200000 ]" ||
	fatal prune_by_age "the sessions' final checkpoints ($LAST_CP) did not age 1.2 s in 10 s"
$KT prune --older-than 1s --dry-run >"$KT_TMP/dry.out" 2>&1
check prune_dry_run "dry run: $(cat "$KT_TMP/dry.out")" \
	sh -c "grep -q 'would prune 2 sessions' '$KT_TMP/dry.out' && [ \$(sqlite3 '$DB' 'SELECT count(*) FROM sessions') = 4 ]"
$KT prune --older-than 1s >"$KT_TMP/age.out" 2>&1
check prune_by_age "$(cat "$KT_TMP/age.out")" \
	sh -c "grep -q '^pruned 2 sessions' '$KT_TMP/age.out' && grep -q '1 held' '$KT_TMP/age.out' &&
		[ \"\$(sqlite3 '$DB' 'SELECT group_concat(id) FROM (SELECT id FROM sessions ORDER BY id)')\" = '2,$LIVE_ID' ]"
check prune_recorded "prunes table: $(sqlite3 "$DB" 'SELECT session_id, rule, who FROM prunes')" \
	test "$(sqlite3 "$DB" "SELECT count(*) FROM prunes WHERE rule = 'older-than 1s' AND session_id IN (1, 3)")" = 2

step_start
$KT verify 1 >"$KT_TMP/verify1.out" 2>&1
rc=$?
check verify_says_pruned "verify 1 (rc $rc): $(cat "$KT_TMP/verify1.out")" \
	sh -c "[ $rc = 0 ] && grep -q \"pruned *by rule 'older-than 1s'\" '$KT_TMP/verify1.out' && ! grep -q BROKEN '$KT_TMP/verify1.out'"
$KT verify --all >"$KT_TMP/verify.out" 2>&1
rc=$?
check verify_chain_intact "verify --all (rc $rc): $(grep -v '^ *$' "$KT_TMP/verify.out" | head -5)" \
	sh -c "[ $rc = 0 ] && grep -q '^node   verified' '$KT_TMP/verify.out'"

step_start
# the file and its WAL (recent pages live there until a checkpoint)
store_bytes() { cat "$DB" "$DB-wal" 2>/dev/null | wc -c; }
before=$(store_bytes)
$KT prune --max-bytes 1 --vacuum >"$KT_TMP/size.out" 2>&1
check prune_by_size_held_kept "$(cat "$KT_TMP/size.out")" \
	sh -c "grep -q '^pruned 0 sessions' '$KT_TMP/size.out' && [ \"\$(sqlite3 '$DB' 'SELECT count(*) FROM sessions')\" = 2 ]"
$KT hold --release 2 >/dev/null
$KT prune --max-bytes 1 --vacuum >"$KT_TMP/size2.out" 2>&1
after=$(store_bytes)
check prune_by_size_released "$(cat "$KT_TMP/size2.out")" \
	sh -c "grep -q '^pruned 1 sessions' '$KT_TMP/size2.out' && grep -q 'max-bytes 1' '$KT_TMP/size2.out' &&
		[ \"\$(sqlite3 '$DB' 'SELECT group_concat(id) FROM sessions')\" = '$LIVE_ID' ]"
echo "# figure: store file + WAL $before bytes before, $after after the size prune and vacuum"
check vacuum_shrinks "file $before -> $after bytes" test "$after" -lt "$before"

# the live session went on through all of it
step_start
printf '%s\n' 'send "seq 1 20000; echo live-two\r"' 'expect "live-two\r\n" 20' 'send "exit 0\r"' 'wait-exit 10' >&7
exec 7>&-
wait "$LIVE" || fail live_client "client exited $?"
wait_for 15 sh -c "[ \"\$(sqlite3 '$DB' 'SELECT state FROM sessions WHERE id = $LIVE_ID')\" != 0 ]" ||
	fail live_ended "the live session did not end"
wait_for 10 sh -c "! kill -0 $READER 2>/dev/null" || fail reader_follow "the follower did not stop at the end"
$KT cat "$LIVE_ID" >"$KT_TMP/live.rec" 2>/dev/null
check live_recording_exact "recording differs from what the client received" cmp -s "$KT_TMP/live.rec" "$KT_TMP/live.out"
check reader_follow_exact "the follower's copy differs from the client's" cmp -s "$KT_TMP/follow.out" "$KT_TMP/live.out"

step_start
stop_recorder
rrc=$?
check recorder_sigterm_exit0 "recorder exited $rrc" test "$rrc" = 0
check recorder_no_loss "loss counters: $(cat "$KT_TMP/stats.json" 2>/dev/null)" \
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); k=d['kernel']; sys.exit(not (k['lost_events']==0 and k['lost_bytes']==0 and d['recorder']['bad_events']==0))" "$KT_TMP/stats.json"
$KT verify --all >"$KT_TMP/verify2.out" 2>&1
check verify_after_all "$(cat "$KT_TMP/verify2.out")" sh -c "! grep -q BROKEN '$KT_TMP/verify2.out'"

# the recorder's own retention (in its worker): the ended live session goes
step_start
start_recorder recorder_retention "$DB" "$KT_TMP/recorder2.log" --node-name prune-node --retain-max-bytes 1
wait_for 30 sh -c "[ \"\$(sqlite3 '$DB' 'SELECT count(*) FROM sessions')\" = 0 ]"
check recorder_retention "sessions left: $(sqlite3 "$DB" 'SELECT count(*) FROM sessions'); $(grep retention "$KT_TMP/recorder2.log")" \
	test "$(sqlite3 "$DB" "SELECT count(*) FROM prunes WHERE session_id = $LIVE_ID AND who = 'kubetape-recorder retention' AND rule = 'max-bytes 1'")" = 1
stop_recorder || fail recorder_retention "recorder exit status $?"
finish
