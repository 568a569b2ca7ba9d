#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/vm/vmrun.sh [options] -- CMD [ARGS...]
#
# Runs CMD as root inside a throw-away qemu guest booted with a stock Debian
# kernel (unpacked by fetch-kernels.sh).  The guest's root is the host's /
# shared read-only over virtio-9p under a tmpfs overlay, so every host binary
# and library works unchanged (writes are discarded); a per-run results dir
# is the guest's cwd /tmp/out.  Prints CMD's output (stdout+stderr, via the
# serial console, \r stripped) and exits with CMD's status, or 125 when the
# guest reported none (boot failure, panic, timeout: console tail on stderr).
#
#   -r KROOT    unpacked kernel: KROOT/boot/vmlinuz-KVER, KROOT/lib/modules/KVER
#               (default CACHE/KVER)
#   -k KVER     kernel release (default: the only one in KROOT/lib/modules)
#   -c CACHE    cache dir for boot images (default ${KT_VM_CACHE:-/var/cache/kubetape-vm})
#   -t SECONDS  kill the guest after this long (default 300)
#   -m MEM      guest memory (default 1536M); -s N  vCPUs (default 2)
#   -a tcg|kvm|auto  accelerator (default auto: KVM only with vmx/svm in cpuinfo)
#   -o DIR      keep the results dir (console.log, rc, files CMD wrote) in DIR
#   -v          print kernel, accelerator, boot and wall time, rc on stderr
# One CMD argument is run as a shell command line; several are run as argv.
#
# Boot images live in CACHE/images/KVER/: the uncompressed vmlinux (booted
# through qemu's PVH entry: no in-guest decompression, ~2 s faster under
# TCG; KT_VM_PVH=0 boots the bzImage instead) and the initramfs, keyed by a
# hash of init + mkinitramfs.sh so an edit rebuilds it.
# Needs: qemu-system-x86, busybox-static, kmod, cpio, xz-utils, zstd; root
# (9p passthrough of /).
set -u
set -o pipefail

usage() { sed -n '4,30p' "$0" >&2; exit 2; }
die() { echo "vmrun: ERROR: $*" >&2; exit 125; }

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${KT_VM_CACHE:-/var/cache/kubetape-vm}
KROOT="" KVER="" ACCEL=auto MEM=1536M SMP=2 TMO=300 VERBOSE=0 KEEP=""
while [ $# -gt 0 ]; do
	case "$1" in
	-r) KROOT=${2:?}; shift 2 ;;
	-k) KVER=${2:?}; shift 2 ;;
	-c) CACHE=${2:?}; shift 2 ;;
	-t) TMO=${2:?}; shift 2 ;;
	-m) MEM=${2:?}; shift 2 ;;
	-s) SMP=${2:?}; shift 2 ;;
	-a) ACCEL=${2:?}; shift 2 ;;
	-o) KEEP=${2:?}; shift 2 ;;
	-v) VERBOSE=1; shift ;;
	--) shift; break ;;
	-h|--help) usage ;;
	-*) echo "vmrun: unknown option '$1'" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || usage

command -v qemu-system-x86_64 >/dev/null 2>&1 || die "qemu-system-x86_64 not found (install qemu-system-x86)"
[ "$(id -u)" = 0 ] || die "needs root (9p passthrough of the host root; BPF in the guest runs as root anyway)"
if [ -z "$KROOT" ]; then
	[ -n "$KVER" ] || die "give -r KROOT or -k KVER"
	KROOT=$CACHE/$KVER
fi
[ -d "$KROOT" ] || die "no kernel root '$KROOT' (run tests/vm/fetch-kernels.sh)"
KROOT=$(cd "$KROOT" && pwd)
if [ -z "$KVER" ]; then
	n=$(ls "$KROOT/lib/modules" 2>/dev/null | wc -l)
	[ "$n" = 1 ] || die "cannot tell the kernel release in $KROOT/lib/modules ($n entries): give -k"
	KVER=$(ls "$KROOT/lib/modules")
fi
BZ=$KROOT/boot/vmlinuz-$KVER
[ -f "$BZ" ] || die "no $BZ"
IMG=$CACHE/images/$KVER
mkdir -p "$IMG" || die "cannot create $IMG"

# ---- initramfs, rebuilt when init or mkinitramfs.sh change ----------------
key=$(cat "$HERE/init" "$HERE/mkinitramfs.sh" | sha256sum | cut -c1-12)
INITRD=$IMG/initramfs-$key.cpio.gz
if [ ! -s "$INITRD" ]; then
	bash "$HERE/mkinitramfs.sh" "$KROOT" "$KVER" "$INITRD" || die "building the initramfs for $KVER failed"
	# older builds for this kernel are dead weight
	find "$IMG" -name 'initramfs-*.cpio.gz' ! -name "initramfs-$key.cpio.gz" -delete 2>/dev/null
fi

