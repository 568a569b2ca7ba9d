#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Continuity across recorder restarts (issue 9), on a real containerd + runc
# pod with the real recorder and its pinned BPF state:
#
#  1. restart mid-session, once after SIGTERM and once after kill -9: the
#     session types before, while no recorder runs, and after the restart.
#     Its recording equals what the client received byte for byte (or
#     differs only by a counted gap), it is ONE session (same id), the
#     commands typed after the restart are execs of it, and its exit code
#     is recorded.  Prints the restart gap (recorder down -> ready) in ms.
#  2. a session printing 1 MB/s (1 MB at the start of every second, for
#     6 s) across a kill -9, a 2 s pause and a restart: bytes lost (figure;
#     the test requires recorded + counted lost == received).
#  0. an incompatible pinned layout (an upgrade from a layout without the
#     handover map) is reported and replaced.
#  1b. an upgrade across KT_PIN_LAYOUT with the same KT_EVENT_ABI: a
#     recorder pinning as another layout (--pin-layout, this build: real
#     kernel objects, the real handover) takes the state over, then the
#     normal one takes it back after a kill -9; the open session continues
#     through both switches as in 1 (one session, exact, exit code).
#  3. kill -9 trials during a flood (KT_KILL_TRIALS, default 100: about
#     3 minutes here): after each kill, the index worker is gone within 2 s,
#     PRAGMA integrity_check is ok, never two workers; a table row per
#     trial.  At the end the flooding session's recording is the client's
#     bytes with holes only where gaps are marked: walking both, every
#     recorded byte matches in order and the bytes skipped add up exactly
#     to the gap markers' sum, which is the session's lost_bytes.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/outage.sh"

require_root
require_containerd
require_bpf
require_cmd python3 sqlite3 bpftool
require_built "$KT_OUT/kubetape-recorder" "$KT_OUT/kubetape" "$PTYRUN"

DB=$KT_TMP/kt.db
KT="$KT_OUT/kubetape --db $DB"
rec_n=0
rec_up() {	# rec_up: a recorder on $DB (same pin dir every time), log recN.log
	rec_n=$((rec_n + 1))
	start_recorder "recorder_start_$rec_n" "$DB" "$KT_TMP/rec$rec_n.log" --node-name e2e-node "$@"
}
# accounted NAME SCRIPT OUT REC JSON: recorded out + in + counted lost
# covers what was shown (plus at most what was typed); byte-exact output
# when nothing was lost
accounted() {
	local name=$1 script=$2 out=$3 rec=$4 js=$5 lost rin rb cb tb
	lost=$(json "$js" "print(d['session']['lost_bytes'])")
	rin=$(json "$js" "print(d['session']['bytes_in'])")
	rb=$(stat -c %s "$rec"); cb=$(stat -c %s "$out"); tb=$(typed "$script")
	echo "# figure: $name: shown $cb + typed $tb bytes; recorded $rb + $rin; counted lost $lost"
	# typed bytes are recorded, or withheld as a count (echo off: bash's
	# readline), or counted lost: the kernel's counter does not split
	# directions, so the typed part is a range
	check "${name}_accounted" "recorded $rb + $rin + lost $lost not within shown $cb .. shown + typed $((cb + tb))" \
		test $((rb + rin + lost)) -ge "$cb" -a $((rb + rin + lost)) -le $((cb + tb))
	if [ "$lost" = 0 ]; then
		check "${name}_byte_exact" "recording differs from the client's bytes" cmp -s "$rec" "$out"
	fi
}
# the index workers of this test's DB
workers() { procs_mentioning "--index-worker" | grep -F -- "$DB" || true; }
# the newest session id
# ended ID: the session is closed (show --json is pretty-printed)
last_id() { $KT sessions --json | python3 -c "import json,sys; d=json.load(sys.stdin); print(max(s['id'] for s in d) if d else 0)"; }

step_start
pod_up pod_up
pass pod_up

