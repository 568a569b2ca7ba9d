# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# tests/lib/common.sh — shared helpers for the end-to-end test scripts.
# Source it first:  . "$(dirname "$0")/../lib/common.sh"
#
# Every assertion group prints "PASS name (N ms)" or "FAIL name: why";
# `finish` ends the script with status 1 if anything failed.  Failing
# preconditions (not root, no containerd, no BPF) are FAILs, never skips:
# tests/run.sh counts a missing capability as a failed test.
#
# Provides: KT_REPO KT_OUT KT_TMP PTYRUN FAKEPOD, pass/fail/check, require_*,
# wait_for, at_exit (cleanup stack run on EXIT/INT/TERM), step timing,
# pod_up and start_recorder/stop_recorder (the fake pod and the recorder).

set -u

KT_REPO=${KT_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
KT_OUT=${KT_OUT:-$KT_REPO/build}
case "$KT_OUT" in /*) ;; *) KT_OUT=$KT_REPO/$KT_OUT ;; esac
PTYRUN=$KT_OUT/tests/ptyrun
FAKEPOD=$KT_REPO/tests/lib/fakepod.sh
# e2e tests use their own pod dir so they never tear down a developer's demo
export FAKEPOD_DIR=${KT_E2E_FAKEPOD_DIR:-/tmp/kubetape-e2e-fakepod}

KT_TEST_NAME=$(basename "$0" .sh)
# shellcheck source=tests/lib/e2e_lock.sh
. "$KT_REPO/tests/lib/e2e_lock.sh"
kt_passed=0
kt_failed=0

# ------------------------------------------------------------------ cleanup
kt_cleanups=()
at_exit() { kt_cleanups+=("$*"); }	# run in reverse order at exit
kt_run_cleanups() {
	local i
	for ((i = ${#kt_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${kt_cleanups[i]}" || echo "$KT_TEST_NAME: cleanup '${kt_cleanups[i]}' failed" >&2
	done
	kt_cleanups=()
}
trap 'kt_run_cleanups' EXIT
trap 'echo "FAIL $KT_TEST_NAME: interrupted"; exit 130' INT TERM

KT_TMP=$(mktemp -d "/tmp/kubetape-$KT_TEST_NAME.XXXXXX") || { echo "FAIL $KT_TEST_NAME: mktemp failed"; exit 1; }
# Keep the temp dir when something failed, for the logs; else remove it.
at_exit 'if [ "$kt_failed" = 0 ]; then rm -rf "$KT_TMP"; else echo "$KT_TEST_NAME: kept $KT_TMP for inspection" >&2; fi'

# ------------------------------------------------------------------ timing
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# free_port: a loopback port chosen by the kernel (tests/lib/port.sh)
. "$KT_REPO/tests/lib/port.sh"
kt_step_t0=$(now_ms)
step_start() { kt_step_t0=$(now_ms); }	# pass() reports time since this

# ------------------------------------------------------------------ results
pass() { kt_passed=$((kt_passed + 1)); echo "PASS $1 ($(($(now_ms) - kt_step_t0)) ms)"; }
fail() { kt_failed=$((kt_failed + 1)); echo "FAIL $1: $2"; }
# check NAME WHY CMD... — PASS if CMD succeeds, else FAIL with WHY
check() {
	local name=$1 why=$2
	shift 2
	if "$@"; then pass "$name"; else fail "$name" "$why"; fi
}
# fatal NAME WHY — a failure after which the rest of the script cannot run
fatal() { fail "$1" "$2"; finish; }
finish() {
	# not "N passed, N failed" alone: only tests/run.sh prints the summary
	echo "$KT_TEST_NAME: done ($kt_passed PASS, $kt_failed FAIL)" >&2
	[ "$kt_failed" = 0 ] && exit 0
	exit 1
}

# ------------------------------------------------------------------ preconditions
require_root() {
	[ "$(id -u)" = 0 ] ||
		fatal "${KT_TEST_NAME}_requires_root" "end-to-end tests need root (BPF, containerd, cgroups); run 'sudo make test' (uid is $(id -u))"
}
require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null ||
			fatal "${KT_TEST_NAME}_requires_$c" "'$c' is not installed: run 'make deps'"
	done
}
require_containerd() { require_cmd containerd ctr runc containerd-shim-runc-v2 python3; }
require_built() {	# require_built PATH... — files the build should have made
	local f
	for f in "$@"; do
		[ -x "$f" ] || fatal "${KT_TEST_NAME}_requires_$(basename "$f")" "$f is missing: run 'make' first"
	done
}
require_bpf() {
	[ -r /sys/kernel/btf/vmlinux ] ||
		fatal "${KT_TEST_NAME}_requires_btf" "kernel has no BTF (/sys/kernel/btf/vmlinux): BPF CO-RE cannot load"
	mountpoint -q /sys/kernel/tracing 2>/dev/null || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null ||
		fatal "${KT_TEST_NAME}_requires_tracefs" "tracefs is not mounted on /sys/kernel/tracing and mounting it failed"
}

# ------------------------------------------------------------------ helpers
# wait_for TIMEOUT_S CMD... — poll CMD every 50 ms until it succeeds
wait_for() {
	local limit=$1
	shift
	local end=$(($(now_ms) + ${limit%.*} * 1000))
	until "$@"; do
		[ "$(now_ms)" -ge "$end" ] && return 1
		sleep 0.05
	done
}
# contains FILE TEXT — TEXT (no newline; may hold \r) occurs in FILE
contains() { grep -qF -- "$2" "$1"; }
# show FILE [N] — print the first N (40) lines of FILE, control bytes visible
show() { echo "----- $1" >&2; head -n "${2:-40}" "$1" | cat -v >&2; echo "-----" >&2; }
fakepod() { "$FAKEPOD" "$@"; }
# live processes whose command line mentions TEXT (zombies excluded)
procs_mentioning() {
	local f pid st
	for f in $(grep -lsaF -- "$1" /proc/[0-9]*/cmdline); do
		pid=${f#/proc/}; pid=${pid%/cmdline}
		[ "$pid" = "$$" ] && continue
		st=$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) || continue
		[ "$st" = Z ] || echo "$pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
	done
}

