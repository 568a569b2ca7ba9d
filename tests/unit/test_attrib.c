// SPDX-License-Identifier: Apache-2.0
/* Attribution: cgroup path shapes, OCI annotations, runtime state lookup. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kt_test.h"
#include "../../recorder/attrib.h"
#include "log.h"

#define CID  "4f1c2a9b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170615e4d3"
#define CID2 "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
#define SBID "9f8e7d6c5b4a39281706f5e4d3c2b1a04f1c2a9b8e7d6c5b4a39281706f5e4d3"
#define UID  "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
#define UIDU "1b4e28ba_2fa1_11d2_883f_0016d3cca427"
#define UID2 "7d3c1e5a-0b9f-4c2d-8e6a-5f4b3a291807"

/* ------------------------------------------------------------ cgroup */

static const struct cg_case {
	const char *path;
	int rc;
	const char *cid, *uid;
	enum kt_runtime_hint rt;
} cg_cases[] = {
	/* cgroupfs driver: besteffort, burstable, guaranteed */
	{ "/kubepods/besteffort/pod" UID "/" CID, 0, CID, UID, KT_RT_UNKNOWN },
	{ "/kubepods/burstable/pod" UID "/" CID, 0, CID, UID, KT_RT_UNKNOWN },
	{ "/kubepods/pod" UID "/" CID, 0, CID, UID, KT_RT_UNKNOWN },
	{ "/kubepods/besteffort/pod" UID "/crio-" CID, 0, CID, UID, KT_RT_CRIO },
	/* static pod: uid is a 32-hex config hash */
	{ "/kubepods/burstable/pod0123456789abcdef0123456789abcdef/" CID, 0, CID,
	  "0123456789abcdef0123456789abcdef", KT_RT_UNKNOWN },
	/* systemd driver */
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU
	  ".slice/cri-containerd-" CID ".scope", 0, CID, UID, KT_RT_CONTAINERD },
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU
	  ".slice/cri-containerd-" CID ".scope", 0, CID, UID, KT_RT_CONTAINERD },
	{ "/kubepods.slice/kubepods-pod" UIDU ".slice/cri-containerd-" CID ".scope",
	  0, CID, UID, KT_RT_CONTAINERD },
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU
	  ".slice/crio-" CID ".scope", 0, CID, UID, KT_RT_CRIO },
	{ "/kubepods.slice/kubepods-pod" UIDU ".slice/crio-" CID ".scope",
	  0, CID, UID, KT_RT_CRIO },
	/* crun's sub-cgroup under the scope */
	{ "/kubepods.slice/kubepods-pod" UIDU ".slice/crio-" CID ".scope/container",
	  0, CID, UID, KT_RT_CRIO },
	/* kind / kubelet with a cgroup root */
	{ "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
	  "kubelet-kubepods-besteffort-pod" UIDU ".slice/cri-containerd-" CID ".scope",
	  0, CID, UID, KT_RT_CONTAINERD },
	/* containerd's systemd driver nested under its service */
	{ "/system.slice/containerd.service/kubepods-burstable-pod" UIDU
	  ".slice:cri-containerd:" CID, 0, CID, UID, KT_RT_CONTAINERD },
	{ "/system.slice/crio.service/kubepods-pod" UIDU ".slice:crio:" CID,
	  0, CID, UID, KT_RT_CRIO },
	/* docker */
	{ "/system.slice/docker-" CID ".scope", 0, CID, "", KT_RT_DOCKER },
	{ "/system.slice/docker-4f1c2a9b8e7d.scope", 0, "4f1c2a9b8e7d", "", KT_RT_DOCKER },
	{ "/docker/" CID, 0, CID, "", KT_RT_DOCKER },
	/* tolerated noise */
	{ "//kubepods//besteffort//pod" UID "//" CID "//", 0, CID, UID, KT_RT_UNKNOWN },
	{ "kubepods/pod" UID "/" CID, 0, CID, UID, KT_RT_UNKNOWN },
	/* nested (DinD): the outermost container is the pod's */
	{ "/kubepods/besteffort/pod" UID "/" CID "/docker/" CID2, 0, CID, UID, KT_RT_UNKNOWN },
	/* a malformed pod segment does not hide the container */
	{ "/kubepods/besteffort/pod1b4e28ba_2fa1-11d2-883f-0016d3cca427/" CID, 0, CID, "", KT_RT_UNKNOWN },
	/* no container */
	{ "/user.slice/user-1000.slice/session-3.scope", -ENOENT, "", "", 0 },
	{ "/system.slice/containerd.service", -ENOENT, "", "", 0 },
	{ "/", -ENOENT, "", "", 0 },
	{ "", -ENOENT, "", "", 0 },
	{ "/kubepods/besteffort/pod" UID, -ENOENT, "", UID, 0 },
	{ "/kubepods.slice/kubepods-pod" UIDU ".slice", -ENOENT, "", UID, 0 },
	{ "/system.slice/crio-conmon-" CID ".scope", -ENOENT, "", "", 0 },
	{ "/kubepods/besteffort/pod" UID "/../../etc/passwd", -ENOENT, "", UID, 0 },
	{ "/kubepods/besteffort/pod" UID "/4F1C2A9B8E7D6C5B4A39281706F5E4D3C2B1A09F8E7D6C5B4A3928170615E4D3",
	  -ENOENT, "", UID, 0 },
	{ "/kubepods/pod" UID "/" "4f1c2a9b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170615e4d",
	  -ENOENT, "", UID, 0 }, /* 63 */
	{ "/kubepods/pod" UID "/" CID "0", -ENOENT, "", UID, 0 }, /* 65 */
	{ "/a/4f1c2a9b8e7d", -ENOENT, "", "", 0 }, /* short bare hex is not an id */
	{ "/x/cri-containerd-" CID "x.scope", -ENOENT, "", "", 0 },
	{ "/x/cri-containerd-.scope", -ENOENT, "", "", 0 },
	{ "/x/slice:foo:" CID, -ENOENT, "", "", 0 },
	{ "/x/slice:cri-containerd", -ENOENT, "", "", 0 },
	{ "/x/:::", -ENOENT, "", "", 0 },
	{ "/kubepods/podXYZ/-pod.slice/.scope", -ENOENT, "", "", 0 },
};

