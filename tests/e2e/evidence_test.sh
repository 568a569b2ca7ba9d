#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Issue 10, points 1-4, on a real recording (real recorder, real containerd
# pod, `ctr task exec --tty` through a pty):
#  - secrets typed at `read -s`, after `stty -echo` and at a sudo-style
#    prompt (a program clearing ECHO on /dev/tty and reading a line, as sudo does) appear
#    nowhere: DB file and WAL bytes, every export format, the web API, the
#    search index; with the default options (no input at all) and with
#    --input (the kernel withholds echo-off input, marked in the stream);
#  - every default redaction rule on a real exec, and a custom rule;
#  - kubetape verify on the untampered store (before and after compaction)
#    and the tamper table on copies of the real recording;
#  - the access log records a CLI export and a web replay.
. "$(dirname "$0")/../lib/common.sh"

require_root
require_containerd
require_bpf
require_cmd python3 sqlite3
require_built "$KT_OUT/kubetape-recorder" "$KT_OUT/kubetape" "$KT_OUT/kubetape-web" "$PTYRUN"

SECRET_A=AlphaReadS7f3kq
SECRET_B=BravoSttyEcho9q2w
SECRET_C=CharlieSudo4m8xz
VISIBLE=visible-typed-5h6j
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $2" "$@"; }

ctr_exec_tty() {
	echo ctr --address "$CONTAINERD_ADDRESS" -n "$CONTAINERD_NAMESPACE" task exec --tty --exec-id "$1" "$CONTAINER_ID" bash
}

# The session: three secrets at three kinds of echo-off prompts, one line
# typed with echo on, then an exec per redaction rule.
cat >"$KT_TMP/s.script" <<EOF
expect "# " 10
# prompts are split in the typed line ('Pass''word'): expect must not
# match the shell's echo of the command before the program prompts
send "read -rs -p 'Pass''word: ' pw; echo; echo got-\${#pw}\r"
expect "Password: " 5
send "$SECRET_A\r"
expect "got-15" 5
send "stty -echo; printf 'X''> '; read -r x; stty echo; echo; echo len-\${#x}\r"
expect "X> " 5
send "$SECRET_B\r"
expect "len-17" 5
send "stty -echo </dev/tty; printf '[sudo] pass''word for app: '; head -n1 >/dev/null; stty echo </dev/tty; echo; echo sudo-done\r"
expect "password for app: " 5
send "$SECRET_C\r"
expect "sudo-done" 5
send "read -r v; echo v=\$v\r"
sleep 0.3
send "$VISIBLE\r"
expect "v=$VISIBLE" 5
send "env FOO_TOKEN=tok9d8c7b true\r"
send "env DB_PASSWORD=pw5e4d3c true\r"
send "env APP_SECRET=sec1a2b3c true\r"
send "/usr/bin/true --password=flag6f5e4d\r"
send "/usr/bin/true --password next7g6f5e\r"
send "(exec -a mysql true -uroot -pmy8h7g6f db)\r"
send "env AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE true\r"
send "/usr/bin/true --pin=pin2c3d4e\r"
send "echo done-typing\r"
expect "done-typing\r\n" 5
send "exit 0\r"
wait-exit 10
EOF
printf 'flag pin --pin\n' >"$KT_TMP/rules"

# record DB EXEC-ID ARGS... — one recorded session into DB; sets SID
record() {
	local db=$1 id=$2 n
	shift 2
	start_recorder "record_$id" "$db" "$KT_TMP/rec-$id.log" --node-name ev-node \
		--redact-rules "$KT_TMP/rules" "$@"
	$PTYRUN --raw --rows 24 --cols 80 --script "$KT_TMP/s.script" --out "$KT_TMP/$id.out" \
		-- $(ctr_exec_tty "$id") >"$KT_TMP/$id.log" 2>&1 ||
		{ show "$KT_TMP/$id.log"; show "$KT_TMP/$id.out"; fatal "record_$id" "the scripted session failed"; }
	# a second, command-only session: the node chain has two sessions
	fakepod exec sh -c 'id' >/dev/null 2>&1
	wait_for 10 sh -c "[ \$($KT_OUT/kubetape --db $db sessions --json | grep -o '\"state\":\"ended\"' | wc -l) -ge 2 ]" ||
		fatal "record_$id" "sessions not ended within 10 s"
	$KT_OUT/kubetape --db "$db" sessions --json >"$KT_TMP/$id.sessions.json"
	SID=$(json "$KT_TMP/$id.sessions.json" "print([s['id'] for s in d if s['has_tty']][0])")
}

# no_secret NAME FILE... — none of the typed secrets in these files' bytes
no_secret() {
	local name=$1 f s hits=""
	shift
	for f in "$@"; do
		[ -e "$f" ] || continue
		for s in "$SECRET_A" "$SECRET_B" "$SECRET_C"; do
			grep -aqF -- "$s" "$f" && hits="$hits $s in $(basename "$f")"
		done
	done
	check "$name" "found:$hits" test -z "$hits"
}

