#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/run.sh OUT [--quick|--smoke] — the benchmark suite (`make bench`).
#
# Runs each workload script (one job per file) in turn, then prints ONE
# table — median, min and max over the rounds of each figure, its goal and
# whether the median meets it — and writes it with the machine, the date and
# the notes to bench/RESULTS.md (full run) or OUT/bench-RESULTS-MODE.md,
# followed by issue 14's before/after table (bench/results/issue14-before.tsv)
# and the hand-written profile sections (bench/results/*.md, copied
# verbatim: edit them there; bench/results_md.py assembles the file).
#
#   flood.sh      workloads 1+2: terminal flood, recorder cost, proxies
#   storage.sh    workload 3: bytes on disk per byte of terminal output
#   many.sh       workload 4: many concurrent sessions
#   tax.sh        workload 5: node-wide syscall tax (host)
#   guest.sh      the tty backend where it runs: flood, CPU per GiB and tax
#                 in a qemu guest, beside the syscall backend in that guest
#   exec_tax.sh   workload 6: the session detection rule's cost per exec
#   cli_scale.sh  the CLI on a 10,000-session / 1,000,000-command store
#   audit_ingest.sh  Kubernetes audit events into the store, per path (events/s)
#   ship.sh       the cluster store: kubetape ship throughput, PostgreSQL bytes
#   pg_scale.sh   the cluster store's reads on 100,000 sessions / 10,000,000
#                 commands from 50 nodes (data set cached: the first run builds
#                 it, ~12 min on 2 cores, ~4.5 GB in /var/cache/kubetape-bench)
#   term.sh       the index worker's screen render rate: kt_screen vs fastvt (MB/CPU-s)
#   restart_gap.sh   a recorder restart under a 1 MB/s session: gap (ms), bytes lost
#   capture.sh    the recorder's capture path on a synthetic kernel (CPU per GiB)
#   worker.sh     the index worker alone on the flood's text (CPU per GiB)
#
# Modes: default = the figures for RESULTS.md (36 minutes on a quiet 2-core
# machine, 2026-12-06, with the pg_scale data set cached); --quick scales sizes down; --smoke runs every harness for a few
# seconds and prints PASS/FAIL lines per script (for CI: the harness works;
# thresholds are NOT checked), exit status 1 if one failed.
#
# A workload that cannot run (a missing anchor package, no qemu) shows as
# "n/a" with the reason; one that fails shows as a row saying so, and the
# rest of the suite still runs.  Needs root (BPF, containerd).  Other e2e
# runs using containerd distort the figures: the fake-pod scripts refuse to
# start while one is up (BENCH_IGNORE_OTHERS=1 overrides).
set -u
set -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
OUT=build MODE=full
for a in "$@"; do
	case "$a" in
	--quick) MODE=quick ;;
	--smoke) MODE=smoke ;;
	-h|--help) sed -n '4,30p' "$0"; exit 0 ;;
	-*) echo "run.sh: unknown option '$a'" >&2; exit 2 ;;
	*) OUT=$a ;;
	esac
