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
# (tests/e2e/pg_ship_test.sh prints the lag of one live recorded session.)
. "$(dirname "$0")/lib.sh"

WL=ship
MIB=$(by_mode 200 50 4)
ROUNDS=$(by_mode 3 2 1)
FILL=$BENCH_OUT/tests/web/kt_webfill
[ -x "$KT_CLI" ] && [ -x "$FILL" ] || { msg "$KT_CLI or $FILL not built"; exit 1; }

bench_pg_lib
pg_start $((56000 + $$ % 1000))

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
LDB=$BENCH_TMP/live.db
"$FILL" "$LDB" populate 1 >/dev/null || { msg "kt_webfill populate failed"; exit 1; }
"$KT_CLI" --db "$LDB" ship --to "$PG_URL" --node-name live --poll-ms 200 2>"$BENCH_TMP/ship-live.log" &
SHIPPER=$!
at_exit "kill $SHIPPER 2>/dev/null; wait $SHIPPER 2>/dev/null"
python3 - "$FILL" "$LDB" "$NL" "$DUR" "$PG_URL" >"$BENCH_TMP/lag.txt" 2>"$BENCH_TMP/lag.err" <<'PY'
import subprocess, sys, time
fill, db, n, dur, url = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
procs = [subprocess.Popen([fill, db, "live"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
         for _ in range(n)]
for p in procs:
    p.stdout.readline()  # its session id: created
def lag_s():
    q = ("SELECT (extract(epoch FROM clock_timestamp()) * 1e6)::bigint - max(end_us)"
         " FROM chunks WHERE src = 'live'")
    out = subprocess.run(["psql", "-X", "-A", "-t", url, "-c", q], capture_output=True, text=True).stdout.strip()
    return int(out) / 1e6 if out else None
t0 = time.time(); i = 0; nxt = t0
while time.time() - t0 < dur:
    for k, p in enumerate(procs):
        p.stdin.write("line %d of writer %d %s\n" % (i, k, "x" * 60)); p.stdin.flush()
        time.sleep(1.0 / n / 2)
        if time.time() >= nxt:
            nxt += 0.25
            v = lag_s()
            if v is not None and time.time() - t0 > 3:
                print("%.3f" % v, flush=True)
    i += 1
for p in procs:
    p.stdin.close()
for p in procs:
    p.wait()
PY
mapfile -t lags <"$BENCH_TMP/lag.txt"
[ "${#lags[@]}" -gt 0 ] || { show "$BENCH_TMP/lag.err"; msg "no lag samples"; }
bench_row $WL "lag, $NL active sessions (samples of now - newest on server)" "s" "<=5" "${lags[@]}"
p95=$(printf '%s\n' "${lags[@]}" | python3 -c "import sys; v = sorted(float(x) for x in sys.stdin if x.strip()); print(v[min(len(v) - 1, int(len(v) * 0.95))] if v else 'n/a')")
[ -n "${p95:-}" ] && [ "$p95" != n/a ] && bench_row $WL "lag p95, $NL active sessions" "s" "<=5" "$p95"
bench_note "ship lag: $NL kt_webfill writers, 1 line/s each, ${DUR}s; p95 ${p95:-n/a} s over ${#lags[@]} samples"
