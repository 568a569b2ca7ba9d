// SPDX-License-Identifier: Apache-2.0
/*
 * `kubetape audit import|follow|gaps` and `sessions --user` as a user runs
 * them, against real stores: sessions written through the store API, audit
 * events written here (audit.k8s.io/v1 Event lines).  The end-to-end test
 * (tests/e2e/audit_identity_test.sh) does the same on the real recorder;
 * this one needs no root and covers the follower's rotation cases one by
 * one: rename + new file while running and while stopped, truncation, a
 * partial last line, a malformed line, resuming without duplicates.
 */
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <sqlite3.h>
#include <unistd.h>

#include "kt_test.h"
#include "kt_fixture.h"
#include "audit.h"
#include "log.h"

static char tmpdir[64], g_bin[4096], g_err[128];

#define T0 1780000000000000LL

static void run(struct kt_fx_res *r, const char *fmt, ...)
{
	char cmd[16384], args[7000];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "'%s' %s", g_bin, args);
	kt_fx_run_sh(r, cmd, g_err);
}

/* one Event line: ResponseStarted of request `id` at T0 + off_us */
static void event_line(FILE *f, const char *id, int64_t off_us, const char *user, const char *cmdq)
{
	int64_t us = T0 + off_us;
	time_t s = (time_t)(us / 1000000);
	struct tm tm;
	char t[40];

	gmtime_r(&s, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\",\"auditID\":\"%s\","
		"\"stage\":\"ResponseStarted\",\"requestURI\":\"/api/v1/namespaces/default/pods/web-1/exec?%s&container=app\","
		"\"verb\":\"create\",\"user\":{\"username\":\"%s\",\"groups\":[\"ops\"]},\"sourceIPs\":[\"10.0.0.9\"],"
		"\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"default\",\"name\":\"web-1\",\"subresource\":\"exec\"},"
		"\"responseStatus\":{\"metadata\":{},\"code\":101},"
		"\"requestReceivedTimestamp\":\"%s.%06dZ\",\"stageTimestamp\":\"%s.%06dZ\"}\n",
		id, cmdq, user, t, (int)(us % 1000000), t, (int)(us % 1000000));
}

static void write_lines(const char *path, const char *mode, int from, int to)
{
	FILE *f = fopen(path, mode);
	char id[32];

	for (int i = from; i < to && f; i++) {
		snprintf(id, sizeof(id), "req-%d", i);
		event_line(f, id, (int64_t)i * 1000000, "u", "command=true");
	}
	if (f)
		fclose(f);
}

static int64_t count(const char *db)
{
	return kt_fx_sql_int(db, "SELECT count(*) FROM audit_requests");
}

static void t_import(void)
{
	char db[128], file[128];
	struct kt_fx_res r;
	FILE *f;

	snprintf(db, sizeof(db), "%s/import.db", tmpdir);
	snprintf(file, sizeof(file), "%s/import.jsonl", tmpdir);
	write_lines(file, "w", 0, 3);
	f = fopen(file, "a");
	fputs("{\"kind\":\"Event\",\"auditID\":7}\n", f);
	fclose(f);
	write_lines(file, "a", 3, 5);
	run(&r, "--db '%s' audit import '%s'", db, file);
	CHECK_EQ_INT(r.status, 1);
	CHECK(strstr(r.err, "import.jsonl:4: auditID missing") != NULL);
	CHECK(strstr(r.err, "5 exec/attach stages stored, 0 duplicates") != NULL);
	CHECK_EQ_INT(count(db), 5);
	kt_fx_res_free(&r);
	run(&r, "--db '%s' audit import - < '%s'", db, file);
	CHECK(strstr(r.err, "0 exec/attach stages stored, 5 duplicates") != NULL);
	kt_fx_res_free(&r);
	run(&r, "--db '%s' audit import '%s/nope'", db, tmpdir);
	CHECK_EQ_INT(r.status, 1);
	CHECK(strstr(r.err, "No such file") != NULL);
	kt_fx_res_free(&r);
	run(&r, "--db '%s' audit frobnicate", db);
	CHECK_EQ_INT(r.status, 2);
	kt_fx_res_free(&r);
}

static void t_follow_rotation(void)
{
	char db[128], log[128], rot[160], rot2[160];
	struct kt_fx_res r;
	FILE *f;

	snprintf(db, sizeof(db), "%s/follow.db", tmpdir);
	snprintf(log, sizeof(log), "%s/log/audit.log", tmpdir);
	snprintf(rot, sizeof(rot), "%s.1", log);
	snprintf(rot2, sizeof(rot2), "%s.2", log);
	{
		char d[128];

		snprintf(d, sizeof(d), "%s/log", tmpdir);
		mkdir(d, 0700);
	}
	/* 3 lines and half a fourth (the writer is mid-line) */
	write_lines(log, "w", 0, 3);
	f = fopen(log, "a");
	fputs("{\"kind\":\"Event\",\"auditID\":\"req-3\"", f);
	fclose(f);
	run(&r, "--db '%s' audit follow '%s' --once", db, log);
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_INT(count(db), 3);
	kt_fx_res_free(&r);
	/* the rest of line 4 and line 5, then rotated while stopped: the
	 * follower finishes the renamed file, then reads the new one */
	f = fopen(log, "a");
	fputs(",\"stage\":\"ResponseStarted\",\"verb\":\"create\",\"requestURI\":\"/api/v1/namespaces/default/pods/web-1/exec?command=true\","
	      "\"user\":{\"username\":\"u\"},\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"default\",\"name\":\"web-1\",\"subresource\":\"exec\"},"
	      "\"requestReceivedTimestamp\":\"2026-05-28T20:26:43Z\",\"stageTimestamp\":\"2026-05-28T20:26:43Z\"}\n", f);
	fclose(f);
	write_lines(log, "a", 4, 5);
	CHECK_EQ_INT(rename(log, rot), 0);
	write_lines(log, "w", 5, 7);
	run(&r, "--db '%s' audit follow '%s' --once", db, log);
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_INT(count(db), 7);
	CHECK(strstr(r.err, "0 duplicates") != NULL);
	kt_fx_res_free(&r);
	/* again: nothing new, nothing twice */
	run(&r, "--db '%s' audit follow '%s' --once", db, log);
	CHECK(strstr(r.err, "0 events") != NULL);
	kt_fx_res_free(&r);
	/* copytruncate: the file is emptied and rewritten from 0 */
	write_lines(log, "w", 7, 8);
	run(&r, "--db '%s' audit follow '%s' --once", db, log);
	CHECK_EQ_INT(count(db), 8);
	kt_fx_res_free(&r);
	/* rotated while stopped and the old file gone: warned, new file read */
	write_lines(log, "a", 8, 9);
	CHECK_EQ_INT(rename(log, rot2), 0);
	unlink(rot2);
	write_lines(log, "w", 9, 10);
	run(&r, "--db '%s' audit follow '%s' --once", db, log);
	CHECK(strstr(r.err, "the old file") != NULL);
	CHECK_EQ_INT(count(db), 9);
	kt_fx_res_free(&r);
}

