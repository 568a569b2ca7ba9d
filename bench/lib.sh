# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# bench/lib.sh — what every benchmark script shares: the run mode, the
# statistics (median/min/max), the result rows that bench/run.sh turns into
# one table, cleanup traps, and the recorder / fake-pod plumbing.
#
# A workload script sources this, then:
#   bench_row WORKLOAD FIGURE UNIT GOAL VALUE...   one table row; GOAL is
#       "<=1.10", "<64", ">=0" ... (checked against the median) or "-"
#   bench_na WORKLOAD FIGURE WHY                   a row that could not be
#       measured, with the reason (a missing tool never fails the run)
#   bench_note TEXT                                 a line under the table
# Rows go to $BENCH_ROWS (TSV), notes to $BENCH_NOTES; run.sh sets both, a
# script run alone gets temporary ones and prints its rows at exit.
#
# Modes (BENCH_MODE, from --quick / --smoke): full (the numbers quoted in
# RESULTS.md), quick (scaled down, minutes), smoke (seconds: proves the
# harness works end to end; its figures are meaningless).
#
# Limits: bash + awk + python3; root for anything touching the recorder or
# containerd; one fake pod per FAKEPOD_DIR (the benchmarks use their own,
# never the e2e tests' or the demo's).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/e2e_lock.sh"
set -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KT_REPO=$(cd "$BENCH_DIR/.." && pwd)
BENCH_NAME=$(basename "$0" .sh)

# ------------------------------------------------------------------ arguments
# Every script: SCRIPT [OUT] [--quick|--smoke]
BENCH_OUT=build
BENCH_MODE=${BENCH_MODE:-full}
for a in "$@"; do
	case "$a" in
	--quick) BENCH_MODE=quick ;;
	--smoke) BENCH_MODE=smoke ;;
	--full) BENCH_MODE=full ;;
	-*) echo "$BENCH_NAME: unknown option '$a' (use OUT [--quick|--smoke])" >&2; exit 2 ;;
	*) BENCH_OUT=$a ;;
	esac
done
case "$BENCH_OUT" in /*) ;; *) BENCH_OUT=$KT_REPO/$BENCH_OUT ;; esac
# the libraries a harness linked with libkubetape.a needs (the Makefile's list)
STORE_LIBS=$(make -s --no-print-directory -C "$KT_REPO" print-store-libs)
KT_REC=$BENCH_OUT/kubetape-recorder
KT_CLI=$BENCH_OUT/kubetape
PTYRUN=$BENCH_OUT/tests/ptyrun
FAKEPOD=$KT_REPO/tests/lib/fakepod.sh
export FAKEPOD_DIR=${BENCH_FAKEPOD_DIR:-/tmp/kubetape-bench-fakepod}
# by mode: pick "FULL QUICK SMOKE"
by_mode() { case "$BENCH_MODE" in full) echo "$1" ;; quick) echo "$2" ;; *) echo "$3" ;; esac; }
RUNS=${BENCH_RUNS:-$(by_mode 5 5 1)}

BENCH_T0=$(date +%s%N)
msg() {	# "[script] text  (+seconds since the script started)"
	local d=$((($(date +%s%N) - BENCH_T0) / 100000000))
	echo "[$BENCH_NAME] $*  (+$((d / 10)).$((d % 10))s)" >&2
}
now_ns() { date +%s%N; }
now_us() { echo $(($(date +%s%N) / 1000)); }

# ------------------------------------------------------------------ cleanup
bench_cleanups=()
at_exit() { bench_cleanups+=("$*"); }	# run in reverse order at exit
bench_run_cleanups() {
	local i
	for ((i = ${#bench_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${bench_cleanups[i]}" || msg "cleanup '${bench_cleanups[i]}' failed"
	done
	bench_cleanups=()
}
trap 'bench_run_cleanups' EXIT
trap 'msg interrupted; exit 130' INT TERM HUP

BENCH_TMP=$(mktemp -d "/tmp/kubetape-bench-$BENCH_NAME.XXXXXX") || { echo "$BENCH_NAME: mktemp failed" >&2; exit 1; }
at_exit 'rm -rf "$BENCH_TMP"'

# ------------------------------------------------------------------ results
if [ -z "${BENCH_ROWS:-}" ]; then
	BENCH_ROWS=$BENCH_TMP/rows.tsv BENCH_NOTES=$BENCH_TMP/notes.txt
	: >"$BENCH_ROWS"; : >"$BENCH_NOTES"
	# alone: show what we measured before the temp dir goes
	at_exit 'bench_print_table "$BENCH_ROWS" text; sed "s/^/  * /" "$BENCH_NOTES"'
fi
BENCH_NOTES=${BENCH_NOTES:-$BENCH_TMP/notes.txt}

# bench_stats V... -> "median min max n" (numbers, any order; median of an
# even count is the mean of the middle two)
bench_stats() {
	printf '%s\n' "$@" | grep -E '^-?[0-9.]+([eE][-+]?[0-9]+)?$' | sort -g | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "nan nan nan 0"; exit }
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.6g %.6g %.6g %d\n", m, v[1], v[NR], NR
		}'
}

# goal_met MEDIAN GOAL -> prints met / MISSED / -
goal_met() {
	local v=$1 g=$2 op num
	[ "$g" = - ] && { echo -; return; }
	op=$(sed -E 's/^([<>=]+).*/\1/' <<<"$g")
	num=${g#"$op"}
	awk -v v="$v" -v n="$num" -v op="$op" 'BEGIN {
		if (v == "nan") { print "-"; exit }
		ok = (op == "<=") ? v <= n : (op == "<") ? v < n : (op == ">=") ? v >= n : (op == ">") ? v > n : (v == n)
		print ok ? "met" : "MISSED" }'
}

