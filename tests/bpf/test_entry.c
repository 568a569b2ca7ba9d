// SPDX-License-Identifier: Apache-2.0
/*
 * BPF selftest of the session detection rule (kt_entry_rule in
 * bpf/session.bpf.h): every way into a container is a session, nothing else
 * is.  The real programs, real namespaces, real ptys and the real nsenter:
 *
 *   - "containers" made as runc makes them: a new mount namespace (and pid
 *     namespace, or not: hostPID), an overlay of / as rootfs, pivot_root,
 *     then execve of the container's process;
 *   - entries as runc exec makes them (setns from the host, then execve),
 *     with and without a tty, and as nsenter(1) makes them;
 *   - interactive containers: the container's own process on a pty of its
 *     own (terminal: true);
 *   - negatives: the containers' own processes, a host sandbox with private
 *     mounts (unshare -m) and nsenter -m into it.
 *
 * Needs root; it FAILs (never skips) without it.  test_capture.c covers the
 * byte path in depth; this file checks who becomes a session, and that the
 * bytes of the new kinds are recorded exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "loader.h"
#include "ctr_seed.h"
#include "log.h"
#include "../unit/kt_test.h"
#include "../unit/kt_fixture.h"

#define MAXS 128

static struct sess {
	struct kt_session s;
	bool no_tty;
	int ends, end_status;
	struct kt_fx_buf out;
} S[MAXS];
static int nS;
static struct kt_loader *L;
static char base[64];
static int nctr;

static struct sess *by_sid(uint64_t sid)
{
	for (int i = 0; i < nS; i++)
		if (S[i].s.id == sid)
			return &S[i];
	return NULL;
}

static int on_event(void *ctx, void *data, size_t size)
{
	const struct kt_hdr *h = data;
	struct sess *x;

	if (h->type == KT_EV_SESSION_START) {
		const struct kt_ev_session *e = data;

		if (nS < MAXS) {
			S[nS].s = e->s;
			S[nS].no_tty = h->flags & KT_F_NO_TTY;
			nS++;
		}
		return 0;
	}
	x = by_sid(h->session_id);
	if (!x)
		return 0;
	if (h->type == KT_EV_TTY_OUT) {
		const struct kt_ev_data *e = data;

		kt_fx_buf_add(&x->out, e->data, e->len);
	} else if (h->type == KT_EV_SESSION_END) {
		const struct kt_ev_exit *e = data;

		x->ends++;
		x->end_status = e->exit_status;
	}
	return 0;
}

/* sessions whose leader is pid (or, with child, whose leader's parent is) */
static struct sess *find(pid_t pid, bool child)
{
	for (int i = 0; i < nS; i++)
		if ((child ? S[i].s.leader.ppid : S[i].s.leader.pid) == (uint32_t)pid)
			return &S[i];
	return NULL;
}

static int count(pid_t pid, bool child)
{
	int n = 0;

	for (int i = 0; i < nS; i++)
		n += (child ? S[i].s.leader.ppid : S[i].s.leader.pid) == (uint32_t)pid;
	return n;
}

static void settle(struct kt_loader *ld)
{
	for (int i = 0; i < 4; i++)
		kt_loader_poll(ld, 100);
}

/* In a process with a new mount namespace: an overlay of / on a tmpfs as
 * rootfs, and pivot_root into it, as runc does with an image. */
static int mkrootfs(const char *dir)
{
	char up[128], wk[128], mg[128], opts[512];

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("kt-entry", dir, "tmpfs", 0, "size=8m"))
		return -1;
	snprintf(up, sizeof(up), "%s/u", dir);
	snprintf(wk, sizeof(wk), "%s/w", dir);
	snprintf(mg, sizeof(mg), "%s/m", dir);
	if (mkdir(up, 0755) || mkdir(wk, 0755) || mkdir(mg, 0755))
		return -1;
	snprintf(opts, sizeof(opts), "lowerdir=/,upperdir=%s,workdir=%s", up, wk);
	if (mount("overlay", mg, "overlay", 0, opts) || chdir(mg) ||
	    syscall(SYS_pivot_root, ".", ".") || umount2(".", MNT_DETACH) || chdir("/"))
		return -1;
	return 0;
}

