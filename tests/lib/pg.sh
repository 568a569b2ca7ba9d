# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# tests/lib/pg.sh — a private PostgreSQL server for a test (Debian's
# postgresql package): initdb in a temporary directory, its own port on
# 127.0.0.1 and its socket in that directory, run as the `postgres` user
# (initdb refuses root).  Source after common.sh; pg_start registers the
# stop with at_exit, so the server goes even when the test fails.
#
#   pg_start PORT       initdb in a new /tmp directory owned by postgres
#                       (removed at exit) + start; PG_URL (superuser,
#                       database kubetape, SQL_ASCII) is set; fatal when it
#                       fails
#   pg_kill9            SIGKILL the postmaster (and its children)
#   pg_restart          start again after pg_kill9 or pg_stop
#   pg_stop             fast shutdown
#   psqlq SQL           run SQL on PG_URL, unaligned, tuples only
#
# Fails (never skips) when PostgreSQL is not installed.

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PG_DIR=""
PG_PORT=""
PG_URL=""

pg_require() {
	[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] ||
		fatal "${KT_TEST_NAME}_requires_postgresql" "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin): install the 'postgresql' package ('make deps')"
	command -v psql >/dev/null ||
		fatal "${KT_TEST_NAME}_requires_psql" "psql not found: install 'postgresql-client' ('make deps')"
	id postgres >/dev/null 2>&1 ||
		fatal "${KT_TEST_NAME}_requires_postgres_user" "no 'postgres' user to run the server as (the postgresql package creates it)"
}

pg_as() { runuser -u postgres -- "$@"; }

pg_start() {
	PG_PORT=$1
	pg_require
	# not under $KT_TMP: that is 0700 root, and the server runs as postgres
	PG_DIR=$(mktemp -d /tmp/kubetape-pg.XXXXXX) || fatal pg_start "mktemp failed"
	at_exit 'if [ "$kt_failed" = 0 ]; then rm -rf "$PG_DIR"; else echo "$KT_TEST_NAME: kept $PG_DIR" >&2; fi'
	chown postgres: "$PG_DIR"
	chmod 700 "$PG_DIR"
	if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
		pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E SQL_ASCII --locale=C \
			>"$PG_DIR/initdb.log" 2>&1 || { show "$PG_DIR/initdb.log"; fatal pg_initdb "initdb failed"; }
	fi
	at_exit pg_stop
	pg_restart || fatal pg_start "postgres did not start on 127.0.0.1:$PG_PORT"
	PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/kubetape"
	psql -q -X "postgresql://postgres@127.0.0.1:$PG_PORT/postgres" -c \
		"CREATE DATABASE kubetape ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" \
		>/dev/null 2>&1 || true
	psqlq "SELECT 1" >/dev/null || fatal pg_start "cannot connect to $PG_URL"
}

pg_restart() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
		-o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=on ${PG_OPTS:-}" start >/dev/null 2>&1
}

# pg_enable_tls — a CA and a server certificate for 127.0.0.1 (openssl),
# then restart with ssl=on; PG_CA is the CA file for sslrootcert=.  Clients
# may still connect without TLS (the test chooses with sslmode=).
pg_enable_tls() {
	local d=$PG_DIR/tls
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=kubetape-test-ca \
		-keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$d/server.key" \
		-out "$d/server.csr" 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1\n' >"$d/ext" &&
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-days 1 -extfile "$d/ext" -out "$d/server.crt" 2>/dev/null || return 1
	chown -R postgres: "$d"
	chmod 600 "$d/server.key"
	PG_CA=$d/ca.crt
	PG_OPTS="-c ssl=on -c ssl_cert_file=$d/server.crt -c ssl_key_file=$d/server.key"
	pg_stop
	pg_restart
}

pg_kill9() {
	local pid
	local kids
	pid=$(head -n 1 "$PG_DIR/data/postmaster.pid" 2>/dev/null) || return 1
	# the postmaster and its backends at once, as a machine crash would
	kids=$(ps -o pid= --ppid "$pid")
	# shellcheck disable=SC2086
	kill -9 "$pid" $kids 2>/dev/null
	# gone for good (not even a zombie): a new postmaster refuses to start
	# while the old pid or a backend attached to its shared memory lives
	local p
	for p in $pid $kids; do
		wait_for 10 test ! -e "/proc/$p" || return 1
	done
}

pg_stop() {
	[ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ] || return 0
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
		pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1
	return 0
}

psqlq() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$PG_URL" -c "$1"; }

