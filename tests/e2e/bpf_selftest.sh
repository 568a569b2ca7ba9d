#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# BPF selftest on the host kernel: the real programs, a real pid namespace,
# a real pty (tests/bpf/test_capture.c prints its own PASS/FAIL lines).
set -u
. "$(dirname "$0")/../lib/e2e_lock.sh"
OUT=${KT_OUT:-build}
bin=$OUT/tests/bpf/test_capture
if [ ! -x "$bin" ]; then echo "FAIL bpf_selftest: $bin not built (run make)"; exit 1; fi
exec "$bin" --capture auto --expect-backend syscall
