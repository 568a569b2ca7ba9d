#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/pg_cli_ab.sh ROUNDS BIN_A URL_A BIN_B URL_B — two `kubetape` builds
# on the cluster store, run alternately (A, B, A, B …) so that the load of
# a shared host falls on both alike: the CLI shapes of bench/pg_scale.sh,
# whole process, wall-clock median/min/max in ms, and the server CPU per
# run (perf stat on each server's postmaster, which counts the backends it
# forks: less noisy than wall time on a loaded host).  A and B may be
# different servers holding the same data set (a schema step compared with
# the release before it: cp -a a cached bench/pg_scale.sh set, migrate one).
# The outputs of A and B must be identical (checked per shape).
# POSTMASTER_A / POSTMASTER_B: the postmasters' pids (optional, for CPU).
set -u
R=${1:?rounds} A=${2:?bin A} UA=${3:?url A} B=${4:?bin B} UB=${5:?url B}
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
export KUBETAPE_ACCESS_DIR=$T/access
mkdir -p "$KUBETAPE_ACCESS_DIR"
med() { sort -n | awk '{ a[NR] = $1 } END { printf "%.1f (%.1f-%.1f)", a[int((NR + 1) / 2)], a[1], a[NR] }'; }
run() { # BIN URL ARGS... -> ms on stdout, output in $T/out
	local bin=$1 url=$2 a z
	shift 2
	a=$(date +%s%N)
	"$bin" --db "$url" "$@" >"$T/out" 2>/dev/null || { echo "FAIL $bin $*" >&2; return 1; }
	z=$(date +%s%N)
	awk -v a="$a" -v z="$z" 'BEGIN { printf "%.3f\n", (z - a) / 1e6 }'
}
cpu() { # PID FILE -> perf stat on it into FILE; its pid in CPU_PID
	CPU_PID=
	[ -n "$1" ] || return 0
	perf stat -x, -e task-clock -p "$1" -o "$2" >/dev/null 2>&1 &
	CPU_PID=$!
}
shape() {
	local name=$1 pa pb
	shift
	: >"$T/a" ; : >"$T/b"
	rm -f "$T/pa" "$T/pb"
	cpu "${POSTMASTER_A:-}" "$T/pa"
	pa=$CPU_PID
	cpu "${POSTMASTER_B:-}" "$T/pb"
	pb=$CPU_PID
	sleep 0.3
	for _ in $(seq 1 $((R + 1))); do
		# the first round of each warms the server's buffers: not counted
		run "$A" "$UA" "$@" >>"$T/a" || return
		cp "$T/out" "$T/out.a"
		run "$B" "$UB" "$@" >>"$T/b" || return
		cmp -s "$T/out" "$T/out.a" || echo "  DIFFERENT OUTPUT A/B: $name" >&2
	done
	[ -n "$pa" ] && kill -INT "$pa" && wait "$pa"
	[ -n "$pb" ] && kill -INT "$pb" && wait "$pb"
	printf '%-40s A %s  B %s ms' "$name" "$(tail -n +2 "$T/a" | med)" "$(tail -n +2 "$T/b" | med)"
	[ -s "$T/pa" ] && printf '  server CPU/run A %.1f' "$(awk -F, -v n=$((R + 1)) '/task-clock/ { print $1 / n }' "$T/pa")"
	[ -s "$T/pb" ] && printf ' B %.1f ms' "$(awk -F, -v n=$((R + 1)) '/task-clock/ { print $1 / n }' "$T/pb")"
	echo
}
shape "sessions --limit 50" sessions --limit 50
shape "search rm -rf" search --in commands --limit 1000 -- rm -rf
shape "search password" search --in commands --limit 1000 password
shape "search /proc/1/environ" search --in commands --limit 1000 /proc/1/environ
shape "search password --namespace payments" search --in commands --limit 1000 --namespace payments password
