#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/vm/fetch-kernels.sh [--refresh] [CACHE_DIR]
#
# Downloads the stock Debian kernels the kernel matrix boots under qemu and
# unpacks each into CACHE_DIR/<kver>/ (boot/vmlinuz-<kver>, lib/modules/<kver>):
#
#   floor      linux-image-5.10.0-*-amd64, bullseye's (bullseye-security)
#              linux-image-amd64: the oldest kernel Debian still serves
#   bookworm   linux-image-6.1.0-*-amd64, the one the bookworm/bookworm-security
#              linux-image-amd64 metapackage currently depends on
#   backports  linux-image-6.12*-amd64 from bookworm-backports
#   newest6    the highest linux-image-6.*-amd64 in bookworm-backports,
#              trixie-backports, unstable or experimental
#   newest7    the highest linux-image-7.*-amd64 in the same suites
# newest6/newest7 are resolved at every refresh, so the matrix follows new
# releases; one that resolves to a kernel already listed is not repeated.
# KT_VM_KERNELS (default "floor bookworm backports newest6 newest7") picks
# which of them to fetch.
#
# It uses a private apt configuration under CACHE_DIR/apt (own sources list,
# own lists and archive cache, own `apt-get update`), so the system's sources
# and package state are never touched, and fetches with `apt-get download`
# (no installation, no maintainer scripts) + `dpkg-deb -x`.
#
# CACHE_DIR defaults to ${KT_VM_CACHE:-/var/cache/kubetape-vm}.
# On success it writes CACHE_DIR/kernels.list, one "NAME KVER KROOT" line per
# kernel, and prints which kernels are ready.  When everything is unpacked
# and was resolved less than KT_VM_MAX_AGE_DAYS (default 7) days ago it does
# no network access at all; --refresh forces a new resolution (a newer
# security kernel, say).  If the refresh cannot reach the mirror but a
# complete earlier set is unpacked, that set is used with a warning.
#
# Environment: KT_DEBIAN_MIRROR (default http://deb.debian.org/debian),
#   KT_DEBIAN_SECURITY_MIRROR (default http://deb.debian.org/debian-security).
# Needs: apt, dpkg-deb, depmod (kmod), flock, debian-archive-keyring.
# Exit status: 0 when all kernels are ready, 1 with a reason otherwise.
set -u
set -o pipefail

die() { echo "fetch-kernels: ERROR: $*" >&2; exit 1; }
say() { echo "fetch-kernels: $*" >&2; }

REFRESH=0
while [ $# -gt 0 ]; do
	case "$1" in
	--refresh) REFRESH=1; shift ;;
	-h|--help) sed -n "3,38p" "$0"; exit 0 ;;
	-*) die "unknown option '$1' (usage: $0 [--refresh] [CACHE_DIR])" ;;
	*) break ;;
	esac
