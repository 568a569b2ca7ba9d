#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Recording started late: a kubectl-exec-like session (real containerd +
# runc, tests/lib/fakepod.sh) is already running when a recorder starts with
# no pinned kernel state to adopt (an empty pin dir: a first install, or a
# new kernel object).  The recorder must find it (bpf/late.bpf.h, the task
# iterator applying the exec hook's rule), record it from that moment, mark
# it "recording started late" with the time (sessions --json, show, cat),
# and what the client received after that must be recorded exactly: the
# recording is a suffix of the client's bytes that holds everything typed
# after the start.  The exit code comes too.
. "$(dirname "$0")/../lib/common.sh"

require_root
require_containerd
require_bpf
require_cmd python3
require_built "$KT_OUT/kubetape-recorder" "$KT_OUT/kubetape" "$PTYRUN"

KT="$KT_OUT/kubetape --db $KT_TMP/kt.db"
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $2" "$@"; }

step_start
pod_up pod_up
pass pod_up

# the client: one command before the recorder exists, then (10 s later,
# the recorder ready by then) one after, then exit 5
cat >"$KT_TMP/late.script" <<'EOS'
expect "# " 20
send "echo before-$((6*7))\r"
expect "before-42" 10
sleep 10
send "echo after-$((7*8))\r"
expect "after-56" 10
send "exit 5\r"
wait-exit 10
EOS
step_start
$PTYRUN --raw --rows 24 --cols 80 --script "$KT_TMP/late.script" --out "$KT_TMP/late.out" \
	-- "$FAKEPOD" exec-tty bash >"$KT_TMP/late.log" 2>&1 &
CLIENT=$!
at_exit "kill $CLIENT 2>/dev/null || :"
wait_for 30 grep -q "before-42" "$KT_TMP/late.out" ||
	fatal session_before "the client's session did not start: $(tail -c 300 "$KT_TMP/late.log")"
pass session_before

step_start
# a pin dir with nothing in it: nothing to adopt
check pin_dir_empty "$KT_PIN_DIR already holds kernel state" test ! -e "$KT_PIN_DIR/v3"
start_recorder recorder_start "$KT_TMP/kt.db" "$KT_TMP/recorder.log" --node-name e2e-node
grep -E "already running|session .* started" "$KT_TMP/recorder.log" | sed 's/^/# /'
check recorder_ready_in_time "the recorder was ready only after the client typed on" \
	sh -c "! grep -q after-56 '$KT_TMP/late.out'"
check recorder_found_running "no 'already running' count in the log" \
	grep -qE "[1-9][0-9]* session\(s\) already running" "$KT_TMP/recorder.log"

step_start
wait "$CLIENT"
rc=$?
check client_exit5 "client exited $rc, expected 5 ($(tail -c 300 "$KT_TMP/late.log" | tr -d '\r'))" test "$rc" = 5
wait_for 10 sh -c "$KT sessions --json | grep -q '\"exit_code\":5'"
$KT sessions --json >"$KT_TMP/all.json"
$KT sessions | sed 's/^/# /'
id=$(json "$KT_TMP/all.json" "m=[s['id'] for s in d if s['container']=='$CONTAINER_NAME' and s['pod']=='$POD_NAME']; print(m[0] if len(m)==1 else '')")
check late_session "no single session in $POD_NAME/$CONTAINER_NAME: $(cat "$KT_TMP/all.json" | head -c 600)" test -n "$id"
$KT show "$id" --json >"$KT_TMP/s.json" 2>&1
$KT show "$id" >"$KT_TMP/s.txt" 2>&1
check late_flag "entry_flags lack recording-started-late: $(head -c 600 "$KT_TMP/s.json")" \
	json "$KT_TMP/s.json" "s=d['session']; sys.exit(not ('recording-started-late' in s['entry_flags'] and s['exit_code']==5 and s['node']=='e2e-node' and not s['attribution_guess']))"
check late_show "show does not say recording started late: $(cat "$KT_TMP/s.txt")" grep -q "Recorded from.*recording started late" "$KT_TMP/s.txt"
$KT cat "$id" >"$KT_TMP/late.rec" 2>"$KT_TMP/cat.err"
check late_cat_note "cat does not say recording started late: $(cat "$KT_TMP/cat.err")" grep -q "recording started late, at " "$KT_TMP/cat.err"
# the recording: a suffix of what the client got, holding all of "after"
check late_bytes_exact "recorded $(stat -c %s "$KT_TMP/late.rec") bytes are not the tail of the client's $(stat -c %s "$KT_TMP/late.out")" \
	python3 -c "
import sys
rec=open(sys.argv[1],'rb').read(); out=open(sys.argv[2],'rb').read()
i=out.index(b'before-42')
sys.exit(not (rec and out.endswith(rec) and b'after-56' in rec and b'before-42' not in rec and len(rec) >= len(out) - out.index(b'\n', i) - 200))" \
	"$KT_TMP/late.rec" "$KT_TMP/late.out"
python3 -c "import sys; r=open(sys.argv[1],'rb').read(); o=open(sys.argv[2],'rb').read(); print('# client %d bytes, recorded %d (the last %d)' % (len(o), len(r), len(r)))" "$KT_TMP/late.rec" "$KT_TMP/late.out" 2>/dev/null || true

step_start
stop_recorder
rrc=$?
check recorder_sigterm_exit0 "recorder exited $rrc on SIGTERM" test "$rrc" = 0
finish
