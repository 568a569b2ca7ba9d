#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Reading the cluster store: `kubetape --db postgres://…` (store/pg/pgr_*.c,
# FORMAT-pg.md "The read side") against a real PostgreSQL started here
# (tests/lib/pg.sh) holding three node stores written by the real recorder on
# the real pod (one after another, each with its own --node-name), shipped
# concurrently.
#
# Asserts, for every node, that the cluster store gives the node's own
# output (ids aside: the cluster's id is sessions.gid, a node's id is its
# rowid; tables are compared without their ID column, JSON without ids):
# sessions with every filter (namespace, pod, container, node, since, until,
# active, tty/no-tty, limit, user) and --json, show (text and --json, read
# by NODE:ID), cat (pgstream's stream), command search (and its pages as
# the web turns them, limit and after_id, with boundaries inside a
# session), screen-text search (candidates by trigrams,
# verified by rendering), verify, the Kubernetes identity join (audit
# events imported on the nodes, joined per node on the server) and audit
# gaps; cluster-wide listing and counts across the three nodes; the reader
# role (a node role, a missing schema and an unreachable server are refused
# with one clear line); every write refused as read-only; hostile rows
# (a corrupt chunk, an oversized string) give a clear verdict, not a crash.
. "$(dirname "$0")/../lib/common.sh"
. "$KT_REPO/tests/lib/pg.sh"
. "$KT_REPO/tests/lib/outage.sh"
. "$KT_REPO/tests/lib/pg_same.sh"

require_root
require_containerd
require_bpf
require_cmd python3 sqlite3 psql
require_built "$KT_OUT/kubetape-recorder" "$KT_OUT/kubetape" "$PTYRUN" "$KT_OUT/tests/kt_search_pages"

K="$KT_OUT/kubetape"
GEN="python3 $KT_REPO/tests/lib/audit_events.py"
PORT=$(free_port)
export KUBETAPE_ACCESS_DIR=$KT_TMP/access
export KUBETAPE_AUDIT_WINDOW=30
NODES="n1 n2 n3"

step_start
pg_start "$PORT"
pass pg_start
pod_up pod_up
ns=$POD_NAMESPACE pod=$POD_NAME ctr=$CONTAINER_NAME
where="ns=$ns,pod=$pod,container=$ctr"
now_s() { date +%s.%N; }

# ------------------------------------------------------------------ three nodes
# each node: a tty session (typed commands, output to index and search) and
# two non-tty execs; every node imports the same audit events afterwards
# (requests for all three nodes' execs: a node joins its own sessions, and
# the others' requests are its gaps)
: >"$KT_TMP/events.jsonl"
for n in $NODES; do
	step_start
	# a directory per node: its own signing key and chain head beside it
	mkdir -p "$KT_TMP/$n"
	start_recorder "record_$n" "$KT_TMP/$n/node.db" "$KT_TMP/rec-$n.log" --node-name "$n"
	cat >"$KT_TMP/$n.script" <<EOF
expect "# " 10
send "echo hello-$n; ls /; id\r"
expect "uid=0" 5
send "seq 1 3000; echo pgread-done-$n\r"
expect "^pgread-done-$n" 30
send "exit 3\r"
wait-exit 10
EOF
	# the session exits 3: ptyrun passes its status on
	$PTYRUN --raw --rows 24 --cols 80 --script "$KT_TMP/$n.script" --out "$KT_TMP/$n.out" \
		-- $(ctr_exec_tty "pgread-$n") >"$KT_TMP/$n.log" 2>&1
	rc=$?
	[ "$rc" = 3 ] || { show "$KT_TMP/$n.log"; fail "record_$n" "the tty session's client exited $rc, not 3"; }
	t=$(now_s)
	fakepod exec sh -c "echo who-$n" >"$KT_TMP/$n.exec1" 2>&1 || fail "record_$n" "fakepod exec failed"
	$GEN "id=e2e-$n-who,t=$t,user=alice-$n,verb=create,cmd=sh+-c+echo who-$n,$where" >>"$KT_TMP/events.jsonl"
	fakepod exec sh -c "echo nobody-$n" >"$KT_TMP/$n.exec2" 2>&1 || fail "record_$n" "fakepod exec failed"
	wait_for 15 sh -c "[ \"\$(sqlite3 '$KT_TMP/$n/node.db' 'SELECT count(*) FROM sessions WHERE state != 0')\" -ge 3 ]" ||
		fail "record_$n" "three ended sessions expected in $n.db"
	wait_for 30 sh -c "[ \"\$(sqlite3 '$KT_TMP/$n/node.db' 'SELECT count(*) FROM screen_index WHERE done = 1')\" -ge 1 ]" ||
		fail "record_$n" "the recorder did not finish indexing in 30 s"
	stop_recorder || fail "record_$n" "recorder exit status $?"
	pass "record_$n"
