#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/many.sh OUT [--quick|--smoke] — workload 4: many concurrent tty
# sessions.  N interactive `ctr task exec --tty` sessions in the fake pod
# (each under its own ptyrun --raw, like N users' kubectl exec -it), all
# started together; each writes RATE KiB every second for SECS seconds (a
# 1 MiB block of base64 text, cut to RATE KiB by dd, then `sleep 1`), while
# kubetape-recorder records them all.  Per round:
#
#   loss        store bytes_out per session vs the exact bytes it emitted
#               (SECS x the slice, its "\n" counted twice for the pty's
#               "\r\n"), lost bytes/events from the store and the kernel
#   CPU         recorder user+sys seconds over the round (and per GiB),
#               its worker children (screen indexer) included
#   start       execve -> session row: the session's start_us (the kernel's
#               exec timestamp) to the first `kubetape sessions --active`
#               poll (every 50 ms, what an auditor's view shows) that lists
#               it; p50 and p99 over the N sessions, while the others flood
#   throughput  what the N sessions achieved together (MB/s)
#
# Scale, honestly: the brief asks for 100 sessions x 1 MiB/s x 30 s.  On a
# 2-core machine one `ctr task exec` flood moves ~20 MB/s through shim, fifo
# and ptys in total, so 100 MiB/s cannot be offered at all; the default run
# keeps 100 sessions and 30 s but offers 64 KiB/s each (6.25 MiB/s
# together: at 128 KiB/s the rounds took 60-70 s instead of 30, the box
# saturated, recorder included), BENCH_MANY_KIBPS=1024 asks for the full
# rate (writers then block on their pty and the achieved rate shows).
# Env: BENCH_MANY_N, BENCH_MANY_KIBPS, BENCH_MANY_SECS, BENCH_RUNS.
. "$(dirname "$0")/lib.sh"

WL=many
N=${BENCH_MANY_N:-$(by_mode 100 50 3)}
KIBPS=${BENCH_MANY_KIBPS:-$(by_mode 64 64 64)}
SECS=${BENCH_MANY_SECS:-$(by_mode 30 10 2)}
RUNS=${BENCH_RUNS:-$(by_mode 5 2 1)}
for c in "$KT_REC" "$KT_CLI" "$PTYRUN"; do
	[ -x "$c" ] || { msg "$c not built (make)"; exit 1; }
done
pod_up || exit 1

BLOCK=$FAKEPOD_DIR/rootfs/tmp/ktb-many-block
WRITER=$FAKEPOD_DIR/rootfs/tmp/ktb-many.sh
at_exit 'rm -f "$BLOCK" "$WRITER"'
head -c $((3 << 19)) /dev/urandom | base64 | head -c $((1 << 20)) >"$BLOCK"
cat >"$WRITER" <<-EOF
	i=0
	while [ \$i -lt $SECS ]; do
		dd if=/tmp/ktb-many-block bs=1024 count=$KIBPS 2>/dev/null
		sleep 1
		i=\$((i + 1))
	done
EOF
# exact bytes each session's client receives: SECS slices, "\n" -> "\r\n"
SLICE=$(head -c $((KIBPS * 1024)) "$BLOCK" | wc -c)
NL=$(head -c $((KIBPS * 1024)) "$BLOCK" | tr -cd '\n' | wc -c)
EXPECT=$((SECS * (SLICE + NL)))