static void t_cgroup_table(void)
{
	for (size_t i = 0; i < sizeof(cg_cases) / sizeof(cg_cases[0]); i++) {
		const struct cg_case *tc = &cg_cases[i];
		struct kt_cgroup_ids ids;
		int rc = kt_cgroup_parse(tc->path, &ids);

		if (rc != tc->rc || strcmp(ids.container_id, tc->cid) ||
		    strcmp(ids.pod_uid, tc->uid) || ids.runtime != tc->rt) {
			printf("  case %zu %s: rc %d cid '%s' uid '%s' rt %d\n", i, tc->path,
			       rc, ids.container_id, ids.pod_uid, ids.runtime);
			CHECK(!"cgroup case mismatch");
		}
	}
}

static void t_cgroup_args(void)
{
	struct kt_cgroup_ids ids;

	CHECK_EQ_INT(kt_cgroup_parse(NULL, &ids), -EINVAL);
	CHECK_EQ_INT(kt_cgroup_parse("/", NULL), -EINVAL);
	CHECK(kt_hex_id_valid(CID, KT_CID_MAX, KT_CID_MAX));
	CHECK(!kt_hex_id_valid("../" CID, KT_CID_MIN, KT_CID_MAX));
	CHECK(!kt_hex_id_valid(NULL, 1, 2));
	CHECK_EQ_STR(kt_runtime_name(KT_RT_CRIO), "cri-o");
	CHECK_EQ_STR(kt_runtime_name(KT_RT_UNKNOWN), "");
}

/* ------------------------------------------------------------ annotations */

