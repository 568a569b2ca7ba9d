# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# bench/proc.sh — what a benchmark reads from /proc about a process: CPU
# seconds (whole tree, per thread), peak RSS, children.  Sourced by
# bench/lib.sh on the host and by the scripts that run inside a qemu guest
# (bench/guest_flood.sh), which cannot source lib.sh (no fake pod, no e2e
# lock there).  Plain bash + awk; no state.

# cpu_s PID: user+sys CPU seconds of the process, summed over its threads
# (/proc/PID/stat fields 14+15 count the whole process; per-thread figures
# come from /proc/PID/task/*/stat, see cpu_threads).
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null
}
# cpu_threads PID: "comm=seconds ..." per thread
cpu_threads() {
	local t
	for t in /proc/"$1"/task/*; do
		awk -v hz="$(getconf CLK_TCK)" '{ c = $0; sub(/^[^(]*\(/, "", c); sub(/\).*$/, "", c); sub(/^.*\) /, "")
			printf "%s=%.2f ", c, ($12 + $13) / hz }' "$t/stat" 2>/dev/null
	done
}
hwm_kib() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# children PID: direct child pids (the recorder forks its screen indexer as
# an unprivileged worker process: that is recorder cost too)
children() { cat /proc/"$1"/task/*/children 2>/dev/null; }
# cpu_tree_s PID: CPU seconds of PID (incl. children it reaped: cutime and
# cstime) plus its live children's
cpu_tree_s() {
	local hz c t
	hz=$(getconf CLK_TCK)
	t=$(awk -v hz="$hz" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13 + $14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null)
	for c in $(children "$1"); do
		t=$(awk -v a="$t" -v b="$(cpu_s "$c")" 'BEGIN { printf "%.2f", a + b }')
	done
	echo "$t"
}
# child_hwm_kib PID: the largest VmHWM among PID's live children (0 if none)
child_hwm_kib() {
	local c m=0 h
	for c in $(children "$1"); do
		h=$(hwm_kib "$c"); [ "${h:-0}" -gt "$m" ] && m=$h
	done
	echo "$m"
}
alive() { local s; s=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) && [ -n "$s" ] && [ "$s" != Z ]; }
# wait_cpu_idle PID MAX_S: until PID's tree (cpu_tree_s) used under 3% of a
# CPU over a whole second (the recorder's and the worker's own polling stay
# under that), at most MAX_S seconds; returns 1 on the time limit.  The
# screen indexer works through what the recorder committed after the
# session ended: its CPU is only all counted once it is idle.
wait_cpu_idle() {
	local pid=$1 end=$(($(date +%s) + $2)) a b
	b=$(cpu_tree_s "$pid")
	while :; do
		sleep 1
		a=$b
		b=$(cpu_tree_s "$pid")
		[ -n "$b" ] || return 1
		awk -v a="$a" -v b="$b" 'BEGIN { exit !(b - a < 0.03) }' && return 0
		[ "$(date +%s)" -ge "$end" ] && return 1
	done
}
# bpf_time PID: "NS RUNS": run time and run count summed over the BPF
# programs PID holds open (/proc/PID/fdinfo; counted only while the sysctl
# kernel.bpf_stats_enabled is 1).  A recorder started with --pin-dir none
# holds every program it runs.
bpf_time() {
	local f ns=0 cnt=0 a b
	for f in /proc/"$1"/fdinfo/*; do
		grep -q '^prog_type:' "$f" 2>/dev/null || continue
		a=$(sed -n 's/^run_time_ns:[[:space:]]*//p' "$f"); b=$(sed -n 's/^run_cnt:[[:space:]]*//p' "$f")
		ns=$((ns + ${a:-0})) cnt=$((cnt + ${b:-0}))
	done
	echo "$ns $cnt"
}
