#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/capture.sh OUT [--quick|--smoke] — the recorder's capture path alone,
# without the kernel: bench/capture_bench.c drives recorder/sessions.c and
# continuity.c on a synthetic kernel into a real store opened as the daemon
# opens it (raw chunks, synchronous=FULL, signed checkpoints, the index
# worker in a child process doing what the recorder's worker does), ticking
# every 100 ms of real time.  CPU per GiB of output, for
#   flood  one session at ~20 MB/s in 4 KiB frames
#   many   N sessions at 64 KiB/s each in 1 KiB frames (N = 10, 100)
# The capture figure is the recorder process's user+sys; the worker's is its
# CPU until 3 s after the last session ended (what it did in that window).
# No BPF, no ring wakeups, no attribution: it isolates drain + chunk build +
# hash chain + SQLite + fsync from the syscall backend's tax and from the
# harness (ctr, shim), which dominate the wall time of bench/many.sh here.
. "$(dirname "$0")/lib.sh"

WL=capture
SECS=$(by_mode 8 5 1)
RUNS=${BENCH_RUNS:-$(by_mode 3 2 1)}
CB=$BENCH_TMP/capture_bench
# the recorder objects the unit tests link (no BPF, no daemon): Makefile's RECORDER_LIB_OBJS
objs=""
for o in "$BENCH_OUT"/recorder/*.o; do
	case "${o##*/}" in
	main.o | daemon.o | options.o | loader.o | pin.o | ring.o | loader_ops.o | loader_progs.o | skips.o | \
		indexer.o | rec_metrics.o | upgrade.o) ;;
	*) objs="$objs $o" ;;
	esac
done
# shellcheck disable=SC2086
cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$KT_REPO/store/include" -I"$KT_REPO/store" -I"$KT_REPO/bpf" \
	-I"$KT_REPO/recorder" -o "$CB" "$BENCH_DIR/capture_bench.c" $objs "$BENCH_OUT/libkubetape.a" \
	$STORE_LIBS ||
	{ msg "cannot build capture_bench against $BENCH_OUT (make first)"; exit 1; }

declare -A CAP WRK
CASES=("flood 1 20000 4096" "many10 10 64 1024" "many100 100 64 1024")
for r in $(seq "$RUNS"); do
	for c in "${CASES[@]}"; do
		read -r name n kib frame <<<"$c"
		d=$BENCH_TMP/run
		rm -rf "$d" && mkdir -p "$d"
		line=$("$CB" "$d" "$n" "$kib" "$SECS" "$frame" worker) || { msg "capture_bench $c failed"; exit 1; }
		msg "round $r $name: $line"
		CAP[$name]+="$(sed -n 's/.*capture_cpu_per_gib=\([0-9.]*\).*/\1/p' <<<"$line") "
		WRK[$name]+="$(sed -n 's/.*worker_cpu_per_gib=\([0-9.]*\).*/\1/p' <<<"$line") "
	done
done
rm -rf "$BENCH_TMP/run"
# shellcheck disable=SC2086
bench_row $WL "capture path CPU per GiB, 1 session ~20 MB/s (no kernel)" CPU-s/GiB "<=2" ${CAP[flood]}
# shellcheck disable=SC2086
bench_row $WL "worker CPU per GiB in the same run" CPU-s/GiB - ${WRK[flood]}
# shellcheck disable=SC2086
bench_row $WL "capture path CPU per GiB, 10 x 64 KiB/s (no kernel)" CPU-s/GiB - ${CAP[many10]}
# shellcheck disable=SC2086
bench_row $WL "capture path CPU per GiB, 100 x 64 KiB/s (no kernel)" CPU-s/GiB "<=10" ${CAP[many100]}
# shellcheck disable=SC2086
bench_row $WL "worker CPU per GiB, 100 x 64 KiB/s" CPU-s/GiB - ${WRK[many100]}
bench_note "capture: bench/capture_bench.c, recorder core on a synthetic kernel, ${SECS} s per case; the worker's CPU is what it did until 3 s after the end"
exit 0
