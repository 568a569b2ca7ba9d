// SPDX-License-Identifier: Apache-2.0
/* Session attribution: cgroup path + uts hostname + OCI bundles -> pod. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "attrib.h"
#include "log.h"

#define CONTAINERD_TASK_DIR "io.containerd.runtime.v2.task"
#define CONTAINERD_K8S_NS "k8s.io"

void kt_attrib_config_defaults(struct kt_attrib_config *c)
{
	if (!c)
		return;
	memset(c, 0, sizeof(*c));
	c->containerd_roots[0] = "/run/containerd";
	c->n_containerd = 1;
	c->crio_roots[0] = "/run/containers/storage";
	/* podman writes its bundles only under the graph root (attrib_runtime.c) */
	c->crio_roots[1] = "/var/lib/containers/storage";
	c->n_crio = 2;
	c->docker_roots[0] = "/var/lib/docker";
	c->n_docker = 1;
	c->proc_root = "/proc";
}

const char *kt_runtime_name(enum kt_runtime_hint rt)
{
	switch (rt) {
	case KT_RT_CONTAINERD: return "containerd";
	case KT_RT_CRIO: return "cri-o";
	case KT_RT_DOCKER: return "docker";
	case KT_RT_PODMAN: return "podman";
	default: return "";
	}
}

static bool is_lhex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

static bool hexn_valid(const char *s, size_t n, size_t min, size_t max)
{
	if (n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_lhex(s[i]))
			return false;
	return true;
}

bool kt_hex_id_valid(const char *s, size_t min, size_t max)
{
	if (!s)
		return false;
	return hexn_valid(s, strnlen(s, max + 1), min, max);
}

/* Copy n bytes (n < cap guaranteed by the caller) and terminate. */
static void copy_n(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* ------------------------------------------------------------ cgroup path */

static bool seg_eq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && !memcmp(s, lit, n);
}

static bool seg_prefix(const char *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	return n >= l && !memcmp(s, lit, l);
}

static bool seg_suffix(const char *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	return n >= l && !memcmp(s + n - l, lit, l);
}

/*
 * A pod uid as it appears in a cgroup name: uuid with '-' (cgroupfs) or '_'
 * (systemd escapes '-' in unit names), or 32 hex for static pods (their uid
 * is a config hash).  Writes the canonical form with dashes.
 */
static bool uid_parse(const char *s, size_t n, char out[KT_UID_MAX + 1])
{
	if (n == 32 && hexn_valid(s, n, 32, 32)) {
		copy_n(out, KT_UID_MAX + 1, s, n);
		return true;
	}
	if (n != 36)
		return false;
	char sep = s[8];
	if (sep != '-' && sep != '_')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != sep)
				return false;
			out[i] = '-';
		} else {
			if (!is_lhex(s[i]))
				return false;
			out[i] = s[i];
		}
	}
	out[n] = '\0';
	return true;
}

/* "pod<uid>" (cgroupfs) or "...-pod<u_i_d>.slice" (systemd). */
static bool pod_seg_parse(const char *s, size_t n, char out[KT_UID_MAX + 1])
{
	if (seg_prefix(s, n, "pod"))
		return uid_parse(s + 3, n - 3, out);
	if (!seg_suffix(s, n, ".slice"))
		return false;
	n -= strlen(".slice");
	/* last "-pod": the uid itself never contains "-pod" (underscores) */
	for (size_t i = n; i >= 4; i--) {
		if (!memcmp(s + i - 4, "-pod", 4))
			return uid_parse(s + i, n - i, out);
	}
	return false;
}

static const struct {
	const char *prefix;
	enum kt_runtime_hint rt;
} cg_prefixes[] = {
	{ "cri-containerd-", KT_RT_CONTAINERD },
	{ "crio-", KT_RT_CRIO },
	{ "docker-", KT_RT_DOCKER },
};

static enum kt_runtime_hint colon_prefix_rt(const char *s, size_t n)
{
	if (seg_eq(s, n, "cri-containerd"))
		return KT_RT_CONTAINERD;
	if (seg_eq(s, n, "crio"))
		return KT_RT_CRIO;
	if (seg_eq(s, n, "docker"))
		return KT_RT_DOCKER;
	return KT_RT_UNKNOWN;
}

/*
 * One path segment -> container id.  prev is the parent segment (for
 * "/docker/<cid>").  On a "slice:prefix:id" segment the pod uid in the slice
 * part is returned too.
 */
