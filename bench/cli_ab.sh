#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/cli_ab.sh N DB OLD NEW ARGS... — one CLI read, two builds, alternating.
#
# Times `BIN --db DB ARGS...` (output to /dev/null) the way cli_scale.sh does
# (wall clock around the whole process), OLD and NEW alternating ABAB on odd
# rounds and BABA on even ones so that a drifting machine hurts both alike,
# N runs each; prints median/min/max per build in ms.
#
# BUSY_DISK=1 keeps the disk busy meanwhile (64 MiB writes, each followed by
# fdatasync, into a scratch file next to DB): every CLI read writes the access
# log, and its syncs then wait behind the writer (what the 55 ms of
# "search passwd" in bench/RESULTS.md 2026-12-06 was; bench/results/32-cli.md).
#
# DB: e.g. the 1,000,000-command store bench/cli_scale.sh builds with
# build/bench/gen_store; OLD: a kubetape built from an older commit
# (git worktree add /tmp/old <commit> && make -C /tmp/old build/kubetape).
set -u
[ $# -ge 5 ] || { echo "usage: $0 N DB OLD NEW ARGS..." >&2; exit 2; }
n=$1 db=$2 old=$3 new=$4
shift 4
to=() tn=()
wp=
if [ "${BUSY_DISK:-0}" = 1 ]; then
	junk=$(dirname "$db")/cli_ab.junk
	( for _ in $(seq 400); do
		dd if=/dev/zero of="$junk" bs=1M count=64 conv=fdatasync status=none || break
	  done ) &
	wp=$!
	trap 'kill $wp 2>/dev/null; wait $wp 2>/dev/null; rm -f "$junk"' EXIT
	sleep 0.5
fi
for i in $(seq "$n"); do
	if [ $((i % 2)) = 1 ]; then order="o n"; else order="n o"; fi
	for w in $order; do
		b=$old
		[ "$w" = n ] && b=$new
		t0=$(date +%s%N)
		"$b" --db "$db" "$@" >/dev/null 2>&1
		us=$((($(date +%s%N) - t0) / 1000))
		if [ "$w" = o ]; then to+=("$us"); else tn+=("$us"); fi
	done
done
st() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
		END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
		      printf "median %6.2f  min %6.2f  max %6.2f  n=%d", m / 1000, v[1] / 1000, v[NR] / 1000, NR }'
}
echo "$* | old $(st "${to[@]}") | new $(st "${tn[@]}")"
