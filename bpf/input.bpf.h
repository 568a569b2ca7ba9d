/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the user typed, for both capture backends.  Input capture is opt-in
 * (the recorder's --input sets kt_capture_input); even then, bytes typed
 * while the session's terminal has ECHO off are never copied out of the
 * kernel: only their count goes into the stream (KT_EV_IN_WITHHELD), in the
 * data ring so it stays ordered with the IN/OUT bytes around it.
 *
 * Cost: one termios load on the input path only; output never pays it.
 */
#ifndef KUBETAPE_INPUT_BPF_H
#define KUBETAPE_INPUT_BPF_H

#include "maps.bpf.h"
#include "core_fixes.bpf.h"

/* `slave` is the recorded slave tty (its kt_tty.key) the bytes were written
 * towards; `src` user memory if `user`, else kernel memory.  `withhold`: the
 * backend knows ECHO was (or may have been) off when n_tty took the bytes
 * in, though it is on now (bpf/echo.bpf.h, the kprobe's entry state). */
static __always_inline void kt_emit_input(__u64 sid, struct tty_struct *slave, __u16 source,
					  const char *src, __u64 len, bool user, bool withhold)
{
	struct kt_ev_withheld ev = {};

	if (!withhold && !kt_tty_echo_off(slave)) {
		kt_emit_data(sid, (__u64)slave, KT_EV_TTY_IN, source, src, len, user);
		return;
	}
	ev.hdr.type = KT_EV_IN_WITHHELD;
	ev.hdr.size = sizeof(ev);
	ev.hdr.ts_ns = bpf_ktime_get_boot_ns();
	ev.hdr.session_id = sid;
	ev.bytes = len > 0xffffffffULL ? 0xffffffffU : (__u32)len;
	ev.source = source;
	ev.tty_key = (__u64)slave;
	/* a data ring record too: it carries the loss flag like the bytes */
	ev.hdr.flags = kt_loss_take(bpf_map_lookup_elem(&sessions, &sid));
	if (bpf_ringbuf_output(&events, &ev, sizeof(ev), kt_data_wakeup()))
		kt_count_loss(sid, 0);
}

#endif /* KUBETAPE_INPUT_BPF_H */
