#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Store faults that do not heal by themselves (issue 9): the DB on a real
# ext4 filesystem on a loop device, made to fail for real while the
# recorder has the store open, then SIGTERM during the outage:
#
#  1. read-only: an ext4 error (/sys/fs/ext4/DEV/trigger_fs_error, the
#     kernel's own path for a filesystem error) with errors=remount-ro turns
#     the filesystem read-only under the open store (EROFS).
#  2. I/O errors: EXT4_IOC_SHUTDOWN (what xfstests' godown does) makes
#     every read and write of the mounted filesystem fail with EIO.
#
# (A tmpfs cannot do either: `mount -o remount,ro` with the store open is
# EBUSY, and this kernel has no device-mapper for an error/flakey target.)
#
# In each: sessions type before the fault, during it, and after; a session
# floods (a counter, so holes can be located); one starts during the
# outage.  The recorder logs the outage once, keeps capturing into the
# pinned rings (1 MiB data ring: the flood overflows it), gets SIGTERM
# while the store is still failing and must exit 0 saying the backlog stays
# in the rings.  The filesystem is repaired (umount, e2fsck, mount) and the
# next recorder continues every session as the same one: exact accounting
# (recorded + counted lost == what the client got), the flood's holes add
# up exactly to its gap markers and lost_bytes, each session's bytes and
# commands only in its own recording, exit codes, PRAGMA integrity_check.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/outage.sh"

require_root
require_containerd
require_bpf
require_cmd python3 sqlite3 losetup mkfs.ext4 e2fsck
require_built "$KT_OUT/kubetape-recorder" "$KT_OUT/kubetape" "$PTYRUN"
grep -qw ext4 /proc/filesystems || fatal ext4 "this kernel has no ext4: the fault cannot be made"

IMG=$KT_TMP/store.img
MNT=$KT_TMP/mnt
DB=$MNT/kt.db
KT="$KT_OUT/kubetape --db $DB"
mkdir -p "$MNT"
truncate -s 96M "$IMG"
mkfs.ext4 -q -F "$IMG" || fatal mkfs "mkfs.ext4 failed"
mnt_up() { mount -o loop,errors=remount-ro "$IMG" "$MNT"; }
mnt_up || fatal loop_mount "cannot loop-mount an ext4 image (no loop devices?)"
at_exit "umount '$MNT' 2>/dev/null || umount -l '$MNT'"
dev_name() { basename "$(findmnt -n -o SOURCE "$MNT")"; }


G=kt-ioerr-$$
at_exit "rm -f '$FAKEPOD_DIR'/rootfs/tmp/$G-*"
go() { touch "$FAKEPOD_DIR/rootfs/tmp/$G-$1"; }
waitgo() { echo "until [ -e /tmp/$G-$1 ]; do sleep 0.05; done"; }

