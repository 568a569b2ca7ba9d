#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The spine, end to end: a real containerd + runc pod, the real recorder with
# its BPF programs, `ctr task exec --tty` driven through a pty as kubectl
# exec -it ends up on a node, and the store read back through `kubetape`.
#
# Asserts: one session per exec with the right pod/namespace/container and
# exit code; recorded output == the bytes the client received, byte for
# byte; every typed command as an exec with argv, in order; the resize; no
# loss (kernel and recorder counters); a non-tty exec as a command-only
# session; two concurrent sessions kept apart; no session for host or
# container-own processes; SIGTERM exits 0.  Prints the figures the closing
# note needs (bytes, DB size, exec-to-row latency).
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

# ------------------------------------------------------------------ recorder
step_start
start_recorder recorder_start "$KT_TMP/kt.db" "$KT_TMP/recorder.log" \
	--node-name e2e-node --stats-file "$KT_TMP/stats.json"
grep "capture backend" "$KT_TMP/recorder.log" | sed 's/^/# /'
pass recorder_start

ctr_exec_tty() {	# ctr_exec_tty EXEC_ID: the argv kubectl exec -it ends as
	echo ctr --address "$CONTAINERD_ADDRESS" -n "$CONTAINERD_NAMESPACE" task exec --tty --exec-id "$1" "$CONTAINER_ID" bash
}

# ------------------------------------------------------------------ session 1
# Several commands, one with > 1 MiB of output, a resize, a non-zero exit.
cat >"$KT_TMP/s1.script" <<'EOF'
expect "# " 10
send "echo hello-kubetape\r"
expect "hello-kubetape\r\n" 5
send "ls /\r"
expect "# " 5
send "id\r"
expect "uid=0" 5
send "seq 1 200000\r"
expect "^200000" 30
resize 40 120
# ctr relays SIGWINCH to the shim asynchronously: let it land first
sleep 0.5
send "stty size\r"
expect "40 120" 5
send "exit 3\r"
wait-exit 10
EOF
step_start
t0=$(now_ms)
$PTYRUN --raw --rows 24 --cols 80 --script "$KT_TMP/s1.script" --out "$KT_TMP/s1.out" \
	-- $(ctr_exec_tty e2e-one) >"$KT_TMP/s1.log" 2>&1 &
PTY1=$!
# exec -> session row: poll the store the way an auditor's CLI would
if wait_for 10 sh -c "$KT sessions --json --active | grep -q '\"pod\":\"$POD_NAME\"'"; then
	row_ms=$(($(now_ms) - t0))
	echo "# figure: ctr task exec -> session row visible: ${row_ms} ms"
	pass session_row_live
else
	fail session_row_live "no active session row within 10 s of ctr task exec"
fi
wait $PTY1
rc=$?
check client_exit_status "ctr task exec exited $rc, expected 3" test "$rc" = 3

# the session closes once its last process is gone and trailing output is in
wait_for 10 sh -c "$KT sessions --json | grep -q '\"state\":\"ended\"'" ||
	fail session_closed "session not marked ended within 10 s"
$KT sessions --json >"$KT_TMP/sessions.json"
S1=$(json "$KT_TMP/sessions.json" "print(max(s['id'] for s in d))")

step_start
$KT show "$S1" --json >"$KT_TMP/s1.json" || fail show_s1 "kubetape show $S1 failed"
check attribution "wrong pod/namespace/container/node: $(json "$KT_TMP/s1.json" "s=d['session']; print(s['k8s_namespace'], s['pod'], s['container'], s['node'], s['attribution_guess'])")" \
	json "$KT_TMP/s1.json" "s=d['session']; sys.exit(not (s['pod']=='$POD_NAME' and s['k8s_namespace']=='$POD_NAMESPACE' and s['container']=='$CONTAINER_NAME' and s['container_id']=='$CONTAINER_ID' and s['pod_uid']=='$POD_UID' and s['node']=='e2e-node' and s['runtime']=='containerd' and not s['attribution_guess']))"
check session_exit_code "exit code is not 3" json "$KT_TMP/s1.json" "sys.exit(d['session']['exit_code'] != 3)"
check session_tty "tty or initial size wrong" json "$KT_TMP/s1.json" "s=d['session']; sys.exit(not (s['has_tty'] and s['rows']==24 and s['cols']==80))"

step_start
$KT cat "$S1" >"$KT_TMP/s1.rec" 2>"$KT_TMP/cat1.err"
recorded=$(stat -c %s "$KT_TMP/s1.rec")
received=$(stat -c %s "$KT_TMP/s1.out")
echo "# figure: session 1: recorded $recorded bytes, client received $received bytes"
if cmp -s "$KT_TMP/s1.rec" "$KT_TMP/s1.out"; then
	pass output_byte_exact
else
	cmp "$KT_TMP/s1.rec" "$KT_TMP/s1.out" | head -3
	fail output_byte_exact "recorded output differs from what the client received"
fi
check output_large "less than 1 MiB recorded ($recorded)" test "$recorded" -ge 1048576
check output_echo_crlf "no kernel echo / \\r\\n translation in the recording" contains "$KT_TMP/s1.rec" $'echo hello-kubetape\r\nhello-kubetape\r\n'

step_start
# Every typed command that is a program (echo is a bash builtin) appears as
# an exec with its argv, in order, with increasing timestamps.
check commands_in_order "$(json "$KT_TMP/s1.json" "print([c['argv'] for c in d['commands']])")" \
	json "$KT_TMP/s1.json" "