pids=()
at_exit 'kill -TERM "${pids[@]}" 2>/dev/null || true'	# interrupted: no client left behind
LOSS=() CPU=() CPUGIB=() HWM=() IHWM=() P50=() P99=() MBPS=() WALL=()
for r in $(seq "$RUNS"); do
	db=$BENCH_TMP/many-$r.db
	rec_start "$db" || exit 1
	cpu0=$(cpu_tree_s "$REC_PID")
	# poller: first time each session id is listed (epoch us), plus start_us
	python3 - "$KT_CLI" "$db" "$BENCH_TMP/seen-$r" "$N" "$CONTAINER_ID" <<-'EOF' &
	import json, subprocess, sys, time
	cli, db, out, n, cid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
	seen, deadline = {}, time.time() + 600
	while len(seen) < n and time.time() < deadline:
	    p = subprocess.run([cli, "--db", db, "sessions", "--active", "--json"], capture_output=True)
	    t = time.time_ns() // 1000
	    try:
	        for s in json.loads(p.stdout or b"[]"):
	            if s.get("container_id") == cid:
	                seen.setdefault(s["id"], (t, s["start_us"]))
	    except ValueError:
	        pass
	    time.sleep(0.05)
	with open(out, "w") as f:
	    for i, (t, st) in seen.items():
	        f.write("%d %d %d\n" % (i, st, t))
	EOF
	POLL=$!
	t0=$(now_ns)
	pids=()
	for i in $(seq "$N"); do
		ctr_tty sh /tmp/ktb-many.sh
		timeout 900 "$PTYRUN" --raw --out /dev/null -- "${CTR_ARGV[@]}" >/dev/null 2>&1 </dev/null &
		pids+=($!)
	done
	fails=0
	for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
	t1=$(now_ns)
	wait "$POLL"
	wait_ended "$db" "$N" 60 || msg "round $r: not all $N sessions ended within 60 s"
	cpu1=$(cpu_tree_s "$REC_PID")
	HWM+=("$(awk -v k="$(hwm_kib "$REC_PID")" 'BEGIN { printf "%.1f", k / 1024 }')")
	IHWM+=("$(awk -v k="$(child_hwm_kib "$REC_PID")" 'BEGIN { printf "%.1f", k / 1024 }')")
	rec_stop
	foreign=$(foreign_sessions "$db")
	[ "$foreign" = 0 ] || bench_note "many: round $r: $foreign other session(s) on this node were recorded meanwhile (another test running?): that round is disturbed"
	[ "$fails" = 0 ] || msg "round $r: $fails clients exited non-zero"
	read -r got short lost n_s < <(kt_json "$db" "'%d %d %d %d' % (sum(s['bytes_out'] for s in d), sum(1 for s in d if s['bytes_out'] != $EXPECT), sum(s['lost_bytes'] for s in d), len(d))" sessions)
	klost=$(python3 -c "import json; k=json.load(open('$db.stats'))['kernel']; print(k['lost_bytes'])" 2>/dev/null || echo 0)
	LOSS+=("$((N * EXPECT - got))")
	WALL+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')")
	MBPS+=("$(awk -v b="$got" -v a="$t0" -v c="$t1" 'BEGIN { printf "%.2f", b / ((c - a) / 1e9) / 1e6 }')")
	CPU+=("$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.2f", b - a }')")
	CPUGIB+=("$(awk -v a="$cpu0" -v b="$cpu1" -v g="$got" 'BEGIN { printf "%.3f", (b - a) / (g / 1073741824) }')")
	read -r p50 p99 < <(awk '{ print ($3 - $2) / 1000 }' "$BENCH_TMP/seen-$r" | sort -g | awk '
		{ v[NR] = $1 } END { if (!NR) { print "nan nan"; exit }
		i50 = int(0.5 * NR + 0.5); i99 = int(0.99 * NR + 0.5); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
		printf "%.1f %.1f\n", v[i50], v[i99] }')
	P50+=("$p50") P99+=("$p99")
	msg "round $r: $n_s sessions, $got of $((N * EXPECT)) bytes ($short sessions short), store lost $lost, kernel lost $klost; start p50 $p50 ms p99 $p99 ms; ${WALL[-1]} s; recorder ${CPU[-1]} CPU-s"
	rm -f "$db" "$db"-*
done

bench_row $WL "$N sessions x $KIBPS KiB/s x ${SECS}s: bytes missing" bytes "==0" "${LOSS[@]}"
bench_row $WL "achieved throughput, all sessions" MB/s - "${MBPS[@]}"
bench_row $WL "wall time (offered ${SECS}s)" s - "${WALL[@]}"
bench_row $WL "session start (execve -> row) p50" ms - "${P50[@]}"
bench_row $WL "session start (execve -> row) p99" ms - "${P99[@]}"
bench_row $WL "recorder CPU per round" CPU-s - "${CPU[@]}"
bench_row $WL "recorder CPU per GiB" CPU-s/GiB "<=2" "${CPUGIB[@]}"
bench_row $WL "recorder peak RSS, $N sessions" MiB "<64" "${HWM[@]}"
bench_row $WL "indexer worker peak RSS, $N sessions" MiB - "${IHWM[@]}"
bench_note "many: $N sessions offered $KIBPS KiB/s each for ${SECS} s ($(awk -v n="$N" -v k="$KIBPS" 'BEGIN { printf "%.1f", n * k / 1024 }') MiB/s together), $RUNS rounds; start latency polled every 50 ms through the CLI (resolution ~60 ms)"
exit 0
