#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Kernel matrix: the BPF selftest (tests/bpf/test_capture.c) on every kernel
# and capture backend we promise to support, and the recorder itself on the
# newest kernels.
#
#   host kernel (no VM)                       syscall
#   Debian bookworm 6.1, bookworm-backports   tty-fentry, tty-kprobe, syscall
#   6.12, the newest 6.x and newest 7.x in
#   the archive (stock kernels under qemu,
#   resolved at run time by fetch-kernels.sh)
#   every guest kernel from 6.1               entry: tests/bpf/test_entry.c,
#                                             who becomes a session (hostPID
#                                             execs, nsenter, interactive
#                                             containers, sessions found late
#                                             by the task iterator), with the
#                                             backend auto picks (auto_tty)
#   the newest 7.x                            recorder: kubetape-recorder
#                                             --capture auto + a pty session
#                                             into a new pid namespace, read
#                                             back with `kubetape cat`
#                                             (tests/vm/guest_recorder.sh);
#                                             auto must pick tty-fentry, or
#                                             tty-kprobe where the kernel
#                                             preempts kernel code (auto_tty)
#   bullseye 5.10 (the floor check)           refused: the recorder must
#                                             refuse it with one clear line
#
# On 7.x the syscall cell runs the perf-tracepoint way in: those kernels run
# tp_btf programs preemptible and skip runs (bpf/core_fixes.bpf.h,
# kt_tp_runs_preemptible); the table's "skipped" column is the sum of the
# programs' recursion_misses after the pty session (test_capture).
#
# Why 5.15 is the floor and 5.10 is refused: the programs use BPF atomic
# fetch instructions (__sync_fetch_and_add whose result is used: session
# ids, the last-process count), added in 5.12 (BPF_FETCH, commit 5ca419f2864a
# "bpf: Introduce BPF_FETCH flag"); 5.10's verifier rejects the load with
# "BPF_STX uses reserved fields".  5.15 is the first LTS after 5.12.
#
# The host kernel may lack kprobes/fentry (CI's does), so the tty backends
# are tested in stock Debian kernels, fetched by tests/vm/fetch-kernels.sh
# and booted by tests/vm/vmrun.sh, one boot per cell so that one backend
# wrecking a kernel cannot taint the next cell.  Each cell runs
#   test_capture --capture B --expect-backend B
# and prints "PASS kernel_matrix[<kver>/<B>]" or
# "FAIL kernel_matrix[<kver>/<B>]: why" (with the output tail), then a table.
# Never skips: missing root, qemu, kernels or binary are FAILs with the reason.
#
# Environment: KT_OUT (build dir, default build), KT_REPO, KT_VM_CACHE
#   (kernel cache, default /var/cache/kubetape-vm), KT_VM_TIMEOUT (per-guest
#   limit, default 300 s), KT_MATRIX_BUDGET (whole matrix, default 840 s:
#   tests/run.sh kills an e2e script at 900 s), KT_MATRIX_CELLS (optional
#   filter, e.g. "6.1.0-*/syscall host/*": shell patterns on kver/backend,
#   "host" matching the host cell; for debugging only).
set -u
. "$(dirname "$0")/../lib/e2e_lock.sh"
set -o pipefail

REPO=${KT_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
OUT=${KT_OUT:-$REPO/build}
# the guest sees the host root, so any absolute host path works inside it
OUT=$(cd "$OUT" 2>/dev/null && pwd) || OUT=$REPO/build
BIN=$OUT/tests/bpf/test_capture
VM=$REPO/tests/vm
CACHE=${KT_VM_CACHE:-/var/cache/kubetape-vm}
VM_TIMEOUT=${KT_VM_TIMEOUT:-300}
BUDGET=${KT_MATRIX_BUDGET:-840}
T0=$(date +%s)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kubetape-matrix.XXXXXX") || { echo "FAIL kernel_matrix: mktemp failed"; exit 1; }
trap 'rm -rf "$WORK"' EXIT

HOST_KVER=$(uname -r)
GUEST_BACKENDS="tty-fentry tty-kprobe syscall"
ROWS=()      # table rows, "kernel|backend|sessions|recorded|received|skipped|boot|time|result"
NFAIL=0 NPASS=0

# Relayed output is indented so tests/run.sh does not count its PASS/FAIL lines.
indent() { sed 's/^/    | /'; }

wanted() {   # wanted KVER BACKEND: passes KT_MATRIX_CELLS' filter?
	[ -n "${KT_MATRIX_CELLS:-}" ] || return 0
	local p
	for p in $KT_MATRIX_CELLS; do
		# shellcheck disable=SC2254
		case "$1/$2" in $p) return 0 ;; esac
	done
	return 1
}

