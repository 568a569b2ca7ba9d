#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/ship.sh OUT [--quick|--smoke] — the cluster store (issue 16):
# `kubetape ship --once` of a node store into a private PostgreSQL started
# here (tests/lib/pg.sh: initdb, own port on 127.0.0.1, stopped at exit).
#
#   ship throughput   recorded terminal bytes (sessions.bytes_out+bytes_in)
#                     shipped per second, whole run (connect, migrate on the
#                     first round, every batch, the final marks)
#   chunk MB/s        stored chunk bytes per second (what crosses the wire)
#   PG bytes/rec byte PostgreSQL tables + indexes + TOAST after the ship,
#                     per recorded byte
#   SQLite bytes/rec  the node store file per recorded byte (the same data)
#
# The store: one session of MIB MiB of numbered lines with random hex
# (kt_webfill big: zstd ~2:1, as build logs), indexed (keyframes, screen
# blocks, trigrams), plus 200 small sessions with commands.  Each round into
# a fresh database.  Limits: loopback, one shipper, fsync on; the server is
# on the same 2 cores.
#
#   lag, N active     steady state with 100 active sessions (full and
#                     quick; 5 in smoke), each writing a line a second,
#                     shipped by one follow-mode shipper (below); median
#                     row and a p95 row
#   flood, N active   the same sessions written as fast as the node
#                     commits: shipped MB/s (writing + drain), the node's
#                     write rate beside it, and the drain time
# (tests/e2e/pg_ship_test.sh prints the lag of one live recorded session.)
. "$(dirname "$0")/lib.sh"

WL=ship
MIB=$(by_mode 200 50 4)
ROUNDS=$(by_mode 3 2 1)
FILL=$BENCH_OUT/tests/web/kt_webfill
[ -x "$KT_CLI" ] && [ -x "$FILL" ] || { msg "$KT_CLI or $FILL not built"; exit 1; }

bench_pg_lib
pg_start "$(free_port)"

DB=$BENCH_TMP/node.db
"$FILL" "$DB" big "$MIB" >/dev/null || { msg "kt_webfill big failed"; exit 1; }
"$FILL" "$DB" populate 200 >/dev/null || { msg "kt_webfill populate failed"; exit 1; }
REC=$(sqlite3 "$DB" "SELECT sum(bytes_out + bytes_in) FROM sessions")
CHUNK=$(sqlite3 "$DB" "SELECT sum(length(data)) FROM chunks")
NODE=$(cat "$DB" "$DB-wal" 2>/dev/null | wc -c)
msg "store: $REC recorded bytes, $CHUNK chunk bytes, file $NODE bytes"

rates=() crates=() pgb=() sqb=()
for r in $(seq 1 "$ROUNDS"); do
	psql -q -X "postgresql://postgres@127.0.0.1:$PG_PORT/postgres" -c "DROP DATABASE IF EXISTS kubetape" \
		-c "CREATE DATABASE kubetape ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null
	t0=$(now_ns)
	"$KT_CLI" --db "$DB" ship --to "$PG_URL" --node-name bench --once --migrate 2>"$BENCH_TMP/ship.log" ||
		{ show "$BENCH_TMP/ship.log"; msg "round $r: ship failed"; continue; }
	t1=$(now_ns)
	psqlq "VACUUM ANALYZE" >/dev/null 2>&1
	pg=$(psqlq "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'")
	rates+=("$(awk -v b="$REC" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.3f", b / 1048576 / ((z - a) / 1e9) }')")
	crates+=("$(awk -v b="$CHUNK" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.3f", b / 1048576 / ((z - a) / 1e9) }')")
	pgb+=("$(awk -v p="$pg" -v b="$REC" 'BEGIN { printf "%.4f", p / b }')")
	sqb+=("$(awk -v p="$NODE" -v b="$REC" 'BEGIN { printf "%.4f", p / b }')")
	msg "round $r: $(((t1 - t0) / 1000000)) ms, PostgreSQL $pg bytes"