static bool ctr_seg_parse(const char *s, size_t n, const char *prev, size_t prev_n,
			  struct kt_cgroup_ids *out)
{
	const char *c1 = memchr(s, ':', n);

	if (c1) {
		const char *rest = c1 + 1;
		size_t rest_n = n - (size_t)(rest - s);
		const char *c2 = memchr(rest, ':', rest_n);
		if (!c2)
			return false;
		const char *id = c2 + 1;
		size_t id_n = n - (size_t)(id - s);
		enum kt_runtime_hint rt = colon_prefix_rt(rest, (size_t)(c2 - rest));
		if (rt == KT_RT_UNKNOWN || !hexn_valid(id, id_n, KT_CID_MIN, KT_CID_MAX))
			return false;
		copy_n(out->container_id, sizeof(out->container_id), id, id_n);
		out->runtime = rt;
		char uid[KT_UID_MAX + 1];
		if (pod_seg_parse(s, (size_t)(c1 - s), uid))
			memcpy(out->pod_uid, uid, sizeof(uid));
		return true;
	}

	if (seg_suffix(s, n, ".scope"))
		n -= strlen(".scope");
	for (size_t i = 0; i < sizeof(cg_prefixes) / sizeof(cg_prefixes[0]); i++) {
		size_t pl = strlen(cg_prefixes[i].prefix);
		if (!seg_prefix(s, n, cg_prefixes[i].prefix))
			continue;
		if (!hexn_valid(s + pl, n - pl, KT_CID_MIN, KT_CID_MAX))
			return false; /* e.g. crio-conmon-<cid>.scope: not the container */
		copy_n(out->container_id, sizeof(out->container_id), s + pl, n - pl);
		out->runtime = cg_prefixes[i].rt;
		return true;
	}
	size_t pl;
	enum kt_runtime_hint rt = kt_cg_runtime_prefix(s, n, &pl);
	if (rt != KT_RT_UNKNOWN) {
		if (!hexn_valid(s + pl, n - pl, KT_CID_MIN, KT_CID_MAX))
			return false;
		copy_n(out->container_id, sizeof(out->container_id), s + pl, n - pl);
		out->runtime = rt;
		return true;
	}

	/* bare id (cgroupfs driver): only full-length ids, shorter hex names
	 * are too likely to be something else */
	if (hexn_valid(s, n, KT_CID_MAX, KT_CID_MAX)) {
		copy_n(out->container_id, sizeof(out->container_id), s, n);
		out->runtime = seg_eq(prev, prev_n, "docker") ? KT_RT_DOCKER : KT_RT_UNKNOWN;
		return true;
	}
	return false;
}

int kt_cgroup_parse(const char *path, struct kt_cgroup_ids *out)
{
	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!path)
		return -EINVAL;

	const char *p = path, *prev = "";
	size_t prev_n = 0;
	while (*p) {
		while (*p == '/')
			p++;
		const char *seg = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - seg);
		if (!n)
			break;

		char uid[KT_UID_MAX + 1];
		if (pod_seg_parse(seg, n, uid))
			memcpy(out->pod_uid, uid, sizeof(uid));
		else if (ctr_seg_parse(seg, n, prev, prev_n, out))
			return 0;
		prev = seg;
		prev_n = n;
	}
	return -ENOENT;
}

/* ------------------------------------------------------------ OCI config */

/*
 * Copy a JSON string into a fixed field: clipped on a UTF-8 boundary,
 * control characters (terminal escapes) replaced by '?'.
 */
static void copy_clean(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--; /* src[n] is a continuation byte: cut before its lead */
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)src[i];
		dst[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	dst[n] = '\0';
}

static const char *ann_str(json_t *ann, const char *key)
{
	return json_string_value(json_object_get(ann, key)); /* NULL if absent/not string */
}

struct ann_keys {
	enum kt_runtime_hint rt;
	const char *type, *pod, *pod_alt, *ns, *ns_alt, *uid, *container, *sandbox_id;
};

