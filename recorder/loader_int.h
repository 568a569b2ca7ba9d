/* SPDX-License-Identifier: Apache-2.0 */
/* The loader's state, shared by loader.c (loading, pinning, adopting) and
 * loader_ops.c (rings and maps once loaded).  Not for other files. */
#ifndef KUBETAPE_LOADER_INT_H
#define KUBETAPE_LOADER_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include "loader.h"
#include "ring.h"

#define MAX_LINKS 16
#define MAX_PROGS 16

/* Maps user space touches, pinned by these names (the programs hold the
 * others: scratch buffers).  Order: the fds[] index. */
enum { M_CTL, M_EVENTS, M_SESSIONS, M_TTYS, M_PROCS, M_STATS, M_BSS, M_HANDOVER, M_CTR_MNTNS, M_N };

struct kt_loader {
	struct kubetape_bpf *skel;     /* NULL when the state was adopted */
	struct bpf_link *links[MAX_LINKS];
	const char *link_names[MAX_LINKS];
	int nlinks;
	const char *backend;
	char dir[PATH_MAX];            /* <pin-dir>/v<layout>, "" when not pinned */
	int lock_fd;
	bool adopted, defer;
	int fds[M_N];                  /* our own fds (dup or bpf_obj_get) */
	int layout;                    /* KT_PIN_LAYOUT, or the test's --pin-layout */
	/* upgrade (recorder/upgrade.c): an older layout's maps the new
	 * programs are loaded onto (-1: none), and that layout */
	int reuse[M_N];
	int from_layout;
	uint64_t id_seed;              /* first session id of these programs */
	char from_dir[PATH_MAX];
	void *bss_map;                 /* adopted: our mmap of .bss */
	size_t bss_len;
	uint32_t *nr_ttys;
	int lazy_prog_fd;              /* -1: the backend is not lazy */
	int lazy_link_fd;              /* -1: detached */
	bool lazy_perf;                /* the lazy program is kt_sys_exit_perf */
	int prog_fds[MAX_PROGS];       /* every loaded program (recursion_misses) */
	uint32_t prog_ids[MAX_PROGS];
	int nprogs;
	struct kt_ring *rings[KT_LOADER_RINGS];
	uint32_t ring_ids[KT_LOADER_RINGS];
	int epfd;
	ring_buffer_sample_fn cb;
	void *ctx;
};

extern const char *const kt_map_pin_names[M_N];

int kt_loader_path(char out[PATH_MAX], const char *dir, const char *name);
bool kt_loader_exists_at(const char *dir, const char *name);
/* The pinned object dir/name opened (bpf_obj_get): its fd, or -errno
 * (-ENAMETOOLONG, -ENOENT when it is not pinned). */
int kt_loader_get_at(const char *dir, const char *name);
/* The pin name that says which KT_EVENT_ABI a layout's maps and rings have
 * (a second pin of its handover map). */
#define KT_ABI_PIN_FMT "events_abi%d"

/* recorder/upgrade.c: take over an older layout's state (see there). */
int kt_upgrade_find(struct kt_loader *l, const char *pin_dir);
int kt_upgrade_reuse(struct kt_loader *l, struct kubetape_bpf *skel);
int kt_upgrade_switch(struct kt_loader *l);
int kt_handover_claim(struct kt_loader *l);
int kt_loader_pin_at(const char *dir, const char *name, int fd);
int kt_loader_attach_sys_exit(int prog_fd, bool perf);
/* fill prog_fds[] from the skeleton or, adopted, the pin dir */
int kt_loader_collect_progs(struct kt_loader *l);
void kt_loader_release_progs(struct kt_loader *l);
/* try tty-kprobe before tty-fentry (logs why); loader_progs.c */
bool kt_loader_prefer_kprobe(enum kt_capture capture);

#endif
