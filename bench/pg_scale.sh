#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/pg_scale.sh OUT [--quick|--smoke] — the cluster store's read side at
# scale (issue 16): `sessions` filters and command search on a PostgreSQL
# holding 100,000 sessions and ~10,000,000 commands from 50 nodes.  Goal:
# median under 100 ms per query shape.
#
# The data: bench/pg_scale_gen.sql (generate_series, skewed namespaces,
# apps, pods and argv templates, six weeks; see its header) loaded into the
# schema `kubetape ship --migrate` creates, then the schema's own indexes
# built.  Sizes by mode: full 50 nodes / 100,000 sessions / 10,000,000
# commands; quick 50 / 20,000 / 1,000,000; smoke 10 / 1,000 / 50,000.
#
# Cache: building the full set takes minutes on 2 cores (load ~3 min, the
# trigram GIN index several more), so full and quick keep the server's data
# directory in $BENCH_PG_CACHE (default /var/cache/kubetape-bench/, ~6 GB
# for full) under a key hashing the generator, the PostgreSQL schema
# the sizes and the server version; a changed generator builds a new one
# (older ones are removed).  A set made under an older PostgreSQL schema is
# brought up to date by `kubetape ship --migrate` (as a server in the field:
# new indexes are built on the full tables; the time is logged).  The
# queries only read.  Smoke builds in a temporary directory.
#
# Each query shape: 2 warm-up runs, then ROUNDS timed runs on one psql
# connection, through a cursor as the reader runs it (\timing: client round
# trips, rows transferred), median/min/max.
# The SQL is what the read backend (store/pg/pgr_*.c) issues for the CLI's
# filters; with the CLI built against it, `kubetape --db postgres://
# sessions|search` is timed too (whole process: connect, query, print).
# The plan of each shape (EXPLAIN DECLARE) is written to
# OUT/pg_scale-explain.txt.
#
# Takes no recorder, pod or containerd: the e2e lock is not needed.
# BENCH_PG_URL=postgres://… times a server already holding a data set.
# Server settings: PostgreSQL 15 defaults but shared_buffers=1GB (the
# tables and indexes of the full set are ~5 GB; the rest is the page cache).
KT_E2E_LOCKED=${KT_E2E_LOCKED:-pg_scale}
. "$(dirname "$0")/lib.sh"

WL=pg_scale
NODES=$(by_mode 50 50 10)
SESSIONS=$(by_mode 100000 20000 1000)
COMMANDS=$(by_mode 10000000 1000000 50000)
ROUNDS=$(by_mode 9 9 3)
FILL=$BENCH_OUT/tests/web/kt_webfill
[ -x "$KT_CLI" ] && [ -x "$FILL" ] || { msg "$KT_CLI or $FILL not built"; exit 1; }

bench_pg_lib
pg_require
PG_PORT=$(free_port)
PG_OPTS="-c shared_buffers=1GB -c effective_cache_size=8GB"
PGVER=$("$PG_BIN/postgres" --version)
KEY=$(cat "$BENCH_DIR/pg_scale_gen.sql" |
	{ cat; echo "$NODES $SESSIONS $COMMANDS $PGVER"; } | sha256sum | cut -c1-16)
if [ "$BENCH_MODE" = smoke ]; then
	# not under $BENCH_TMP (0700 root): the server runs as postgres
	CACHE=$(mktemp -d /tmp/kubetape-pg-scale.XXXXXX) || fatal mktemp "mktemp failed"
	at_exit 'rm -rf "$CACHE"'
else
	CACHE=${BENCH_PG_CACHE:-/var/cache/kubetape-bench}
fi
mkdir -p "$CACHE" && chmod 755 "$CACHE" || fatal cache "cannot create $CACHE"
SET=pg-scale-$BENCH_MODE-$KEY
PG_DIR=$CACHE/$SET
at_exit pg_stop

