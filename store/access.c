// SPDX-License-Identifier: Apache-2.0
/*
 * The access log: who viewed, replayed, exported, searched or verified
 * what, and when (FORMAT.md, "Access log").
 *
 * It is its own SQLite file, `access/<store name>.access` in the store's
 * directory, because readers must never wait for the recorder: a reader
 * that had to take the store's write lock to log would stall behind every
 * batch the recorder holds open (and the store's readers are read-only by
 * design).  Its own directory, so that a reader whose view of the store is
 * a read-only mount (deploy/: the web container) can still be given a
 * writable place for it; created setgid 2770 and the file 0660, so the
 * CLI (root) and the web (its group) share one log.  A reader
 * that cannot log refuses to show data (the callers' policy), so reading
 * stays audited.  The log is not part of the sessions' evidence: reading
 * never changes a session's chain.
 *
 * On the cluster store (--db postgres://) the log is the server's
 * access_log table (store/pg/pgr_access.c, FORMAT-pg.md "Access log").
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include "evidence_int.h"
#include "log.h"
#include "pg/pgr.h"
#include "pg/pgr_access.h"

/*
 * Every reader appends one row and closes, usually as the log's only
 * connection.  SQLite's default for that is costly: create the -wal and
 * -shm files, sync the WAL header, sync the commit, checkpoint at close
 * (two more syncs) and unlink both files: 5 fdatasyncs, two inode creations
 * and a discard per read on this kind of disk.  So the log keeps its WAL
 * between readers (no checkpoint at close, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE)
 * and a read costs the commit's sync (synchronous = FULL: the row is on
 * disk before data is shown, as before) and the directory's (SQLite syncs
 * it once per connection that may have created the WAL).
 *
 * The WAL is checkpointed and truncated once it holds ACCESS_CKPT_FRAMES
 * frames (about one read in that many; a commit is one frame).  Truncated,
 * not just checkpointed: the first connection of a process rebuilds the
 * WAL index by reading every frame, and an index rebuilt that way does not
 * know what was already copied back, so a WAL that is only checkpointed
 * would grow and be re-read and re-copied by every later reader.
 * Limit: access/ holds the -wal and -shm files between reads (SQLite gives
 * them the log's owner and mode).
 */
#define ACCESS_CKPT_FRAMES 32

static int wal_frames(void *ctx, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	*(int *)ctx = frames;
	return SQLITE_OK;
}

static const char access_schema[] =
	"PRAGMA journal_mode = WAL;"
	"PRAGMA synchronous = FULL;"
	"CREATE TABLE IF NOT EXISTS access_log ("
	"  id INTEGER PRIMARY KEY,"
	"  ts_us INTEGER NOT NULL,"
	"  who TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  session_id INTEGER,"
	"  detail TEXT NOT NULL DEFAULT ''"
	");";

