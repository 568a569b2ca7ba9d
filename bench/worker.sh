#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/worker.sh OUT [--quick|--smoke] — the index worker alone, CPU per GiB
# of output: bench/worker_bench.c runs what kubetape-recorder --index-worker
# runs (kt_store_maintain_round with its 1 MiB budget, then the WAL
# checkpoint, every 500 ms of output) on sessions written as the recorder
# writes them, in virtual time (no waiting; the same figures under perf).
# Output: the flood block (bench/flood_block.py, "\n" sent as "\r\n"), so
# the screen index sees the flood's text (capture.sh's base64-like output
# is mostly skipped by the index's encoded-line rule).
#   flood    one session at ~20 MB/s in 4 KiB frames
#   many100  100 sessions at 64 KiB/s each in 1 KiB frames
# Figures: worker CPU-s per GiB, split into indexing (screen render + index
# writes) and compaction, and the chunk blobs' bytes per output byte.
# No kernel, no recorder daemon, no containerd: this script takes the e2e
# lock only because lib.sh does.
. "$(dirname "$0")/lib.sh"

WL=worker
SECS=$(by_mode 10 5 1)
RUNS=${BENCH_RUNS:-$(by_mode 3 3 1)}
WB=$BENCH_TMP/worker_bench
# shellcheck disable=SC2086
cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$KT_REPO/store/include" -I"$KT_REPO/store" -o "$WB" \
	"$BENCH_DIR/worker_bench.c" "$BENCH_OUT/libkubetape.a" $STORE_LIBS ||
	{ msg "cannot build worker_bench against $BENCH_OUT (make first)"; exit 1; }
BLOCK=$BENCH_TMP/block
python3 "$BENCH_DIR/flood_block.py" "$BLOCK" $(($(by_mode 32 32 1) << 20)) ||
	{ msg "generating the flood block failed"; exit 1; }

declare -A TOT IDX CMP CHK
CASES=("flood 1 20000 $SECS 4096" "many100 100 64 $((SECS * 2)) 1024")
for r in $(seq "$RUNS"); do
	for c in "${CASES[@]}"; do
		read -r name n kib secs frame <<<"$c"
		rm -f "$BENCH_TMP"/w.db*
		line=$("$WB" "$BENCH_TMP/w.db" "$n" "$kib" "$secs" "$frame" "$BLOCK" 2>/dev/null) ||
			{ msg "worker_bench $c failed"; exit 1; }
		msg "round $r $name: $line"
		TOT[$name]+="$(sed -n 's/.*worker_cpu_per_gib=\([0-9.]*\).*/\1/p' <<<"$line") "
		IDX[$name]+="$(sed -n 's/.* index=\([0-9.]*\).*/\1/p' <<<"$line") "
		CMP[$name]+="$(sed -n 's/.* compact=\([0-9.]*\).*/\1/p' <<<"$line") "
		CHK[$name]+="$(sed -n 's/.* chunks=\([0-9.]*\).*/\1/p' <<<"$line") "
	done
done
rm -f "$BENCH_TMP"/w.db*
# shellcheck disable=SC2086
{
	bench_row $WL "index worker CPU per GiB, 1 session ~20 MB/s (flood block)" CPU-s/GiB - ${TOT[flood]}
	bench_row $WL "  of which screen index (render + index writes)" CPU-s/GiB - ${IDX[flood]}
	bench_row $WL "  of which compaction" CPU-s/GiB - ${CMP[flood]}
	bench_row $WL "chunk bytes per output byte after compaction, flood" ratio - ${CHK[flood]}
	bench_row $WL "index worker CPU per GiB, 100 x 64 KiB/s" CPU-s/GiB - ${TOT[many100]}
	bench_row $WL "  of which compaction, 100 x 64 KiB/s" CPU-s/GiB - ${CMP[many100]}
}
bench_note "worker: bench/worker_bench.c, the worker's loop on a fresh store in virtual time (${SECS} s of flood output, $((SECS * 2)) s of 100 sessions), in the benchmark's process"
exit 0