done
[ $# -le 1 ] || die "usage: $0 [--refresh] [CACHE_DIR]"
CACHE=${1:-${KT_VM_CACHE:-/var/cache/kubetape-vm}}
MIRROR=${KT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECMIRROR=${KT_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MAX_AGE_DAYS=${KT_VM_MAX_AGE_DAYS:-7}
MARK=.kubetape-ready

for t in apt-get apt-cache dpkg-deb depmod flock; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' not found (needs apt, dpkg, kmod, util-linux)"
done
[ -r "$KEYRING" ] || die "$KEYRING missing: install the debian-archive-keyring package"
mkdir -p "$CACHE" || die "cannot create cache dir '$CACHE'"
CACHE=$(cd "$CACHE" && pwd) || die "cannot enter '$CACHE'"
LIST=$CACHE/kernels.list

# One fetch at a time per cache (two test runs may start together).
exec 9>"$CACHE/.lock" || die "cannot open $CACHE/.lock"
flock -w 900 9 || die "timed out waiting for another fetch-kernels on $CACHE"

# list_ready: true when kernels.list exists and every kernel in it is unpacked.
list_ready() {
	[ -s "$LIST" ] || return 1
	local n k r
	while read -r n k r; do
		[ -f "$r/$MARK" ] || return 1
	done <"$LIST"
	return 0
}

report() {
	local n k r
	while read -r n k r; do
		echo "fetch-kernels: ready: $n $k ($r)"
	done <"$LIST"
}

WANT=${KT_VM_KERNELS:-floor bookworm backports newest6 newest7}
# a list resolved for another selection of kernels is not reused
[ "$(cat "$CACHE/kernels.want" 2>/dev/null)" = "$WANT" ] || REFRESH=1
if [ "$REFRESH" = 0 ] && list_ready &&
	[ -n "$(find "$LIST" -mtime "-$MAX_AGE_DAYS" 2>/dev/null)" ]; then
	report
	exit 0
fi

# ---- private apt configuration -------------------------------------------
A=$CACHE/apt
mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/etc/preferences.d" ||
	die "cannot create $A"
cat >"$A/sources.list" <<EOF
# written by kubetape tests/vm/fetch-kernels.sh; used only with its private -o Dir::* options
deb [arch=amd64 signed-by=$KEYRING] $MIRROR bookworm main
deb [arch=amd64 signed-by=$KEYRING] $SECMIRROR bookworm-security main
deb [arch=amd64 signed-by=$KEYRING] $MIRROR bookworm-backports main
deb [arch=amd64 signed-by=$KEYRING] $MIRROR bullseye main
deb [arch=amd64 signed-by=$KEYRING] $SECMIRROR bullseye-security main
deb [arch=amd64 signed-by=$KEYRING] $MIRROR trixie-backports main
deb [arch=amd64 signed-by=$KEYRING] $MIRROR unstable main
deb [arch=amd64 signed-by=$KEYRING] $MIRROR experimental main
EOF
# The system's apt.conf.d still applies (proxies etc.); sources, lists, caches
# and pins are ours.  pkgcache is named explicitly because some images
# (docker-clean) set it to "" globally.  Sandbox::User=root: the download dir
# belongs to root and need not be readable by _apt.
APTOPT=(
	-o "Dir::Etc::sourcelist=$A/sources.list"
	-o "Dir::Etc::sourceparts=-"
	-o "Dir::Etc::preferences=$A/etc/preferences"
	-o "Dir::Etc::preferencesparts=$A/etc/preferences.d"
	-o "Dir::State::lists=$A/lists"
	-o "Dir::Cache=$A/cache"
	-o "Dir::Cache::pkgcache=$A/cache/pkgcache.bin"
	-o "Dir::Cache::srcpkgcache=$A/cache/srcpkgcache.bin"
	-o "APT::Architectures=amd64"
	-o "Acquire::Languages=none"
	-o "Acquire::Retries=3"
	-o "Acquire::http::Timeout=30"
	-o "APT::Sandbox::User=root"
)
aptget() { apt-get -q "${APTOPT[@]}" "$@"; }
aptcache() { apt-cache "${APTOPT[@]}" "$@"; }

# fallback_or_die MSG: a refresh failed; use a complete earlier set if any.
fallback_or_die() {
	if list_ready; then
		say "WARNING: $1"
		say "WARNING: using the kernels unpacked earlier (kernels.list from $(date -r "$LIST" '+%F %T'))"
		report
		exit 0
	fi
	die "$1"
}

say "apt-get update (private lists in $A/lists)"
if ! aptget update >"$A/update.log" 2>&1; then
	tail -15 "$A/update.log" >&2
	fallback_or_die "apt-get update failed for $MIRROR / $SECMIRROR (log: $A/update.log)"
fi
# apt-get update exits 0 even when a source failed to download: check.
if grep -qE '^(W|E): (Failed to fetch|Some index files failed)' "$A/update.log"; then
	grep -E '^(W|E):' "$A/update.log" >&2
	fallback_or_die "apt-get update could not fetch every index: $(grep -m1 -E '^(W|E): Failed to fetch' "$A/update.log" | sed 's/^[WE]: //') (log: $A/update.log)"
fi
aptcache policy linux-image-amd64 >"$A/policy.txt" 2>&1 ||
	fallback_or_die "apt-cache policy fails with the private configuration: $(tail -3 "$A/policy.txt")"

# meta_dep SUITE_REGEX EXCLUDE_REGEX: the linux-image-* package that the
# highest linux-image-amd64 version published in a matching suite depends on.
meta_dep() {
	local incl=$1 excl=$2 ver
	ver=$(aptcache madison linux-image-amd64 |
		awk -F'|' -v i="$incl" -v x="$excl" '$3 ~ i && (x == "" || $3 !~ x) {gsub(/ /, "", $2); print $2}' |
		sort -V | tail -1)
	[ -n "$ver" ] || return 1
	aptcache show "linux-image-amd64=$ver" 2>/dev/null |
		sed -n 's/^Depends: *//p' | head -1 | tr ',' '\n' |
		sed -n 's/^ *\(linux-image-[^ ]*\).*/\1/p' | head -1
}

wanted() { case " $WANT " in *" $1 "*) return 0 ;; esac; return 1; }
SPECS=()

# bullseye + bullseye-security: 5.10, the floor candidate.
if wanted floor; then
	PKG510=$(meta_dep ' bullseye(-security)?/' 'backports') ||
		fallback_or_die "linux-image-amd64 not found in bullseye/bullseye-security (see $A/policy.txt)"
	case "$PKG510" in linux-image-5.10.0-*-amd64) ;;
	*) fallback_or_die "bullseye linux-image-amd64 depends on '$PKG510', not linux-image-5.10.0-*-amd64" ;;
	esac
	SPECS+=("floor $PKG510")
