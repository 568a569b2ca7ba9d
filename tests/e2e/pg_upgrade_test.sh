#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Upgrading a populated cluster store (FORMAT-pg.md "Migrations"): a
# PostgreSQL store created and filled by the release that had schema step 4
# is taken to this tree's step, $NEW (5: pg_schema_onekey.c, the commands'
# unique key INCLUDEs argv_text and commands_session_text goes; 6:
# sessions.chain_ver and checkpoints.ver, default 1; 7: sessions by
# namespace, node and src in gid order)
# by this tree's code, against a real
# PostgreSQL started here (tests/lib/pg.sh).
#
# The old release is this repository at KT_PG_STEP4_REV (the last commit
# before step 5), built here from git (kubetape and kubetape-recorder, 8-13 s
# on 2 shared cores): its recorder records a node store on the real pod (SQLite
# schema v8, chain version 1, signed checkpoints) and its `kubetape ship
# --once --migrate` creates step 4 and ships the store, as a cluster
# running that release did.  Then, as an upgrade does: this tree's
# migration (tests/helpers/kt_pg_migrate, what `kubetape ship --migrate`
# runs on connecting), this tree's recorder started once on the node store
# (SQLite v8 -> v9), this tree's shipper.
#
# Asserts: step 4 from this tree's steps is the old release's schema (no
# released step edited); readers refuse step 4 with one clear line; a
# migration interrupted (client killed while it waits, connection cut)
# leaves step 4 and every row as they were; two migrators at once end at
# step $NEW once (one logs the migration, the other nothing) and no row
# changes; a reader polling all through it either refuses step 4 with its
# one line or lists the migrated store (never another error, a hang or a
# partial list), and each list is in the access log; the upgraded schema is the schema a fresh store gets; no
# duplicate commands; old sessions and checkpoints read as chain version 1;
# sessions/search/show/cat/verify give the node's output on the server; two
# shippers at once after the upgrade and a third one are idempotent.
#
# Limits: one node (pg_read_test covers three); the old release's BPF
# program must load on this kernel (it did when it was the current one).
. "$(dirname "$0")/../lib/common.sh"
. "$KT_REPO/tests/lib/pg.sh"
. "$KT_REPO/tests/lib/outage.sh"
. "$KT_REPO/tests/lib/pg_same.sh"

# the last commit at PostgreSQL schema step 4 (its child 44c3d48 added step 5)
KT_PG_STEP4_REV=824085575fb6c54384ecb13199067a236f4f801b

require_root
require_containerd
require_bpf
require_cmd git make tar python3 sqlite3 psql pg_dump
require_built "$KT_OUT/kubetape-recorder" "$KT_OUT/kubetape" "$PTYRUN" "$KT_OUT/tests/kt_pg_migrate"

K="$KT_OUT/kubetape"
MIG="$KT_OUT/tests/kt_pg_migrate"
OLD=$KT_TMP/old
PORT=$(free_port)
export KUBETAPE_ACCESS_DIR=$KT_TMP/access
NDB=$KT_TMP/n1/node.db
# this tree's schema step (store/include/pg.h)
NEW=$(sed -n 's/^#define KT_PG_SCHEMA_VERSION \([0-9][0-9]*\)$/\1/p' "$KT_REPO/store/include/pg.h")
[ -n "$NEW" ] && [ "$NEW" -ge 7 ] || fatal schema_version "KT_PG_SCHEMA_VERSION not found in store/include/pg.h (or below 7)"

# ------------------------------------------------------------------ the old release
step_start
git -C "$KT_REPO" cat-file -e "$KT_PG_STEP4_REV^{commit}" 2>"$KT_TMP/git.err" ||
	fatal old_release_source "commit $KT_PG_STEP4_REV is not in $KT_REPO's git history (a shallow clone?): $(cat "$KT_TMP/git.err")"
mkdir -p "$OLD"
git -C "$KT_REPO" archive "$KT_PG_STEP4_REV" | tar -x -C "$OLD" ||
	fatal old_release_source "git archive $KT_PG_STEP4_REV failed"
# its own make, not this one's jobserver (make test runs us)
env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -C "$OLD" -j2 OUT=build build/kubetape build/kubetape-recorder \
	>"$KT_TMP/old-build.log" 2>&1 || { show "$KT_TMP/old-build.log"; fatal old_release_build "building $KT_PG_STEP4_REV failed"; }
