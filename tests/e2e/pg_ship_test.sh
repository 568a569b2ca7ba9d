#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Shipping node stores to PostgreSQL (`kubetape ship`, store/FORMAT-pg.md)
# with a real PostgreSQL started here (tests/lib/pg.sh) and stores written by
# the real recorder on the real pod.
#
# Asserts: three node stores (one recorder run each, its own --node-name)
# shipped concurrently equal the server's rows table for table, row for
# row, byte for byte, screen trigrams included; a second --once ships
# nothing and changes nothing (idempotent); a node role (RLS) cannot write
# another node's rows; TLS with sslmode=verify-full works and another CA is
# refused; `kubetape prune --shipped-to` removes locally only
# what the server holds complete, and the server keeps it.  Then live: the recorder writes n1 again while a
# follow-mode shipper runs; a recorded byte is on the server within 5 s;
# PostgreSQL is killed (-9, postmaster and backends) in the middle of a
# burst and restarted: the recorder kept recording, the shipper reconnects,
# the lag is back under 5 s, and once the session ends the server equals
# the node store again (zero loss, zero duplicates: every key is unique).
# Prints the figures (lag, recovery time, PG bytes per node byte).
. "$(dirname "$0")/../lib/common.sh"
. "$KT_REPO/tests/lib/pg.sh"
. "$KT_REPO/tests/lib/outage.sh"

require_root
require_containerd
require_bpf
require_cmd python3 sqlite3 psql curl openssl
require_built "$KT_OUT/kubetape-recorder" "$KT_OUT/kubetape" "$PTYRUN"

K="$KT_OUT/kubetape"
PORT=$(free_port)

step_start
pg_start "$PORT"
pass pg_start
pod_up pod_up

# ------------------------------------------------------------------ three nodes
for n in n1 n2 n3; do
	step_start
	# a key per node: each node store its own node chain (verified below)
	start_recorder "record_$n" "$KT_TMP/$n.db" "$KT_TMP/rec-$n.log" --node-name "$n-k8s" --key "$KT_TMP/$n.key"
	cat >"$KT_TMP/$n.script" <<EOF
expect "# " 10
send "echo hello-$n; ls /; id\r"
expect "uid=0" 5
send "seq 1 200000\r"
expect "^200000" 30
send "exit 0\r"
wait-exit 10
EOF
	$PTYRUN --raw --rows 24 --cols 80 --script "$KT_TMP/$n.script" --out "$KT_TMP/$n.out" \
		-- $(ctr_exec_tty "pgship-$n") >"$KT_TMP/$n.log" 2>&1 ||
		{ show "$KT_TMP/$n.log"; fail "record_$n" "the session's client failed"; }
	wait_for 15 sh -c "[ \"\$(sqlite3 '$KT_TMP/$n.db' 'SELECT count(*) FROM sessions WHERE state != 0 AND bytes_out > 0')\" -ge 1 ]" ||
		fail "record_$n" "no ended session in $n.db"
	# screen index finished (final screen written: blocks with trigrams)
	# and compaction done: the session is settled, as on a quiet node
	wait_for 30 sh -c "[ \"\$(sqlite3 '$KT_TMP/$n.db' 'SELECT count(*) FROM sessions s JOIN screen_index i ON i.session_id = s.id WHERE i.done = 1 AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.session_id = s.id AND c.codec = 0)')\" -ge 1 ]" ||
		fail "record_$n" "the recorder did not finish indexing and compacting in 30 s"
	stop_recorder || fail "record_$n" "recorder exit status $?"
	pass "record_$n"
done

step_start
t0=$(now_ms)
for n in n1 n2 n3; do
	# all three migrate: the advisory lock lets one do it
	"$K" --db "$KT_TMP/$n.db" ship --to "$PG_URL" --node-name "$n" --once --migrate \
		>"$KT_TMP/ship-$n.log" 2>&1 &
	eval "SHIP_$n=\$!"
done
ok=1
for n in n1 n2 n3; do
	eval "wait \$SHIP_$n" || { show "$KT_TMP/ship-$n.log"; ok=0; }
