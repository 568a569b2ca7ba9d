#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# pod_harness_test.sh — the harness itself, without the recorder: a fake pod
# on a real containerd + runc, `ctr task exec --tty` driven through ptyrun
# (what kubectl exec -it becomes on a node), a non-tty exec, two concurrent
# tty sessions, and a teardown that leaves nothing behind.
. "$(dirname "$0")/../lib/common.sh"

require_root
require_containerd
require_built "$PTYRUN"

# A clean slate, and `down` on any exit (also after a failure).
fakepod down >/dev/null 2>&1
at_exit 'fakepod down >/dev/null 2>&1'

# ---------------------------------------------------------------- up
step_start
fakepod up >"$KT_TMP/up.env" 2>"$KT_TMP/up.log" || { cat "$KT_TMP/up.log"; fatal fakepod_up "fakepod.sh up failed"; }
pass fakepod_up
# shellcheck disable=SC1091
. "$KT_TMP/up.env"

step_start
why=""
[[ "$CONTAINER_ID" =~ ^[0-9a-f]{64}$ ]] || why="bad container id '$CONTAINER_ID'"
[ -d "/proc/$APP_INIT_PID" ] || why="app init pid $APP_INIT_PID not running"
# containerd rewrites config.json compactly: no space after the colon
grep -Eq "\"io.kubernetes.cri.sandbox-name\": ?\"$POD_NAME\"" "$APP_BUNDLE/config.json" ||
	why="CRI annotations missing from $APP_BUNDLE/config.json"
grep -Eq "\"io.kubernetes.cri.container-name\": ?\"$CONTAINER_NAME\"" "$APP_BUNDLE/config.json" ||
	why="container-name annotation missing"
grep -q ":/kubepods/besteffort/pod$POD_UID/$CONTAINER_ID\$" "/proc/$APP_INIT_PID/cgroup" ||
	why="app init not in /kubepods/besteffort/pod$POD_UID/$CONTAINER_ID: $(head -1 "/proc/$APP_INIT_PID/cgroup")"
[ "$(readlink "/proc/$APP_INIT_PID/ns/uts")" = "$(readlink "/proc/$SANDBOX_INIT_PID/ns/uts")" ] ||
	why="app does not share the sandbox's uts namespace"
[ -z "$why" ] && pass pod_shape || fail pod_shape "$why"

# ---------------------------------------------------------------- tty exec
cat >"$KT_TMP/tty.script" <<'EOF'
expect "# "
send echo hello\r
expect "\rhello\r\n"
expect "# "
send ls /\r
expect "# "
send id\r
expect "uid=0(root) gid=0(root) groups=0(root)\r\n"
send seq 1 100000 | tail -1\r
expect "\r100000\r\n"
send stty size\r
expect "\r24 80\r\n"
resize 50 160
# ctr relays SIGWINCH to the shim asynchronously: let it land first
sleep 0.5
send stty size\r
expect "\r50 160\r\n"
send exit 3\r
wait-exit 10
EOF
step_start
"$PTYRUN" --raw --timeout 60 --script "$KT_TMP/tty.script" --out "$KT_TMP/tty.out" -- "$FAKEPOD" exec-tty bash \
	2>"$KT_TMP/tty.err"
rc=$?
if [ "$rc" = 3 ]; then
	pass tty_exec_exit_status
else
	cat "$KT_TMP/tty.err"
	fail tty_exec_exit_status "ptyrun exited $rc, expected 3 (bash's exit 3 through ctr)"
fi
step_start
why=""
for want in $'hello\r' $'uid=0(root) gid=0(root) groups=0(root)\r' $'100000\r' $'50 160\r' 'echo hello' "root@$POD_NAME:/#"; do
	contains "$KT_TMP/tty.out" "$want" || { why="output lacks '$(printf %q "$want")'"; break; }
done
# `ls /` in the real-binaries rootfs
for want in bin etc proc tmp usr; do
	grep -qE "(^|[[:space:]])$want([[:space:]]|\$)" "$KT_TMP/tty.out" || { why="ls / output lacks $want"; break; }
done
# --raw: bytes as the container's pty produced them, so no "\r\r\n"
grep -q $'\r\r$' "$KT_TMP/tty.out" && why="output has \\r\\r\\n: ctr's OPOST leaked into the capture"
if [ -z "$why" ]; then pass tty_exec_output; else show "$KT_TMP/tty.out"; fail tty_exec_output "$why"; fi

# ---------------------------------------------------------------- bulk output
# 1.3 MB through the tty: ptyrun must keep draining, nothing may stall.
cat >"$KT_TMP/bulk.script" <<'EOF'
expect "# "
send seq 1 200000\r
expect "\n200000\r\n" 60
send exit\r
wait-exit 10
EOF
step_start
"$PTYRUN" --raw --timeout 90 --script "$KT_TMP/bulk.script" --out "$KT_TMP/bulk.out" -- "$FAKEPOD" exec-tty bash \
	2>"$KT_TMP/bulk.err"