grep -q 'KT_PG_SCHEMA_VERSION 4$' "$OLD/store/include/pg.h" ||
	fatal old_release_build "$KT_PG_STEP4_REV is not at PostgreSQL schema step 4"
pass old_release_build

step_start
pg_start "$PORT"
pass pg_start
pod_up pod_up

# the old recorder: a tty session (commands, screen output to index) and
# two execs, on the pod; then its pins go, so this tree's recorder starts
# fresh below (recorder upgrades are restart_test's)
step_start
mkdir -p "$KT_TMP/n1"
KT_OUT=$OLD/build start_recorder record_old "$NDB" "$KT_TMP/rec-old.log" --node-name n1
cat >"$KT_TMP/tty.script" <<EOF
expect "# " 10
send "echo hello-upgrade; ls /; id\r"
expect "uid=0" 5
send "seq 1 250000; echo upgrade-done\r"
expect "^upgrade-done" 30
send "exit 3\r"
wait-exit 10
EOF
# shellcheck disable=SC2046 # ctr_exec_tty prints an argv
$PTYRUN --raw --rows 24 --cols 80 --script "$KT_TMP/tty.script" --out "$KT_TMP/tty.out" \
	-- $(ctr_exec_tty pgupgrade) >"$KT_TMP/tty.log" 2>&1
rc=$?
[ "$rc" = 3 ] || { show "$KT_TMP/tty.log"; fail record_old "the tty session's client exited $rc, not 3"; }
fakepod exec sh -c "echo first-exec" >/dev/null 2>&1 || fail record_old "fakepod exec failed"
fakepod exec sh -c "cat /etc/hostname; echo second-exec" >/dev/null 2>&1 || fail record_old "fakepod exec failed"
wait_for 15 sh -c "[ \"\$(sqlite3 '$NDB' 'SELECT count(*) FROM sessions WHERE state != 0')\" -ge 3 ]" ||
	fail record_old "three ended sessions expected"
wait_for 30 sh -c "[ \"\$(sqlite3 '$NDB' 'SELECT count(*) FROM screen_index WHERE done = 1')\" -ge 1 ]" ||
	fail record_old "the old recorder did not finish indexing in 30 s"
stop_recorder || fail record_old "old recorder exit status $?"
"$OLD/build/kubetape-recorder" --unpin --pin-dir "$KT_PIN_DIR" >/dev/null 2>&1
nv=$(sqlite3 "$NDB" "SELECT value FROM meta WHERE key = 'schema_version'")
ncp=$(sqlite3 "$NDB" "SELECT count(*) FROM checkpoints")
check record_old "node store v$nv with $ncp checkpoints (v8 and >= 1 expected)" \
	test "$nv" = 8 -a "$ncp" -ge 1

# the old shipper creates step 4 and ships
step_start
"$OLD/build/kubetape" --db "$NDB" ship --to "$PG_URL" --node-name n1 --once --migrate \
	>"$KT_TMP/ship-old.log" 2>&1 || { show "$KT_TMP/ship-old.log"; fatal ship_old "the old shipper failed"; }
ver() { psqlq "SELECT value FROM kt_meta WHERE key = 'schema_version'"; }
v=$(ver)
[ "$v" = 4 ] || fatal ship_old "schema version $v after the old shipper, 4 expected"
d=$(pg_store_diff "$NDB" n1) || fatal ship_old "the server differs from the node: $d"
pass ship_old
psqlq "SELECT 'sessions ' || (SELECT count(*) FROM sessions) || ', commands ' || (SELECT count(*) FROM commands)
	|| ', chunks ' || (SELECT count(*) FROM chunks) || ', keyframes ' || (SELECT count(*) FROM keyframes)
	|| ', checkpoints ' || (SELECT count(*) FROM checkpoints)" | sed 's/^/# at step 4: /'

