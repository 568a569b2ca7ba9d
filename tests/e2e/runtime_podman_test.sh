#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# CRI-O's shape with podman from Debian: conmon holds the exec's console,
# runc runs the container (crun refuses this machine's hybrid cgroups), the
# container carries CRI-O's io.kubernetes.pod.* / io.kubernetes.container.*
# annotations, and its OCI bundle sits in containers/storage's layout
# (<graph root>/overlay-containers/<cid>/userdata/config.json, where CRI-O
# also writes it).  Podman runs with private graph/run roots; the recorder
# is given only that storage root (--crio-state), as a node would be.
#
# Asserts: `podman exec -it` through a pty is recorded byte for byte (exit
# code 3, no loss, execs), attributed to pod/namespace/container/uid from
# the bundle (runtime "podman", not guessed); `podman exec` without a tty
# is a command-only session attributed the same way.
. "$(dirname "$0")/../lib/common.sh"
. "$KT_REPO/tests/lib/runtime.sh"

require_root
require_bpf
require_cmd podman conmon runc python3
require_built "$KT_OUT/kubetape-recorder" "$KT_OUT/kubetape" "$PTYRUN"

# podman refuses a run root longer than 50 characters: short private dir
T=$(mktemp -d /tmp/ktpm.XXXXXX) || fatal podman_tmp "mktemp failed"
POD=web-podman POD_NS=shop CTR_NAME=app POD_UID=$(cat /proc/sys/kernel/random/uuid)
CG=/kubepods/besteffort/pod$POD_UID
PM=(timeout 60 podman --root "$T/root" --runroot "$T/runroot" --tmpdir "$T/tmp"
	--cgroup-manager cgroupfs --storage-driver overlay --events-backend file
	--runtime runc --log-level error)

step_start
rootfs=$(rt_rootfs) || fatal podman_rootfs "building the rootfs failed: $(tail -3 "$KT_TMP/rootfs.log")"
at_exit "rm -rf '$T' 2>/dev/null; rt_cgroup_rmdir '$CG'"
at_exit "${PM[*]} rm -a -f -t 0 >/dev/null 2>&1; ${PM[*]} rmi -a -f >/dev/null 2>&1; true"
tar -C "$rootfs" -c . | "${PM[@]}" import - localhost/kubetape-app:1 >"$KT_TMP/import.log" 2>&1 ||
	{ show "$KT_TMP/import.log"; fatal podman_import "podman import of the rootfs failed"; }
# nofile/nproc lowered: podman's defaults raise them, which this host refuses
"${PM[@]}" run -d --name app --network none --cgroup-parent "$CG" \
	--ulimit nofile=1024:1024 --ulimit nproc=4096:4096 --hostname "$POD" \
	--annotation io.kubernetes.pod.name="$POD" --annotation io.kubernetes.pod.namespace="$POD_NS" \
	--annotation io.kubernetes.pod.uid="$POD_UID" --annotation io.kubernetes.container.name="$CTR_NAME" \
	--annotation io.kubernetes.cri-o.ContainerType=container \
	localhost/kubetape-app:1 sleep 2147483647 >"$KT_TMP/run.log" 2>&1 ||
	{ show "$KT_TMP/run.log"; fatal podman_run "podman run failed"; }
CID=$("${PM[@]}" inspect -f '{{.Id}}' app) || fatal podman_run "podman inspect failed"
[ -f "$T/root/overlay-containers/$CID/userdata/config.json" ] ||
	fatal podman_bundle "no bundle at <graph root>/overlay-containers/$CID/userdata/config.json"
pass podman_container_up

step_start
rt_start_recorder recorder_start "$KT_TMP/recorder.log" \
	--crio-state "$T/root" --node-name e2e-node
pass recorder_start

step_start
rt_tty_session podman_tty "${PM[@]:2}" exec -it app bash
rc=$?
check podman_tty_client "podman exec -it exited $rc, expected 3 ($(tail -2 "$KT_TMP/podman_tty.log"))" test "$rc" = 3
rt_wait_ended 1 || fail podman_tty_ended "session not ended within 15 s"
S=$(rt_last_session "s['has_tty']")
[ -n "$S" ] || fatal podman_tty_session "no tty session recorded"
rt_check_tty podman_tty "$S"
ATTR="s['pod']=='$POD' and s['k8s_namespace']=='$POD_NS' and s['container']=='$CTR_NAME' and s['pod_uid']=='$POD_UID' and s['container_id']=='$CID' and s['runtime']=='podman' and not s['attribution_guess']"
rt_check_attr podman_tty "$S" "$ATTR"

step_start
"${PM[@]}" exec app sh -c 'id; cat /etc/hostname' >"$KT_TMP/notty.out" 2>&1
check podman_notty_client "podman exec (no tty) failed: $(head -2 "$KT_TMP/notty.out")" grep -q "uid=0" "$KT_TMP/notty.out"
rt_wait_ended 2 || fail podman_notty_ended "non-tty session not ended within 15 s"
N=$(rt_last_session "not s['has_tty']")
if [ -n "$N" ]; then
	check podman_notty_session "not a command-only session of sh -c" rt_json "$KT_TMP/sessions.json" \
		"s=[x for x in d if x['id']==$N][0]; sys.exit(not (s['first_command'].startswith('sh -c id; cat /etc/hostname') and s['bytes_out']==0))"
	rt_check_attr podman_notty "$N" "$ATTR"
else
	fail podman_notty_session "no non-tty session recorded"
fi
check podman_only_two "expected exactly 2 sessions: $(cat "$KT_TMP/sessions.json" | head -c 300)" \
	rt_json "$KT_TMP/sessions.json" "sys.exit(len(d) != 2)"

step_start
stop_recorder
rrc=$?
check recorder_sigterm_exit0 "recorder exited $rrc on SIGTERM" test "$rrc" = 0
finish
