/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Capture backend "syscall": for kernels where neither fentry nor kprobes
 * can attach (the 6.18 CI kernel: no CONFIG_KPROBES, fentry refused).
 *
 * The process holding a session's pty master (containerd-shim, conmon,
 * sshd, tmux…) reads exactly the byte stream the kubectl client receives,
 * line-discipline echo and \n -> \r\n included, and writes what the user
 * typed.  So we watch read(2)/write(2)/ioctl(TIOCSWINSZ) on pty masters whose
 * slave is a recorded tty.
 *
 * One BTF raw tracepoint at syscall exit does it all: the arguments are read
 * back from the task's saved user registers, the return value says how many
 * bytes moved.  A raw tracepoint skips the per-syscall perf record that
 * syscalls:sys_* tracepoint programs pay for, and exit-only capture also records
 * the first read of a reader that was already blocked in read(2) when the
 * session started.
 *
 * Cost: any syscall tracepoint makes every syscall on the node take the slow
 * path (TIF_SYSCALL_TRACEPOINT), so the recorder attaches this program only
 * while a tty is recorded.  While attached, the first test is kt_nr_ttys,
 * then the syscall number; a read/write on a non-master fd costs the fd table
 * walk below (5 dependent loads) and one compare.
 *
 * Limits: readv/writev/splice/io_uring on the master are not seen (no
 * runtime we know of uses them for the console); 32-bit compat syscalls are
 * not decoded.
 */
#ifndef KUBETAPE_CAPTURE_SYSCALL_BPF_H
#define KUBETAPE_CAPTURE_SYSCALL_BPF_H

#include "maps.bpf.h"
#include "core_fixes.bpf.h"
#include "input.bpf.h"
#include "echo.bpf.h"
#include "catchup.h"
#include <bpf/bpf_tracing.h>

#define KT_TIOCSWINSZ 0x5414
#define KT_EIO 5

