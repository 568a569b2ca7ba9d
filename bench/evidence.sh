#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/evidence.sh [OUT] [MIB] — the cost of tamper evidence: hash chain
# CPU on the write path, its storage, and kubetape verify per MiB and per
# session (bench/evidence_bench.c).  No root, no BPF: the store only.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
OUT=${1:-build}
case "$OUT" in /*) ;; *) OUT=$REPO/$OUT ;; esac
tmp=$(mktemp -d /tmp/kubetape-evidence-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$REPO/store/include" -o "$tmp/evidence_bench" "$HERE/evidence_bench.c" \
	"$OUT/libkubetape.a" $(make -s --no-print-directory -C "$(dirname "$0")/.." print-store-libs)
"$tmp/evidence_bench" "$tmp" "${2:-64}"