done
ms=$(($(now_ms) - t0))
check ship_concurrent "a shipper failed" test "$ok" = 1
check pg_schema_version "kt_meta: $(psqlq "SELECT * FROM kt_meta" 2>&1)" \
	test "$(psqlq "SELECT value FROM kt_meta WHERE key = 'schema_version'")" = \
	"$(sed -n 's/^#define KT_PG_SCHEMA_VERSION \([0-9]*\).*/\1/p' "$KT_REPO/store/include/pg.h")"
bytes=$(psqlq "SELECT sum(length(data)) FROM chunks")
echo "# figure: 3 stores shipped concurrently in $ms ms ($bytes chunk bytes)"

step_start
ok=1
for n in n1 n2 n3; do
	pg_store_diff "$KT_TMP/$n.db" "$n" >"$KT_TMP/diff-$n.txt" || { cat "$KT_TMP/diff-$n.txt"; ok=0; }
	pg_trigram_diff "$KT_TMP/$n.db" "$n" || ok=0
done
check ship_equal "server rows differ from the node stores (above)" test "$ok" = 1
check ship_nonempty "shipped stores have no chunks, keyframes or checkpoints" \
	test "$(psqlq "SELECT (SELECT count(DISTINCT src) FROM chunks) = 3 AND (SELECT count(*) FROM keyframes) > 0 AND (SELECT count(*) FROM checkpoints) > 0 AND (SELECT count(*) FROM screen_blocks WHERE trigrams IS NOT NULL) > 0")" = t
node_bytes=$(cat "$KT_TMP"/n[123].db "$KT_TMP"/n[123].db-wal 2>/dev/null | wc -c)
pg_bytes=$(psqlq "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'")
rec_bytes=$(psqlq "SELECT sum(bytes_out + bytes_in) FROM sessions")
echo "# figure: recorded $rec_bytes terminal bytes; node stores $node_bytes bytes; PostgreSQL tables+indexes $pg_bytes bytes ($(python3 -c "print(round($pg_bytes/$rec_bytes, 3))") per recorded byte, $(python3 -c "print(round($pg_bytes/$node_bytes, 3))") x the node stores)"
check ship_node_names "sessions.node is not the recorder's node name" \
	test "$(psqlq "SELECT string_agg(DISTINCT src || '=' || node, ',' ORDER BY src || '=' || node) FROM sessions")" = "n1=n1-k8s,n2=n2-k8s,n3=n3-k8s"

step_start
before=$(psqlq "SELECT sum(batches), sum(bytes) FROM kt_nodes")
snap=$(psqlq "SELECT count(*), sum(xmin::text::bigint) FROM chunks")
"$K" --db "$KT_TMP/n2.db" ship --to "$PG_URL" --node-name n2 --once >"$KT_TMP/ship-again.log" 2>&1
check ship_idempotent "a second --once wrote chunk rows again: $(cat "$KT_TMP/ship-again.log")" \
	test "$(psqlq "SELECT count(*), sum(xmin::text::bigint) FROM chunks")" = "$snap"
pg_store_diff "$KT_TMP/n2.db" n2 >/dev/null || fail ship_idempotent "n2 differs after the second ship"
echo "# figure: marks before the re-ship: $before"

# ------------------------------------------------------------------ roles
step_start
psqlq "CREATE ROLE kt_n9 LOGIN IN ROLE kubetape_node; INSERT INTO kt_node_roles VALUES ('kt_n9', 'n9')" >/dev/null
N9_URL="postgresql://kt_n9@127.0.0.1:$PORT/kubetape"
"$K" --db "$KT_TMP/n3.db" ship --to "$N9_URL" --node-name n9 --once >"$KT_TMP/ship-n9.log" 2>&1
rc_own=$?
"$K" --db "$KT_TMP/n3.db" ship --to "$N9_URL" --node-name n1 --once >"$KT_TMP/ship-n9-as-n1.log" 2>&1
rc_other=$?
check role_own_rows "node role could not ship its own node (rc $rc_own): $(tail -n 2 "$KT_TMP/ship-n9.log")" test "$rc_own" = 0
check role_other_rows_refused "node role shipped as another node (rc $rc_other)" \
	sh -c "[ $rc_other != 0 ] && grep -q 'row-level security' '$KT_TMP/ship-n9-as-n1.log'"
pg_store_diff "$KT_TMP/n1.db" n1 >/dev/null || fail role_other_rows_refused "n1's rows changed"