# fail_cell KVER BACKEND WHY: a cell that could not run at all
fail_cell() {
	echo "FAIL kernel_matrix[$1/$2]: $3"
	ROWS+=("$1|$2|-|-|-|-|-|-|FAIL")
	NFAIL=$((NFAIL + 1))
}

# judge KVER BACKEND LOGFILE RC SECONDS [EXPECTED_BACKEND]: read the cell's
# output (test_capture or guest_recorder.sh), print the cell's PASS/FAIL line
# and add its table row.
judge() {
	local kver=$1 be=$2 log=$3 rc=$4 secs=$5 why="" m sess=- rec=- recv=- skip=- boot=- got
	m=$(grep -m1 '^# matrix:' "$log")
	if [ -n "$m" ]; then
		sess=$(sed -n 's/.* sessions=\([^ ]*\).*/\1/p' <<<"$m"); sess=${sess:--}
		rec=$(sed -n 's/.* recorded=\([^ ]*\).*/\1/p' <<<"$m"); rec=${rec:--}
		recv=$(sed -n 's/.* received=\([^ ]*\).*/\1/p' <<<"$m"); recv=${recv:--}
		skip=$(sed -n 's/.* skipped=\([^ ]*\).*/\1/p' <<<"$m"); skip=${skip:--}
	fi
	boot=$(sed -n 's/^vmrun: .* boot=\([0-9.]*\)s.*/\1/p' "$log" | tail -1); boot=${boot:--}
	# "# backend: NAME" possibly followed by details, e.g. "syscall (lazy)"
	got=$(sed -n 's/^# backend: *\([^ ]*\).*/\1/p' "$log" | head -1)
	if [ "$rc" = 125 ]; then
		why="guest gave no exit status: $(grep -m1 '^vmrun: no exit status' "$log" | sed 's/^vmrun: //')"
		[ "$why" = "guest gave no exit status: " ] && why="vmrun failed: $(grep -m1 '^vmrun: ERROR' "$log" | sed 's/^vmrun: ERROR: //')"
	elif grep -q '^FAIL ' "$log"; then
		why="$(grep -c '^FAIL ' "$log") test(s) failed, first: $(grep -m1 '^FAIL ' "$log" | sed 's/^FAIL //')"
	elif [ "$rc" != 0 ]; then
		why="test_capture exited with status $rc"
	elif ! grep -q '^PASS ' "$log"; then
		why="test_capture printed no PASS line"
	elif [ "$kver" != host ] && ! grep -qx "# guest: $kver" "$log"; then
		why="guest did not run kernel $kver ($(grep -m1 '^# guest:' "$log" || echo 'no uname line'))"
	elif [ "$got" != "${6:-$be}" ]; then
		why="backend in use is '${got:-none reported}', not ${6:-$be}"
	fi
	[ "$kver" = host ] && kver=$HOST_KVER
	if [ -z "$why" ]; then
		echo "PASS kernel_matrix[$kver/$be]"
		ROWS+=("$kver|$be|$sess|$rec|$recv|$skip|$boot|$secs|PASS")
		NPASS=$((NPASS + 1))
	else
		echo "FAIL kernel_matrix[$kver/$be]: $why"
		echo "    output tail ($log):"
		tail -25 "$log" | indent
		ROWS+=("$kver|$be|$sess|$rec|$recv|$skip|$boot|$secs|FAIL")
		NFAIL=$((NFAIL + 1))
	fi
}

# judge_refused KVER LOGFILE RC SECONDS: below the floor the recorder must
# exit 1 with one error line naming the kernel, not load half its programs.
judge_refused() {
	local kver=$1 log=$2 rc=$3 secs=$4 why="" nerr
	nerr=$(grep -c 'kubetape-recorder: error' "$log")
	if [ "$rc" = 125 ]; then
		why="guest gave no exit status"
	elif ! grep -qx "# guest: $kver" "$log"; then
		why="guest did not run kernel $kver"
	elif ! grep -qx '# recorder exit: 1' "$log"; then
		why="recorder did not exit 1 ($(grep -m1 '^# recorder exit' "$log" || echo 'no exit line'))"
	elif [ "$nerr" != 1 ] || ! grep -q "error: kernel $kver is too old" "$log"; then
		why="expected one 'kernel $kver is too old' error line, got $nerr error line(s)"
	fi
	if [ -z "$why" ]; then
		echo "PASS kernel_matrix[$kver/refused]"
		ROWS+=("$kver|refused|0|-|-|-|-|$secs|PASS (refused, exit 1)")
		NPASS=$((NPASS + 1))
	else
		echo "FAIL kernel_matrix[$kver/refused]: $why"
		tail -15 "$log" | indent
		ROWS+=("$kver|refused|-|-|-|-|-|$secs|FAIL")
		NFAIL=$((NFAIL + 1))
	fi
}