fi

# bookworm + bookworm-security (not backports): the stable 6.1 kernel.
if wanted bookworm; then
	PKG61=$(meta_dep ' bookworm(-security)?/' 'backports') ||
		fallback_or_die "linux-image-amd64 not found in bookworm/bookworm-security (see $A/policy.txt)"
	case "$PKG61" in linux-image-6.1.0-*-amd64) ;;
	*) fallback_or_die "bookworm linux-image-amd64 depends on '$PKG61', not linux-image-6.1.0-*-amd64" ;;
	esac
	SPECS+=("bookworm $PKG61")
fi

# bookworm-backports: 6.12.  If the metapackage has moved past 6.12, take
# the newest linux-image-6.12*-amd64 package backports still carries.
if wanted backports; then
	PKG612=$(meta_dep ' bookworm-backports/' '') || PKG612=""
	case "$PKG612" in linux-image-6.12*-amd64) ;;
	*)
		PKG612=$(aptcache madison $(aptcache pkgnames linux-image-6.12 2>/dev/null |
			grep -E '^linux-image-6\.12[^ ]*-amd64$' | grep -v -- '-unsigned') 2>/dev/null |
			awk -F'|' '$3 ~ / bookworm-backports\// { gsub(/ /, "", $1); print $1 }' | sort -V | tail -1)
		[ -n "$PKG612" ] ||
			fallback_or_die "no linux-image-6.12*-amd64 in bookworm-backports (see $A/policy.txt)"
		;;
	esac
	SPECS+=("backports $PKG612")
fi

# parts PKG: PKG plus the linux-binary-/linux-modules-/linux-base-KVER
# packages it depends on (kernels packaged since trixie's 6.16 split the
# image; -base holds modules.builtin, without which modprobe cannot tell a
# built-in driver from a missing one); fails
# when one of them has no downloadable version (the archive can publish an
# image before its modules).
parts() {
	local dep out=("$1")
	for dep in $(aptcache show "$1" 2>/dev/null | sed -n 's/^Depends: *//p' | head -1 | tr ',' '\n' |
		sed -n 's/^ *\(linux-\(binary\|modules\|base\)-[^ ]*\).*/\1/p'); do
		if [ -z "$(aptcache madison "$dep" 2>/dev/null)" ]; then
			case "$dep" in linux-base-*) continue ;; esac	# optional: only the split images need it
			return 1
		fi
		out+=("$dep")
	done
	echo "${out[*]}"
}

# newest MAJOR: the highest plain linux-image-MAJOR.*-amd64 (not -unsigned,
# -dbg, -rt, -cloud) any configured suite publishes complete.
newest() {
	local p
	for p in $(aptcache pkgnames "linux-image-$1." 2>/dev/null |
		grep -E "^linux-image-$1\.[0-9]+[0-9.+~a-z-]*-amd64\$" |
		grep -vE -- '-(unsigned|dbg|rt|cloud)-' | sort -rV); do
		parts "$p" >/dev/null && { echo "$p"; return 0; }
		say "skipping $p: a part it depends on is not in the archive"
	done
	return 1
}
for major in 6 7; do
	wanted "newest$major" || continue
	pkg=$(newest "$major")
	[ -n "$pkg" ] || fallback_or_die "no linux-image-$major.*-amd64 in bookworm-backports, trixie-backports, unstable or experimental"
	dup=0
	for sp in "${SPECS[@]}"; do [ "${sp#* }" = "$pkg" ] && dup=1; done
	if [ "$dup" = 1 ]; then
		say "newest $major.x is $pkg, already in the matrix"
	else
		SPECS+=("newest$major $pkg")
	fi
done

