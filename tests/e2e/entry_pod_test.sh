#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Every way into a container is a session, attributed; nothing else is.
# Real containerd + runc (tests/lib/fakepod.sh), the real recorder, the real
# nsenter, each client driven through a pty:
#
#   - exec into a hostPID container (no pid namespace of its own), with a
#     tty (started after the recorder: the kernel saw its first process) and
#     without (started before the recorder: found in /proc at start);
#   - an interactive container (process.terminal = true, as kubectl run -it
#     or kubectl debug -it): the container's own shell is the session leader;
#   - nsenter -t PID -a from the node into the app container and into the
#     hostPID container: attributed to them, marked entered-from-node;
#   - nothing else: the containers' own processes (one keeps exec'ing), and
#     a host sandbox with private mounts (unshare -m) plus nsenter -m into it.
#
# Each recording must equal what its client received, byte for byte.
. "$(dirname "$0")/../lib/common.sh"

require_root
require_containerd
require_bpf
require_cmd python3 nsenter unshare
require_built "$KT_OUT/kubetape-recorder" "$KT_OUT/kubetape" "$PTYRUN"

KT="$KT_OUT/kubetape --db $KT_TMP/kt.db"
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $2" "$@"; }
LOOP='while :; do /bin/true; sleep 0.2; done'

step_start
pod_up pod_up
# a hostPID container older than the recorder (seeded from /proc)
fakepod run --host-pid agent-old -- sh -c "$LOOP" >"$KT_TMP/old.env" 2>>"$KT_TMP/pod.log" ||
	{ show "$KT_TMP/pod.log"; fatal pod_up "hostPID container agent-old did not start"; }
. "$KT_TMP/old.env"
pass pod_up

step_start
start_recorder recorder_start "$KT_TMP/kt.db" "$KT_TMP/recorder.log" --node-name e2e-node
grep "container mount namespaces" "$KT_TMP/recorder.log" | sed 's/^/# /'
pass recorder_start

step_start
fakepod run --host-pid agent -- sh -c "$LOOP" >"$KT_TMP/agent.env" 2>>"$KT_TMP/pod.log" ||
	{ show "$KT_TMP/pod.log"; fatal agent_up "hostPID container agent did not start"; }
. "$KT_TMP/agent.env"
check agent_is_hostpid "agent has a pid namespace of its own" \
	test "$(readlink /proc/$AGENT_PID/ns/pid)" = "$(readlink /proc/1/ns/pid 2>/dev/null || readlink /proc/self/ns/pid)"
sleep 0.5 # a few of the agent's own execs before the sessions

# session NAME SCRIPT EXIT -- ARGV...: a client on a pty; its bytes in NAME.out
session() {
	local name=$1 script=$2 want=$3 rc
	shift 4
	printf '%s\n' "$script" >"$KT_TMP/$name.script"
	$PTYRUN --raw --rows 24 --cols 80 --script "$KT_TMP/$name.script" --out "$KT_TMP/$name.out" \
		-- "$@" >"$KT_TMP/$name.log" 2>&1
	rc=$?
	# Known race (see the closing report): a finished session keeps its tty
	# for a 1 s close grace; a host pty reusing that tty_struct meanwhile
	# (the next client here) would be recorded into it.  nsenter sessions run
	# on the client's own host pty, so space the clients apart.
	sleep 1.5
	check "${name}_client" "client exited $rc, expected $want ($(tail -c 300 "$KT_TMP/$name.log" | tr -d '\r'))" test "$rc" = "$want"
}
SH_SCRIPT='expect "# " 10
send "echo marker-$$\r"
expect "marker-" 5
send "id\r"
expect "uid=0" 5
send "exit EXITCODE\r"
wait-exit 10'
script() { echo "${SH_SCRIPT//EXITCODE/$1}"; }

step_start
session hostpid_tty "$(script 3)" 3 -- env FAKEPOD_TARGET="$AGENT_ID" "$FAKEPOD" exec-tty bash
step_start
FAKEPOD_TARGET=$AGENT_OLD_ID fakepod exec sh -c 'echo hostpid-notty; id' >"$KT_TMP/notty.out" 2>&1
check hostpid_notty_client "non-tty exec into agent-old failed: $(cat "$KT_TMP/notty.out")" contains "$KT_TMP/notty.out" hostpid-notty
step_start
session nsenter_app "$(script 4)" 4 -- nsenter -t "$APP_INIT_PID" -a bash
step_start
session nsenter_agent "$(script 5)" 5 -- nsenter -t "$AGENT_PID" -a bash
step_start
session interactive "$(script 7)" 7 -- "$FAKEPOD" run --tty debugger -- bash

# a host sandbox with private mounts, and nsenter -m into it: no session
step_start
unshare -m -- sh -c 'sleep 2; /bin/true' &
SANDBOX=$!
sleep 0.3
nsenter -t "$SANDBOX" -m -- /bin/true
wait "$SANDBOX"

