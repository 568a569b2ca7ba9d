#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/guest.sh OUT [--quick|--smoke] — the capture backends where they
# run: this host has no kprobes and fentry gets EPERM, so the tty backend
# (pty-driver hooks) is measured inside a qemu guest, beside the syscall
# backend in the SAME guest (apples to apples) and the host's own rows
# (flood.sh, tax.sh) in the same `make bench` run.  One boot of a stock
# Debian kernel (tests/vm/vmrun.sh; by default the newest cached 6.x, the
# host's own 6.18 series, so the syscall backend runs the same hooks as on
# the host; BENCH_GUEST_KERNEL=KVER picks another) runs:
#
#   bench/guest_flood.sh  the flood of flood.sh (the same bytes: MIB MiB of
#       bench/flood_block.py, one pass) in a session (nsenter into a new pid
#       namespace, pty driven by ptyrun --raw), with no recorder, with
#       --capture tty and with --capture syscall: plain, A, plain, B, plain
#       per round, PER floods per slot, each ratio against the plain floods
#       of the two slots around it.
#       Rows (workload flood): time / plain per backend (goals from issue
#       14: syscall <= 1.25, tty <= 1.10), recorded / emitted bytes, lost
#       bytes; (workload recorder): the recorder's CPU per GiB per backend
#       and tty / syscall of the same round, and (kernel.bpf_stats_enabled)
#       the BPF programs' own run time per GiB: the capture cost the kernel
#       charges to the writing processes, which no per-process CPU figure
#       shows.
#   bench/tax_guest.sh    the node-wide tax with the tty backend: tax_loop
#       with and without the recorder, no session and 5 sessions (rows of
#       workload tax, beside the host's).
#
# Limits, stated in every row name ("qemu KVER (BACKEND, tcg)"): without
# KVM the guest is emulated (TCG), 10-50x slower than the host and not
# uniformly so (the kernel's pty path ~40x, the recorder's user-space
# compression and SQLite far more): absolute seconds and CPU-s/GiB there
# are guest figures, only ratios within the guest compare.  The recorder
# runs without its screen indexer in the flood (bench/guest_flood.sh says
# why); the host's recorder rows carry the indexer's cost.
. "$(dirname "$0")/lib.sh"

# Budget: under TCG a recorder start (BPF load and verification) takes
# 10-40 s and the recorder's catch-up after a flood about as long, so a
# round costs 2-4 minutes on this 2-core machine, and more when it is
# shared (quick mode with 2 rounds of 4 MiB and a tax round took 6.3 min
# at a host load of 2.6 and 11 min at a load of 11, 2026-12-06).  A 4 MiB
# flood took ~0.5 s in the guest: too short for the ratio to be more than
# noise (recorder drain, the host's load swings).  Hence 8 MiB floods and
# PER=2 floods per slot (two sessions per recorder start: a second
# recorded sample costs a flood, not a recorder start), 3 rounds in full
# mode: 6 samples per backend, each against 4 plain floods around it.
# BENCH_GUEST_ROUNDS / BENCH_GUEST_MIB / BENCH_GUEST_PER override.
# (smoke: no tax; a tax round is 2 recorder starts, a minute or more under TCG)
MIB=${BENCH_GUEST_MIB:-$(by_mode 8 4 1)}
ROUNDS=${BENCH_GUEST_ROUNDS:-$(by_mode 3 2 1)}
PER=${BENCH_GUEST_PER:-$(by_mode 2 2 1)}
TAX_ROUNDS=$(by_mode 1 1 0)
TAX_ITER=$(by_mode 100000 100000 20000)
VM=$KT_REPO/tests/vm
CACHE=${KT_VM_CACHE:-/var/cache/kubetape-vm}