static void on_tty(int slave)
{
	setsid();
	if (slave >= 0) {
		ioctl(slave, TIOCSCTTY, 0);
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
	}
}

/*
 * Start a container whose process runs `script`: hostPID (a new mount
 * namespace only) or with a pid namespace of its own (its process is pid
 * 1); on pty `slave` (interactive) or none.  Returns its host pid once it
 * has exec'd, or -1.
 */
static pid_t ctr_start(bool pidns, int slave, const char *script)
{
	char dir[96];
	int pfd[2];
	pid_t c, init = -1;

	snprintf(dir, sizeof(dir), "%s/c%d", base, nctr++);
	if (mkdir(dir, 0755) || pipe2(pfd, O_CLOEXEC))
		return -1;
	c = fork();
	if (c == 0) {
		pid_t g = 0;

		close(pfd[0]);
		/* like runc's [1:CHILD] -> [2:INIT]: the process that pivots
		 * owns its mount namespace (pivot_root moves the root of every
		 * process sharing it, its parent's too) */
		if (unshare(pidns ? CLONE_NEWPID : CLONE_NEWNS))
			_exit(120);
		if (pidns)
			g = fork();
		if (g == 0) {
			pid_t me = pidns ? 0 : getpid();

			if (pidns && unshare(CLONE_NEWNS))
				_exit(124);
			if (mkrootfs(dir))
				_exit(122);
			on_tty(slave);
			if (!pidns && write(pfd[1], &me, sizeof(me)) != sizeof(me))
				_exit(123);
			execl("/bin/sh", "sh", "-c", script, (char *)NULL);
			_exit(127);
		}
		if (g < 0 || write(pfd[1], &g, sizeof(g)) != sizeof(g))
			_exit(121);
		close(pfd[1]);
		waitpid(g, NULL, 0);
		_exit(0);
	}
	close(pfd[1]);
	if (c < 0 || read(pfd[0], &init, sizeof(init)) != sizeof(init))
		init = -1;
	/* EOF once the container's process has exec'd (its copy is CLOEXEC) */
	while (init > 0 && read(pfd[0], dir, 1) > 0)
		;
	close(pfd[0]);
	return init;
}

/*
 * As runc exec does: from the host, join target's mount (and, with pidns,
 * pid) namespace, then execve `script` on pty slave (or with stdout on
 * outfd), in a forked child (fork_first, as runc's [2:INIT]) or in the
 * process that called setns (nsenter without -p).  *leader is the process
 * that execs; returns the helper to wait for.
 */