# ------------------------------------------------------------------ 1. restart mid-session
restart_case() {	# restart_case term|kill|upgrade
	local m=$1 id before pid t_down t_ready rc n
	cat >"$KT_TMP/$m.script" <<EOF
expect "# " 10
send "echo before-$m\r"
expect "before-$m\r\n" 5
sleep 3
send "echo during-$m; seq 1 3000\r"
expect "^3000\r\n" 10
sleep 5
send "ls /\r"
expect "# " 5
send "echo after-\$((3+4))-$m\r"
expect "after-7-$m\r\n" 5
send "exit 7\r"
wait-exit 10
EOF
	step_start
	before=$(last_id)
	$PTYRUN --raw --rows 24 --cols 80 --script "$KT_TMP/$m.script" --out "$KT_TMP/$m.out" \
		-- $(ctr_exec_tty "e2e-restart-$m") >"$KT_TMP/$m.log" 2>&1 &
	pid=$!
	wait_for 10 grep -q "before-$m" "$KT_TMP/$m.out" || fail "restart_${m}_before" "no 'before' output"
	wait_for 10 sh -c "[ \$($KT sessions --json --active | grep -c '\"pod\":\"$POD_NAME\"') -ge 1 ]" ||
		fail "restart_${m}_row" "no active session row"
	id=$(last_id)
	t_down=$(now_ms)
	if [ "$m" = term ]; then
		stop_recorder
		rc=$?
		check "restart_term_exit0" "recorder exited $rc on SIGTERM" test "$rc" = 0
	else	# kill, upgrade: the recorder dies hard
		kill -KILL "$REC"
		wait "$REC" 2>/dev/null
	fi
	t_down=$(now_ms)
	# the session goes on without any recorder
	wait_for 15 grep -q "^3000" "$KT_TMP/$m.out" || fail "restart_${m}_during" "no 'during' output"
	t_down2=$(now_ms)
	rec_up
	t_ready=$(now_ms)
	echo "# figure: $m: recorder start -> ready (adopting): $((t_ready - t_down2)) ms; recorder absent $((t_ready - t_down)) ms in all"
	wait "$pid"
	rc=$?
	check "restart_${m}_client_exit" "client exited $rc, expected 7" test "$rc" = 7
	wait_for 10 ended "$id" ||
		fail "restart_${m}_ended" "session $id not ended within 10 s"
	$KT show "$id" --json >"$KT_TMP/$m.json"
	if [ "$m" = upgrade ]; then
		check "restart_upgrade_switched" "the new recorder did not switch recording from v$OLD_LAYOUT to v$LAYOUT" \
			grep -q "recording switched from layout v$OLD_LAYOUT to v$LAYOUT in one step: [1-9]" "$KT_TMP/rec$rec_n.log"
		check "restart_upgrade_old_removed" "$KT_PIN_DIR/v$OLD_LAYOUT still there" test ! -e "$KT_PIN_DIR/v$OLD_LAYOUT"
	else
		check "restart_${m}_adopted" "the new recorder did not say it adopted the pinned state" \
			grep -q "adopted the kernel state" "$KT_TMP/rec$rec_n.log"
	fi
	n=$($KT sessions --json | python3 -c "import json,sys; print(sum(1 for s in json.load(sys.stdin) if s['id'] > $before))")
	check "restart_${m}_one_session" "$n sessions since the restart case began, expected 1 (the same session continued)" test "$n" = 1
	check "restart_${m}_exit_code" "exit code $(json "$KT_TMP/$m.json" "print(d['session'].get('exit_code'))"), expected 7" \
		json "$KT_TMP/$m.json" "sys.exit(d['session'].get('exit_code') != 7)"
	check "restart_${m}_commands" "commands after the restart are not execs of session $id: $(json "$KT_TMP/$m.json" "print([c['argv'] for c in d['commands']])")" \
		json "$KT_TMP/$m.json" "
a=[c['argv'] for c in d['commands']]
sys.exit(not (['seq','1','3000'] in a and ['ls','/'] in a and a.index(['seq','1','3000']) < a.index(['ls','/'])))"
	$KT cat "$id" >"$KT_TMP/$m.rec" 2>/dev/null
	accounted "restart_$m" "$KT_TMP/$m.script" "$KT_TMP/$m.out" "$KT_TMP/$m.rec" "$KT_TMP/$m.json"
}

# An upgrade from an incompatible pinned layout: state of another version
# (v999 here) cannot be adopted; the recorder attaches its own programs,
# says what it cannot carry over, and removes the old state.
step_start
mkdir -p "$KT_PIN_DIR/v999"
bpftool map create "$KT_PIN_DIR/v999/map_sessions" type hash key 8 value 8 entries 4 name kt_old_layout ||
	fail upgrade_setup "bpftool could not pin a map in $KT_PIN_DIR/v999"
