# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# tests/lib/e2e_lock.sh — one end-to-end test at a time on this machine.
#
# A recorder (or the BPF selftest) sees every session on the node, and the
# fake pod's containerd always uses /run/containerd: two e2e tests from two
# checkouts running at once would record each other's sessions and tear down
# each other's pods.  Sourcing this file takes an exclusive flock on
# /run/lock/kubetape-e2e.lock (waiting up to KT_E2E_LOCK_WAIT seconds, 3600
# by default) and exports KT_E2E_LOCKED so scripts it runs do not take it
# again.  KT_E2E_LOCK_FILE names another lock file (to test this one).
#
# The lock is held by a small holder process, not by this shell: a
# descriptor in this shell would be inherited by every daemon the test
# starts (a containerd shim outlives its containerd), and one leaked daemon
# would then hold the lock for ever.  The holder exits within a second of
# this shell (tail --pid), whatever ends it.
#
# Not taken under CI=true: CI runs one checkout.
if [ -z "${KT_E2E_LOCKED:-}" ] && [ "${CI:-}" != true ] && [ "$(id -u)" = 0 ]; then
	kt_lock_fifo=$(mktemp -u /tmp/kubetape-e2e-lock.XXXXXX)
	mkfifo -m 600 "$kt_lock_fifo" || { echo "FAIL $(basename "$0" .sh): mkfifo $kt_lock_fifo failed"; exit 1; }
	(
		exec 9>"${KT_E2E_LOCK_FILE:-/run/lock/kubetape-e2e.lock}" </dev/null >/dev/null
		if ! flock -n 9; then
			echo "$(basename "$0"): waiting for another kubetape e2e run (${KT_E2E_LOCK_FILE:-/run/lock/kubetape-e2e.lock})" >&2
			flock -w "${KT_E2E_LOCK_WAIT:-3600}" 9 || { echo timeout >"$kt_lock_fifo"; exit 1; }
		fi
		echo ok >"$kt_lock_fifo"
		exec 2>/dev/null tail --pid=$$ -f /dev/null
	) &
	kt_lock_state=
	read -r kt_lock_state <"$kt_lock_fifo"
	rm -f "$kt_lock_fifo"
	[ "$kt_lock_state" = ok ] ||
		{ echo "FAIL $(basename "$0" .sh): another e2e run held ${KT_E2E_LOCK_FILE:-/run/lock/kubetape-e2e.lock} too long"; exit 1; }
	export KT_E2E_LOCKED=$$
fi