cmds = d['commands']
argvs = [c['argv'] for c in cmds]
want = [['bash'], ['ls', '/'], ['id'], ['seq', '1', '200000'], ['stty', 'size']]
it = iter(argvs)
ok = all(any(a == w for a in it) for w in want)
ts = [c['ts_us'] for c in cmds]
sys.exit(not (ok and ts == sorted(ts) and len(set(ts)) == len(ts)))"

step_start
$KT export "$S1" --format asciicast -o "$KT_TMP/s1.cast" 2>"$KT_TMP/export.err" || true
check resize_recorded "no 40x120 resize frame in the recording" \
	python3 -c "
import json,sys
lines=open(sys.argv[1]).read().splitlines()[1:]
sys.exit(not any(json.loads(l)[1]=='r' and json.loads(l)[2]=='120x40' for l in lines))" "$KT_TMP/s1.cast"

check no_loss_recorded "the store records loss" json "$KT_TMP/s1.json" "s=d['session']; sys.exit(s['lost_bytes'] != 0 or s['lost_events'] != 0)"

# ------------------------------------------------------------------ non-tty exec
step_start
fakepod exec sh -c 'id; cat /etc/hostname' >"$KT_TMP/notty.out" 2>&1
wait_for 10 sh -c "$KT sessions --json --no-tty | grep -q '\"state\":\"ended\"'"
$KT sessions --json --no-tty >"$KT_TMP/notty.json"
check notty_session "no command-only session with sh/id/cat" json "$KT_TMP/notty.json" "
s=[x for x in d if x['pod']=='$POD_NAME' and not x['has_tty']]
sys.exit(not (len(s)==1 and s[0]['first_command'].startswith('sh -c id; cat /etc/hostname') and s[0]['n_commands']>=3 and s[0]['bytes_out']==0))"

# ------------------------------------------------------------------ two at once
step_start
for n in A B; do
	cat >"$KT_TMP/c$n.script" <<EOF
expect "# " 10
send "for i in \$(seq 1 300); do echo marker-$n-\$i; done; sleep 0.5\r"
expect "marker-$n-300\r\n" 20
send "exit\r"
wait-exit 10
EOF
	$PTYRUN --raw --script "$KT_TMP/c$n.script" --out "$KT_TMP/c$n.out" -- $(ctr_exec_tty "e2e-c$n") >"$KT_TMP/c$n.log" 2>&1 &
	eval "PTY$n=\$!"
done
wait "$PTYA"; rcA=$?
wait "$PTYB"; rcB=$?
check concurrent_clients "clients exited $rcA/$rcB" test "$rcA$rcB" = 00
wait_for 10 sh -c "[ \$($KT sessions --json | grep -o '\"state\":\"ended\"' | wc -l) -ge 4 ]"
$KT sessions --json >"$KT_TMP/all.json"
ok=1
for n in A B; do
	id=$(json "$KT_TMP/all.json" "
import subprocess
print([s['id'] for s in d if s['has_tty'] and s['id'] != $S1][0 if '$n' == 'A' else 1])" 2>/dev/null)
	$KT cat "$id" >"$KT_TMP/c$id.rec"
	# each recording equals exactly one client's bytes, and never the other's
	if cmp -s "$KT_TMP/c$id.rec" "$KT_TMP/cA.out"; then got=A
	elif cmp -s "$KT_TMP/c$id.rec" "$KT_TMP/cB.out"; then got=B
	else got=none; fi
	eval "match_$n=$got"
done
check concurrent_kept_apart "recordings matched clients: ${match_A:-?}/${match_B:-?}" \
	sh -c "[ '${match_A:-}' != none ] && [ '${match_B:-}' != none ] && [ '${match_A:-}' != '${match_B:-}' ]"

# ------------------------------------------------------------------ nothing else
step_start
check only_exec_sessions "expected exactly 4 sessions (2 + 2 concurrent), got: $(json "$KT_TMP/all.json" "print([(s['id'], s['first_command'][:30]) for s in d])")" \
	json "$KT_TMP/all.json" "sys.exit(not (len(d) == 4 and all(s['pod'] == '$POD_NAME' and s['leader_ns_pid'] != 1 for s in d)))"

# ------------------------------------------------------------------ shutdown
step_start
stop_recorder
rrc=$?
check recorder_sigterm_exit0 "recorder exited $rrc on SIGTERM" test "$rrc" = 0
check kernel_no_loss "kernel-side loss counters: $(cat "$KT_TMP/stats.json" 2>/dev/null)" \
	json "$KT_TMP/stats.json" "k=d['kernel']; r=d['recorder']; sys.exit(not (k['lost_events']==0 and k['lost_bytes']==0 and k['lost_session_events']==0 and k['map_full']==0 and r['bad_events']==0))"
db=$(du -cb "$KT_TMP"/kt.db* | tail -1 | cut -f1)
raw=$(python3 -c "import json; print(sum(s['bytes_out']+s['bytes_in'] for s in json.load(open('$KT_TMP/all.json'))))")
echo "# figure: store on disk ${db} bytes for ${raw} raw terminal bytes (ratio $(python3 -c "print(round($db/$raw, 3))"))"
echo "# figure: backend $(json "$KT_TMP/stats.json" "print(d['backend'])")"
finish