static const char ctrd_container[] =
	"{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":[\"sleep\",\"1\"]},"
	"\"hostname\":\"\",\"annotations\":{"
	"\"io.kubernetes.cri.container-type\":\"container\","
	"\"io.kubernetes.cri.sandbox-id\":\"" SBID "\","
	"\"io.kubernetes.cri.sandbox-name\":\"probe-pod\","
	"\"io.kubernetes.cri.sandbox-namespace\":\"default\","
	"\"io.kubernetes.cri.sandbox-uid\":\"" UID "\","
	"\"io.kubernetes.cri.container-name\":\"app\","
	"\"io.kubernetes.cri.image-name\":\"docker.io/library/busybox:probe\"}}";

static const char ctrd_sandbox[] =
	"{\"ociVersion\":\"1.1.0\",\"hostname\":\"probe-pod\",\"annotations\":{"
	"\"io.kubernetes.cri.container-type\":\"sandbox\","
	"\"io.kubernetes.cri.sandbox-id\":\"" SBID "\","
	"\"io.kubernetes.cri.sandbox-name\":\"probe-pod\","
	"\"io.kubernetes.cri.sandbox-namespace\":\"default\","
	"\"io.kubernetes.cri.sandbox-uid\":\"" UID "\","
	"\"io.kubernetes.cri.sandbox-log-directory\":\"/var/log/pods/default_probe-pod_" UID "\"}}";

/* containerd before sandbox-name was put on containers: id only */
static const char ctrd_container_old[] =
	"{\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
	"\"io.kubernetes.cri.sandbox-id\":\"" SBID "\","
	"\"io.kubernetes.cri.container-name\":\"app\"}}";

static const char crio_container[] =
	"{\"ociVersion\":\"1.0.2-dev\",\"annotations\":{"
	"\"io.container.manager\":\"cri-o\","
	"\"io.kubernetes.cri-o.ContainerType\":\"container\","
	"\"io.kubernetes.cri-o.ContainerID\":\"" CID "\","
	"\"io.kubernetes.cri-o.ContainerName\":\"k8s_web_nginx-7d9_shop_" UID2 "_0\","
	"\"io.kubernetes.cri-o.SandboxID\":\"" SBID "\","
	"\"io.kubernetes.pod.name\":\"nginx-7d9\","
	"\"io.kubernetes.pod.namespace\":\"shop\","
	"\"io.kubernetes.pod.uid\":\"" UID2 "\","
	"\"io.kubernetes.container.name\":\"web\"}}";

static const char crio_sandbox[] =
	"{\"annotations\":{"
	"\"io.kubernetes.cri-o.ContainerType\":\"sandbox\","
	"\"io.kubernetes.cri-o.KubeName\":\"nginx-7d9\","
	"\"io.kubernetes.cri-o.Namespace\":\"shop\","
	"\"io.kubernetes.pod.uid\":\"" UID2 "\","
	"\"io.kubernetes.container.name\":\"POD\"}}";

static int parse_str(const char *json, struct kt_pod_meta *m)
{
	return kt_oci_annotations_parse(json, strlen(json), m);
}

static void t_ann_containerd(void)
{
	struct kt_pod_meta m;

	CHECK_EQ_INT(parse_str(ctrd_container, &m), 0);
	CHECK_EQ_STR(m.pod, "probe-pod");
	CHECK_EQ_STR(m.k8s_namespace, "default");
	CHECK_EQ_STR(m.pod_uid, UID);
	CHECK_EQ_STR(m.container, "app");
	CHECK_EQ_STR(m.sandbox_id, SBID);
	CHECK_EQ_INT(m.type, KT_CT_CONTAINER);
	CHECK_EQ_INT(m.runtime, KT_RT_CONTAINERD);

	CHECK_EQ_INT(parse_str(ctrd_sandbox, &m), 0);
	CHECK_EQ_STR(m.pod, "probe-pod");
	CHECK_EQ_STR(m.container, "");
	CHECK_EQ_INT(m.type, KT_CT_SANDBOX);
}

static void t_ann_crio(void)
{
	struct kt_pod_meta m;

	CHECK_EQ_INT(parse_str(crio_container, &m), 0);
	CHECK_EQ_STR(m.pod, "nginx-7d9");
	CHECK_EQ_STR(m.k8s_namespace, "shop");
	CHECK_EQ_STR(m.pod_uid, UID2);
	CHECK_EQ_STR(m.container, "web");
	CHECK_EQ_STR(m.sandbox_id, SBID);
	CHECK_EQ_INT(m.type, KT_CT_CONTAINER);
	CHECK_EQ_INT(m.runtime, KT_RT_CRIO);

	CHECK_EQ_INT(parse_str(crio_sandbox, &m), 0);
	CHECK_EQ_STR(m.pod, "nginx-7d9");
	CHECK_EQ_STR(m.k8s_namespace, "shop");
	CHECK_EQ_STR(m.container, ""); /* not "POD" */
	CHECK_EQ_INT(m.type, KT_CT_SANDBOX);
}

static void t_ann_bad(void)
{
	struct kt_pod_meta m;

	CHECK_EQ_INT(parse_str("{\"ociVersion\":\"1.0\"}", &m), -ENOENT);
	CHECK_EQ_INT(parse_str("{\"annotations\":{}}", &m), -ENOENT);
	CHECK_EQ_INT(parse_str("{\"annotations\":[1,2]}", &m), -ENOENT);
	CHECK_EQ_INT(parse_str("{\"annotations\":{\"org.opencontainers.image.title\":\"x\"}}", &m), -ENOENT);
	CHECK_EQ_INT(parse_str("{\"annotations\":{\"io.kubernetes.cri.sandbox-name\":", &m), -EBADMSG);
	CHECK_EQ_INT(parse_str("", &m), -EBADMSG);
	CHECK_EQ_INT(parse_str("[]", &m), -EBADMSG);
	CHECK_EQ_INT(parse_str("\"annotations\"", &m), -EBADMSG);
	CHECK_EQ_INT(parse_str("{} trailing", &m), -EBADMSG);
	CHECK_EQ_INT(parse_str("{\"annotations\":{\"io.kubernetes.cri.sandbox-name\":\"a\\u0000b\"}}", &m), -EBADMSG);
	CHECK_EQ_INT(kt_oci_annotations_parse("{}", KT_OCI_MAX_SIZE + 1, &m), -EFBIG);
	CHECK_EQ_INT(kt_oci_annotations_parse(NULL, 0, &m), -EINVAL);
	CHECK_EQ_INT(kt_oci_annotations_parse("{}", 2, NULL), -EINVAL);

	/* non-string values are ignored, the rest is kept */
	CHECK_EQ_INT(parse_str("{\"annotations\":{\"io.kubernetes.cri.sandbox-name\":42,"
			       "\"io.kubernetes.cri.sandbox-namespace\":\"ns\","
			       "\"io.kubernetes.cri.sandbox-id\":\"../../etc\"}}", &m), 0);
	CHECK_EQ_STR(m.pod, "");
	CHECK_EQ_STR(m.k8s_namespace, "ns");
	CHECK_EQ_STR(m.sandbox_id, ""); /* not hex: never used in a path */
	CHECK_EQ_INT(m.type, KT_CT_UNKNOWN);
}

static void t_ann_unterminated(void)
{
	/* the parser honours len; the buffer need not be NUL-terminated */
	size_t n = strlen(ctrd_container);
	char *b = malloc(n);
	struct kt_pod_meta m;

	CHECK(b);
	if (!b)
		return;
	memcpy(b, ctrd_container, n);
	CHECK_EQ_INT(kt_oci_annotations_parse(b, n, &m), 0);
	CHECK_EQ_STR(m.container, "app");
	CHECK_EQ_INT(kt_oci_annotations_parse(b, n - 1, &m), -EBADMSG);
	free(b);
}

static void t_ann_clean_and_clip(void)
{
	char json[2048], big[400];
	struct kt_pod_meta m;

	CHECK_EQ_INT(parse_str("{\"annotations\":{\"io.kubernetes.cri.sandbox-name\":"
			       "\"evil\\u001b[2J\\npod\\u007f\"}}", &m), 0);
	CHECK_EQ_STR(m.pod, "evil?[2J?pod?");

	memset(big, 'a', 300);
	big[300] = '\0';
	snprintf(json, sizeof(json), "{\"annotations\":{\"io.kubernetes.cri.sandbox-name\":\"%s\"}}", big);
	CHECK_EQ_INT(parse_str(json, &m), 0);
	CHECK_EQ_INT(strlen(m.pod), KT_STR_LONG - 1);

	/* 254 'a' + "é" (2 bytes) does not fit in 255: cut before the é */
	memset(big, 'a', 254);
	strcpy(big + 254, "\xc3\xa9");
	snprintf(json, sizeof(json), "{\"annotations\":{\"io.kubernetes.cri.sandbox-name\":\"%s\"}}", big);
	CHECK_EQ_INT(parse_str(json, &m), 0);
	CHECK_EQ_INT(strlen(m.pod), 254);

	/* the uid field is short: clipped, not overflowed */
	memset(big, 'b', 200);
	big[200] = '\0';
	snprintf(json, sizeof(json), "{\"annotations\":{\"io.kubernetes.pod.uid\":\"%s\"}}", big);
	CHECK_EQ_INT(parse_str(json, &m), 0);
	CHECK_EQ_INT(strlen(m.pod_uid), KT_STR_SHORT - 1);
	CHECK_EQ_INT(m.runtime, KT_RT_CRIO);
}

/* ------------------------------------------------------------ state trees */

static char tmpdir[256];

__attribute__((format(printf, 1, 2)))
static void mkdir_p(const char *fmt, ...)
{
	char path[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

static int write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(data, f);
	return fclose(f) ? -errno : 0;
}

static char ctrd_root[512], crio_root[512];

/* containerd bundle: <root>/io.containerd.runtime.v2.task/<ns>/<cid>/config.json */
static void put_ctrd(const char *ns, const char *cid, const char *json)
{
	char p[1024];

	mkdir_p("%s/io.containerd.runtime.v2.task/%s/%s", ctrd_root, ns, cid);
	snprintf(p, sizeof(p), "%s/io.containerd.runtime.v2.task/%s/%s/config.json", ctrd_root, ns, cid);
	CHECK_EQ_INT(write_file(p, json), 0);
}

static void put_crio(const char *cid, const char *json)
{
	char p[1024];

	mkdir_p("%s/overlay-containers/%s/userdata", crio_root, cid);
	snprintf(p, sizeof(p), "%s/overlay-containers/%s/userdata/config.json", crio_root, cid);
	CHECK_EQ_INT(write_file(p, json), 0);
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(p);
}

static void tree_reset(void)
{
	if (tmpdir[0])
		nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/kt-attrib-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(ctrd_root, sizeof(ctrd_root), "%s/containerd", tmpdir);
	snprintf(crio_root, sizeof(crio_root), "%s/crio", tmpdir);
	mkdir_p("%s", ctrd_root);
	mkdir_p("%s", crio_root);
}

static void cfg_init(struct kt_attrib_config *c)
{
	kt_attrib_config_defaults(c);
	c->containerd_roots[0] = ctrd_root;
	c->crio_roots[0] = crio_root;
	c->node_name = "node-1";
}

static void sess_init(struct kt_session_info *s, const char *cg, const char *host)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->cgroup_path, sizeof(s->cgroup_path), "%s", cg);
	snprintf(s->hostname, sizeof(s->hostname), "%s", host);
	/* stale values must be overwritten */
	strcpy(s->pod, "stale");
	strcpy(s->container, "stale");
	s->attribution_guess = true;
}

