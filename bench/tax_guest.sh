#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/tax_guest.sh REC TAX_LOOP ITER ROUNDS — runs INSIDE a qemu guest
# (started by bench/guest.sh through tests/vm/vmrun.sh; the guest sees the
# host's root read-only under a tmpfs overlay, so host paths work).  Per
# round prints "TAX off0 on0 on5 off5" (ns per syscall from tax_loop):
#   off0  no recorder          on0  recorder running (--capture tty), no session
#   on5   recorder + 5 sessions                off5  the same 5 sessions, recorder stopped
# (the flood in the guest is bench/guest_flood.sh, in the same boot).
# Sessions: an `unshare -p` namespace and 5 `script`-driven ttys whose shells
# nsenter into it (the recorder's detection sees a process entering a deeper
# pid namespace: exactly what runc exec does, without a container runtime).
# Limits: TCG guests are 10-50x slower than hardware; compare ratios only.
set -u
REC=$1 TAX=$2 ITER=$3 ROUNDS=$4
DB=/tmp/kt-guest.db
echo "# guest: $(uname -r)"
T0=$(date +%s)

RP=""
rec_start() {
	rm -f "$DB" "$DB"-*
	# --pin-dir none: "recorder stopped" must mean the programs are gone
	"$REC" --db "$DB" --capture tty --node-name guest --pin-dir none >/tmp/rec.log 2>&1 &
	RP=$!
	for _ in $(seq 600); do
		grep -q ready /tmp/rec.log && break
		kill -0 "$RP" 2>/dev/null || { echo "ERROR recorder exited:"; tail -5 /tmp/rec.log; exit 1; }
		sleep 0.1
	done
	grep -q ready /tmp/rec.log || { echo "ERROR recorder not ready in 60 s"; tail -5 /tmp/rec.log; exit 1; }
	[ -n "${BACKEND_SHOWN:-}" ] || { echo "# backend: $(sed -n 's/.*(backend \([^)]*\)).*/\1/p' /tmp/rec.log | head -1)"; BACKEND_SHOWN=1; }
}
rec_stop() { kill -TERM "$RP" 2>/dev/null; wait "$RP" 2>/dev/null; }
# best of 9: TCG timing is noisy, the minimum is the stable statistic
tax() { "$TAX" "$ITER" 9; }

SP=() NSP="" TARGET=""
sessions_start() {
	unshare -p -f --mount-proc sleep 1000 &
	NSP=$!
	local i
	TARGET=""
	for i in $(seq 100); do
		TARGET=$(pgrep -P "$NSP" sleep) && break
		sleep 0.05
	done
	[ -n "$TARGET" ] || { echo "ERROR no process in the new pid namespace"; exit 1; }
	for i in 1 2 3 4 5; do
		script -qfc "nsenter -t $TARGET -p -- sh -c 'sleep 100'" /dev/null </dev/null >/dev/null 2>&1 &
		SP+=($!)
	done
	sleep 2
}
# SIGKILL to the namespace's init (from outside, only SIGKILL reaches it)
# takes every process in it down; nsenter, script and unshare then exit.
sessions_stop() {
	kill -KILL "$TARGET" 2>/dev/null
	wait "${SP[@]}" "$NSP" 2>/dev/null
	SP=()
}

count() { "$(dirname "$REC")/kubetape" --db "$DB" sessions --json 2>/dev/null | grep -o '"id":' | wc -l; }
for r in $(seq "$ROUNDS"); do
	# the order alternates between rounds so drift hits both sides alike
	if [ $((r % 2)) = 1 ]; then
		off0=$(tax)
		rec_start
		on0=$(tax)
		sessions_start
		on5=$(tax)
		rec_stop
		off5=$(tax)
		sessions_stop
	else
		sessions_start	# not recorded: the recorder is not running
		off5=$(tax)
		sessions_stop
		rec_start
		sessions_start
		on5=$(tax)
		sessions_stop
		sleep 1.5	# sessions closed, nothing recorded any more
		on0=$(tax)
		rec_stop
		off0=$(tax)
	fi
	echo "SESSIONS $(count)"
	echo "TAX $off0 $on0 $on5 $off5"
	echo "# round $r done at $(($(date +%s) - T0)) s"
done