done
$GEN "id=e2e-ghost,t=$(now_s),user=eve,cmd=vi+/etc/passwd,$where" >>"$KT_TMP/events.jsonl"
for n in $NODES; do
	$K --db "$KT_TMP/$n/node.db" audit import "$KT_TMP/events.jsonl" >/dev/null 2>"$KT_TMP/import-$n.err" ||
		fail "audit_import_$n" "$(cat "$KT_TMP/import-$n.err")"
done

step_start
for n in $NODES; do
	"$K" --db "$KT_TMP/$n/node.db" ship --to "$PG_URL" --node-name "$n" --once --migrate \
		>"$KT_TMP/ship-$n.log" 2>&1 &
	eval "SHIP_$n=\$!"
done
ok=1
for n in $NODES; do
	eval "wait \$SHIP_$n" || { show "$KT_TMP/ship-$n.log"; ok=0; }
done
check ship_concurrent "a shipper failed" test "$ok" = 1
# every ended session carries its command trigrams (schema step 8): the
# shipper writes them with the row; NULL would only make searches walk it
nb=$(psqlq "SELECT count(*) FILTER (WHERE cmd_bloom IS NULL) || ' of ' || count(*) FROM sessions WHERE state <> 0")
check ship_cmd_bloom "ended sessions without command trigrams: $nb" test "${nb%% of *}" = 0 -a "${nb##* of }" -ge 9
# and they are FORMAT-pg.md's "Command trigrams", recomputed in SQL
nr=$(pg_bloom_counts "s.state <> 0")
check cmd_bloom_format "sessions whose trigrams are / are not the documented ones: $nr" \
	test "${nr#* }" = 0 -a "${nr% *}" -ge 9

# the reader: a login role in kubetape_reader (FORMAT-pg.md "Roles")
psqlq "CREATE ROLE kt_reader LOGIN IN ROLE kubetape_reader" >/dev/null
R="postgresql://kt_reader@127.0.0.1:$PORT/kubetape"

# ------------------------------------------------------------------ same output

since=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
until=$(date -u -d '+1 minute' +%Y-%m-%dT%H:%M:%SZ)
for n in $NODES; do
	step_start
	NDB=$KT_TMP/$n/node.db
	same "sessions_$n" "sessions" "sessions --node $n" strip_id
	same "sessions_json_$n" "sessions --json" "sessions --json --node $n" json_noid
	same "sessions_tty_$n" "sessions --tty" "sessions --tty --node $n" strip_id
	same "sessions_notty_$n" "sessions --no-tty" "sessions --no-tty --node $n" strip_id
	same "sessions_ns_pod_ctr_$n" "sessions -n $ns --pod $pod --container $ctr" \
		"sessions -n $ns --pod $pod --container $ctr --node $n" strip_id
	same "sessions_since_until_$n" "sessions --since $since --until $until" \
		"sessions --since $since --until $until --node $n" strip_id
	same "sessions_active_$n" "sessions --active" "sessions --active --node $n" cat_filter empty-ok
	same "sessions_limit_$n" "sessions --limit 2" "sessions --limit 2 --node $n" strip_id
	same "sessions_user_$n" "sessions --user alice-$n" "sessions --user alice-$n --node $n" strip_id
	same "sessions_node_filter_$n" "sessions --node $n" "sessions --node $n" strip_id
	grep -q "alice-$n.*matched" "$KT_TMP/sessions_$n.pg" ||
		fail "identity_$n" "the server did not join alice-$n: $(cat "$KT_TMP/sessions_$n.pg")"
	same "search_$n" "search --in commands echo" "search --in commands --node $n echo" strip_id
	same "search_screen_$n" "search --in screen pgread-done" "search --in screen --node $n pgread-done" strip_id
	same "search_all_$n" "search hello-$n" "search --node $n hello-$n" strip_id
	same "search_screen_short_$n" "search --in screen --json 3000" "search --in screen --json --node $n 3000" json_noid
	same "search_short_$n" "search --in commands --json id" "search --in commands --json --node $n id" json_noid
	# the trigram filter: ASCII case folded, every word in one command, a
	# word in one session of the node only
	same "search_case_$n" "search --in commands ECHO Who-${n^^}" \
		"search --in commands --node $n ECHO Who-${n^^}" strip_id
	same "search_one_session_$n" "search --in commands --json nobody-$n" \
		"search --in commands --json --node $n nobody-$n" json_noid
	# paging newest first (kt_search_pages: after_id = the last hit's id)
	# with page boundaries between sessions and inside one: the node's
	# pages, hit for hit
	for lim in 1 2 3; do
		"$KT_OUT/tests/kt_search_pages" "$NDB" s "$lim" >"$KT_TMP/pages-$n-$lim.node" 2>&1
		rc1=$?
		"$KT_OUT/tests/kt_search_pages" "$R" s "$lim" "$n" >"$KT_TMP/pages-$n-$lim.pg" 2>&1
		rc2=$?
		hits=$(grep -vc '^page ' "$KT_TMP/pages-$n-$lim.node")
		if [ "$rc1$rc2" != 00 ]; then
			fail "search_pages_${n}_$lim" "exit $rc1 on the node, $rc2 on the server: $(tail -n 2 "$KT_TMP/pages-$n-$lim.pg" | tr '\n' '|')"
		elif ! cmp -s "$KT_TMP/pages-$n-$lim.node" "$KT_TMP/pages-$n-$lim.pg"; then
			fail "search_pages_${n}_$lim" "pages differ: $(diff "$KT_TMP/pages-$n-$lim.node" "$KT_TMP/pages-$n-$lim.pg" | head -n 8 | tr '\n' '|')"
		elif [ "$hits" -lt 4 ]; then
			fail "search_pages_${n}_$lim" "only $hits hits for 's' on the node: $(tr '\n' '|' <"$KT_TMP/pages-$n-$lim.node")"
		else
			pass "search_pages_${n}_$lim"
		fi
	done
	for id in $(sqlite3 "$NDB" "SELECT id FROM sessions ORDER BY id"); do
		gid=$(psqlq "SELECT gid FROM sessions WHERE src = '$n' AND id = $id")
		same "show_${n}_$id" "show $id" "show $n:$id" show_filter
		same "show_json_${n}_$id" "show --json $id" "show --json $n:$id" json_noid
		same "verify_${n}_$id" "verify $id" "verify $gid" verify_filter
		same "cat_${n}_$id" "cat $id" "cat $n:$id" cat_filter empty-ok
	done
	grep -q "^  Shipped from   $n, session 1 there" "$KT_TMP/show_${n}_1.pg" ||
		fail "show_origin_$n" "show on the server does not name the node: $(head -n 3 "$KT_TMP/show_${n}_1.pg")"
