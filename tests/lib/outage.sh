# shellcheck shell=bash
# Helpers shared by the e2e tests that take the store or the recorder away
# mid-session (restart_test, store_fault_test, store_ioerr_test).  Sourced
# after common.sh ($KT; pod_up sets $CONTAINERD_* and $CONTAINER_ID).

# json FILE EXPR: a python expression over the JSON in FILE (as d)
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $2" "$@"; }
# ctr_exec_tty EXEC_ID: the argv of a tty exec into the pod's container
ctr_exec_tty() {
	echo ctr --address "$CONTAINERD_ADDRESS" -n "$CONTAINERD_NAMESPACE" task exec --tty --exec-id "$1" "$CONTAINER_ID" bash
}
# typed SCRIPT: bytes the script types (its send lines, escapes decoded as
# ptyrun does); the kernel's loss counter covers both directions
typed() { python3 - "$1" <<'PY'
import re, sys
n = 0
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if not line.startswith("send "):
        continue
    t = line[5:]
    if len(t) >= 2 and t[0] == '"' and t[-1] == '"':
        t = t[1:-1]
    t = re.sub(r"\\x[0-9a-fA-F]{2}|\\[rnte\\]", "X", t)
    n += len(t)
print(n)
PY
}
# ended ID: the session's row says ended
ended() { $KT show "$1" --json 2>/dev/null | python3 -c "import json,sys; sys.exit(json.load(sys.stdin)['session']['state'] != 'ended')"; }
# live_tty EXEC_ID OUT LOG: a tty exec into the pod, typed into by a ptyrun
# script fed line by line through fd 7 (`step LINE...`), its terminal
# output in OUT; $LIVE is its pid.  Close fd 7 (exec 7>&-) to end the script.
live_tty() {
	mkfifo "$KT_TMP/live-$1.fifo" || fatal live_tty "mkfifo failed"
	$PTYRUN --raw --rows 24 --cols 80 --script - --out "$2" --expect-timeout 60 \
		-- $(ctr_exec_tty "$1") <"$KT_TMP/live-$1.fifo" >"$3" 2>&1 &
	LIVE=$!
	exec 7>"$KT_TMP/live-$1.fifo"
	at_exit "exec 7>&-; kill $LIVE 2>/dev/null || true"
}
step() { printf '%s\n' "$@" >&7; }