rec_up
check upgrade_foreign_layout_reported "no line about the v999 state that cannot be carried over" \
	grep -q "layout v999 .*cannot be carried over" "$KT_TMP/rec1.log"
check upgrade_foreign_layout_removed "$KT_PIN_DIR/v999 still there" test ! -e "$KT_PIN_DIR/v999"
check upgrade_own_layout_pinned "no $KT_PIN_DIR/v* of this build" sh -c "ls -d '$KT_PIN_DIR'/v* >/dev/null 2>&1"
pass recorder_first_start
restart_case term
restart_case kill

# An upgrade across layouts that share the event format (KT_EVENT_ABI):
# a recorder of "another version" (this build pinning as v$OLD_LAYOUT)
# takes the state of v$LAYOUT over, a session runs on it, the recorder is
# killed, and a recorder of this layout takes it back while the session
# goes on (restart_case upgrade).
LAYOUT=$(sed -n 's/^#define KT_PIN_LAYOUT *\([0-9]*\).*/\1/p' "$KT_REPO/bpf/events.h")
OLD_LAYOUT=$((LAYOUT + 1000))
step_start
stop_recorder
rec_up --pin-layout "$OLD_LAYOUT"
check upgrade_to_other_layout "a recorder pinning as v$OLD_LAYOUT did not take v$LAYOUT over" \
	grep -q "recording switched from layout v$LAYOUT to v$OLD_LAYOUT in one step" "$KT_TMP/rec$rec_n.log"
check upgrade_other_layout_pinned "no $KT_PIN_DIR/v$OLD_LAYOUT, or v$LAYOUT still there" \
	test -e "$KT_PIN_DIR/v$OLD_LAYOUT" -a ! -e "$KT_PIN_DIR/v$LAYOUT"
restart_case upgrade

# ------------------------------------------------------------------ 2. 1 MB/s across kill -9
step_start
cat >"$KT_TMP/rate.script" <<'EOF'
expect "# " 10
send "s=$SECONDS; for i in $(seq 1 6); do head -c 1000000 /dev/zero | tr '\\0' x; echo; while [ $SECONDS -lt $((s + i)) ]; do sleep 0.02; done; done; echo RATE-DONE\r"
expect "^RATE-DONE" 40
send "exit\r"
wait-exit 10
EOF
$PTYRUN --raw --script "$KT_TMP/rate.script" --out "$KT_TMP/rate.out" -- $(ctr_exec_tty e2e-rate) >"$KT_TMP/rate.log" 2>&1 &
pid=$!
wait_for 10 grep -q xxxxxxxx "$KT_TMP/rate.out"
sleep 1
id=$(last_id)
t0=$(now_ms)
kill -KILL "$REC"
wait "$REC" 2>/dev/null
sleep 2	# a slow restart (image pull, crash-loop back-off): capture goes on
rec_up
t1=$(now_ms)
wait "$pid"
wait_for 10 ended "$id"
$KT show "$id" --json >"$KT_TMP/rate.json"
$KT cat "$id" >"$KT_TMP/rate.rec" 2>/dev/null
echo "# figure: 1 MB/s session: recorder absent $((t1 - t0)) ms (kill -9, 2 s pause, start -> ready)"
accounted rate_1mbps "$KT_TMP/rate.script" "$KT_TMP/rate.out" "$KT_TMP/rate.rec" "$KT_TMP/rate.json"