# auto_tty KROOT KVER: the tty variant --capture auto must pick in that
# guest.  Where the kernel preempts kernel code (its preemption model is
# full, lazy or RT; vmrun passes no preempt= so a PREEMPT_DYNAMIC kernel
# runs its config's default) fexit runs can be preempted and other tasks'
# runs skipped, so the recorder prefers the kprobe variant
# (recorder/loader.c, bpf/core_fixes.bpf.h kt_kernel_preempt_mode): Debian's
# 6.18 and 7.x (CONFIG_PREEMPT_LAZY); 6.1 and 6.12 are voluntary.
auto_tty() {
	local c
	for c in "$1/boot/config-$2" "$1/lib/modules/$2/config"; do
		[ -r "$c" ] || continue
		if grep -qE '^CONFIG_PREEMPT(_LAZY|_RT)?=y' "$c"; then echo tty-kprobe; else echo tty-fentry; fi
		return
	done
	echo "tty-kprobe (no kernel config found: model unknown)"
}

# below_floor KVER: older than the recorder's 5.15 floor?
below_floor() {
	local ma mi
	IFS=. read -r ma mi _ <<<"$1"
	[ "$ma" -lt 5 ] || { [ "$ma" = 5 ] && [ "$mi" -lt 15 ]; }
}

# remaining: seconds left of the budget
remaining() { echo $((BUDGET - ($(date +%s) - T0))); }

# run_cell KVER|host BACKEND KROOT
run_cell() {
	local kver=$1 be=$2 kroot=$3 log rc s e left tmo secs
	local label=$kver
	[ "$kver" = host ] && label=$HOST_KVER
	log=$WORK/$label-$be.log
	left=$(remaining)
	if [ "$left" -lt 30 ]; then
		fail_cell "$label" "$be" "not run: the matrix used up its ${BUDGET}s budget (KT_MATRIX_BUDGET)"
		return
	fi
	tmo=$VM_TIMEOUT
	[ "$tmo" -gt $((left - 10)) ] && tmo=$((left - 10))
	echo "# kernel_matrix: $label / $be ..."
	s=$(date +%s%N)
	if [ "$kver" = host ]; then
		timeout --kill-after=5 "$tmo" "$BIN" --capture "$be" --expect-backend "$be" >"$log" 2>&1 </dev/null
		rc=$?
		[ "$rc" = 124 ] && echo "FAIL timeout: test_capture killed after ${tmo}s" >>"$log"
	else
		local cmd
		case "$be" in
		recorder) cmd="exec bash $(printf '%q' "$VM/guest_recorder.sh") $(printf '%q' "$OUT") auto" ;;
		entry) cmd="exec $(printf '%q' "$OUT/tests/bpf/test_entry")" ;;
		refused) cmd="$(printf '%q' "$OUT/kubetape-recorder") --db /tmp/kt.db; echo \"# recorder exit: \$?\"" ;;
		*) cmd="exec $(printf '%q' "$BIN") --capture $be --expect-backend $be" ;;
		esac
		# memlock: cheap insurance (kernels before 5.11 charged BPF maps to RLIMIT_MEMLOCK)
		local try
		for try in 1 2; do
			bash "$VM/vmrun.sh" -v -c "$CACHE" -r "$kroot" -k "$kver" -t "$tmo" -- \
				"ulimit -l unlimited; echo \"# guest: \$(uname -r)\"; $cmd" \
				>"$log" 2>&1 </dev/null
			rc=$?
			# One retry when the guest died before running anything of
			# ours: under TCG 7.3 sometimes panics at boot on an int3
			# left by kernel text patching (seen in sched_clock_cpu on a
			# secondary CPU, 2.4 s in).  A crash after "# guest:" is the
			# cell's result and is never retried, with one exception: the
			# guest kernel dying on "Oops: int3" (an int3 that kernel
			# text patching left in a tracepoint site, e.g.
			# trace_syscall_exit when a tracepoint is switched on; seen
			# under TCG on 7.3 in about 1 run in 8, also with main's
			# programs before the 7.x fix).  BPF programs cannot raise
			# that Oops, and a dead guest reports no result at all, so
			# the cell is booted once more and the first log is kept;
			# a second crash is a FAIL.
			[ "$try" = 1 ] && [ "$rc" = 125 ] && [ "$(remaining)" -gt 60 ] &&
				{ ! grep -q '^# guest:' "$log" || grep -q 'Oops: int3' "$log"; } || break
			echo "# kernel_matrix: $label / $be: the guest kernel died ($(grep -m1 -oE 'Kernel panic[^]]*|Oops[^[]*' "$log" || echo 'no exit status')): booting it once more"
			cp "$log" "$log.boot1"
		done
	fi
	e=$(date +%s%N)
	secs=$(printf '%d.%d' $(((e - s) / 1000000000)) $((((e - s) / 100000000) % 10)))
	case "$be" in
	recorder | entry) judge "$kver" "$be" "$log" "$rc" "$secs" "$(auto_tty "$kroot" "$kver")" ;;
	refused) judge_refused "$kver" "$log" "$rc" "$secs" ;;
	*) judge "$kver" "$be" "$log" "$rc" "$secs" ;;
	esac
	# keep failing logs beyond $WORK's lifetime when asked (debugging)
	[ -n "${KT_MATRIX_KEEP:-}" ] && mkdir -p "$KT_MATRIX_KEEP" && cp "$log" "$KT_MATRIX_KEEP/"
}

