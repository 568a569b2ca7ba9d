#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/term.sh OUT [--quick|--smoke] — the screen render rate of the store:
# kt_screen (libvterm 0.1.4's parser and state layer behind
# store/term/screen*.c, which the store rendered with before, now the tests'
# reference) against fastvt (store/term/fastvt.h, what the index writer,
# search verification, seeking and text export render with now), in
# MB of terminal output per CPU second, side by side in each round (bench/term_bench.c: same bytes, frames of at most 4 KiB as
# recorded, the clock set per frame, every leaving line taken).
#
# Workloads: seq, base64, ls-color, editor (generated, MIB MiB each) and
# bench/corpus.py's shell, logs, editor and random streams (replayed to MIB
# MiB).  A round where the two models did not give the same lines and final
# screen is reported in the notes (its figures compare different work).
# Goal: fastvt >= 200 MB/s (issue 14).  CPU only: no pod, no recorder.
. "$(dirname "$0")/lib.sh"

WL=term
MIB=$(by_mode 32 16 1)
SCALE=$(by_mode 0.5 0.3 0.03)
TB=$BENCH_TMP/term_bench
# shellcheck disable=SC2086
cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$KT_REPO/store/include" -I"$KT_REPO/store" -o "$TB" "$BENCH_DIR/term_bench.c" \
	"$BENCH_OUT/libkubetape.a" $STORE_LIBS ||
	{ msg "cannot build term_bench against $BENCH_OUT/libkubetape.a (make first)"; exit 1; }
BENCH_CORPUS_SCALE=$SCALE python3 "$BENCH_DIR/corpus.py" 1 "$BENCH_TMP/corpus" ||
	{ msg "corpus.py failed"; exit 1; }

declare -A KT FV
NAMES=()
for r in $(seq "$RUNS"); do
	msg "round $r: $MIB MiB per workload"
	while read -r name bytes kt fv kl fl same; do
		[ -n "${KT[$name]+x}" ] || NAMES+=("$name")
		KT[$name]="${KT[$name]:-} $kt"
		FV[$name]="${FV[$name]:-} $fv"
		[ "$same" = 1 ] || bench_note "term: round $r, $name: fastvt and kt_screen differ (lines $kl vs $fl)"
	done < <("$TB" "$MIB" "$BENCH_TMP/corpus" 1) || { msg "term_bench failed"; exit 1; }
done
for name in "${NAMES[@]}"; do
	# shellcheck disable=SC2086
	bench_row $WL "render $name: kt_screen (libvterm)" MB/CPU-s - ${KT[$name]}
	# shellcheck disable=SC2086
	bench_row $WL "render $name: fastvt" MB/CPU-s ">=200" ${FV[$name]}
done
bench_note "term: render rate = MB of terminal output per CPU second of one model alone (bench/term_bench.c); $MIB MiB per workload per round; the store renders with fastvt (index writer, search verification, seek fast-forward, text export; same lines and keyframe bytes as kt_screen); profile in bench/RESULTS.md, Profile: screen model"
