#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/restart_gap.sh OUT [--quick|--smoke] — a recorder restart under a
# session printing 1 MB/s (issue 9's figure).  The recorder runs with
# pinned kernel state (its own --pin-dir, removed at exit), as deployed.
# Per round, alternately SIGTERM and kill -9:
#
#   absent      signal sent -> the next recorder says "ready" (ms): how long
#               no recorder reads.  The kernel side never stops capturing,
#               so this is not a capture gap; it is how long the rings hold
#               the backlog (restart = start right after the old one exits)
#   lost        bytes the session lost across the restart (its lost_bytes)
#               and whether its recording equals the client's bytes
#   rate        the session's achieved output rate (MB/s)
#
# The session prints 1 MB + "\r\n" at the start of every second (paced by
# bash's $SECONDS: a fixed sleep after each write gave ~0.5 MB/s on a
# loaded 2-core machine) for SECS seconds; the restart happens after a
# third of it.  With the default 16 MiB ring, 1 MB/s
# would need 16 s of absence to lose anything.  Env: BENCH_RESTART_SECS,
# BENCH_RUNS.
. "$(dirname "$0")/lib.sh"

WL=restart
SECS=${BENCH_RESTART_SECS:-$(by_mode 9 6 3)}
RUNS=${BENCH_RUNS:-$(by_mode 6 2 2)}
for c in "$KT_REC" "$KT_CLI" "$PTYRUN"; do
	[ -x "$c" ] || { msg "$c not built (make)"; exit 1; }
done
PIN=/sys/fs/bpf/kubetape-bench-restart-$$
at_exit '"$KT_REC" --unpin --pin-dir "$PIN" >/dev/null 2>&1'
pod_up || exit 1

cat >"$BENCH_TMP/rate.script" <<EOF
expect "# " 20
send "s=\$SECONDS; i=0; while [ \$i -lt $SECS ]; do head -c 1000000 /dev/zero | tr '\\\\0' x; echo; i=\$((i + 1)); while [ \$SECONDS -lt \$((s + i)) ]; do sleep 0.02; done; done; echo RATE-DONE\\r"
expect "^RATE-DONE" $((SECS * 4 + 20))
send "exit\\r"
wait-exit 10
EOF

term_ms=() kill_ms=() lost=() rates=() exact=0
for r in $(seq "$RUNS"); do
	sig=$([ $((r % 2)) = 1 ] && echo TERM || echo KILL)
	db=$BENCH_TMP/r$r.db
	rec_start "$db" --pin-dir "$PIN" || exit 1
	ctr_tty bash
	t_start=$(now_ns)
	"$PTYRUN" --raw --script "$BENCH_TMP/rate.script" --out "$BENCH_TMP/r$r.out" -- "${CTR_ARGV[@]}" \
		>"$BENCH_TMP/r$r.ptylog" 2>&1 </dev/null &
	cpid=$!
	wait_active "$db" 1 20 || { msg "round $r: no active session"; exit 1; }
	sleep "$(awk "BEGIN { print $SECS / 3 }")"
	t0=$(now_ns)
	kill -"$sig" "$REC_PID"
	wait "$REC_PID" 2>/dev/null
	REC_PID=""
	cp "$db.log" "$db.log.1"
	rec_start "$db" --pin-dir "$PIN" || exit 1
	t1=$(now_ns)
	ms=$(((t1 - t0) / 1000000))
	grep -q "adopted the kernel state" "$db.log" || { msg "round $r: the new recorder did not adopt the pinned state"; exit 1; }
	wait "$cpid"
	t_end=$(now_ns)
	wait_ended "$db" 1 20 || { msg "round $r: the session did not end"; exit 1; }
	rec_stop
	id=$(kt_json "$db" "d[0]['id']" sessions)
	l=$(kt_json "$db" "d['session']['lost_bytes']" show "$id")
	"$KT_CLI" --db "$db" cat "$id" >"$BENCH_TMP/r$r.rec" 2>/dev/null
	same=no
	cmp -s "$BENCH_TMP/r$r.rec" "$BENCH_TMP/r$r.out" && same=yes && exact=$((exact + 1))
	bytes=$(stat -c %s "$BENCH_TMP/r$r.out")
	rate=$(awk "BEGIN { printf \"%.2f\", $bytes / (($t_end - $t_start) / 1e9) / 1e6 }")
	msg "round $r: SIG$sig -> ready $ms ms; session $bytes bytes at $rate MB/s, lost $l bytes, recording identical: $same"
	if [ "$sig" = TERM ]; then term_ms+=("$ms"); else kill_ms+=("$ms"); fi
	lost+=("$l") rates+=("$rate")
	rm -f "$db"*
done
[ ${#term_ms[@]} -gt 0 ] && bench_row "$WL" "SIGTERM -> next recorder ready (no recorder reads; capture goes on)" ms - "${term_ms[@]}"
[ ${#kill_ms[@]} -gt 0 ] && bench_row "$WL" "kill -9 -> next recorder ready (no recorder reads; capture goes on)" ms - "${kill_ms[@]}"
bench_row "$WL" "bytes lost across a restart, session at 1 MB/s" bytes "<=0" "${lost[@]}"
bench_row "$WL" "that session's achieved output rate" MB/s - "${rates[@]}"
bench_note "restart: $exact of $RUNS recordings byte-identical to what the client received across the restart (16 MiB ring: 1 MB/s needs 16 s without a recorder to lose anything)"