# A guest that cannot run is an n/a row in `make bench`; in --smoke (a
# test: tests/e2e/bench_smoke.sh) it is a failure with the reason.
na_all() {
	bench_na flood "qemu (tty, syscall): flood time / plain" "$1"
	bench_na tax "qemu (tty): recorder / none, 5 sessions" "$1"
	[ "$BENCH_MODE" = smoke ] && { msg "FAIL: $1"; exit 1; }
	exit 0
}
for c in "$KT_REC" "$KT_CLI" "$PTYRUN"; do
	[ -x "$c" ] || { msg "$c not built (make)"; exit 1; }
done
command -v qemu-system-x86_64 >/dev/null || na_all "no qemu-system-x86_64 (make deps)"
[ -s "$CACHE/kernels.list" ] || na_all "no cached guest kernel in $CACHE (tests/vm/fetch-kernels.sh)"
# kernels.list lines: "name kver kroot"
if [ -n "${BENCH_GUEST_KERNEL:-}" ]; then
	read -r _ KVER KROOT < <(awk -v k="$BENCH_GUEST_KERNEL" '$2 == k' "$CACHE/kernels.list")
else
	read -r _ KVER KROOT < <({ grep '^newest6 ' "$CACHE/kernels.list" || tail -1 "$CACHE/kernels.list"; } | head -1)
fi
[ -n "${KVER:-}" ] && [ -d "${KROOT:-/nonexistent}" ] || na_all "guest kernel '${BENCH_GUEST_KERNEL:-newest6}' not in $CACHE/kernels.list"

TAX=$BENCH_TMP/tax_loop
cc -O2 -o "$TAX" "$BENCH_DIR/tax_loop.c" || { msg "cannot build tax_loop"; exit 1; }
BLOCK=$BENCH_TMP/flood-block
python3 "$BENCH_DIR/flood_block.py" "$BLOCK" $((MIB << 20)) || { msg "generating the flood block failed"; exit 1; }

log=$BENCH_TMP/guest.log
q() { printf '%q' "$1"; }
msg "qemu $KVER: flood $MIB MiB x $PER x $ROUNDS rounds (plain, tty, syscall), tax $TAX_ROUNDS rounds, one boot"
t0=$(date +%s) LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
# ulimit -l: BPF maps on the 5.x kernels are charged to RLIMIT_MEMLOCK
# (one CMD argument: vmrun.sh runs it as a shell command line)
bash "$VM/vmrun.sh" -v -c "$CACHE" -r "$KROOT" -k "$KVER" -t "$(by_mode 1800 1200 600)" -- \
	"ulimit -l unlimited; bash $(q "$BENCH_DIR/guest_flood.sh") $(q "$BENCH_OUT") $(q "$BLOCK") 1 $ROUNDS 1 $(q "tty syscall") $PER; [ $TAX_ROUNDS = 0 ] || bash $(q "$BENCH_DIR/tax_guest.sh") $(q "$KT_REC") $(q "$TAX") $TAX_ITER $TAX_ROUNDS" \
	>"$log" 2>&1 </dev/null
rc=$?
msg "qemu run: rc $rc, $(($(date +%s) - t0)) s"
grep -E '^(#|ERROR|vmrun)' "$log" | sed 's/^/    /' >&2
accel=$(sed -n 's/^vmrun: .*accel=\([a-z]*\).*/\1/p' "$log" | tail -1)
G="qemu $KVER"
be() { sed -n "s/^# backend $1: //p" "$log" | head -1; }
BT=$(be tty) BS=$(be syscall)
TT="$G (${BT:-tty}, ${accel:-?})" TS="$G (${BS:-syscall}, ${accel:-?})"

# ------------------------------------------------------------------ flood
# FLOOD lines come in run order: slots plain, A, plain, B, plain per round,
# PER floods each; a recorded flood's ratio is against the mean of the
# plain floods of the slots just before and after its slot
RT=() RS=() OK=() LOST=() CPT=() CPS=() CR=() PLAIN=()
declare -A CPU
while read -r v x; do
	if [ "$v" = tty ]; then RT+=("$x"); else RS+=("$x"); fi