static const struct ann_keys ann_families[] = {
	{
		.rt = KT_RT_CONTAINERD,
		.type = "io.kubernetes.cri.container-type",
		.pod = "io.kubernetes.cri.sandbox-name",
		.ns = "io.kubernetes.cri.sandbox-namespace",
		.uid = "io.kubernetes.cri.sandbox-uid",
		.container = "io.kubernetes.cri.container-name",
		.sandbox_id = "io.kubernetes.cri.sandbox-id",
	},
	{
		.rt = KT_RT_CRIO,
		.type = "io.kubernetes.cri-o.ContainerType",
		.pod = "io.kubernetes.pod.name",
		.pod_alt = "io.kubernetes.cri-o.KubeName",
		.ns = "io.kubernetes.pod.namespace",
		.ns_alt = "io.kubernetes.cri-o.Namespace",
		.uid = "io.kubernetes.pod.uid",
		.container = "io.kubernetes.container.name",
		.sandbox_id = "io.kubernetes.cri-o.SandboxID",
	},
};

static bool ann_family_fill(json_t *ann, const struct ann_keys *k, struct kt_pod_meta *out)
{
	const char *type = ann_str(ann, k->type);
	const char *pod = ann_str(ann, k->pod);
	const char *ns = ann_str(ann, k->ns);
	const char *uid = ann_str(ann, k->uid);
	const char *ctr = ann_str(ann, k->container);
	const char *sb = ann_str(ann, k->sandbox_id);

	if (!pod && k->pod_alt)
		pod = ann_str(ann, k->pod_alt);
	if (!ns && k->ns_alt)
		ns = ann_str(ann, k->ns_alt);
	if (!type && !pod && !ns && !uid && !ctr && !sb)
		return false;

	out->runtime = k->rt;
	if (type && !strcmp(type, "sandbox"))
		out->type = KT_CT_SANDBOX;
	else if (type && !strcmp(type, "container"))
		out->type = KT_CT_CONTAINER;
	copy_clean(out->pod, sizeof(out->pod), pod);
	copy_clean(out->k8s_namespace, sizeof(out->k8s_namespace), ns);
	copy_clean(out->pod_uid, sizeof(out->pod_uid), uid);
	/* CRI-O names the infra container "POD"; a sandbox runs no user container */
	if (out->type != KT_CT_SANDBOX)
		copy_clean(out->container, sizeof(out->container), ctr);
	if (sb && kt_hex_id_valid(sb, KT_CID_MIN, KT_CID_MAX))
		copy_clean(out->sandbox_id, sizeof(out->sandbox_id), sb);
	return true;
}

json_t *kt_attrib_json_object(const char *json, size_t len, struct kt_pod_meta *out, int *err)
{
	json_error_t jerr;
	json_t *root;

	*err = -EINVAL;
	if (!out)
		return NULL;
	memset(out, 0, sizeof(*out));
	if (!json)
		return NULL;
	*err = -EFBIG;
	if (len > KT_OCI_MAX_SIZE)
		return NULL;
	/* embedded NULs are rejected by default (no JSON_ALLOW_NUL) */
	root = json_loadb(json, len, 0, &jerr);
	if (root && json_is_object(root))
		return root;
	json_decref(root);
	*err = -EBADMSG;
	return NULL;
}

int kt_oci_annotations_parse(const char *json, size_t len, struct kt_pod_meta *out)
{
	int err;
	json_t *root = kt_attrib_json_object(json, len, out, &err);

	if (!root)
		return err;
	json_t *ann = json_object_get(root, "annotations");
	if (!json_is_object(ann)) {
		err = -ENOENT;
		goto cleanup;
	}
	err = -ENOENT;
	for (size_t i = 0; i < sizeof(ann_families) / sizeof(ann_families[0]); i++) {
		if (ann_family_fill(ann, &ann_families[i], out)) {
			err = 0;
			break;
		}
	}
cleanup:
	json_decref(root);
	return err;
}

/* ------------------------------------------------------------ bundles */

/*
 * Open dirfd/comps[0]/.../comps[n-1] read-only without following a symlink
 * in any component (O_NOFOLLOW everywhere; the configured root itself may be
 * a symlink).  The last component must be a regular file; O_NONBLOCK keeps
 * a FIFO planted there from hanging us.  Returns an fd or -errno.
 */
