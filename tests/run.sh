#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/run.sh OUT — kubetape's test runner (`make test` calls it).
#
# Runs, in order, printing every line as it comes:
#   unit   every $OUT/tests/test_* binary
#   fuzz   every $OUT/tests/fuzz_* on its seed corpus tests/fuzz/corpus/<name>/
#          (<name> is the binary's name, or the name without "fuzz_")
#   e2e    every tests/e2e/*.sh (root, BPF and containerd; they FAIL, never
#          skip, when those are missing)
# and ends with exactly one line "N passed, N failed" (", N skipped" when any).
#
# Each program prints "PASS name" / "FAIL name: why" (and maybe "SKIP name:
# why") lines; the runner counts them.  A program that exits non-zero, is
# killed or times out without printing a FAIL line counts as one failure
# named after it; one that exits 0 but printed no PASS/FAIL line also fails
# (it ran nothing, which is never what anyone meant).
#
# Environment:
#   KT_TEST_ONLY=unit|e2e   unit = unit + fuzz seeds; e2e = e2e scripts only
#   KT_SKIP_E2E=1           explicit opt-out of e2e (counted as skipped and
#                           announced loudly); ignored when CI=true
#   KT_TEST_TIMEOUT=S       per-program limit (default 300 unit/fuzz, 900 e2e)
#   KT_RESULTS_FILE=F       accumulate: prior "passed failed skipped" lines in
#                           F are added to this run's summary, and this run's
#                           counts are appended (.ci/run uses it so the last
#                           summary covers the sanitizer run too)
# Exit status: 0 when nothing failed.
set -uo pipefail

die() { echo "run.sh: $*" >&2; exit 2; }
[ $# -eq 1 ] || die "usage: tests/run.sh OUT   (OUT = build or build-san)"
OUT=$1
[ -d "$OUT" ] || die "build dir '$OUT' does not exist: run 'make' first"
OUT=$(cd "$OUT" && pwd)
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO" || die "cannot cd to $REPO"

ONLY=${KT_TEST_ONLY:-all}
case "$ONLY" in all|unit|e2e) ;; *) die "KT_TEST_ONLY must be unit or e2e, not '$ONLY'" ;; esac
IS_CI=0
case "${CI:-}" in true|1|yes) IS_CI=1 ;; esac

export KT_OUT=$OUT KT_REPO=$REPO

passed=0 failed=0 skipped=0
tmp=$(mktemp -d /tmp/kubetape-run.XXXXXX) || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT

# run_prog KIND NAME TIMEOUT CMD... — run one test program, stream and count
# its lines.  stderr is merged so sanitizer reports appear in place.
run_prog() {
	local kind=$1 name=$2 limit=$3; shift 3
	local p=0 f=0 s=0 line rc
	echo "--- $kind $name"
	while IFS= read -r line || [ -n "$line" ]; do
		printf '%s\n' "$line"
		case "$line" in
		"PASS "*) p=$((p + 1)) ;;
		"FAIL "*) f=$((f + 1)) ;;
		"SKIP "*)
			if [ "$kind" = e2e ] && [ "$IS_CI" = 1 ]; then
				echo "FAIL $name: e2e tests must not skip in CI (above: ${line#SKIP })"
				f=$((f + 1))
			else
				s=$((s + 1))
			fi ;;
		esac
	done < <(timeout --kill-after=10 "$limit" "$@" </dev/null 2>&1; echo $? >"$tmp/rc")
	wait $! 2>/dev/null
	rc=$(cat "$tmp/rc" 2>/dev/null || echo 125)
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		local why="exited with status $rc"
		[ "$rc" = 124 ] && why="timed out after ${limit}s"
		[ "$rc" -gt 128 ] && [ "$rc" != 255 ] && why="killed by signal $((rc - 128)) ($(kill -l $((rc - 128)) 2>/dev/null))"
		echo "FAIL $name: $why without printing a FAIL line"
		f=1
	elif [ "$rc" = 0 ] && [ $((p + f + s)) = 0 ]; then
		echo "FAIL $name: printed no PASS/FAIL line (ran no test)"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

is_prog() { [ -f "$1" ] && [ -x "$1" ]; }

if [ "$ONLY" != e2e ]; then
	for bin in "$OUT"/tests/test_*; do
		is_prog "$bin" || continue
		run_prog unit "$(basename "$bin")" "${KT_TEST_TIMEOUT:-300}" "$bin"
	done
	for bin in "$OUT"/tests/fuzz_*; do
		is_prog "$bin" || continue
		name=$(basename "$bin")
		corpus=tests/fuzz/corpus/$name
		[ -d "$corpus" ] || corpus=tests/fuzz/corpus/${name#fuzz_}
		if [ ! -d "$corpus" ]; then
			echo "--- fuzz $name"
			echo "FAIL $name: no seed corpus (tests/fuzz/corpus/$name/ or tests/fuzz/corpus/${name#fuzz_}/)"
			failed=$((failed + 1))
			continue
		fi
		run_prog fuzz "$name" "${KT_TEST_TIMEOUT:-300}" "$bin" "$corpus/"
	done
fi

if [ "$ONLY" != unit ]; then
	e2e_scripts=()
	for t in tests/e2e/*.sh; do [ -f "$t" ] && e2e_scripts+=("$t"); done
	if [ "${KT_SKIP_E2E:-0}" = 1 ] && [ "$IS_CI" = 1 ]; then
		echo "run.sh: KT_SKIP_E2E=1 is IGNORED because CI=true: CI always runs the end-to-end tests"
	fi
	if [ "${KT_SKIP_E2E:-0}" = 1 ] && [ "$IS_CI" = 0 ]; then
		echo "################################################################"
		echo "## KT_SKIP_E2E=1: SKIPPING ${#e2e_scripts[@]} end-to-end test script(s)."
		echo "## Nothing about recording real kubectl exec sessions was tested."
		echo "################################################################"
		for t in "${e2e_scripts[@]}"; do echo "SKIP $(basename "$t" .sh): KT_SKIP_E2E=1"; done
		skipped=$((skipped + ${#e2e_scripts[@]}))
	else
		for t in "${e2e_scripts[@]}"; do
			run_prog e2e "$(basename "$t" .sh)" "${KT_TEST_TIMEOUT:-900}" bash "$t"
		done
	fi
fi

if [ $((passed + failed + skipped)) = 0 ]; then
	echo "run.sh: WARNING: no tests found in $OUT/tests or tests/e2e (KT_TEST_ONLY=$ONLY)"
fi

tp=$passed tf=$failed ts=$skipped
if [ -n "${KT_RESULTS_FILE:-}" ]; then
	if [ -f "$KT_RESULTS_FILE" ]; then
		while read -r a b c _; do
			tp=$((tp + a)) tf=$((tf + b)) ts=$((ts + c))
		done <"$KT_RESULTS_FILE"
		[ "$tp/$tf/$ts" = "$passed/$failed/$skipped" ] ||
			echo "run.sh: this run: $passed passed, $failed failed, $skipped skipped; totals below include earlier runs in $KT_RESULTS_FILE"
	fi
	echo "$passed $failed $skipped $OUT $ONLY" >>"$KT_RESULTS_FILE"
fi
summary="$tp passed, $tf failed"
[ "$ts" -gt 0 ] && summary="$summary, $ts skipped"
echo "$summary"
[ "$failed" = 0 ]
