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
 * Cost: syscall tracepoints fire for every read/write on the node.  The
 * first instructions test kt_nr_ttys; with no session recording a tty that is
 * all an unrelated process pays (the recorder also detaches these programs
 * while no tty is recorded).  With sessions, a non-master fd costs the fd
 * table walk below (5 dependent loads) and one compare.
 *
 * Limits: readv/writev/splice/io_uring on the master are not seen; no
 * runtime we know of uses them for the console.
 */
#ifndef KUBETAPE_CAPTURE_SYSCALL_BPF_H
#define KUBETAPE_CAPTURE_SYSCALL_BPF_H

#include "maps.bpf.h"
#include "core_fixes.bpf.h"
#include <bpf/bpf_tracing.h>

#define KT_TIOCSWINSZ 0x5414

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
 * If `fd` is a pty master (or, with `slave_ok`, a slave) whose slave is
 * recorded, return the session id and the slave's key.
 */
static __always_inline __u64 kt_fd_session(unsigned long fd, __u64 *key, bool slave_ok)
{
	struct file *f = kt_fd_file(fd);
	struct tty_file_private *priv;
	struct tty_struct *tty;
	__u32 rdev, major;
	__u64 *sid;

	if (!f)
		return 0;
	rdev = BPF_CORE_READ(f, f_inode, i_rdev);
	major = rdev >> KT_MINORBITS;
	if (rdev != KT_DEV_PTMX && !(slave_ok && major >= KT_PTS_MAJOR_FIRST && major <= KT_PTS_MAJOR_LAST))
		return 0;
	priv = BPF_CORE_READ(f, private_data);
	tty = BPF_CORE_READ(priv, tty);
	if (rdev == KT_DEV_PTMX)
		tty = BPF_CORE_READ(tty, link);
	*key = (__u64)tty;
	sid = bpf_map_lookup_elem(&ttys, key);
	return sid ? *sid : 0;
}

/*
 * Output is taken at syscall exit only, with fd and buffer read back from the
 * task's saved user registers: one hook instead of an enter/exit pair, and a
 * reader already blocked in read(2) when the session started (sshd, a pty
 * driver) still has its first bytes recorded.
 */
SEC("tracepoint/syscalls/sys_exit_read")
int kt_sys_exit_read(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs;
	__u64 sid, key;
	long ret;

	if (!kt_nr_ttys)
		return 0;
	ret = ctx->ret;
	if (ret <= 0)
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	sid = kt_fd_session(PT_REGS_PARM1_CORE_SYSCALL(regs), &key, false);
	if (!sid)
		return 0;
	kt_emit_data(sid, key, KT_EV_TTY_OUT, KT_SRC_SYSCALL,
		     (const char *)PT_REGS_PARM2_CORE_SYSCALL(regs), ret, true);
	return 0;
}

/* What the user typed: written to the master by the console copier. */
SEC("tracepoint/syscalls/sys_enter_write")
int kt_sys_enter_write(struct trace_event_raw_sys_enter *ctx)
{
	__u64 sid, key;

	if (!kt_nr_ttys || !kt_capture_input)
		return 0;
	sid = kt_fd_session(ctx->args[0], &key, false);
	if (!sid)
		return 0;
	kt_emit_data(sid, key, KT_EV_TTY_IN, KT_SRC_SYSCALL, (const char *)ctx->args[1],
		     ctx->args[2], true);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_ioctl")
int kt_sys_enter_ioctl(struct trace_event_raw_sys_enter *ctx)
{
	struct winsize ws;
	__u64 sid, key;

	if (!kt_nr_ttys || (unsigned int)ctx->args[1] != KT_TIOCSWINSZ)
		return 0;
	sid = kt_fd_session(ctx->args[0], &key, true);
	if (!sid)
		return 0;
	if (bpf_probe_read_user(&ws, sizeof(ws), (void *)ctx->args[2]))
		return 0;
	kt_emit_winsize(sid, key, ws.ws_row, ws.ws_col);
	return 0;
}

#endif /* KUBETAPE_CAPTURE_SYSCALL_BPF_H */