step_start
pod_up pod_up
pass pod_up

# ================================================================== default options
# --no-index: chunks stay as appended (many small chunks, for the tamper table)
DB_A=$KT_TMP/a/kt.db
step_start
record "$DB_A" ev-default --no-index
KA="$KT_OUT/kubetape --db $DB_A"
grep -a "redacted" "$KT_TMP/rec-ev-default.log" | head -3 | sed 's/^/# /'
pass recorded_default
# while the recorder runs: the WAL holds the latest pages
no_secret secrets_not_in_db_wal_live "$DB_A" "$DB_A-wal"
$KA show "$SID" --json >"$KT_TMP/a.show.json"
check default_no_input "input was stored without --input: $(json "$KT_TMP/a.show.json" "print(d['session']['bytes_in'])")" \
	json "$KT_TMP/a.show.json" "sys.exit(d['session']['bytes_in'] != 0)"
check output_still_recorded "no output recorded" json "$KT_TMP/a.show.json" "sys.exit(d['session']['bytes_out'] < 500)"

# ---- redaction: each default rule on a real exec, and the custom one
step_start
check redaction_rules "argv: $(json "$KT_TMP/a.show.json" "print([' '.join(c['argv']) for c in d['commands']])")" \
	json "$KT_TMP/a.show.json" "
argvs = [' '.join(c['argv']) for c in d['commands']]
want = ['env FOO_TOKEN=[redacted:token] true', 'env DB_PASSWORD=[redacted:password] true',
        'env APP_SECRET=[redacted:secret] true', '/usr/bin/true --password=[redacted:password-flag]',
        '/usr/bin/true --password [redacted:password-flag]', 'mysql -uroot -p[redacted:mysql-p] db',
        'env AWS_ACCESS_KEY_ID=[redacted:aws-access-key] true', '/usr/bin/true --pin=[redacted:pin]']
missing = [w for w in want if w not in argvs]
print(missing, file=sys.stderr)
sys.exit(bool(missing))"
leaked=$(sqlite3 "$DB_A" "SELECT count(*) FROM commands WHERE argv_text LIKE '%tok9d8c7b%' OR argv_text LIKE '%pw5e4d3c%' OR argv_text LIKE '%sec1a2b3c%' OR argv_text LIKE '%flag6f5e4d%' OR argv_text LIKE '%next7g6f5e%' OR argv_text LIKE '%my8h7g6f%' OR argv_text LIKE '%AKIAIOSFODNN7EXAMPLE%' OR argv_text LIKE '%pin2c3d4e%' OR CAST(argv AS TEXT) LIKE '%tok9d8c7b%'")
check redacted_values_not_in_commands "$leaked commands hold a redacted value" test "$leaked" = 0
for v in tok9d8c7b AKIAIOSFODNN7EXAMPLE pin2c3d4e; do
	n=$($KA search --in commands --json "$v" | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
	check "redacted_not_searchable_$v" "$n command hits" test "$n" = 0
done

# ---- every export format, the CLI
step_start
$KA cat "$SID" >"$KT_TMP/a.raw"
$KA cat --input "$SID" >"$KT_TMP/a.in"
for f in asciicast text json raw; do
	$KA export "$SID" --format $f -o "$KT_TMP/a.export.$f"
done
no_secret secrets_not_in_exports_default "$KT_TMP"/a.raw "$KT_TMP"/a.in "$KT_TMP"/a.export.*
check visible_output_recorded "the echo of the visible line is missing" contains "$KT_TMP/a.raw" "v=$VISIBLE"

# ---- verify the untampered store, then the tamper table on copies
step_start
KEYDIR=$KT_TMP/a
$KA verify --all >"$KT_TMP/a.verify" 2>&1
rc=$?
sed 's/^/# /' "$KT_TMP/a.verify"
check verify_clean "verify exited $rc" test "$rc" = 0
check verify_clean_lines "not every session verified" sh -c "[ \$(grep -c ' verified ' '$KT_TMP/a.verify') -ge 3 ]"
check pubkey_exported "--print-pubkey differs from node.key.pub" \
	sh -c "[ \"\$('$KT_OUT/kubetape-recorder' --db '$DB_A' --print-pubkey)\" = \"\$(cat '$KEYDIR/node.key.pub')\" ]"
check key_mode_0600 "node.key mode $(stat -c %a "$KEYDIR/node.key")" test "$(stat -c %a "$KEYDIR/node.key")" = 600

# tamper NAME WANT SQL-OR-PY [VERIFY-ARGS] — apply to a fresh copy of the
# stopped store; verify must exit 4 and print WANT
stop_recorder >/dev/null
tamper() {
	local name=$1 want=$2 how=$3 c=$KT_TMP/t/kt.db rc
	shift 3
	rm -rf "$KT_TMP/t"; mkdir -p "$KT_TMP/t"
	cp "$KEYDIR/node.key.pub" "$KEYDIR/node.key.head" "$KT_TMP/t/"
	sqlite3 "$DB_A" "VACUUM INTO '$c'"
	case $how in
	py:*) python3 -c "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); ${how#py:}; db.commit()" "$c" ;;
	*) sqlite3 "$c" "$how" ;;
	esac
	"$KT_OUT/kubetape" --db "$c" verify --all "$@" >"$KT_TMP/t.out" 2>&1
	rc=$?
	echo "# tamper | $name | exit $rc | $(grep -m1 BROKEN "$KT_TMP/t.out" | cut -c1-200)"
	if [ "$rc" = 4 ] && grep -q -- "$want" "$KT_TMP/t.out"; then pass "tamper_$name"; else
		show "$KT_TMP/t.out"; fail "tamper_$name" "verify exited $rc without '$want'"; fi
}
FIRST="(SELECT min(seq) FROM chunks WHERE session_id = $SID)"
SECOND="(SELECT seq FROM chunks WHERE session_id = $SID ORDER BY seq LIMIT 1 OFFSET 1)"
step_start
tamper byte_changed "do not match what was signed\|does not decode" \
	"py:r=db.execute('SELECT seq, data FROM chunks WHERE session_id=$SID ORDER BY length(data) DESC LIMIT 1').fetchone(); b=bytearray(r[1]); b[len(b)//2]^=1; db.execute('UPDATE chunks SET data=? WHERE session_id=$SID AND seq=?', (bytes(b), r[0]))"
