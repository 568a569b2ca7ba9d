#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/cli_scale.sh OUT [--quick|--smoke] — the auditors' CLI on a big
# store: 10,000 sessions and 1,000,000 commands (bench/gen_store.c, written
# through the store API, linked with OUT/libkubetape.a), then wall time of:
#
#   kubetape sessions --pod web-0 --namespace ns-0   (100 of 10,000 sessions)
#   kubetape show 1                                  (one session, its commands)
#   kubetape search passwd                           (~1% of the commands)
#   kubetape replay --from ... last minute of a 500 MiB, 1-hour session:
#                      time to the first byte
#
# each run 7 times (the first, cold-page-cache run included: the store was
# just written, so it is warm anyway), output to /dev/null; median/min/max.
# A command the CLI does not have yet is reported "n/a (command not built)"
# after checking `kubetape --help`.  Goal: < 50 ms each.
#
# Limits: a synthetic store (fixed argv vocabulary with a random argument);
# the timing includes process start (~2 ms).
. "$(dirname "$0")/lib.sh"

WL=cli
NSESS=$(by_mode 10000 10000 200)
NCMD=$(by_mode 1000000 300000 2000)
REPS=$(by_mode 7 5 1)
GEN=$BENCH_TMP/gen_store
cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$KT_REPO/store/include" -o "$GEN" "$BENCH_DIR/gen_store.c" \
	"$BENCH_OUT/libkubetape.a" $STORE_LIBS ||
	{ msg "cannot build gen_store against $BENCH_OUT/libkubetape.a (make first)"; exit 1; }
[ -x "$KT_CLI" ] || { msg "$KT_CLI not built"; exit 1; }

DB=$BENCH_TMP/big.db
secs=$("$GEN" "$DB" "$NSESS" "$NCMD" 2>"$BENCH_TMP/gen.log") || { cat "$BENCH_TMP/gen.log" >&2; exit 1; }
bench_note "cli: store of $NSESS sessions / $NCMD commands generated in $secs s, $(($(du -cb "$DB"* | tail -1 | cut -f1) >> 20)) MiB"

has_cmd() { "$KT_CLI" --help 2>&1 | grep -qE "^  $1 "; }
# timeit REPS CMD...: wall ms per run, one per line
timeit() {
	local n=$1 i t0 rc
	shift
	for i in $(seq "$n"); do
		t0=$(now_ns)
		"$@" >/dev/null 2>"$BENCH_TMP/cli.err"
		rc=$?
		[ "$rc" = 0 ] || { msg "'$*' exited $rc: $(head -1 "$BENCH_TMP/cli.err")"; return 1; }
		echo "$(( ($(now_ns) - t0) / 1000 ))" | awk '{ printf "%.2f\n", $1 / 1000 }'
	done
}

# sanity: the filter really selects the pod's sessions
n=$("$KT_CLI" --db "$DB" sessions --pod web-0 --namespace ns-0 --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
# shellcheck disable=SC2046
bench_row $WL "sessions --pod (${n} of $NSESS sessions)" ms "<50" \
	$(timeit "$REPS" "$KT_CLI" --db "$DB" sessions --pod web-0 --namespace ns-0)

# shellcheck disable=SC2046
bench_row $WL "show ID (a $((NCMD / NSESS))-command session)" ms - $(timeit "$REPS" "$KT_CLI" --db "$DB" show 1)

if has_cmd search; then
	# shellcheck disable=SC2046
	bench_row $WL "search passwd ($NCMD commands)" ms "<50" $(timeit "$REPS" "$KT_CLI" --db "$DB" search passwd)
else
	bench_na $WL "search WORD ($NCMD commands)" "command not built (no 'search' in kubetape --help)"
fi
if has_cmd replay && "$KT_CLI" replay --help 2>&1 | grep -q -- --from; then
	# One 500 MiB session over an hour, indexed by kt_index_session (the
	# keyframes seeking needs), then the last minute.  The seek cost is one
	# keyframe plus the rest of one chunk whatever the size; indexing takes
	# ~80 s here (quick: 16 MiB).
	BIG_MIB=${BENCH_BIG_MIB:-$(by_mode 500 16 1)} BIG_SECS=$(by_mode 3600 600 120)
	read -r bid wsecs isecs < <("$GEN" "$BENCH_TMP/bigsess.db" --big "$BIG_MIB" "$BIG_SECS" 2>/dev/null) ||
		{ msg "generating the big session failed"; bid=""; }
	if [ -n "$bid" ]; then
		bench_note "cli: replay seek session: $BIG_MIB MiB over $BIG_SECS s, written in $wsecs s, indexed (keyframes) in $isecs s"
		# time to the first byte of `replay --from` (stdout a pipe: frames at once)
		# shellcheck disable=SC2046
		bench_row $WL "replay --from last minute ($BIG_MIB MiB session): first byte" ms "<50" $(for i in $(seq "$REPS"); do
			python3 - "$KT_CLI" "$BENCH_TMP/bigsess.db" "$bid" "$((BIG_SECS - 60))s" <<-'EOF'
			import subprocess, sys, time
			t0 = time.perf_counter()
			p = subprocess.Popen([sys.argv[1], "--db", sys.argv[2], "replay", sys.argv[3], "--from", sys.argv[4], "--no-timing"],
			                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
			b = p.stdout.read(1)
			t1 = time.perf_counter()
			p.stdout.read(); p.wait()
			print("%.2f" % ((t1 - t0) * 1000) if b else "fail")
			EOF
		done)
	else
		bench_na $WL "replay --from last minute" "generating the indexed session failed"
	fi
else
	bench_na $WL "replay --from, last minute of 500 MiB" "command not built (no 'replay --from' in kubetape --help)"
fi
exit 0