# fmt3 X: 3 significant digits, no exponent for ordinary magnitudes
fmt3() { awk -v x="$1" 'BEGIN { if (x == "nan") { print "-"; exit } a = x < 0 ? -x : x
	if (a >= 1000) printf "%.0f\n", x; else if (a >= 100) printf "%.1f\n", x; else if (a >= 10) printf "%.2f\n", x; else printf "%.3g\n", x }'; }

bench_row() {	# bench_row WORKLOAD FIGURE UNIT GOAL VALUE...
	local wl=$1 fig=$2 unit=$3 goal=$4 med mn mx n
	shift 4
	read -r med mn mx n < <(bench_stats "$@")
	if [ "$n" = 0 ]; then
		bench_na "$wl" "$fig" "no successful round"
		return
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$wl" "$fig" "$(fmt3 "$med")" "$(fmt3 "$mn")" \
		"$(fmt3 "$mx")" "$n" "$unit" "$goal" "$(goal_met "$med" "$goal")" >>"$BENCH_ROWS"
	msg "$wl / $fig: median $(fmt3 "$med") $unit (min $(fmt3 "$mn"), max $(fmt3 "$mx"), n=$n)"
}
bench_na() {	# bench_na WORKLOAD FIGURE WHY
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "n/a" "" "" 0 "" "-" "$3" >>"$BENCH_ROWS"
	msg "$1 / $2: n/a ($3)"
}
bench_note() { echo "$*" >>"$BENCH_NOTES"; msg "note: $*"; }

# bench_print_table ROWS text|md: the rows as one table, each workload's
# rows together (bench/results_md.py: the one printer of the table)
bench_print_table() {
	python3 "$BENCH_DIR/results_md.py" --table "$1" "$2"
}

# ------------------------------------------------------------------ machine
machine_line() {
	local cpu cores ram
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
	cores=$(nproc)
	ram=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	echo "${cpu:-unknown CPU}, $cores cores, $ram RAM, Linux $(uname -r) ($(uname -m))"
}

