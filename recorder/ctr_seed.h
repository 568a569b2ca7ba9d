/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Containers that were already running when the BPF programs loaded: the
 * kernel side learns a container's mount namespace when its first process
 * execs (kt_entry_rule), so for older ones the recorder tells it, from the
 * node's /proc.  Without this an exec into an older hostPID container would
 * not be a session (an exec into a pod with its own pid namespace is one
 * anyway).
 */
#ifndef KUBETAPE_CTR_SEED_H
#define KUBETAPE_CTR_SEED_H

#include <stdint.h>
#include "events.h"

/*
 * Call fn for every mount namespace under proc_root (NULL: /proc) that the
 * kernel rule would have called a container's: not the namespace of
 * proc_root's pid 1 (or 2, kthreadd, if pid 1 cannot be inspected), and
 * entered by processes whose root is not that one
 * (they pivot_root'ed into a rootfs).  v->tgid is the lowest such pid seen,
 * v->ns_id the namespace's id where the kernel tells it (NS_GET_MNTNS_ID,
 * 6.10+), else 0.  Returns the number of namespaces, or -errno if proc_root
 * cannot be read.
 */
int kt_ctr_scan(const char *proc_root,
		int (*fn)(uint32_t mntns_ino, const struct kt_ctr_ns *v, void *ctx), void *ctx);

#endif
