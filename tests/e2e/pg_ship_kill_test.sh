#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The shipper killed (-9) in the middle of a batch, twice, and PostgreSQL
# killed (-9) in the middle of another, on a store big enough that every
# cut lands inside a transaction: after each, a new `kubetape ship --once`
# finishes and the server equals the node store row for row (zero loss,
# zero duplicates), and the server never held a half batch (its rows
# always match committed marks).
#
# No recorder, no pod (the store is written by tests/web/kt_webfill through
# the store API), so it does not take the e2e lock; it starts its own
# PostgreSQL (tests/lib/pg.sh) and needs root for that (runuser postgres).
set -u
KT_REPO=${KT_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
KT_OUT=${KT_OUT:-$KT_REPO/build}
case "$KT_OUT" in /*) ;; *) KT_OUT=$KT_REPO/$KT_OUT ;; esac
KT_TEST_NAME=pg_ship_kill_test
kt_failed=0
kt_passed=0
kt_cleanups=()
at_exit() { kt_cleanups+=("$*"); }
run_cleanups() { local i; for ((i = ${#kt_cleanups[@]} - 1; i >= 0; i--)); do eval "${kt_cleanups[i]}"; done; }
trap run_cleanups EXIT
pass() { kt_passed=$((kt_passed + 1)); echo "PASS $1"; }
fail() { kt_failed=$((kt_failed + 1)); echo "FAIL $1: $2"; }
fatal() { fail "$1" "$2"; exit 1; }
show() { head -n 20 "$1" >&2; }
wait_for() { local end=$(($(date +%s) + $1)); shift; until "$@"; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.05; done; }

[ "$(id -u)" = 0 ] || fatal pg_ship_kill_requires_root "initdb runs as the postgres user: run as root ('sudo make test')"
for f in "$KT_OUT/kubetape" "$KT_OUT/tests/web/kt_webfill"; do
	[ -x "$f" ] || fatal pg_ship_kill_requires_build "$f is missing: run 'make'"
done
command -v sqlite3 >/dev/null || fatal pg_ship_kill_requires_sqlite3 "sqlite3 missing: run 'make deps'"
KT_TMP=$(mktemp -d /tmp/kubetape-pg-kill.XXXXXX) || fatal mktemp "mktemp failed"
at_exit 'if [ "$kt_failed" = 0 ]; then rm -rf "$KT_TMP"; else echo "kept $KT_TMP" >&2; fi'
# shellcheck source=tests/lib/pg.sh
. "$KT_REPO/tests/lib/pg.sh"
# shellcheck source=tests/lib/port.sh
. "$KT_REPO/tests/lib/port.sh"
pg_start "$(free_port)"
pass pg_start

K="$KT_OUT/kubetape"
DB=$KT_TMP/node.db
"$KT_OUT/tests/web/kt_webfill" "$DB" big 48 >/dev/null && "$KT_OUT/tests/web/kt_webfill" "$DB" populate 50 >/dev/null ||
	fatal store "kt_webfill failed"
# small batches (256 KiB): each run is many transactions, so a kill lands
# in the middle of the work
NODE=kill
ship() { "$K" --db "$DB" ship --to "$PG_URL" --node-name "$NODE" --once --migrate --batch-bytes 262144 "$@"; }

# kill_mid_batch NAME: start a ship, SIGKILL it once the server has
# committed at least one batch but not all of them
kill_mid_batch() {
	local before after pid
	before=$(psqlq "SELECT coalesce(sum(batches), 0) FROM kt_nodes" 2>/dev/null || echo 0)
	ship >"$KT_TMP/$1.log" 2>&1 &
	pid=$!
	wait_for 30 sh -c "[ \"\$(psql -X -A -t '$PG_URL' -c 'SELECT coalesce(sum(batches), 0) FROM kt_nodes' 2>/dev/null)\" -gt ${before:-0} ] 2>/dev/null"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	after=$(psqlq "SELECT sum(batches) FROM kt_nodes")
	echo "# $1: killed after $((after - ${before:-0})) committed batches"
}

# the server holds whole batches only: its chunk rows are exactly the node's
# for every session it has a cursor for, up to that cursor's frames
consistent() {
	local bad
	bad=$(psqlq "SELECT count(*) FROM kt_ship_sessions k WHERE k.src = '$NODE' AND
		k.n_chunks != (SELECT count(*) FROM chunks c WHERE c.src = '$NODE' AND c.session_id = k.session_id)")
	[ "$bad" = 0 ]
}

kill_mid_batch kill1
if consistent; then pass shipper_kill9_leaves_whole_batches; else fail shipper_kill9_leaves_whole_batches "a session cursor disagrees with its chunks"; fi
kill_mid_batch kill2
consistent || fail shipper_kill9_leaves_whole_batches "after the second kill"

# PostgreSQL dies under a batch (another node name: all of it to ship)
NODE=kill-b
ship >"$KT_TMP/pgkill.log" 2>&1 &
pid=$!
wait_for 30 sh -c "[ \"\$(psql -X -A -t '$PG_URL' -c \"SELECT coalesce(sum(batches), 0) FROM kt_nodes WHERE src = 'kill-b'\" 2>/dev/null)\" -gt 0 ] 2>/dev/null"
pg_kill9
wait "$pid"
rc=$?
pg_restart || fatal pg_restart "postgres did not start again"
if [ "$rc" != 0 ] && grep -q "postgres" "$KT_TMP/pgkill.log"; then pass once_fails_when_postgres_dies; else
	fail once_fails_when_postgres_dies "ship --once exited $rc: $(tail -n 2 "$KT_TMP/pgkill.log")"; fi
consistent || fail once_fails_when_postgres_dies "server inconsistent after the crash"

for NODE in kill kill-b; do
	ship >"$KT_TMP/final-$NODE.log" 2>&1 || { show "$KT_TMP/final-$NODE.log"; fail resume_after_kills "the last ship of $NODE failed"; }
	pg_store_diff "$DB" "$NODE" >"$KT_TMP/diff-$NODE.txt"
	if [ ! -s "$KT_TMP/diff-$NODE.txt" ]; then pass "resume_after_kills_$NODE"; else
		fail "resume_after_kills_$NODE" "$(cat "$KT_TMP/diff-$NODE.txt")"; fi
	if pg_trigram_diff "$DB" "$NODE"; then pass "trigrams_after_kills_$NODE"; else
		fail "trigrams_after_kills_$NODE" "screen trigrams differ"; fi
done
echo "$KT_TEST_NAME: done ($kt_passed PASS, $kt_failed FAIL)" >&2
[ "$kt_failed" = 0 ]