# ------------------------------------------------------------------ processes
# cpu_s, cpu_tree_s, cpu_threads, hwm_kib, children, child_hwm_kib, alive,
# wait_cpu_idle (shared with the scripts that run inside qemu guests)
# shellcheck source=bench/proc.sh
. "$BENCH_DIR/proc.sh"

# ------------------------------------------------------------------ fake pod
# pod_up: start (or reuse) the benchmarks' own fake pod; sources its env.
# Heavy runs on a 2-core box distort everyone's timings, so it refuses when
# another fakepod's containerd (the e2e tests', the demo's) is running,
# unless BENCH_IGNORE_OTHERS=1 or in --smoke.
pod_up() {
	local others
	local pid
	others=$(for pid in $(pgrep -x containerd); do
		alive "$pid" && ! grep -qaF -- "$FAKEPOD_DIR/" "/proc/$pid/cmdline" && tr '\0' ' ' <"/proc/$pid/cmdline" && echo
	done)
	# (a smoke run measures nothing worth protecting: it goes ahead)
	if [ -n "$others" ] && [ "${BENCH_IGNORE_OTHERS:-0}" != 1 ] && [ "$BENCH_MODE" != smoke ]; then
		msg "another containerd is running (e2e tests or a demo?); benchmarks would disturb it and be disturbed:"
		echo "$others" | sed 's/^/    /' >&2
		msg "wait for it, or set BENCH_IGNORE_OTHERS=1"
		return 1
	fi
	"$FAKEPOD" up >"$BENCH_TMP/pod.env" 2>"$BENCH_TMP/pod.log" || { cat "$BENCH_TMP/pod.log" >&2; return 1; }
	# under run.sh the pod lives for the whole suite (run.sh takes it down)
	[ "${BENCH_POD_SHARED:-0}" = 1 ] || at_exit '"$FAKEPOD" down >/dev/null 2>&1'
	# shellcheck disable=SC1091
	. "$FAKEPOD_DIR/pod/env"
}
# ctr_tty ARGS...: sets CTR_ARGV (and its exec id CTR_EID) to the argv `kubectl exec -it POD -- ARGS`
# becomes on a node; ctr_tty_line ARGS...: the same as one shell command line
ctr_tty() {
	CTR_EID="b$$-$RANDOM$RANDOM"
	CTR_ARGV=(ctr --address "$CONTAINERD_ADDRESS" -n "$CONTAINERD_NAMESPACE" task exec --tty
		--fifo-dir "$FAKEPOD_DIR/fifo" --exec-id "$CTR_EID" "$CONTAINER_ID" "$@")
}
ctr_tty_line() { ctr_tty "$@"; printf '%q ' "${CTR_ARGV[@]}"; }

