/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Maps and helpers shared by the session tracker and the capture backends.
 * Only one BPF object is built (kubetape.bpf.c); the recorder chooses which
 * backend's programs load (bpf_program__set_autoload).
 */
#ifndef KUBETAPE_MAPS_BPF_H
#define KUBETAPE_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "events.h"

#define KT_MAX_SESSIONS 4096
#define KT_MAX_PROCS 65536

/*
 * Whether typed bytes are recorded (the recorder's --input).  In .bss, not
 * .rodata: the programs outlive a recorder (pinned, recorder/pin.c), and a
 * recorder that adopts them must be able to turn input capture on or off
 * without reloading them.  Off until the recorder says otherwise.
 */
volatile bool kt_capture_input = false;

/*
 * Number of ttys being recorded.  Every capture hook on a syscall or tty
 * path tests this first, so a node with no session pays one load and one
 * branch.  BPF increments it; the recorder decrements it when it retires a
 * tty (the map is mmap-able .bss).
 */
__u32 kt_nr_ttys = 0;
/* Next session id; the recorder seeds it from the wall clock before load so
 * ids stay unique across recorder restarts. */
__u64 kt_next_session_id = 0;

/*
 * Which pinned layout records (recorder/upgrade.c).  Every program's entry
 * checks it, so one map store moves recording from an older layout's
 * programs to a newer one's that share its maps and rings: no window where
 * neither records, none where both do.  Its shape never changes.  kt_layout
 * is the KT_PIN_LAYOUT this object was loaded as (the loader sets it; tests
 * fake an older layout with it).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} handover SEC(".maps");

const volatile __u32 kt_layout = KT_PIN_LAYOUT;

static __always_inline bool kt_recording(void)
{
	__u32 zero = 0, *owner = bpf_map_lookup_elem(&handover, &zero);

	return owner && *owner == kt_layout;
}

struct kt_proc {
	__u64 session_id;
};

/* Terminal bytes.  The recorder may resize it before load (--ringbuf-mb). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, KT_RING_DATA_BYTES);
} events SEC(".maps");

/*
 * Session starts, execs, exits and window sizes have their own ring, so a
 * session flooding its terminal (or many of them) can never crowd out the
 * record of who ran what.  Small events: 2 MiB is ~20,000 execs of backlog.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, KT_RING_CTL_BYTES);
} ctl_events SEC(".maps");

/* host tgid -> session it belongs to */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KT_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct kt_proc);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KT_MAX_SESSIONS);
	__type(key, __u64);
	__type(value, struct kt_session);
} sessions SEC(".maps");

/* slave tty identity (kt_tty.key) -> session id */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KT_MAX_SESSIONS);
	__type(key, __u64);
	__type(value, __u64);
} ttys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KT_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Per-CPU scratch: events are too big for the 512-byte BPF stack. */
struct kt_data_buf {
	/* loop state in map memory so the verifier prunes (see session.bpf.h) */
	__u64 off;
	__u64 take_loss; /* kt_emit_data: look the loss flag up for the next record */
	struct kt_ev_data ev;
	char data[KT_DATA_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kt_data_buf);
} data_buf SEC(".maps");

static __always_inline void kt_stat_add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += n; /* per-CPU slot: no atomics needed */
}

static __always_inline void kt_count_loss(__u64 sid, __u64 bytes)
{
	struct kt_session *s = bpf_map_lookup_elem(&sessions, &sid);

	if (s) {
		__sync_fetch_and_add(&s->lost_events, 1);
		__sync_fetch_and_add(&s->lost_bytes, bytes);
		s->loss_pending = 1; /* after the counters: see kt_loss_take */
	}
	kt_stat_add(KT_STAT_LOST_EVENTS, 1);
	kt_stat_add(KT_STAT_LOST_BYTES, bytes);
}

