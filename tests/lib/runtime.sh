# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# tests/lib/runtime.sh — shared steps of the real-runtime tests
# (tests/e2e/runtime_*.sh): source after common.sh.
#
#   rt_rootfs                 path of the real-binaries rootfs (fakepod's,
#                             built once and cached): bash, coreutils, ...
#   rt_tty_session NAME CMD.. a scripted `exec -it` through a pty (ptyrun
#                             --raw, as kubectl leaves the user's terminal):
#                             echo, id, 20000 lines of seq, exit 3.  The
#                             client's bytes land in $KT_TMP/NAME.out.
#   rt_last_session JQ_FILTER prints the id of the newest session matching
#                             a python predicate on the session dict `s`
#   rt_check_tty NAME ID      the recording of ID equals $KT_TMP/NAME.out
#                             byte for byte, exit code 3, no loss
#   rt_check_attr NAME ID PY  the session's attribution satisfies PY (a
#                             python expression over `s`), printed as a
#                             "# attribution:" line for the closing table
#
# Every daemon command of a runtime test runs under `timeout`, so a hung
# runtime fails the test instead of stalling make test.

KT="$KT_OUT/kubetape --db $KT_TMP/kt.db"
rt_json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $2" "$@"; }

rt_rootfs() { FAKEPOD_DIR=${FAKEPOD_DIR} "$FAKEPOD" rootfs 2>>"$KT_TMP/rootfs.log"; }

rt_tty_session() {
	local name=$1
	shift
	cat >"$KT_TMP/$name.script" <<'EOS'
expect "# " 20
send "echo hello-kubetape\r"
expect "hello-kubetape\r\n" 10
send "id\r"
expect "uid=0" 10
send "seq 1 20000\r"
expect "^20000" 30
send "exit 3\r"
wait-exit 20
EOS
	timeout 90 "$PTYRUN" --raw --rows 24 --cols 80 --script "$KT_TMP/$name.script" \
		--out "$KT_TMP/$name.out" -- "$@" >"$KT_TMP/$name.log" 2>&1
}

# rt_wait_ended N — wait until at least N sessions are ended
rt_wait_ended() {
	wait_for 15 sh -c "[ \$($KT sessions --json | grep -o '\"state\":\"ended\"' | wc -l) -ge $1 ]"
}

rt_last_session() {
	$KT sessions --json >"$KT_TMP/sessions.json" || return 1
	rt_json "$KT_TMP/sessions.json" "
m=[s['id'] for s in d if ($1)]
print(max(m) if m else '')"
}

rt_check_tty() {
	local name=$1 id=$2 recorded received
	$KT cat "$id" >"$KT_TMP/$name.rec" 2>"$KT_TMP/$name.cat.err"
	recorded=$(stat -c %s "$KT_TMP/$name.rec")
	received=$(stat -c %s "$KT_TMP/$name.out")
	echo "# figure: $name: recorded $recorded bytes, client received $received bytes"
	if [ "$received" -gt 100000 ] && cmp -s "$KT_TMP/$name.rec" "$KT_TMP/$name.out"; then
		pass "${name}_byte_exact"
	else
		cmp "$KT_TMP/$name.rec" "$KT_TMP/$name.out" 2>&1 | head -3
		show "$KT_TMP/$name.log" 10
		fail "${name}_byte_exact" "recorded $recorded bytes differ from the $received the client received"
	fi
	$KT show "$id" --json >"$KT_TMP/$name.json" || { fail "${name}_show" "kubetape show $id failed"; return; }
	check "${name}_exit_no_loss" "exit code / loss wrong: $(rt_json "$KT_TMP/$name.json" "s=d['session']; print(s['exit_code'], s['lost_bytes'], s['lost_events'], s['has_tty'])")" \
		rt_json "$KT_TMP/$name.json" "s=d['session']; sys.exit(not (s['has_tty'] and s['exit_code']==3 and s['lost_bytes']==0 and s['lost_events']==0))"
	check "${name}_commands" "id / seq not recorded as execs: $(rt_json "$KT_TMP/$name.json" "print([c['argv'] for c in d['commands']][:8])")" \
		rt_json "$KT_TMP/$name.json" "a=[c['argv'] for c in d['commands']]; sys.exit(not (['id'] in a and ['seq','1','20000'] in a))"
}

rt_check_attr() {
	local name=$1 id=$2 pred=$3
	$KT show "$id" --json >"$KT_TMP/$name.attr.json" || { fail "${name}_attribution" "kubetape show $id failed"; return; }
	echo "# attribution: $name: $(rt_json "$KT_TMP/$name.attr.json" "s=d['session']; print('runtime=%s ns=%r pod=%r container=%r cid=%s pod_uid=%r guess=%s' % (s['runtime'], s['k8s_namespace'], s['pod'], s['container'], s['container_id'][:12], s['pod_uid'], s['attribution_guess']))")"
	check "${name}_attribution" "attribution wrong (see the line above)" \
		rt_json "$KT_TMP/$name.attr.json" "s=d['session']; sys.exit(not ($pred))"
}

# rt_cgroup_rmdir REL — remove a cgroup dir (and children) in every hierarchy
rt_cgroup_rmdir() {
	local h
	for h in $(awk '$0 ~ / - cgroup2? / { print $5 }' /proc/self/mountinfo); do
		[ -d "$h$1" ] && find "$h$1" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	return 0
}

# rt_start_recorder NAME LOG ARGS... — like common.sh's start_recorder, but
# the state roots come from ARGS only (the runtime under test's), writing
# $KT_TMP/kt.db
rt_start_recorder() {
	local name=$1 log=$2
	shift 2
	"$KT_OUT/kubetape-recorder" --db "$KT_TMP/kt.db" "$@" >"$log" 2>&1 &
	REC=$!
	at_exit "kill -TERM $REC 2>/dev/null; wait $REC 2>/dev/null; true"
	wait_for 20 grep -q "ready" "$log" || { show "$log"; fatal "$name" "the recorder did not get ready in 20 s"; }
}