tamper chunk_deleted "missing: no chunk holds them" "DELETE FROM chunks WHERE session_id = $SID AND seq = $SECOND"
tamper chunks_swapped "do not match what was signed\|holds .* frames\|overlaps" \
	"py:r=db.execute('SELECT seq, data, raw_len, codec, nframes FROM chunks WHERE session_id=$SID ORDER BY seq LIMIT 2 OFFSET 2').fetchall(); [db.execute('UPDATE chunks SET data=?, raw_len=?, codec=?, nframes=? WHERE session_id=$SID AND seq=?', (b[1], b[2], b[3], b[4], a[0])) for a, b in ((r[0], r[1]), (r[1], r[0]))]"
tamper argv_edited "argv differs from the signed stream" \
	"py:r=db.execute(\"SELECT id, argv FROM commands WHERE session_id=$SID AND argv_text LIKE 'env FOO_TOKEN%'\").fetchone(); db.execute(\"UPDATE commands SET argv=?, argv_text=replace(argv_text, 'true', 'fals') WHERE id=?\", (r[1].replace(b'true', b'fals'), r[0]))"
tamper exit_code_edited "exit (status 256, end) differs" \
	"UPDATE commands SET exit_status = 256 WHERE session_id = $SID AND has_exit AND seq = (SELECT max(seq) FROM commands WHERE session_id = $SID AND has_exit)"
tamper session_deleted "missing (a session or its checkpoints were deleted)" \
	"DELETE FROM chunks WHERE session_id = $SID; DELETE FROM commands WHERE session_id = $SID; DELETE FROM sessions WHERE id = $SID; DELETE FROM checkpoints WHERE session_id = $SID"
tamper last_checkpoints_deleted "final checkpoint is missing\|the last checkpoints were deleted" \
	"DELETE FROM checkpoints WHERE node_seq >= (SELECT max(node_seq) - 1 FROM checkpoints)"
"$KT_OUT/kubetape-recorder" --key "$KT_TMP/other.key" --print-pubkey >/dev/null
tamper other_key "signature invalid" "SELECT 1" --pubkey "$KT_TMP/other.key.pub"
tamper metadata_edited "pod differs" "UPDATE sessions SET pod = 'innocent' WHERE id = $SID"
# exit code 3 was not typed: the session's own exit code instead
tamper session_exit_edited "session end" "UPDATE sessions SET exit_status = 256 WHERE id = $SID"

# ================================================================== --input
DB_B=$KT_TMP/b/kt.db
step_start
record "$DB_B" ev-input --input
KB="$KT_OUT/kubetape --db $DB_B"
pass recorded_input
no_secret secrets_not_in_db_wal_input "$DB_B" "$DB_B-wal"
$KB show "$SID" --json >"$KT_TMP/b.show.json"
$KB cat --input "$SID" >"$KT_TMP/b.in"
check input_recorded "the line typed with echo on is not in the input" contains "$KT_TMP/b.in" "$VISIBLE"
for f in asciicast text json raw; do
	$KB export "$SID" --format $f -o "$KT_TMP/b.export.$f"
