// SPDX-License-Identifier: Apache-2.0
/* Attribution of podman and docker layouts (recorder/attrib_runtime.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kt_test.h"
#include "../../recorder/attrib.h"
#include "log.h"

#define CID "4f1c2a9b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170615e4d3"
#define UID "1b4e28ba-2fa1-11d2-883f-0016d3cca427"

static void t_cgroup_podman(void)
{
	struct kt_cgroup_ids ids;

	CHECK_EQ_INT(kt_cgroup_parse("/kubepods/besteffort/pod" UID "/libpod-" CID, &ids), 0);
	CHECK_EQ_STR(ids.container_id, CID);
	CHECK_EQ_STR(ids.pod_uid, UID);
	CHECK_EQ_INT(ids.runtime, KT_RT_PODMAN);
	CHECK_EQ_INT(kt_cgroup_parse("/libpod_parent/libpod-" CID, &ids), 0);
	CHECK_EQ_INT(ids.runtime, KT_RT_PODMAN);
	/* conmon's cgroup and non-hex ids are no container */
	CHECK_EQ_INT(kt_cgroup_parse("/libpod_parent/conmon", &ids), -ENOENT);
	CHECK_EQ_INT(kt_cgroup_parse("/libpod_parent/libpod-xyz", &ids), -ENOENT);
	CHECK_EQ_INT(kt_cgroup_parse("/libpod_parent/libpod-", &ids), -ENOENT);
	CHECK_EQ_STR(kt_runtime_name(KT_RT_PODMAN), "podman");
}

static int parse(const char *json, struct kt_pod_meta *m)
{
	return kt_docker_config_parse(json, strlen(json), m);
}

static void t_docker_config(void)
{
	struct kt_pod_meta m;

	CHECK_EQ_INT(parse("{\"Name\":\"/app\",\"Config\":{\"Labels\":{}}}", &m), 0);
	CHECK_EQ_STR(m.container, "app");
	CHECK_EQ_STR(m.pod, "");
	CHECK_EQ_INT(m.runtime, KT_RT_DOCKER);
	CHECK_EQ_INT(m.type, KT_CT_CONTAINER);

	/* cri-dockerd: the pod from the labels, the spec's container name */
	CHECK_EQ_INT(parse("{\"Name\":\"/k8s_app_web_shop_" UID "_0\",\"Config\":{\"Labels\":{"
			   "\"io.kubernetes.pod.name\":\"web\",\"io.kubernetes.pod.namespace\":\"shop\","
			   "\"io.kubernetes.pod.uid\":\"" UID "\",\"io.kubernetes.container.name\":\"app\","
			   "\"io.kubernetes.docker.type\":\"container\"}}}", &m), 0);
	CHECK_EQ_STR(m.pod, "web");
	CHECK_EQ_STR(m.k8s_namespace, "shop");
	CHECK_EQ_STR(m.pod_uid, UID);
	CHECK_EQ_STR(m.container, "app");
	CHECK_EQ_INT(parse("{\"Name\":\"/k8s_POD\",\"Config\":{\"Labels\":{"
			   "\"io.kubernetes.pod.name\":\"web\",\"io.kubernetes.docker.type\":\"podsandbox\"}}}", &m), 0);
	CHECK_EQ_INT(m.type, KT_CT_SANDBOX);
	CHECK_EQ_STR(m.container, "");

	/* hostile or broken records */
	CHECK_EQ_INT(parse("{\"Name\":\"/a\\u001b[31m\"}", &m), 0);
	CHECK_EQ_STR(m.container, "a?[31m");
	CHECK_EQ_INT(parse("{}", &m), -ENOENT);
	CHECK_EQ_INT(parse("{\"Name\":7}", &m), -ENOENT);
	CHECK_EQ_INT(parse("[1]", &m), -EBADMSG);
	CHECK_EQ_INT(parse("{\"Name\":", &m), -EBADMSG);
	CHECK_EQ_INT(kt_docker_config_parse(NULL, 0, &m), -EINVAL);
	CHECK_EQ_INT(kt_docker_config_parse("{}", KT_OCI_MAX_SIZE + 1, &m), -EFBIG);
}

