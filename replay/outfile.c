// SPDX-License-Identifier: Apache-2.0
/* Atomic `-o FILE` (outfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "outfile.h"

static bool is_stdout(const char *path)
{
	return !path || strcmp(path, "-") == 0;
}

int kt_outfile_check(const char *path, bool force, const char *cmd)
{
	struct stat sb;

	if (is_stdout(path) || stat(path, &sb))
		return 0; /* missing (or unreadable dir: open will say) */
	if (S_ISDIR(sb.st_mode)) {
		pr_err("%s: %s is a directory", cmd, path);
		return -EISDIR;
	}
	if (!force) {
		pr_err("%s: %s exists (use --force to replace it)", cmd, path);
		return -EEXIST;
	}
	return 0;
}

int kt_outfile_open(struct kt_outfile *o, const char *path, bool force, const char *cmd)
{
	char *dup = NULL, *dir;
	const char *base;
	mode_t mask;
	int fd = -1, err;

	memset(o, 0, sizeof(*o));
	o->force = force;
	o->cmd = cmd;
	if (is_stdout(path)) {
		o->f = stdout;
		return 0;
	}
	err = kt_outfile_check(path, force, cmd);
	if (err)
		return err;
	o->path = path;
	err = -ENOMEM;
	dup = strdup(path);
	if (!dup)
		goto cleanup;
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	dir = dirname(dup);
	if (asprintf(&o->tmp, "%s/.%s.kubetape-XXXXXX", dir, base) < 0) {
		o->tmp = NULL;
		goto cleanup;
	}
	fd = mkstemp(o->tmp);
	if (fd < 0) {
		err = -errno;
		pr_err("%s: cannot create a file in %s: %s", cmd, dir, strerror(errno));
		free(o->tmp);
		o->tmp = NULL;
		goto cleanup;
	}
	/* mkstemp makes 0600; give what open(O_CREAT, 0666) would */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask))
		pr_warn("%s: chmod %s: %s", cmd, o->tmp, strerror(errno));
	o->f = fdopen(fd, "wb");
	if (!o->f) {
		err = -errno;
		pr_err("%s: %s: %s", cmd, o->tmp, strerror(errno));
		close(fd);
		goto cleanup;
	}
	err = 0;
cleanup:
	free(dup);
	if (err)
		kt_outfile_abort(o);
	return err;
}

void kt_outfile_abort(struct kt_outfile *o)
{
	if (!o)
		return;
	if (o->f && o->f != stdout)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp) {
		unlink(o->tmp);
		free(o->tmp);
		o->tmp = NULL;
	}
}

/* rename without replacing; link+unlink where renameat2 is unsupported */
static int rename_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	if (link(from, to))
		return -errno;
	unlink(from);
	return 0;
}

int kt_outfile_commit(struct kt_outfile *o)
{
	FILE *f = o->f;
	int err = 0;

	if (f == stdout)
		return fflush(f) || ferror(f) ? -EIO : 0;
	o->f = NULL;
	if (fflush(f) || ferror(f) || fsync(fileno(f)))
		err = -(errno ? errno : EIO);
	if (fclose(f) && !err)
		err = -(errno ? errno : EIO);
	if (err) {
		pr_err("%s: writing %s: %s", o->cmd, o->path, strerror(-err));
		goto cleanup;
	}
	err = o->force ? (rename(o->tmp, o->path) ? -errno : 0)
		       : rename_noreplace(o->tmp, o->path);
	if (err == -EEXIST)
		pr_err("%s: %s was created meanwhile; not replaced (use --force)", o->cmd, o->path);
	else if (err)
		pr_err("%s: cannot create %s: %s", o->cmd, o->path, strerror(-err));
	if (!err) { /* the temp name is gone: nothing to unlink */
		free(o->tmp);
		o->tmp = NULL;
	}
cleanup:
	kt_outfile_abort(o); /* removes the temp file if it is still there */
	return err;
}
