#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/fuzz/run_fuzz.sh OUT SECONDS — the fuzz campaign `make fuzz` runs.
#
# Every OUT/tests/fuzz_* (built with FUZZ=1: libFuzzer, ASan+UBSan, and
# libvterm from Debian's source with the same instrumentation) runs SECONDS
# seconds on a working corpus OUT/corpus/<name>/ that starts as a copy of
# tests/fuzz/corpus/<name>/ and keeps growing across runs.  Findings
# (crash-, leak-, timeout-, oom- files) go to OUT/findings/<name>/; add a
# fixed one to tests/fuzz/corpus/<name>/ so `make test` replays it.
#
# Prints per target "PASS fuzz <name>: <execs> execs, cov <c>, ft <f>,
# corpus <n>" or "FAIL fuzz <name>: ..."; the per-target libFuzzer log is
# OUT/logs/<name>.log.  FUZZ_JOBS=N runs N targets at once (default 1: the
# machine is shared); FUZZ_ONLY="fuzz_a fuzz_b" runs only those.  Exit
# status 1 when anything was found.
set -uo pipefail

out=${1:?usage: run_fuzz.sh OUT SECONDS}
secs=${2:-60}
jobs=${FUZZ_JOBS:-1}
cd "$(dirname "$0")/../.."
mkdir -p "$out/corpus" "$out/findings" "$out/logs"

run_one() {
	local bin=$1 name work seeds log
	name=$(basename "$bin")
	seeds=tests/fuzz/corpus/$name
	work=$out/corpus/$name
	log=$out/logs/$name.log
	mkdir -p "$work" "$out/findings/$name"
	# -timeout: a hang (the REP loop libvterm 0.1.4 has) is a finding;
	# -rss_limit_mb: 1000x1000 screens are ~60 MiB, far below it
	"$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2560 -print_final_stats=1 \
		-artifact_prefix="$out/findings/$name/" "$work" "$seeds" >"$log" 2>&1
	local rc=$? execs cov ft n found
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	n=$(find "$work" -type f | wc -l)
	found=$(find "$out/findings/$name" -type f -newer "$log.start" 2>/dev/null | wc -l)
	if [ "$rc" = 0 ] && [ "$found" = 0 ]; then
		echo "PASS fuzz $name: ${execs:-?} execs in ${secs}s, cov ${cov:-?}, ft ${ft:-?}, corpus $n"
	else
		echo "FAIL fuzz $name: exit $rc, $found finding(s) in $out/findings/$name/ (log $log), ${execs:-?} execs, cov ${cov:-?}, ft ${ft:-?}"
	fi
}

bins=()
for bin in "$out"/tests/fuzz_*; do
	[ -x "$bin" ] && [ -f "$bin" ] || continue
	if [ -n "${FUZZ_ONLY:-}" ] && [[ " $FUZZ_ONLY " != *" $(basename "$bin") "* ]]; then
		continue
	fi
	bins+=("$bin")
done
[ "${#bins[@]}" -gt 0 ] || { echo "FAIL fuzz: no targets in $out/tests (build with FUZZ=1)"; exit 1; }

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for bin in "${bins[@]}"; do
	touch "$out/logs/$(basename "$bin").log.start"
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	run_one "$bin" | tee -a "$results" &
done
wait
pass=$(grep -c '^PASS' "$results")
fail=$(grep -c '^FAIL' "$results")
echo "fuzz: $pass passed, $fail failed (${secs}s per target)"
[ "$fail" = 0 ]