static char tmp[] = "/tmp/kt-attrib-rt.XXXXXX";

static void put(const char *rel, const char *data)
{
	char path[512], cmd[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	CHECK(system(cmd) == 0);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(data, f);
		fclose(f);
	}
}

static void sess(struct kt_session_info *s, const char *cg)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->cgroup_path, sizeof(s->cgroup_path), "%s", cg);
	snprintf(s->hostname, sizeof(s->hostname), "%.12s", CID);
}

static void t_sessions(void)
{
	struct kt_attrib_config c;
	struct kt_session_info s;
	char storage[300], docker[300];

	CHECK(mkdtemp(tmp) != NULL);
	snprintf(storage, sizeof(storage), "%s/storage", tmp);
	snprintf(docker, sizeof(docker), "%s/docker", tmp);
	kt_attrib_config_defaults(&c);
	c.crio_roots[0] = storage;
	c.n_crio = 1;
	c.docker_roots[0] = docker;
	c.containerd_roots[0] = tmp;
	c.node_name = "node1";

	/* podman: CRI-O annotations in the graph root's bundle */
	put("storage/overlay-containers/" CID "/userdata/config.json",
	    "{\"annotations\":{\"io.kubernetes.pod.name\":\"web\",\"io.kubernetes.pod.namespace\":\"shop\","
	    "\"io.kubernetes.pod.uid\":\"" UID "\",\"io.kubernetes.container.name\":\"app\","
	    "\"io.kubernetes.cri-o.ContainerType\":\"container\"}}");
	sess(&s, "/kubepods/besteffort/pod" UID "/libpod-" CID);
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	CHECK_EQ_STR(s.pod, "web");
	CHECK_EQ_STR(s.container, "app");
	CHECK_EQ_STR(s.runtime, "podman");
	CHECK(!s.attribution_guess);

	/* docker, no pod: the container's name, no hostname guess */
	char rm[600];
	snprintf(rm, sizeof(rm), "rm -rf '%s'", storage);
	CHECK(system(rm) == 0);
	put("docker/containers/" CID "/config.v2.json", "{\"Name\":\"/app\",\"Config\":{}}");
	sess(&s, "/docker/" CID);
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	CHECK_EQ_STR(s.container, "app");
	CHECK_EQ_STR(s.container_id, CID);
	CHECK_EQ_STR(s.runtime, "docker");
	CHECK_EQ_STR(s.pod, "");
	CHECK(!s.attribution_guess);

	/* docker record malformed: falls back to the guess, flagged */
	put("docker/containers/" CID "/config.v2.json", "{\"Name\":");
	sess(&s, "/docker/" CID);
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	CHECK_EQ_STR(s.container, "");
	CHECK_EQ_STR(s.pod, s.hostname); /* the uts hostname, marked as a guess */
	CHECK(s.attribution_guess);

	/* cri-dockerd labels under the systemd driver's scope name */
	put("docker/containers/" CID "/config.v2.json",
	    "{\"Name\":\"/k8s_app\",\"Config\":{\"Labels\":{\"io.kubernetes.pod.name\":\"web\","
	    "\"io.kubernetes.pod.namespace\":\"shop\",\"io.kubernetes.container.name\":\"app\"}}}");
	sess(&s, "/system.slice/docker-" CID ".scope");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	CHECK_EQ_STR(s.pod, "web");
	CHECK_EQ_STR(s.k8s_namespace, "shop");
	CHECK_EQ_STR(s.container, "app");
	CHECK_EQ_STR(s.runtime, "docker");
	CHECK(!s.attribution_guess);

	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	kt_log_init("test_attrib_runtime", getenv("KT_TEST_DEBUG") ? KT_LOG_DEBUG : KT_LOG_ERROR);
	RUN(t_cgroup_podman);
	RUN(t_docker_config);
	RUN(t_sessions);
	return kt_test_done();
}