print_table() {
	local r fmt='%-22s | %-10s | %8s | %14s | %14s | %7s | %6s | %7s | %s\n'
	echo
	echo "kernel matrix ($(( $(date +%s) - T0 ))s total; skipped = the programs' recursion_misses):"
	# shellcheck disable=SC2059
	printf "$fmt" kernel backend sessions "bytes recorded" "bytes received" skipped "boot s" "total s" result
	echo "-----------------------+------------+----------+----------------+----------------+---------+--------+---------+-------"
	for r in "${ROWS[@]}"; do
		IFS='|' read -r k b n rec recv skip boot t res <<<"$r"
		# shellcheck disable=SC2059
		printf "$fmt" "$k" "$b" "$n" "$rec" "$recv" "$skip" "$boot" "$t" "$res"
	done
}

# ---- preconditions: each missing one FAILs the cells it affects ----------
HOST_WHY="" GUEST_WHY=""
if [ "$(id -u)" != 0 ]; then
	HOST_WHY="needs root (BPF, and qemu's 9p passthrough of /)"
	GUEST_WHY=$HOST_WHY
elif [ ! -x "$BIN" ]; then
	HOST_WHY="$BIN not built (run make)"
	GUEST_WHY=$HOST_WHY
elif ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
	GUEST_WHY="qemu-system-x86_64 not found (install qemu-system-x86)"
fi

# ---- kernels ---------------------------------------------------------------
GUESTS=()    # "name kver kroot"
if [ -z "$GUEST_WHY" ]; then
	echo "# kernel_matrix: fetching kernels into $CACHE"
	if bash "$VM/fetch-kernels.sh" "$CACHE" >"$WORK/fetch.log" 2>&1; then
		indent <"$WORK/fetch.log"
		while read -r n k r; do GUESTS+=("$n $k $r"); done <"$CACHE/kernels.list"
		[ ${#GUESTS[@]} -gt 0 ] || GUEST_WHY="fetch-kernels.sh listed no kernels in $CACHE/kernels.list"
	else
		indent <"$WORK/fetch.log"
		GUEST_WHY="kernels not available: $(grep -m1 'ERROR' "$WORK/fetch.log" | sed 's/^fetch-kernels: ERROR: //')"
		GUEST_WHY=${GUEST_WHY%: }
	fi
fi
if [ ${#GUESTS[@]} -eq 0 ]; then
	# name the cells even though we do not know the exact releases
	GUESTS=("floor bullseye-5.10 -" "bookworm bookworm-6.1 -" "backports backports-6.12 -"
		"newest6 newest-6.x -" "newest7 newest-7.x -")
fi

# ---- cells -----------------------------------------------------------------
if wanted host syscall || wanted "$HOST_KVER" syscall; then
	if [ -n "$HOST_WHY" ]; then fail_cell "$HOST_KVER" syscall "$HOST_WHY"
	else run_cell host syscall -; fi
fi
for g in "${GUESTS[@]}"; do
	read -r name kver kroot <<<"$g"
	bes=$GUEST_BACKENDS
	case "$name" in
	floor) bes=refused ;;
	newest7) bes="$bes recorder" ;;
	esac
	[ "$name" != floor ] && bes="$bes entry"
	[ "$name" != floor ] && below_floor "$kver" && bes=refused
	for be in $bes; do
		wanted "$kver" "$be" || continue
		if [ -n "$GUEST_WHY" ]; then fail_cell "$kver" "$be" "$GUEST_WHY"
		else run_cell "$kver" "$be" "$kroot"; fi
	done
done

print_table
if [ $((NPASS + NFAIL)) = 0 ]; then
	echo "FAIL kernel_matrix: no cell matched KT_MATRIX_CELLS='${KT_MATRIX_CELLS:-}'"
	exit 1
fi
[ "$NFAIL" = 0 ]
