#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/guest_flood.sh OUT BLOCK REPEAT ROUNDS STATS [VARIANTS [PER]] — runs INSIDE a qemu
# guest (bench/guest.sh boots it through tests/vm/vmrun.sh; the guest sees
# the host's root read-only under a tmpfs overlay, so host paths work).
#
# The flood workload of bench/flood.sh, in the guest: BLOCK (the same
# bytes as the host's, bench/flood_block.py) copied into the guest's tmpfs
# and `cat` REPEAT times by a shell that nsenter'ed into a new pid
# namespace (what a runtime's exec does: the recorder's entry rule makes it
# a session), on a pty driven by ptyrun --raw that keeps every byte.  Per
# round: plain, A, plain, B, plain, each slot PER floods back to back (PER
# sessions under one recorder start for A and B), with A and B the two
# backends in an order alternating between rounds, and each recorded
# flood's ratio taken against the mean of the plain floods of the slots
# just before and after it (under TCG on a shared host the guest's speed
# drifts by 2x within minutes; a plain flood costs seconds, a recorder
# start 10-30 s, so PER > 1 buys samples for a few seconds each):
#   plain    no recorder
#   tty      kubetape-recorder --capture tty (the pty-driver hooks)
#   syscall  kubetape-recorder --capture syscall (the host's backend)
# Each flood starts once the guest is quiet (settle: a stopped recorder's
# kernel state is torn down in the background for seconds under TCG).
# Prints per flood
#   FLOOD ROUND VARIANT SECONDS RECEIVED RECORDED LOST CPU_S HWM_KIB -
# (RECORDED..HWM_KIB are "-" for plain): wall seconds of the flood, bytes
# the pty gave / the store holds / counted lost, CPU seconds of the
# recorder from the flood's start until its session has ended, its peak
# RSS; "THREADS VARIANT comm=s ..." per recorded flood; and per recorder
# run "SKIPPED ROUND VARIANT N", the BPF runs the kernel skipped
# (recursion_misses) over its floods.  Around and between a run's recorded
# floods, the same flood on a pty that is no session ("IDLE ROUND VARIANT
# SECONDS"): the recorder running, the hooks loaded, nothing recorded.  A
# recorded flood against the IDLE floods just before and after it is the
# cost of recording the session itself (not the node-wide tax, which
# tax_guest.sh measures), paired seconds apart rather than across a
# recorder start: the guest's speed follows the host's load, which swung
# plain floods from 0.7 to 8 s within a minute on 2026-12-07.
#
# The recorder runs WITHOUT its screen indexer (--no-index): the worker's
# work does not depend on the capture backend, and under TCG it is
# emulated so slowly (measured: ~59 CPU-s and 5 minutes for one 8 MiB
# flood) that it would swamp the guest's 2 vCPUs and the time budget.  Its
# cost is the host's `recorder` rows.
#
# and "PROF ROUND VARIANT RECORDED BPF_NS BPF_RUNS": the run time of the
# recorder's BPF programs over the flood (kernel.bpf_stats_enabled, read
# from /proc/PID/fdinfo of its program fds): the capture cost the kernel
# charges to the processes writing to the pty, which no per-process CPU
# figure shows.  The stats cost each program run two clock reads, under 1%
# of the flood's time here (the programs' whole run time is 1-4% of it);
# with STATS=0 they stay off.
#
# Limits: under TCG the guest runs 10-50x slower than the host and not
# uniformly (BPF JIT code, syscalls and memcpy are emulated at different
# costs): only ratios within the guest mean anything.  The guest path has
# no containerd shim between the session's pty and the client's (the host
# flood has one), so the guest's plain flood is proportionally faster.
set -u
OUT=$1 BLOCK_SRC=$2 REP=$3 ROUNDS=$4 STATS=${5:-1}
# VARIANTS (optional 6th argument): the recorded floods of a round, in its
# order for odd rounds and reversed for even ones; default "tty syscall".
# E.g. "tty-fentry tty-kprobe syscall" compares the two tty attach variants,
# "tty tty@/old/build" this build's recorder with another's.
# PER (optional 7th argument): floods per slot (default 1).
read -r -a VARIANTS <<<"${6:-tty syscall}"
PER=${7:-1}
REC=$OUT/kubetape-recorder KT=$OUT/kubetape PTYRUN=$OUT/tests/ptyrun
# cpu_tree_s, cpu_threads, hwm_kib, bpf_time
# shellcheck source=bench/proc.sh
. "$(dirname "$0")/proc.sh"
W=$(mktemp -d /tmp/kt-gflood.XXXXXX) || exit 1
echo "# guest: $(uname -r), $(nproc) vCPUs"
cp "$BLOCK_SRC" "$W/block" || { echo "ERROR cannot copy the flood block $BLOCK_SRC"; exit 1; }
T0=$(date +%s)