# ------------------------------------------------------------------ TLS
step_start
pg_enable_tls || fatal pg_tls "could not restart postgres with TLS: $(tail -n 3 "$PG_DIR/server.log")"
"$K" --db "$KT_TMP/n2.db" ship --to "$PG_URL?sslmode=verify-full&sslrootcert=$PG_CA" --node-name n2 --once \
	>"$KT_TMP/ship-tls.log" 2>&1
rc_tls=$?
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other-ca -keyout "$KT_TMP/other.key" \
	-out "$KT_TMP/other.crt" 2>/dev/null
"$K" --db "$KT_TMP/n2.db" ship --to "$PG_URL?sslmode=verify-full&sslrootcert=$KT_TMP/other.crt" --node-name n2 --once \
	>"$KT_TMP/ship-tls-bad.log" 2>&1
rc_bad=$?
check ship_tls_verify_full "verify-full with the server's CA (rc $rc_tls): $(tail -n 2 "$KT_TMP/ship-tls.log")" test "$rc_tls" = 0
check ship_tls_wrong_ca_refused "another CA was accepted (rc $rc_bad): $(tail -n 1 "$KT_TMP/ship-tls-bad.log")" \
	sh -c "[ $rc_bad != 0 ] && grep -qi 'certificate' '$KT_TMP/ship-tls-bad.log'"
pg_store_diff "$KT_TMP/n2.db" n2 >/dev/null || fail ship_tls_verify_full "n2 differs after the TLS ship"

# ------------------------------------------------------------------ prune what is shipped
step_start
settled=$(psqlq "SELECT count(*) FROM kt_ship_sessions WHERE src = 'n3' AND done")
# the node store is signed: no prune without the node key (no node.key here)
"$K" --db "$KT_TMP/n3.db" prune --older-than 1s --shipped-to "$PG_URL" --node-name n3 >"$KT_TMP/prune-nokey.out" 2>&1
rc=$?
check prune_needs_node_key "rc $rc: $(cat "$KT_TMP/prune-nokey.out")" \
	sh -c "[ $rc != 0 ] && grep -q 'signed' '$KT_TMP/prune-nokey.out' && [ \"\$(sqlite3 '$KT_TMP/n3.db' 'SELECT count(*) FROM prunes')\" = 0 ]"
"$K" --db "$KT_TMP/n3.db" prune --older-than 1s --shipped-to "$PG_URL" --node-name n3 --key "$KT_TMP/n3.key" \
	>"$KT_TMP/prune-n3.out" 2>&1
