// SPDX-License-Identifier: Apache-2.0
/*
 * How a session's leader got in (recorder/attrib_ns.c): entry flags from
 * the kernel's KT_ENTRY_* bits, "entered from the node" and the fallbacks
 * when no container has the namespace.  Uses this machine's real /proc; the
 * namespace matching against real containers is covered end to end by
 * tests/e2e/entry_pod_test.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kt_test.h"
#include "../../recorder/attrib.h"
#include "events.h"
#include "log.h"

#define CID "4f1c2a9b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3"
#define UID "1b4e28ba-2fa1-11d2-883f-0016d3cca427"

static struct kt_attrib_config cfg;

static void session(struct kt_session_info *s, const char *cgpath, const char *hostname)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->cgroup_path, sizeof(s->cgroup_path), "%s", cgpath);
	snprintf(s->hostname, sizeof(s->hostname), "%s", hostname);
	s->mntns_ino = 1; /* no process has mount namespace inode 1 */
	s->leader_pid = 1;
}

static void t_proc_cgroup(void)
{
	char p[1024];

	CHECK_EQ_INT(kt_proc_cgroup_path(NULL, (uint32_t)getpid(), p, sizeof(p)), 0);
	CHECK(p[0] == '/');
	CHECK_EQ_INT(kt_proc_cgroup_path(NULL, (uint32_t)getpid(), p, 1), -ENAMETOOLONG);
	CHECK_EQ_INT(kt_proc_cgroup_path("/nonexistent", 1, p, sizeof(p)), -ENOENT);
}

/* runc exec: the leader is in the container's cgroup, nothing to mark */
static void t_runtime_exec(void)
{
	struct kt_session_info s;

	session(&s, "/kubepods/besteffort/pod" UID "/" CID, "web-1");
	CHECK_EQ_INT(kt_attribute_entry(&cfg, &s, KT_ENTRY_PIDNS, 0, 0), 0);
	CHECK_EQ_INT(s.entry_flags, 0);
	CHECK_EQ_STR(s.container_id, CID);
	session(&s, "/kubepods/besteffort/pod" UID "/" CID, "web-1");
	s.cgroup_id = 77;
	CHECK_EQ_INT(kt_attribute_entry(&cfg, &s, KT_ENTRY_MNTNS, 1234, 77), 0);
	CHECK_EQ_INT(s.entry_flags, KT_SESSION_F_HOST_PID);
}

static void t_interactive(void)
{
	struct kt_session_info s;

	session(&s, "/kubepods/besteffort/pod" UID "/" CID, "web-1");
	CHECK_EQ_INT(kt_attribute_entry(&cfg, &s, KT_ENTRY_MNTNS | KT_ENTRY_INTERACTIVE, 0, 0), 0);
	CHECK_EQ_INT(s.entry_flags, KT_SESSION_F_INTERACTIVE | KT_SESSION_F_HOST_PID);
}

/* From a host cgroup into a namespace no visible container has: marked,
 * pod guessed from the uts hostname it entered, never the node's name. */
static void t_from_node_unknown(void)
{
	struct kt_session_info s;
	char host[256] = "";

	session(&s, "/user.slice/user-0.slice/session-1.scope", "web-2");
	CHECK_EQ_INT(kt_attribute_entry(&cfg, &s, KT_ENTRY_PIDNS, 0, 0), 0);
	CHECK_EQ_INT(s.entry_flags, KT_SESSION_F_FROM_NODE);
	CHECK_EQ_STR(s.pod, "web-2");
	CHECK(s.attribution_guess);
	CHECK_EQ_STR(s.container, "");

	gethostname(host, sizeof(host) - 1);
	session(&s, "/user.slice", host);
	CHECK_EQ_INT(kt_attribute_entry(&cfg, &s, KT_ENTRY_MNTNS, 0, 0), 0);
	CHECK_EQ_INT(s.entry_flags, KT_SESSION_F_FROM_NODE | KT_SESSION_F_HOST_PID);
	CHECK_EQ_STR(s.pod, "");
	CHECK(!s.attribution_guess);
	CHECK_EQ_INT(kt_attribute_entry(&cfg, NULL, 0, 0, 0), -EINVAL);
}

int main(void)
{
	kt_log_init("test_attrib_ns", KT_LOG_ERROR);
	kt_attrib_config_defaults(&cfg);
	cfg.containerd_roots[0] = "/nonexistent";
	cfg.crio_roots[0] = "/nonexistent";
	cfg.node_name = "node-x";
	RUN(t_proc_cgroup);
	RUN(t_runtime_exec);
	RUN(t_interactive);
	RUN(t_from_node_unknown);
	return kt_test_done();
}