RP="" DB=$W/kt.db
rec_start() {	# rec_start BACKEND
	rm -f "$DB" "$DB"-* "$DB.stats"
	# --pin-dir none: each run starts from fresh kernel state
	"$REC" --db "$DB" --capture "$1" --node-name guest --pin-dir none --no-index --stats-file "$DB.stats" \
		</dev/null >"$W/rec.log" 2>&1 &
	RP=$!
	for _ in $(seq 900); do
		grep -q ready "$W/rec.log" && return 0
		kill -0 "$RP" 2>/dev/null || break
		sleep 0.1
	done
	echo "ERROR recorder ($1) not ready:"; tail -5 "$W/rec.log"
	kill -KILL "$RP" 2>/dev/null
	exit 1
}
rec_stop() { kill -TERM "$RP" 2>/dev/null; wait "$RP" 2>/dev/null; RP=""; }
sessions() { "$KT" --db "$DB" sessions --json 2>/dev/null; }
# wait_ended TIMEOUT_S: the recorder logged the session's end (~1 s after
# its last process; the rows are committed in the same tick).  The log, not
# the CLI: under TCG each CLI + python start costs a second or more.
# wait_ended TIMEOUT_S N: until N sessions have ended in this recorder run
wait_ended() {
	for _ in $(seq $(($1 * 10))); do
		[ "$(grep -c '^.*session [0-9]* ended' "$W/rec.log")" -ge "$2" ] && { sleep 0.5; return 0; }
		sleep 0.1
	done
	return 1
}
# settle: until the guest's CPUs were 80% idle over a second (at most 30
# s).  A stopped recorder's programs, links and 16 MiB ring are torn down by
# kernel workers after it exits (RCU grace periods, trampoline unpatching),
# which under TCG takes seconds: a flood started then would be charged
# for them.
settle() {
	local a b _
	for _ in $(seq 30); do
		a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
		sleep 1
		b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
		awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ")
			busy = y[1] - x[1]; idle = y[2] - x[2]; exit !(idle >= 0.8 * (busy + idle)) }' && return 0
	done
	echo "# not settled after 30 s" >&2
}

# flood [idle]: one session catting the block REP times; prints its wall
# seconds.  "idle": the same flood on a pty that is not a session (no new
# pid namespace: the recorder's entry rule leaves it alone), for pairing
# with a recorded flood seconds apart under one running recorder.
flood() {
	local t0 t1 ns="" tgt="" rc pre=()
	if [ "${1:-}" != idle ]; then
		unshare -p -f --mount-proc sleep 100000 </dev/null >/dev/null 2>&1 &
		ns=$!
		for _ in $(seq 100); do tgt=$(pgrep -P "$ns" sleep) && break; sleep 0.05; done
		[ -n "$tgt" ] || { echo "ERROR no process in the new pid namespace" >&2; return 1; }
		pre=(nsenter -t "$tgt" -p --)
	fi
	rm -f "$W/client.out"
	settle
	t0=$(date +%s%N)
	"$PTYRUN" --raw --timeout 1800 --out "$W/client.out" -- "${pre[@]}" \
		sh -c "i=0; while [ \$i -lt $REP ]; do cat $W/block || exit 1; i=\$((i+1)); done" \
		</dev/null >"$W/ptyrun.log" 2>&1
	rc=$?
	t1=$(date +%s%N)
	if [ -n "$ns" ]; then
		kill -KILL "$tgt" 2>/dev/null
		wait "$ns" 2>/dev/null
	fi
	[ "$rc" = 0 ] || { echo "ERROR flood exited $rc: $(tail -2 "$W/ptyrun.log")" >&2; return 1; }
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}

