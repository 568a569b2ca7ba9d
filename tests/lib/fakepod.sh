#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/lib/fakepod.sh — the node side of `kubectl exec`, for real, without
# kubelet: a private containerd (own root, state, socket), and a pod-shaped
# pair of containers (sandbox + app sharing one shim-runc-v2) whose OCI specs
# carry the CRI annotations and a /kubepods/besteffort/pod<uid>/<cid> cgroup.
#
#   fakepod.sh up            start containerd + the pod; prints KEY=VALUE lines
#                            (also in $FAKEPOD_DIR/pod/env, shell-sourceable)
#   fakepod.sh env           print that env file
#   fakepod.sh exec-tty [CMD...]  like `kubectl exec -it POD -c app -- CMD`
#                            (default bash); stdin must be a terminal
#   fakepod.sh exec [-i] CMD...   like `kubectl exec [-i] POD -c app -- CMD`
#                            (no tty; stdin attached only with -i)
#   fakepod.sh rootfs        build (once, cached) the app rootfs and print its
#                            path (the runtime tests make images from it)
#   fakepod.sh run [--host-pid] [--tty] NAME -- CMD...
#                            one more container NAME in the pod: without a pid
#                            namespace of its own (a hostPID pod's), and/or
#                            started on a terminal (process.terminal, as
#                            kubectl run -it / kubectl debug -it; runs in the
#                            foreground, stdin must be a terminal, exit status
#                            is the container's).  Without --tty it runs
#                            detached and prints NAME_ID= and NAME_PID= lines.
#   FAKEPOD_TARGET=ID fakepod.sh exec[-tty] ...   exec into container ID
#   fakepod.sh down          stop everything; idempotent, works after a
#                            half-failed up; leaves no process, mount or
#                            cgroup dir behind (keeps the rootfs cache)
#
# Environment: FAKEPOD_DIR (default /tmp/kubetape-fakepod), FAKEPOD_POD
# (web-7d4b9c), FAKEPOD_NAMESPACE (shop), FAKEPOD_CONTAINER (app).
#
# The app's rootfs holds real binaries copied from the host (bash, dash as
# sh, coreutils, grep, find, ...) with their shared libraries, so every typed
# command is an execve (busybox applets are not).  It is built once and
# cached in $FAKEPOD_DIR/rootfs.
#
# Limits: one pod per FAKEPOD_DIR; root only; containerd 1.6 still puts shim
# sockets in /run/containerd/s (runc state and fifos are moved into
# FAKEPOD_DIR with --runc-root/--fifo-dir); the cgroupfs driver only.
set -u

P=${FAKEPOD_DIR:-/tmp/kubetape-fakepod}
POD_NAME=${FAKEPOD_POD:-web-7d4b9c}
POD_NAMESPACE=${FAKEPOD_NAMESPACE:-shop}
CONTAINER_NAME=${FAKEPOD_CONTAINER:-app}
CTR_NS=k8s.io
SOCK=$P/containerd.sock
STATE=$P/state
TASKS=$STATE/io.containerd.runtime.v2.task/$CTR_NS
RUNC_ROOT=$P/runc
LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOTFS_VERSION=kubetape-fakepod-rootfs-v2
CTR=(ctr --address "$SOCK" --namespace "$CTR_NS")

# Programs copied into the app rootfs (resolved on the host's PATH).
ROOTFS_BINS=(bash dash ls cat id seq head tail base64 yes dd sleep stty tty printf
	echo env true false wc sort tr mkdir rm touch uname pwd date grep find tee
	cut sed kill ps hostname md5sum sha256sum)

