#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The kubelet's path: containerd's CRI plugin (Debian's containerd 1.6 with
# runc), private root/state/socket/runc root.  The pod sandbox and its app
# container are created through the CRI gRPC API (RunPodSandbox,
# CreateContainer, StartContainer) by the tests' own client
# (tests/lib/cri_client.py), from an image built locally
# (tests/lib/mkimage.py) and imported with `ctr` (no registry here); the
# pod uses the node's network, so no CNI is needed.  Exec goes through CRI
# Exec and containerd's streaming server (WebSocket, v4.channel.k8s.io),
# the tty one driven through a pty like `kubectl exec -it`.
#
# Asserts: the tty exec is recorded byte for byte (exit code 3, no loss,
# execs) and attributed from the annotations the CRI plugin itself wrote
# into the bundle (pod, namespace, uid, container name and id; runtime
# "containerd"; not guessed); a non-tty exec is a command-only session
# attributed the same way.
. "$(dirname "$0")/../lib/common.sh"
. "$KT_REPO/tests/lib/runtime.sh"

require_root
require_bpf
require_containerd
require_built "$KT_OUT/kubetape-recorder" "$KT_OUT/kubetape" "$PTYRUN"
PY=/usr/bin/python3	# Debian's, with python3-grpcio
$PY -c 'import grpc' 2>/dev/null || fatal cri_requires_grpcio "python3-grpcio is not installed for $PY: run 'make deps'"

T=$(mktemp -d /tmp/ktcri.XXXXXX) || fatal cri_tmp "mktemp failed"
SOCK=$T/containerd.sock
CTR=(timeout 60 ctr --address "$SOCK" -n k8s.io)
CRI=(timeout 60 "$PY" "$KT_REPO/tests/lib/cri_client.py" "$SOCK")
POD=web-cri POD_NS=shop CTR_NAME=app POD_UID=$(cat /proc/sys/kernel/random/uuid)
CG=/kubepods/besteffort/pod$POD_UID
IMG=localhost/kubetape-app:1
PODF=(--name "$POD" --namespace "$POD_NS" --uid "$POD_UID" --cgroup-parent "$CG" --log-dir "$T/logs")