# fetch NAME PKG: download and unpack PKG into $CACHE/<kver>, unless done.
fetch() {
	local name=$1 pkg=$2 kver root tmp deb
	kver=${pkg#linux-image-}
	root=$CACHE/$kver
	if [ -f "$root/$MARK" ]; then
		echo "$name $kver $root" >>"$LIST.new"
		return 0
	fi
	say "downloading $pkg ($name)"
	mkdir -p "$CACHE/debs" || return 1
	# Kernels packaged since trixie's 6.16 split the image: linux-image-KVER
	# is a stub depending on linux-binary-KVER (vmlinuz) and
	# linux-modules-KVER (modules under usr/lib/modules).
	local pkgs p
	read -r -a pkgs <<<"$(parts "$pkg")" && [ ${#pkgs[@]} -gt 0 ] ||
		{ echo "$pkg: a package it depends on is not in the archive" >"$A/why"; return 1; }
	for p in "${pkgs[@]}"; do rm -f "$CACHE/debs/${p}_"*.deb; done
	if ! (cd "$CACHE/debs" && aptget download "${pkgs[@]}") >"$A/download.log" 2>&1; then
		tail -10 "$A/download.log" >&2
		echo "apt-get download ${pkgs[*]} failed (log: $A/download.log)" >"$A/why"
		return 1
	fi
	tmp=$CACHE/.unpack-$kver
	rm -rf "$tmp" "$root"
	for p in "${pkgs[@]}"; do
		deb=$(ls "$CACHE/debs/${p}_"*.deb 2>/dev/null | head -1)
		[ -n "$deb" ] || { echo "apt-get download $p produced no .deb" >"$A/why"; return 1; }
		say "unpacking $(basename "$deb")"
		if ! dpkg-deb -x "$deb" "$tmp"; then
			echo "dpkg-deb -x $deb failed" >"$A/why"; rm -rf "$tmp"; return 1
		fi
		rm -f "$deb"   # unpacked tree is all we use; saves ~100 MB per kernel
	done
	# merged-/usr packages ship modules in usr/lib/modules
	if [ ! -d "$tmp/lib/modules/$kver" ] && [ -d "$tmp/usr/lib/modules/$kver" ]; then
		mkdir -p "$tmp/lib/modules" && mv "$tmp/usr/lib/modules/$kver" "$tmp/lib/modules/"
	fi
	# ... and 7.x's linux-binary puts the kernel at modules/KVER/vmlinuz
	if [ ! -f "$tmp/boot/vmlinuz-$kver" ] && [ -f "$tmp/lib/modules/$kver/vmlinuz" ]; then
		mkdir -p "$tmp/boot" && mv "$tmp/lib/modules/$kver/vmlinuz" "$tmp/boot/vmlinuz-$kver"
	fi
	if [ ! -f "$tmp/boot/vmlinuz-$kver" ] || [ ! -d "$tmp/lib/modules/$kver" ]; then
		echo "${pkgs[*]} have no boot/vmlinuz-$kver or lib/modules/$kver" >"$A/why"; rm -rf "$tmp"; return 1
	fi
	# The .deb ships no modules.dep (its postinst would run depmod):
	# make it here so mkinitramfs.sh can resolve module dependencies.
	if ! depmod -b "$tmp" "$kver"; then
		echo "depmod -b $tmp $kver failed" >"$A/why"; rm -rf "$tmp"; return 1
	fi
	mv "$tmp" "$root" || { echo "cannot move $tmp to $root" >"$A/why"; return 1; }
	echo "${pkgs[*]}" >"$root/$MARK"
	echo "$name $kver $root" >>"$LIST.new"
}

rm -f "$LIST.new" "$A/why"
for spec in "${SPECS[@]}"; do
	# shellcheck disable=SC2086
	if ! fetch $spec; then
		rm -f "$LIST.new"
		fallback_or_die "$(cat "$A/why" 2>/dev/null || echo "fetching ${spec#* } failed")"
	fi
done
mv -f "$LIST.new" "$LIST" || die "cannot write $LIST"
echo "$WANT" >"$CACHE/kernels.want"

# Drop kernels (and their boot images) that an earlier run unpacked and the
# current resolution no longer names: each is ~0.5 GB.
for d in "$CACHE"/*/; do
	d=${d%/}
	[ -f "$d/$MARK" ] || continue
	grep -q " $d\$" "$LIST" && continue
	say "removing superseded $(basename "$d")"
	rm -rf "$d" "$CACHE/images/$(basename "$d")"
done

report
exit 0
