#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# BPF selftests on the host kernel: the real programs, real namespaces, real
# ptys (tests/bpf/test_capture.c: the byte path; tests/bpf/test_entry.c: who
# becomes a session).  Both print their own PASS/FAIL lines.
set -u
. "$(dirname "$0")/../lib/e2e_lock.sh"
OUT=${KT_OUT:-build}
rc=0
for t in test_capture test_entry; do
	bin=$OUT/tests/bpf/$t
	if [ ! -x "$bin" ]; then echo "FAIL bpf_selftest: $bin not built (run make)"; rc=1; continue; fi
	case $t in
	test_capture) "$bin" --capture auto --expect-backend syscall || rc=1 ;;
	*) "$bin" || rc=1 ;;
	esac
done
exit $rc