#define CG_FS "/kubepods/besteffort/pod" UID "/" CID
#define CG_CRIO "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU ".slice/crio-" CID ".scope"

static void t_sess_containerd(void)
{
	struct kt_attrib_config c;
	struct kt_session_info s;

	tree_reset();
	cfg_init(&c);
	put_ctrd("k8s.io", CID, ctrd_container);
	put_ctrd("k8s.io", SBID, ctrd_sandbox);
	sess_init(&s, CG_FS, "probe-pod");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	CHECK_EQ_STR(s.node, "node-1");
	CHECK_EQ_STR(s.k8s_namespace, "default");
	CHECK_EQ_STR(s.pod, "probe-pod");
	CHECK_EQ_STR(s.pod_uid, UID);
	CHECK_EQ_STR(s.container, "app");
	CHECK_EQ_STR(s.container_id, CID);
	CHECK_EQ_STR(s.runtime, "containerd");
	CHECK(!s.attribution_guess);
}

static void t_sess_containerd_other_ns(void)
{
	struct kt_attrib_config c;
	struct kt_session_info s;

	tree_reset();
	cfg_init(&c);
	mkdir_p("%s/io.containerd.runtime.v2.task/k8s.io", ctrd_root);
	mkdir_p("%s/io.containerd.runtime.v2.task/moby", ctrd_root);
	put_ctrd("custom", CID, ctrd_container);
	/* a second root listed first that does not exist is skipped */
	c.containerd_roots[0] = "/nonexistent/kubetape";
	c.containerd_roots[1] = ctrd_root;
	c.n_containerd = 2;
	sess_init(&s, "/system.slice/containerd.service/kubepods-besteffort-pod" UIDU
		  ".slice:cri-containerd:" CID, "probe-pod");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	CHECK_EQ_STR(s.pod, "probe-pod");
	CHECK_EQ_STR(s.container, "app");
	CHECK_EQ_STR(s.runtime, "containerd");
	CHECK(!s.attribution_guess);
}