# pg_why: the server log's last FATAL/HINT/ERROR lines (why it did not start)
pg_why() {
	grep -E 'FATAL|HINT|ERROR' "$PG_DIR/server.log" 2>/dev/null | tail -n 3 >"$BENCH_TMP/pg-why.txt"
	show "$BENCH_TMP/pg-why.txt"
}

# the schema exactly as the shipper makes it (migrating an empty store)
migrate() {
	local t0
	[ -f "$BENCH_TMP/empty.db" ] || "$FILL" "$BENCH_TMP/empty.db" populate 0 >/dev/null 2>&1 ||
		fatal schema "kt_webfill failed"
	t0=$(now_ns)
	"$KT_CLI" --db "$BENCH_TMP/empty.db" ship --to "$PG_URL" --node-name gen-schema --once --migrate \
		>"$BENCH_TMP/migrate.log" 2>&1 || { show "$BENCH_TMP/migrate.log"; fatal schema "kubetape ship --migrate failed"; }
	grep -q 'schema migrated' "$BENCH_TMP/migrate.log" &&
		msg "schema migrated in $((($(now_ns) - t0) / 1000000)) ms: $(grep -o 'from version.*' "$BENCH_TMP/migrate.log")"
	# what that store held (kt_webfill writes a session even for 0) goes
	psqlq "DO \$\$ DECLARE t text; BEGIN
		FOR t IN SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
			WHERE c.relkind = 'r' AND a.attname = 'src' AND c.relnamespace = 'public'::regnamespace LOOP
			EXECUTE format('DELETE FROM %I WHERE src = %L', t, 'gen-schema');
		END LOOP; END \$\$" >/dev/null || fatal schema "cannot remove the schema store's rows"
	# and vacuumed away as autovacuum would on a server in use: a page
	# with dead rows is not all-visible, and the search's index-only walk
	# (schema step 4) fetches heap tuples there (INDEX_CLEANUP ON: with
	# few dead rows VACUUM would leave them; ~10 s on the full set)
	psqlq "VACUUM (INDEX_CLEANUP ON) sessions, commands" >/dev/null || fatal schema "VACUUM failed"
}

build_set() {
	local tmp=$CACHE/$SET.building t0 node
	rm -rf "$tmp"
	mkdir -p "$tmp" && chown postgres: "$tmp" && chmod 700 "$tmp"
	PG_DIR=$tmp
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E SQL_ASCII --locale=C \
		>"$BENCH_TMP/initdb.log" 2>&1 || { show "$BENCH_TMP/initdb.log"; fatal initdb "initdb failed"; }
	pg_restart || { pg_why; fatal pg_start "postgres did not start on 127.0.0.1:$PG_PORT"; }
	PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/kubetape"
	psql -q -X "postgresql://postgres@127.0.0.1:$PG_PORT/postgres" -c \
		"CREATE DATABASE kubetape ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null ||
		fatal createdb "CREATE DATABASE failed"
	migrate
	msg "generating $NODES nodes, $SESSIONS sessions, ~$COMMANDS commands (cached in $CACHE)"
	t0=$(now_ns)
	psql -X -q -v ON_ERROR_STOP=1 -v nodes="$NODES" -v sessions="$SESSIONS" -v commands="$COMMANDS" \
		-f "$BENCH_DIR/pg_scale_gen.sql" "$PG_URL" >"$BENCH_TMP/gen.log" 2>&1 ||
		{ show "$BENCH_TMP/gen.log"; fatal generate "bench/pg_scale_gen.sql failed"; }
	msg "generated in $((($(now_ns) - t0) / 1000000000)) s"
	pg_stop
	# older sets of this mode: a changed generator or schema made them stale
	for node in "$CACHE"/pg-scale-"$BENCH_MODE"-*; do
		[ "$node" != "$tmp" ] && [ -d "$node" ] && rm -rf "$node"
	done
	mv "$tmp" "$CACHE/$SET"
	PG_DIR=$CACHE/$SET
}