cri_down() {
	local pid f h _c
	[ -n "${SB:-}" ] && { "${CRI[@]}" stopp "$SB"; "${CRI[@]}" rmp "$SB"; } >/dev/null 2>&1
	[ -n "${CPID:-}" ] && kill -KILL "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
	# shims of our socket, then anything left in the pod's cgroups
	for f in $(grep -lzsxF -- "$SOCK" /proc/[0-9]*/cmdline); do
		pid=${f#/proc/}; kill -KILL "${pid%/cmdline}" 2>/dev/null
	done
	for _c in 1 2 3 4 5 6 7 8 9 10; do
		for h in $(awk '$0 ~ / - cgroup2? / { print $5 }' /proc/self/mountinfo); do
			find "$h$CG" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		done
		rt_cgroup_rmdir "$CG"
		[ -d "/sys/fs/cgroup/unified$CG" ] || break
		sleep 0.1
	done
	awk -v p="$T" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
	rm -rf "$T"
	true
}
at_exit cri_down

step_start
rootfs=$(rt_rootfs) || fatal cri_rootfs "building the rootfs failed: $(tail -3 "$KT_TMP/rootfs.log")"
mkdir -p "$T/logs" "$T/cni"
containerd config default | sed \
	-e "s#^root = .*#root = \"$T/root\"#" \
	-e "s#^state = .*#state = \"$T/state\"#" \
	-e "s#address = \"/run/containerd/containerd.sock\"#address = \"$SOCK\"#" \
	-e "s#sandbox_image = .*#sandbox_image = \"$IMG\"#" \
	-e "s#conf_dir = \"/etc/cni/net.d\"#conf_dir = \"$T/cni\"#" \
	-e "s#^\( *\)Root = \"\"#\1Root = \"$T/runc\"#" \
	-e "s#restrict_oom_score_adj = false#restrict_oom_score_adj = true#" \
	>"$T/config.toml" || fatal cri_config "containerd config default failed"
containerd --config "$T/config.toml" >"$KT_TMP/containerd.log" 2>&1 &
CPID=$!
wait_for 20 "${CRI[@]}" version >"$KT_TMP/version.txt" 2>/dev/null ||
	{ show "$KT_TMP/containerd.log"; fatal containerd_cri_up "containerd's CRI plugin did not answer Version in 20 s"; }
echo "# CRI Version: $(cat "$KT_TMP/version.txt")"
$PY "$KT_REPO/tests/lib/mkimage.py" "$rootfs" "$IMG" "$T/app.tar" -- sleep 2147483647 ||
	fatal cri_image "building the image failed"
"${CTR[@]}" images import "$T/app.tar" >"$KT_TMP/import.log" 2>&1 ||
	{ show "$KT_TMP/import.log"; fatal cri_image "ctr images import failed"; }
pass containerd_cri_up

step_start
SB=$("${CRI[@]}" runp "${PODF[@]}" 2>"$KT_TMP/runp.err") && [ -n "$SB" ] ||
	{ show "$KT_TMP/runp.err"; show "$KT_TMP/containerd.log"; fatal cri_run_pod_sandbox "RunPodSandbox failed"; }
CID=$("${CRI[@]}" create --sandbox "$SB" --container "$CTR_NAME" --image "$IMG" "${PODF[@]}" -- sleep 2147483647 2>"$KT_TMP/create.err") && [ -n "$CID" ] ||
	{ show "$KT_TMP/create.err"; fatal cri_create_container "CreateContainer failed"; }
"${CRI[@]}" start "$CID" 2>"$KT_TMP/start.err" || { show "$KT_TMP/start.err"; fatal cri_start_container "StartContainer failed"; }
pass cri_pod_up

step_start
rt_start_recorder recorder_start "$KT_TMP/recorder.log" --containerd-state "$T/state" --node-name e2e-node
pass recorder_start

step_start
rt_tty_session cri_tty "${CRI[@]}" exec -t -i "$CID" bash
rc=$?
check cri_tty_client "CRI exec -t -i exited $rc, expected 3 ($(tail -2 "$KT_TMP/cri_tty.log"))" test "$rc" = 3
rt_wait_ended 1 || fail cri_tty_ended "session not ended within 15 s"
S=$(rt_last_session "s['has_tty']")
[ -n "$S" ] || fatal cri_tty_session "no tty session recorded"
rt_check_tty cri_tty "$S"
ATTR="s['pod']=='$POD' and s['k8s_namespace']=='$POD_NS' and s['container']=='$CTR_NAME' and s['pod_uid']=='$POD_UID' and s['container_id']=='$CID' and s['runtime']=='containerd' and not s['attribution_guess']"
rt_check_attr cri_tty "$S" "$ATTR"

step_start
"${CRI[@]}" exec "$CID" -- sh -c 'id; cat /etc/hostname' >"$KT_TMP/notty.out" 2>&1
check cri_notty_client "CRI exec (no tty) failed: $(head -2 "$KT_TMP/notty.out")" grep -q "uid=0" "$KT_TMP/notty.out"
rt_wait_ended 2 || fail cri_notty_ended "non-tty session not ended within 15 s"
N=$(rt_last_session "not s['has_tty']")
if [ -n "$N" ]; then
	check cri_notty_session "not a command-only session of sh -c" rt_json "$KT_TMP/sessions.json" \
		"s=[x for x in d if x['id']==$N][0]; sys.exit(not (s['first_command'].startswith('sh -c id; cat /etc/hostname') and s['bytes_out']==0))"
	rt_check_attr cri_notty "$N" "$ATTR"
else
	fail cri_notty_session "no non-tty session recorded"
fi
check cri_only_two "expected exactly 2 sessions: $(head -c 300 "$KT_TMP/sessions.json")" \
	rt_json "$KT_TMP/sessions.json" "sys.exit(len(d) != 2)"

step_start
stop_recorder
rrc=$?
check recorder_sigterm_exit0 "recorder exited $rrc on SIGTERM" test "$rrc" = 0
finish
