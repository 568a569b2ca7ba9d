# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Sourced by tests/lib/common.sh and by the tests that do not use it.
#
# A loopback TCP port free now, chosen by the kernel.  A port computed
# from $$ inside the ephemeral range (32768-60999) can be some client
# socket's local port at that moment: bind then fails with EADDRINUSE (seen
# once in CI for pg_ship_test's metrics port).  Closed before use, so
# another bind may still take it in between; rare, and it fails loudly.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