static pid_t setns_exec(pid_t target, bool pidns, int slave, int outfd, const char *script,
			bool fork_first, pid_t *leader)
{
	int pfd[2];
	pid_t h;

	if (pipe(pfd))
		return -1;
	h = fork();
	if (h == 0) {
		char p[64];
		int mfd, pfdns = -1, st;
		pid_t e = 0;

		snprintf(p, sizeof(p), "/proc/%d/ns/mnt", target);
		mfd = open(p, O_RDONLY);
		snprintf(p, sizeof(p), "/proc/%d/ns/pid", target);
		if (pidns)
			pfdns = open(p, O_RDONLY);
		if (mfd < 0 || (pidns && (pfdns < 0 || setns(pfdns, CLONE_NEWPID))) ||
		    setns(mfd, CLONE_NEWNS))
			_exit(126);
		if (fork_first || pidns)
			e = fork();
		if (e == 0) {
			on_tty(slave);
			if (slave < 0 && outfd >= 0) {
				dup2(outfd, 1);
				dup2(outfd, 2);
			}
			if (!fork_first && !pidns) {
				pid_t me = getpid();

				if (write(pfd[1], &me, sizeof(me)) != sizeof(me))
					_exit(126);
			}
			close(pfd[1]);
			execl("/bin/sh", "sh", "-c", script, (char *)NULL);
			_exit(127);
		}
		if (e < 0 || write(pfd[1], &e, sizeof(e)) != sizeof(e))
			_exit(126);
		waitpid(e, &st, 0);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	close(pfd[1]);
	if (h < 0 || read(pfd[0], leader, sizeof(*leader)) != sizeof(*leader))
		*leader = -1;
	close(pfd[0]);
	return h;
}

/* Run argv (execvp) on pty slave in a new session; returns its pid. */
static pid_t spawn_on(int slave, char *const argv[])
{
	pid_t p = fork();

	if (p == 0) {
		on_tty(slave);
		execvp(argv[0], argv);
		_exit(127);
	}
	return p;
}

/* Read fd until EOF/EIO, delivering events as we go; `answer` is written
 * once `after` has been seen. */
static void pump(int fd, struct kt_fx_buf *got, const char *after, const char *answer)
{
	char b[8192];
	bool answered = !after;

	for (;;) {
		ssize_t n = read(fd, b, sizeof(b));

		if (n <= 0)
			break;
		kt_fx_buf_add(got, b, n);
		if (!answered && memmem(got->p, got->len, after, strlen(after))) {
			if (write(fd, answer, strlen(answer)) < 0)
				break;
			answered = true;
		}
		kt_loader_poll(L, 0);
	}
}

#define LOOP "while :; do /bin/true; sleep 0.05; done"
static pid_t hp_ctr = -1, pid_ctr = -1, old_ctr = -1; /* non-interactive containers */

static void check_bytes(struct sess *x, const struct kt_fx_buf *got)
{
	CHECK(x && x->out.len == got->len && !memcmp(x->out.p, got->p, got->len));
	if (x && kt_t_cur_failed)
		printf("# recorded %zu bytes, pty gave %zu\n", x->out.len, got->len);
}

static void t_load(void)
{
	struct kt_loader_opts o = { .capture = KT_CAPTURE_AUTO, .capture_input = true };
	int err = kt_loader_open(&o, on_event, NULL, &L);

	CHECK_EQ_INT(err, 0);
	if (!err)
		CHECK_EQ_INT(kt_loader_capture_up(L), 0);
	hp_ctr = ctr_start(false, -1, LOOP);
	pid_ctr = ctr_start(true, -1, LOOP);
	CHECK(hp_ctr > 0 && pid_ctr > 0);
}

/* runc exec into a hostPID container, with a tty: a session entered by
 * the mount namespace, tied to the container's first process */
static void t_hostpid_exec_tty(void)
{
	struct kt_fx_buf got = {0};
	int master, slave, st;
	pid_t h, leader;
	struct sess *x;

	if (!L || openpty(&master, &slave, NULL, NULL, NULL))
		{ CHECK(!"setup"); return; }
	h = setns_exec(hp_ctr, false, slave, -1, "printf 'in-hostpid\\n'; exit 6", true, &leader);
	close(slave);
	pump(master, &got, NULL, NULL);
	close(master);
	waitpid(h, &st, 0);
	settle(L);
	x = find(leader, false);
	CHECK(x != NULL);
	if (!x)
		return;
	CHECK_EQ_INT(x->s.entry, KT_ENTRY_MNTNS);
	CHECK_EQ_INT(x->s.ctr_tgid, hp_ctr);
	CHECK(x->s.tty.key != 0);
	CHECK(memmem(got.p, got.len, "in-hostpid\r\n", 12) != NULL);
	check_bytes(x, &got);
	CHECK_EQ_INT(x->ends, 1);
	CHECK_EQ_INT(x->end_status, 6 << 8);
	free(got.p);
}

/* ... and without a tty (stdout a pipe), exec'd by the process that joined */
static void t_hostpid_exec_notty(void)
{
	struct kt_fx_buf got = {0};
	int pfd[2], st;
	pid_t h, leader;
	struct sess *x;

	if (!L || pipe(pfd))
		{ CHECK(!"setup"); return; }
	h = setns_exec(hp_ctr, false, -1, pfd[1], "echo no-tty-out; /bin/true; exit 2", false, &leader);
	close(pfd[1]);
	pump(pfd[0], &got, NULL, NULL);
	close(pfd[0]);
	waitpid(h, &st, 0);
	settle(L);
	x = find(leader, false);
	CHECK(x != NULL);
	CHECK(memmem(got.p ?: "", got.len, "no-tty-out", 10) != NULL);
	if (x) {
		CHECK_EQ_INT(x->s.entry, KT_ENTRY_MNTNS);
		CHECK(x->no_tty);
		CHECK_EQ_INT(x->s.ctr_tgid, hp_ctr);
		CHECK_EQ_INT(x->end_status, 2 << 8);
	}
	free(got.p);
}

/*
 * The real nsenter(1): `nsenter -t target ns_flag -- /bin/sh -c script` on
 * a pty of its own, its output read to the end into *got, its events
 * delivered.  The session it made, led by nsenter itself or (by_child) by
 * the child nsenter forks, is CHECKed: entered as `entry`, tied to target's
 * container, its bytes what the pty gave.  That session; NULL after a
 * failed CHECK (no loader, pty or fork, or no such session: then nsenter's
 * output is printed).
 */
static struct sess *nsenter_session(pid_t target, const char *ns_flag, const char *script,
				    bool by_child, int entry, struct kt_fx_buf *got)
{
	char pid[16];
	int master, slave;
	struct sess *x;
	pid_t n;

	if (!L || openpty(&master, &slave, NULL, NULL, NULL)) {
		CHECK(!"setup");
		return NULL;
	}
	snprintf(pid, sizeof(pid), "%d", target);
	n = spawn_on(slave, (char *[]){ "nsenter", "-t", pid, (char *)ns_flag, "--", "/bin/sh", "-c",
					(char *)script, NULL });
	close(slave);
	if (n <= 0) {
		CHECK(!"fork");
		close(master);
		return NULL;
	}
	pump(master, got, NULL, NULL);
	close(master);
	waitpid(n, NULL, 0);
	settle(L);
	x = find(n, by_child);
	CHECK(x != NULL);
	if (!x) {
		printf("# nsenter output: %.*s\n", (int)got->len, got->p ?: "");
		return NULL;
	}
	CHECK_EQ_INT(x->s.entry, entry);
	CHECK_EQ_INT(x->s.ctr_tgid, target);
	check_bytes(x, got);
	return x;
}

/* the real nsenter(1), mount namespace only: nsenter joins, then execs */
static void t_nsenter_mnt(void)
{
	struct kt_fx_buf got = {0};
	struct sess *x = nsenter_session(hp_ctr, "-m", "echo via-nsenter; exit 4", false,
					 KT_ENTRY_MNTNS, &got);

	if (x)
		CHECK_EQ_INT(x->end_status, 4 << 8);
	free(got.p);
}

/* nsenter -a into a container with its own pid namespace: nsenter forks,
 * its child is the leader, tied to that container's init */
static void t_nsenter_all_pidns(void)
{
	struct kt_fx_buf got = {0};
	struct sess *x = nsenter_session(pid_ctr, "-a", "echo all-ns; exit 5", true,
					 KT_ENTRY_PIDNS, &got);

	if (x)
		CHECK(x->s.leader.ns_pid > 1);
	free(got.p);
}

/* terminal: true: the container's own process, on its own pty */
static void interactive(bool pidns)
{
	struct kt_fx_buf got = {0};
	int master, slave;
	struct sess *x;
	pid_t init;

	if (!L || openpty(&master, &slave, NULL, NULL, NULL))
		{ CHECK(!"setup"); return; }
	init = ctr_start(pidns, slave, "printf 'ready\\n'; read l; echo got:$l; /bin/true; exit 3");
	close(slave);
	pump(master, &got, "ready", "abc\r");
	close(master);
	settle(L);
	x = find(init, false);
	CHECK(init > 0 && x != NULL);
	if (!x)
		return;
	CHECK_EQ_INT(x->s.entry, (pidns ? KT_ENTRY_PIDNS : KT_ENTRY_MNTNS) | KT_ENTRY_INTERACTIVE);
	CHECK_EQ_INT(x->s.leader.ns_pid, pidns ? 1 : (uint32_t)init);
	CHECK(memmem(got.p, got.len, "got:abc\r\n", 9) != NULL);
	check_bytes(x, &got);
	CHECK_EQ_INT(x->ends, 1);
	CHECK_EQ_INT(x->end_status, 3 << 8);
	free(got.p);
}

static void t_interactive_hostpid(void) { interactive(false); }
static void t_interactive_pidns(void) { interactive(true); }

/*
 * Nothing else: the containers' own processes (inits and the /bin/true
 * they keep exec'ing), a host sandbox with private mounts on a new pty
 * (unshare -m), and nsenter -m into that sandbox.
 */
static void t_not_sessions(void)
{
	int master, slave;
	char pid[16], b[256];
	pid_t u, n;

	if (!L || openpty(&master, &slave, NULL, NULL, NULL))
		{ CHECK(!"setup"); return; }
	u = spawn_on(slave, (char *[]){ "unshare", "-m", "--", "/bin/sh", "-c",
					"echo sandbox; sleep 1; /bin/true", NULL });
	close(slave);
	usleep(300000);
	snprintf(pid, sizeof(pid), "%d", u);
	n = fork();
	if (n == 0) {
		execlp("nsenter", "nsenter", "-t", pid, "-m", "--", "/bin/true", (char *)NULL);
		_exit(127);
	}
	waitpid(n, NULL, 0);
	while (read(master, b, sizeof(b)) > 0)
		kt_loader_poll(L, 0);
	close(master);
	waitpid(u, NULL, 0);
	settle(L);
	CHECK_EQ_INT(count(u, false) + count(u, true), 0);
	CHECK_EQ_INT(count(n, false), 0);
	CHECK_EQ_INT(count(hp_ctr, false) + count(hp_ctr, true), 0);
	CHECK_EQ_INT(count(pid_ctr, false) + count(pid_ctr, true), 0);
	CHECK_EQ_INT(count(old_ctr, false) + count(old_ctr, true), 0);
}

/*
 * A hostPID container that started before the programs loaded: the
 * kernel never saw its first process, so an exec into it is a session only
 * once the recorder seeds its namespace from /proc (kt_ctr_scan).
 */
static int seed(uint32_t ino, const struct kt_ctr_ns *v, void *ctx)
{
	int err = kt_loader_ctr_ns_seed(ctx, ino, v);

	return err == -EEXIST ? 0 : err;
}

static void t_older_container_seeded(void)
{
	int pfd[2], st, n;
	pid_t h, leader;
	struct kt_fx_buf got = {0};
	struct sess *x;

	if (!L || old_ctr <= 0 || pipe(pfd))
		{ CHECK(!"setup"); return; }
	h = setns_exec(old_ctr, false, -1, pfd[1], "echo unseeded", true, &leader);
	close(pfd[1]);
	pump(pfd[0], &got, NULL, NULL);
	close(pfd[0]);
	waitpid(h, &st, 0);
	settle(L);
	CHECK_EQ_INT(count(leader, false), 0); /* the documented limit */

	n = kt_ctr_scan(NULL, seed, L);
	CHECK(n >= 1);
	if (pipe(pfd))
		return;
	h = setns_exec(old_ctr, false, -1, pfd[1], "echo seeded", true, &leader);
	close(pfd[1]);
	pump(pfd[0], &got, NULL, NULL);
	close(pfd[0]);
	waitpid(h, &st, 0);
	settle(L);
	x = find(leader, false);
	CHECK(x != NULL);
	if (x) {
		CHECK_EQ_INT(x->s.entry, KT_ENTRY_MNTNS);
		CHECK_EQ_INT(x->s.ctr_tgid, old_ctr);
	}
	printf("# seeded %d container mount namespaces from /proc\n", n);
	free(got.p);
}

/*
 * Recording started late: a session that entered a container before the
 * programs loaded is found by the start-up task iterator (bpf/late.bpf.h,
 * the same rule), flagged KT_ENTRY_LATE, and what it shows afterwards is
 * recorded exactly.  The containers' own processes and the helper that
 * joined the namespaces (and waits, like nsenter) are not sessions.
 */
static pid_t late_ctr = -1, late_h = -1, late_leader = -1;
static int late_master = -1;

static void late_begin(void)
{
	int slave;

	late_ctr = ctr_start(true, -1, LOOP);
	if (late_ctr <= 0 || openpty(&late_master, &slave, NULL, NULL, NULL))
		return;
	late_h = setns_exec(late_ctr, true, slave, -1, "read x; echo got-$x; exit 9", true,
			    &late_leader);
	close(slave);
}

static void t_late_start(void)
{
	struct kt_fx_buf got = {0};
	int n, late = 0, st;
	struct sess *x;

	if (!L || late_h <= 0 || late_leader <= 0)
		{ CHECK(!"setup"); return; }
	n = kt_loader_find_running(L);
	CHECK(n >= 1);
	settle(L);
	x = find(late_leader, false);
	CHECK(x != NULL);
	CHECK(write(late_master, "late-input\n", 11) == 11);
	pump(late_master, &got, NULL, NULL);
	close(late_master);
	waitpid(late_h, &st, 0);
	settle(L);
	for (int i = 0; i < nS; i++)
		late += (S[i].s.entry & KT_ENTRY_LATE) != 0;
	printf("# late start: iterator found %d, %d late session(s) on this node\n", n, late);
	CHECK(memmem(got.p ?: "", got.len, "got-late-input", 14) != NULL);
	if (x) {
		CHECK_EQ_INT(x->s.entry, KT_ENTRY_PIDNS | KT_ENTRY_LATE);
		CHECK(x->s.leader_start_ns && x->s.leader_start_ns < x->s.start_ns);
		CHECK(x->s.tty.key != 0);
		check_bytes(x, &got);
		CHECK_EQ_INT(x->ends, 1);
		CHECK_EQ_INT(x->end_status, 9 << 8);
	}
	CHECK_EQ_INT(count(late_h, false) + count(late_ctr, false) + count(late_ctr, true), 0);
	CHECK_EQ_INT(count(hp_ctr, false) + count(pid_ctr, false) + count(old_ctr, false), 0);
	free(got.p);
}

int main(void)
{
	kt_log_init("test_entry", KT_LOG_WARN);
	if (geteuid() != 0) {
		printf("FAIL bpf_entry_selftest: needs root to load BPF programs and make namespaces\n");
		return 1;
	}
	snprintf(base, sizeof(base), "/tmp/kt-entry-XXXXXX");
	if (!mkdtemp(base)) {
		printf("FAIL bpf_entry_selftest: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	old_ctr = ctr_start(false, -1, LOOP); /* before the programs load */
	late_begin();
	RUN(t_load);
	RUN(t_hostpid_exec_tty);
	RUN(t_hostpid_exec_notty);
	RUN(t_nsenter_mnt);
	RUN(t_nsenter_all_pidns);
	RUN(t_interactive_hostpid);
	RUN(t_interactive_pidns);
	RUN(t_older_container_seeded);
	RUN(t_not_sessions);
	RUN(t_late_start);
	printf("# matrix: kernel=- backend=%s sessions=%d\n", L ? kt_loader_backend(L) : "-", nS);
	printf("# backend: %s\n", L ? kt_loader_backend(L) : "none");
	kt_loader_close(L);
	for (pid_t p, *c = (pid_t[]){ hp_ctr, pid_ctr, old_ctr, late_ctr, 0 }; *c; c++)
		if ((p = *c) > 0)
			kill(p, SIGKILL);
	while (wait(NULL) > 0)
		;
	for (int i = 0; i < nctr; i++) {
		char d[128];

		snprintf(d, sizeof(d), "%s/c%d", base, i);
		rmdir(d);
	}
	rmdir(base);
	for (int i = 0; i < nS; i++)
		free(S[i].out.p);
	return kt_test_done();
}
