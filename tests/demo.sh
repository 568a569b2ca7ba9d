#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/demo.sh OUT — the README's demo (`make demo`), as root:
#   a fake pod on a real containerd + runc, kubetape-recorder started on it,
#   one scripted interactive `kubectl exec -it`-style session typed through
#   ptyrun, the recorder stopped, then what the auditors' CLI shows:
#   `kubetape sessions`, `kubetape show ID`, `kubetape replay ID` and
#   `kubetape search`.
# Everything is torn down at the end (also on failure or ^C); the database
# stays in /tmp/kubetape-demo/kubetape.db for you to explore.
set -u
. "$(dirname "$0")/lib/e2e_lock.sh"

[ $# -eq 1 ] || { echo "usage: tests/demo.sh OUT   (OUT = build or build-san)" >&2; exit 2; }
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=$1
case "$OUT" in /*) ;; *) OUT=$REPO/$OUT ;; esac
FAKEPOD=$REPO/tests/lib/fakepod.sh
PTYRUN=$OUT/tests/ptyrun
RECORDER=$OUT/kubetape-recorder
KUBETAPE=$OUT/kubetape
DEMO_DIR=/tmp/kubetape-demo
DB=$DEMO_DIR/kubetape.db
export FAKEPOD_DIR=${FAKEPOD_DIR:-/tmp/kubetape-fakepod}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo: ERROR: $*" >&2; exit 1; }

# ------------------------------------------------------------------ checks
[ "$(id -u)" = 0 ] || die "the demo needs root (BPF, containerd): sudo make demo"
for c in containerd ctr runc python3; do
	command -v "$c" >/dev/null || die "'$c' is missing: run 'make deps' first"
done
[ -x "$PTYRUN" ] || die "$PTYRUN is missing: run 'make' first"
[ -x "$RECORDER" ] && [ -x "$KUBETAPE" ] || die "$RECORDER or $KUBETAPE is missing: run 'make' first"

rec_pid=""
PIN_DIR=/sys/fs/bpf/kubetape-demo
cleanup() {
	if [ -n "$rec_pid" ] && kill -0 "$rec_pid" 2>/dev/null; then
		kill -TERM "$rec_pid" 2>/dev/null
		wait "$rec_pid" 2>/dev/null
	fi
	"$RECORDER" --unpin --pin-dir "$PIN_DIR" >/dev/null 2>&1
	"$FAKEPOD" down >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$DEMO_DIR"
# a new demo is a new node: its signing key and the head of its checkpoint
# chain go with the store (kept, a new store under the old key would verify
# as "checkpoints 1..N missing": the earlier demo's store was deleted)
rm -f "$DB" "$DB-wal" "$DB-shm" "$DB-journal" "$DEMO_DIR"/node.key "$DEMO_DIR"/node.key.head "$DEMO_DIR"/node.key.pub
rm -rf "$DEMO_DIR/access"

# ------------------------------------------------------------------ pod
say "a pod: containerd $(containerd --version | awk '{print $3}') + runc, no kubelet"
"$FAKEPOD" up >"$DEMO_DIR/pod.env" || die "fakepod up failed"
# shellcheck disable=SC1091
. "$DEMO_DIR/pod.env"
echo "pod $POD_NAMESPACE/$POD_NAME (uid $POD_UID), container $CONTAINER_NAME ${CONTAINER_ID:0:12}, app pid $APP_INIT_PID"

# ------------------------------------------------------------------ recorder
say "kubetape-recorder --db $DB --containerd-state $CONTAINERD_STATE"
# its own pin dir, removed at exit: the demo leaves no programs behind
"$RECORDER" --db "$DB" --containerd-state "$CONTAINERD_STATE" --pin-dir "$PIN_DIR" >"$DEMO_DIR/recorder.log" 2>&1 &
rec_pid=$!
for _ in $(seq 400); do
	grep -q ready "$DEMO_DIR/recorder.log" && break
	kill -0 "$rec_pid" 2>/dev/null || break
	sleep 0.05
done
if ! grep -q ready "$DEMO_DIR/recorder.log"; then
	cat "$DEMO_DIR/recorder.log" >&2
	die "the recorder did not log 'ready' within 20 s (log above)"
fi
sed 's/^/  /' "$DEMO_DIR/recorder.log"

# ------------------------------------------------------------------ session
say "kubectl exec -it $POD_NAME -c $CONTAINER_NAME -- bash   (typed by ptyrun)"
# Each step waits for its command's own output before the next prompt:
# ctr sets the window size just after the shell starts, and readline redraws
# the first prompt on that SIGWINCH, so a bare "# " can match too early.
cat >"$DEMO_DIR/session.script" <<'EOF'
expect "# " 20
sleep 0.3
send id\r
expect "uid=0(root)"
expect "# "
send cd /tmp && echo 'secret=hunter2' > notes.txt && cat notes.txt\r
expect "\rsecret=hunter2"
expect "# "
send ls -l /etc | head -5\r
expect "total "
expect "# "
send seq 1 3 | while read i; do echo "line $i"; done\r
expect "line 3"
expect "# "
send exit 0\r
wait-exit 10
EOF
"$PTYRUN" --raw --rows 30 --cols 100 --timeout 60 --script "$DEMO_DIR/session.script" \
	--out "$DEMO_DIR/session.out" -- "$FAKEPOD" exec-tty bash
rc=$?
cat "$DEMO_DIR/session.out"; echo
[ "$rc" = 0 ] || die "the scripted session failed (ptyrun exit $rc)"


# ------------------------------------------------------------------ replay
say "stop the recorder (SIGTERM)"
kill -TERM "$rec_pid"
wait "$rec_pid"
rrc=$?
rec_pid=""
[ "$rrc" = 0 ] || echo "demo: WARNING: the recorder exited with status $rrc" >&2

say "kubetape sessions --db $DB"
"$KUBETAPE" sessions --db "$DB" || die "kubetape sessions failed"
id=$("$KUBETAPE" sessions --db "$DB" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
rows = d if isinstance(d, list) else d.get("sessions", [])
print(rows[0]["id"] if rows else "")' 2>/dev/null)
if [ -z "$id" ]; then	# fall back to the table's first data row
	id=$("$KUBETAPE" sessions --db "$DB" | awk 'NR == 2 { print $1 }')
fi
[ -n "$id" ] || die "no session was recorded"

# Who ran it: the API server's audit log has one pods/exec request per
# kubectl exec.  There is no API server here, so the demo writes the event
# the API server would have logged for this exec (Teleport impersonating
# alice, 50 ms before the shell started) and imports it as an auditor would
# import a managed cluster's exported log.
start=$("$KUBETAPE" sessions --db "$DB" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
rows = d if isinstance(d, list) else d.get("sessions", [])
print([r for r in rows if r["id"] == int(sys.argv[1])][0]["start_us"] / 1e6 - 0.05)' "$id")
python3 "$(dirname "$0")/lib/audit_events.py" \
	"id=demo-$id,t=$start,user=system:serviceaccount:teleport:proxy,imp=alice@example.com,groups=system:authenticated+devs,verb=get,cmd=bash,ns=$POD_NAMESPACE,pod=$POD_NAME,container=$CONTAINER_NAME" \
	>"$DEMO_DIR/audit.jsonl" || die "writing the demo audit event failed"
say "kubetape audit import $DEMO_DIR/audit.jsonl --db $DB   (the API server's audit log)"
"$KUBETAPE" audit import "$DEMO_DIR/audit.jsonl" --db "$DB" || die "kubetape audit import failed"
say "kubetape sessions --db $DB   (now with the Kubernetes user)"
"$KUBETAPE" sessions --db "$DB" || die "kubetape sessions failed"

say "kubetape show $id --db $DB"
"$KUBETAPE" show "$id" --db "$DB" || die "kubetape show failed"

say "kubetape replay $id --db $DB --speed 2 --idle-limit 0.5"
"$KUBETAPE" replay "$id" --db "$DB" --speed 2 --idle-limit 0.5 </dev/null || die "kubetape replay failed"
echo

say "kubetape search hunter2 --db $DB   (commands and what was on screen)"
"$KUBETAPE" search hunter2 --db "$DB" || die "kubetape search failed"

say "kubetape verify --all --db $DB   (hash chain + Ed25519 checkpoints)"
"$KUBETAPE" verify --all --db "$DB" || die "kubetape verify failed"

say "done: the recording is in $DB"
