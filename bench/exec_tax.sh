#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/exec_tax.sh OUT [--quick|--smoke] — workload 6: what the session
# detection rule costs every exec on the node.  bench/exec_loop (vfork +
# execve /bin/true + wait, best of 5 rounds per invocation) is timed with no
# recorder, and with the recorder running (no session), alternating the
# order between rounds so drift cancels.  The figure is the difference, in
# µs per exec: the exec hook's rule (kt_entry_rule's first step: two pid
# levels, the parent's executable's mount namespace and the task's own),
# plus the fork and exit hooks' one hash lookup each.
#
# Limits: the figure is a difference of two ~1.5 ms means; on a loaded
# shared machine they move by up to ~1 ms between rounds (measured at
# 17:10 UTC 2026-12-06 with ~7 test runs queued: medians -59 us and -27 us,
# i.e. noise), so only a quiet machine gives sub-µs figures.  For the exec
# program alone, `sysctl kernel.bpf_stats_enabled=1` and bpftool's
# run_time_ns / run_cnt of kt_sched_exec are independent of load.
#
# BENCH_EXEC_BASE=PATH adds a third point: another kubetape-recorder binary
# (e.g. one built before a rule change), so before/after are measured in the
# same rounds.  The recorders run with --pin-dir none (nothing left behind).
. "$(dirname "$0")/lib.sh"

WL=exec
ITER=$(by_mode 4000 2000 300)
LOOP=$BENCH_TMP/exec_loop
cc -O2 -o "$LOOP" "$BENCH_DIR/exec_loop.c" || { msg "cannot build exec_loop"; exit 1; }
[ -x "$KT_REC" ] || { msg "$KT_REC not built (make)"; exit 1; }
BASE=${BENCH_EXEC_BASE:-}
[ -z "$BASE" ] || [ -x "$BASE" ] || { msg "BENCH_EXEC_BASE=$BASE is not executable"; exit 1; }
CONTAINERD_STATE=${CONTAINERD_STATE:-/run/containerd}

# pinned to the last CPU: the loop is then not migrated between rounds
probe() { taskset -c $(($(nproc) - 1)) "$LOOP" "$ITER" 5; }
# on BIN: the probe with recorder BIN running (no session on the node is ours)
on() {
	local bin=$1 db=$BENCH_TMP/exec-$RANDOM.db v
	KT_REC=$bin rec_start "$db" || return 1
	v=$(probe)
	rec_stop
	rm -f "$db" "$db"-* "$db".*
	echo "$v"
}
OFF=() D=() DB=()
for r in $(seq "$RUNS"); do
	if [ $((r % 2)) = 1 ]; then
		off=$(probe); new=$(on "$KT_REC") || exit 1
		[ -n "$BASE" ] && { base=$(on "$BASE") || exit 1; }
	else
		[ -n "$BASE" ] && { base=$(on "$BASE") || exit 1; }
		new=$(on "$KT_REC") || exit 1; off=$(probe)
	fi
	OFF+=("$off")
	D+=("$(awk -v a="$new" -v b="$off" 'BEGIN { printf "%.3f", a - b }')")
	[ -n "$BASE" ] && DB+=("$(awk -v a="$base" -v b="$off" 'BEGIN { printf "%.3f", a - b }')")
	msg "round $r: µs/exec off $off on $new${BASE:+ base $base}"
done
bench_row $WL "µs per fork+exec+wait, no recorder" us - "${OFF[@]}"
bench_row $WL "recorder - none, µs per exec (no session)" us "<=2" "${D[@]}"
if [ -n "$BASE" ]; then
	bench_row $WL "BENCH_EXEC_BASE - none, µs per exec (no session)" us - "${DB[@]}"
fi
