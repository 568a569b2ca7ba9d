// SPDX-License-Identifier: Apache-2.0
/*
 * How a session's leader got into its container, and attribution by
 * namespace for leaders that are not in the container's cgroup.
 *
 * The runtime's exec (runc exec: kubectl exec, crictl exec) puts the new
 * process in the container's cgroup, so kt_attribute_session finds the pod
 * from the cgroup path.  nsenter (or any setns from the node) joins the
 * container's namespaces but stays in the caller's cgroup: the pod must be
 * found from the mount namespace the leader entered.  The kernel side
 * remembers the first process of each container mount namespace it saw
 * start (struct kt_ctr_ns); containers that started before the BPF programs
 * loaded are found by scanning the node's /proc instead.  Both are generic:
 * any runtime whose containers have a cgroup kt_cgroup_parse recognises.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attrib.h"
#include "events.h"
#include "log.h"

static const char *proc_root(const struct kt_attrib_config *c)
{
	return c && c->proc_root ? c->proc_root : "/proc";
}

int kt_proc_cgroup_path(const char *root, uint32_t pid, char *out, size_t len)
{
	char path[256], line[4096];
	FILE *f;
	int err = -ENOENT;

	if (!out || !len)
		return -EINVAL;
	out[0] = 0;
	snprintf(path, sizeof(path), "%s/%u/cgroup", root ? root : "/proc", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		size_t n;

		if (strncmp(line, "0::", 3))
			continue;
		n = strcspn(line + 3, "\n");
		if (n >= len) {
			err = -ENAMETOOLONG;
			break;
		}
		memcpy(out, line + 3, n);
		out[n] = 0;
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

/* inode of /proc/<pid>/ns/<ns>; 0 if it cannot be read (gone, or no
 * ptrace access to it) */
static uint32_t proc_ns_ino(const char *root, const char *pid, const char *ns)
{
	char path[256], link[64];
	unsigned long ino = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s/ns/%s", root, pid, ns);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = 0;
	/* "mnt:[4026532301]" */
	if (sscanf(link, "%*[a-z_]:[%lu]", &ino) != 1)
		return 0;
	return (uint32_t)ino;
}

/* A container cgroup path for a process of the mount namespace mntns_ino:
 * the kernel's witness first (checked: still in that namespace and still in
 * the cgroup it started in), else any process of the node in that
 * namespace whose cgroup is a container's. */
static int find_ctr_cgroup(const struct kt_attrib_config *c, uint32_t mntns_ino, uint32_t tgid,
			   uint64_t cgroup_id, char *out, size_t len)
{
	const char *root = proc_root(c);
	struct kt_cgroup_ids ids;
	char pid[16];
	struct dirent *de;
	DIR *d;
	int err = -ENOENT;

	if (tgid) {
		snprintf(pid, sizeof(pid), "%u", tgid);
		if (proc_ns_ino(root, pid, "mnt") == mntns_ino &&
		    !kt_proc_cgroup_path(root, tgid, out, len) && !kt_cgroup_parse(out, &ids))
			return 0;
		pr_debug("attrib: first process %u of mnt ns %u is gone (cgroup id %llu); scanning %s",
			 tgid, mntns_ino, (unsigned long long)cgroup_id, root);
	}
	d = opendir(root);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		unsigned long p = strtoul(de->d_name, &end, 10);

		if (*end || !p || proc_ns_ino(root, de->d_name, "mnt") != mntns_ino)
			continue;
		if (!kt_proc_cgroup_path(root, (uint32_t)p, out, len) && !kt_cgroup_parse(out, &ids)) {
			err = 0;
			break;
		}
	}
	closedir(d);
	return err;
}

int kt_attribute_entry(const struct kt_attrib_config *c, struct kt_session_info *s,
		       uint32_t kentry, uint32_t ctr_tgid, uint64_t ctr_cgroup_id)
{
	struct kt_session_info *t = NULL;
	int err;

	err = kt_attribute_session(c, s);
	if (err)
		return err;
	s->entry_flags = 0;
	if (kentry & KT_ENTRY_LATE)
		s->entry_flags |= KT_SESSION_F_LATE;
	if (kentry & KT_ENTRY_INTERACTIVE)
		s->entry_flags |= KT_SESSION_F_INTERACTIVE;
	if (kentry & KT_ENTRY_MNTNS)
		s->entry_flags |= KT_SESSION_F_HOST_PID;
	if (kentry & KT_ENTRY_INTERACTIVE)
		return 0; /* the container's own process: in its cgroup */
	if (!(kentry & (KT_ENTRY_PIDNS | KT_ENTRY_MNTNS)))
		return 0;
	/*
	 * From the node: the leader's cgroup is no container's, or another
	 * container's than the one whose mount namespace it entered (the kernel
	 * saw in which cgroup that namespace's first process started; a
	 * different cgroup id alone is not enough: crun execs into a
	 * sub-cgroup of the container's).
	 */
	if (s->container_id[0] && (!ctr_tgid || s->cgroup_id == ctr_cgroup_id))
		return 0;
	t = malloc(sizeof(*t));
	if (!t) {
		pr_warn("attrib: leader %u: out of memory, not attributed by namespace", s->leader_pid);
		return 0;
	}
	*t = *s;
	err = find_ctr_cgroup(c, s->mntns_ino, ctr_tgid, ctr_cgroup_id, t->cgroup_path,
			      sizeof(t->cgroup_path));
	if (err && s->container_id[0])
		goto out; /* in a container's cgroup; nothing says it came from elsewhere */
	s->entry_flags |= KT_SESSION_F_FROM_NODE;
	if (err) {
		/* a pid namespace of its own (unshare -p), or a container whose
		 * processes this recorder cannot see (no node /proc): at most the
		 * pod name guessed from the uts hostname it entered, as for a
		 * session without runtime state */
		pr_info("attrib: leader %u entered mnt ns %u from the node; no container found for it (%s)",
			s->leader_pid, s->mntns_ino, strerror(-err));
		t->cgroup_path[0] = 0;
	}
	kt_attribute_session(c, t);
	if (s->container_id[0] && !strcmp(s->container_id, t->container_id)) {
		s->entry_flags &= ~KT_SESSION_F_FROM_NODE; /* same container after all */
		goto out;
	}
	/* the container's identity; the leader's own cgroup stays recorded */
	memcpy(s->k8s_namespace, t->k8s_namespace, sizeof(s->k8s_namespace));
	memcpy(s->pod, t->pod, sizeof(s->pod));
	memcpy(s->pod_uid, t->pod_uid, sizeof(s->pod_uid));
	memcpy(s->container, t->container, sizeof(s->container));
	memcpy(s->container_id, t->container_id, sizeof(s->container_id));
	memcpy(s->runtime, t->runtime, sizeof(s->runtime));
	s->attribution_guess = t->attribution_guess;
out:
	free(t);
	return 0;
}