# ------------------------------------------------------------------ pod + recorder
# pod_up NAME — a fresh fake pod (torn down at exit) and its environment
# (CONTAINERD_*, CONTAINER_ID, POD_NAME, ...) in this shell; output in
# $KT_TMP/pod.env and pod.log.  fatal NAME when it does not come up.
pod_up() {
	fakepod down >/dev/null 2>&1
	at_exit 'fakepod down >/dev/null 2>&1'
	fakepod up >"$KT_TMP/pod.env" 2>"$KT_TMP/pod.log" || { show "$KT_TMP/pod.log"; fatal "$1" "fakepod up failed"; }
	# shellcheck disable=SC1091
	. "$FAKEPOD_DIR/pod/env"
}
# start_recorder NAME DB LOG [ARGS...] — kubetape-recorder writing DB, on the
# pod's containerd, with ARGS, output in LOG; REC is its pid; SIGTERMed at
# exit.  Waits until it is ready; fatal NAME when it is not in 20 s.
# The kernel state is pinned in this test's own $KT_PIN_DIR (never the
# node's default), removed at exit after the recorders are gone, so no
# programs outlive the test.
KT_PIN_DIR=/sys/fs/bpf/kubetape-e2e-$$
kt_pin_cleanup_set=""
start_recorder() {
	local name=$1 db=$2 log=$3
	shift 3
	if [ -z "$kt_pin_cleanup_set" ]; then
		at_exit '"$KT_OUT/kubetape-recorder" --unpin --pin-dir "$KT_PIN_DIR" >/dev/null 2>&1'
		kt_pin_cleanup_set=1
	fi
	"$KT_OUT/kubetape-recorder" --db "$db" --containerd-state "$CONTAINERD_STATE" \
		--pin-dir "$KT_PIN_DIR" "$@" >"$log" 2>&1 &
	REC=$!
	at_exit "kill -TERM $REC 2>/dev/null; wait $REC 2>/dev/null"
	wait_for 20 grep -q "ready" "$log" || { show "$log"; fatal "$name" "the recorder did not get ready in 20 s"; }
}
# stop_recorder — SIGTERM the recorder of start_recorder and wait: returns
# its exit status.
stop_recorder() {
	kill -TERM "$REC"
	wait "$REC"
}
