// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "indexer.h"
#include "log.h"
#include "reader.h"
#include "retention.h"
#include "store.h"

#define IDLE_MS 500          /* how often to look for new output */
#define BUDGET (1u << 20)    /* output bytes per call: short store locks */
#define NICE 10
/* recorder/daemon.c's backstop: the worker's own commits leave the WAL to
 * the checkpoint after each round (below) */
#define WAL_BACKSTOP_PAGES 16384
#define MAX_RESTARTS 5       /* per RESTART_WINDOW, then give up */
#define RESTART_WINDOW_US (600 * 1000000LL)

struct kt_indexer {
	pid_t pid;
	int life_fd;           /* write end of the worker's lifeline pipe */
	char db[4096];
	char level[16];
	int restarts;
	int64_t window_start_us;
};

/* ---- the worker process ------------------------------------------------ */

static volatile sig_atomic_t worker_stop;

/*
 * The worker dies with its recorder, whatever the recorder dies of, even
 * while busy: (1) PR_SET_PDEATHSIG SIGKILL, which a busy loop cannot
 * swallow the way it did SIGTERM (all its work is transactional and
 * resumable, so SIGKILL costs nothing); (2) a lifeline pipe whose write end
 * only the recorder holds: EOF means the recorder is gone, checked between
 * sessions and while idle, covering what PDEATHSIG does not (the signal
 * is tied to the forking thread, and is lost if the parent died before the
 * prctl: then getppid() already differs).
 */
static int life_fd = -1;
static pid_t parent_pid;

static bool recorder_gone(void)
{
	struct pollfd p = { .fd = life_fd, .events = POLLIN };

	if (parent_pid && getppid() != parent_pid)
		return true;
	return life_fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLIN | POLLERR));
}

/* Sleep up to ms, returning early when the recorder goes away. */
static bool idle_wait(int ms)
{
	struct pollfd p = { .fd = life_fd, .events = POLLIN };

	if (life_fd >= 0 && poll(&p, 1, ms) > 0)
		return true;
	if (life_fd < 0)
		usleep((useconds_t)ms * 1000);
	return recorder_gone();
}

/*
 * Never two workers on one DB: an exclusive flock on the DB file (SQLite
 * uses POSIX locks, which flock does not touch).  A worker started right
 * after a kill -9 waits for the old one to die (its recorder is gone, so it
 * will within 2 s) rather than failing.
 */
static int lock_db(const char *db)
{
	int fd = open(db, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB); waited += 100) {
		if (errno != EWOULDBLOCK || waited >= 10000 || recorder_gone()) {
			int err = errno == EWOULDBLOCK ? -EBUSY : -errno;

			close(fd);
			return err;
		}
		usleep(100000);
	}
	return fd;
}

static void on_term(int sig)
{
	worker_stop = sig;
}

/*
 * The worker parses attacker-controlled terminal output with libvterm, so it
 * gives up everything the recorder holds: every capability (bounding set
 * included), and the right to regain any (no_new_privs).  It keeps uid 0
 * only to write the root-owned store.  It has no BPF fds: it is a fresh
 * exec of the recorder binary.
 */
static int drop_privileges(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {0};

	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			return -errno;
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return 0;
}

/* A store that cannot be written (disk full) fails every call, every
 * round: log when a round's first error changes and when a whole round
 * went through again, not each time. */
static int last_err, round_err;
static bool round_wrote;

static void note_result(int ret, int64_t id, const char *what)
{
	if (ret > 0)
		round_wrote = true;
	if (ret >= 0 || round_err)
		return;
	round_err = ret;
	if (ret != last_err)
		pr_warn("session %lld: %s%s (logged once until it changes)", (long long)id, what,
			strerror(-ret));
}

/* "again" only once something was written: a round with nothing to
 * write says nothing about the store */
static void round_done(void)
{
	if (!round_err && last_err && round_wrote)
		pr_info("index worker: writes succeed again");
	if (round_err || round_wrote)
		last_err = round_err;
	round_err = 0;
	round_wrote = false;
}

/* each session's result of the round (store/reader.c) */
static int on_result(int64_t id, bool compaction, int ret, void *ctx)
{
	note_result(ret, id, compaction ? "compaction: " : "");
	if (recorder_gone())
		_exit(1);
	return worker_stop ? 1 : 0;
}

static bool stopping(void *ctx)
{
	return worker_stop;
}