wait_for 10 sh -c "[ \$($KT sessions --json | grep -o '\"state\":\"ended\"' | wc -l) -ge 5 ]"
sleep 0.5
$KT sessions --json >"$KT_TMP/all.json"
$KT sessions >"$KT_TMP/all.txt"
sed 's/^/# /' "$KT_TMP/all.txt"

# pick SELECTOR: the id of the one session matching a python predicate on s
pick() { json "$KT_TMP/all.json" "m=[s['id'] for s in d if ($1)]; print(m[0] if len(m)==1 else '')"; }
# attributed ID CONTAINER FLAGS: pod, namespace, container and exactly FLAGS
attributed() {
	$KT show "$1" --json >"$KT_TMP/s$1.json" || return 1
	json "$KT_TMP/s$1.json" "s=d['session']; sys.exit(not (s['pod']=='$POD_NAME' and s['k8s_namespace']=='$POD_NAMESPACE' and s['container']=='$2' and s['node']=='e2e-node' and not s['attribution_guess'] and sorted(s['entry_flags'])==sorted([$3])))"
}
byte_exact() { $KT cat "$1" >"$KT_TMP/$2.rec" 2>/dev/null && cmp -s "$KT_TMP/$2.rec" "$KT_TMP/$2.out"; }
describe() { json "$KT_TMP/all.json" "print([(s['id'], s['container'], s['entry_flags'], s['first_command'][:20], s['exit_code']) for s in d])"; }

step_start
id=$(pick "s['container']=='agent' and s['has_tty'] and 'entered-from-node' not in s['entry_flags']")
check hostpid_tty_session "no single tty session in agent: $(describe)" test -n "$id"
check hostpid_tty_attributed "$(cat "$KT_TMP/s$id.json" 2>/dev/null | head -c 600)" attributed "$id" agent "'host-pid'"
check hostpid_tty_exit "exit code" json "$KT_TMP/s$id.json" "sys.exit(d['session']['exit_code'] != 3)"
check hostpid_tty_bytes "recorded $(stat -c %s "$KT_TMP/hostpid_tty.rec" 2>/dev/null) bytes, client got $(stat -c %s "$KT_TMP/hostpid_tty.out")" byte_exact "$id" hostpid_tty

step_start
id=$(pick "s['container']=='agent-old'")
check hostpid_notty_session "no single session in agent-old (started before the recorder): $(describe)" test -n "$id"
check hostpid_notty_attributed "$(cat "$KT_TMP/s$id.json" 2>/dev/null | head -c 600)" attributed "$id" agent-old "'host-pid'"
check hostpid_notty_no_tty "has a tty" json "$KT_TMP/s$id.json" "s=d['session']; sys.exit(s['has_tty'] or s['first_command'] != 'sh -c echo hostpid-notty; id')"

step_start
id=$(pick "s['container']=='$CONTAINER_NAME' and 'entered-from-node' in s['entry_flags']")
check nsenter_app_session "no single nsenter session in $CONTAINER_NAME: $(describe)" test -n "$id"
check nsenter_app_attributed "$(cat "$KT_TMP/s$id.json" 2>/dev/null | head -c 600)" attributed "$id" "$CONTAINER_NAME" "'entered-from-node'"
check nsenter_app_bytes "recording differs from the client's bytes" byte_exact "$id" nsenter_app
check nsenter_show "show does not say entered from the node" sh -c "$KT show $id | grep -q 'entered from the node'"

step_start
id=$(pick "s['container']=='agent' and 'entered-from-node' in s['entry_flags']")
check nsenter_agent_session "no single nsenter session in agent: $(describe)" test -n "$id"
check nsenter_agent_attributed "$(cat "$KT_TMP/s$id.json" 2>/dev/null | head -c 600)" attributed "$id" agent "'entered-from-node','host-pid'"
check nsenter_agent_bytes "recording differs from the client's bytes" byte_exact "$id" nsenter_agent

step_start
id=$(pick "s['container']=='debugger'")
check interactive_session "no single session in the interactive container: $(describe)" test -n "$id"
check interactive_attributed "$(cat "$KT_TMP/s$id.json" 2>/dev/null | head -c 600)" attributed "$id" debugger "'interactive-container'"
check interactive_leader "leader is not the container's own init (pid 1, bash)" \
	json "$KT_TMP/s$id.json" "s=d['session']; sys.exit(not (s['leader_ns_pid']==1 and s['exit_code']==7 and d['commands'][0]['argv']==['bash']))"
check interactive_bytes "recorded $(stat -c %s "$KT_TMP/interactive.rec" 2>/dev/null) bytes, client got $(stat -c %s "$KT_TMP/interactive.out")" byte_exact "$id" interactive

step_start
check nothing_else "expected exactly the 5 sessions above: $(describe)" json "$KT_TMP/all.json" "sys.exit(len(d) != 5)"

step_start
stop_recorder
rrc=$?
check recorder_sigterm_exit0 "recorder exited $rrc on SIGTERM" test "$rrc" = 0
finish