# ------------------------------------------------------------------ the schema as released
# schema_dump DB: the schema of database DB, without comments and settings
schema_dump() {
	pg_dump --schema-only "postgresql://postgres@127.0.0.1:$PORT/$1" |
		grep -vE '^(--|SET |SELECT pg_catalog\.set_config|\\(un)?restrict )' | cat -s
}
newdb() {
	psql -X -q "postgresql://postgres@127.0.0.1:$PORT/postgres" -c \
		"CREATE DATABASE $1 ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
}
step_start
newdb fresh4 && "$MIG" "postgresql://postgres@127.0.0.1:$PORT/fresh4" 4 >"$KT_TMP/fresh4.log" 2>&1 ||
	fatal schema_step4_as_released "migrating a new database to step 4: $(cat "$KT_TMP/fresh4.log")"
schema_dump kubetape >"$KT_TMP/schema4.old"
schema_dump fresh4 >"$KT_TMP/schema4.new"
check schema_step4_as_released "steps 1-4 of this tree differ from the old release's: $(diff "$KT_TMP/schema4.old" "$KT_TMP/schema4.new" | head -n 8 | tr '\n' '|')" \
	cmp -s "$KT_TMP/schema4.old" "$KT_TMP/schema4.new"

# ------------------------------------------------------------------ the rows at step 4
# Every table's row count and content hash over the columns it had at step
# 4, in the table's own text form (bytea as hex), rows sorted: a migration
# must change none of them (but kt_meta's schema_version, checked itself).
TABLES=$(psqlq "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'
	AND table_type = 'BASE TABLE' AND table_name != 'kt_meta' ORDER BY 1")
for t in $TABLES; do
	eval "COLS_$t=\$(psqlq \"SELECT string_agg(quote_ident(column_name), ',' ORDER BY ordinal_position)
		FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '$t'\")"
done
# snapshot [TABLE...]: "table rows md5" lines (default: every step-4 table);
# the access log's rows up to ACC_MAX, its last at step 4 (readers during
# the migration add theirs: counted by readers_during_migration_logged)
snapshot() {
	local t cols w tabs=${*:-$TABLES}
	for t in $tabs; do
		eval "cols=\$COLS_$t"
		w=""
		[ "$t" = access_log ] && [ -n "${ACC_MAX:-}" ] && w="WHERE id <= $ACC_MAX"
		echo "$t $(psqlq "SELECT count(*) || ' ' || coalesce(md5(string_agg(r, E'\n' ORDER BY r)), '-')
			FROM (SELECT ROW($cols)::text AS r FROM $t $w) x")"
	done
}
ACC_MAX=$(psqlq "SELECT coalesce(max(id), 0) FROM access_log")
snapshot >"$KT_TMP/rows4"
grep -q '^commands [1-9]' "$KT_TMP/rows4" && grep -q '^checkpoints [1-9]' "$KT_TMP/rows4" ||
	fatal rows_step4 "the step-4 store is not populated: $(tr '\n' '|' <"$KT_TMP/rows4")"
# rows_same NAME WHEN: the rows are those of step 4
rows_same() {
	snapshot >"$KT_TMP/rows.$1"
	check "$1" "rows changed $2: $(diff "$KT_TMP/rows4" "$KT_TMP/rows.$1" | tr '\n' '|')" \
		cmp -s "$KT_TMP/rows4" "$KT_TMP/rows.$1"
}
# step4_intact NAME: still step 4, schema and rows as the old release left them
step4_intact() {
	local v
	v=$(ver)
	schema_dump kubetape >"$KT_TMP/schema.$1"
	if [ "$v" != 4 ]; then
		fail "$1" "schema version $v, 4 expected"
	elif [ "$(psqlq "SELECT coalesce(max(id), 0) FROM access_log")" != "$ACC_MAX" ]; then
		fail "$1" "the access log gained rows: no read ran"
	elif ! cmp -s "$KT_TMP/schema4.old" "$KT_TMP/schema.$1"; then
		fail "$1" "the schema changed: $(diff "$KT_TMP/schema4.old" "$KT_TMP/schema.$1" | head -n 6 | tr '\n' '|')"
	else
		rows_same "$1" "by an interrupted migration"
	fi
}

# ------------------------------------------------------------------ readers at step 4
step_start
R=$(pg_reader kt_reader) || fatal reader_role "creating the reader role failed"
"$K" --db "$R" sessions >"$KT_TMP/read4.out" 2>&1
rc=$?
check reader_refuses_step4 "a reader on step 4 (rc $rc): $(cat "$KT_TMP/read4.out")" \
	sh -c "[ $rc != 0 ] && grep -q \"schema version 4, $NEW needed: run 'kubetape ship --migrate'\" '$KT_TMP/read4.out' && [ \$(wc -l <'$KT_TMP/read4.out') -le 2 ]"

# ------------------------------------------------------------------ interrupted migrations
# A migration that cannot finish: a session holds a lock on commands (as a
# long report would), so step 5's ALTER TABLE waits inside the migration's
# transaction, with the advisory lock held.
BLOCKER=""
# blocker_locked: the blocking session holds its lock
blocker_locked() {
	[ "$(psqlq "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE a.application_name = 'kt_blocker' AND l.relation = 'commands'::regclass AND l.granted")" = 1 ]
}
block_commands() {
	PGAPPNAME=kt_blocker psql -X -q "$PG_URL" -c "BEGIN" -c "LOCK TABLE commands IN ACCESS SHARE MODE" \
		-c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
	BLOCKER=$!
	wait_for 10 blocker_locked
}
unblock_commands() {
	[ -n "$BLOCKER" ] || return 0
	psqlq "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'kt_blocker'" >/dev/null
	wait "$BLOCKER" 2>/dev/null
	BLOCKER=""
}
# migrators N [EVENT]: N migration backends (waiting on EVENT: relation,
# the table lock; advisory, the migration lock)
# shellcheck disable=SC2016 # '$2' is inside double quotes: it expands
migrators() {
	[ "$(psqlq "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'kt_pg_migrate'
		${2:+AND wait_event_type = 'Lock' AND wait_event = '$2'}")" = "$1" ]
}
migrators_waiting() { wait_for 15 migrators "$1" "$2"; }
no_migrators() { wait_for 20 migrators 0; }
# blocked_migrator NAME LOG: commands locked, a migrator (pid in MPID,
# output in LOG) waiting on it with the migration lock held; fatal NAME
# when it does not get there
blocked_migrator() {
	block_commands || fatal "$1" "the blocking session did not get its lock"
	"$MIG" "$PG_URL" >"$2" 2>&1 &
	MPID=$!
	migrators_waiting 1 relation || fatal "$1" "the migrator never waited on commands"
}
at_exit 'unblock_commands'

# the migrating client killed (SIGKILL) while it waits: its backend goes
# on, finds the client gone and rolls back; nothing was committed
step_start
blocked_migrator migrate_client_killed "$KT_TMP/mig-killed.log"
# (braces: bash reports the SIGKILLed job on the script's stderr)
{ kill -KILL "$MPID"; wait "$MPID"; } 2>/dev/null
unblock_commands
no_migrators || fail migrate_client_killed "the killed migrator's backend did not end in 20 s"
step4_intact migrate_client_killed

# the migration's connection cut by the server: the migrator fails with a
# reason, nothing was committed
step_start
blocked_migrator migrate_connection_cut "$KT_TMP/mig-cut.log"
psqlq "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'kt_pg_migrate'" >/dev/null
wait "$MPID"
rc=$?
unblock_commands
if [ "$rc" = 0 ] || ! grep -q 'postgres: migration step 5:' "$KT_TMP/mig-cut.log"; then
	fail migrate_connection_cut "the migrator exited $rc: $(tr '\n' '|' <"$KT_TMP/mig-cut.log")"
else
	step4_intact migrate_connection_cut
fi

# ------------------------------------------------------------------ two migrators at once
# The first waits on commands holding the migration lock, the second waits
# for that lock; then both go.  The migration happens once: one logs it,
# the other finds step $NEW under the lock and does nothing.
step_start
blocked_migrator migrate_concurrent "$KT_TMP/mig-a.log"
ma=$MPID
"$MIG" "$PG_URL" >"$KT_TMP/mig-b.log" 2>&1 &
mb=$!
migrators_waiting 1 advisory || fail migrate_concurrent "the second migrator never waited for the migration lock"
[ "$(ver)" = 4 ] || fail migrate_concurrent "the version changed before the migrators could run: $(ver)"
# A reader polling all the while (as a responder's script would): each run
# refuses step 4 with its one line, or, once step $NEW is committed, lists the
# migrated store; never another error, a hang (timeout 20) or a partial
# list.  Bounded: at most 300 runs, and 3 more after the migrators end.
log0=$(psqlq "SELECT count(*) FROM access_log")
(
	i=0 after=0
	while [ "$i" -lt 300 ] && [ "$after" -lt 3 ]; do
		i=$((i + 1))
		[ -e "$KT_TMP/mig.done" ] && after=$((after + 1))
		timeout 20 "$K" --db "$R" sessions --node n1 >"$KT_TMP/poll.$i.out" 2>&1
		echo $? >"$KT_TMP/poll.$i.rc"
		sleep 0.05
	done
) &
POLL=$!
at_exit 'kill "$POLL" 2>/dev/null || true'
# a run that met step 4 before the migration may go on (a CLI run takes
# 20-400 ms on the hosts seen)
refused() { grep -qx 1 "$KT_TMP"/poll.*.rc 2>/dev/null; }
wait_for 20 refused || fail readers_during_migration "no reader run ended in 20 s while the migration waited"
unblock_commands
wait "$ma"
rca=$?
wait "$mb"
rcb=$?
touch "$KT_TMP/mig.done"
wait "$POLL"
logs="A: $(tr '\n' '|' <"$KT_TMP/mig-a.log") B: $(tr '\n' '|' <"$KT_TMP/mig-b.log")"
if [ "$rca$rcb" != 00 ]; then
	fail migrate_concurrent "the migrators exited $rca and $rcb: $logs"
elif [ "$(ver)" != "$NEW" ]; then
	fail migrate_concurrent "schema version $(ver) after both, $NEW expected"
elif ! grep -qx "kt_pg_migrate: info: postgres: schema migrated from version 4 to $NEW" "$KT_TMP/mig-a.log" ||
	[ -s "$KT_TMP/mig-b.log" ]; then
	fail migrate_concurrent "the first should log the migration from 4 to $NEW, the second nothing: $logs"
else
	pass migrate_concurrent
fi
# the polling reader: classify every run against the list read now
"$K" --db "$R" sessions --node n1 >"$KT_TMP/poll.ref" 2>&1 || fail readers_during_migration "the list after the migration failed: $(cat "$KT_TMP/poll.ref")"
nref=0 nok=0 nbad=0 bad=""
for rcf in "$KT_TMP"/poll.*.rc; do
	o=${rcf%.rc}.out
	if [ "$(cat "$rcf")" = 0 ] && cmp -s "$o" "$KT_TMP/poll.ref"; then
		nok=$((nok + 1))
	elif [ "$(cat "$rcf")" = 1 ] && [ "$(wc -l <"$o")" -le 2 ] &&
		grep -q "schema version 4, $NEW needed: run 'kubetape ship --migrate'" "$o"; then
		nref=$((nref + 1))
	else
		nbad=$((nbad + 1))
		[ -n "$bad" ] || bad="rc $(cat "$rcf"): $(head -c 300 "$o" | tr '\n' '|')"
	fi
done
echo "readers during the migration: $nref refusals of step 4, $nok lists of step $NEW" >&2
check readers_during_migration "$nref refusals of step 4, $nok lists of step $NEW, $nbad other: $bad" \
	test "$nbad" = 0 -a "$nref" -gt 0 -a "$nok" -gt 0
# each list (and the reference run) left one access-log row, a refusal none
log1=$(psqlq "SELECT count(*) FROM access_log")
check readers_during_migration_logged "access log $log0 -> $log1 rows for $nok + 1 lists" \
	test "$log1" = $((log0 + nok + 1))
rows_same rows_unchanged_by_migration "by the migration"

# ------------------------------------------------------------------ the upgraded schema
step_start
schema_dump kubetape >"$KT_TMP/schema.upgraded"
newdb fresh && "$MIG" "postgresql://postgres@127.0.0.1:$PORT/fresh" >"$KT_TMP/fresh.log" 2>&1 ||
	fail schema_upgraded_as_fresh "migrating a new database: $(cat "$KT_TMP/fresh.log")"
schema_dump fresh >"$KT_TMP/schema.fresh"
check schema_upgraded_as_fresh "the upgraded schema differs from a new store's: $(diff "$KT_TMP/schema.upgraded" "$KT_TMP/schema.fresh" | head -n 8 | tr '\n' '|')" \
	cmp -s "$KT_TMP/schema.upgraded" "$KT_TMP/schema.fresh"
key=$(psqlq "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'commands_src_session_id_seq_key'")
old_ix=$(psqlq "SELECT to_regclass('commands_session_text') IS NULL")
check step5_one_key "commands key '$key', commands_session_text gone: $old_ix" \
	test "$key" = "UNIQUE (src, session_id, seq) INCLUDE (argv_text)" -a "$old_ix" = t
ix=$(psqlq "SELECT string_agg(pg_get_indexdef(i::regclass), '; ' ORDER BY i)
	FROM unnest(ARRAY['sessions_ns_gid', 'sessions_node_gid', 'sessions_src_gid']) i")
check step7_filter_gid "step 7's indexes: '$ix'" \
	test "$ix" = "CREATE INDEX sessions_node_gid ON public.sessions USING btree (node, gid); CREATE INDEX sessions_ns_gid ON public.sessions USING btree (k8s_namespace, gid); CREATE INDEX sessions_src_gid ON public.sessions USING btree (src, gid)"
# no_dup_commands NAME: one row per (src, session_id, seq) and per (src, id)
no_dup_commands() {
	local d
	d=$(psqlq "SELECT (SELECT count(*) FROM (SELECT 1 FROM commands GROUP BY src, session_id, seq HAVING count(*) > 1) a)
		|| ' ' || (SELECT count(*) FROM (SELECT 1 FROM commands GROUP BY src, id HAVING count(*) > 1) b)")
	check "$1" "duplicated command keys (session/seq, id): $d" test "$d" = "0 0"
}
no_dup_commands no_dup_commands_migrated
# step 8: every ended session's command trigrams filled from the server's
# commands, an active one's left unknown (NULL: a shipper older than step 8
# may still add commands to it)
nb=$(psqlq "SELECT count(*) FILTER (WHERE cmd_bloom IS NULL AND state <> 0) || ' '
	|| count(*) FILTER (WHERE cmd_bloom IS NOT NULL AND state = 0) || ' '
	|| count(*) FILTER (WHERE cmd_bloom IS NOT NULL) FROM sessions")
check step8_cmd_bloom "ended without, active with, all with trigrams: $nb" \
	test "${nb% *}" = "0 0" -a "${nb##* }" -gt 0
vers=$(psqlq "SELECT (SELECT string_agg(DISTINCT chain_ver::text, ',') FROM sessions) || ' '
	|| (SELECT string_agg(DISTINCT ver::text, ',') FROM checkpoints)")
check step6_old_rows_version_1 "chain versions of old sessions and checkpoints: $vers" test "$vers" = "1 1"

# ------------------------------------------------------------------ the node upgraded
# this tree's recorder, started once on the node store, migrates it (v9:
# the old sessions' chain_ver is 1 there too)
step_start
start_recorder record_new "$NDB" "$KT_TMP/rec-new.log" --node-name n1
stop_recorder || fail node_upgrade "recorder exit status $?"
nv=$(sqlite3 "$NDB" "SELECT value FROM meta WHERE key = 'schema_version'")
nvers=$(sqlite3 "$NDB" "SELECT (SELECT group_concat(DISTINCT chain_ver) FROM sessions) || ' ' || (SELECT group_concat(DISTINCT ver) FROM checkpoints)")
check node_upgrade "node store v$nv, chain versions '$nvers' (v9, '1 1' expected)" \
	test "$nv" = 9 -a "$nvers" = "1 1"

# ------------------------------------------------------------------ reads on the upgraded store
# reads PHASE: every CLI read gives the node's output on the server
reads() {
	local p=$1 id gid nsrv
	same "sessions_$p" "sessions" "sessions --node n1" strip_id
	same "sessions_json_$p" "sessions --json" "sessions --json --node n1" json_noid
	same "search_commands_$p" "search --in commands echo" "search --in commands --node n1 echo" strip_id
	same "search_screen_$p" "search --in screen upgrade-done" "search --in screen --node n1 upgrade-done" strip_id
	same "search_json_$p" "search --in commands --json id" "search --in commands --json --node n1 id" json_noid
	for id in $(sqlite3 "$NDB" "SELECT id FROM sessions ORDER BY id"); do
		gid=$(psqlq "SELECT gid FROM sessions WHERE src = 'n1' AND id = $id")
		same "show_${p}_$id" "show $id" "show n1:$id" show_filter
		same "show_json_${p}_$id" "show --json $id" "show --json n1:$id" json_noid
		same "cat_${p}_$id" "cat $id" "cat n1:$id" cat_filter empty-ok
		same "verify_${p}_$id" "verify $id" "verify $gid" verify_filter
		grep -q ' verified ' "$KT_TMP/verify_${p}_$id.pg" ||
			fail "verify_clean_${p}_$id" "not verified on the server: $(cat "$KT_TMP/verify_${p}_$id.pg")"
	done
	nsrv=$(psqlq "SELECT count(*) FROM checkpoints")
	"$K" --db "$R" verify --all >"$KT_TMP/verify-all-$p.pg" 2>"$KT_TMP/verify-all-$p.err"
	check "verify_all_$p" "verify --all on the server (rc $?): $(tail -n 3 "$KT_TMP/verify-all-$p.pg") $(head -c 300 "$KT_TMP/verify-all-$p.err")" \
		grep -q "^node   verified       $nsrv checkpoints, linked and signed" "$KT_TMP/verify-all-$p.pg"
}
step_start
reads migrated

# ------------------------------------------------------------------ shipping after the upgrade
# two shippers at once (they take turns on the node's kt_nodes row), then
# a third: the server holds the node's rows once each, and the third
# changes nothing
step_start
for i in 1 2; do
	"$K" --db "$NDB" ship --to "$PG_URL" --node-name n1 --once --migrate >"$KT_TMP/ship-new$i.log" 2>&1 &
	eval "SHIP$i=\$!"
done
wait "$SHIP1"
rc1=$?
wait "$SHIP2"
rc2=$?
check ship_after_upgrade "the shippers exited $rc1 and $rc2: $(cat "$KT_TMP/ship-new1.log" "$KT_TMP/ship-new2.log" | tr '\n' '|')" \
	test "$rc1$rc2" = 00
d=$(pg_store_diff "$NDB" n1)
check server_is_node_after_ship "the server differs from the node: $d" test -z "$d"
no_dup_commands no_dup_commands_shipped
# every table but the shipper's own figures (kt_nodes: times, batch count)
# and the readers' access log
ALL=$(echo "$TABLES" | grep -vxE 'kt_nodes|access_log')
for t in $ALL; do
	eval "COLS_$t=\$(psqlq \"SELECT string_agg(quote_ident(column_name), ',' ORDER BY ordinal_position)
		FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '$t'\")"
done
# shellcheck disable=SC2086
snapshot $ALL >"$KT_TMP/rows.ship2"
"$K" --db "$NDB" ship --to "$PG_URL" --node-name n1 --once >"$KT_TMP/ship-new3.log" 2>&1 ||
	fail ship_again "the third shipper failed: $(cat "$KT_TMP/ship-new3.log")"
# shellcheck disable=SC2086
snapshot $ALL >"$KT_TMP/rows.ship3"
check ship_again_idempotent "a third ship changed rows: $(diff "$KT_TMP/rows.ship2" "$KT_TMP/rows.ship3" | tr '\n' '|')" \
	cmp -s "$KT_TMP/rows.ship2" "$KT_TMP/rows.ship3"
step_start
reads shipped

# step 8's filters, made by the migration from the server's commands, are
# the ones a shipper makes from the node's (the node shipped to the new
# database of schema_upgraded_as_fresh)
step_start
FRESH="postgresql://postgres@127.0.0.1:$PORT/fresh"
"$K" --db "$NDB" ship --to "$FRESH" --node-name n1 --once >"$KT_TMP/ship-fresh.log" 2>&1 ||
	fail step8_fill_is_shippers "shipping to a new database failed: $(cat "$KT_TMP/ship-fresh.log")"
bq="SELECT src, id, cmd_bloom FROM sessions WHERE state <> 0 ORDER BY src, id"
psql -X -A -t "$PG_URL" -c "$bq" >"$KT_TMP/bloom.migrated" 2>&1
psql -X -A -t "$FRESH" -c "$bq" >"$KT_TMP/bloom.shipped" 2>&1
check step8_fill_is_shippers "$(wc -l <"$KT_TMP/bloom.shipped") sessions shipped; differ: $(diff "$KT_TMP/bloom.migrated" "$KT_TMP/bloom.shipped" | cut -c1-80 | head -n 4 | tr '\n' '|')" \
	cmp -s "$KT_TMP/bloom.migrated" "$KT_TMP/bloom.shipped"

finish