# ctxsw PID: voluntary context switches over all its threads
ctxsw() { awk '/^voluntary_ctxt_switches/ { n += $2 } END { print n + 0 }' /proc/"$1"/task/*/status 2>/dev/null; }

# one_flood VARIANT ROUND K: the K-th recorded flood (session) of this
# recorder run, each with its own figures
one_flood() {
	local v=$1 r=$2 k=$3 secs recv got lost cs0 cpu0 cpu1 hwm b0 b1 ns0 ns1 c0 c1 sid
	cpu0=$(cpu_tree_s "$RP")
	b0=$(bpf_time "$RP")
	cs0=$(ctxsw "$RP")
	secs=$(flood) || { rec_stop; exit 1; }
	recv=$(stat -c %s "$W/client.out")
	wait_ended 120 "$k" || echo "# round $r $v: session $k not ended after 120 s"
	echo "# $v: flood $secs s, session ended at $(($(date +%s) - T0)) s"
	cpu1=$(cpu_tree_s "$RP")
	hwm=$(hwm_kib "$RP")
	b1=$(bpf_time "$RP")
	THREADS=$(cpu_threads "$RP")
	# the recorder's wakeups: terminal bytes wake it only when a ring is
	# half full (bpf/maps.bpf.h kt_data_wakeup), else its 100 ms tick does
	echo "# $v: recorder woke $(($(ctxsw "$RP") - cs0)) times (voluntary context switches) from the flood's start to its session's end"
	# (no process substitution: the guest's /dev has no /dev/fd)
	read -r sid got lost <<<"$(sessions | python3 -c "import json,sys; d=json.load(sys.stdin); s=max(d, key=lambda s: s['id']); print(s['id'], s['bytes_out'], s['lost_bytes'])")"
	echo "FLOOD $r $v $secs $recv $got $lost $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.2f", b - a }') $hwm -"
	echo "THREADS $v $THREADS"
	read -r ns0 c0 <<<"$b0"; read -r ns1 c1 <<<"$b1"
	[ "$STATS" = 1 ] && echo "PROF $r $v $got $((ns1 - ns0)) $((c1 - c0))"
	# the first round's recordings are checked byte for byte
	if [ "$r" = 1 ]; then
		if "$KT" --db "$DB" cat "$sid" 2>/dev/null | cmp -s - "$W/client.out"; then
			echo "# $v: round 1 recording byte-identical to the client's $recv bytes"
		else
			echo "# $v: round 1 recording DIFFERS from the client's bytes ($got recorded of $recv, $lost counted lost)"
		fi
	fi
}

# run VARIANT ROUND: PER floods, one recorder start for them all
run() {
	local v=$1 r=$2 k secs
	if [ "$v" = plain ]; then
		for k in $(seq "$PER"); do
			secs=$(flood) || exit 1
			echo "FLOOD $r plain $secs $(stat -c %s "$W/client.out") - - - - -"
		done
		return
	fi
	# BACKEND@DIR: DIR's recorder (an old build beside the new one)
	REC=$OUT/kubetape-recorder
	[ "$v" = "${v#*@}" ] || REC=${v#*@}/kubetape-recorder
	rec_start "${v%%@*}"
	echo "# $v: recorder ready at $(($(date +%s) - T0)) s"
	# each recorded flood between two unrecorded ones under the same
	# recorder, seconds apart: "IDLE ROUND VARIANT SECONDS"
	echo "IDLE $r $v $(flood idle)"
	for k in $(seq "$PER"); do
		one_flood "$v" "$r" "$k"
		echo "IDLE $r $v $(flood idle)"
	done
	rec_stop
	# BPF runs the kernel skipped (recursion_misses) over the run's floods
	echo "SKIPPED $r $v $(python3 -c "import json; print(json.load(open('$DB.stats'))['kernel'].get('skipped_runs', 0))" 2>/dev/null || echo "?")"
	echo "# backend $v: $(python3 -c "import json; print(json.load(open('$DB.stats'))['backend'])" 2>/dev/null)"
	# ring records per recorded byte: what the recorder's user space pays
	# per event (the stats file is written at exit: the run's PER floods)
	echo "# $v: $(python3 -c "import json; print(json.load(open('$DB.stats'))['recorder']['events'])" 2>/dev/null) ring records for $(sessions | python3 -c "import json,sys; print(sum(s['bytes_out'] for s in json.load(sys.stdin)))") bytes"
}

if [ "$STATS" = 1 ] && ! sysctl -qw kernel.bpf_stats_enabled=1; then
	echo "# cannot enable kernel.bpf_stats_enabled: no BPF run times"
	STATS=0
fi
for r in $(seq "$ROUNDS"); do
	order=("${VARIANTS[@]}")
	[ $((r % 2)) = 1 ] || for ((i = 0; i < ${#VARIANTS[@]}; i++)); do order[i]=${VARIANTS[${#VARIANTS[@]} - 1 - i]}; done
	run plain "$r"
	for v in "${order[@]}"; do run "$v" "$r"; run plain "$r"; done
	echo "# round $r done at $(($(date +%s) - T0)) s"
done
rm -rf "$W"
