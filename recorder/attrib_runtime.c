// SPDX-License-Identifier: Apache-2.0
/*
 * Attribution for runtime layouts beyond containerd's CRI plugin and CRI-O
 * proper (kept apart from attrib.c, which owns the cgroup and OCI parsers):
 *
 *  - podman: with the cgroupfs manager a container's cgroup is
 *    <parent>/libpod-<cid>; its OCI bundle lives in the CRI-O layout
 *    (<storage>/overlay-containers/<cid>/userdata/config.json), but under
 *    the storage *graph* root (/var/lib/containers/storage), not the run
 *    root.  CRI-O writes config.json to both, podman to the graph root only.
 *  - docker: /docker/<cid> or docker-<cid>.scope.  Its OCI bundle carries
 *    no names; the daemon's own record <data-root>/containers/<cid>/
 *    config.v2.json has the container's "Name" and its labels.  Under
 *    cri-dockerd those labels are the io.kubernetes.pod.* / container.name
 *    keys, which give the pod; a plain `docker run` container has no pod.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "attrib.h"
#include "log.h"

enum kt_runtime_hint kt_cg_runtime_prefix(const char *s, size_t n, size_t *prefix_len)
{
	static const char libpod[] = "libpod-";

	if (n >= sizeof(libpod) - 1 && !memcmp(s, libpod, sizeof(libpod) - 1)) {
		*prefix_len = sizeof(libpod) - 1;
		return KT_RT_PODMAN;
	}
	*prefix_len = 0;
	return KT_RT_UNKNOWN;
}

int kt_docker_config_parse(const char *json, size_t len, struct kt_pod_meta *out)
{
	json_t *root, *labels;
	const char *name, *pod, *ns, *uid, *ctr, *type;
	int err;

	root = kt_attrib_json_object(json, len, out, &err);
	if (!root)
		return err;
	err = 0;
	out->runtime = KT_RT_DOCKER;
	name = json_string_value(json_object_get(root, "Name"));
	labels = json_object_get(json_object_get(root, "Config"), "Labels");
	pod = json_string_value(json_object_get(labels, "io.kubernetes.pod.name"));
	ns = json_string_value(json_object_get(labels, "io.kubernetes.pod.namespace"));
	uid = json_string_value(json_object_get(labels, "io.kubernetes.pod.uid"));
	ctr = json_string_value(json_object_get(labels, "io.kubernetes.container.name"));
	type = json_string_value(json_object_get(labels, "io.kubernetes.docker.type"));
	if (!name && !pod && !ctr) {
		err = -ENOENT;
		goto cleanup;
	}
	if (name && name[0] == '/')
		name++; /* docker keeps names as "/name" */
	kt_attrib_copy_clean(out->pod, sizeof(out->pod), pod);
	kt_attrib_copy_clean(out->k8s_namespace, sizeof(out->k8s_namespace), ns);
	kt_attrib_copy_clean(out->pod_uid, sizeof(out->pod_uid), uid);
	if (type && !strcmp(type, "podsandbox")) {
		out->type = KT_CT_SANDBOX;
	} else {
		out->type = KT_CT_CONTAINER;
		/* cri-dockerd's name is the pod spec's; else docker's own */
		kt_attrib_copy_clean(out->container, sizeof(out->container), ctr ? ctr : name);
	}
cleanup:
	json_decref(root);
	return err;
}

int kt_docker_meta_lookup(const struct kt_attrib_config *c, const char *cid,
			  struct kt_pod_meta *meta)
{
	const char *comps[3] = { "containers", cid, "config.v2.json" };
	int err = -ENOENT;

	if (!c || !kt_hex_id_valid(cid, KT_CID_MIN, KT_CID_MAX) || !meta)
		return -EINVAL;
	for (int i = 0; i < c->n_docker && i < KT_ATTRIB_MAX_ROOTS; i++) {
		char *buf = NULL;
		size_t len = 0;
		int rootfd, e;

		if (!c->docker_roots[i])
			continue;
		rootfd = open(c->docker_roots[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			continue;
		e = kt_attrib_read_nofollow(rootfd, comps, 3, &buf, &len);
		close(rootfd);
		if (e == -ENOENT || e == -ENOTDIR)
			continue;
		if (e) {
			pr_warn("attrib: %s/containers/%.12s/config.v2.json: %s, ignored",
				c->docker_roots[i], cid, strerror(-e));
			err = -ENODATA;
			continue;
		}
		e = kt_docker_config_parse(buf, len, meta);
		free(buf);
		if (!e)
			return 0;
		pr_warn("attrib: %s/containers/%.12s/config.v2.json: %s, ignored",
			c->docker_roots[i], cid, e == -EBADMSG ? "malformed JSON" : "no name");
		err = -ENODATA;
	}
	return err;
}
