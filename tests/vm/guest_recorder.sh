#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/vm/guest_recorder.sh OUT [BACKEND] — run INSIDE a kernel-matrix
# guest (tests/vm/vmrun.sh): the recorder itself, not the selftest.
#
# Starts kubetape-recorder (--capture BACKEND, default auto) on a store in
# the guest, starts a "container" (a new pid and mount namespace whose init
# is sleep), enters it with nsenter from a pty driven by ptyrun (as a
# runtime's exec would: the shell is pid 2 of the namespace), types a few
# commands with 20000 lines of output, exits 3, stops the recorder with
# SIGTERM and reads the session back with `kubetape cat`.
#
# Prints "# backend: <what the recorder chose>", "# matrix: sessions=N
# recorded=B received=B" and PASS/FAIL lines: recorder ready, one session
# with the shell's exit code, recording == the pty's bytes, commands seen,
# SIGTERM exit 0, no loss, and the programs' skipped runs (recursion_misses)
# all counted in the store.  Exit status 0 when all passed.
set -u
OUT=${1:?usage: guest_recorder.sh OUT [BACKEND]}
BE=${2:-auto}
W=$(mktemp -d /tmp/kt-guest.XXXXXX) || exit 1
KT="$OUT/kubetape --db $W/kt.db"
nfail=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; nfail=$((nfail + 1)); }

# --pin-dir none: one recorder per guest boot, nothing to continue
"$OUT/kubetape-recorder" --db "$W/kt.db" --capture "$BE" --node-name guest --no-index --pin-dir none \
	--stats-file "$W/stats.json" </dev/null >"$W/rec.log" 2>&1 &
REC=$!
for _ in $(seq 200); do grep -q ready "$W/rec.log" && break; kill -0 $REC 2>/dev/null || break; sleep 0.1; done
if ! grep -q ready "$W/rec.log"; then
	fail guest_recorder_ready "recorder not ready: $(tail -3 "$W/rec.log")"
	exit 1
fi
pass guest_recorder_ready
sed 's/^/# /' "$W/rec.log" | grep -i "backend"

unshare --pid --fork --mount-proc sleep 100000 </dev/null >/dev/null 2>&1 &
UNS=$!
for _ in $(seq 50); do CPID=$(pgrep -P $UNS sleep) && break; sleep 0.1; done
cat >"$W/s.script" <<'EOS'
expect "kt# " 20
send "echo hello-guest\r"
expect "hello-guest\r\n" 10
send "id\r"
expect "uid=0" 10
send "seq 1 20000\r"
expect "^20000" 60
send "exit 3\r"
wait-exit 30
EOS
"$OUT/tests/ptyrun" --rows 24 --cols 80 --script "$W/s.script" --out "$W/client.out" -- \
	nsenter -t "$CPID" -p -- env PS1='kt# ' bash --norc -i >"$W/ptyrun.log" 2>&1
rc=$?
[ "$rc" = 3 ] && pass guest_session_exit3 || fail guest_session_exit3 "ptyrun exited $rc: $(tail -2 "$W/ptyrun.log")"
sleep 1.5	# the recorder closes a session ~1 s after its last process
kill -TERM $REC
wait $REC
rrc=$?
[ "$rrc" = 0 ] && pass guest_recorder_sigterm || fail guest_recorder_sigterm "recorder exited $rrc"
# SIGKILL to the namespace's init takes the namespace down
kill -KILL "$CPID" 2>/dev/null
wait $UNS 2>/dev/null
be=$(python3 -c "import json; print(json.load(open('$W/stats.json'))['backend'])" 2>/dev/null)
echo "# backend: ${be:-unknown}"
$KT sessions --json >"$W/s.json" 2>"$W/s.err"
n=$(python3 -c "import json; print(len(json.load(open('$W/s.json'))))" 2>/dev/null || echo 0)
id=$(python3 -c "import json; print(max(s['id'] for s in json.load(open('$W/s.json'))))" 2>/dev/null)
$KT cat "${id:-1}" >"$W/rec.out" 2>/dev/null
recd=$(stat -c %s "$W/rec.out"); recv=$(stat -c %s "$W/client.out")
echo "# matrix: sessions=$n recorded=$recd received=$recv"
[ "$n" = 1 ] && pass guest_one_session || fail guest_one_session "$n sessions"
if [ "$recv" -gt 100000 ] && cmp -s "$W/rec.out" "$W/client.out"; then pass guest_byte_exact
else fail guest_byte_exact "recorded $recd bytes, pty gave $recv: $(cmp "$W/rec.out" "$W/client.out" 2>&1 | head -1)"; fi
$KT show "${id:-1}" --json >"$W/show.json" 2>/dev/null
python3 - "$W/show.json" <<'EOP' && pass guest_session_meta || fail guest_session_meta "$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); s=d['session']; print(s['exit_code'], s['lost_bytes'], [c['argv'] for c in d['commands']][:6])" "$W/show.json" 2>&1)"
import json, sys
d = json.load(open(sys.argv[1]))
s, a = d['session'], [c['argv'] for c in d['commands']]
sys.exit(not (s['exit_code'] == 3 and s['lost_bytes'] == 0 and s['lost_events'] == 0 and
              ['id'] in a and ['seq', '1', '20000'] in a))
EOP
# skipped runs are never silent: what the kernel counted for the programs
# (stats file, at exit) is what the store holds and show reports (all
# programs were loaded by this recorder: --pin-dir none)
python3 - "$W/stats.json" "$W/show.json" <<'EOP' && pass guest_skipped_runs_stored || fail guest_skipped_runs_stored "$(python3 -c "import json,sys; print('kernel', json.load(open(sys.argv[1]))['kernel'].get('skipped_runs'), 'store', json.load(open(sys.argv[2])).get('node_skipped_runs'))" "$W/stats.json" "$W/show.json" 2>&1)"
import json, sys
k = json.load(open(sys.argv[1]))['kernel']['skipped_runs']
n = json.load(open(sys.argv[2]))['node_skipped_runs']
print(f"# skipped runs: kernel {k}, store {n['runs']}")
sys.exit(n['runs'] != k)
EOP
rm -rf "$W"
[ "$nfail" = 0 ]
