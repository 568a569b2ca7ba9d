// SPDX-License-Identifier: Apache-2.0
/*
 * Upgrades across pinned layouts (KT_PIN_LAYOUT) without losing open
 * sessions.
 *
 * A recorder of layout L that finds an older layout's state (v<O>, left by
 * the previous version) whose ring records and session maps have this
 * build's format (the "events_abi<KT_EVENT_ABI>" pin) does not replace it:
 *  1. its programs are loaded onto v<O>'s maps and rings (sessions, ttys,
 *     procs, stats, both rings, the handover map), attached, but inert:
 *     every program first checks that the handover map names its layout;
 *  2. they are pinned as v<L> (a crash from here on leaves state the next
 *     recorder adopts, and kt_handover_claim finishes the switch);
 *  3. the syscall backend's hook is attached if a tty is recorded;
 *  4. ONE store into the handover map: from that instant v<O>'s programs
 *     return at once and v<L>'s record, into the same rings, for the same
 *     sessions.  No event is seen by both, none by neither (a pty_write
 *     caught by v<O>'s kprobe finishes in v<O>'s kretprobe);
 *  5. v<O>'s pins are removed (its programs detach).
 * The rings keep their map ids, so the store's committed ring positions
 * stay valid: records v<O>'s recorder read but did not commit are read
 * again, the rest is skipped (recorder/continuity.c).  Open sessions
 * continue as the same sessions (same ids, same rows).
 *
 * What cannot be carried over, and is said so in one line: a layout
 * without a handover map (v1, v2: before this mechanism), or one whose
 * KT_EVENT_ABI differs or whose maps' shapes differ (its records cannot be
 * read by this build).  Then the old state is removed after the new
 * programs attach, the bytes left in its rings are lost and its open
 * sessions' rows are marked interrupted.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader_int.h"
#include "log.h"
#include "pin.h"
#include "kubetape.skel.h"

/* maps an upgrade shares with the older layout (not .bss: per object) */
static const int shared[] = { M_CTL, M_EVENTS, M_SESSIONS, M_TTYS, M_PROCS, M_STATS, M_HANDOVER,
			       M_CTR_MNTNS };
#define NSHARED (int)(sizeof(shared) / sizeof(shared[0]))

static void close_reuse(struct kt_loader *l)
{
	for (int i = 0; i < M_N; i++) {
		if (l->reuse[i] >= 0)
			close(l->reuse[i]);
		l->reuse[i] = -1;
	}
	l->from_layout = 0;
	l->from_dir[0] = 0;
}

struct find {
	struct kt_loader *l;
	int best;
	char dir[PATH_MAX];
};

static void consider(const char *path, int layout, void *ctx)
{
	struct find *f = ctx;
	char abi[32];

	if (layout < 0)
		return;
	snprintf(abi, sizeof(abi), KT_ABI_PIN_FMT, KT_EVENT_ABI);
	/* the newest such layout is the one that was recording */
	if (!kt_loader_exists_at(path, abi) || layout <= f->best)
		return;
	f->best = layout;
	snprintf(f->dir, sizeof(f->dir), "%s", path);
}

int kt_upgrade_find(struct kt_loader *l, const char *pin_dir)
{
	struct find f = { .l = l, .best = 0 };

	kt_pin_foreign(pin_dir, l->layout, consider, &f);
	if (!f.best)
		return 0;
	for (int k = 0; k < NSHARED; k++) {
		int i = shared[k], fd = kt_loader_get_at(f.dir, kt_map_pin_names[i]);

		if (fd < 0) {
			pr_warn("%s: no %s (%s): its state cannot be taken over", f.dir,
				kt_map_pin_names[i], strerror(-fd));
			close_reuse(l);
			return fd;
		}
		l->reuse[i] = fd;
	}
	l->from_layout = f.best;
	snprintf(l->from_dir, sizeof(l->from_dir), "%s", f.dir);
	pr_info("found the kernel state of layout v%d in %s: taking it over (same event format, "
		"KT_EVENT_ABI %d)", f.best, f.dir, KT_EVENT_ABI);
	return 1;
}