# ------------------------------------------------------------------ 3. kill -9 during a flood
TRIALS=${KT_KILL_TRIALS:-100}
step_start
STOP=kt-stop-flood-$$	# created from the host in the pod's rootfs
at_exit "rm -f '$FAKEPOD_DIR/rootfs/tmp/$STOP'"
cat >"$KT_TMP/flood.script" <<EOF
expect "# " 10
send "i=0; while [ ! -e /tmp/$STOP ]; do seq \$i \$((i + 49999)); i=\$((i + 50000)); done; echo FLOOD-DONE\\r"
expect "^FLOOD-DONE" 600
send "exit 5\r"
wait-exit 10
EOF
$PTYRUN --raw --script "$KT_TMP/flood.script" --out "$KT_TMP/flood.out" -- $(ctr_exec_tty e2e-flood) >"$KT_TMP/flood.log" 2>&1 &
fpid=$!
wait_for 10 grep -q "^49999" "$KT_TMP/flood.out" || fail flood_started "the flood did not start"
fid=$(last_id)
orphans=0 badint=0 two=0 t_start=$(now_ms) wg_max=0 dr_max=0 dr_sum=0
echo "# kill -9 trial table: kill9 | trial | recorder up before the kill (ms) | worker gone after (ms) | kill -> next recorder ready (ms) | integrity_check | workers after restart | session lost_bytes so far | client bytes so far"
for t in $(seq 1 "$TRIALS"); do
	tu=$(now_ms)
	sleep 0.$((RANDOM % 9 + 1))
	wpids=$(workers | cut -d' ' -f1)
	kill -KILL "$REC"
	wait "$REC" 2>/dev/null
	tk=$(now_ms)
	# the worker dies with its recorder within 2 s
	until [ -z "$(workers)" ] || [ $(($(now_ms) - tk)) -gt 2000 ]; do sleep 0.02; done
	wg=$(($(now_ms) - tk))
	if [ -n "$(workers)" ]; then
		orphans=$((orphans + 1))
		echo "# trial $t: orphan worker(s): $(workers)"
		for w in $wpids; do kill -KILL "$w" 2>/dev/null; done
	fi
	ic=$(sqlite3 "file:$DB?mode=ro" "PRAGMA integrity_check" 2>&1)
	[ "$ic" = ok ] || { badint=$((badint + 1)); echo "# trial $t: integrity_check: $ic"; }
	rec_up
	dr=$(($(now_ms) - tk))
	nw=$(workers | wc -l)
	[ "$nw" -le 1 ] || { two=$((two + 1)); echo "# trial $t: $nw workers on one DB: $(workers)"; }
	lb=$(sqlite3 "file:$DB?mode=ro" "SELECT lost_bytes FROM sessions WHERE id = $fid" 2>/dev/null)
	echo "# kill9 | $t | $((tk - tu)) | $wg | $dr | $ic | $nw | ${lb:-?} | $(stat -c %s "$KT_TMP/flood.out")"
	[ "$wg" -gt "$wg_max" ] && wg_max=$wg
	[ "$dr" -gt "$dr_max" ] && dr_max=$dr
	dr_sum=$((dr_sum + dr))
done
echo "# figure: $TRIALS kill -9 trials during a flood in $(( ($(now_ms) - t_start) / 1000 )) s: $orphans orphan workers, $badint integrity failures, $two restarts with two workers; worker gone <= $wg_max ms; kill -> ready mean $((dr_sum / TRIALS)) ms, max $dr_max ms"
check kill9_no_orphan_worker "$orphans of $TRIALS trials left the index worker alive > 2 s" test "$orphans" = 0
check kill9_integrity "$badint of $TRIALS trials failed PRAGMA integrity_check" test "$badint" = 0
check kill9_one_worker "$two of $TRIALS restarts had two index workers on the DB" test "$two" = 0
touch "$FAKEPOD_DIR/rootfs/tmp/$STOP"
wait "$fpid"
rc=$?
check flood_client_exit "flood client exited $rc, expected 5" test "$rc" = 5
wait_for 15 ended "$fid" || fail flood_ended "session $fid not ended"
$KT show "$fid" --json >"$KT_TMP/flood.json"
$KT cat "$fid" >"$KT_TMP/flood.rec" 2>/dev/null
check flood_exit_code "exit code not 5" json "$KT_TMP/flood.json" "sys.exit(d['session'].get('exit_code') != 5)"
accounted "flood_${TRIALS}_kills" "$KT_TMP/flood.script" "$KT_TMP/flood.out" "$KT_TMP/flood.rec" "$KT_TMP/flood.json"
# prefix + continuation with every gap counted: walking the client's bytes
# and the recording, every recorded byte matches in order and what the
# recording skips adds up exactly to its gap markers (asciicast "m" events)
# and to lost_bytes.  The flood's lines never repeat (a counter), so where
# a hole ends is found without ambiguity.
$KT export "$fid" --format asciicast --no-input -o "$KT_TMP/flood.cast" --force 2>/dev/null
holes=$(python3 "$KT_REPO/tests/lib/holes.py" "$KT_TMP/flood.out" "$KT_TMP/flood.cast" \
	"$(json "$KT_TMP/flood.json" "print(d['session']['lost_bytes'])")" 2>&1); hrc=$?
echo "# figure: flood recording vs client: $holes"
check flood_prefix_continuation "$holes" test "$hrc" = 0

step_start
stop_recorder
rc=$?
check recorder_sigterm_exit0 "recorder exited $rc on SIGTERM" test "$rc" = 0
finish