static int log_path(const char *db_path, char *path, size_t len, bool mkdirs)
{
	const char *slash = strrchr(db_path, '/');
	int dl = slash ? (int)(slash - db_path) : 1;
	const char *dir = slash ? db_path : ".";
	int n;

	n = snprintf(path, len, "%.*s/access", dl, dir);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (mkdirs && mkdir(path, 02770) == 0)
		chmod(path, 02770); /* umask cleared bits; setgid: the group is shared */
	n = snprintf(path, len, "%.*s/access/%s.access", dl, dir, slash ? slash + 1 : db_path);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int open_log(const char *db_path, int flags, sqlite3 **db)
{
	char path[4096];
	bool fresh;
	int rc;

	*db = NULL;
	if (log_path(db_path, path, sizeof(path), flags & SQLITE_OPEN_CREATE))
		return SQLITE_CANTOPEN;
	fresh = access(path, F_OK) != 0;
	rc = sqlite3_open_v2(path, db, flags, NULL);
	if (rc == SQLITE_OK && fresh && (flags & SQLITE_OPEN_CREATE)) {
		/* SQLite creates it when first written: make it now, 0660 */
		int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0660);

		if (fd >= 0) {
			fchmod(fd, 0660);
			close(fd);
		}
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(*db, 5000);
	return rc;
}

int kt_store_access_log(struct kt_store *st, const char *who, const char *action,
			int64_t session_id, const char *detail)
{
	if (!st)
		return -EINVAL;
	if (st->pg)
		return kt_pgr_access_log(st->pg, who, action, session_id, detail);
	return kt_access_log(st->path, who, action, session_id, detail);
}

int kt_access_log(const char *db_path, const char *who, const char *action,
		  int64_t session_id, const char *detail)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int frames = 0, rc, err = 0;

	if (kt_pgr_is_uri(db_path)) {
		/* the cluster store's log is on the server: a connection of
		 * its own (callers holding the store use kt_store_access_log) */
		struct kt_store *st;

		err = kt_store_open(db_path, KT_STORE_RDONLY, &st);
		if (err)
			return err;
		err = kt_store_access_log(st, who, action, session_id, detail);
		kt_store_close(st);
		return err;
	}
	rc = open_log(db_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_wal_hook(db, wal_frames, &frames); /* replaces the autocheckpoint */
		rc = sqlite3_exec(db, access_schema, NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "INSERT INTO access_log (ts_us, who, action, session_id, detail)"
					" VALUES (?1, ?2, ?3, ?4, ?5)", -1, &q, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, kt_now_us());
		sqlite3_bind_text(q, 2, who ? who : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, action, -1, SQLITE_STATIC);
		if (session_id)
			sqlite3_bind_int64(q, 4, session_id);
		sqlite3_bind_text(q, 5, detail ? detail : "", -1, SQLITE_STATIC);
		rc = sqlite3_step(q);
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	/* The row is committed.  A pending TRUNCATE checkpoint blocks other
	 * writers while it waits for readers, so it does not wait: when the
	 * log is busy it gives up at once and a later reader checkpoints. */
	if (rc == SQLITE_OK && frames >= ACCESS_CKPT_FRAMES) {
		sqlite3_busy_timeout(db, 0);
		sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		err = kt_sqlite_errno(rc);
		pr_err("store %s: cannot write its access log (access/ in its directory): %s", db_path,
		       db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		if (err >= 0)
			err = -EIO;
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	return err;
}

void kt_access_who_cli(char *buf, size_t len)
{
	uid_t uid = getuid();
	struct passwd *pw = getpwuid(uid);
	const char *sudo = getenv("SUDO_UID");
	size_t n;

	n = (size_t)snprintf(buf, len, "uid %u (%s)", (unsigned)uid, pw ? pw->pw_name : "?");
	/* SUDO_UID is what sudo says; only root could have set it otherwise */
	if (sudo && *sudo && strspn(sudo, "0123456789") == strlen(sudo) && n < len)
		snprintf(buf + n, len - n, " via sudo from uid %s", sudo);
}

int kt_access_list(struct kt_store *st, int64_t session_id, int64_t since_us, int limit,
		   int (*cb)(const struct kt_access_entry *e, void *ctx), void *ctx)
{
	struct kt_access_entry e;
	sqlite3_stmt *q = NULL;
	sqlite3 *db = NULL;
	int rc, err = 0;

	if (st->pg)
		return kt_pgr_access_list(st->pg, session_id, since_us, limit, cb, ctx);
	rc = open_log(st->path, SQLITE_OPEN_READONLY, &db);
	if (rc == SQLITE_CANTOPEN) {
		sqlite3_close(db);
		return 0; /* nothing was ever read */
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "SELECT id, ts_us, coalesce(session_id, 0), who, action, detail"
					" FROM access_log WHERE (?1 = 0 OR session_id = ?1) AND ts_us >= ?2"
					" ORDER BY id DESC LIMIT ?3", -1, &q, NULL);
	if (rc != SQLITE_OK) {
		pr_err("store %s: access log: %s", st->path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return -EIO;
	}
	sqlite3_bind_int64(q, 1, session_id);
	sqlite3_bind_int64(q, 2, since_us);
	sqlite3_bind_int64(q, 3, limit > 0 ? limit : -1);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		e.id = sqlite3_column_int64(q, 0);
		e.ts_us = sqlite3_column_int64(q, 1);
		e.session_id = sqlite3_column_int64(q, 2);
		e.who = (const char *)sqlite3_column_text(q, 3);
		e.action = (const char *)sqlite3_column_text(q, 4);
		e.detail = (const char *)sqlite3_column_text(q, 5);
		err = cb(&e, ctx);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE) {
		pr_err("store %s: access log: %s", st->path, sqlite3_errmsg(db));
		err = -EIO;
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	return err;
}
