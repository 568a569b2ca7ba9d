#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/vm/mkinitramfs.sh KROOT KVER OUT.cpio.gz
#
# Builds the tiny initramfs vmrun.sh boots a stock Debian kernel with:
# busybox-static, tests/vm/init as /init, and the modules needed to reach
# the host root (virtio_pci, 9pnet_virtio, 9p, overlay) plus their
# dependencies, in load order, decompressed (busybox insmod cannot read
# .ko.xz/.ko.zst).  Modules built into the kernel are skipped.
#
# KROOT holds boot/ and lib/modules/KVER of the kernel (an unpacked
# linux-image .deb, see fetch-kernels.sh).  Needs busybox-static, kmod
# (modprobe, depmod), cpio, gzip, xz-utils and zstd.
set -eu
set -o pipefail

die() { echo "mkinitramfs: ERROR: $*" >&2; exit 1; }
[ $# -eq 3 ] || die "usage: $0 KROOT KVER OUT.cpio.gz"
KROOT=$1 KVER=$2 OUT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
MODDIR=$KROOT/lib/modules/$KVER
[ -d "$MODDIR" ] || die "no $MODDIR"
for t in modprobe depmod cpio gzip; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' not found"
done

# The initramfs has no libc: busybox must be the static build.
BB=""
for b in /bin/busybox /usr/bin/busybox "$(command -v busybox 2>/dev/null || true)"; do
	[ -n "$b" ] && [ -x "$b" ] || continue
	# ldd exits 1 for a static binary: look at its words, not its status
	case "$(LC_ALL=C ldd "$b" 2>&1)" in
	*"not a dynamic executable"* | *"statically linked"*) BB=$b; break ;;
	esac
done
[ -n "$BB" ] || die "no statically linked busybox found (install busybox-static)"

R=$(mktemp -d "${TMPDIR:-/tmp}/kubetape-initramfs.XXXXXX")
trap 'rm -rf "$R"' EXIT
mkdir -p "$R"/{bin,sbin,proc,sys,dev,tmp,out,lower,rw,host,lib/modules}
cp "$BB" "$R/bin/busybox"
for a in sh mount umount mkdir insmod poweroff uname cat echo sleep ls chroot sync; do
	ln -s busybox "$R/bin/$a"
done

# modules.dep is made by fetch-kernels.sh; make it if someone unpacked by hand.
[ -f "$MODDIR/modules.dep" ] || depmod -b "$KROOT" "$KVER" || die "depmod -b $KROOT $KVER failed"
: >"$R/lib/modules/order"
for top in virtio_pci 9pnet_virtio 9p overlay; do
	deps=$(modprobe -d "$KROOT" -S "$KVER" --show-depends "$top") ||
		die "modprobe --show-depends $top failed for $KVER"
	# "insmod /path/x.ko.xz" lines, dependencies first; "builtin x" lines skipped
	while read -r f; do
		m=$(basename "$f"); m=${m%%.ko*}
		grep -qx "$m" "$R/lib/modules/order" && continue
		case "$f" in
		*.ko.xz) xz -dc "$f" ;;
		*.ko.zst) zstd -qdc "$f" ;;
		*.ko.gz) gzip -dc "$f" ;;
		*) cat "$f" ;;
		esac >"$R/lib/modules/$m.ko" || die "cannot decompress $f"
		echo "$m" >>"$R/lib/modules/order"
	done < <(printf '%s\n' "$deps" | awk '$1 == "insmod" {print $2}')
done
install -m 0755 "$HERE/init" "$R/init"

(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT.tmp.$$" || die "cpio failed"
mv -f "$OUT.tmp.$$" "$OUT"