check prune_shipped "$(cat "$KT_TMP/prune-n3.out"); settled on the server: $settled" \
	sh -c "[ '$settled' -ge 1 ] && grep -q '^pruned $settled sessions' '$KT_TMP/prune-n3.out' &&
		[ \"\$(sqlite3 '$KT_TMP/n3.db' 'SELECT count(*) FROM sessions')\" = 0 ]"
"$K" --db "$KT_TMP/n3.db" ship --to "$PG_URL" --node-name n3 --once >>"$KT_TMP/prune-n3.out" 2>&1
check server_keeps_pruned "the server lost n3's session or did not get the prune record" \
	test "$(psqlq "SELECT (SELECT count(*) FROM sessions WHERE src = 'n3'), (SELECT count(*) FROM chunks WHERE src = 'n3') > 0, (SELECT count(*) FROM prunes WHERE src = 'n3' AND rule = 'older-than 1s shipped')")" = "$settled|t|$settled"
# the node's tamper evidence still holds: pruned by a signed record, not deleted
"$K" --db "$KT_TMP/n3.db" verify --all --pubkey "$KT_TMP/n3.key.pub" --head "$KT_TMP/n3.key.head" >"$KT_TMP/verify-n3.out" 2>&1
rc=$?
check node_verify_after_prune "verify --all (rc $rc): $(head -n 5 "$KT_TMP/verify-n3.out")" \
	sh -c "[ $rc = 0 ] && grep -q '^node   verified' '$KT_TMP/verify-n3.out' && ! grep -q BROKEN '$KT_TMP/verify-n3.out'"
sid=$(psqlq "SELECT min(session_id) FROM prunes WHERE src = 'n3'")
"$K" --db "$KT_TMP/n3.db" verify "$sid" --pubkey "$KT_TMP/n3.key.pub" >"$KT_TMP/verify-n3-one.out" 2>&1
check node_verify_says_pruned "$(cat "$KT_TMP/verify-n3-one.out")" grep -q "pruned *by rule 'older-than 1s shipped'" "$KT_TMP/verify-n3-one.out"
# the server holds the signed prune records in the node's chain, as the node has it
check server_has_signed_prunes "prune checkpoints on the server: $(psqlq "SELECT count(*) FROM checkpoints WHERE src = 'n3' AND final = 2")" \
	test "$(psqlq "SELECT count(*) FROM checkpoints WHERE src = 'n3' AND final = 2")" = "$settled"
pg_store_diff "$KT_TMP/n3.db" n3 >"$KT_TMP/diff-n3.txt"
check server_chain_equals_node "$(cat "$KT_TMP/diff-n3.txt")" sh -c "! grep -qE '^(checkpoints|prunes):' '$KT_TMP/diff-n3.txt'"

# ------------------------------------------------------------------ live + outage
step_start
start_recorder record_live "$KT_TMP/n1.db" "$KT_TMP/rec-live.log" --node-name n1-k8s --key "$KT_TMP/n1.key"
MPORT=$(free_port)
"$K" --db "$KT_TMP/n1.db" ship --to "$PG_URL" --node-name n1 --poll-ms 200 \
	--status-file "$KT_TMP/ship.json" --metrics-listen "127.0.0.1:$MPORT" >"$KT_TMP/ship-live.log" 2>&1 &
SHIPPER=$!
at_exit "kill -TERM $SHIPPER 2>/dev/null; wait $SHIPPER 2>/dev/null"
live_tty pgship-live "$KT_TMP/live.out" "$KT_TMP/live.log"
step 'expect "# " 10'
LIVE_ID=""
wait_for 10 sh -c "[ -n \"\$(sqlite3 '$KT_TMP/n1.db' \"SELECT id FROM sessions WHERE state = 0 AND leader_comm = 'bash'\")\" ]" ||
	fatal live_session "no active session in n1.db"
LIVE_ID=$(sqlite3 "$KT_TMP/n1.db" "SELECT max(id) FROM sessions WHERE state = 0 AND leader_comm = 'bash'")

# lag_of MARK: ms from MARK being readable in the node store (polled with
# kubetape cat every 50 ms) to the server holding that much of the live
# session's output (its chunks' out_bytes)
lag_of() {
	local mark=$1 off t0 t1
	wait_for 20 sh -c "'$K' --db '$KT_TMP/n1.db' cat $LIVE_ID 2>/dev/null | grep -q '$mark'" ||
		{ echo "never-stored"; return; }
	t0=$(now_ms)
	off=$("$K" --db "$KT_TMP/n1.db" cat "$LIVE_ID" 2>/dev/null | grep -abo "$mark" | head -n 1 | cut -d: -f1)
	off=$((off + ${#mark}))
	wait_for 30 pgt "SELECT coalesce(sum(out_bytes), 0) >= $off FROM chunks WHERE src = 'n1' AND session_id = $LIVE_ID" ||
		{ echo "never-shipped"; return; }
	t1=$(now_ms)
	echo $((t1 - t0))
}
# the server's answer to SQL, for polling with wait_for
pgt() { [ "$(psql -X -q -A -t "$PG_URL" -c "$1" 2>/dev/null)" = t ]; }

step 'send "echo MARK-ONE-$((6*7))\r"' 'expect "MARK-ONE-42" 10'
lag1=$(lag_of MARK-ONE-42)
echo "# figure: steady-state lag, node commit -> readable in PostgreSQL: $lag1 ms"
check live_lag_under_5s "lag $lag1 ms" sh -c "[ '$lag1' -lt 5000 ] 2>/dev/null"

step_start
# a burst, and the server dies in the middle of shipping it
step 'send "seq 1 150000; for i in $(seq 1 30); do echo tick-$i; sleep 0.1; done\r"' 'expect "tick-30" 60'
wait_for 20 pgt "SELECT coalesce(sum(out_bytes), 0) > 200000 FROM chunks WHERE src = 'n1' AND session_id = $LIVE_ID" ||
	fail pg_kill_mid_ship "the burst never started reaching the server"
pg_kill9
killed_at=$(now_ms)
wait_for 30 sh -c "'$K' --db '$KT_TMP/n1.db' cat $LIVE_ID 2>/dev/null | grep -q tick-30" ||
	fail recorder_records_during_outage "tick-30 never reached the node store"
stored=$(sqlite3 "$KT_TMP/n1.db" "SELECT bytes_out FROM sessions WHERE id = $LIVE_ID")
check recorder_records_during_outage "node store has only $stored output bytes" test "$stored" -gt 800000
check ship_reports_down "the shipper did not report the outage: $(cat "$KT_TMP/ship.json")" \
	wait_for 10 grep -q '"connected":false' "$KT_TMP/ship.json"
# not holding the script pipe open (fd 7) in the new postmaster
check ship_metrics_down "kubetape_ship_connected is not 0 during the outage" \
	wait_for 10 sh -c "curl -sf http://127.0.0.1:$MPORT/metrics | grep -q '^kubetape_ship_connected 0\$'"
pg_restart 7>&- || fatal pg_restart "postgres did not start again"
restarted_at=$(now_ms)
wait_for 30 sh -c "grep -q '\"connected\":true' '$KT_TMP/ship.json' && python3 -c \"import json,sys; d=json.load(open('$KT_TMP/ship.json')); sys.exit(not (0 <= d['lag_us'] < 5000000 and d['backlog_bytes'] == 0))\"" ||
	fail ship_recovers "not caught up 30 s after the restart: $(cat "$KT_TMP/ship.json")"
echo "# figure: PostgreSQL down $((restarted_at - killed_at)) ms; shipper caught up $(($(now_ms) - restarted_at)) ms after the restart"
pass ship_recovers
curl -sf "http://127.0.0.1:$MPORT/metrics" >"$KT_TMP/ship-metrics.txt"
check ship_metrics_recovered "$(grep -v '^#' "$KT_TMP/ship-metrics.txt" | tr '\n' ' ')" \
	sh -c "grep -q '^kubetape_ship_connected 1\$' '$KT_TMP/ship-metrics.txt' &&
		awk '\$1 == \"kubetape_ship_lag_seconds\" && \$2 >= 0 && \$2 < 5 { ok=1 } END { exit !ok }' '$KT_TMP/ship-metrics.txt' &&
		grep -q '^kubetape_ship_errors_total [1-9]' '$KT_TMP/ship-metrics.txt'"
step 'send "echo MARK-TWO-$((6*7))\r"' 'expect "MARK-TWO-42" 10'
lag2=$(lag_of MARK-TWO-42)
echo "# figure: lag after the outage: $lag2 ms"
check lag_back_under_5s "lag $lag2 ms" sh -c "[ '$lag2' -lt 5000 ] 2>/dev/null"

step_start
step 'send "exit 0\r"' 'wait-exit 10'
exec 7>&-
wait "$LIVE" || fail live_client "client exited $?"
wait_for 15 sh -c "[ \"\$(sqlite3 '$KT_TMP/n1.db' 'SELECT state FROM sessions WHERE id = $LIVE_ID')\" != 0 ]" ||
	fail live_client "the live session did not end"
stop_recorder || fail live_recorder "recorder exit status $?"
# the node store is final now; the follow shipper converges on it
wait_for 30 pg_store_diff "$KT_TMP/n1.db" n1 >/dev/null
pg_store_diff "$KT_TMP/n1.db" n1 >"$KT_TMP/diff-live.txt"
check no_loss_no_dup_after_outage "$(cat "$KT_TMP/diff-live.txt")" test ! -s "$KT_TMP/diff-live.txt"
pg_trigram_diff "$KT_TMP/n1.db" n1 || fail no_loss_no_dup_after_outage "trigrams differ"
check server_session_equal "server's live session is not the node's" \
	test "$(psqlq "SELECT bytes_out, state FROM sessions WHERE src = 'n1' AND id = $LIVE_ID")" = \
	"$(sqlite3 -separator '|' "$KT_TMP/n1.db" "SELECT bytes_out, state FROM sessions WHERE id = $LIVE_ID")"
kill -TERM "$SHIPPER"
wait "$SHIPPER"
src=$?
check shipper_sigterm_exit0 "shipper exited $src on SIGTERM" test "$src" = 0

finish