/* Before load: share the older layout's maps, if their shapes are ours. */
int kt_upgrade_reuse(struct kt_loader *l, struct kubetape_bpf *skel)
{
	struct bpf_map *m[M_N] = {
		skel->maps.ctl_events, skel->maps.events, skel->maps.sessions, skel->maps.ttys,
		skel->maps.procs, skel->maps.stats, skel->maps.bss, skel->maps.handover,
		skel->maps.ctr_mntns,
	};
	int err;

	if (!l->from_layout)
		return 0;
	for (int k = 0; k < NSHARED; k++) {
		int i = shared[k];
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(l->reuse[i], &info, &len))
			return -errno;
		if (info.type != bpf_map__type(m[i]) || info.key_size != bpf_map__key_size(m[i]) ||
		    info.value_size != bpf_map__value_size(m[i])) {
			pr_warn("layout v%d's %s has another shape (type %u, key %u, value %u bytes; "
				"this build: %u, %u, %u): its state cannot be taken over", l->from_layout,
				kt_map_pin_names[i], info.type, info.key_size, info.value_size,
				bpf_map__type(m[i]), bpf_map__key_size(m[i]), bpf_map__value_size(m[i]));
			close_reuse(l);
			return 0;
		}
	}
	for (int k = 0; k < NSHARED; k++) {
		/* takes the old map's size too (ring size: --ringbuf-mb of the
		 * recorder that created it) */
		err = bpf_map__reuse_fd(m[shared[k]], l->reuse[shared[k]]);
		if (err)
			return err;
	}
	l->id_seed = skel->bss->kt_next_session_id;
	return 0;
}

static uint32_t count_ttys(struct kt_loader *l, uint64_t below_sid)
{
	uint64_t key, next, sid;
	void *prev = NULL;
	uint32_t n = 0;

	while (bpf_map_get_next_key(l->fds[M_TTYS], prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(l->fds[M_TTYS], &key, &sid) == 0 && sid < below_sid)
			n++;
	}
	return n;
}

static uint32_t count_sessions(struct kt_loader *l)
{
	uint64_t key, next;
	void *prev = NULL;
	uint32_t n = 0;

	while (bpf_map_get_next_key(l->fds[M_SESSIONS], prev, &next) == 0) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

static int set_owner(struct kt_loader *l)
{
	__u32 zero = 0, me = (__u32)l->layout;

	return bpf_map_update_elem(l->fds[M_HANDOVER], &zero, &me, BPF_ANY) ? -errno : 0;
}

int kt_upgrade_switch(struct kt_loader *l)
{
	uint32_t before, after;
	int err;

	/* This object's tty count (.bss) gates its capture programs and the
	 * lazy hook: it must cover the older layout's ttys before the switch.
	 * Every tty now is the older layout's (these programs are inert);
	 * any it adds until the switch is added after it. */
	before = count_ttys(l, l->id_seed);
	__atomic_fetch_add(l->nr_ttys, before, __ATOMIC_SEQ_CST);
	if (before && kt_loader_capture_lazy(l) && (err = kt_loader_capture_up(l)))
		return err;
	err = set_owner(l);
	if (err) {
		pr_err("cannot switch recording to layout v%d: %s", l->layout, strerror(-err));
		return err;
	}
	after = count_ttys(l, l->id_seed);
	if (after > before)
		__atomic_fetch_add(l->nr_ttys, after - before, __ATOMIC_SEQ_CST);
	if (after && kt_loader_capture_lazy(l) && (err = kt_loader_capture_up(l)))
		return err;
	l->adopted = true;
	pr_info("recording switched from layout v%d to v%d in one step: %u open sessions (%u ttys) "
		"continue as the same sessions, nothing in the rings is lost", l->from_layout,
		l->layout, count_sessions(l), after);
	/* the shared maps are held by our programs and pins now */
	for (int i = 0; i < M_N; i++) {
		if (l->reuse[i] >= 0)
			close(l->reuse[i]);
		l->reuse[i] = -1;
	}
	return 0;
}

int kt_handover_claim(struct kt_loader *l)
{
	__u32 zero = 0, owner = 0;
	int err;

	if (bpf_map_lookup_elem(l->fds[M_HANDOVER], &zero, &owner))
		return -errno;
	if (owner == (__u32)l->layout)
		return 0;
	err = set_owner(l);
	if (err)
		return err;
	pr_warn("recording switched from layout v%u to v%d: the recorder that pinned v%d stopped "
		"before doing it", owner, l->layout, l->layout);
	return 0;
}
