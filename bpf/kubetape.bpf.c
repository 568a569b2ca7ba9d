// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * kubetape's BPF programs: one object, one skeleton.
 *
 *   session.bpf.h          exec/fork/exit: sessions and their process trees
 *   late.bpf.h             start-up task iterator: sessions already running
 *   capture_syscall.bpf.h  tty bytes via read/write/ioctl on pty masters
 *   capture_tty.bpf.h      tty bytes in the pty driver (fentry or kprobe)
 *
 * The recorder loads the session programs plus exactly one capture backend
 * (bpf_program__set_autoload), so a kernel that refuses one backend's program
 * type never sees it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "events.h"
#include "maps.bpf.h"
#include "session.bpf.h"
#include "late.bpf.h"
#include "capture_syscall.bpf.h"
#include "capture_tty.bpf.h"

char LICENSE[] SEC("license") = "GPL";