static void t_sess_crio(void)
{
	struct kt_attrib_config c;
	struct kt_session_info s;

	tree_reset();
	cfg_init(&c);
	put_crio(CID, crio_container);
	sess_init(&s, CG_CRIO, "nginx-7d9");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	CHECK_EQ_STR(s.k8s_namespace, "shop");
	CHECK_EQ_STR(s.pod, "nginx-7d9");
	CHECK_EQ_STR(s.pod_uid, UID2); /* the bundle's, over the cgroup's UID */
	CHECK_EQ_STR(s.container, "web");
	CHECK_EQ_STR(s.container_id, CID);
	CHECK_EQ_STR(s.runtime, "cri-o");
	CHECK(!s.attribution_guess);

	/* a bare cgroupfs id is found in CRI-O state too */
	sess_init(&s, CG_FS, "nginx-7d9");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	CHECK_EQ_STR(s.container, "web");
	CHECK_EQ_STR(s.runtime, "cri-o");
}

static void t_sess_sandbox_entry(void)
{
	struct kt_attrib_config c;
	struct kt_session_info s;

	tree_reset();
	cfg_init(&c);
	put_ctrd("k8s.io", SBID, ctrd_sandbox);
	sess_init(&s, "/kubepods/besteffort/pod" UID "/" SBID, "probe-pod");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	CHECK_EQ_STR(s.pod, "probe-pod");
	CHECK_EQ_STR(s.k8s_namespace, "default");
	CHECK_EQ_STR(s.container, "");
	CHECK_EQ_STR(s.container_id, SBID);
	CHECK(!s.attribution_guess);
}