# idle_start N [CMD...]: N interactive exec sessions (default bash) that sit
# at their prompt, each under its own ptyrun; idle_stop ends them (kills the
# exec'd process through containerd, so nothing stays in the container).
IDLE_PIDS=() IDLE_EIDS=()
idle_start() {
	local n=$1 i eid
	shift
	[ $# -gt 0 ] || set -- bash
	printf 'expect "# " 20\nsleep 3600\n' >"$BENCH_TMP/idle.script"
	for i in $(seq "$n"); do
		ctr_tty "$@"
		eid=$CTR_EID
		"$PTYRUN" --raw --script "$BENCH_TMP/idle.script" -- "${CTR_ARGV[@]}" >/dev/null 2>&1 </dev/null &
		IDLE_PIDS+=($!) IDLE_EIDS+=("$eid")
	done
}
idle_stop() {
	local e p
	for e in "${IDLE_EIDS[@]}"; do
		ctr --address "$CONTAINERD_ADDRESS" -n "$CONTAINERD_NAMESPACE" task kill -s KILL --exec-id "$e" "$CONTAINER_ID" >/dev/null 2>&1 &
	done
	wait_pids 10 "${IDLE_PIDS[@]}"
	for p in "${IDLE_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${IDLE_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	IDLE_PIDS=() IDLE_EIDS=()
}
at_exit 'idle_stop'
wait_pids() {	# wait_pids TIMEOUT_S PID...: until none is alive
	local end=$(($(date +%s) + $1)) p busy
	shift
	while :; do
		busy=0
		for p in "$@"; do alive "$p" && busy=1; done
		[ "$busy" = 0 ] && return 0
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

# ------------------------------------------------------------------ recorder
# rec_start DB [ARGS...]: start the recorder, wait until it says ready; sets
# REC_PID.  Stats JSON goes to DB.stats on exit.
REC_PID=""
rec_start() {
	local db=$1 i
	shift
	# --pin-dir none: each round starts from fresh kernel state, and a
	# stopped recorder leaves no programs behind to tax the next round
	"$KT_REC" --db "$db" --containerd-state "$CONTAINERD_STATE" --node-name bench-node \
		--stats-file "$db.stats" --pin-dir none "$@" >"$db.log" 2>&1 &
	REC_PID=$!
	for i in $(seq 400); do
		grep -q "ready" "$db.log" 2>/dev/null && return 0
		alive "$REC_PID" || break
		sleep 0.05
	done
	msg "recorder did not get ready:"; tail -5 "$db.log" >&2
	rec_stop
	return 1
}
rec_stop() {
	[ -n "$REC_PID" ] || return 0
	kill -TERM "$REC_PID" 2>/dev/null
	wait "$REC_PID" 2>/dev/null
	REC_PID=""
}
at_exit 'rec_stop'

# kt_json DB 'python expr of d' ARGS...: run `kubetape --db DB ARGS --json`
# and print the expression.  A list of sessions is first cut to our pod's
# container: the recorder records every exec on the node, so an e2e test
# exec'ing into its own fake pod meanwhile would land in our store too.
kt_json() {
	local db=$1 expr=$2
	shift 2
	"$KT_CLI" --db "$db" "$@" --json 2>/dev/null | python3 -c "
import json, sys
d = json.load(sys.stdin)
if isinstance(d, list) and sys.argv[1]:
    d = [s for s in d if s.get('container_id') == sys.argv[1]]
print($expr)" "${CONTAINER_ID:-}"
}
# foreign_sessions DB: sessions in the store that are not our pod's (an e2e
# test exec'ing into its own fake pod while we measure: a disturbed round)
foreign_sessions() {
	"$KT_CLI" --db "$1" sessions --json 2>/dev/null | python3 -c "
import json, sys
print(sum(1 for s in json.load(sys.stdin) if s.get('container_id') != sys.argv[1]))" "${CONTAINER_ID:-}"
}
# wait_active DB N TIMEOUT_S: until N sessions are active
wait_active() {
	local db=$1 n=$2 end=$(($(date +%s) + $3))
	until [ "$(kt_json "$db" "len(d)" sessions --active 2>/dev/null || echo 0)" -ge "$n" ]; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.1
	done
}
# wait_ended DB N TIMEOUT_S: until N sessions are ended
wait_ended() {
	local db=$1 n=$2 end=$(($(date +%s) + $3))
	until [ "$(kt_json "$db" "sum(1 for s in d if s['state'] != 'active')" sessions 2>/dev/null || echo 0)" -ge "$n" ]; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# bench_pg_lib — tests/lib/pg.sh (a private PostgreSQL: pg_start, psqlq …)
# with the helpers it expects from tests/lib/common.sh
bench_pg_lib() {
	kt_failed=0
	KT_TEST_NAME=bench_$BENCH_NAME
	fatal() { msg "$1: $2"; exit 1; }
	show() { sed 's/^/    | /' "$1" >&2; }
	wait_for() { local end=$(($(date +%s) + $1)); shift; until "$@"; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.05; done; }
	# shellcheck source=tests/lib/pg.sh
	. "$KT_REPO/tests/lib/pg.sh"
	# free_port: a port computed from $$ lies in the ephemeral range and
	# can be a client socket's at that moment (port.sh says more)
	# shellcheck source=tests/lib/port.sh
	. "$KT_REPO/tests/lib/port.sh"
}
