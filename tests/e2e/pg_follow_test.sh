#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Reading through the cluster store (store/FORMAT-pg.md "Streams on the
# server"): a live session on the real pod, recorded by the real recorder
# and shipped by a follow-mode `kubetape ship`, is followed through
# PostgreSQL (`kubetape --db postgresql://<reader role>… cat --follow`,
# `replay --follow`, `export --follow`) while it is typed into.
#
# Asserts: each typed mark is readable through the server within 5 s of
# being readable on the node (figures: node -> server lag and keystroke ->
# server, per mark); the server followers end by themselves when the
# session ends, with bytes identical to the node followers'; once shipped,
# cat (output and --input), export (asciicast, text, raw), replay and
# replay --from (a keyframe seek, and the same without keyframes) give
# byte-identical output on the server and on the node store; the reads
# are in the server's access log under the reader's role, which cannot
# rewrite it.  Faults (bounded in time): the node's shipper stopped while
# a server follower waits (it names the node after
# KUBETAPE_FOLLOW_STALL_S, goes on, and resumes); PostgreSQL stopped
# mid-follow (followers wait and resume losing nothing; a short
# KUBETAPE_FOLLOW_OUTAGE_S gives up with one line) and mid-list (the
# listing fails at once with one line about the outage).
. "$(dirname "$0")/../lib/common.sh"
. "$KT_REPO/tests/lib/pg.sh"
. "$KT_REPO/tests/lib/outage.sh"

require_root
require_containerd
require_bpf
require_cmd python3 sqlite3 psql
require_built "$KT_OUT/kubetape-recorder" "$KT_OUT/kubetape" "$PTYRUN"

K="$KT_OUT/kubetape"
PORT=$(free_port)
DB=$KT_TMP/n1.db

step_start
pg_start "$PORT"
pass pg_start
pod_up pod_up

# the server's answer to SQL is "t", for polling with wait_for
pgt() { [ "$(psql -X -q -A -t "$PG_URL" -c "$1" 2>/dev/null)" = t ]; }

# ------------------------------------------------------------------ setup
step_start
start_recorder record "$DB" "$KT_TMP/rec.log" --node-name n1-k8s --input
"$K" --db "$DB" ship --to "$PG_URL" --node-name n1 --once --migrate >"$KT_TMP/migrate.log" 2>&1 ||
	{ show "$KT_TMP/migrate.log"; fatal pg_migrate "ship --migrate failed"; }
# readers log in as a role of their own with kubetape_reader (FORMAT-pg.md)
READER=$(pg_reader kt_reader) || fatal pg_reader_role "cannot create the reader role"
# the default --poll-ms: the lag a deployment gets
"$K" --db "$DB" ship --to "$PG_URL" --node-name n1 --status-file "$KT_TMP/ship.json" \
	>"$KT_TMP/ship.log" 2>&1 &
SHIPPER=$!
at_exit "kill -TERM $SHIPPER 2>/dev/null; wait $SHIPPER 2>/dev/null"
pass setup

# ------------------------------------------------------------------ live
step_start
live_tty pgfollow-live "$KT_TMP/live.out" "$KT_TMP/live.log"
step 'expect "# " 10'
wait_for 10 sh -c "[ -n \"\$(sqlite3 '$DB' 'SELECT id FROM sessions WHERE state = 0')\" ]" ||
	fatal live_session "no active session in the node store"
LIVE_ID=$(sqlite3 "$DB" "SELECT max(id) FROM sessions WHERE state = 0")
wait_for 10 pgt "SELECT count(*) = 1 FROM sessions WHERE src = 'n1' AND id = $LIVE_ID" ||
	fatal live_session_shipped "session $LIVE_ID never reached the server: $(tail -n 3 "$KT_TMP/ship.log")"
GID=$(psqlq "SELECT gid FROM sessions WHERE src = 'n1' AND id = $LIVE_ID")
pass live_session_shipped