if [ -n "${BENCH_PG_URL:-}" ]; then
	# a server already holding a data set (index experiments): only read
	PG_URL=$BENCH_PG_URL
	PG_DIR=""
else
	if [ -f "$PG_DIR/data/PG_VERSION" ]; then
		msg "using the cached data set $PG_DIR"
	else
		build_set
	fi
	pg_restart || { pg_why; fatal pg_start "postgres did not start on the data set $PG_DIR (127.0.0.1:$PG_PORT)"; }
	PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/kubetape"
	# a set generated under an older schema gets this build's migration
	# steps, as a server in the field would (indexes built on full tables)
	migrate
fi
read -r NS NC NN <<<"$(psqlq "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM commands), (SELECT count(DISTINCT src) FROM sessions)" | tr '|' ' ')"
SIZE=$(psqlq "SELECT pg_size_pretty(pg_database_size('kubetape'))")
msg "data set: $NS sessions, $NC commands, $NN nodes, $SIZE"

# Parameters taken from the data: the newest start, a pod of a hot
# namespace, a pod of a cold one, a rare token (a random hex of one command)
LAST=$(psqlq "SELECT max(start_us) FROM sessions")
WEEK=$((LAST - 7 * 86400 * 1000000))
POD_RARE=$(psqlq "SELECT pod FROM sessions WHERE k8s_namespace = 'dev-bob' ORDER BY id LIMIT 1")
POD_SUB=${POD_RARE%-*}
TOKEN=$(psqlq "SELECT split_part(argv_text, '/tmp/', 2) FROM commands WHERE argv_text LIKE 'rm -rf /tmp/%' LIMIT 1")
[ -n "$POD_RARE" ] && [ -n "$TOKEN" ] || fatal params "the data set lacks the expected rows"

