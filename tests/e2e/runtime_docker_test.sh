#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# docker from Debian (docker.io): a private dockerd (own data root, exec
# root, socket; no iptables, no bridge) with the containerd it starts
# itself (namespace "moby").  `docker exec -it` through a pty is recorded
# byte for byte.  Docker has no pod: attribution reads the daemon's own
# record (<data-root>/containers/<cid>/config.v2.json, --docker-root) and
# gives the container's docker name, its id and runtime "docker", with no
# pod and no hostname guess.  A container carrying cri-dockerd's
# io.kubernetes.* labels is attributed to its pod from those labels.
. "$(dirname "$0")/../lib/common.sh"
. "$KT_REPO/tests/lib/runtime.sh"

require_root
require_bpf
require_cmd dockerd docker python3
require_built "$KT_OUT/kubetape-recorder" "$KT_OUT/kubetape" "$PTYRUN"

T=$(mktemp -d /tmp/ktdk.XXXXXX) || fatal docker_tmp "mktemp failed"
DK=(timeout 60 docker -H "unix://$T/docker.sock")
POD=web-docker POD_NS=shop POD_UID=$(cat /proc/sys/kernel/random/uuid)

step_start
rootfs=$(rt_rootfs) || fatal docker_rootfs "building the rootfs failed: $(tail -3 "$KT_TMP/rootfs.log")"
dockerd --data-root "$T/data" --exec-root "$T/exec" --pidfile "$T/docker.pid" -H "unix://$T/docker.sock" \
	--iptables=false --ip6tables=false --bridge=none --ip-masq=false --storage-driver overlay2 \
	--log-level warn >"$KT_TMP/dockerd.log" 2>&1 &
DPID=$!
# dockerd stops its containers and its containerd on SIGTERM; then the dirs go
at_exit "rm -rf '$T' 2>/dev/null; true"
at_exit "kill -TERM $DPID 2>/dev/null; for _dw in \$(seq 150); do kill -0 $DPID 2>/dev/null || break; sleep 0.1; done; kill -KILL $DPID 2>/dev/null; true"
at_exit "${DK[*]} rm -f app k8s-app >/dev/null 2>&1; true"
wait_for 30 "${DK[@]}" version >/dev/null 2>&1 || { show "$KT_TMP/dockerd.log"; fatal dockerd_up "dockerd not ready in 30 s"; }
tar -C "$rootfs" -c . | "${DK[@]}" import - kubetape-app:1 >"$KT_TMP/import.log" 2>&1 ||
	{ show "$KT_TMP/import.log"; fatal docker_import "docker import of the rootfs failed"; }
# nofile/nproc lowered: raising rlimits is refused on this host
run() { "${DK[@]}" run -d --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 "$@" kubetape-app:1 sleep 2147483647; }
run --name app >"$KT_TMP/run.log" 2>&1 || { show "$KT_TMP/run.log"; fatal docker_run "docker run failed"; }
run --name k8s-app --label io.kubernetes.pod.name=$POD --label io.kubernetes.pod.namespace=$POD_NS \
	--label io.kubernetes.pod.uid=$POD_UID --label io.kubernetes.container.name=app \
	--label io.kubernetes.docker.type=container >>"$KT_TMP/run.log" 2>&1 ||
	{ show "$KT_TMP/run.log"; fatal docker_run "docker run (labelled) failed"; }
CID=$("${DK[@]}" inspect -f '{{.Id}}' app) && KCID=$("${DK[@]}" inspect -f '{{.Id}}' k8s-app) ||
	fatal docker_run "docker inspect failed"
pass docker_containers_up

step_start
rt_start_recorder recorder_start "$KT_TMP/recorder.log" --docker-root "$T/data" --node-name e2e-node
pass recorder_start

step_start
rt_tty_session docker_tty "${DK[@]:2}" exec -it app bash
rc=$?
check docker_tty_client "docker exec -it exited $rc, expected 3 ($(tail -2 "$KT_TMP/docker_tty.log"))" test "$rc" = 3
rt_wait_ended 1 || fail docker_tty_ended "session not ended within 15 s"
S=$(rt_last_session "s['has_tty']")
[ -n "$S" ] || fatal docker_tty_session "no tty session recorded"
rt_check_tty docker_tty "$S"
ATTR="s['container']=='app' and s['container_id']=='$CID' and s['runtime']=='docker' and s['pod']=='' and s['k8s_namespace']=='' and not s['attribution_guess']"
rt_check_attr docker_tty "$S" "$ATTR"

step_start
"${DK[@]}" exec app sh -c 'id; cat /etc/hostname' >"$KT_TMP/notty.out" 2>&1
check docker_notty_client "docker exec (no tty) failed: $(head -2 "$KT_TMP/notty.out")" grep -q "uid=0" "$KT_TMP/notty.out"
rt_wait_ended 2 || fail docker_notty_ended "non-tty session not ended within 15 s"
N=$(rt_last_session "not s['has_tty']")
if [ -n "$N" ]; then
	check docker_notty_session "not a command-only session of sh -c" rt_json "$KT_TMP/sessions.json" \
		"s=[x for x in d if x['id']==$N][0]; sys.exit(not (s['first_command'].startswith('sh -c id; cat /etc/hostname') and s['bytes_out']==0))"
	rt_check_attr docker_notty "$N" "$ATTR"
else
	fail docker_notty_session "no non-tty session recorded"
fi

step_start
"${DK[@]}" exec k8s-app id >"$KT_TMP/k8s.out" 2>&1
rt_wait_ended 3 || fail docker_labels_ended "session not ended within 15 s"
K=$(rt_last_session "s['container_id']=='$KCID'")
if [ -n "$K" ]; then
	rt_check_attr docker_cri_labels "$K" "s['pod']=='$POD' and s['k8s_namespace']=='$POD_NS' and s['pod_uid']=='$POD_UID' and s['container']=='app' and s['runtime']=='docker' and not s['attribution_guess']"
else
	fail docker_cri_labels_attribution "no session for the labelled container"
fi
check docker_only_three "expected exactly 3 sessions: $(head -c 300 "$KT_TMP/sessions.json")" \
	rt_json "$KT_TMP/sessions.json" "sys.exit(len(d) != 3)"

step_start
stop_recorder
rrc=$?
check recorder_sigterm_exit0 "recorder exited $rrc on SIGTERM" test "$rrc" = 0
finish