# followers: the node's (the reference) and the server's, started together
"$K" --db "$DB" cat --follow "$LIVE_ID" >"$KT_TMP/node-cat.out" 2>"$KT_TMP/node-cat.err" &
NODE_CAT=$!
"$K" --db "$READER" cat --follow "$GID" >"$KT_TMP/srv-cat.out" 2>"$KT_TMP/srv-cat.err" &
SRV_CAT=$!
"$K" --db "$DB" replay "$LIVE_ID" --follow --no-timing </dev/null >"$KT_TMP/node-replay.out" 2>"$KT_TMP/node-replay.err" &
NODE_REPLAY=$!
"$K" --db "$READER" replay "$GID" --follow --no-timing </dev/null >"$KT_TMP/srv-replay.out" 2>"$KT_TMP/srv-replay.err" &
SRV_REPLAY=$!
"$K" --db "$READER" export "$GID" --follow -F text >"$KT_TMP/srv-export.txt" 2>"$KT_TMP/srv-export.err" &
SRV_EXPORT=$!
at_exit "kill $NODE_CAT $SRV_CAT $NODE_REPLAY $SRV_REPLAY $SRV_EXPORT 2>/dev/null || true"

# watch MARK FILE... — start watching, in the background, for MARK: the
# epoch ms at which it was first committed in the live session's chunks in
# the node store (the recorder writes raw chunks, so the bytes are
# searchable), then at which it first appears in each FILE; polled every
# 5 ms for up to 20 s (-1: never).  Returns once the watcher polls (python
# can take seconds to start on a loaded machine: started after the typing,
# it would find everything already there); then `wait "$WATCHER"` and
# read "$KT_TMP/watch.out".
watch() {
	rm -f "$KT_TMP/watch.ready" "$KT_TMP/watch.out"
	python3 - "$DB" "$LIVE_ID" "$KT_TMP/watch.ready" "$@" >"$KT_TMP/watch.out" <<'EOF' &
import sqlite3, sys, time
db, sid, ready, mark, files = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].encode(), sys.argv[5:]
con = sqlite3.connect(f'file:{db}?mode=ro', uri=True, timeout=5, isolation_level=None)
got = [-1] * (1 + len(files))
end = time.time() + 20
first = True
while time.time() < end and -1 in got:
    now = int(time.time() * 1000)
    if got[0] < 0 and con.execute(
            'SELECT count(*) FROM chunks WHERE session_id = ? AND codec = 0 AND instr(data, ?) > 0'
            ' AND seq >= (SELECT max(seq) - 64 FROM chunks WHERE session_id = ?)',
            (sid, mark, sid)).fetchall()[0][0]:
        got[0] = now
    for i, f in enumerate(files):
        if got[i + 1] < 0:
            try:
                if mark in open(f, 'rb').read():
                    got[i + 1] = now
            except OSError:
                pass
    if first:
        open(ready, 'w').close()
        first = False
    time.sleep(0.005)
print(' '.join(map(str, got)))
EOF
	WATCHER=$!
	wait_for 30 test -e "$KT_TMP/watch.ready" || fatal watch "the watcher did not start"
}

lags=""
worst=0
for i in 1 2 3 4 5; do
	watch "MARK-$i-42" "$KT_TMP/node-cat.out" "$KT_TMP/srv-cat.out"
	t0=$(now_ms)
	step "send \"echo MARK-$i-\$((6*7))\\r\"" "expect \"MARK-$i-42\" 10"
	wait "$WATCHER"
	read -r t_commit t_node t_srv <"$KT_TMP/watch.out"
	if [ "$t_commit" -lt 0 ] || [ "$t_srv" -lt 0 ]; then
		fail live_follow_lag "mark $i never followed (node commit $t_commit, server $t_srv): $(tail -n 2 "$KT_TMP/srv-cat.err")"
		worst=99999
		continue
	fi
	lag=$((t_srv - t_commit))
	[ "$lag" -gt "$worst" ] && worst=$lag
	lags="$lags $lag"
	echo "# figure: mark $i: keystroke -> node store commit $((t_commit - t0)) ms; commit -> node cat --follow $((t_node - t_commit)) ms, -> server cat --follow $lag ms"
	sleep 0.7
