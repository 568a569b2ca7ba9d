/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Session attribution: which node / namespace / pod / container a recorded
 * session belongs to.
 *
 * Inputs are what the kernel captured race-free at session start (the
 * leader's cgroup v2 path and uts hostname, in struct kt_session_info) plus
 * the container runtimes' on-disk state (OCI config.json bundles, whose
 * annotations carry the Kubernetes names).  Nothing here talks to the
 * runtime daemons or the API server.
 *
 * Conventions (libbpf style): 0 or a negative errno; no allocation escapes.
 * The two parsers take untrusted text and are fuzzed (tests/fuzz/).
 */
#ifndef KUBETAPE_ATTRIB_H
#define KUBETAPE_ATTRIB_H

#include <stddef.h>
#include <stdint.h>
#include "store.h"

#define KT_ATTRIB_MAX_ROOTS 8
#define KT_CID_MIN 12            /* docker short ids */
#define KT_CID_MAX 64            /* sha256 hex, what CRI runtimes use */
#define KT_UID_MAX 36            /* uuid with dashes */
#define KT_OCI_MAX_SIZE (4u << 20) /* config.json larger than this is refused */

struct kt_attrib_config {
	/* containerd state roots; bundles are
	 * <root>/io.containerd.runtime.v2.task/<namespace>/<cid>/config.json */
	const char *containerd_roots[KT_ATTRIB_MAX_ROOTS];
	int n_containerd;
	/* CRI-O run roots; <root>/overlay-containers/<cid>/userdata/config.json */
	const char *crio_roots[KT_ATTRIB_MAX_ROOTS];
	int n_crio;
	/* docker data roots; <root>/containers/<cid>/config.v2.json */
	const char *docker_roots[KT_ATTRIB_MAX_ROOTS];
	int n_docker;
	/* value for kt_session_info.node; NULL -> $NODE_NAME, else gethostname() */
	const char *node_name;
	/* the node's procfs (host pid namespace), to find which container a
	 * namespace belongs to (attrib_ns.c); NULL -> "/proc" */
	const char *proc_root;
};

/* {"/run/containerd"}, {"/run/containers/storage", "/var/lib/containers/storage"},
 * {"/var/lib/docker"}, node_name NULL. */
void kt_attrib_config_defaults(struct kt_attrib_config *c);

enum kt_runtime_hint {
	KT_RT_UNKNOWN = 0, /* bare id (cgroupfs driver): containerd or CRI-O */
	KT_RT_CONTAINERD,  /* cri-containerd-<cid>.scope, ...:cri-containerd:<cid> */
	KT_RT_CRIO,        /* crio-<cid>.scope, crio-<cid> */
	KT_RT_DOCKER,      /* docker-<cid>.scope, /docker/<cid> */
	KT_RT_PODMAN,      /* libpod-<cid> (cgroupfs); bundle in CRI-O's layout */
};

struct kt_cgroup_ids {
	char container_id[KT_CID_MAX + 1]; /* lowercase hex, validated; "" if none */
	char pod_uid[KT_UID_MAX + 1];      /* dashes restored; "" if none */
	enum kt_runtime_hint runtime;
};

/*
 * Parse a cgroup v2 path such as
 *   /kubepods/besteffort/pod<uid>/<cid>
 *   /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<u_i_d>.slice/cri-containerd-<cid>.scope
 *   /.../crio-<cid>.scope[/container]     /system.slice/docker-<cid>.scope
 *   /<parent>/libpod-<cid> (podman, cgroupfs; attrib_runtime.c)
 *   /system.slice/containerd.service/kubepods-...-pod<u_i_d>.slice:cri-containerd:<cid>
 * The outermost segment with a container shape wins: crun's "/container"
 * sub-cgroup is skipped, and a container nested in a pod's container (DinD)
 * is attributed to the pod's container, the one this node's runtime knows.  Container ids must be
 * lowercase hex: 64 chars for a bare segment, 12..64 behind a runtime
 * prefix; runtimes that name containers otherwise (ctr run NAME) are not
 * recognised.  Pod uids are a uuid (dashes or, in slice names, underscores)
 * or 32 hex (static pods).
 *
 * Returns 0 with out->container_id set, -ENOENT if there is no container
 * (out->pod_uid may still be set, e.g. for a pod-level cgroup), -EINVAL on
 * NULL arguments.  *out is always initialised.
 */
int kt_cgroup_parse(const char *path, struct kt_cgroup_ids *out);

enum kt_container_type {
	KT_CT_UNKNOWN = 0,
	KT_CT_SANDBOX,   /* the pod's pause/infra container */
	KT_CT_CONTAINER,
};

struct kt_pod_meta {
	char pod[KT_STR_LONG];
	char k8s_namespace[KT_STR_LONG];
	char pod_uid[KT_STR_SHORT];
	char container[KT_STR_LONG];       /* "" for a sandbox */
	char sandbox_id[KT_CID_MAX + 1];   /* validated hex or "" */
	enum kt_container_type type;
	enum kt_runtime_hint runtime;      /* which annotation family matched */
};