/*
 * The flags of a data ring record about to be sent for session `s`:
 * KT_F_AFTER_LOSS once after any counted loss (kt_count_loss), so the
 * recorder never joins bytes across a hole (its coalescing).  Taken before
 * the record is sent; if sending fails, kt_count_loss sets it again, so the
 * first record that does reach the ring carries it.
 *
 * Plain loads and stores, no atomic exchange (BPF_XCHG needs 5.12; the
 * programs load on 5.10): a loss on another CPU that sets the flag between
 * this load and the clear happened before this record was reserved, so the
 * hole is still before a flagged record; one that sets it after the clear
 * flags the next record.  A flag is never lost, at worst it is one record
 * late for writers of one session racing on two CPUs, whose bytes have no
 * order between them anyway.  Cost: one sessions map lookup and one load per
 * call of kt_emit_data (a pty_write or a read, not per 8 KiB record), a
 * store only after a loss.
 */
static __always_inline __u16 kt_loss_take(struct kt_session *s)
{
	if (!s || !s->loss_pending)
		return 0;
	s->loss_pending = 0;
	return KT_F_AFTER_LOSS;
}

/*
 * Terminal bytes do not wake the recorder one event at a time: it drains the
 * data ring on every tick (100 ms) anyway.  Only when the ring is half full
 * is a wakeup forced, so a flood is drained as fast as it arrives.  This
 * removes most of the recorder's context switches during output bursts.
 */
static __always_inline __u64 kt_data_wakeup(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >
	       bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 2 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/*
 * Copy `len` bytes at `src` (user memory if `user`, else kernel memory) into
 * as many KT_EV_TTY_OUT/IN events as needed.  A failed reserve is counted
 * against the session, never dropped silently; so are bytes beyond
 * KT_DATA_LOOPS * KT_DATA_MAX in one call.
 */
static __always_inline void kt_emit_data(__u64 sid, __u64 tty_key, __u16 type, __u16 source,
					 const char *src, __u64 len, bool user)
{
	__u32 zero = 0;
	struct kt_data_buf *b = bpf_map_lookup_elem(&data_buf, &zero);

	if (!b)
		return;
	b->off = 0;
	b->take_loss = 1;
	for (int i = 0; i < KT_DATA_LOOPS; i++) {
		__u64 off = b->off, n;

		if (off >= len)
			return;
		n = len - off;
		if (n > KT_DATA_MAX)
			n = KT_DATA_MAX;
		b->off = off + n;
		b->ev.hdr.type = type;
		/* the session's loss flag: looked up for the call's first
		 * record and after a failed one only (kt_count_loss set it
		 * then); the pointer stays inside this branch, so the
		 * verifier's states stay one per loop step */
		b->ev.hdr.flags = 0;
		if (b->take_loss) {
			b->take_loss = 0;
			b->ev.hdr.flags = kt_loss_take(bpf_map_lookup_elem(&sessions, &sid));
		}
		b->ev.hdr.ts_ns = bpf_ktime_get_boot_ns();
		b->ev.hdr.session_id = sid;
		b->ev.source = source;
		b->ev.tty_key = tty_key;
		b->ev.len = n;
		b->ev.hdr.size = sizeof(b->ev) + n;
		if ((user ? bpf_probe_read_user(b->data, n, src + off) :
			    bpf_probe_read_kernel(b->data, n, src + off)) ||
		    bpf_ringbuf_output(&events, &b->ev, sizeof(b->ev) + n, kt_data_wakeup())) {
			kt_count_loss(sid, n);
			b->take_loss = 1;
		}
	}
	if (b->off < len)
		kt_count_loss(sid, len - b->off);
}

static __always_inline void kt_emit_winsize(__u64 sid, __u64 key, __u16 rows, __u16 cols)
{
	struct kt_ev_winsize ev = {};

	ev.hdr.type = KT_EV_WINSIZE;
	ev.hdr.size = sizeof(ev);
	ev.hdr.ts_ns = bpf_ktime_get_boot_ns();
	ev.hdr.session_id = sid;
	ev.rows = rows;
	ev.cols = cols;
	ev.tty_key = key;
	if (bpf_ringbuf_output(&ctl_events, &ev, sizeof(ev), 0))
		kt_count_loss(sid, 0);
}

#endif /* KUBETAPE_MAPS_BPF_H */