done
echo "# figure: node store commit -> output of 'kubetape --db postgresql://… cat --follow' (ship default --poll-ms 500, CLI poll 150 ms):$lags ms; worst $worst ms"
check live_follow_lag_under_5s "worst lag $worst ms (lags:$lags)" test "$worst" -lt 5000

# ------------------------------------------------------------------ stalled shipper
# The node's shipper stops (SIGSTOP: alive, silent): a follower on the
# server names the node and how long since its last sync after
# KUBETAPE_FOLLOW_STALL_S, keeps waiting, says when the node syncs again,
# and gets what was typed meanwhile (store/reader.c watch_node).
step_start
# (7>&-: nothing started here may hold the script fifo open, or ptyrun
# never sees its end)
KUBETAPE_FOLLOW_STALL_S=3 "$K" --db "$READER" cat --follow "$GID" >"$KT_TMP/stall-cat.out" 2>"$KT_TMP/stall-cat.err" 7>&- &
STALL_CAT=$!
at_exit "kill $STALL_CAT 2>/dev/null || true"
wait_for 10 grep -q MARK-5-42 "$KT_TMP/stall-cat.out" || fail stall_follower_started "the new follower did not catch up"
kill -STOP "$SHIPPER"
t0=$(now_ms)
step 'send "echo STALL-$((6*7))\r"' 'expect "STALL-42" 10'
wait_for 15 grep -q "node n1 has not synced for" "$KT_TMP/stall-cat.err"
t_note=$(($(now_ms) - t0))
check stall_noted "no stall line after $t_note ms: $(cat "$KT_TMP/stall-cat.err")" \
	sh -c "grep -q 'following session $GID: node n1 has not synced for [0-9]* s (its last sync: 20.*Z, node clock): its shipper is stopped or cannot reach the server, so the session may have ended on the node without the server knowing; still waiting' '$KT_TMP/stall-cat.err' && [ $t_note -lt 12000 ] && [ \$(wc -l <'$KT_TMP/stall-cat.err') = 1 ]"
check stall_keeps_waiting "the follower ended on a stalled shipper" kill -0 "$STALL_CAT"
check stall_not_shipped "STALL-42 reached the server with its shipper stopped" sh -c "! grep -q STALL-42 '$KT_TMP/stall-cat.out'"
kill -CONT "$SHIPPER"
wait_for 10 grep -q STALL-42 "$KT_TMP/stall-cat.out"
check stall_resumed "the follower did not get STALL-42 within 10 s of the shipper going on: $(cat "$KT_TMP/stall-cat.err")" \
	sh -c "grep -q STALL-42 '$KT_TMP/stall-cat.out' && grep -q 'node n1 syncs again' '$KT_TMP/stall-cat.err'"

# ------------------------------------------------------------------ server outage
# PostgreSQL stopped mid-follow: followers wait (one line each way) and
# go on when it is back, losing nothing (the end of this test compares
# every server follower with the node's); one with a short
# KUBETAPE_FOLLOW_OUTAGE_S gives up with one clear line, in bounded time;
# meanwhile reconnects back off (pgr_conn.c revive: one line per outage).
step_start
KUBETAPE_FOLLOW_OUTAGE_S=4 "$K" --db "$READER" cat --follow "$GID" >"$KT_TMP/giveup-cat.out" 2>"$KT_TMP/giveup-cat.err" 7>&- &
GIVEUP_CAT=$!
at_exit "kill $GIVEUP_CAT 2>/dev/null || true"
wait_for 10 grep -q STALL-42 "$KT_TMP/giveup-cat.out" || fail outage_follower_started "the new follower did not catch up"
t0=$(now_ms)
pg_stop
wait_for 20 sh -c "! kill -0 $GIVEUP_CAT 2>/dev/null"
t_gone=$(($(now_ms) - t0))
wait "$GIVEUP_CAT"
rc=$?
check outage_gives_up "rc $rc after $t_gone ms: $(cat "$KT_TMP/giveup-cat.err")" \
	sh -c "[ $rc = 1 ] && [ $t_gone -ge 3000 ] && [ $t_gone -lt 15000 ] && grep -q 'following session $GID: the server has been unreachable for [0-9]* s: giving up' '$KT_TMP/giveup-cat.err' && [ \$(grep -c 'cannot reconnect' '$KT_TMP/giveup-cat.err') = 1 ] && [ \$(wc -l <'$KT_TMP/giveup-cat.err') -le 6 ]"
