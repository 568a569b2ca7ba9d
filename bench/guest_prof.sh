#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/guest_prof.sh OUT BLOCK BACKEND — runs INSIDE a qemu guest (like
# bench/guest_flood.sh): where one recorded flood's CPU goes.  Starts
# OUT's recorder with --capture BACKEND (no indexer, fresh kernel state),
# then one session cats BLOCK through ptyrun --raw under `perf record -a -g`
# (cpu-clock: TCG has no PMU), and prints perf's split by process, the
# recorder's by library and its top symbols, and the recorder's ring
# records for the flood's bytes.  Not part of `make bench` (perf's own
# sampling costs the emulated guest time); run it by hand:
#
#   bash tests/vm/vmrun.sh -k KVER -r /var/cache/kubetape-vm/KVER -t 900 -- \
#     "ulimit -l unlimited; bash bench/guest_prof.sh $PWD/build BLOCK tty"
#
# Limits: under TCG user-space SIMD code (BLAKE2b, zstd, memcpy) is
# emulated far more slowly than the kernel's pty path, so the recorder's
# share is larger than on real hardware; the split, not the seconds, is
# what this shows.
set -u
OUT=$1 BLOCK=$2 BE=$3
command -v perf >/dev/null || { echo "ERROR no perf in the guest (the host's /usr/bin/perf)"; exit 1; }
W=$(mktemp -d /tmp/kt-gprof.XXXXXX) || exit 1
cp "$BLOCK" "$W/block" || exit 1
DB=$W/kt.db
"$OUT/kubetape-recorder" --db "$DB" --capture "$BE" --node-name guest --pin-dir none --no-index \
	--stats-file "$DB.stats" </dev/null >"$W/rec.log" 2>&1 &
RP=$!
for _ in $(seq 900); do grep -q ready "$W/rec.log" && break; sleep 0.1; done
grep -q ready "$W/rec.log" || { echo "ERROR recorder not ready"; tail -3 "$W/rec.log"; kill -KILL "$RP"; exit 1; }
sleep 5 # the load's teardown work settles (bench/guest_flood.sh: settle)
unshare -p -f --mount-proc sleep 100000 </dev/null >/dev/null 2>&1 &
ns=$!
tgt=""
for _ in $(seq 100); do tgt=$(pgrep -P "$ns" sleep) && break; sleep 0.05; done
perf record -q -a -g -F 499 -o "$W/perf.data" -- "$OUT/tests/ptyrun" --raw --timeout 600 \
	--out "$W/client.out" -- nsenter -t "$tgt" -p -- cat "$W/block" >/dev/null 2>&1
kill -KILL "$tgt"
wait "$ns" 2>/dev/null
for _ in $(seq 600); do grep -q 'session [0-9]* ended' "$W/rec.log" && break; sleep 0.1; done
kill -TERM "$RP"
wait "$RP"
echo "# $BE: $(python3 -c "import json; print(json.load(open('$DB.stats'))['recorder']['events'])") ring records for $(stat -c %s "$W/client.out") bytes"
echo "## samples by process"
perf report -i "$W/perf.data" --no-children --sort comm --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -12
echo "## the recorder by library"
perf report -i "$W/perf.data" --no-children --comm kubetape-record --sort dso --stdio -g none 2>/dev/null |
	grep -v '^#' | grep -v '^$' | head -12
echo "## the recorder's top symbols"
perf report -i "$W/perf.data" --no-children --comm kubetape-record --sort dso,sym --stdio -g none 2>/dev/null |
	grep -v '^#' | grep -v '^$' | head -25
rm -rf "$W"
