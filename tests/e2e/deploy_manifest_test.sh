#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/e2e/deploy_manifest_test.sh — deploy/ matches the code it deploys and
# the security contract deploy/README.md documents:
#   - the recorder is not privileged, drops ALL and adds exactly BPF+PERFMON,
#     every container has a read-only root, no host namespaces, RuntimeDefault
#     seccomp, no API token
#   - the store is a read-write hostPath at the --db directory; runtime state,
#     tracefs and the web's store mount are read-only; no hostPath holds a
#     runtime socket
#   - NODE_NAME comes from spec.nodeName
#   - every flag the manifest passes is one the built binaries' --help lists
#   - the web UI listens on loopback by default
#   - deploy/Containerfile's runtime stage copies what `make` builds, and its
#     builder installs tests/lib/deps.sh's BUILD packages
#
# Needs no root and no cluster, and never skips: a missing python3-yaml or an
# unbuilt binary is a FAIL.  The checks live in tests/lib/deploy_check.py.
set -u

REPO=${KT_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
OUT=${KT_OUT:-$REPO/build}
case "$OUT" in /*) ;; *) OUT=$REPO/$OUT ;; esac

# Prefer Debian's python3 (python3-yaml, installed by `make deps`) over
# whatever python3 comes first on PATH.
PY=
for p in /usr/bin/python3 python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import yaml' 2>/dev/null; then
		PY=$p
		break
	fi
done
if [ -z "$PY" ]; then
	echo "FAIL deploy_yaml_module: no python3 with the 'yaml' module: run 'make deps' (Debian package python3-yaml)"
	exit 1
fi

tmp=$(mktemp -d /tmp/kubetape-deploy-test.XXXXXX) || { echo "FAIL deploy_manifest_test: mktemp failed"; exit 1; }
trap 'rm -rf "$tmp"' EXIT

# --help of each binary; an absent binary leaves an empty file, which the
# checks that need it report as a failure.
: >"$tmp/recorder.help"
: >"$tmp/web.help"
[ -x "$OUT/kubetape-recorder" ] && "$OUT/kubetape-recorder" --help >"$tmp/recorder.help" 2>&1
[ -x "$OUT/kubetape-web" ] && "$OUT/kubetape-web" --help >"$tmp/web.help" 2>&1

"$PY" "$REPO/tests/lib/deploy_check.py" "$REPO" "$tmp/recorder.help" "$tmp/web.help"
