# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# tests/lib/pg_same.sh — one CLI command on a node's SQLite store and on the
# cluster store must give the same output (tests/e2e/pg_read_test.sh,
# pg_upgrade_test.sh).  Source after common.sh.  Ids aside: the cluster's id
# is sessions.gid, a node's id is its rowid, so tables are compared without
# their ID column and JSON without ids.
#
#   same NAME "NODE-ARGS" "SERVER-ARGS" FILTER [empty-ok]
#       runs "$K --db $NDB NODE-ARGS" and "$K --db $R SERVER-ARGS" (K, NDB
#       and R are the caller's), both through FILTER: PASS NAME when the exit
#       statuses and the filtered outputs are equal and not empty (empty-ok:
#       empty is fine), else FAIL NAME with the difference.  Outputs stay in
#       $KT_TMP/NAME.node and NAME.pg.
#   strip_id json_noid show_filter cat_filter verify_filter   the filters

# strip_id: a table without its first column (the ids), leading spaces gone
strip_id() { sed -E 's/^ *[0-9]+ +//; s/^ID +//; s/^SESSION +//'; }
# json_noid: JSON without ids ("id", "session_id", "other_sessions",
# "line_id"), node_skipped_runs (the node's meta, not shipped: null on the
# server) and key_from_store (true on the server: the key is kt_nodes',
# false on the node: its node.key.pub lies beside the store), keys sorted
json_noid() {
	python3 -c '
import json, sys
def walk(x):
    if isinstance(x, dict):
        return {k: walk(v) for k, v in sorted(x.items()) if k not in ("id", "session_id", "other_sessions", "line_id", "node_skipped_runs", "key_from_store")}
    if isinstance(x, list):
        return [walk(v) for v in x]
    return x
print(json.dumps(walk(json.load(sys.stdin)), indent=1, sort_keys=True))'
}
same() {
	local name=$1 nargs=$2 sargs=$3 filt=$4 rc1 rc2
	eval "\"$K\" --db \"\$NDB\" $nargs" >"$KT_TMP/$name.node" 2>"$KT_TMP/$name.node.err"
	rc1=$?
	eval "\"$K\" --db \"\$R\" $sargs" >"$KT_TMP/$name.pg" 2>"$KT_TMP/$name.pg.err"
	rc2=$?
	$filt <"$KT_TMP/$name.node" >"$KT_TMP/$name.node.f"
	$filt <"$KT_TMP/$name.pg" >"$KT_TMP/$name.pg.f"
	if [ "$rc1" != "$rc2" ]; then
		fail "$name" "exit $rc1 on the node, $rc2 on the server: $(head -c 300 "$KT_TMP/$name.pg.err")"
	elif ! cmp -s "$KT_TMP/$name.node.f" "$KT_TMP/$name.pg.f"; then
		fail "$name" "output differs: $(diff "$KT_TMP/$name.node.f" "$KT_TMP/$name.pg.f" | head -n 8 | tr '\n' '|')"
	elif [ ! -s "$KT_TMP/$name.node.f" ] && [ "$rc1" = 0 ] && [ "${5:-}" != empty-ok ]; then
		fail "$name" "empty output on both: $(head -c 200 "$KT_TMP/$name.node.err")"
	else
		pass "$name"
	fi
}
show_filter() { sed -E 's/^Session [0-9]+ /Session ID /; /^  Shipped from /d; /^  Skipped runs /d'; }
cat_filter() { cat; }
# the session lines of verify (its node line is the node's chain on a node,
# every node's chain on the server: checked separately)
verify_filter() { grep -v '^node ' | strip_id; }