static __always_inline struct file *kt_fd_file(unsigned long fd)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds;
	struct file *f = NULL;

	if (fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/*
 * If `fd` is a pty master (or, with `slave_ok`, a slave, or /dev/tty naming
 * one: sudo, ssh and getpass set their prompt's termios there) whose slave is
 * recorded, return the session id and the slave's key; *master gets the
 * master tty when fd is one.
 */
static __always_inline __u64 kt_fd_session(unsigned long fd, __u64 *key, bool slave_ok,
					   struct tty_struct **master)
{
	struct file *f = kt_fd_file(fd);
	struct tty_file_private *priv;
	struct tty_struct *tty;
	__u32 rdev, major;
	__u64 *sid;

	if (!f)
		return 0;
	rdev = BPF_CORE_READ(f, f_inode, i_rdev);
	major = KT_DEV_MAJOR(rdev);
	if (rdev != KT_DEV_PTMX &&
	    !(slave_ok && (rdev == KT_DEV_TTY || (major >= KT_PTS_MAJOR_FIRST && major <= KT_PTS_MAJOR_LAST))))
		return 0;
	priv = BPF_CORE_READ(f, private_data);
	tty = BPF_CORE_READ(priv, tty);
	*master = NULL;
	if (rdev == KT_DEV_PTMX) {
		*master = tty;
		tty = BPF_CORE_READ(tty, link);
	}
	*key = (__u64)tty;
	sid = bpf_map_lookup_elem(&ttys, key);
	return sid ? *sid : 0;
}

/*
 * Output the master's reader consumed without us seeing it: the reader used
 * a call we do not hook (readv, io_uring), or it read before the recorder
 * attached this program (it is attached only while a tty is recorded).
 * n_tty keeps free-running counters: read_tail is how far the reader has
 * consumed, and consumed bytes stay in the 4 KiB read_buf ring until
 * read_head laps them.  So the hole [out_next, this read's start) is copied
 * from the ring as far as it is still there; the older rest is counted as loss.
 * Recovered bytes carry this read's timestamp.
 */
static __always_inline void kt_master_catch_up(__u64 sid, __u64 key, struct tty_struct *master, long ret)
{
	struct n_tty_data *ld = BPF_CORE_READ(master, disc_data);
	struct kt_session *s = bpf_map_lookup_elem(&sessions, &sid);
	struct kt_catchup c;
	__u64 tail, from, pos, n1;

	if (!s || !ld)
		return;
	tail = BPF_CORE_READ(ld, read_tail);
	from = s->out_next;
	s->out_next = tail;
	if (!kt_catchup_span(from, tail - ret, BPF_CORE_READ(ld, read_head), &c))
		return;
	if (c.lost)	/* lapped: the oldest part is gone, the newest is still there */
		kt_count_loss(sid, c.lost);
	if (!c.copy_len)
		return;
	pos = c.copy_from & (KT_N_TTY_BUF_SIZE - 1);
	n1 = KT_N_TTY_BUF_SIZE - pos;
	if (n1 > c.copy_len)
		n1 = c.copy_len;
	kt_emit_data(sid, key, KT_EV_TTY_OUT, KT_SRC_SYSCALL, (const char *)ld->read_buf + pos, n1, false);
	if (c.copy_len > n1)
		kt_emit_data(sid, key, KT_EV_TTY_OUT, KT_SRC_SYSCALL, (const char *)ld->read_buf,
			     c.copy_len - n1, false);
}

/*
 * Report the slave's window size when it differs from the last one sent:
 * catches resizes made while the hook was detached (the runtime sizes the
 * console right after the exec, before the recorder attaches) or through
 * paths we do not hook.
 */
static __always_inline void kt_winsize_catch_up(__u64 sid, __u64 key)
{
	struct kt_session *s = bpf_map_lookup_elem(&sessions, &sid);
	struct tty_struct *slave = (struct tty_struct *)key;
	__u16 rows, cols;

	if (!s)
		return;
	rows = BPF_CORE_READ(slave, winsize.ws_row);
	cols = BPF_CORE_READ(slave, winsize.ws_col);
	if (rows == s->tty.rows && cols == s->tty.cols)
		return;
	s->tty.rows = rows;
	s->tty.cols = cols;
	kt_emit_winsize(sid, key, rows, cols);
}

#if defined(__TARGET_ARCH_x86)
#define KT_NR_READ 0
#define KT_NR_WRITE 1
#define KT_NR_IOCTL 16
#define KT_SYSCALL_NR(regs) BPF_CORE_READ(regs, orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define KT_NR_READ 63
#define KT_NR_WRITE 64
#define KT_NR_IOCTL 29
#define KT_SYSCALL_NR(regs) BPF_CORE_READ(regs, syscallno)
#else
#error "syscall numbers for this architecture are not defined"
#endif

/*
 * The whole backend, whichever way the kernel calls it (below).  A read
 * that fails with EIO is the reader's last (the slave side closed): it
 * moves no bytes, but what earlier reads consumed unseen is recovered
 * there, so a skipped run near the end of a session still loses nothing
 * that n_tty's ring holds.
 */
static __always_inline int kt_sys_exit_common(struct pt_regs *regs, long nr, long ret)
{
	struct tty_struct *master;
	unsigned long fd;
	__u64 sid, key;

	if (nr == KT_NR_READ || nr == KT_NR_WRITE) {
		if (nr == KT_NR_READ && ret == -KT_EIO) {
			fd = PT_REGS_PARM1_CORE_SYSCALL(regs);
			sid = kt_fd_session(fd, &key, false, &master);
			if (sid && master)
				kt_master_catch_up(sid, key, master, 0);
			return 0;
		}
		if (ret <= 0 || (nr == KT_NR_WRITE && !kt_capture_input))
			return 0;
		fd = PT_REGS_PARM1_CORE_SYSCALL(regs);
		sid = kt_fd_session(fd, &key, false, &master);
		if (!sid)
			return 0;
		if (nr == KT_NR_READ) {
			kt_winsize_catch_up(sid, key);
			kt_master_catch_up(sid, key, master, ret);
		}
		if (nr == KT_NR_READ)
			kt_emit_data(sid, key, KT_EV_TTY_OUT, KT_SRC_SYSCALL,
				     (const char *)PT_REGS_PARM2_CORE_SYSCALL(regs), ret, true);
		else	/* typed: withheld when ECHO was off as n_tty took it in */
			kt_emit_input(sid, (struct tty_struct *)key, KT_SRC_SYSCALL,
				      (const char *)PT_REGS_PARM2_CORE_SYSCALL(regs), ret, true,
				      kt_echo_withhold(sid, (struct tty_struct *)key, ret));
	} else if (nr == KT_NR_IOCTL) {
		unsigned int cmd = (unsigned int)PT_REGS_PARM2_CORE_SYSCALL(regs);
		bool termios = false;

		/* every ioctl of the node passes here: register compares first,
		 * the input-capture global only for a termios set */
		if (cmd != KT_TIOCSWINSZ || ret != 0) {
			if (!kt_ioctl_sets_termios(cmd) || !kt_capture_input)
				return 0;
			termios = true;
		}
		fd = PT_REGS_PARM1_CORE_SYSCALL(regs);
		sid = kt_fd_session(fd, &key, true, &master);
		if (!sid)
			return 0;
		if (termios)	/* whatever ret: what counts is ECHO now */
			kt_echo_termios_set(sid, (struct tty_struct *)key);
		else
			kt_winsize_catch_up(sid, key);
	}
	return 0;
}

/*
 * Two ways in, the same program; the loader attaches exactly one
 * (recorder/loader.c), chosen by how this kernel runs tracepoint programs
 * (bpf/core_fixes.bpf.h, kt_tp_runs_preemptible):
 *
 * kt_sys_exit: the BTF raw tracepoint.  Cheapest (no perf record), and
 * exact where the kernel runs it with preemption off.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(kt_sys_exit, struct pt_regs *regs, long ret)
{
	if (!kt_nr_ttys || !kt_recording())
		return 0;
	return kt_sys_exit_common(regs, KT_SYSCALL_NR(regs), ret);
}

/*
 * kt_sys_exit_perf: the same tracepoint through perf (raw_syscalls:sys_exit),
 * for kernels whose raw tracepoint runs preemptible: perf's path still runs
 * its program with preemption off.  The record holds the syscall number and
 * return value; the arguments come from the task's saved user registers
 * (bpf_task_pt_regs, 5.15), the same pt_regs the raw tracepoint passes.
 */
SEC("tracepoint/raw_syscalls/sys_exit")
int kt_sys_exit_perf(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs;

	if (!kt_nr_ttys || !kt_recording())
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	return kt_sys_exit_common(regs, BPF_CORE_READ(ctx, id), BPF_CORE_READ(ctx, ret));
}

#endif /* KUBETAPE_CAPTURE_SYSCALL_BPF_H */
