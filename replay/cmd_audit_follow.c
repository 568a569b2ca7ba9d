// SPDX-License-Identifier: Apache-2.0
/*
 * `kubetape audit follow FILE`: the API server's log backend (one Event
 * per line) followed like `tail -F`, into the store.
 *
 * Where it stands (device, inode, offset of the last complete line stored)
 * is written in the same transaction as the events of those lines, so a
 * crash or restart resumes exactly: no line twice (and a line twice would
 * be a duplicate stage anyway), none skipped.
 *
 * Rotation: the API server (lumberjack) and logrotate rename the file and
 * start a new one; copytruncate empties it in place.  On start, a stored
 * inode that is no longer FILE is looked for among the files of FILE's
 * directory (the rotated name) and finished first.  While running, when
 * FILE names a new inode the old descriptor is drained to its end before
 * switching; a file shorter than the offset was truncated and is read from
 * 0.  Limits: a file rotated twice while the follower was stopped loses
 * the middle one unless it is still in the directory; lines appended to a
 * copytruncate'd file between the copy and the truncation are not seen.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_audit.h"
#include "log.h"

enum { OPT_ONCE = KT_OPT_CMD_BASE + 0x10, OPT_POLL };

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct follower {
	struct kt_store *st;
	const char *path;        /* the key in audit_sources */
	int fd;
	struct kt_audit_source pos;
	char *buf;               /* bytes read after pos.offset, not yet a full line */
	size_t len, cap;
	bool skipping;           /* inside an over-long line: drop to its newline */
	struct kt_audit_ingest_stats stats;
	uint64_t bad, lineno;
};

/* FNV-1a 64 of the first len bytes of fd; false if it has fewer. */
static bool fingerprint(int fd, uint32_t len, uint64_t *fp)
{
	unsigned char b[256];
	uint64_t h = 0xcbf29ce484222325ULL;

	if (len > sizeof(b) || pread(fd, b, len, 0) != (ssize_t)len)
		return false;
	for (uint32_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	*fp = h;
	return true;
}

/* The position to store: offset and the fingerprint of what it covers. */
static int save_pos(struct follower *f)
{
	if (f->pos.fp_len < 256 && f->pos.offset > f->pos.fp_len) {
		uint32_t n = f->pos.offset < 256 ? (uint32_t)f->pos.offset : 256;

		if (fingerprint(f->fd, n, &f->pos.fp))
			f->pos.fp_len = n;
	}
	return kt_audit_source_put(f->st, f->path, &f->pos);
}

/* Is fd the file `saved` describes (inode and first bytes)? */
static bool same_file(int fd, const struct stat *sb, const struct kt_audit_source *saved)
{
	uint64_t fp;

	if ((uint64_t)sb->st_ino != saved->ino || (uint64_t)sb->st_dev != saved->dev)
		return false;
	return !saved->fp_len || (fingerprint(fd, saved->fp_len, &fp) && fp == saved->fp);
}

/* Store the complete lines in f->buf, then the new position, in batches. */
static int flush_lines(struct follower *f)
{
	size_t off = 0, n_in_batch = 0;
	char why[512];
	int err;

	err = kt_store_begin(f->st);
	if (err)
		return err;
	for (;;) {
		char *nl = memchr(f->buf + off, '\n', f->len - off);
		size_t n;

		if (!nl)
			break;
		n = (size_t)(nl - (f->buf + off));
		f->lineno++;
		if (f->skipping) {
			f->skipping = false;
		} else {
			err = kt_audit_ingest(f->st, f->buf + off, n, false, &f->stats, why, sizeof(why));
			if (err == -EINVAL) {
				pr_err("%s: line at offset %llu: %s", f->path,
				       (unsigned long long)f->pos.offset,
				       strncmp(why, "line 1: ", 8) ? why : why + 8);
				f->bad++;
			} else if (err) {
				goto fail;
			}
		}
		off += n + 1;
		f->pos.offset += n + 1;
		if (++n_in_batch >= 500) {
			err = save_pos(f);
			if (!err)
				err = kt_store_commit(f->st);
			if (!err)
				err = kt_store_begin(f->st);
			if (err)
				goto fail;
			n_in_batch = 0;
		}
	}
	memmove(f->buf, f->buf + off, f->len - off);
	f->len -= off;
	if (f->len > KT_AUDIT_EVENT_MAX) {
		/* no newline in sight: this line is dropped, counted, reported */
		pr_err("%s: line at offset %llu longer than %u bytes: skipped", f->path,
		       (unsigned long long)f->pos.offset, KT_AUDIT_EVENT_MAX);
		f->bad++;
		f->pos.offset += f->len;
		f->len = 0;
		f->skipping = true;
	}
	err = save_pos(f);
	if (!err)
		return kt_store_commit(f->st);
fail:
	kt_store_commit(f->st); /* keeps what was stored before, with its position */
	return err;
}

/* Read what the descriptor has now; 0 at its current end. */
static int drain(struct follower *f)
{
	for (;;) {
		ssize_t r;

		if (f->cap - f->len < 65536) {
			size_t ncap = f->cap ? f->cap * 2 : 1 << 20;
			char *nb = realloc(f->buf, ncap);

			if (!nb)
				return -ENOMEM;
			f->buf = nb;
			f->cap = ncap;
		}
		r = pread(f->fd, f->buf + f->len, f->cap - f->len, (off_t)(f->pos.offset + f->len));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			pr_err("%s: read: %s", f->path, strerror(errno));
			return -errno;
		}
		if (r == 0)
			return 0;
		f->len += (size_t)r;
		if (f->len >= (1u << 20)) {
			int err = flush_lines(f);

			if (err)
				return err;
		}
	}
}