# The shapes, as the read backend (store/pg/pgr_session.c, pgr_command.c)
# writes them for the CLI (newest session first: gid) and the web (by start
# time, limit + 1, and the total): NAME<TAB>SQL, one line each.  Search as
# kt_search_plan_make splits it: one ILIKE per word, newest session first,
# its latest command first; the CLI's default limit is 1000, the web's 50.
COLS="s.src, s.id, s.gid, s.uuid, s.start_us, s.end_us, s.state, s.node, s.k8s_namespace, s.pod, s.container, s.leader_comm, s.has_tty, s.bytes_out, s.bytes_in, s.n_commands, s.first_command"
# search (store/pg/pgr_command.c, schema steps 4 and 5): the hits' keys
# with their sessions' columns in order with the limit (words on m,
# filters on s), then the hits' whole command rows
HCOLS=${COLS//s./h.}
# the session's command trigrams (schema step 8) after the session
# filters, as pgr_command.c writes it; the mask is the OR of the words of
# 3 or more bytes by tests/lib/pg.sh's SQL form of the documented hash,
# folded to a constant when planned as the reader's parameter is
pg_tri_fn || fatal schema "cannot create kt_tri_bits"
# tri WORDS: the filter's SQL, "" when no word has 3 bytes
tri() {
	local w m=""
	for w in $1; do
		[ ${#w} -ge 3 ] && m="${m:+$m | }kt_tri_bits('$w')"
	done
	[ -n "$m" ] && printf '%s' " AND coalesce((s.cmd_bloom & ($m)) = ($m), true)"
}
# sq WHERE LIMIT WORDS
sq() {
	printf '%s' "SELECT $HCOLS, c.seq, c.ts_us, c.end_us, c.exit_status, c.uid, c.argv, c.argv_text, c.cwd FROM (SELECT $COLS, m.src AS h_src, m.session_id AS h_sid, m.seq AS h_seq FROM commands m JOIN sessions s ON s.src = m.src AND s.id = m.session_id WHERE true $1$(tri "$3") ORDER BY s.gid DESC, m.seq DESC LIMIT $2) h JOIN commands c ON c.src = h.h_src AND c.session_id = h.h_sid AND c.seq = h.h_seq ORDER BY h.gid DESC, h.h_seq DESC"
}
# --node: two branches, the recorder's node name and the shipping node's,
# each newest first by its index (schema step 7), merged (pgr_command.c)
# sqn WHERE NODE LIMIT WORDS
sqn() {
	local br="SELECT $COLS, m.src AS h_src, m.session_id AS h_sid, m.seq AS h_seq FROM commands m JOIN sessions s ON s.src = m.src AND s.id = m.session_id WHERE true $1"
	local t
	t=$(tri "$4")
	printf '%s' "SELECT $HCOLS, c.seq, c.ts_us, c.end_us, c.exit_status, c.uid, c.argv, c.argv_text, c.cwd FROM (SELECT * FROM (($br AND s.node = '$2'$t ORDER BY s.gid DESC, m.seq DESC LIMIT $3) UNION ALL ($br AND s.src = '$2' AND s.node IS DISTINCT FROM '$2'$t ORDER BY s.gid DESC, m.seq DESC LIMIT $3)) u ORDER BY gid DESC, h_seq DESC LIMIT $3) h JOIN commands c ON c.src = h.h_src AND c.session_id = h.h_sid AND c.seq = h.h_seq ORDER BY h.gid DESC, h.h_seq DESC"
}
q() { printf '%s\t%s\n' "$1" "$2"; }
QUERIES=$BENCH_TMP/queries.tsv
{
	q "sessions --limit 50" "SELECT $COLS FROM sessions s WHERE true ORDER BY gid DESC LIMIT 50"
	q "web list (by start, 51)" "SELECT $COLS FROM sessions s WHERE true ORDER BY start_us DESC, gid DESC LIMIT 51"
	q "web list total" "SELECT count(*) FROM sessions s WHERE true"
	q "sessions --namespace payments" "SELECT $COLS FROM sessions s WHERE true AND s.k8s_namespace = 'payments' ORDER BY gid DESC LIMIT 50"
	q "sessions --namespace sandbox (rare)" "SELECT $COLS FROM sessions s WHERE true AND s.k8s_namespace = 'sandbox' ORDER BY gid DESC LIMIT 50"
	q "sessions --pod (rare)" "SELECT $COLS FROM sessions s WHERE true AND s.pod = '$POD_RARE' ORDER BY gid DESC LIMIT 50"
	q "sessions --node node-07 --since 7d" "SELECT $COLS FROM sessions s WHERE true AND (s.node = 'node-07' OR s.src = 'node-07') AND (s.end_us = 0 OR s.end_us >= $WEEK) ORDER BY gid DESC LIMIT 50"
	q "sessions --active" "SELECT $COLS FROM sessions s WHERE true AND s.state = 0 ORDER BY gid DESC LIMIT 50"
	q "sessions --namespace payments, a week 3 weeks ago" "SELECT $COLS FROM sessions s WHERE true AND s.k8s_namespace = 'payments' AND s.start_us <= $((WEEK - 14 * 86400000000)) AND (s.end_us = 0 OR s.end_us >= $((WEEK - 21 * 86400000000))) ORDER BY gid DESC LIMIT 50"
	q "web pod substring (rare)" "SELECT $COLS FROM sessions s WHERE true AND strpos(lower(s.pod), lower('$POD_SUB')) > 0 ORDER BY start_us DESC, gid DESC LIMIT 51"
	q "web pod substring total" "SELECT count(*) FROM sessions s WHERE true AND strpos(lower(s.pod), lower('$POD_SUB')) > 0"
	q "web pod substring (rare), as ILIKE (v2 index)" "SELECT $COLS FROM sessions s WHERE true AND s.pod ILIKE '%$POD_SUB%' ORDER BY start_us DESC, gid DESC LIMIT 51"
	q "web pod substring total, as ILIKE (v2 index)" "SELECT count(*) FROM sessions s WHERE true AND s.pod ILIKE '%$POD_SUB%'"
	q "web namespace substring PAY" "SELECT $COLS FROM sessions s WHERE true AND strpos(lower(s.k8s_namespace), lower('PAY')) > 0 ORDER BY start_us DESC, gid DESC LIMIT 51"
	q "search rm -rf" "$(sq "AND m.argv_text ILIKE '%rm%' AND m.argv_text ILIKE '%-rf%'" 1000 "rm -rf")"
	q "search /proc/1/environ (0.9% of commands)" "$(sq "AND m.argv_text ILIKE '%/proc/1/environ%'" 1000 /proc/1/environ)"
	q "search a unique token" "$(sq "AND m.argv_text ILIKE '%$TOKEN%'" 1000 "$TOKEN")"
	q "search, no match" "$(sq "AND m.argv_text ILIKE '%zqxjv-none%'" 1000 zqxjv-none)"
	q "search ls (short, common)" "$(sq "AND m.argv_text ILIKE '%ls%'" 1000 ls)"
	q "search password (0.5% of commands)" "$(sq "AND m.argv_text ILIKE '%password%'" 1000 password)"
	q "search password (web, 51)" "$(sq "AND m.argv_text ILIKE '%password%'" 51 password)"
	q "search password --namespace payments --since 7d" "$(sq "AND m.argv_text ILIKE '%password%' AND s.k8s_namespace = 'payments' AND (s.end_us = 0 OR s.end_us >= $WEEK)" 1000 password)"
	q "search secret --pod (rare)" "$(sq "AND m.argv_text ILIKE '%secret%' AND s.pod = '$POD_RARE'" 1000 secret)"
	q "search password --namespace sandbox (rare namespace)" "$(sq "AND m.argv_text ILIKE '%password%' AND s.k8s_namespace = 'sandbox'" 1000 password)"
	q "search password --node node-07" "$(sqn "AND m.argv_text ILIKE '%password%'" node-07 1000 password)"
	q "search password --since 7d" "$(sq "AND m.argv_text ILIKE '%password%' AND (s.end_us = 0 OR s.end_us >= $WEEK)" 1000 password)"
	q "show: one session's commands" "SELECT c.seq, c.ts_us, c.argv FROM commands c WHERE c.src = 'node-25' AND c.session_id = $((NS / NN / 2)) ORDER BY seq"
} >"$QUERIES"

EXPLAIN=$BENCH_OUT/pg_scale-explain.txt
: >"$EXPLAIN"
# time_sql SQL -> ROUNDS lines of milliseconds (after 2 warm-up runs).  As
# the reader runs it (store/pg/pgr_int.h kt_pgr_each): a NO SCROLL cursor in
# a read-only transaction, fetched to the end.  A cursor is planned for its
# first rows (cursor_tuple_fraction), which for a LIMIT query newest first
# is what the reader wants: the same SELECT sent as a plain statement can
# get another plan (command search for a frequent word: a trigram bitmap
# and a sort of every hit, seconds).  Each round: BEGIN, DECLARE, FETCH,
# COMMIT on one connection, timed by \timing and summed.
time_sql() {
	local cur="BEGIN READ ONLY; DECLARE kt_c NO SCROLL CURSOR FOR $1; FETCH ALL FROM kt_c; COMMIT;"
	{
		echo '\o /dev/null'
		for _ in 1 2; do echo "$cur"; done
		echo '\timing on'
		for _ in $(seq 1 "$ROUNDS"); do echo "$cur"; done
	} | psql -X -q "$PG_URL" 2>"$BENCH_TMP/q.err" |
		awk '/^Time: / { t += $2; if (++n % 4 == 0) { printf "%.3f\n", t; t = 0 } }'
}
while IFS=$'\t' read -r name sql; do
	mapfile -t ms < <(time_sql "$sql")
	if [ "${#ms[@]}" -ne "$ROUNDS" ]; then
		show "$BENCH_TMP/q.err"
		bench_na $WL "SQL $name" "query failed"
		continue
	fi
	bench_row $WL "SQL $name" "ms" "<100" "${ms[@]}"
	{ echo "== $name"; echo "$sql;"
	  psql -X -q -A -t "$PG_URL" -c "BEGIN READ ONLY" -c "EXPLAIN DECLARE kt_c NO SCROLL CURSOR FOR $sql" -c "ROLLBACK"
	  echo; } >>"$EXPLAIN" 2>&1
done <"$QUERIES"
bench_note "pg_scale: $NS sessions, $NC commands from $NN nodes ($SIZE, PostgreSQL 15, shared_buffers 1GB, loopback); per shape 2 warm-up + $ROUNDS timed runs on one connection; plans in ${EXPLAIN#"$KT_REPO"/}"

# hugepage_rows — the CLI rows again with the server on huge pages
# (vm.nr_hugepages raised by what PostgreSQL asks for, put back after):
# n/a with the reason where the kernel cannot give them or the server is
# not ours (BENCH_PG_URL)
hugepage_rows() {
	local need old got hp_opts=$PG_OPTS
	[ -n "$PG_DIR" ] || { bench_na $WL "CLI (server huge_pages=on)" "BENCH_PG_URL: not our server to restart"; return; }
	[ -w /proc/sys/vm/nr_hugepages ] || { bench_na $WL "CLI (server huge_pages=on)" "/proc/sys/vm/nr_hugepages is not writable"; return; }
	pg_stop
	# shellcheck disable=SC2086
	need=$(pg_as "$PG_BIN/postgres" -D "$PG_DIR/data" $PG_OPTS -c huge_pages=on \
		-C shared_memory_size_in_huge_pages 2>"$BENCH_TMP/hp.err")
	old=$(cat /proc/sys/vm/nr_hugepages)
	if ! [ "$need" -gt 0 ] 2>/dev/null; then
		show "$BENCH_TMP/hp.err"
		bench_na $WL "CLI (server huge_pages=on)" "postgres -C shared_memory_size_in_huge_pages failed"
		pg_restart || { pg_why; fatal pg_start "postgres did not start again"; }
		return
	fi
	at_exit "echo $old >/proc/sys/vm/nr_hugepages"
	echo $((old + need)) >/proc/sys/vm/nr_hugepages 2>/dev/null
	# free and not promised to another mapping already
	got=$(awk '$1 == "HugePages_Free:" { f = $2 } $1 == "HugePages_Rsvd:" { r = $2 } END { print f - r }' /proc/meminfo)
	if [ "${got:-0}" -lt "$need" ]; then
		bench_na $WL "CLI (server huge_pages=on)" "the kernel gave $got of $need 2 MB pages (memory fragmented?)"
		echo "$old" >/proc/sys/vm/nr_hugepages
		pg_restart || { pg_why; fatal pg_start "postgres did not start again"; }
		return
	fi
	PG_OPTS="$hp_opts -c huge_pages=on"
	if pg_restart; then
		bench_note "pg_scale: huge pages: $need 2 MB pages reserved for the server (vm.nr_hugepages $old -> $((old + need)), put back after); CLI rows \"(server huge_pages=on)\" on the same data set, server restarted (its buffers refilled by each shape's 2 warm-up runs)"
		cli_shapes "(server huge_pages=on): " "$PG_URL"
		pg_stop
	else
		pg_why
		bench_na $WL "CLI (server huge_pages=on)" "postgres did not start with huge_pages=on"
	fi
	PG_OPTS=$hp_opts
	echo "$old" >/proc/sys/vm/nr_hugepages
	pg_restart || { pg_why; fatal pg_start "postgres did not start again"; }
}

# ------------------------------------------------------------------ the CLI
# kubetape --db postgres://… (the read backend), whole process per run
# the CLI logs cluster reads on the reading host (store/access.c)
export KUBETAPE_ACCESS_DIR=$BENCH_TMP/access
mkdir -p "$KUBETAPE_ACCESS_DIR"
if "$KT_CLI" --db "$PG_URL" sessions --limit 1 >/dev/null 2>"$BENCH_TMP/cli.err"; then
	# time_cli_at FIGURE URL ARGS... (URL "" : no --db)
	time_cli_at() {
		local fig=$1 url=$2 v=() t i
		shift 2
		for i in $(seq 1 $((ROUNDS + 2))); do
			t=$(now_ns)
			"$KT_CLI" ${url:+--db "$url"} "$@" >/dev/null 2>"$BENCH_TMP/cli.err" || { show "$BENCH_TMP/cli.err"; return; }
			[ "$i" -gt 2 ] && v+=("$(awk -v a="$t" -v z="$(now_ns)" 'BEGIN { printf "%.3f", (z - a) / 1e6 }')")
		done
		bench_row $WL "CLI $fig" "ms" "<100" "${v[@]}"
	}
	# cli_shapes PREFIX URL: the CLI's sessions filters and 1,000-hit
	# searches, one row each named PREFIX + the shape (the server as it
	# is, through pgbouncer, on huge pages: the same list every time)
	cli_shapes() {
		local pre=$1 url=$2
		time_cli_at "${pre}sessions --limit 50" "$url" sessions --limit 50
		time_cli_at "${pre}sessions --namespace payments" "$url" sessions --namespace payments --limit 50
		time_cli_at "${pre}sessions --pod (rare)" "$url" sessions --pod "$POD_RARE" --limit 50
		time_cli_at "${pre}sessions --node node-07" "$url" sessions --node node-07 --limit 50
		time_cli_at "${pre}sessions --active" "$url" sessions --active --limit 50
		time_cli_at "${pre}search rm -rf" "$url" search --in commands --limit 1000 -- rm -rf
		time_cli_at "${pre}search password" "$url" search --in commands --limit 1000 password
		time_cli_at "${pre}search /proc/1/environ" "$url" search --in commands --limit 1000 /proc/1/environ
		time_cli_at "${pre}search unique token" "$url" search --in commands --limit 1000 "$TOKEN"
		time_cli_at "${pre}search password --namespace payments" "$url" search --in commands --limit 1000 --namespace payments password
		time_cli_at "${pre}search password --namespace sandbox" "$url" search --in commands --limit 1000 --namespace sandbox password
		time_cli_at "${pre}search password --node node-07" "$url" search --in commands --limit 1000 --node node-07 password
		time_cli_at "${pre}search password --since 7d" "$url" search --in commands --limit 1000 --since 7d password
	}
	# what any run pays before its store: exec, the dynamic loader
	# (libpq and its ~20 libraries only for a postgres:// store:
	# store/pg/pq_load.c), and what this host charges a new process per
	# page it touches first (bench/page_touch.c; a CLI run on the server
	# is two new processes: the CLI and its server backend)
	time_cli_at "--help (process start)" "" --help
	if cc -O2 -o "$BENCH_TMP/page_touch" "$BENCH_DIR/page_touch.c" 2>"$BENCH_TMP/cc.err" &&
		"$BENCH_TMP/page_touch" >"$BENCH_TMP/touch.tsv"; then
		bench_row $WL "host: first touch of a 4 KB page, new process, private (malloc)" "us" "-" \
			"$(awk '$1 == "anon" { print $2 }' "$BENCH_TMP/touch.tsv")"
		bench_row $WL "host: first touch of a 4 KB page, forked process, shared memory (shared_buffers)" "us" "-" \
			"$(awk '$1 == "shared" { print $2 }' "$BENCH_TMP/touch.tsv")"
	else
		show "$BENCH_TMP/cc.err"
		bench_na $WL "host: first touch of a 4 KB page" "bench/page_touch.c failed"
	fi
	cli_shapes "" "$PG_URL"
	# A deployment option, not the CLI's own figure: pgbouncer (session
	# pooling) between the CLI and the server keeps server processes,
	# so a run's connection meets a warm backend (caches built, its
	# pages mapped) instead of a new one (FORMAT-pg.md "Reader start cost")
	if command -v pgbouncer >/dev/null; then
		# not under $BENCH_TMP (0700 root): pgbouncer runs as postgres
		PGB=$(mktemp -d /tmp/kubetape-pgb.XXXXXX) || fatal mktemp "mktemp failed"
		PGB_PORT=$(free_port)
		at_exit 'rm -rf "$PGB"'
		# the server's address from PG_URL (BENCH_PG_URL: not PG_PORT)
		hp=${PG_URL#*@}
		hp=${hp%%/*}
		cat >"$PGB/pgb.ini" <<-EOF
		[databases]
		kubetape = host=${hp%:*} port=${hp##*:} dbname=kubetape user=postgres
		[pgbouncer]
		listen_addr = 127.0.0.1
		listen_port = $PGB_PORT
		unix_socket_dir =
		auth_type = trust
		auth_file = $PGB/users.txt
		pool_mode = session
		server_reset_query = DISCARD ALL
		default_pool_size = 2
		logfile = $PGB/pgb.log
		pidfile = $PGB/pgb.pid
		EOF
		echo '"postgres" ""' >"$PGB/users.txt"
		chown -R postgres: "$PGB"
		if runuser -u postgres -- pgbouncer -d "$PGB/pgb.ini" >"$BENCH_TMP/pgb.out" 2>&1 &&
			wait_for 10 test -s "$PGB/pgb.pid"; then
			at_exit 'kill "$(cat "$PGB/pgb.pid")" 2>/dev/null'
			PGB_URL="postgresql://postgres@127.0.0.1:$PGB_PORT/kubetape"
			cli_shapes "via pgbouncer: " "$PGB_URL"
		else
			show "$BENCH_TMP/pgb.out"
			bench_na $WL "CLI via pgbouncer" "pgbouncer did not start"
		fi
	else
		bench_na $WL "CLI via pgbouncer" "pgbouncer not installed (make deps)"
	fi
	# A server setting, not the CLI's own figure: shared_buffers in 2 MB
	# huge pages (huge_pages = on; deploy/README.md recommends it for the
	# cluster store).  A new backend maps each 8 KB buffer it reads for the
	# first time, at what the host charges a fresh process for a 4 KB
	# page (the "host: first touch" rows: 0.2-22 us on the hosts seen;
	# bare metal ~0.1-0.5 us): a 1,000-hit search reads ~4,500 buffers.
	# With huge pages the backend maps them 2 MB at a time.  Same data set
	# and server, restarted.
	hugepage_rows

	# the library calls (the same store API, one connection, no printing)
	if cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$KT_REPO/store/include" -o "$BENCH_TMP/pg_scale_lib" \
		"$BENCH_DIR/pg_scale_lib.c" "$BENCH_OUT/libkubetape.a" $STORE_LIBS 2>"$BENCH_TMP/cc.err"; then
		"$BENCH_TMP/pg_scale_lib" "$PG_URL" "$ROUNDS" "$POD_RARE" "$TOKEN" >"$BENCH_TMP/lib.tsv" 2>"$BENCH_TMP/lib.err" ||
			{ show "$BENCH_TMP/lib.err"; msg "pg_scale_lib failed"; }
		while IFS=$'\t' read -r name nhits ms; do
			# shellcheck disable=SC2086
			bench_row $WL "API $name ($nhits hits)" "ms" "<100" $ms
		done <"$BENCH_TMP/lib.tsv"
	else
		show "$BENCH_TMP/cc.err"
		bench_na $WL "API kt_store_sessions_list|commands_search on postgres://" "cannot build bench/pg_scale_lib.c"
	fi
else
	bench_na $WL "CLI kubetape --db postgres:// sessions|search" \
		"the CLI has no PostgreSQL read backend in this build: $(head -c 120 "$BENCH_TMP/cli.err" | tr '\n' ' ')"
fi
