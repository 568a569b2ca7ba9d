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
#   kubetape replay --from ... on a 500 MiB session  (time to the first frame)
#
# each run 7 times (the first, cold-page-cache run included: the store was
# just written, so it is warm anyway), output to /dev/null; median/min/max.
# A command the CLI does not have yet is reported "n/a (command not built)"
# after checking `kubetape --help`.  Goal: < 50 ms each.
#
# Limits: a synthetic store (fixed argv vocabulary with a random argument);
# the timing includes process start (~2 ms).  The 500 MiB session is only
# generated when `replay` exists (it would take minutes otherwise).
. "$(dirname "$0")/lib.sh"

WL=cli
NSESS=$(by_mode 10000 10000 200)
NCMD=$(by_mode 1000000 300000 2000)
REPS=$(by_mode 7 5 1)
GEN=$BENCH_TMP/gen_store
cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$KT_REPO/store" -o "$GEN" "$BENCH_DIR/gen_store.c" \
	"$BENCH_OUT/libkubetape.a" -lsqlite3 -lzstd -ljansson -lvterm -lm ||
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
	bench_na $WL "replay --from, last minute of 500 MiB" "replay --from exists but this benchmark does not drive it yet"
else
	bench_na $WL "replay --from, last minute of 500 MiB" "command not built (no 'replay --from' in kubetape --help)"
fi
exit 0