static int open_at(struct follower *f, const char *file, uint64_t offset)
{
	struct stat sb;

	if (f->fd >= 0)
		close(f->fd);
	f->fd = open(file, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return -errno;
	if (fstat(f->fd, &sb) < 0)
		return -errno;
	if ((uint64_t)sb.st_dev != f->pos.dev || (uint64_t)sb.st_ino != f->pos.ino || !offset)
		f->pos.fp = f->pos.fp_len = 0; /* another file: fingerprinted anew */
	f->pos.dev = (uint64_t)sb.st_dev;
	f->pos.ino = (uint64_t)sb.st_ino;
	/* a file shorter than where we stood was truncated: start over */
	f->pos.offset = (uint64_t)sb.st_size < offset ? 0 : offset;
	f->len = 0;
	f->skipping = false;
	return 0;
}

/* Does `path` hold the file `saved` describes? */
static bool is_saved_file(const char *path, const struct kt_audit_source *saved)
{
	struct stat sb;
	bool same = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (!fstat(fd, &sb) && S_ISREG(sb.st_mode))
		same = same_file(fd, &sb, saved);
	close(fd);
	return same;
}

/* The rotated file `saved` describes, in FILE's directory. */
static int find_rotated(const char *path, const struct kt_audit_source *saved, char *out, size_t len)
{
	char *dup = strdup(path), *dir;
	struct dirent *de;
	DIR *d;
	int err = -ENOENT;

	if (!dup)
		return -ENOMEM;
	dir = dirname(dup);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if ((uint64_t)de->d_ino != saved->ino)
			continue;
		snprintf(out, len, "%s/%s", dir, de->d_name);
		if (is_saved_file(out, saved)) {
			err = 0;
			break;
		}
	}
	if (d)
		closedir(d);
	free(dup);
	return err;
}