check outage_waits "the follower with the default limit ended: $(cat "$KT_TMP/stall-cat.err")" \
	sh -c "kill -0 $STALL_CAT && grep -q 'following session $GID: the server is unreachable; waiting for it' '$KT_TMP/stall-cat.err'"
step 'send "echo OUTAGE-$((6*7))\r"' 'expect "OUTAGE-42" 10'
# the postmaster outlives the session: it must not hold the script fifo
pg_restart 7>&- || fatal pg_restart "postgres did not restart"
wait_for 20 grep -q OUTAGE-42 "$KT_TMP/stall-cat.out"
check outage_resumed "OUTAGE-42 not followed 20 s after the server came back: $(cat "$KT_TMP/stall-cat.err")" \
	sh -c "grep -q OUTAGE-42 '$KT_TMP/stall-cat.out' && grep -q 'the server is back after' '$KT_TMP/stall-cat.err' && [ \$(grep -c 'cannot reconnect' '$KT_TMP/stall-cat.err') = 1 ]"

step_start
# more than 1 MiB of output: the recorder's index writes keyframes in it
watch BURST-42 "$KT_TMP/node-cat.out" "$KT_TMP/srv-cat.out"
step 'send "seq 1 250000; echo BURST-$((6*7))\r"' 'expect "BURST-42" 60'
wait "$WATCHER"
read -r t_commit t_node t_srv <"$KT_TMP/watch.out"
check live_follow_burst "the burst's end never reached a follower (commit $t_commit, node $t_node, server $t_srv)" \
	sh -c "[ $t_commit -ge 0 ] && [ $t_srv -ge 0 ] && [ $((t_srv - t_commit)) -lt 5000 ]"
echo "# figure: 1.7 MB burst: its last line committed on the node -> server cat --follow $((t_srv - t_commit)) ms (node cat --follow $((t_node - t_commit)) ms)"
step 'send "exit 0\r"' 'wait-exit 10'
exec 7>&-
wait "$LIVE" || fail live_client "client exited $?"

# the followers end by themselves once the session's end is on the server
step_start
gone() { ! kill -0 "$1" 2>/dev/null; }
ok=1
for p in $NODE_CAT $SRV_CAT $NODE_REPLAY $SRV_REPLAY $SRV_EXPORT $STALL_CAT; do
	wait_for 30 gone "$p" || ok=0
done
check followers_end "a follower still runs 30 s after the session ended" test "$ok" = 1
rcs=""
for p in $NODE_CAT $SRV_CAT $NODE_REPLAY $SRV_REPLAY $SRV_EXPORT; do
	wait "$p"
	rcs="$rcs $?"
done
check followers_exit0 "exit codes:$rcs; $(cat "$KT_TMP/srv-cat.err" "$KT_TMP/srv-replay.err" | head -n 3)" \
	test "$rcs" = " 0 0 0 0 0"
check follow_cat_identical "server cat --follow ($(wc -c <"$KT_TMP/srv-cat.out") bytes) != node ($(wc -c <"$KT_TMP/node-cat.out"))" \
	cmp -s "$KT_TMP/node-cat.out" "$KT_TMP/srv-cat.out"
check follow_replay_identical "server replay --follow ($(wc -c <"$KT_TMP/srv-replay.out") bytes) != node ($(wc -c <"$KT_TMP/node-replay.out"))" \
	cmp -s "$KT_TMP/node-replay.out" "$KT_TMP/srv-replay.out"
