#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# kubetape-web in a real browser (Debian's chromium via playwright-core)
# against a store recorded by the real recorder: a containerd+runc pod,
# kubetape-recorder with its BPF programs, and `ctr task exec --tty` driven
# through ptyrun, as in record_pod_test.sh.  One finished session (markers
# A-2, B-4, C-6 between commands) is played and seeked by clicking its
# command timeline; a second stays open while the browser follows it live
# and the test types into it through ptyrun's script fifo.  The list and
# filter tests use a 10,001-session store written through the store API.
# Screenshots: $KT_OUT/test-artifacts/web/ (checked to be written, below).
# The assertions live in tests/web/browser_test.mjs, browser_seek.mjs
# (seek correctness) and browser_ui.mjs (the auditor's features).
. "$(dirname "$0")/../lib/common.sh"

require_root
require_containerd
require_bpf
require_cmd node
require_built "$KT_OUT/kubetape-recorder" "$KT_OUT/kubetape-web" "$KT_OUT/tests/web/kt_webfill" \
	"$KT_OUT/tests/web/kt_screenat" "$PTYRUN"
[ -x /usr/bin/chromium ] || fatal web_browser_requires_chromium "/usr/bin/chromium is missing: run 'make deps' (Debian package chromium)"
[ -f "$KT_REPO/web/node_modules/playwright-core/package.json" ] ||
	fatal web_browser_requires_playwright "web/node_modules/playwright-core is missing: run 'make deps' (npm ci --prefix web)"

ARTIFACTS=$KT_OUT/test-artifacts/web
mkdir -p "$ARTIFACTS"
touch "$KT_TMP/artifacts.t0"	# the screenshots must be newer than this

# server SERVER_VAR DB LOG — start kubetape-web on a free port; sets $SERVER_VAR to its URL
server() {
	local log=$3 pid url
	"$KT_OUT/kubetape-web" --db "$2" --listen 127.0.0.1:0 >"$log" 2>&1 &
	pid=$!
	at_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	wait_for 10 grep -q "listening on" "$log" || { show "$log"; fatal web_server_start "kubetape-web did not start"; }
	url=$(sed -n 's#.*listening on \(http://[^ ]*\)/ .*#\1#p' "$log" | head -1)
	printf -v "$1" '%s' "$url"
}

# ------------------------------------------------------------------ list store
step_start
"$KT_OUT/tests/web/kt_webfill" "$KT_TMP/list.db" populate 10000 >/dev/null || fatal web_list_store "kt_webfill populate failed"
server LIST_URL "$KT_TMP/list.db" "$KT_TMP/web-list.log"
pass web_list_server

# ------------------------------------------------------------------ recorded store
step_start
pod_up web_pod_up
start_recorder web_recorder_start "$KT_TMP/rec.db" "$KT_TMP/recorder.log" --node-name web-node
pass web_pod_and_recorder

ctr_exec_tty() { echo ctr --address "$CONTAINERD_ADDRESS" -n "$CONTAINERD_NAMESPACE" task exec --tty --exec-id "$1" "$CONTAINER_ID" bash; }

step_start
cat >"$KT_TMP/s1.script" <<'SCRIPT'
expect "# " 10
send "echo A-$((1+1))\r"
expect "A-2\r\n" 5
send "sleep 1\r"
expect "# " 5
send "cat /etc/hostname\r"
expect "# " 5
send "echo B-$((2+2))\r"
expect "B-4\r\n" 5
send "sleep 1\r"
expect "# " 5
send "ls /\r"
expect "# " 5
send "for i in 1 2 3 4 5 6; do echo tick-$i; sleep 0.2; done\r"
expect "tick-6\r\n" 5
send "seq 1 60\r"
expect "60\r\n" 5
send "env echo LEDGER_TOKEN=under_score\r"
expect "under_score\r\n" 5
expect "# " 5
send "env false\r"
expect "# " 5
send "echo C-$((3+3))\r"
expect "C-6\r\n" 5
sleep 0.5
send "exit 3\r"
wait-exit 10
SCRIPT
$PTYRUN --raw --rows 24 --cols 80 --script "$KT_TMP/s1.script" --out "$KT_TMP/s1.out" -- $(ctr_exec_tty web-one) >"$KT_TMP/s1.log" 2>&1
rc=$?
[ "$rc" = 3 ] || { show "$KT_TMP/s1.log"; fatal web_recorded_session "scripted session exited $rc, expected 3"; }
KT="$KT_OUT/kubetape --db $KT_TMP/rec.db"
wait_for 10 sh -c "$KT sessions --json | grep -q '\"state\":\"ended\"'" || fatal web_recorded_session "session not ended in 10 s"
REC_ID=$($KT sessions --json | python3 -c 'import json,sys; print(max(s["id"] for s in json.load(sys.stdin) if s["has_tty"]))')
pass web_recorded_session