/* Start: resume the stored position, finishing a rotated file first. */
static int resume(struct follower *f)
{
	struct kt_audit_source saved;
	char old[4096];
	int err;

	err = kt_audit_source_get(f->st, f->path, &saved);
	if (err == -ENOENT)
		return open_at(f, f->path, 0);
	if (err)
		return err;
	if (is_saved_file(f->path, &saved))
		return open_at(f, f->path, saved.offset);
	if (!find_rotated(f->path, &saved, old, sizeof(old))) {
		pr_info("%s: rotated while stopped: finishing %s from offset %llu", f->path, old,
			(unsigned long long)saved.offset);
		err = open_at(f, old, saved.offset);
		if (!err)
			err = drain(f);
		if (!err)
			err = flush_lines(f);
		if (err)
			return err;
	} else {
		pr_warn("%s: rotated while stopped and the old file (inode %llu) is gone: lines after "
			"offset %llu of it were not imported", f->path, (unsigned long long)saved.ino,
			(unsigned long long)saved.offset);
	}
	return open_at(f, f->path, 0);
}

int kt_audit_follow(struct kt_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "poll-ms", required_argument, NULL, OPT_POLL },
		{ 0 },
	};
	struct follower f = { .fd = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t poll_ms = 200;
	bool once = false;
	int c, err, ret = KT_EXIT_RUNTIME;

	while ((c = kt_cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c < 0)
			return kt_cli_opt_exit(c);
		if (c == OPT_ONCE)
			once = true;
		else if (c == OPT_POLL && (kt_parse_uint(optarg, 60000, &poll_ms) || !poll_ms))
			return kt_cli_usage_error(cli, "invalid --poll-ms '%s' (1..60000)", optarg);
	}
	if (optind >= argc)
		return kt_cli_usage_error(cli, "audit follow: missing FILE");
	if (optind + 1 < argc)
		return kt_cli_usage_error(cli, "audit follow: unexpected argument '%s'", argv[optind + 1]);
	f.path = argv[optind];
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (kt_audit_open_rw(cli, &f.st))
		return KT_EXIT_RUNTIME;
	err = resume(&f);
	while (err == -ENOENT && !once && !stop) {
		/* the API server has not written it yet */
		usleep((useconds_t)poll_ms * 1000);
		err = resume(&f);
	}
	if (err) {
		pr_err("audit follow: %s: %s", f.path, strerror(-err));
		goto out;
	}
	while (!stop) {
		struct stat sb;

		err = drain(&f);
		if (!err)
			err = flush_lines(&f);
		if (err)
			goto out;
		if (once)
			break;
		if (stat(f.path, &sb) == 0) {
			if ((uint64_t)sb.st_ino != f.pos.ino || (uint64_t)sb.st_dev != f.pos.dev) {
				/* rotated: the old descriptor is drained above; a line
				 * left unterminated in it is incomplete and dropped */
				pr_info("%s: rotated (inode %llu -> %llu)", f.path,
					(unsigned long long)f.pos.ino, (unsigned long long)sb.st_ino);
				err = drain(&f);
				if (!err)
					err = flush_lines(&f);
				if (!err && f.len)
					pr_warn("%s: %zu bytes without a final newline in the rotated file: dropped",
						f.path, f.len);
				if (!err)
					err = open_at(&f, f.path, 0);
				if (err)
					goto out;
				continue;
			}
			if ((uint64_t)sb.st_size < f.pos.offset) {
				pr_info("%s: truncated: reading from the start", f.path);
				f.pos.offset = 0;
				f.len = 0;
				continue;
			}
		}
		usleep((useconds_t)poll_ms * 1000);
	}
	ret = f.bad ? KT_EXIT_RUNTIME : KT_EXIT_OK;
	if (once || stop)
		fprintf(stderr, "%s: %llu events: %llu exec/attach stages stored, %llu duplicates, "
			"%llu other events skipped, %llu malformed; at offset %llu\n", f.path,
			(unsigned long long)f.stats.events, (unsigned long long)f.stats.stored,
			(unsigned long long)f.stats.duplicates, (unsigned long long)f.stats.skipped,
			(unsigned long long)f.bad, (unsigned long long)f.pos.offset);
	if (stop)
		ret = KT_EXIT_OK; /* SIGTERM: flushed, position stored */
out:
	if (f.fd >= 0)
		close(f.fd);
	free(f.buf);
	kt_store_close(f.st);
	return ret;
}