msg() { echo "fakepod: $*" >&2; }
die() { echo "fakepod: ERROR: $*" >&2; exit 1; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

need_root() {
	[ "$(id -u)" = 0 ] || die "must run as root (containerd, runc and cgroups need it); uid is $(id -u)"
	local c
	for c in containerd ctr runc containerd-shim-runc-v2 python3 ldd; do
		command -v "$c" >/dev/null || die "'$c' not found: run 'make deps' (tests/lib/deps.sh)"
	done
}

# alive PID: exists and is not a zombie (our background children are
# reparented to whatever reaps here, which may take its time).
alive() {
	local st
	st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

containerd_pid() {
	local pid
	[ -f "$P/containerd.pid" ] || return 1
	pid=$(cat "$P/containerd.pid")
	[ -n "$pid" ] && alive "$pid" && grep -qa containerd "/proc/$pid/cmdline" 2>/dev/null || return 1
	echo "$pid"
}

# Mount points of every cgroup hierarchy (v1 controllers and v2).
cgroup_roots() {
	awk '$0 ~ / - cgroup2? / { print $5 }' /proc/self/mountinfo
}

# ------------------------------------------------------------------ rootfs
copy_with_libs() {	# copy_with_libs ROOTFS HOSTPATH DEST_IN_ROOTFS
	local r=$1 src=$2 dst=$3 lib
	install -D -m 0755 "$(readlink -f "$src")" "$r$dst" || return 1
	# ldd lines: "libx.so => /path (0x..)" and "/lib64/ld-linux... (0x..)"
	for lib in $(ldd "$src" 2>/dev/null | awk '/=> \// { print $3 } /^\t\// { print $1 }'); do
		[ -e "$r$lib" ] && continue
		mkdir -p "$r$(dirname "$lib")" && cp -L "$lib" "$r$lib" || return 1
	done
}

build_rootfs() {
	local r=$P/rootfs
	if [ "$(cat "$r/.version" 2>/dev/null)" = "$ROOTFS_VERSION" ]; then
		return 0
	fi
	local t0 tmp b path
	t0=$(date +%s%N)
	tmp=$P/rootfs.tmp.$$
	rm -rf "$tmp" "$r"
	mkdir -p "$tmp"/usr/{bin,sbin,lib,lib64} "$tmp"/{etc,proc,sys,dev,tmp,root,run,var/tmp,home/app} || return 1
	# merged /usr like Debian 12, so host library paths resolve either way
	ln -s usr/bin "$tmp/bin"; ln -s usr/sbin "$tmp/sbin"
	ln -s usr/lib "$tmp/lib"; ln -s usr/lib64 "$tmp/lib64"
	chmod 1777 "$tmp/tmp" "$tmp/var/tmp"; chmod 0700 "$tmp/root"
	for b in "${ROOTFS_BINS[@]}"; do
		path=$(type -P "$b") || die "rootfs: '$b' not found on the host (make deps)"
		copy_with_libs "$tmp" "$path" "/usr/bin/$b" || die "rootfs: copying $b failed"
	done
	ln -sf dash "$tmp/usr/bin/sh"
	# bash's readline wants a terminfo entry for TERM=xterm
	for b in x/xterm x/xterm-256color d/dumb; do
		for path in /usr/share/terminfo /lib/terminfo /usr/lib/terminfo; do
			[ -f "$path/$b" ] && { install -D -m 0644 "$path/$b" "$tmp/usr/share/terminfo/$b"; break; }
		done
	done
	cat >"$tmp/etc/passwd" <<-'EOF'
	root:x:0:0:root:/root:/bin/bash
	app:x:1000:1000:app:/home/app:/bin/bash
	nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
	EOF
	printf 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n' >"$tmp/etc/group"
	printf 'passwd: files\ngroup: files\nhosts: files\n' >"$tmp/etc/nsswitch.conf"
	printf 'PS1='"'"'\\u@\\h:\\w\\$ '"'"'\n' >"$tmp/root/.bashrc"
	chown 1000:1000 "$tmp/home/app"
	echo "$ROOTFS_VERSION" >"$tmp/.version"
	mv "$tmp" "$r" || return 1
	msg "rootfs built in $(ms_since "$t0") ms ($(du -sh "$r" | cut -f1))"
}

# ------------------------------------------------------------------ containerd
start_containerd() {
	containerd_pid >/dev/null && return 0
	local t0 i
	t0=$(date +%s%N)
	if [ ! -f "$P/config.toml" ] || ! grep -q "\"$SOCK\"" "$P/config.toml"; then
		containerd config default | sed \
			-e "s#^root = .*#root = \"$P/root\"#" \
			-e "s#^state = .*#state = \"$STATE\"#" \
			-e "s#address = \"/run/containerd/containerd.sock\"#address = \"$SOCK\"#" \
			>"$P/config.toml" || die "containerd config default failed"
	fi
	containerd --config "$P/config.toml" >"$P/containerd.log" 2>&1 &
	echo $! >"$P/containerd.pid"
	for i in $(seq 500); do
		[ -S "$SOCK" ] && "${CTR[@]}" version >/dev/null 2>&1 && break
		kill -0 "$(cat "$P/containerd.pid")" 2>/dev/null ||
			{ tail -20 "$P/containerd.log" >&2; die "containerd exited at start (log: $P/containerd.log)"; }
		sleep 0.02
	done
	"${CTR[@]}" version >/dev/null 2>&1 || { tail -20 "$P/containerd.log" >&2; die "containerd not ready after 10 s (log: $P/containerd.log)"; }
	msg "containerd ready in $(ms_since "$t0") ms (pid $(cat "$P/containerd.pid"))"
}

task_running() {	# task_running ID
	"${CTR[@]}" task ls 2>/dev/null | awk -v id="$1" '$1 == id && $3 == "RUNNING" { f = 1 } END { exit !f }'
}

# ------------------------------------------------------------------ up
do_up() {
	need_root
	mkdir -p "$P" || die "cannot create $P"
	if [ -f "$P/pod/env" ] && containerd_pid >/dev/null; then
		# shellcheck disable=SC1091
		. "$P/pod/env"
		if task_running "$CONTAINER_ID" && task_running "$SANDBOX_ID"; then
			msg "pod already up"
			cat "$P/pod/env"
			return 0
		fi
	fi
	# Anything half-there from an earlier run goes first.
	[ -d "$P/pod" ] && do_down
	local t0 sb c u sbpid cpid h
	t0=$(date +%s%N)
	build_rootfs || die "building the rootfs failed"
	mkdir -p "$P/pod" "$P/fifo" "$RUNC_ROOT"
	# Remember which shared dirs we create, so down never removes a real
	# node's kubepods hierarchy or /run/containerd.
	if [ ! -f "$P/created" ]; then
		: >"$P/created"
		[ -e /run/containerd ] || echo /run/containerd >>"$P/created"
		for h in $(cgroup_roots); do
			[ -d "$h/kubepods" ] || echo "$h/kubepods" >>"$P/created"
			[ -d "$h/kubepods/besteffort" ] || echo "$h/kubepods/besteffort" >>"$P/created"
		done
	fi
	start_containerd
	sb=$(head -c32 /dev/urandom | sha256sum | cut -c1-64)
	c=$(head -c32 /dev/urandom | sha256sum | cut -c1-64)
	u=$(cat /proc/sys/kernel/random/uuid)
	# ids first: down needs them even if what follows fails
	echo "$sb $c $u" >"$P/pod/ids"
	echo "$POD_NAME" >"$P/pod/hostname"
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.0.0.2\t%s\n' "$POD_NAME" >"$P/pod/hosts"
	"${CTR[@]}" oci spec >"$P/pod/base.json" || die "ctr oci spec failed"
	python3 "$LIBDIR/mkspec.py" "$P/pod/base.json" "$P/pod/sandbox.json" sandbox "$sb" "$sb" \
		"$POD_NAME" "$POD_NAMESPACE" "$u" "" "$P/rootfs" "/kubepods/besteffort/pod$u/$sb" "$P/pod" \
		-- sleep 2147483647 || die "mkspec (sandbox) failed"
	"${CTR[@]}" run -d --null-io --runc-root "$RUNC_ROOT" --fifo-dir "$P/fifo" \
		--config "$P/pod/sandbox.json" "$sb" >/dev/null || die "starting the sandbox container failed (log: $P/containerd.log)"
	sbpid=$(cat "$TASKS/$sb/init.pid") || die "no init.pid for the sandbox"
	python3 "$LIBDIR/mkspec.py" "$P/pod/base.json" "$P/pod/app.json" container "$c" "$sb" \
		"$POD_NAME" "$POD_NAMESPACE" "$u" "$CONTAINER_NAME" "$P/rootfs" "/kubepods/besteffort/pod$u/$c" "$P/pod" "$sbpid" \
		-- sleep 2147483647 || die "mkspec (app) failed"
	"${CTR[@]}" run -d --null-io --runc-root "$RUNC_ROOT" --fifo-dir "$P/fifo" \
		--config "$P/pod/app.json" "$c" >/dev/null || die "starting the app container failed (log: $P/containerd.log)"
	cpid=$(cat "$TASKS/$c/init.pid") || die "no init.pid for the app container"
	cat >"$P/pod/env" <<-EOF
	FAKEPOD_DIR=$P
	CONTAINERD_ADDRESS=$SOCK
	CONTAINERD_NAMESPACE=$CTR_NS
	CONTAINERD_STATE=$STATE
	CONTAINERD_PID=$(cat "$P/containerd.pid")
	POD_NAME=$POD_NAME
	POD_NAMESPACE=$POD_NAMESPACE
	POD_UID=$u
	CONTAINER_NAME=$CONTAINER_NAME
	SANDBOX_ID=$sb
	CONTAINER_ID=$c
	SANDBOX_INIT_PID=$sbpid
	APP_INIT_PID=$cpid
	APP_BUNDLE=$TASKS/$c
	APP_CGROUP=/kubepods/besteffort/pod$u/$c
	EOF
	msg "pod $POD_NAMESPACE/$POD_NAME up in $(ms_since "$t0") ms (app $CONTAINER_NAME pid $cpid)"
	cat "$P/pod/env"
}

load_ids() {
	[ -f "$P/pod/env" ] || die "no pod: run '$0 up' first"
	# shellcheck disable=SC1091
	. "$P/pod/env"
}

exec_id() { echo "exec-$$-$RANDOM$RANDOM"; }

# ------------------------------------------------------------------ down
kill_cgroup_procs() {	# kill -9 everything in our pod's cgroups, any hierarchy
	local u=$1 h f pid
	for h in $(cgroup_roots); do
		[ -d "$h/kubepods/besteffort/pod$u" ] || continue
		while IFS= read -r f; do
			while read -r pid; do
				[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
			done <"$f"
		done < <(find "$h/kubepods/besteffort/pod$u" -name cgroup.procs 2>/dev/null)
	done
}

our_shims() {	# pids of live shims serving our containerd socket
	local f pid
	# -z: cmdline args are NUL-terminated "lines"; -x: one arg equals $SOCK
	for f in $(grep -lzsxF -- "$SOCK" /proc/[0-9]*/cmdline); do
		pid=${f#/proc/}; pid=${pid%/cmdline}
		case "$(cat "/proc/$pid/comm" 2>/dev/null)" in
		containerd-shim*) alive "$pid" && echo "$pid" ;;
		esac
	done
}

do_down() {
	need_root
	local sb="" c="" u="" id i pid h d
	[ -f "$P/pod/ids" ] && read -r sb c u <"$P/pod/ids"
	if containerd_pid >/dev/null; then
		for id in $("${CTR[@]}" task ls -q 2>/dev/null); do
			"${CTR[@]}" task kill -s KILL "$id" >/dev/null 2>&1
		done
		for i in $(seq 100); do
			[ -z "$("${CTR[@]}" task ls 2>/dev/null | awk 'NR > 1 && $3 == "RUNNING"')" ] && break
			sleep 0.05
		done
		for id in $("${CTR[@]}" task ls -q 2>/dev/null); do
			"${CTR[@]}" task rm -f "$id" >/dev/null 2>&1
		done
		for id in $("${CTR[@]}" container ls -q 2>/dev/null); do
			"${CTR[@]}" container rm "$id" >/dev/null 2>&1
		done
	fi
	# Whatever containerd could not stop (it may be dead): runc, then the
	# cgroups themselves.
	for id in $c $sb; do
		[ -d "$RUNC_ROOT/$CTR_NS/$id" ] && runc --root "$RUNC_ROOT/$CTR_NS" delete --force "$id" >/dev/null 2>&1
	done
	[ -n "$u" ] && kill_cgroup_procs "$u"
	# SIGKILL, not SIGTERM: a graceful containerd 1.6 shutdown takes ~2 s
	# here and buys nothing, since its root and state dirs are deleted below.
	if pid=$(containerd_pid); then
		kill -KILL "$pid"
		for i in $(seq 200); do alive "$pid" || break; sleep 0.02; done
	fi
	rm -f "$P/containerd.pid"
	for pid in $(our_shims); do kill -KILL "$pid" 2>/dev/null; done
	for i in $(seq 100); do [ -z "$(our_shims)" ] && break; sleep 0.05; done
	# Wait for killed container processes to be gone so rmdir can succeed.
	if [ -n "$u" ]; then
		for h in $(cgroup_roots); do
			[ -d "$h/kubepods/besteffort/pod$u" ] || continue
			for i in $(seq 100); do
				find "$h/kubepods/besteffort/pod$u" -depth -type d -exec rmdir {} \; 2>/dev/null
				[ -d "$h/kubepods/besteffort/pod$u" ] || break
				kill_cgroup_procs "$u"
				sleep 0.05
			done
			[ -d "$h/kubepods/besteffort/pod$u" ] && msg "WARNING: could not remove $h/kubepods/besteffort/pod$u"
		done
	fi
	# Shared parents only if we created them and they are empty now.
	if [ -f "$P/created" ]; then
		while read -r d; do
			case "$d" in
			*/kubepods/besteffort) rmdir "$d" 2>/dev/null ;;
			esac
		done <"$P/created"
		while read -r d; do
			case "$d" in
			*/kubepods) rmdir "$d" 2>/dev/null ;;
			# only empty dirs: another containerd may have come up since
			/run/containerd) find /run/containerd -depth -type d -empty -delete 2>/dev/null ;;
			esac
		done <"$P/created"
		rm -f "$P/created"
	fi
	# Nothing should be mounted from our dir; unmount (lazily) if it is.
	awk -v p="$P" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r d; do
		umount -l "$d" && msg "unmounted leftover $d"
	done
	# Private containerd data goes too; only the rootfs cache and config stay.
	rm -rf "$P/pod" "$P/state" "$P/root" "$RUNC_ROOT" "$P/fifo" "$SOCK" "$SOCK.ttrpc" "$P"/rootfs.tmp.*
	return 0
}

