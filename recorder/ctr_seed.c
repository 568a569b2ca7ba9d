// SPDX-License-Identifier: Apache-2.0
/* Container mount namespaces already present on the node (see ctr_seed.h). */
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctr_seed.h"
#include "log.h"

#ifndef NS_GET_MNTNS_ID
#define NS_GET_MNTNS_ID _IOR(0xb7, 0x5, __u64) /* linux/nsfs.h, 6.10+ */
#endif

#define MAX_NS 4096

struct seen {
	uint32_t ino[MAX_NS];
	int n;
};

static bool seen_add(struct seen *s, uint32_t ino)
{
	for (int i = 0; i < s->n; i++)
		if (s->ino[i] == ino)
			return false;
	if (s->n == MAX_NS)
		return false;
	s->ino[s->n++] = ino;
	return true;
}

int kt_ctr_scan(const char *proc_root,
		int (*fn)(uint32_t mntns_ino, const struct kt_ctr_ns *v, void *ctx), void *ctx)
{
	const char *root = proc_root ? proc_root : "/proc";
	struct stat host_root, host_mnt;
	struct seen *seen = NULL;
	char path[256];
	struct dirent *de;
	DIR *d = NULL;
	int err, n = 0;

	/* the node's root and mount namespace: pid 1's, or kthreadd's (always
	 * in the initial namespaces) where pid 1 is not ours to inspect */
	for (int ref = 1;; ref++) {
		snprintf(path, sizeof(path), "%s/%d/root/", root, ref);
		err = stat(path, &host_root) ? -errno : 0;
		snprintf(path, sizeof(path), "%s/%d/ns/mnt", root, ref);
		if (!err && stat(path, &host_mnt))
			err = -errno;
		if (!err)
			break;
		if (ref == 2)
			goto cleanup;
	}
	seen = calloc(1, sizeof(*seen));
	d = opendir(root);
	if (!seen || !d) {
		err = seen ? -errno : -ENOMEM;
		goto cleanup;
	}
	/* readdir gives pids in ascending order: the first process found in a
	 * namespace is usually its init */
	while ((de = readdir(d))) {
		struct kt_ctr_ns v = {0};
		struct stat ns, r;
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);
		int fd;

		if (*end || !pid)
			continue;
		snprintf(path, sizeof(path), "%s/%lu/ns/mnt", root, pid);
		if (stat(path, &ns) || ns.st_ino == host_mnt.st_ino)
			continue; /* gone, kernel thread, or the host's */
		snprintf(path, sizeof(path), "%s/%lu/root/", root, pid);
		if (stat(path, &r) || (r.st_dev == host_root.st_dev && r.st_ino == host_root.st_ino))
			continue; /* a host service's private mounts */
		if (!seen_add(seen, (uint32_t)ns.st_ino))
			continue;
		v.tgid = (uint32_t)pid;
		snprintf(path, sizeof(path), "%s/%lu/ns/mnt", root, pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			__u64 id;

			if (!ioctl(fd, NS_GET_MNTNS_ID, &id))
				v.ns_id = id;
			close(fd);
		}
		err = fn((uint32_t)ns.st_ino, &v, ctx);
		if (err < 0)
			goto cleanup;
		n++;
	}
	err = n;
cleanup:
	if (d)
		closedir(d);
	free(seen);
	return err;
}
