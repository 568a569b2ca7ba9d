#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/worker_ab.sh OLD_LIB NEW_LIB [ROUNDS] — the index worker, two
# libkubetape.a builds alternating (a loaded machine drifts; alternating
# old/new per case and round keeps the pairs comparable), worker_bench's
# flood (1 x ~20 MB/s, 5 s) and 100 sessions (64 KiB/s, 10 s) cases.
# The OLD arm runs with OLD_ENV (default WORKER_OLD=1: the worker handle's
# settings before bench/results/31-worker.md).  Prints one line a run:
# "old|new flood|many100 <worker_bench's line>", then medians.
# No kernel, no recorder, no lock: worker_bench runs in virtual time.
set -eu
OLD=$1 NEW=$2 R=${3:-5} OLD_ENV=${OLD_ENV:-WORKER_OLD=1}
HERE=$(cd "$(dirname "$0")" && pwd) T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
LIBS=$(make -s --no-print-directory -C "$HERE/.." print-store-libs)
for v in old new; do
	lib=$OLD; [ $v = new ] && lib=$NEW
	# shellcheck disable=SC2086
	cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$HERE/../store/include" -I"$HERE/../store" \
		-o "$T/wb_$v" "$HERE/worker_bench.c" "$lib" $LIBS
done
python3 "$HERE/flood_block.py" "$T/block" $((32 << 20))
declare -A C=([flood]="1 20000 5 4096" [many100]="100 64 10 1024")
for _ in $(seq "$R"); do
	for name in flood many100; do
		read -r n kib secs frame <<<"${C[$name]}"
		for v in old new; do
			e=X=1; [ $v = old ] && e=$OLD_ENV
			rm -f "$T"/w.db*
			echo "$v $name $(env "$e" "$T/wb_$v" "$T/w.db" "$n" "$kib" "$secs" "$frame" "$T/block" 2>/dev/null)"
		done
	done
done | tee "$T/out"
python3 - "$T/out" <<'PY'
import collections, statistics, sys
d = collections.defaultdict(list)
for l in open(sys.argv[1]):
    f = l.split()
    d[(f[1], f[0])].append(dict(x.split("=") for x in f[2:]))
for (case, v), runs in sorted(d.items()):
    print(case, v, "median of", len(runs), " ".join(
        "%s=%.*f" % (m, 4 if m == "chunks" else 2,
                     statistics.median(float(x[m]) for x in runs))
        for m in ("worker_cpu_per_gib", "index", "compact", "checkpoint", "chunks")))
PY
