#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/tax.sh OUT [--quick|--smoke] — workload 5: the node-wide tax.  What
# does running kubetape-recorder cost a process that has nothing to do with
# any recorded session?  bench/tax_loop (1-byte write+read on /dev/null,
# best of 3 rounds per invocation) is timed side by side:
#
#   no session   recorder stopped vs running, no tty recorded
#   5 sessions   5 idle interactive exec shells in the fake pod, recorder
#                stopped vs running (and recording them)
#
# Host cell: whatever backend the recorder picks here (`--capture auto`; on
# this project's CI kernels that is `syscall`, which attaches a sys_exit
# tracepoint only while a tty is recorded: so "no session" should be ~1.0
# and "5 sessions" is its real cost).  Each round measures all four points
# in an order that alternates between rounds, so drift cancels.
#
# The qemu cell (the same with `--capture tty`, fentry on pty_write: nothing
# fires for /dev/null; sessions made with nsenter into an `unshare -p`
# namespace under `script`) runs in bench/guest.sh's guest, with the flood
# there: bench/tax_guest.sh.
#
# BENCH_TAX_REC_ARGS adds recorder options to the host cell, e.g.
# "--sys-exit perf" for the cost of the syscall backend's perf-tracepoint
# way in (what 7.x kernels get) against the BTF raw tracepoint.
#
# Limits: tax_loop is one tight loop on one core; it does not show cache or
# ring-buffer effects of heavy recorded sessions elsewhere (see flood/many).
. "$(dirname "$0")/lib.sh"

WL=tax
ITER=$(by_mode 1000000 500000 100000)
TAX=$BENCH_TMP/tax_loop
cc -O2 -o "$TAX" "$BENCH_DIR/tax_loop.c" || { msg "cannot build tax_loop"; exit 1; }
for c in "$KT_REC" "$KT_CLI" "$PTYRUN"; do
	[ -x "$c" ] || { msg "$c not built (make)"; exit 1; }
done
pod_up || exit 1

# pinned to the last CPU: the loop is then not migrated between rounds
tax() { taskset -c $(($(nproc) - 1)) "$TAX" "$ITER" 3; }
OFF0=() ON0=() OFF5=() ON5=() R0=() R5=() BACKEND=""

# smoke: the no-session cell only (starting 5 shells takes seconds)
FIVE=$([ "$BENCH_MODE" = smoke ] && echo 0 || echo 1)
for r in $(seq "$RUNS"); do
	db=$BENCH_TMP/tax-$r.db
	off5=nan on5=nan
	if [ "$FIVE" = 0 ]; then
		off0=$(tax)
		rec_start "$db" ${BENCH_TAX_REC_ARGS:-} || exit 1
		on0=$(tax)
		rec_stop
	elif [ $((r % 2)) = 1 ]; then
		off0=$(tax)
		rec_start "$db" ${BENCH_TAX_REC_ARGS:-} || exit 1
		on0=$(tax)
		idle_start 5
		wait_active "$db" 5 30 || msg "round $r: 5 sessions not active after 30 s"
		on5=$(tax)
		rec_stop
		off5=$(tax)
		idle_stop
	else
		idle_start 5
		sleep 2	# the shells reach their prompts (as in the other order)
		off5=$(tax)
		idle_stop
		rec_start "$db" ${BENCH_TAX_REC_ARGS:-} || exit 1
		idle_start 5
		wait_active "$db" 5 30 || msg "round $r: 5 sessions not active after 30 s"
		on5=$(tax)
		idle_stop
		sleep 1.5	# the sessions close (1 s grace) and the hook detaches
		on0=$(tax)
		rec_stop
		off0=$(tax)
	fi
	BACKEND=$(python3 -c "import json; print(json.load(open('$db.stats'))['backend'])" 2>/dev/null)
	rm -f "$db" "$db"-*
	OFF0+=("$off0") ON0+=("$on0") OFF5+=("$off5") ON5+=("$on5")
	R0+=("$(awk -v a="$on0" -v b="$off0" 'BEGIN { printf "%.4f", a / b }')")
	[ "$FIVE" = 1 ] && R5+=("$(awk -v a="$on5" -v b="$off5" 'BEGIN { printf "%.4f", a / b }')")
	msg "round $r: ns/syscall off0 $off0 on0 $on0 off5 $off5 on5 $on5"
done

bench_row $WL "host ($BACKEND): ns/syscall, no recorder" ns - "${OFF0[@]}"
bench_row $WL "host ($BACKEND): recorder / none, no session" x "<=1.05" "${R0[@]}"
if [ "$FIVE" = 1 ]; then
	bench_row $WL "host ($BACKEND): recorder / none, 5 sessions" x - "${R5[@]}"
else
	bench_na $WL "host ($BACKEND): recorder / none, 5 sessions" "skipped in --smoke"
fi

# The same with the tty backend, in a qemu guest: bench/guest.sh (one boot
# for the guest's flood and tax).
exit 0