static void t_sess_sandbox_id_only(void)
{
	struct kt_attrib_config c;
	struct kt_session_info s;

	tree_reset();
	cfg_init(&c);
	put_ctrd("k8s.io", CID, ctrd_container_old);
	put_ctrd("k8s.io", SBID, ctrd_sandbox);
	sess_init(&s, CG_FS, "probe-pod");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	CHECK_EQ_STR(s.pod, "probe-pod");
	CHECK_EQ_STR(s.k8s_namespace, "default");
	CHECK_EQ_STR(s.pod_uid, UID);
	CHECK_EQ_STR(s.container, "app");
	CHECK(!s.attribution_guess);
}

static void check_guess(const struct kt_session_info *s, const char *runtime)
{
	CHECK_EQ_STR(s->pod, "probe-pod");
	CHECK(s->attribution_guess);
	CHECK_EQ_STR(s->k8s_namespace, "");
	CHECK_EQ_STR(s->container, "");
	CHECK_EQ_STR(s->container_id, CID);
	CHECK_EQ_STR(s->pod_uid, UID);
	CHECK_EQ_STR(s->runtime, runtime);
}

static void t_sess_guess(void)
{
	struct kt_attrib_config c;
	struct kt_session_info s;

	tree_reset();
	cfg_init(&c);
	sess_init(&s, CG_FS, "probe-pod");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	check_guess(&s, "");

	/* runtime hint from the cgroup name survives */
	sess_init(&s, CG_CRIO, "probe-pod");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	check_guess(&s, "cri-o");

	/* a bundle without k8s annotations: runtime known, pod guessed */
	put_ctrd("default", CID, "{\"ociVersion\":\"1.1.0\",\"annotations\":{}}");
	sess_init(&s, CG_FS, "probe-pod");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	check_guess(&s, "containerd");

	/* no cgroup captured: hostname still used unless it is the node's */
	sess_init(&s, "", "probe-pod");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	CHECK_EQ_STR(s.pod, "probe-pod");
	CHECK(s.attribution_guess);
}