# fault_ro / fault_eio: break the mounted filesystem under the open store
fault_ro() { echo kubetape-test >"/sys/fs/ext4/$(dev_name)/trigger_fs_error"; }
fault_eio() { python3 -c "
import fcntl, os, struct
fd = os.open('$MNT', os.O_RDONLY)
fcntl.ioctl(fd, 0x8004587d, struct.pack('I', 2))  # EXT4_IOC_SHUTDOWN, NOLOGFLUSH
"; }
# repair: what an operator does once the recorder has let go of the store
repair() {
	local i
	for i in $(seq 1 50); do umount "$MNT" 2>/dev/null && break; sleep 0.2; done
	mountpoint -q "$MNT" && { fuser -vm "$MNT" 2>&1 | head -5; return 1; }
	e2fsck -fy "$IMG" >"$KT_TMP/fsck.log" 2>&1
	[ $? -le 1 ] || { cat "$KT_TMP/fsck.log"; return 1; }
	mnt_up
}

step_start
pod_up pod_up
pass pod_up

# fault_case NAME FAULT: the whole sequence for one kind of fault
fault_case() {
	local c=$1 fault=$2 s id x rc rq rn rf code mark lost rin rb cb tb holes hrc n_tty nfail nlog ninfo
	local -A P ID
	cat >"$KT_TMP/$c-q.script" <<EOF
expect "# " 10
send "echo q-\${E}before\\r"
expect "q-before\\r\\n" 5
send "$(waitgo $c-full); id; echo q-\${E}during\\r"
expect "q-during\\r\\n" 60
send "$(waitgo $c-back); echo q-\${E}after\\r"
expect "q-after\\r\\n" 60
send "exit 3\\r"
wait-exit 10
EOF
	cat >"$KT_TMP/$c-f.script" <<EOF
expect "# " 10
send "i=0; until [ -e /tmp/$G-$c-stopf ]; do seq \$i \$((i + 4999)); i=\$((i + 5000)); sleep 0.1; done; echo; echo F-DONE\\r"
expect "^F-DONE" 120
send "exit 5\\r"
wait-exit 10
EOF
	cat >"$KT_TMP/$c-n.script" <<EOF
expect "# " 10
send "hostname; echo n-\${E}during\\r"
expect "n-during\\r\\n" 10
send "$(waitgo $c-back); echo n-\${E}after\\r"
expect "n-after\\r\\n" 60
send "exit 4\\r"
wait-exit 10
EOF
	step_start
	start_recorder "${c}_recorder_start" "$DB" "$KT_TMP/$c-rec1.log" --node-name e2e-node --ringbuf-mb 1
	before=$($KT sessions --json | python3 -c "import json,sys; d=json.load(sys.stdin); print(max([s['id'] for s in d] or [0]))")
	for s in q f; do
		$PTYRUN --raw --script "$KT_TMP/$c-$s.script" --out "$KT_TMP/$c-$s.out" -- $(ctr_exec_tty "e2e-$c-$s") >"$KT_TMP/$c-$s.log" 2>&1 &
		P[$s]=$!
	done
	wait_for 30 grep -qa "q-before" "$KT_TMP/$c-q.out" || fail "${c}_q_started" "Q did not start"
	wait_for 10 sh -c "[ \$($KT sessions --json --active | grep -o '\"id\":' | wc -l) -ge 2 ]" ||
		fail "${c}_rows_before" "Q and F have no rows"
	sleep 1
	$fault
	echo "# $c: fault made: $(findmnt -n -o OPTIONS "$MNT")"
	wait_for 10 grep -q "recorder: error: store failing" "$KT_TMP/$c-rec1.log" ||
		fail "${c}_store_failing_logged" "the recorder did not notice the fault"
	go "$c-full"
	$PTYRUN --raw --script "$KT_TMP/$c-n.script" --out "$KT_TMP/$c-n.out" -- $(ctr_exec_tty "e2e-$c-n") >"$KT_TMP/$c-n.log" 2>&1 &
	P[n]=$!
	wait_for 30 grep -qa "q-during" "$KT_TMP/$c-q.out" || fail "${c}_q_during" "Q's command during the outage did not run"
	wait_for 30 grep -qa "n-during" "$KT_TMP/$c-n.out" || fail "${c}_n_during" "N did not start during the outage"
	sleep 3	# F floods on: its 1 MiB ring overflows
	# SIGTERM while the store still fails
	stop_recorder
	rc=$?
	check "${c}_sigterm_during_outage_exit0" "recorder exited $rc on SIGTERM during the outage" test "$rc" = 0
	check "${c}_sigterm_said_backlog_stays" "no line saying the backlog stays in the rings" \
		grep -q "store not writable at shutdown: what was not written stays in the kernel ring buffers" "$KT_TMP/$c-rec1.log"
	nfail=$(grep -c 'recorder: error: store failing' "$KT_TMP/$c-rec1.log")
	nlog=$(grep -c -e "error" -e "warn" "$KT_TMP/$c-rec1.log")
	ninfo=$(wc -l <"$KT_TMP/$c-rec1.log")
	echo "# figure: $c: recorder log over the outage: $nlog warning/error lines, $ninfo lines in all"
	check "${c}_log_once" "store failing logged $nfail times; $nlog warn/error lines" sh -c "[ $nfail = 1 ] && [ $nlog -le 6 ]"
	sleep 1	# sessions go on with no recorder and a broken store
	repair || fatal "${c}_repair" "could not repair the filesystem"
	start_recorder "${c}_recorder_restart" "$DB" "$KT_TMP/$c-rec2.log" --node-name e2e-node --ringbuf-mb 1
	go "$c-back"
	touch "$FAKEPOD_DIR/rootfs/tmp/$G-$c-stopf"
	wait "${P[q]}"; rq=$?
	wait "${P[n]}"; rn=$?
	wait "${P[f]}"; rf=$?
	rc="$rq $rn $rf"
	check "${c}_clients_exit" "clients exited Q N F = $rc, expected 3 4 5" test "$rc" = "3 4 5"

	step_start
	$KT sessions --json >"$KT_TMP/$c-all.json"
	for s in q f n; do
		case $s in q) code=3 mark=q-before ;; f) code=5 mark=F-DONE ;; n) code=4 mark=n-during ;; esac
		id=""
		for x in $(json "$KT_TMP/$c-all.json" "print(' '.join(str(x['id']) for x in d if x['has_tty'] and x['id'] > $before))"); do
			wait_for 15 ended "$x" || true
			$KT cat "$x" >"$KT_TMP/$c-r$x.rec" 2>/dev/null
			grep -qa -- "$mark" "$KT_TMP/$c-r$x.rec" && id=$x
		done
		if [ -z "$id" ]; then
			fail "${c}_session_$s" "no recording holds '$mark'"
			continue
		fi
		ID[$s]=$id
		$KT show "$id" --json >"$KT_TMP/$c-$s.json"
		lost=$(json "$KT_TMP/$c-$s.json" "print(d['session']['lost_bytes'])")
		rin=$(json "$KT_TMP/$c-$s.json" "print(d['session']['bytes_in'])")
		rb=$(stat -c %s "$KT_TMP/$c-r$id.rec"); cb=$(stat -c %s "$KT_TMP/$c-$s.out")
		tb=$(typed "$KT_TMP/$c-$s.script")
		echo "# figure: $c: session $s (id $id): shown $cb + typed $tb bytes; recorded $rb + $rin; counted lost $lost"
		check "${c}_session_${s}_exit" "exit code not $code" json "$KT_TMP/$c-$s.json" "sys.exit(d['session'].get('exit_code') != $code)"
		check "${c}_session_${s}_accounted" "recorded $rb out + $rin in + lost $lost not within shown $cb .. shown + typed $((cb + tb))" \
			test $((rb + rin + lost)) -ge "$cb" -a $((rb + rin + lost)) -le $((cb + tb))
		if [ "$lost" = 0 ]; then
			check "${c}_session_${s}_byte_exact" "recording differs from its client" cmp -s "$KT_TMP/$c-r$id.rec" "$KT_TMP/$c-$s.out"
		fi
	done
	if [ -n "${ID[f]:-}" ]; then
		$KT export "${ID[f]}" --format asciicast --no-input -o "$KT_TMP/$c-f.cast" --force 2>/dev/null
		holes=$(python3 "$KT_REPO/tests/lib/holes.py" "$KT_TMP/$c-f.out" "$KT_TMP/$c-f.cast" \
			"$(json "$KT_TMP/$c-f.json" "print(d['session']['lost_bytes'])")" 2>&1); hrc=$?
		echo "# figure: $c: flood recording vs client: $holes"
		check "${c}_flood_holes_exact" "$holes" test "$hrc" = 0
		check "${c}_flood_lost_some" "the flood lost nothing: the outage did not overflow the 1 MiB ring, so the gap path was not exercised" \
			json "$KT_TMP/$c-f.json" "sys.exit(d['session']['lost_bytes'] == 0)"
	fi
	check "${c}_isolation_bytes" "a session's marker in another's recording" sh -c "
		! grep -qa -e n-during -e n-after -e F-DONE '$KT_TMP/$c-r${ID[q]:-x}.rec' &&
		! grep -qa -e q-during -e q-after -e F-DONE '$KT_TMP/$c-r${ID[n]:-x}.rec' &&
		! grep -qa -e q-after -e n-after '$KT_TMP/$c-r${ID[f]:-x}.rec'"
	check "${c}_isolation_commands" "hostname not N's, or id not Q's" sh -c "
		python3 -c \"import json,sys; d=json.load(open('$KT_TMP/$c-n.json')); sys.exit(not any(c['argv']==['hostname'] for c in d['commands']))\" &&
		python3 -c \"import json,sys; d=json.load(open('$KT_TMP/$c-q.json')); sys.exit(any(c['argv']==['hostname'] for c in d['commands']) or not any(c['argv']==['id'] for c in d['commands']))\""
	n_tty=$(json "$KT_TMP/$c-all.json" "print(sum(1 for x in d if x['has_tty'] and x['id'] > $before))")
	check "${c}_three_sessions" "$n_tty tty sessions, expected 3 (N got its own row, nothing split)" test "$n_tty" = 3
	check "${c}_restart_no_fault_logged" "the recorder after the repair still logs a failing store" \
		sh -c "! grep -q 'store failing' '$KT_TMP/$c-rec2.log'"
	stop_recorder
	rc=$?
	check "${c}_final_sigterm_exit0" "recorder exited $rc" test "$rc" = 0
	check "${c}_integrity" "integrity_check" sh -c "[ \"\$(sqlite3 'file:$DB?mode=ro' 'PRAGMA integrity_check')\" = ok ]"
}

fault_case ro fault_ro
fault_case eio fault_eio
finish