done

# ------------------------------------------------------------------ the cluster
step_start
total=$(for n in $NODES; do sqlite3 "$KT_TMP/$n/node.db" "SELECT count(*) FROM sessions"; done | paste -sd+ | bc)
"$K" --db "$R" sessions --json >"$KT_TMP/all.json" 2>"$KT_TMP/all.err"
check cluster_sessions "the server lists $(json "$KT_TMP/all.json" 'print(len(d))') sessions, the nodes $total: $(cat "$KT_TMP/all.err")" \
	json "$KT_TMP/all.json" "sys.exit(not (len(d) == $total and sorted(s['id'] for s in d) == list(range(1, $total + 1)) and sorted(set(s['node'] for s in d)) == ['n1', 'n2', 'n3']))"
"$K" --db "$R" sessions >"$KT_TMP/all.txt" 2>&1
echo "# the cluster-wide listing:"; cat "$KT_TMP/all.txt"
"$K" --db "$R" search --in commands who >"$KT_TMP/who.txt" 2>&1
check cluster_search "search across nodes: $(cat "$KT_TMP/who.txt")" \
	sh -c "[ \$(grep -c \"command  sh -c 'echo who-n\" '$KT_TMP/who.txt') = 3 ]"
# verify --all: every session, and every node's chain with its own key
"$K" --db "$R" verify --all >"$KT_TMP/verify-all.pg" 2>"$KT_TMP/verify-all.err"
rc=$?
ncp=$(for n in $NODES; do sqlite3 "$KT_TMP/$n/node.db" "SELECT count(*) FROM checkpoints"; done | paste -sd+ | bc)
check verify_all_cluster "verify --all on the server (rc $rc): $(tail -n 3 "$KT_TMP/verify-all.pg") $(head -c 300 "$KT_TMP/verify-all.err")" \
	sh -c "[ $rc = 0 ] && grep -q '^node   verified       $ncp checkpoints, linked and signed' '$KT_TMP/verify-all.pg' && [ \$(grep -c ' verified ' '$KT_TMP/verify-all.pg') = $((total + 1)) ]"
# audit gaps: per node on the server; the requests are the nodes' together
"$K" --db "$R" audit gaps --json >"$KT_TMP/gaps.pg" 2>"$KT_TMP/gaps.pg.err"
for n in $NODES; do "$K" --db "$KT_TMP/$n/node.db" audit gaps --json; done >"$KT_TMP/gaps.nodes" 2>/dev/null
check audit_gaps_cluster "gaps differ: $(head -c 300 "$KT_TMP/gaps.pg.err")" python3 -c "
import json
pg = json.load(open('$KT_TMP/gaps.pg'))
dec = json.JSONDecoder(); txt = open('$KT_TMP/gaps.nodes').read().strip(); nodes = []
while txt:
    o, i = dec.raw_decode(txt); nodes.append(o); txt = txt[i:].strip()