static void t_follow_running(void)
{
	char db[128], log[128], rot[160], cmd[8192];
	pid_t pid;
	int st, i;

	snprintf(db, sizeof(db), "%s/run.db", tmpdir);
	snprintf(log, sizeof(log), "%s/run.log", tmpdir);
	snprintf(rot, sizeof(rot), "%s.1", log);
	write_lines(log, "w", 0, 2);
	snprintf(cmd, sizeof(cmd), "exec '%s' --db '%s' audit follow '%s' --poll-ms 20 2>/dev/null", g_bin, db, log);
	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200 && count(db) != 2; i++)
		usleep(20000);
	CHECK_EQ_INT(count(db), 2);
	write_lines(log, "a", 2, 3);
	CHECK_EQ_INT(rename(log, rot), 0);
	write_lines(log, "w", 3, 5);
	for (i = 0; i < 200 && count(db) != 5; i++)
		usleep(20000);
	CHECK_EQ_INT(count(db), 5);
	kill(pid, SIGTERM);
	CHECK_EQ_INT(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void t_gaps_and_user(void)
{
	char db[128], file[128];
	struct kt_store *st = NULL;
	struct kt_session_info s;
	struct kt_command c;
	struct kt_fx_res r;
	FILE *f;

	snprintf(db, sizeof(db), "%s/gaps.db", tmpdir);
	snprintf(file, sizeof(file), "%s/gaps.jsonl", tmpdir);
	CHECK_EQ_INT(kt_store_open(db, KT_STORE_CREATE, &st), 0);
	s = kt_fx_session("g-1", "default", "web-1", T0 + 300000);
	CHECK_EQ_INT(kt_store_session_create(st, &s), 0);
	c = kt_fx_cmd(s.id, s.start_us, 10, 1, ARGV("id"));
	CHECK_EQ_INT(kt_store_command_add(st, &c), 0);
	s = kt_fx_session("g-2", "default", "web-1", T0 + 4000000);
	CHECK_EQ_INT(kt_store_session_create(st, &s), 0);
	c = kt_fx_cmd(s.id, s.start_us, 11, 1, ARGV("nsenter"));
	CHECK_EQ_INT(kt_store_command_add(st, &c), 0);
	kt_store_close(st);
	f = fopen(file, "w");
	event_line(f, "joined", 0, "alice", "command=id");
	event_line(f, "ghost", 2000000, "eve", "command=vi&command=%2Fetc%2Fpasswd");
	fclose(f);
	run(&r, "--db '%s' audit import '%s'", db, file);
	CHECK_EQ_INT(r.status, 0);
	kt_fx_res_free(&r);
	run(&r, "--db '%s' audit gaps", db);
	CHECK_EQ_INT(r.status, 0);
	CHECK(strstr(r.out, "Exec requests with no recorded session: 1") != NULL);
	CHECK(strstr(r.out, "vi /etc/passwd") != NULL && strstr(r.out, "ghost") != NULL);
	CHECK(strstr(r.out, "Sessions with no exec request: 1") != NULL);
	CHECK(strstr(r.out, "nsenter") != NULL);
	kt_fx_res_free(&r);
	run(&r, "--db '%s' sessions --user alice --json", db);
	CHECK(strstr(r.out, "\"uuid\":\"g-1\"") && !strstr(r.out, "\"uuid\":\"g-2\""));
	CHECK(strstr(r.out, "\"tier\":\"matched\"") != NULL);
	kt_fx_res_free(&r);
	run(&r, "--db '%s' sessions --user nobody", db);
	CHECK(strstr(r.err, "no sessions match") != NULL);
	kt_fx_res_free(&r);
	run(&r, "--db '%s' audit gaps --window abc", db);
	CHECK_EQ_INT(r.status, 2);
	kt_fx_res_free(&r);
}

int main(int argc, char **argv)
{
	kt_log_init(NULL, KT_LOG_ERROR);
	if (kt_fx_find_bin(argc, argv, "kubetape", g_bin, sizeof(g_bin)) ||
	    kt_fx_mkdtemp(tmpdir, sizeof(tmpdir), "test_audit_cli"))
		return 1;
	snprintf(g_err, sizeof(g_err), "%s/err", tmpdir);
	RUN(t_import);
	RUN(t_follow_rotation);
	RUN(t_follow_running);
	RUN(t_gaps_and_user);
	kt_fx_rm_dir(tmpdir);
	return kt_test_done();
}