# pg_store_diff DB SRC — compare every shipped table of the node store DB
# with the server's rows of SRC, row for row and byte for byte (BLOBs as
# hex, rows in key order).  Prints "table: node N rows, server M rows,
# differ" for each difference; returns 1 if any.
PG_SHIPPED_TABLES="sessions:id commands:id chunks:session_id,seq holds:session_id prunes:id
keyframes:session_id,chunk_seq,frame_index screen_blocks:id
screen_pending:block_id,first_line screen_index:session_id chain_heads:session_id
checkpoints:node_seq audit_requests:id audit_sources:path"
pg_store_diff() {
	local db=$1 src=$2 spec t key cols sq pq a b na nb bad=0
	for spec in $PG_SHIPPED_TABLES; do
		t=${spec%%:*}
		key=${spec#*:}
		cols=$(sqlite3 -batch -noheader -separator ' ' "$db" "SELECT name, upper(type) FROM pragma_table_info('$t')")
		sq=""
		pq=""
		while read -r c ty; do
			[ -n "$sq" ] && { sq="$sq, "; pq="$pq, "; }
			if [ "$ty" = BLOB ]; then
				sq="${sq}lower(hex(\"$c\"))"
				pq="${pq}encode(\"$c\", 'hex')"
			else
				sq="${sq}\"$c\""
				pq="${pq}\"$c\""
			fi
		done <<<"$cols"
		a=$(sqlite3 -batch -noheader -separator '|' "$db" "SELECT $sq FROM $t ORDER BY $key" | md5sum)
		b=$(psql -X -A -t -F '|' "$PG_URL" -c "SELECT $pq FROM $t WHERE src = '$src' ORDER BY $key" | md5sum)
		if [ "$a" != "$b" ]; then
			na=$(sqlite3 "$db" "SELECT count(*) FROM $t")
			nb=$(psqlq "SELECT count(*) FROM $t WHERE src = '$src'")
			echo "$t: node $na rows, server $nb rows, differ"
			bad=1
		fi
	done
	return $bad
}

# pg_tri_fn — create kt_tri_bits(t text) bit(2048) in $PG_URL's database:
# FORMAT-pg.md's "Command trigrams" of one text, written here in SQL from
# the definition (not from store/pg/pg_bloom.c): bit ((b0 | b1 << 8 | b2 <<
# 16) * 0x9E3779B1 mod 2^32) >> 21 of every 3-byte window, A-Z folded,
# counted from the left; all clear under 3 bytes.  Immutable: with a
# constant argument the planner folds it (bench/pg_scale.sh's masks).
pg_tri_fn() {
	psqlq "CREATE OR REPLACE FUNCTION kt_tri_bits(t text) RETURNS bit(2048) LANGUAGE sql IMMUTABLE STRICT AS \$f\$
		SELECT coalesce(bit_or(set_bit(repeat('0', 2048)::bit(2048), ((((get_byte(x.b, i) | (get_byte(x.b, i + 1) << 8)
			| (get_byte(x.b, i + 2) << 16))::bigint * 2654435761) % 4294967296) >> 21)::int, 1)),
			repeat('0', 2048)::bit(2048))
		FROM (SELECT convert_to(lower(t), 'SQL_ASCII') AS b) x, generate_series(0, length(x.b) - 3) i \$f\$" >/dev/null
}

# pg_bloom_counts WHERE — "OK BAD": sessions (alias s, the condition on
# them) whose command trigrams (schema step 8) are / are not the OR of
# kt_tri_bits over their commands on the server (all clear for none)
pg_bloom_counts() {
	pg_tri_fn || return
	psqlq "SELECT count(*) FILTER (WHERE ok) || ' ' || count(*) FILTER (WHERE ok IS NOT TRUE) FROM (
		SELECT s.cmd_bloom = coalesce((SELECT bit_or(kt_tri_bits(m.argv_text)) FROM commands m
			WHERE m.src = s.src AND m.session_id = s.id), repeat('0', 2048)::bit(2048)) AS ok
		FROM sessions s WHERE $1) t"
}

# pg_trigram_diff DB SRC — every closed screen block's trigram set on the
# server equals the node's (its v8 trigram set, or before v8 its screen_fts
# document: tests/helpers/kt_trigrams.c, what the shipper reads).
pg_trigram_diff() {
	local db=$1 src=$2 a b
	a=$("$KT_OUT/tests/kt_trigrams" "$db" | LC_ALL=C sort | md5sum)
	b=$(psqlq "SELECT id || '|' || t FROM screen_blocks, unnest(trigrams) t WHERE src = '$src'" |
		LC_ALL=C sort | md5sum)
	[ "$a" = "$b" ] || { echo "screen trigrams differ"; return 1; }
}

# pg_reader ROLE — a login role with kubetape_reader (what the CLI and the
# web use on the cluster store, FORMAT-pg.md "Roles"; the schema must be
# migrated); prints its URL (no password: the server trusts loopback)
pg_reader() {
	psqlq "CREATE ROLE $1 LOGIN; GRANT kubetape_reader TO $1" >/dev/null || return 1
	echo "postgresql://$1@127.0.0.1:$PG_PORT/kubetape"
}