static int open_nofollow(int dirfd, const char *const *comps, int n)
{
	int dfd = dirfd, fd;

	for (int i = 0; i < n - 1; i++) {
		int nfd = openat(dfd, comps[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		struct stat st;

		/* a symlinked directory fails as ENOTDIR: say what it is */
		if (nfd < 0 && e == ENOTDIR &&
		    !fstatat(dfd, comps[i], &st, AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode))
			e = ELOOP;
		if (dfd != dirfd)
			close(dfd);
		if (nfd < 0)
			return -e;
		dfd = nfd;
	}
	fd = openat(dfd, comps[n - 1], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	int e = errno;
	if (dfd != dirfd)
		close(dfd);
	return fd < 0 ? -e : fd;
}

/* Read a whole regular file of at most KT_OCI_MAX_SIZE bytes; closes fd. */
static int read_bounded(int fd, char **buf, size_t *len)
{
	struct stat st;
	char *b = NULL;
	size_t cap, n = 0;
	int err;

	*buf = NULL;
	*len = 0;
	if (fstat(fd, &st)) {
		err = -errno;
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto cleanup;
	}
	if (st.st_size > (off_t)KT_OCI_MAX_SIZE) {
		err = -EFBIG;
		goto cleanup;
	}
	/* one byte of slack tells a file that grew past the limit after fstat */
	cap = (size_t)st.st_size + 1;
	b = malloc(cap);
	if (!b) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (;;) {
		if (n == cap) {
			if (cap > KT_OCI_MAX_SIZE) {
				err = -EFBIG;
				goto cleanup;
			}
			size_t ncap = cap * 2 > KT_OCI_MAX_SIZE + 1 ? KT_OCI_MAX_SIZE + 1 : cap * 2;
			char *nb = realloc(b, ncap);
			if (!nb) {
				err = -ENOMEM;
				goto cleanup;
			}
			b = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			goto cleanup;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > KT_OCI_MAX_SIZE) {
		err = -EFBIG;
		goto cleanup;
	}
	*buf = b;
	*len = n;
	b = NULL;
	err = 0;
cleanup:
	free(b);
	close(fd);
	return err;
}

/* A directory entry that is safe as one path component. */
static bool name_safe(const char *s)
{
	return s[0] && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/');
}

struct bundle {
	char path[1024]; /* for messages only */
	enum kt_runtime_hint rt;
	char *json;
	size_t len;
};

/* Open and read one config.json below dirfd; -ENOENT if it isn't there. */
static int bundle_read(int dirfd, const char *const *comps, int n, struct bundle *b)
{
	int fd = open_nofollow(dirfd, comps, n);

	if (fd < 0)
		return fd;
	return read_bounded(fd, &b->json, &b->len);
}

static void bundle_path(struct bundle *b, const char *root, const char *const *comps, int n)
{
	int off = snprintf(b->path, sizeof(b->path), "%s", root);
	for (int i = 0; i < n && off >= 0 && (size_t)off < sizeof(b->path); i++)
		off += snprintf(b->path + off, sizeof(b->path) - (size_t)off, "/%s", comps[i]);
}

/*
 * containerd: <root>/io.containerd.runtime.v2.task/<ns>/<cid>/config.json,
 * "k8s.io" first, then every other namespace.  cid must be validated.
 * Returns 0 with b filled, -ENOENT, or the error of a bundle that exists but
 * could not be read (b->path names it).
 */
static int containerd_find(const char *root, const char *cid, struct bundle *b)
{
	int rootfd = -1, taskfd = -1, err;
	DIR *d = NULL;
	const char *comps[3] = { CONTAINERD_K8S_NS, cid, "config.json" };

	b->rt = KT_RT_CONTAINERD;
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		err = -errno;
		goto cleanup;
	}
	taskfd = openat(rootfd, CONTAINERD_TASK_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (taskfd < 0) {
		err = -errno;
		goto cleanup;
	}
	err = bundle_read(taskfd, comps, 3, b);
	if (err != -ENOENT) {
		bundle_path(b, root, (const char *[]){ CONTAINERD_TASK_DIR, comps[0], comps[1], comps[2] }, 4);
		goto cleanup;
	}

	int dupfd = fcntl(taskfd, F_DUPFD_CLOEXEC, 0);
	if (dupfd < 0) {
		err = -errno;
		goto cleanup;
	}
	d = fdopendir(dupfd);
	if (!d) {
		err = -errno;
		close(dupfd);
		goto cleanup;
	}
	err = -ENOENT;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!name_safe(de->d_name) || !strcmp(de->d_name, CONTAINERD_K8S_NS))
			continue;
		comps[0] = de->d_name;
		err = bundle_read(taskfd, comps, 3, b);
		if (err != -ENOENT && err != -ENOTDIR) {
			bundle_path(b, root, (const char *[]){ CONTAINERD_TASK_DIR, comps[0], comps[1], comps[2] }, 4);
			break;
		}
		err = -ENOENT;
	}
cleanup:
	if (d)
		closedir(d);
	if (taskfd >= 0)
		close(taskfd);
	if (rootfd >= 0)
		close(rootfd);
	return err;
}

/* CRI-O: <root>/overlay-containers/<cid>/userdata/config.json */
static int crio_find(const char *root, const char *cid, struct bundle *b)
{
	const char *comps[4] = { "overlay-containers", cid, "userdata", "config.json" };
	int rootfd, err;

	b->rt = KT_RT_CRIO;
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	err = bundle_read(rootfd, comps, 4, b);
	if (err != -ENOENT)
		bundle_path(b, root, comps, 4);
	close(rootfd);
	return err;
}

/*
 * Find and parse the bundle of cid under every configured root, the
 * runtime the cgroup name hints at first.  A bundle that is there but bad
 * is reported once and the search goes on (another root may have it).
 * Returns 0 (meta filled), -ENOMSG (bundle without Kubernetes annotations,
 * meta->runtime set), -ENOENT (no bundle), -ENODATA (only bad bundles).
 */
static int meta_lookup(const struct kt_attrib_config *c, const char *cid,
		       enum kt_runtime_hint hint, struct kt_pod_meta *meta)
{
	bool crio_first = hint == KT_RT_CRIO || hint == KT_RT_PODMAN;
	int err = -ENOENT;

	for (int pass = 0; pass < 2; pass++) {
		bool crio = crio_first ? pass == 0 : pass == 1;
		int nroots = crio ? c->n_crio : c->n_containerd;
		const char *const *roots = crio ? c->crio_roots : c->containerd_roots;

		if (nroots > KT_ATTRIB_MAX_ROOTS)
			nroots = KT_ATTRIB_MAX_ROOTS;
		for (int i = 0; i < nroots; i++) {
			struct bundle b = { 0 };
			int e;

			if (!roots[i])
				continue;
			e = crio ? crio_find(roots[i], cid, &b) : containerd_find(roots[i], cid, &b);
			if (e == -ENOENT || e == -ENOTDIR)
				continue;
			if (e) {
				pr_warn("attrib: %s: %s, ignored", b.path,
					e == -ELOOP ? "symlink refused" :
					e == -EINVAL ? "not a regular file" :
					e == -EFBIG ? "larger than 4 MiB" : strerror(-e));
				err = e;
				continue;
			}
			e = kt_oci_annotations_parse(b.json, b.len, meta);
			free(b.json);
			if (e == -EBADMSG)
				pr_warn("attrib: %s: malformed JSON or not an object, ignored", b.path);
			else if (e == -ENOENT)
				pr_debug("attrib: %s: no Kubernetes annotations", b.path);
			if (e == 0 || e == -ENOENT) {
				/* found the container even without k8s annotations */
				meta->runtime = b.rt;
				return e ? -ENOMSG : 0;
			}
			err = e;
		}
	}
	return err == -ENOENT ? -ENOENT : -ENODATA;
}

/* ------------------------------------------------------------ sessions */

static void node_name(const struct kt_attrib_config *c, char *dst, size_t cap)
{
	const char *env = getenv("NODE_NAME");
	char host[256];

	if (c && c->node_name) {
		copy_clean(dst, cap, c->node_name);
	} else if (env && *env) {
		copy_clean(dst, cap, env);
	} else if (!gethostname(host, sizeof(host))) {
		host[sizeof(host) - 1] = '\0';
		copy_clean(dst, cap, host);
	} else {
		dst[0] = '\0';
	}
}

/* A fixed-size char array from the kernel may lack its NUL. */
#define ARR_STR(dst, arr) copy_n(dst, sizeof(dst), arr, strnlen(arr, sizeof(arr)))

int kt_attribute_session(const struct kt_attrib_config *c, struct kt_session_info *s)
{
	struct kt_attrib_config defaults;
	struct kt_cgroup_ids ids;
	struct kt_pod_meta meta;
	char cgpath[sizeof(s->cgroup_path)];
	char hostname[sizeof(s->hostname)];
	int rc;

	if (!s)
		return -EINVAL;
	if (!c) {
		kt_attrib_config_defaults(&defaults);
		c = &defaults;
	}

	s->k8s_namespace[0] = s->pod[0] = s->pod_uid[0] = s->container[0] = '\0';
	s->container_id[0] = s->runtime[0] = '\0';
	s->attribution_guess = false;
	node_name(c, s->node, sizeof(s->node));
	ARR_STR(cgpath, s->cgroup_path);
	ARR_STR(hostname, s->hostname);

	rc = kt_cgroup_parse(cgpath, &ids);
	copy_n(s->pod_uid, sizeof(s->pod_uid), ids.pod_uid, strlen(ids.pod_uid));
	if (rc == 0) {
		copy_n(s->container_id, sizeof(s->container_id), ids.container_id,
		       strlen(ids.container_id));
		copy_n(s->runtime, sizeof(s->runtime), kt_runtime_name(ids.runtime),
		       strlen(kt_runtime_name(ids.runtime)));

		int e = ids.runtime == KT_RT_DOCKER ? kt_docker_meta_lookup(c, ids.container_id, &meta) : -ENOENT;
		if (e == 0 && !meta.pod[0] && meta.container[0]) {
			/* docker's own record names a container outside any pod:
			 * that is the attribution, the uts hostname is no pod */
			copy_n(s->container, sizeof(s->container), meta.container, strlen(meta.container));
			return 0;
		}
		if (e != 0)
			e = meta_lookup(c, ids.container_id, ids.runtime, &meta);
		if (e == 0 && meta.type == KT_CT_CONTAINER && !meta.pod[0] && meta.sandbox_id[0]) {
			/* older CRI plugins annotate containers with the sandbox id only */
			struct kt_pod_meta sb;
			if (!meta_lookup(c, meta.sandbox_id, meta.runtime, &sb)) {
				memcpy(meta.pod, sb.pod, sizeof(meta.pod));
				memcpy(meta.k8s_namespace, sb.k8s_namespace, sizeof(meta.k8s_namespace));
				if (!meta.pod_uid[0])
					memcpy(meta.pod_uid, sb.pod_uid, sizeof(meta.pod_uid));
			}
		}
		if ((e == 0 || e == -ENOMSG) && ids.runtime != KT_RT_PODMAN) {
			/* podman keeps CRI-O's layout: the cgroup name tells them apart */
			const char *rt = kt_runtime_name(meta.runtime);
			copy_n(s->runtime, sizeof(s->runtime), rt, strlen(rt));
		}
		if (e == 0) {
			if (ids.pod_uid[0] && meta.pod_uid[0] && strcmp(ids.pod_uid, meta.pod_uid))
				pr_warn("attrib: container %.12s: bundle says pod uid %s, cgroup %s; using the bundle's",
					ids.container_id, meta.pod_uid, ids.pod_uid);
			memcpy(s->pod, meta.pod, sizeof(s->pod));
			memcpy(s->k8s_namespace, meta.k8s_namespace, sizeof(s->k8s_namespace));
			memcpy(s->container, meta.container, sizeof(s->container));
			if (meta.pod_uid[0])
				memcpy(s->pod_uid, meta.pod_uid, sizeof(s->pod_uid));
		} else {
			pr_debug("attrib: container %.12s: no Kubernetes metadata (%s)",
				 ids.container_id, strerror(-e));
		}
	}
	if (s->pod[0])
		return 0;

	/*
	 * Guess the pod from the uts hostname (kubelet sets it to the pod name),
	 * but only where a container is known or no cgroup was captured: a host
	 * session's hostname is the node's.  hostNetwork pods share the node's
	 * hostname too, so neither the node name nor our own hostname (they
	 * differ when NODE_NAME is an FQDN) is ever taken as a pod name.
	 */
	char host[256] = "";
	bool in_pod = rc == 0 || ids.pod_uid[0];

	if (gethostname(host, sizeof(host)))
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	if (hostname[0] && (in_pod || !cgpath[0]) && strcmp(hostname, s->node) &&
	    strcmp(hostname, host)) {
		copy_clean(s->pod, sizeof(s->pod), hostname);
		s->attribution_guess = true;
	}
	return 0;
}

/* ------------------------------------------------------------ shared with attrib_runtime.c */

void kt_attrib_copy_clean(char *dst, size_t cap, const char *src)
{
	copy_clean(dst, cap, src);
}

int kt_attrib_read_nofollow(int dirfd, const char *const *comps, int n, char **buf, size_t *len)
{
	int fd = open_nofollow(dirfd, comps, n);

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return fd;
	return read_bounded(fd, buf, len);
}