check follow_cat_complete "the follower missed output: the session's own cat differs" \
	sh -c "'$K' --db '$DB' cat $LIVE_ID | cmp -s - '$KT_TMP/srv-cat.out'"
check follow_outage_complete "the follower that lived through the stall and the outage missed output" \
	sh -c "'$K' --db '$DB' cat $LIVE_ID | cmp -s - '$KT_TMP/stall-cat.out'"
check follow_export_text "export --follow -F text differs from the node's export -F text" \
	sh -c "'$K' --db '$DB' export $LIVE_ID -F text | cmp -s - '$KT_TMP/srv-export.txt'"

# ------------------------------------------------------------------ identical reads
step_start
stop_recorder || fail recorder_exit "recorder exit status $?"
# the node store is final; the follow shipper converges on it
wait_for 30 pg_store_diff "$DB" n1 >/dev/null
pg_store_diff "$DB" n1 >"$KT_TMP/diff.txt"
check shipped_equal "$(cat "$KT_TMP/diff.txt")" test ! -s "$KT_TMP/diff.txt"
# the live session's command trigrams (schema step 8) followed its
# commands, shipped over many batches (`seq` came last): what the
# documented definition gives from the server's commands
nr=$(pg_bloom_counts "s.src = 'n1' AND s.id = $LIVE_ID")
check live_cmd_bloom "the live session's trigrams are / are not the documented ones: $nr" test "$nr" = "1 0"
nkf=$(sqlite3 "$DB" "SELECT count(*) FROM keyframes WHERE session_id = $LIVE_ID")
nkf_srv=$(psqlq "SELECT count(*) FROM keyframes WHERE src = 'n1' AND session_id = $LIVE_ID")
check keyframes_shipped "node has $nkf keyframes of the live session, the server $nkf_srv" \
	sh -c "[ '$nkf' -ge 1 ] && [ '$nkf' = '$nkf_srv' ]"
# a seek target 0.5 s after the live session's first keyframe: the
# keyframe path on both stores (and the rendering path with --no-keyframes)
kf_off=$(sqlite3 "$DB" "SELECT (min(k.ts_us) - s.start_us) / 1000 + 500 FROM keyframes k JOIN sessions s ON s.id = k.session_id WHERE k.session_id = $LIVE_ID")
FROM=$(printf '+%02d:%02d:%02d.%03d' $((kf_off / 3600000)) $((kf_off / 60000 % 60)) $((kf_off / 1000 % 60)) $((kf_off % 1000)))

ok=1
n=0
for id in $(sqlite3 "$DB" "SELECT id FROM sessions ORDER BY id"); do
	gid=$(psqlq "SELECT gid FROM sessions WHERE src = 'n1' AND id = $id")
	for args in "cat" "cat --input" "export -F asciicast" "export -F text" "export -F raw" \
		"replay --no-timing" "replay --no-timing --from $FROM" \
		"replay --no-timing --from $FROM --no-keyframes"; do
		# shellcheck disable=SC2086
		"$K" --db "$DB" $args "$id" </dev/null >"$KT_TMP/a" 2>"$KT_TMP/a.err"
		ra=$?
		# shellcheck disable=SC2086
		"$K" --db "$READER" $args "$gid" </dev/null >"$KT_TMP/b" 2>"$KT_TMP/b.err"
		rb=$?
		n=$((n + 1))
		# an asciicast header's title names the session by its store's id
		LC_ALL=C sed -i "1s/ session $id\"/ session ID\"/" "$KT_TMP/a"
		LC_ALL=C sed -i "1s/ session $gid\"/ session ID\"/" "$KT_TMP/b"
		if [ "$ra" != "$rb" ] || ! cmp -s "$KT_TMP/a" "$KT_TMP/b"; then
			echo "# session $id (server $gid) '$args': node rc $ra, $(wc -c <"$KT_TMP/a") bytes; server rc $rb, $(wc -c <"$KT_TMP/b") bytes: $(head -n 2 "$KT_TMP/b.err")"
			ok=0
		fi
	done
