// SPDX-License-Identifier: Apache-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "events.h"
#include "log.h"
#include "pin.h"

#define BPF_FS_MAGIC_ 0xcafe4a11

static int is_bpffs(const char *path)
{
	struct statfs sf;

	if (statfs(path, &sf))
		return -errno;
	return (unsigned long)sf.f_type == BPF_FS_MAGIC_;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int kt_pin_prepare(const char *root)
{
	int fd, err;

	if (strncmp(root, "/sys/fs/bpf/", 12) == 0 && is_bpffs("/sys/fs/bpf") == 0) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
			pr_warn("cannot mount bpffs on /sys/fs/bpf: %s", strerror(errno));
		else
			pr_info("mounted bpffs on /sys/fs/bpf");
	}
	err = mkdir_p(root);
	if (err) {
		pr_err("--pin-dir %s: cannot create it: %s", root, strerror(-err));
		return err;
	}
	if (is_bpffs(root) != 1) {
		pr_err("--pin-dir %s is not on a bpffs (mount -t bpf bpf /sys/fs/bpf); "
		       "kernel state cannot outlive the recorder there", root);
		return -ENOTSUP;
	}
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_err("--pin-dir %s: %s", root, strerror(-err));
		return err;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		pr_err("--pin-dir %s: %s", root, err == -EBUSY ?
		       "another kubetape-recorder is running with it" : strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

int kt_pin_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int kt_pin_rmtree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX];
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR)
			err = kt_pin_rmtree(p) ?: err;
		else if (unlink(p))
			err = -errno;
	}
	closedir(d);
	if (rmdir(dir) && errno != ENOENT)
		err = -errno;
	return err;
}

int kt_pin_foreign(const char *root, int own, void (*cb)(const char *path, int layout, void *ctx),
		   void *ctx)
{
	DIR *d = opendir(root);
	struct dirent *e;
	char p[PATH_MAX];
	int v, n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR)
			continue;
		if (sscanf(e->d_name, "v%d", &v) == 1 && v != own)
			;
		else if (strncmp(e->d_name, "tmp-", 4) == 0)
			v = -1;
		else
			continue;
		snprintf(p, sizeof(p), "%s/%s", root, e->d_name);
		cb(p, v, ctx);
		n++;
	}
	closedir(d);
	return n;
}