static void t_sess_host(void)
{
	struct kt_attrib_config c;
	struct kt_session_info s;

	tree_reset();
	cfg_init(&c);
	/* a host session: no pod, whatever the hostname */
	sess_init(&s, "/user.slice/user-0.slice/session-1.scope", "node-1");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	CHECK_EQ_STR(s.pod, "");
	CHECK(!s.attribution_guess);
	CHECK_EQ_STR(s.container_id, "");
	sess_init(&s, "/user.slice/user-0.slice/session-1.scope", "other-name");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	CHECK_EQ_STR(s.pod, "");
	sess_init(&s, "", "node-1");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	CHECK_EQ_STR(s.pod, "");

	/* hostNetwork pod: in a container, but its hostname is the node's */
	sess_init(&s, CG_FS, "node-1");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	CHECK_EQ_STR(s.pod, "");
	CHECK(!s.attribution_guess);
	CHECK_EQ_STR(s.container_id, CID);

	/* and the same with our own hostname when NODE_NAME is something else */
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	sess_init(&s, CG_FS, host);
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	CHECK_EQ_STR(s.pod, "");
}

static void t_sess_bad_bundles(void)
{
	struct kt_attrib_config c;
	struct kt_session_info s;
	char p[1024], t[1024];

	tree_reset();
	cfg_init(&c);

	/* malformed JSON */
	put_ctrd("k8s.io", CID, "{\"annotations\":{\"io.kubernetes.cri.sandbox-name\":\"x\"");
	sess_init(&s, CG_FS, "probe-pod");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	check_guess(&s, "");

	/* oversized (sparse) file */
	snprintf(p, sizeof(p), "%s/io.containerd.runtime.v2.task/k8s.io/%s/config.json", ctrd_root, CID);
	CHECK_EQ_INT(truncate(p, KT_OCI_MAX_SIZE + 1), 0);
	sess_init(&s, CG_FS, "probe-pod");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	check_guess(&s, "");

	/* exactly at the limit is read (and then fails to parse: NULs) */
	CHECK_EQ_INT(truncate(p, KT_OCI_MAX_SIZE), 0);
	sess_init(&s, CG_FS, "probe-pod");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	check_guess(&s, "");

	/* config.json a symlink to a valid spec elsewhere */
	snprintf(t, sizeof(t), "%s/elsewhere.json", tmpdir);
	CHECK_EQ_INT(write_file(t, ctrd_container), 0);
	CHECK_EQ_INT(unlink(p), 0);
	CHECK_EQ_INT(symlink(t, p), 0);
	sess_init(&s, CG_FS, "probe-pod");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	check_guess(&s, "");

	/* the container directory a symlink to a valid bundle */
	tree_reset();
	cfg_init(&c);
	put_ctrd("k8s.io", CID2, ctrd_container);
	snprintf(p, sizeof(p), "%s/io.containerd.runtime.v2.task/k8s.io/%s", ctrd_root, CID);
	snprintf(t, sizeof(t), "%s/io.containerd.runtime.v2.task/k8s.io/%s", ctrd_root, CID2);
	CHECK_EQ_INT(symlink(t, p), 0);
	sess_init(&s, CG_FS, "probe-pod");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	check_guess(&s, "");

	/* a FIFO must neither hang nor be read */
	tree_reset();
	cfg_init(&c);
	mkdir_p("%s/overlay-containers/%s/userdata", crio_root, CID);
	snprintf(p, sizeof(p), "%s/overlay-containers/%s/userdata/config.json", crio_root, CID);
	CHECK_EQ_INT(mkfifo(p, 0600), 0);
	sess_init(&s, CG_FS, "probe-pod");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	check_guess(&s, "");

	/* a directory named config.json */
	CHECK_EQ_INT(unlink(p), 0);
	CHECK_EQ_INT(mkdir(p, 0755), 0);
	sess_init(&s, CG_FS, "probe-pod");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	check_guess(&s, "");

	/* a bad bundle in one root does not hide a good one in the next */
	put_ctrd("k8s.io", CID, "not json");
	mkdir_p("%s/containerd2", tmpdir);
	snprintf(t, sizeof(t), "%s/containerd2", tmpdir);
	char saved[512];
	strcpy(saved, ctrd_root);
	strcpy(ctrd_root, t);
	put_ctrd("k8s.io", CID, ctrd_container);
	strcpy(ctrd_root, saved);
	c.containerd_roots[1] = t;
	c.n_containerd = 2;
	sess_init(&s, CG_FS, "probe-pod");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	CHECK_EQ_STR(s.container, "app");
	CHECK(!s.attribution_guess);
}