# ---- uncompressed vmlinux for the PVH entry, extracted once ---------------
# bzImage = setup code + compressed payload: try each xz/zstd/gzip magic
# offset until one decompresses to an ELF (like the kernel's
# scripts/extract-vmlinux).  Decompressors complain about trailing data: ignored.
extract_vmlinux() {
	local out=$1 magic cmd off
	for spec in "fd377a585a00:xz" "28b52ffd:zstd" "1f8b0800:gzip"; do
		magic=${spec%%:*} cmd=${spec#*:}
		command -v "$cmd" >/dev/null 2>&1 || continue
		# byte offsets of the first few occurrences of the magic
		for off in $(LC_ALL=C grep -obUaP "$(echo "$magic" | sed 's/../\\x&/g')" "$BZ" 2>/dev/null | cut -d: -f1 | head -5); do
			tail -c +"$((off + 1))" "$BZ" | "$cmd" -dc >"$out.tmp" 2>/dev/null
			if [ "$(head -c4 "$out.tmp" | od -An -c | tr -d ' ')" = '177ELF' ] &&
				[ "$(stat -c %s "$out.tmp")" -gt 10000000 ]; then
				mv -f "$out.tmp" "$out"
				return 0
			fi
		done
	done
	rm -f "$out.tmp"
	return 1
}
KERNEL=$BZ
if [ "${KT_VM_PVH:-1}" = 1 ]; then
	ELF=$IMG/vmlinux
	if [ -s "$ELF" ] || extract_vmlinux "$ELF"; then
		KERNEL=$ELF
	else
		echo "vmrun: warning: cannot extract vmlinux from $BZ; booting the bzImage (slower)" >&2
	fi
fi

if [ "$ACCEL" = auto ]; then
	# /dev/kvm may exist without hardware virtualisation (nested PVM), where
	# KVM emulates a stock kernel far slower than TCG does: require vmx/svm.
	if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then ACCEL=kvm; else ACCEL=tcg; fi
fi
case "$ACCEL" in
kvm) ACC=(-enable-kvm -cpu host) ;;
tcg) ACC=(-accel tcg,thread=multi -cpu max) ;;
*) die "-a must be tcg, kvm or auto, not '$ACCEL'" ;;
esac

if [ -n "$KEEP" ]; then
	OUT=$KEEP; mkdir -p "$OUT" || die "cannot create $OUT"
else
	OUT=$(mktemp -d "${TMPDIR:-/tmp}/kubetape-vm.XXXXXX") || die "mktemp failed"
	trap 'rm -rf "$OUT"' EXIT
fi
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT/rc" "$OUT/console.log"
{
	echo '#!/bin/sh'
	echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp LANG=C.UTF-8'
	if [ $# -eq 1 ]; then echo "$1"; else printf '%q ' "$@"; echo; fi
} >"$OUT/cmd"
LOG=$OUT/console.log

# Kernel command line: console on the serial port (our only output channel),
# poweroff instead of hanging on panic (-no-reboot turns the reboot into a
# qemu exit), quiet so kernel chatter does not interleave with CMD's output,
# mitigations=off because speculation workarounds only cost time under TCG.
boot() {
	timeout --kill-after=5 "$TMO" qemu-system-x86_64 "${ACC[@]}" -m "$MEM" -smp "$SMP" -no-reboot \
		-display none -monitor none -serial stdio -nodefaults \
		-kernel "$1" -initrd "$INITRD" \
		-append "console=ttyS0 panic=-1 quiet loglevel=3 mitigations=off" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap \
		-virtfs local,path="$OUT",mount_tag=out,security_model=passthrough \
		</dev/null >"$LOG" 2>&1
}
start=$(date +%s%N)
boot "$KERNEL"; qrc=$?
if [ "$KERNEL" != "$BZ" ] && grep -q 'PVH ELF Note' "$LOG"; then
	# kernel built without CONFIG_PVH: the ELF cannot be booted directly
	echo "vmrun: warning: $KVER has no PVH entry; booting the bzImage" >&2
	boot "$BZ"; qrc=$?
fi
end=$(date +%s%N)

tr -d '\r' <"$LOG" | sed -n '/@@KT-VM-BEGIN/,/@@KT-VM-END/p' | sed '1d;/@@KT-VM-END/d'
rc=$(cat "$OUT/rc" 2>/dev/null ||
	tr -d '\r' <"$LOG" | sed -n 's/.*@@KT-VM-END rc=\([0-9]*\).*/\1/p' | tail -1)
if [ -z "$rc" ] || [ "$rc" = 125 ]; then
	why="qemu exit status $qrc"
	[ "$qrc" = 124 ] && why="timed out after ${TMO}s"
	echo "vmrun: no exit status from the guest ($why); console tail:" >&2
	tr -d '\r' <"$LOG" | tail -30 | sed 's/^/vmrun:   /' >&2
	rc=125
fi
if [ "$VERBOSE" = 1 ]; then
	boot_s=$(tr -d '\r' <"$LOG" | sed -n 's/.*@@KT-VM-BEGIN .*uptime=\([0-9.]*\)@@.*/\1/p' | head -1)
	end_s=$(tr -d '\r' <"$LOG" | sed -n 's/.*@@KT-VM-END .*uptime=\([0-9.]*\)@@.*/\1/p' | tail -1)
	printf 'vmrun: kernel=%s accel=%s boot=%ss guest-end=%ss wall=%d.%02ds rc=%s%s\n' \
		"$(basename "$KERNEL")($KVER)" "$ACCEL" "${boot_s:--}" "${end_s:--}" \
		$(((end - start) / 1000000000)) $((((end - start) / 10000000) % 100)) "$rc" \
		"${KEEP:+ out=$OUT}" >&2
fi
exit "$rc"