done < <(grep '^FLOOD ' "$log" | awk '
	{ key = $2 " " $3 }
	key != last { n++; slot_v[n] = $3; last = key }
	{ c[n]++; secs[n, c[n]] = $4 }
	END {
		for (i = 1; i <= n; i++) {
			if (slot_v[i] == "plain") continue
			s = 0; m = 0
			for (j = i - 1; j <= i + 1; j += 2)
				if (j >= 1 && j <= n && slot_v[j] == "plain")
					for (k = 1; k <= c[j]; k++) { s += secs[j, k]; m++ }
			if (!m) continue
			for (k = 1; k <= c[i]; k++) printf "%s %.4f\n", slot_v[i], secs[i, k] / (s / m)
		}
	}')
while read -r _ r v secs recv got lost cpu _; do
	if [ "$v" = plain ]; then
		PLAIN+=("$secs")
		continue
	fi
	OK+=("$(awk -v a="$got" -v b="$recv" 'BEGIN { printf "%.6f", a / b }')")
	LOST+=("$lost")
	CPU[$r,$v]=$(awk -v a="${CPU[$r,$v]:-0}" -v c="$cpu" 'BEGIN { print a + c }')
	x=$(awk -v c="$cpu" -v b="$got" 'BEGIN { printf "%.2f", c / (b / 1073741824) }')
	if [ "$v" = tty ]; then CPT+=("$x"); else CPS+=("$x"); fi
done < <(grep '^FLOOD ' "$log")
# each recorded flood against the unrecorded floods just before and after
# it under the same recorder (guest_flood.sh: IDLE lines)
RTI=() RSI=()
while read -r v x; do
	if [ "$v" = tty ]; then RTI+=("$x"); else RSI+=("$x"); fi
done < <(grep -E '^(FLOOD|IDLE) ' "$log" | awk '
	$1 == "IDLE" { if (pend != "" && prev_ok) printf "%s %.4f\n", pv, pend / ((prev + $4) / 2)
		prev = $4; prev_ok = ($4 > 0); pend = ""; next }
	$3 == "plain" { pend = ""; prev_ok = 0; next }
	{ pend = $4; pv = $3 }')
while read -r _ r v skipped; do
	[ "$skipped" = 0 ] || bench_note "guest: round $r, $v backend: $skipped BPF program runs skipped (recursion_misses; counted in the store)"
done < <(grep '^SKIPPED ' "$log")
for r in $(seq "$ROUNDS"); do
	[ -n "${CPU[$r,tty]:-}" ] && [ -n "${CPU[$r,syscall]:-}" ] &&
		CR+=("$(awk -v a="${CPU[$r,tty]}" -v b="${CPU[$r,syscall]}" 'BEGIN { if (b > 0) printf "%.4f", a / b }')")
done
if [ ${#RT[@]} = 0 ] && [ ${#RS[@]} = 0 ]; then
	tail -15 "$log" >&2
	bench_na flood "$G: flood time / plain" "guest flood failed (rc $rc): $(grep -m1 -E 'ERROR|FAIL|vmrun: no exit' "$log" | cut -c1-80)"
	[ "$BENCH_MODE" = smoke ] && exit 1
else
	bench_row flood "$G (${accel:-?}): plain wall time, $MIB MiB" s - "${PLAIN[@]}"
	bench_row flood "$TT: time / plain, $MIB MiB" x "<=1.10" "${RT[@]}"
	bench_row flood "$TS: time / plain, $MIB MiB" x "<=1.25" "${RS[@]}"
	bench_row flood "$TT: time / unrecorded flood beside it (recorder running), $MIB MiB" x - "${RTI[@]}"
	bench_row flood "$TS: time / unrecorded flood beside it (recorder running), $MIB MiB" x - "${RSI[@]}"
	bench_row flood "$G (tty, syscall): recorded / emitted bytes" x "==1" "${OK[@]}"
	bench_row flood "$G (tty, syscall): lost bytes (counted)" bytes "==0" "${LOST[@]}"
	bench_row recorder "$TT: CPU per GiB recorded (no indexer; guest CPU-s)" CPU-s/GiB - "${CPT[@]}"
	bench_row recorder "$TS: CPU per GiB recorded (no indexer; guest CPU-s)" CPU-s/GiB - "${CPS[@]}"
	bench_row recorder "$G: recorder CPU, tty / syscall (same round)" x - "${CR[@]}"
	bench_note "guest: host load average during the guest run: $LOAD0 at its start, $(cut -d' ' -f1-3 /proc/loadavg) at its end (other work on the host slows the emulated guest unevenly: the spread of the plain floods shows it)"
	grep -q '^# .*DIFFERS' "$log" && bench_note "guest: $(grep -m1 '^# .*DIFFERS' "$log" | cut -c3-)"
	grep -q '^# tty: round 1 recording byte-identical' "$log" && grep -q '^# syscall: round 1 recording byte-identical' "$log" &&
		bench_note "guest: round 1 recordings (tty and syscall) are byte-identical to what the client received"
	bench_note "guest: $(grep -m1 '^# guest:' "$log" | cut -c10-), accel ${accel:-?}; flood of $MIB MiB (bench/flood_block.py, the host's mix) through one pty, the recorder without its indexer; recorder threads, last round: tty: $(sed -n 's/^THREADS tty //p' "$log" | tail -1)/ syscall: $(sed -n 's/^THREADS syscall //p' "$log" | tail -1)"
fi
BPT=() BPS=() NT="" NS=""
while read -r _ _ v got ns runs; do
	[ "$got" -gt 0 ] 2>/dev/null || continue
	x=$(awk -v n="$ns" -v b="$got" 'BEGIN { printf "%.3f", n / 1e9 / (b / 1073741824) }')
	y="$(awk -v n="$ns" -v c="$runs" 'BEGIN { printf "%.0f", c ? n / c : 0 }') ns per run, $(awk -v c="$runs" -v b="$got" 'BEGIN { printf "%.0f", b / c }') bytes per run"
	if [ "$v" = tty ]; then BPT+=("$x") NT=$y; else BPS+=("$x") NS=$y; fi
done < <(grep '^PROF ' "$log")
if [ ${#BPT[@]} -gt 0 ] || [ ${#BPS[@]} -gt 0 ]; then
	bench_row recorder "$TT: BPF programs' run time per GiB (capture in the kernel; guest CPU-s)" CPU-s/GiB - "${BPT[@]}"
	bench_row recorder "$TS: BPF programs' run time per GiB (capture in the kernel; guest CPU-s)" CPU-s/GiB - "${BPS[@]}"
	bench_note "guest: BPF program runs (kernel.bpf_stats_enabled), last round: tty $NT; syscall $NS"
fi

# ------------------------------------------------------------------ tax
if [ "$TAX_ROUNDS" = 0 ]; then
	bench_na tax "$G (tty): recorder / none" "skipped in --$BENCH_MODE"
	exit 0
fi
if ! grep -q '^TAX ' "$log"; then
	bench_na tax "$G (tty): recorder / none" "guest tax run failed (rc $rc): $(grep -m1 -E 'ERROR|FAIL|vmrun: no exit' "$log" | cut -c1-80)"
	exit 1
fi
GB=$(sed -n 's/^# backend: //p' "$log" | head -1)
G0=() G5=()
while read -r _ off0 on0 on5 off5; do
	G0+=("$(awk -v a="$on0" -v b="$off0" 'BEGIN { printf "%.4f", a / b }')")
	G5+=("$(awk -v a="$on5" -v b="$off5" 'BEGIN { printf "%.4f", a / b }')")
done < <(grep '^TAX ' "$log")
bench_row tax "$G ($GB, ${accel:-?}): recorder / none, no session" x "<=1.05" "${G0[@]}"
bench_row tax "$G ($GB, ${accel:-?}): recorder / none, 5 sessions" x "<=1.05" "${G5[@]}"
grep -q '^SESSIONS ' "$log" && bench_note "tax: qemu guest sessions recorded per round: $(sed -n 's/^SESSIONS //p' "$log" | tr '\n' ' ')"
exit 0
