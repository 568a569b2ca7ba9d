#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/web_bench.sh [OUT] [MIB] — kubetape-web figures for the closing note:
# a MIB (default 500) MiB session is written through the store API
# (tests/web/kt_webfill, 16 KiB frames in 1 MiB chunks, an hour long), then
# bench/web_bench.mjs measures time to first frame, seek latency (API and in
# chromium), live latency and the server's RSS while streaming it.
# KT_BENCH_BROWSER=0 skips the chromium part.
set -euo pipefail
OUT=${1:-build}
MIB=${2:-500}
REPO=$(cd "$(dirname "$0")/.." && pwd)
case "$OUT" in /*) ;; *) OUT=$REPO/$OUT ;; esac
tmp=$(mktemp -d /tmp/kubetape-webbench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
t0=$(date +%s%N)
id=$("$OUT/tests/web/kt_webfill" "$tmp/big.db" big "$MIB")
echo "figure: generated a $MIB MiB session through the store API in $((($(date +%s%N) - t0) / 1000000)) ms ($(du -m "$tmp"/big.db | cut -f1) MiB on disk)"
mkdir -p "$OUT/test-artifacts/web"
KT_OUT=$OUT node "$REPO/bench/web_bench.mjs" "$tmp/big.db" "$id"