done
check reads_identical "$n reads compared, differences above" test "$ok" = 1
echo "# figure: $n reads (cat, export x3, replay, replay --from $FROM with and without keyframes) byte-identical on server and node"
check seek_used_keyframe "replay --from $FROM gave the same bytes with and without keyframes: no keyframe was used" \
	bash -c "! cmp -s <('$K' --db '$READER' replay --no-timing --from $FROM $GID) <('$K' --db '$READER' replay --no-timing --from $FROM --no-keyframes $GID)"

# ------------------------------------------------------------------ access log
step_start
check access_logged_on_server "$(psqlq "SELECT action, session_id, db_user FROM access_log ORDER BY id DESC LIMIT 3")" \
	pgt "SELECT count(*) >= 3 FROM access_log WHERE db_user = 'kt_reader' AND session_id = $GID AND action IN ('cat', 'replay', 'export')"
"$K" --db "$READER" access-log --session "$GID" --limit 1 >"$KT_TMP/access.txt" 2>&1
check access_log_cli "$(cat "$KT_TMP/access.txt")" grep -q "db role kt_reader" "$KT_TMP/access.txt"
psql -X -q "$READER" -c "DELETE FROM access_log" >"$KT_TMP/del.log" 2>&1
psql -X -q "$READER" -c "INSERT INTO access_log (who, action, db_user) VALUES ('x', 'cat', 'postgres')" >>"$KT_TMP/del.log" 2>&1
check access_log_append_only "$(cat "$KT_TMP/del.log")" \
	sh -c "[ \"\$(grep -c 'permission denied' '$KT_TMP/del.log')\" = 2 ]"

# ------------------------------------------------------------------ outage mid-list
# PostgreSQL stopped while `sessions --json` is half way through 20,000
# rows (rows of a node 'bulk' made here; the listing verifies each, so it
# takes seconds): the listing fails, at once, with the outage named once,
# and no complete JSON array (a consumer cannot take the part for the
# whole); no reconnect per remaining row (it was one line per row, each
# "out of memory", before the backoff); no row printed with a
# verification it could not run ("verification": null, before).  The
# listing is stopped after its first 256 rows were fetched, so fetched
# rows meet the outage in their verification.
step_start
psqlq "INSERT INTO sessions (src, id, uuid, start_us, node, k8s_namespace, pod, container)
	SELECT 'bulk', g, 'bulk-' || g, 1700000000000000 + g::bigint * 1000000, 'bulk', 'ns', 'pod-' || g, 'c'
	FROM generate_series(1, 20000) g" >/dev/null
"$K" --db "$READER" sessions --json >"$KT_TMP/list.out" 2>"$KT_TMP/list.err" &
LIST=$!
wait_for 20 sh -c "[ \$(wc -c <'$KT_TMP/list.out') -gt 100000 ]" || fail outage_list_started "the listing did not start"
kill -STOP "$LIST"
pg_stop
kill -CONT "$LIST"
t0=$(now_ms)
wait_for 20 sh -c "! kill -0 $LIST 2>/dev/null"
t_gone=$(($(now_ms) - t0))
wait "$LIST"
rc=$?
check outage_mid_list "rc $rc after $t_gone ms, $(wc -l <"$KT_TMP/list.err") lines: $(head -c 600 "$KT_TMP/list.err")" \
	sh -c "[ $rc = 1 ] && [ $t_gone -lt 10000 ] && [ \$(grep -c 'cannot reconnect' '$KT_TMP/list.err') = 1 ] && [ \$(grep -c 'out of memory' '$KT_TMP/list.err') = 0 ] && [ \$(wc -l <'$KT_TMP/list.err') -le 5 ] && ! python3 -c 'import json, sys; json.load(open(sys.argv[1]))' '$KT_TMP/list.out' 2>/dev/null && ! grep -q '\"verification\":null' '$KT_TMP/list.out'"
pg_restart || fatal pg_restart "postgres did not restart"

kill -TERM "$SHIPPER"
wait "$SHIPPER"
rc=$?
check shipper_exit0 "shipper exited $rc on SIGTERM" test "$rc" = 0
finish
