// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Feature probes the loader runs before it chooses programs
 * (recorder/loader_progs.c, kt_loader_probe): a separate object, so that the
 * probe never changes kubetape.bpf.c's .bss, whose layout pinned kernel
 * state depends on (KT_PIN_LAYOUT).
 *
 * kt_probe_sys_exit: attached for one syscall of the loader's own process;
 * reports whether this kernel runs BTF raw tracepoint programs preemptible
 * (bpf/core_fixes.bpf.h, kt_tp_runs_preemptible), and the kernel's
 * preemption model, which decides whether fentry/fexit programs can be
 * preempted (kt_kernel_preempt_mode).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "events.h"
#include "core_fixes.bpf.h"

__u32 kt_probe_tgid;        /* set by the loader */
__u32 kt_probe_runs;        /* runs seen for that process */
__u32 kt_probe_preemptible; /* ... of which preemptible */
__s32 kt_probe_preempt_mode = KT_PREEMPT_MODE_UNKNOWN;

SEC("tp_btf/sys_exit")
int BPF_PROG(kt_probe_sys_exit, struct pt_regs *regs, long ret)
{
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != kt_probe_tgid)
		return 0;
	__sync_fetch_and_add(&kt_probe_runs, 1);
	if (kt_tp_runs_preemptible())
		__sync_fetch_and_add(&kt_probe_preemptible, 1);
	kt_probe_preempt_mode = kt_kernel_preempt_mode();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