req = sorted(r['audit_id'] for n in nodes for r in n['requests'])
ses = sorted(s['first_command'] for n in nodes for s in n['sessions'])
assert sorted(r['audit_id'] for r in pg['requests']) == req, (pg['requests'], req)
assert sorted(s['first_command'] for s in pg['sessions']) == ses
assert len(req) > 0 and len(ses) == 6  # per node: the tty session and nobody-N
"

# ------------------------------------------------------------------ refusals
step_start
"$K" --db "$R" prune --older-than 1d >"$KT_TMP/prune.out" 2>&1
check read_only_prune "prune on the server: $(cat "$KT_TMP/prune.out")" \
	sh -c "[ \$(grep -c 'cluster store is read-only' '$KT_TMP/prune.out') = 1 ]"
"$K" --db "$R" audit import "$KT_TMP/events.jsonl" >"$KT_TMP/import.out" 2>&1 &&
	fail read_only_import "audit import into the server succeeded"
grep -q "cluster store is read-only" "$KT_TMP/import.out" && pass read_only_import ||
	fail read_only_import "$(cat "$KT_TMP/import.out")"
psqlq "CREATE ROLE kt_n7 LOGIN IN ROLE kubetape_node; INSERT INTO kt_node_roles VALUES ('kt_n7', 'n1')" >/dev/null
"$K" --db "postgresql://kt_n7@127.0.0.1:$PORT/kubetape" sessions >"$KT_TMP/noderole.out" 2>&1
check node_role_refused "a node role read the cluster: $(cat "$KT_TMP/noderole.out")" \
	sh -c "! [ -s '$KT_TMP/noderole.out' ] || grep -q 'cannot read the whole cluster store.*kubetape_reader' '$KT_TMP/noderole.out'"
"$K" --db "postgresql://postgres@127.0.0.1:$PORT/postgres" sessions >"$KT_TMP/noschema.out" 2>&1
check no_schema_refused "no schema: $(cat "$KT_TMP/noschema.out")" \
	sh -c "grep -q 'schema version 0' '$KT_TMP/noschema.out' && [ \$(wc -l <'$KT_TMP/noschema.out') -le 2 ]"
"$K" --db "postgresql://kt_reader@127.0.0.1:1/kubetape" sessions >"$KT_TMP/down.out" 2>&1
check unreachable_refused "unreachable server: $(cat "$KT_TMP/down.out")" \
	sh -c "grep -q 'cannot connect' '$KT_TMP/down.out'"
"$K" --db "postgresql://kt_reader:s3cret@127.0.0.1:1/kubetape" sessions >"$KT_TMP/pw.out" 2>&1
check password_not_logged "the password was printed: $(cat "$KT_TMP/pw.out")" sh -c "! grep -q s3cret '$KT_TMP/pw.out'"

# ------------------------------------------------------------------ hostile rows
step_start
gid=$(psqlq "SELECT gid FROM sessions WHERE src = 'n1' AND has_tty = 1 LIMIT 1")
psqlq "UPDATE chunks SET data = '\\xdeadbeef'::bytea WHERE src = 'n1' AND session_id = (SELECT id FROM sessions WHERE gid = $gid) AND seq = (SELECT max(seq) FROM chunks WHERE src = 'n1' AND session_id = (SELECT id FROM sessions WHERE gid = $gid))" >/dev/null
"$K" --db "$R" verify "$gid" >"$KT_TMP/corrupt.out" 2>&1
rc=$?
check corrupt_chunk_broken "verify of a corrupt chunk (rc $rc): $(cat "$KT_TMP/corrupt.out")" \
	sh -c "[ $rc = 4 ] && grep -q 'BROKEN.*does not decode' '$KT_TMP/corrupt.out'"
psqlq "UPDATE sessions SET pod = repeat('p', 100000), first_command = repeat('c', 100000) WHERE gid = $gid" >/dev/null
"$K" --db "$R" show "$gid" >"$KT_TMP/long.out" 2>&1
rc=$?
check oversized_strings_clipped "show of oversized strings (rc $rc): $(head -c 300 "$KT_TMP/long.out")" \
	sh -c "[ $rc = 0 ] && grep -q '^  Pod            ppppp' '$KT_TMP/long.out' && [ \$(grep '^  Pod ' '$KT_TMP/long.out' | wc -c) -lt 400 ]"
"$K" --db "$R" sessions --json >/dev/null 2>"$KT_TMP/long-list.err"
check oversized_strings_list "sessions with oversized strings: $(cat "$KT_TMP/long-list.err")" test $? = 0

finish
