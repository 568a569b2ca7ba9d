#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/lib/deps.sh — install every Debian 12 package kubetape needs (root).
#
# Idempotent and fast: dpkg-query decides what is missing, and apt-get (with
# its `update`) only runs when something is.  Prints what it installs.
# Also mounts tracefs, which the BPF tracepoint programs need and which some
# container/VM images do not mount.
#
# Limits: Debian 12 (bookworm) package names.  nodejs may come from
# nodesource, whose package bundles npm and conflicts with Debian's npm, so
# node/npm count as present when the commands exist.
set -euo pipefail

BUILD=(make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libsqlite3-dev
       libzstd-dev libjansson-dev libvterm-dev libwebsockets-dev libsodium-dev libpq-dev pkg-config
       libssl-dev)  # libssl-dev: libcrypto's SHA-256 for chain version 2 (store/chain.c)
RUNTIME=(containerd runc busybox-static bash coreutils tmux python3 python3-yaml sqlite3
         util-linux procps iproute2)
# the real-runtime e2e tests (tests/e2e/runtime_*.sh): CRI-O's shape with
# podman+conmon, docker, the CRI client (Debian's python3 + grpcio)
RUNTIMES=(podman conmon docker.io python3-grpcio)
# the cluster store (kubetape ship; tests/e2e/pg_ship_test.sh starts its own
# server with initdb): Debian 12's PostgreSQL 15 and psql; openssl for its
# TLS test, curl for the metrics scrapes
POSTGRES=(postgresql postgresql-client openssl curl)
QEMU=(qemu-system-x86 cpio kmod zstd xz-utils debian-archive-keyring)
BROWSER=(chromium)
# pgbouncer: bench/pg_scale.sh's pooled CLI rows (a deployment option)
BENCH=(asciinema tlog sudo hyperfine linux-perf pgbouncer)
# make SAN=1 / make fuzz: libvterm is rebuilt from Debian's source with the
# sanitizers (tests/fuzz/get_libvterm.sh: apt-get source + dpkg-source), and
# libFuzzer's runtime comes with clang's runtime libraries
FUZZ=(dpkg-dev libclang-rt-14-dev)

die() { echo "deps.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (apt-get install, mount tracefs)"
command -v apt-get >/dev/null || die "apt-get not found: kubetape's deps target Debian 12"

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

missing=()
for p in "${BUILD[@]}" "${RUNTIME[@]}" "${RUNTIMES[@]}" "${POSTGRES[@]}" "${QEMU[@]}" "${BROWSER[@]}" "${BENCH[@]}" "${FUZZ[@]}"; do
	installed "$p" || missing+=("$p")
done
# nodejs: any provider (Debian or nodesource) will do.
if ! command -v node >/dev/null && ! installed nodejs; then
	missing+=(nodejs)
fi
# npm: bundled with nodesource's nodejs; Debian's npm package only if absent.
npm_needed=0
command -v npm >/dev/null || npm_needed=1

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

if [ "${#missing[@]}" -gt 0 ] || [ "$npm_needed" = 1 ]; then
	echo "deps.sh: apt-get update" >&2
	apt-get update -q >/dev/null
fi
if [ "${#missing[@]}" -gt 0 ]; then
	echo "deps.sh: installing: ${missing[*]}" >&2
	apt-get install "${APT_OPTS[@]}" "${missing[@]}"
fi
if [ "$npm_needed" = 1 ] && ! command -v npm >/dev/null; then
	echo "deps.sh: installing: npm" >&2
	# Not fatal: with a nodejs that bundles npm but hides it, Debian's npm
	# may conflict; the browser tests report a missing npm themselves.
	apt-get install "${APT_OPTS[@]}" npm || echo "deps.sh: WARNING: npm could not be installed" >&2
fi
[ "${#missing[@]}" -gt 0 ] || [ "$npm_needed" = 1 ] || echo "deps.sh: all packages present" >&2

# The browser UI's terminal (xterm.js) is built into kubetape-web from npm
# at build time, and the browser tests drive chromium with playwright-core.
repo=$(cd "$(dirname "$0")/../.." && pwd)
if [ -f "$repo/web/package-lock.json" ]; then
	if [ ! -d "$repo/web/node_modules" ] || [ "$repo/web/package-lock.json" -nt "$repo/web/node_modules/.package-lock.json" ]; then
		echo "deps.sh: npm ci --prefix web" >&2
		npm ci --prefix "$repo/web" --no-audit --no-fund
	fi
fi

# tracefs: BPF tracepoint attach resolves ids under /sys/kernel/tracing.
if ! mountpoint -q /sys/kernel/tracing 2>/dev/null; then
	echo "deps.sh: mounting tracefs on /sys/kernel/tracing" >&2
	mount -t tracefs nodev /sys/kernel/tracing || echo "deps.sh: WARNING: could not mount tracefs" >&2
fi