done
check withheld_marker "no 'typed with echo off withheld' marker in the asciicast export" \
	grep -q "bytes typed with echo off withheld" "$KT_TMP/b.export.asciicast"
echo "# withheld markers: $(grep -c 'typed with echo off withheld' "$KT_TMP/b.export.asciicast"), e.g. $(grep -m1 -o '"[0-9]* bytes typed with echo off withheld"' "$KT_TMP/b.export.asciicast")"
no_secret secrets_not_in_exports_input "$KT_TMP"/b.in "$KT_TMP"/b.export.*

# ---- the search index: wait for the worker, then search for the secrets
step_start
wait_for 30 sh -c "$KB search --in screen --json '$VISIBLE' | grep -q session" ||
	fail screen_index_ready "the visible line was never indexed"
for s in "$SECRET_A" "$SECRET_B" "$SECRET_C"; do
	n=$($KB search --json "$s" | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
	check "secret_not_searchable_${s:0:5}" "$n hits" test "$n" = 0
done

# ---- compaction: the worker merges raw chunks; verify holds after it
step_start
wait_for 90 sh -c "[ \$(sqlite3 '$DB_B' 'SELECT count(*) FROM chunks WHERE codec = 0') = 0 ]" ||
	fail compaction_ran "raw chunks left after 90 s: $(sqlite3 "$DB_B" 'SELECT count(*) FROM chunks WHERE codec = 0')"
echo "# chunks after compaction: $(sqlite3 "$DB_B" 'SELECT codec, count(*) FROM chunks GROUP BY codec' | tr '\n' ' ')"
$KB verify --all --stats >"$KT_TMP/b.verify" 2>&1
rc=$?
sed 's/^/# /' "$KT_TMP/b.verify"
check verify_after_compaction "verify exited $rc" test "$rc" = 0

# ---- the web API: no secret, verification state, access logged
step_start
head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$KT_TMP/token"
chmod 600 "$KT_TMP/token"
"$KT_OUT/kubetape-web" --db "$DB_B" --listen 127.0.0.1:0 --token-file "$KT_TMP/token" \
	>"$KT_TMP/web.log" 2>&1 &
WEB=$!
at_exit "kill $WEB 2>/dev/null; wait $WEB 2>/dev/null"
wait_for 10 grep -q "listening on" "$KT_TMP/web.log" || { show "$KT_TMP/web.log"; fatal web_start "kubetape-web did not start"; }
URL=$(grep -o 'http://[^ ]*' "$KT_TMP/web.log" | head -1)
URL=${URL%/}
get() { python3 - "$URL$1" "$(cat "$KT_TMP/token")" "$2" <<'PY'
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]})
open(sys.argv[3], "wb").write(urllib.request.urlopen(req, timeout=10).read())
PY
}
get "/api/sessions/$SID" "$KT_TMP/w.session" &&
	get "/api/sessions/$SID/stream?input=1" "$KT_TMP/w.stream" &&
	get "/api/sessions/$SID/export.cast?input=1" "$KT_TMP/w.cast" &&
	get "/api/sessions/$SID/commands" "$KT_TMP/w.commands" &&
	get "/api/search?q=$SECRET_A" "$KT_TMP/w.search" ||
	fail web_api_reads "a web API request failed"
no_secret secrets_not_in_web_api "$KT_TMP"/w.*
check web_verification_state "no verification state in the session JSON: $(head -c 300 "$KT_TMP/w.session")" \
	json "$KT_TMP/w.session" "sys.exit(d['session']['verification']['state'] != 'verified')"

# ---- the access log: a CLI export and a web replay
step_start
$KB access-log --json >"$KT_TMP/access.json"
check access_cli_export "no CLI export by uid 0 logged" json "$KT_TMP/access.json" "
sys.exit(not any(e['action']=='export' and e['session']==$SID and e['who'].startswith('uid 0') for e in d))"
check access_web_replay "no web replay with the token identity logged" json "$KT_TMP/access.json" "
sys.exit(not any(e['action']=='replay' and e['session']==$SID and e['who'].startswith('web bearer token') for e in d))"
$KB access-log | head -5 | sed 's/^/# /'
# reading never changes the evidence
$KB verify "$SID" >/dev/null 2>&1
check reading_keeps_evidence "verify after all the reads exited $?" test $? = 0

stop_recorder >/dev/null
no_secret secrets_not_in_db_after_stop "$DB_A"* "$DB_B"*
echo "# figure: store A $(du -cb "$DB_A"* | tail -1 | cut -f1) bytes, checkpoints $(sqlite3 "$DB_A" 'SELECT count(*) FROM checkpoints'), evidence frames in the chain: $(sqlite3 "$DB_A" 'SELECT sum(n_frames) FROM chain_heads')"
finish