done
bench_row $WL "ship throughput (recorded output)" "MB/s" - "${rates[@]}"
bench_row $WL "ship throughput (stored chunks)" "MB/s" - "${crates[@]}"
bench_row $WL "PostgreSQL bytes per recorded byte" "ratio" - "${pgb[@]}"
bench_row $WL "node SQLite bytes per recorded byte" "ratio" - "${sqb[@]}"
bench_note "ship: $MIB MiB session + 200 small ones; one kubetape ship --once into a local PostgreSQL 15 per round (fresh database)"

# ------------------------------------------------------------------ lag, N live sessions
# N writers (kt_webfill live: one active session each, one committed chunk
# per line) append a line every second each, spread over the second, into
# one store; a follow-mode shipper (--poll-ms 200) ships it.  Every 250 ms
# the lag is sampled on the server: now - the newest chunk end_us there
# (the same clock; a line's chunk carries its write time).  Samples after a
# 3 s warm-up.  Limits: the writers are kt_webfill, not the recorder (one
# process per session, SQLite's write lock shared by them).
NL=$(by_mode 100 100 5)
DUR=$(by_mode 30 15 4)

# live_writers MODE DB NODE: NL kt_webfill `live` writers on DB (one
# active session each), shipped by one follow-mode shipper with the
# deployed default --poll-ms (500), for DUR seconds; prints figures on
# stdout (lag: one sample a line; flood: "written_bytes write_s drain_s").
#   lag    each writer a line (80 bytes) a second, round robin.  A sample
#          (every 0.25 s): for every session, the server's chunk count
#          against the node commit times kt_webfill printed ("ok <us>",
#          one chunk per line); the sample is the worst session's age of
#          its oldest line not yet on the server (0: all there), timed
#          when the server's answer is in (an upper bound by the query's
#          own time).  Not "now - newest chunk": with 100 writers some
#          session is always fresh, which hid a lagging one.
#   flood  the writers as fast as the node commits (4,000-byte lines,
#          round robin, each waiting for its commit); then the time until
#          the server holds every line (the drain).
live_writers() {
	local mode=$1 db=$2 node=$3 shipper rc
	"$FILL" "$db" populate 1 >/dev/null || { msg "kt_webfill populate failed"; return 1; }
	"$KT_CLI" --db "$db" ship --to "$PG_URL" --node-name "$node" 2>"$BENCH_TMP/ship-$node.log" &
	shipper=$!
	at_exit "kill $shipper 2>/dev/null || true"
	python3 - "$FILL" "$db" "$NL" "$DUR" "$PG_URL" "$mode" "$node" <<'PY'
import subprocess, sys, time
fill, db, n, dur, url, mode, node = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6], sys.argv[7]
procs = [subprocess.Popen([fill, db, "live"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
         for _ in range(n)]
ids = [int(p.stdout.readline()) for p in procs]  # created, its first chunk committed
commits = [[] for _ in procs]  # node commit time (s) of each line's chunk
def write(k, line):
    procs[k].stdin.write(line + "\n"); procs[k].stdin.flush()
    ok = procs[k].stdout.readline().split()
    commits[k].append(int(ok[1]) / 1e6)
def server_lines():
    q = "SELECT session_id, count(*) - 1 FROM chunks WHERE src = '%s' GROUP BY session_id" % node
    out = subprocess.run(["psql", "-X", "-A", "-t", "-F", " ", url, "-c", q], capture_output=True, text=True).stdout
    return {int(a): int(b) for a, b in (l.split() for l in out.splitlines() if l.strip())}
def worst_lag():
    have = server_lines()
    now = time.time()
    return max((now - commits[k][have.get(sid, 0)] for k, sid in enumerate(ids)
                if have.get(sid, 0) < len(commits[k])), default=0.0)
t0 = time.time()
if mode == "lag":
    i = 0; nxt = t0
    while time.time() - t0 < dur:
        for k in range(n):
            write(k, "line %d of writer %d %s" % (i, k, "x" * 60))
            time.sleep(max(0.0, t0 + i + (k + 1) / n - time.time()))
            if time.time() >= nxt:
                nxt += 0.25
                if time.time() - t0 > 3:
                    print("%.3f" % worst_lag(), flush=True)
        i += 1
else:
    pad = "y" * 3980; i = 0; written = 0
    while time.time() - t0 < dur:
        for k in range(n):
            write(k, "%08d%s" % (i, pad)); written += 4000 + 2
        i += 1
    t1 = time.time()
    while worst_lag() > 0 and time.time() - t1 < 120:
        time.sleep(0.05)
    t2 = time.time()
    print(written, "%.3f" % (t1 - t0), "%.3f" % (t2 - t1), flush=True)
for p in procs:
    p.stdin.close()
for p in procs:
    p.wait()
PY
	rc=$?
	kill "$shipper" 2>/dev/null
	wait "$shipper" 2>/dev/null
	return $rc
}

live_writers lag "$BENCH_TMP/live.db" live >"$BENCH_TMP/lag.txt" 2>"$BENCH_TMP/lag.err"
mapfile -t lags <"$BENCH_TMP/lag.txt"
[ "${#lags[@]}" -gt 0 ] || { show "$BENCH_TMP/lag.err"; msg "no lag samples"; }
bench_row $WL "lag, $NL active sessions (worst session's oldest unshipped line)" "s" "<=5" "${lags[@]}"
p95=$(printf '%s\n' "${lags[@]}" | python3 -c "import sys; v = sorted(float(x) for x in sys.stdin if x.strip()); print(v[min(len(v) - 1, int(len(v) * 0.95))] if v else 'n/a')")
[ -n "${p95:-}" ] && [ "$p95" != n/a ] && bench_row $WL "lag p95, $NL active sessions" "s" "<=5" "$p95"
bench_note "ship lag: $NL kt_webfill writers, 1 line/s each, ${DUR}s, shipper --poll-ms 500 (the default); a sample is the worst session's oldest line not yet on the server; p95 ${p95:-n/a} s over ${#lags[@]} samples"

fl=()
for r in $(seq 1 "$ROUNDS"); do
	if live_writers flood "$BENCH_TMP/flood-$r.db" "flood$r" >"$BENCH_TMP/flood.txt" 2>"$BENCH_TMP/flood.err" &&
		read -r fb fw fd <"$BENCH_TMP/flood.txt" && [ -n "${fd:-}" ]; then
		fl+=("$fb $fw $fd")
		msg "flood round $r: $fb bytes written in $fw s, on the server $fd s later"
	else
		show "$BENCH_TMP/flood.err"; msg "flood round $r failed"
	fi
done
if [ "${#fl[@]}" -gt 0 ]; then
	thr=() wr=() dr=()
	for x in "${fl[@]}"; do
		read -r fb fw fd <<<"$x"
		thr+=("$(awk -v b="$fb" -v w="$fw" -v d="$fd" 'BEGIN { printf "%.3f", b / 1048576 / (w + d) }')")
		wr+=("$(awk -v b="$fb" -v w="$fw" 'BEGIN { printf "%.3f", b / 1048576 / w }')")
		dr+=("$fd")
	done
	bench_row $WL "ship throughput, $NL active sessions (recorded output)" "MB/s" - "${thr[@]}"
	bench_row $WL "node write rate, $NL active sessions (the offered load)" "MB/s" - "${wr[@]}"
	bench_row $WL "drain after $NL writers stop" "s" "<=5" "${dr[@]}"
	bench_note "ship flood: $NL kt_webfill writers as fast as the node store commits (4,000-byte lines, a chunk each), ${DUR}s, one shipper (--poll-ms 500); throughput = bytes written / (writing + drain); when it equals the node write rate the shipper kept up and the writers are the limit"
fi