/*
 * Read the Kubernetes annotations of one OCI config.json text (a buffer, not
 * a file, so it can be fuzzed).  Understands containerd's
 * io.kubernetes.cri.* and CRI-O's io.kubernetes.pod.* / io.kubernetes.cri-o.*
 * keys.  Values are clipped to the field sizes and control characters are
 * replaced by '?' (they end up on terminals).
 *
 * Returns 0 if any Kubernetes annotation was found, -ENOENT for a valid spec
 * without them (a plain `ctr run` container), -EBADMSG for text that is not
 * a JSON object, -EFBIG above KT_OCI_MAX_SIZE, -EINVAL on NULL arguments.
 * *out is always initialised.
 */
int kt_oci_annotations_parse(const char *json, size_t len, struct kt_pod_meta *out);

/*
 * Fill node, k8s_namespace, pod, pod_uid, container, container_id, runtime
 * and attribution_guess of *s from s->cgroup_path, s->hostname and the
 * runtime state under the configured roots (c NULL = defaults).
 *
 * Never fails hard: when no bundle is found (or it is unreadable, malformed,
 * a symlink, oversized) whatever the cgroup path gave is kept and the pod
 * name falls back to the uts hostname with attribution_guess set.  A session
 * outside any container whose hostname is the node's gets no pod at all.
 * Blocking file I/O on local tmpfs; call at session start, not per event.
 *
 * Returns 0, or -EINVAL if s is NULL.
 */
int kt_attribute_session(const struct kt_attrib_config *c, struct kt_session_info *s);

/*
 * kt_attribute_session, then how the leader got in (attrib_ns.c):
 * s->entry_flags from the kernel's KT_ENTRY_* bits `kentry`, and, for a
 * leader that entered a container's namespaces without joining its cgroup
 * (nsenter from the node), attribution to the container whose mount
 * namespace (s->mntns_ino) it entered, found through `ctr_tgid`/
 * `ctr_cgroup_id` (the namespace's first process, as the kernel saw it) or a
 * scan of proc_root, with KT_SESSION_F_FROM_NODE set.
 * Returns 0, or -EINVAL if s is NULL.
 */
int kt_attribute_entry(const struct kt_attrib_config *c, struct kt_session_info *s,
		       uint32_t kentry, uint32_t ctr_tgid, uint64_t ctr_cgroup_id);

/* The cgroup v2 path ("0::" line) of /proc/<pid>/cgroup under proc_root
 * into out; 0, -ENOENT (no v2 line) or -errno. */
int kt_proc_cgroup_path(const char *proc_root, uint32_t pid, char *out, size_t len);

/* Helpers, exposed for tests and other modules. */
const char *kt_runtime_name(enum kt_runtime_hint rt); /* "containerd", "cri-o", "docker", "" */
/* true if s is lowercase hex of length min..max */
bool kt_hex_id_valid(const char *s, size_t min, size_t max);

/* ---- attrib_runtime.c: podman and docker layouts ---- */

/*
 * Runtime cgroup-name prefixes beyond cri-containerd-/crio-/docker-:
 * "libpod-" (podman).  Returns the hint and the prefix length, or
 * KT_RT_UNKNOWN.
 */
enum kt_runtime_hint kt_cg_runtime_prefix(const char *s, size_t n, size_t *prefix_len);
/*
 * Docker's own container record (config.v2.json text): "Name" and the
 * cri-dockerd labels io.kubernetes.pod.name/namespace/uid,
 * io.kubernetes.container.name, io.kubernetes.docker.type.  Returns 0,
 * -ENOENT (no name and no labels), -EBADMSG, -EFBIG, -EINVAL.  Fuzzable.
 */
int kt_docker_config_parse(const char *json, size_t len, struct kt_pod_meta *out);
/* Look cid up under every docker root: 0, -ENOENT, -ENODATA (bad records), -EINVAL. */
int kt_docker_meta_lookup(const struct kt_attrib_config *c, const char *cid,
			  struct kt_pod_meta *meta);

/* attrib.c internals shared with attrib_runtime.c */
void kt_attrib_copy_clean(char *dst, size_t cap, const char *src);
/* What both config parsers begin with: *out zeroed, then `json` parsed,
 * which must be an object.  Its root (json_decref it), or NULL with *err
 * -EINVAL (NULL argument), -EFBIG (over KT_OCI_MAX_SIZE) or -EBADMSG. */
struct json_t;
struct json_t *kt_attrib_json_object(const char *json, size_t len, struct kt_pod_meta *out,
				     int *err);
int kt_attrib_read_nofollow(int dirfd, const char *const *comps, int n, char **buf, size_t *len);

#endif /* KUBETAPE_ATTRIB_H */
