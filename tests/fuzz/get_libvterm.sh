#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/fuzz/get_libvterm.sh DIR — unpack Debian's source of the libvterm the
# project links (the installed libvterm-dev's version) into DIR/libvterm-src,
# so the fuzz build can compile it with ASan+UBSan and memory errors inside
# libvterm are seen.  No root needed and the machine's apt state is untouched:
# a private sources list (deb-src of the same Debian mirrors the system uses)
# and private list/cache directories under DIR.
#
# Needs: dpkg-dev (dpkg-source), apt, and network access to the Debian
# archive (CI has it).  Idempotent: does nothing when DIR/libvterm-src exists.
set -euo pipefail

dir=${1:?usage: get_libvterm.sh DIR}
[ -d "$dir/libvterm-src/src" ] && exit 0
ver=$(dpkg-query -W -f='${source:Version}' libvterm-dev 2>/dev/null) ||
	{ echo "get_libvterm.sh: libvterm-dev is not installed (make deps)" >&2; exit 1; }
mkdir -p "$dir/apt/lists/partial" "$dir/apt/archives/partial" "$dir/dl"
dir=$(cd "$dir" && pwd)

# deb-src lines for every deb822 stanza of the system's sources (same mirror,
# suites and keyring), written to our private list.
: > "$dir/apt/sources.list"
for f in /etc/apt/sources.list.d/*.sources; do
	[ -r "$f" ] || continue
	sed 's/^Types:.*/Types: deb-src/' "$f" > "$dir/apt/src-$(basename "$f")"
done
if [ -r /etc/apt/sources.list ]; then
	sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > "$dir/apt/sources.list"
fi
opts=(-o Dir::Etc::SourceList="$dir/apt/sources.list"
      -o Dir::Etc::SourceParts="$dir/apt"
      -o Dir::State::Lists="$dir/apt/lists"
      -o Dir::Cache::Archives="$dir/apt/archives"
      -o Debug::NoLocking=1 -o APT::Sandbox::User=root -q)
# a third-party source without deb-src (nodesource...) makes update fail
# without harm to the Debian ones: apt-get source below says if it matters
apt-get "${opts[@]}" update >/dev/null || echo "get_libvterm.sh: apt-get update reported errors (above)" >&2
(cd "$dir/dl" && apt-get "${opts[@]}" source --download-only "libvterm=$ver" >/dev/null)
rm -rf "$dir/libvterm-src.tmp"
# --no-check: the .dsc is signed by its uploader, whose key is in
# debian-keyring (not installed); apt-get source already checked every
# file against the archive's signed Sources index.
dpkg-source --no-check -x "$dir/dl"/libvterm_*.dsc "$dir/libvterm-src.tmp" >/dev/null
mv "$dir/libvterm-src.tmp" "$dir/libvterm-src"
echo "get_libvterm.sh: libvterm $ver source in $dir/libvterm-src" >&2