int kt_indexer_worker(const char *db, int lifeline, long ppid)
{
	struct sigaction sa = { .sa_handler = on_term };
	struct kt_maintain_ops ops = { .done = on_result, .stop = stopping };
	struct kt_store *st = NULL;
	bool more;
	int64_t stop_deadline = 0;
	int err, lock;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	life_fd = lifeline;
	parent_pid = (pid_t)ppid;
	err = drop_privileges();
	if (err) {
		pr_err("cannot drop privileges: %s", strerror(-err));
		return 1;
	}
	/* again after the credential change, which may clear it */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (recorder_gone())	/* the recorder died before we got here */
		return 1;
	lock = lock_db(db);
	if (lock < 0) {
		if (!recorder_gone())
			pr_err("%s: %s", db, lock == -EBUSY ?
			       "another index worker still holds this DB after 10 s" : strerror(-lock));
		return 1;
	}
	setpriority(PRIO_PROCESS, 0, NICE);
	err = kt_store_open(db, 0, &st);
	if (err)
		return 1;
	kt_store_set_quiet(st, true); /* note_result logs, once per change */
	/* SQLite's automatic checkpoint (1000 pages) ran inside the worker's
	 * own commits, several times a round, copying index pages each round
	 * rewrites again and again: 9 % of the worker's CPU at 100 sessions
	 * (bench/results/31-worker.md).  The checkpoint after each round copies
	 * each page once; the automatic one stays as a backstop. */
	err = kt_store_set_wal_autocheckpoint(st, WAL_BACKSTOP_PAGES);
	if (err)
		pr_warn("index worker: WAL backstop: %s", strerror(-err));
	for (;;) {
		/* index, then compact (budgeted): the store's rule */
		more = kt_store_maintain_round(st, BUDGET, &ops) > 0;
		/* the recorder's commits leave checkpoints to us (daemon.c) */
		note_result(kt_store_wal_checkpoint(st), 0, "WAL checkpoint: ");
		round_done();
		if (!worker_stop)
			kt_retention_tick(st);
		if (worker_stop) {
			/* finish what is quick (ended sessions' last chunks); the
			 * rest resumes at the next start */
			if (!stop_deadline)
				stop_deadline = kt_now_us() + 1500000;
			if (!more || kt_now_us() >= stop_deadline)
				break;
			worker_stop = 0;	/* let this round index */
			continue;
		}
		if (!more && idle_wait(IDLE_MS))
			break;	/* the recorder is gone: so are we */
	}
	kt_retention_done();
	kt_store_close(st);
	close(lock);
	return 0;
}

/* ---- the supervisor, in the recorder ------------------------------------ */

static int spawn(struct kt_indexer *ix)
{
	char fdarg[16], ppidarg[24];
	char *argv[20] = { "kubetape-recorder", "--index-worker", "--db", ix->db,
			   "--log-level", ix->level, "--worker-lifeline", fdarg,
			   "--worker-parent", ppidarg, NULL };
	pid_t parent = getpid(), pid;
	int p[2];

	if (ix->life_fd >= 0) {
		close(ix->life_fd);
		ix->life_fd = -1;
	}
	kt_retention_argv(argv + 10); /* retention runs in the worker */
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(p[0]);
		close(p[1]);
		return err;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (getppid() != parent)
			_exit(1);
		/* the read end survives the exec; the write end does not */
		if (fcntl(p[0], F_SETFD, 0))
			_exit(127);
		snprintf(fdarg, sizeof(fdarg), "%d", p[0]);
		snprintf(ppidarg, sizeof(ppidarg), "%ld", (long)parent);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(p[0]);
	ix->life_fd = p[1];
	ix->pid = pid;
	return 0;
}

int kt_indexer_start(const char *db, struct kt_indexer **out)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	struct kt_indexer *ix = calloc(1, sizeof(*ix));
	int err;

	*out = NULL;
	if (!ix)
		return -ENOMEM;
	if (snprintf(ix->db, sizeof(ix->db), "%s", db) >= (int)sizeof(ix->db)) {
		free(ix);
		return -ENAMETOOLONG;
	}
	snprintf(ix->level, sizeof(ix->level), "%s", names[kt_log_get_level()]);
	ix->window_start_us = kt_now_us();
	ix->life_fd = -1;
	err = spawn(ix);
	if (err) {
		pr_err("cannot start the screen indexer: %s", strerror(-err));
		free(ix);
		return err;
	}
	*out = ix;
	return 0;
}

void kt_indexer_check(struct kt_indexer *ix)
{
	int status;
	int64_t now;

	if (!ix || ix->pid <= 0 || waitpid(ix->pid, &status, WNOHANG) != ix->pid)
		return;
	ix->pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	now = kt_now_us();
	if (now - ix->window_start_us > RESTART_WINDOW_US) {
		ix->window_start_us = now;
		ix->restarts = 0;
	}
	if (ix->restarts >= MAX_RESTARTS) {
		pr_err("screen indexer died %d times in 10 minutes (last: %s %d); not restarting: "
		       "seeking and screen search will lag until the recorder restarts", ix->restarts,
		       WIFSIGNALED(status) ? "signal" : "status",
		       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		return;
	}
	ix->restarts++;
	pr_warn("screen indexer died (%s %d); restarting", WIFSIGNALED(status) ? "signal" : "status",
		WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	spawn(ix);
}

void kt_indexer_stop(struct kt_indexer *ix, int grace_ms)
{
	int status;

	if (!ix)
		return;
	if (ix->pid > 0) {
		kill(ix->pid, SIGTERM);
		for (int waited = 0; waitpid(ix->pid, &status, WNOHANG) == 0; waited += 20) {
			if (waited >= grace_ms) {
				kill(ix->pid, SIGKILL);
				waitpid(ix->pid, &status, 0);
				break;
			}
			usleep(20000);
		}
	}
	if (ix->life_fd >= 0)
		close(ix->life_fd);
	free(ix);
}