# ------------------------------------------------------------------ main
cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
up) do_up ;;
env) load_ids; cat "$P/pod/env" ;;
exec-tty)
	need_root; load_ids
	[ -t 0 ] || die "exec-tty needs a terminal on stdin (drive it with ptyrun)"
	[ $# -gt 0 ] || set -- bash
	exec "${CTR[@]}" task exec --tty --fifo-dir "$P/fifo" --exec-id "$(exec_id)" "${FAKEPOD_TARGET:-$CONTAINER_ID}" "$@" ;;
exec)
	need_root; load_ids
	stdin=/dev/null
	if [ "${1:-}" = -i ]; then stdin=/dev/stdin; shift; fi
	[ $# -gt 0 ] || die "usage: $0 exec [-i] CMD [ARGS...]"
	exec "${CTR[@]}" task exec --fifo-dir "$P/fifo" --exec-id "$(exec_id)" "${FAKEPOD_TARGET:-$CONTAINER_ID}" "$@" <"$stdin" ;;
run)
	need_root; load_ids
	opts=(); tty=0
	while :; do
		case "${1:-}" in
		--host-pid) opts+=(--host-pid) ;;
		--tty) opts+=(--terminal); tty=1 ;;
		*) break ;;
		esac
		shift
	done
	name=${1:-}; shift
	[ "${1:-}" = -- ] && shift
	[ -n "$name" ] && [ $# -gt 0 ] || die "usage: $0 run [--host-pid] [--tty] NAME -- CMD..."
	id=$(head -c32 /dev/urandom | sha256sum | cut -c1-64)
	python3 "$LIBDIR/mkspec.py" "${opts[@]}" "$P/pod/base.json" "$P/pod/$name.json" container "$id" \
		"$SANDBOX_ID" "$POD_NAME" "$POD_NAMESPACE" "$POD_UID" "$name" "$P/rootfs" \
		"/kubepods/besteffort/pod$POD_UID/$id" "$P/pod" "$SANDBOX_INIT_PID" -- "$@" || die "mkspec ($name) failed"
	if [ $tty = 1 ]; then
		[ -t 0 ] || die "run --tty needs a terminal on stdin (drive it with ptyrun)"
		exec "${CTR[@]}" run -t --rm --runc-root "$RUNC_ROOT" --fifo-dir "$P/fifo" \
			--config "$P/pod/$name.json" "$id"
	fi
	"${CTR[@]}" run -d --null-io --runc-root "$RUNC_ROOT" --fifo-dir "$P/fifo" \
		--config "$P/pod/$name.json" "$id" >/dev/null || die "starting container $name failed (log: $P/containerd.log)"
	var=$(echo "$name" | tr a-z- A-Z_)
	echo "${var}_ID=$id"
	echo "${var}_PID=$(cat "$TASKS/$id/init.pid")" ;;
rootfs) need_root; mkdir -p "$P" && build_rootfs && echo "$P/rootfs" ;;
down) do_down; msg "down" ;;
*) echo "usage: $0 up | env | rootfs | exec-tty [CMD...] | exec [-i] CMD... | run [--host-pid] [--tty] NAME -- CMD... | down" >&2; exit 2 ;;
esac