rc=$?
n=$(grep -c $'^[0-9]*\r$' "$KT_TMP/bulk.out")
# (line 1 follows an escape sequence on the same line, so 199999 bare lines)
if [ "$rc" = 0 ] && [ "$n" -ge 199999 ] && grep -qx $'200000\r' "$KT_TMP/bulk.out"; then
	pass tty_bulk_output
else
	cat "$KT_TMP/bulk.err"
	fail tty_bulk_output "ptyrun rc=$rc, $n of 200000 lines seen"
fi

# ---------------------------------------------------------------- non-tty exec
step_start
got=$(fakepod exec sh -c 'id; cat /etc/hostname' 2>&1)
rc=$?
want="uid=0(root) gid=0(root) groups=0(root)
$POD_NAME"
if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then
	pass exec_notty_output
else
	fail exec_notty_output "rc=$rc output $(printf %q "$got"), expected $(printf %q "$want")"
fi
step_start
fakepod exec sh -c 'exit 7' >/dev/null 2>&1
rc=$?
check exec_notty_exit_status "rc=$rc, expected 7" [ "$rc" = 7 ]
step_start
got=$(printf 'from-stdin\n' | fakepod exec -i cat 2>&1)
check exec_notty_stdin "got $(printf %q "$got")" [ "$got" = from-stdin ]

# ---------------------------------------------------------------- two sessions
# Each session announces itself with a file and waits for the other's, so
# passing proves they ran at the same time.  $((1+1)) keeps the expected
# text out of the echoed command line.
for s in A B; do
	o=$([ $s = A ] && echo B || echo A)
	cat >"$KT_TMP/conc$s.script" <<EOF
expect "# "
send tty\\r
expect "/dev/pts/"
expect "# "
send touch /tmp/sess-$s; for i in \$(seq 200); do [ -e /tmp/sess-$o ] && break; sleep 0.05; done; [ -e /tmp/sess-$o ] && echo both-$s-\$((1+1))\\r
expect "both-$s-2\\r\\n" 20
send exit 0\\r
wait-exit 10
EOF
done
step_start
fakepod exec rm -f /tmp/sess-A /tmp/sess-B >/dev/null 2>&1
"$PTYRUN" --raw --timeout 60 --script "$KT_TMP/concA.script" --out "$KT_TMP/concA.out" -- "$FAKEPOD" exec-tty bash 2>"$KT_TMP/concA.err" &
pa=$!
"$PTYRUN" --raw --timeout 60 --script "$KT_TMP/concB.script" --out "$KT_TMP/concB.out" -- "$FAKEPOD" exec-tty bash 2>"$KT_TMP/concB.err" &
pb=$!
wait "$pa"; ra=$?
wait "$pb"; rb=$?
ttya=$(grep -ao '/dev/pts/[0-9]*' "$KT_TMP/concA.out" | head -1)
ttyb=$(grep -ao '/dev/pts/[0-9]*' "$KT_TMP/concB.out" | head -1)
if [ "$ra" = 0 ] && [ "$rb" = 0 ] && [ -n "$ttya" ] && [ "$ttya" != "$ttyb" ]; then
	pass two_concurrent_tty_sessions
else
	cat "$KT_TMP/concA.err" "$KT_TMP/concB.err"
	fail two_concurrent_tty_sessions "rc A=$ra B=$rb, ttys '$ttya' '$ttyb' (want distinct)"
fi

# ---------------------------------------------------------------- down
step_start
fakepod down >"$KT_TMP/down.log" 2>&1 || { cat "$KT_TMP/down.log"; fail fakepod_down "fakepod.sh down failed"; }
why=""
left=$(procs_mentioning "$FAKEPOD_DIR")
[ -n "$left" ] && why="processes left: $left"
for pid in "$APP_INIT_PID" "$SANDBOX_INIT_PID"; do
	st=$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && why="container init $pid still running"
done
grep -F "$FAKEPOD_DIR" /proc/self/mountinfo >/dev/null && why="mounts left: $(grep -F "$FAKEPOD_DIR" /proc/self/mountinfo)"
for h in $(awk '$0 ~ / - cgroup2? / { print $5 }' /proc/self/mountinfo); do
	[ -d "$h/kubepods/besteffort/pod$POD_UID" ] && why="cgroup left: $h/kubepods/besteffort/pod$POD_UID"
done
[ -e "$FAKEPOD_DIR/containerd.sock" ] && why="containerd socket left"
[ -e "$FAKEPOD_DIR/state" ] && why="containerd state dir left"
if [ -z "$why" ]; then pass fakepod_down_leaves_nothing; else fail fakepod_down_leaves_nothing "$why"; fi

step_start
fakepod down >/dev/null 2>&1
check fakepod_down_idempotent "second down failed" [ $? = 0 ]

finish