static void t_sess_node_and_args(void)
{
	struct kt_attrib_config c;
	struct kt_session_info s;

	tree_reset();
	cfg_init(&c);
	c.node_name = NULL;
	setenv("NODE_NAME", "node-from-env", 1);
	sess_init(&s, CG_FS, "probe-pod");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	CHECK_EQ_STR(s.node, "node-from-env");
	unsetenv("NODE_NAME");
	sess_init(&s, CG_FS, "probe-pod");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	CHECK(s.node[0] != '\0');

	CHECK_EQ_INT(kt_attribute_session(&c, NULL), -EINVAL);
	/* NULL config: defaults (real /run paths; whatever is there, no crash) */
	sess_init(&s, "/", "x");
	CHECK_EQ_INT(kt_attribute_session(NULL, &s), 0);

	/* unterminated kernel strings */
	memset(&s, 'a', sizeof(s));
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
	CHECK(memchr(s.pod, '\0', sizeof(s.pod)) != NULL);
	CHECK(memchr(s.node, '\0', sizeof(s.node)) != NULL);

	/* n_ out of range is clamped */
	c.n_containerd = 100;
	c.n_crio = -3;
	sess_init(&s, CG_FS, "probe-pod");
	CHECK_EQ_INT(kt_attribute_session(&c, &s), 0);
}

int main(void)
{
	kt_log_init("test_attrib", getenv("KT_TEST_DEBUG") ? KT_LOG_DEBUG : KT_LOG_ERROR);
	RUN(t_cgroup_table);
	RUN(t_cgroup_args);
	RUN(t_ann_containerd);
	RUN(t_ann_crio);
	RUN(t_ann_bad);
	RUN(t_ann_unterminated);
	RUN(t_ann_clean_and_clip);
	RUN(t_sess_containerd);
	RUN(t_sess_containerd_other_ns);
	RUN(t_sess_crio);
	RUN(t_sess_sandbox_entry);
	RUN(t_sess_sandbox_id_only);
	RUN(t_sess_guess);
	RUN(t_sess_host);
	RUN(t_sess_bad_bundles);
	RUN(t_sess_node_and_args);
	if (tmpdir[0])
		nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return kt_test_done();
}