server REC_URL "$KT_TMP/rec.db" "$KT_TMP/web-rec.log"

# The live session: ptyrun reads its script from a fifo the browser test
# appends to.  Only this shell holds the fifo open (fd 8, not inherited by
# the server or node), so closing it lets ptyrun see EOF and exit.
step_start
mkfifo "$KT_TMP/live.fifo"
$PTYRUN --raw --rows 24 --cols 80 --script "$KT_TMP/live.fifo" --out "$KT_TMP/live.out" -- $(ctr_exec_tty web-live) >"$KT_TMP/live.log" 2>&1 &
LIVE=$!
at_exit "kill $LIVE 2>/dev/null; wait $LIVE 2>/dev/null"
exec 8>"$KT_TMP/live.fifo"	# keeps the fifo open between the test's appends
at_exit 'exec 8>&-'
printf '%s\n' 'expect "# " 10' 'send "echo L-$((5+5))\r"' 'expect "L-10\r\n" 5' >&8
pass web_live_session_started

cd "$KT_REPO/tests/web" || fatal web_browser_cd "cannot cd to tests/web"
KT_OUT=$KT_OUT KT_WEB_LIST_URL=$LIST_URL KT_WEB_REC_URL=$REC_URL KT_WEB_REC_ID=$REC_ID \
	KT_WEB_LIVE_FIFO=$KT_TMP/live.fifo KT_WEB_POD=$POD_NAME KT_WEB_ARTIFACTS=$ARTIFACTS \
	KT_WEB_REC_DB=$KT_TMP/rec.db node browser_test.mjs 8>&-
rc=$?
# seek correctness against the store's own rendering (kt_screenat)
KT_OUT=$KT_OUT KT_WEB_REC_URL=$REC_URL KT_WEB_REC_ID=$REC_ID KT_WEB_REC_DB=$KT_TMP/rec.db \
	KT_WEB_ARTIFACTS=$ARTIFACTS node browser_seek.mjs 8>&- || rc=1
# the auditor's features: keys, URL, login, fit, tree, markers, search
KT_OUT=$KT_OUT KT_WEB_REC_URL=$REC_URL KT_WEB_REC_ID=$REC_ID KT_WEB_REC_DB=$KT_TMP/rec.db \
	KT_WEB_LIST_URL=$LIST_URL KT_WEB_ARTIFACTS=$ARTIFACTS node browser_ui.mjs 8>&- || rc=1
exec 8>&-
wait_for 15 sh -c "! kill -0 $LIVE 2>/dev/null" || fail web_live_session_exit "the live session's ptyrun did not exit"
# The screenshots the issue's closing note names stay under the build dir
# (CI keeps $KT_OUT/test-artifacts/): the list, a session with its process
# tree, a deep link, search results (commands; screen text), and the rest.
step_start
missing=
for f in list search session-process-tree deep-link search-screen-hit search-results-filtered \
	list-filtered-ns session-tampered-broken player-132x40-1280x720 player-fullscreen underscore-row \
	session-played session-seek-ls session-seek-cat session-live; do
	[ -s "$ARTIFACTS/$f.png" ] && [ "$ARTIFACTS/$f.png" -nt "$KT_TMP/artifacts.t0" ] || missing="$missing $f.png"
done
if [ -z "$missing" ]; then
	pass web_screenshots_kept
	echo "# screenshots: $ARTIFACTS"
else
	fail web_screenshots_kept "not written by this run:$missing (in $ARTIFACTS)"
fi
if [ "$rc" != 0 ]; then
	kt_failed=$((kt_failed + 1))	# node printed the FAIL lines
	show "$KT_TMP/web-rec.log"
	show "$KT_TMP/live.log"
fi
finish
