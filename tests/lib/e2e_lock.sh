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
# again.  The lock is held on fd 9 until the script exits; processes it
# starts inherit fd 9, so a leaked daemon keeps others waiting (and says so).
#
# Not taken under CI=true: CI runs one checkout, and a leaked descriptor must
# not turn into a CI hang.
if [ -z "${KT_E2E_LOCKED:-}" ] && [ "${CI:-}" != true ] && [ "$(id -u)" = 0 ]; then
	exec 9>/run/lock/kubetape-e2e.lock
	if ! flock -n 9; then
		echo "$(basename "$0"): waiting for another kubetape e2e run (/run/lock/kubetape-e2e.lock)" >&2
		flock -w "${KT_E2E_LOCK_WAIT:-3600}" 9 ||
			{ echo "FAIL $(basename "$0" .sh): another e2e run held /run/lock/kubetape-e2e.lock too long"; exit 1; }
	fi
	export KT_E2E_LOCKED=$$
fi