done
case "$OUT" in /*) ;; *) OUT=$REPO/$OUT ;; esac
[ "$(id -u)" = 0 ] || { echo "run.sh: benchmarks need root (BPF, containerd); uid $(id -u)" >&2; exit 1; }

# The e2e lock once for the whole suite (bench/lib.sh would take it per
# script, and another e2e run slipping in between two workloads would both
# wait for the rest and distort it)
# shellcheck source=tests/lib/e2e_lock.sh
. "$REPO/tests/lib/e2e_lock.sh"
export BENCH_MODE=$MODE
WORK=$(mktemp -d /tmp/kubetape-bench-run.XXXXXX) || exit 1
export BENCH_ROWS=$WORK/rows.tsv BENCH_NOTES=$WORK/notes.txt
: >"$BENCH_ROWS"; : >"$BENCH_NOTES"
# one fake pod for every script (saves its start per script); down at exit
export FAKEPOD_DIR=${BENCH_FAKEPOD_DIR:-/tmp/kubetape-bench-fakepod} BENCH_POD_SHARED=1
trap '"$REPO/tests/lib/fakepod.sh" down >/dev/null 2>&1; rm -rf "$WORK"' EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT TERM

SCRIPTS=(flood storage many tax guest exec_tax cli_scale audit_ingest ship pg_scale term restart_gap capture worker)
T0=$(date +%s)
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
npass=0 nfail=0 TIMES=""
for s in "${SCRIPTS[@]}"; do
	f=$HERE/$s.sh
	t=$(date +%s%N)
	if [ ! -x "$f" ]; then
		printf '%s\t%s\tn/a\t\t\t0\t\t-\t%s\n' "$s" "(workload)" "bench/$s.sh not written yet" >>"$BENCH_ROWS"
		[ "$MODE" = smoke ] && { echo "FAIL bench_$s: bench/$s.sh missing"; nfail=$((nfail + 1)); }
		continue
	fi
	echo "run.sh: === $s ($MODE) ===" >&2
	before=$(wc -l <"$BENCH_ROWS")
	"$f" "$OUT" "--$MODE" 2>"$WORK/$s.log"
	rc=$?
	ms=$((($(date +%s%N) - t) / 1000000))
	TIMES+="$s $((ms / 1000)) s, "
	[ "$MODE" = smoke ] || tail -n +1 "$WORK/$s.log" | grep -E '^\[[a-z_]+\] .*(median|n/a|note)' >&2
	rows=$(($(wc -l <"$BENCH_ROWS") - before))
	if [ "$rc" != 0 ]; then
		why="bench/$s.sh exited $rc: $(grep -v '^\[.*\] \(round\|phase\)' "$WORK/$s.log" | tail -1 | cut -c1-100)"
		printf '%s\t%s\tn/a\t\t\t0\t\t-\t%s\n' "$s" "(workload failed)" "$why" >>"$BENCH_ROWS"
		echo "run.sh: $why" >&2
		tail -15 "$WORK/$s.log" | sed 's/^/    | /' >&2
		[ "$MODE" = smoke ] && echo "FAIL bench_$s: $why"
		nfail=$((nfail + 1))
	elif [ "$rows" = 0 ]; then
		[ "$MODE" = smoke ] && echo "FAIL bench_$s: no figure produced"
		nfail=$((nfail + 1))
	else
		[ "$MODE" = smoke ] && echo "PASS bench_$s ($ms ms, $rows figures)"
		npass=$((npass + 1))
	fi
done
SECS=$(($(date +%s) - T0))

# ------------------------------------------------------------------ report
echo "run time per script: ${TIMES%, } (whole run ${SECS} s)" >>"$BENCH_NOTES"
# shellcheck disable=SC2034 # (read by bench_print_table, sourced below)
BENCH_DIR=$HERE
# shellcheck source=bench/lib.sh disable=SC1091
. <(sed -n '/^bench_print_table()/,/^}/p; /^machine_line()/,/^}/p' "$HERE/lib.sh")
MACHINE=$(machine_line)
REV=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo
echo "kubetape benchmarks ($MODE) — $DATE — $MACHINE — rev $REV — ${SECS}s"
bench_print_table "$BENCH_ROWS" text
sed 's/^/  * /' "$BENCH_NOTES"

if [ "$MODE" = full ]; then
	MD=$HERE/RESULTS.md
else
	MD=$OUT/bench-RESULTS-$MODE.md
fi
MD_CMD="bench/run.sh ${OUT#"$REPO"/}$([ "$MODE" = full ] || echo " --$MODE")" MD_MACHINE=$MACHINE MD_DATE=$DATE \
	MD_REV=$REV MD_SECS=$SECS MD_MODE=$MODE \
	python3 "$HERE/results_md.py" "$BENCH_ROWS" "$BENCH_NOTES" "$HERE/results" "$HERE/results/issue14-before.tsv" >"$MD.tmp" &&
	mv -f "$MD.tmp" "$MD" || { echo "run.sh: writing $MD failed" >&2; rm -f "$MD.tmp"; nfail=$((nfail + 1)); }
echo "run.sh: wrote ${MD#"$REPO"/}" >&2
if [ "$MODE" = smoke ]; then
	# the file's structure: the table, the before/after table, each section
	miss=""
	for h in "## The one-run table" "## Issue 14: before / after" $(sed -n 's/^## /##_/p' "$HERE"/results/*.md | tr ' ' '_'); do
		grep -qxF -- "${h//_/ }" "$MD" || miss+=" '${h//_/ }'"
	done
	if [ -z "$miss" ]; then
		echo "PASS bench_results_md"
	else
		echo "FAIL bench_results_md: ${MD#"$REPO"/} lacks$miss"
		nfail=$((nfail + 1))
	fi
fi
if [ "$MODE" = smoke ]; then
	echo "bench_smoke: $npass passed, $nfail failed (${SECS}s)" >&2
	[ "$nfail" = 0 ]
fi
