// SPDX-License-Identifier: Apache-2.0
/*
 * The exec-id mutating admission webhook (web/webhook/admission.c) on
 * AdmissionReview requests written from the admission.k8s.io/v1 reference:
 * CONNECT on pods/exec with a PodExecOptions object.  Checks the JSONPatch
 * (decoded), the audit annotation, the uid echo, that a user-supplied id
 * is stripped, and what is left alone (attach, other kinds) or refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kt_test.h"
#include "../../web/webhook/admission.c"

static const char *review(const char *op, const char *sub, const char *kind, const char *cmd)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf),
		 "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
		 "\"uid\":\"705ab4f5-6393-11e8-b7cc-42010a800002\","
		 "\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"%s\"},"
		 "\"resource\":{\"group\":\"\",\"version\":\"v1\",\"resource\":\"pods\"},"
		 "\"subResource\":\"%s\","
		 "\"requestKind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"%s\"},"
		 "\"requestResource\":{\"group\":\"\",\"version\":\"v1\",\"resource\":\"pods\"},"
		 "\"requestSubResource\":\"%s\",\"name\":\"web-1\",\"namespace\":\"default\","
		 "\"operation\":\"%s\",\"userInfo\":{\"username\":\"alice\",\"groups\":[\"system:authenticated\"]},"
		 "\"object\":{\"kind\":\"%s\",\"apiVersion\":\"v1\",\"stdin\":true,\"stdout\":true,"
		 "\"tty\":true,\"container\":\"app\"%s%s},"
		 "\"oldObject\":null,\"dryRun\":false,\"options\":null}}",
		 kind, sub, kind, sub, op, kind, cmd ? ",\"command\":" : "", cmd ? cmd : "");
	return buf;
}

/* b64 decode (test side, independent of the encoder) */
static char *unb64(const char *s)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), o = 0;
	char *out = calloc(1, n + 1);
	unsigned v = 0;
	int bits = 0;

	for (size_t i = 0; i < n && s[i] != '='; i++) {
		const char *p = strchr(t, s[i]);

		if (!p) {
			free(out);
			return NULL;
		}
		v = v << 6 | (unsigned)(p - t);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)(v >> bits & 0xff);
		}
	}
	return out;
}

/* The response's patch (decoded) and exec-id annotation. */
static json_t *run(const char *req, const char *id, char **patch, char *ann, size_t alen)
{
	char why[256], *out = NULL;
	size_t len;
	json_t *j, *r;

	*patch = NULL;
	ann[0] = 0;
	if (kt_admission_review(req, strlen(req), id, &out, &len, why, sizeof(why))) {
		printf("# %s\n", why);
		return NULL;
	}
	j = json_loads(out, 0, NULL);
	free(out);
	r = json_object_get(j, "response");
	if (json_object_get(r, "patch"))
		*patch = unb64(json_string_value(json_object_get(r, "patch")));
	snprintf(ann, alen, "%s", json_string_value(json_object_get(json_object_get(r, "auditAnnotations"), "exec-id")) ?: "");
	return j;
}

static void t_exec_patched(void)
{
	char *patch, ann[80];
	json_t *j = run(review("CONNECT", "exec", "PodExecOptions", "[\"sh\",\"-c\",\"id\"]"), "abc-123",
			&patch, ann, sizeof(ann));
	json_t *r = json_object_get(j, "response");

	CHECK(j != NULL);
	CHECK_EQ_STR(json_string_value(json_object_get(j, "apiVersion")), "admission.k8s.io/v1");
	CHECK_EQ_STR(json_string_value(json_object_get(j, "kind")), "AdmissionReview");
	CHECK_EQ_STR(json_string_value(json_object_get(r, "uid")), "705ab4f5-6393-11e8-b7cc-42010a800002");
	CHECK(json_is_true(json_object_get(r, "allowed")));
	CHECK_EQ_STR(json_string_value(json_object_get(r, "patchType")), "JSONPatch");
	CHECK_EQ_STR(patch, "[{\"op\":\"replace\",\"path\":\"/command\",\"value\":"
			    "[\"env\",\"KUBETAPE_EXEC_ID=abc-123\",\"sh\",\"-c\",\"id\"]}]");
	CHECK_EQ_STR(ann, "abc-123");
	free(patch);
	json_decref(j);
}

static void t_user_id_stripped(void)
{
	char *patch, ann[80];
	json_t *j;

	j = run(review("CONNECT", "exec", "PodExecOptions",
		       "[\"env\",\"KUBETAPE_EXEC_ID=forged\",\"bash\"]"), "real-1", &patch, ann, sizeof(ann));
	CHECK_EQ_STR(patch, "[{\"op\":\"replace\",\"path\":\"/command\",\"value\":"
			    "[\"env\",\"KUBETAPE_EXEC_ID=real-1\",\"bash\"]}]");
	CHECK_EQ_STR(ann, "real-1");
	free(patch);
	json_decref(j);
	/* nested and mixed with another variable: ours go, the other stays */
	j = run(review("CONNECT", "exec", "PodExecOptions",
		       "[\"/usr/bin/env\",\"KUBETAPE_EXEC_ID=x\",\"env\",\"KUBETAPE_EXEC_ID=y\",\"LANG=C\",\"ls\"]"),
		"real-2", &patch, ann, sizeof(ann));
	CHECK_EQ_STR(patch, "[{\"op\":\"replace\",\"path\":\"/command\",\"value\":"
			    "[\"env\",\"KUBETAPE_EXEC_ID=real-2\",\"env\",\"LANG=C\",\"ls\"]}]");
	free(patch);
	json_decref(j);
	/* a random id when none is given: 24 hex digits, annotated the same */
	j = run(review("CONNECT", "exec", "PodExecOptions", "[\"sh\"]"), NULL, &patch, ann, sizeof(ann));
	CHECK_EQ_INT(strlen(ann), 24);
	CHECK(patch && strstr(patch, ann) != NULL);
	free(patch);
	json_decref(j);
}

static void t_left_alone(void)
{
	char *patch, ann[80];
	json_t *j;

	j = run(review("CONNECT", "attach", "PodAttachOptions", NULL), "x", &patch, ann, sizeof(ann));
	CHECK(j != NULL && patch == NULL && !ann[0]);
	CHECK(json_is_true(json_object_get(json_object_get(j, "response"), "allowed")));
	json_decref(j);
	j = run(review("CREATE", "", "Pod", NULL), "x", &patch, ann, sizeof(ann));
	CHECK(j != NULL && patch == NULL);
	json_decref(j);
}

static void t_refused(void)
{
	static const char *bad[] = {
		"{",
		"{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\"}}",
		"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}",
		"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\","
		"\"operation\":\"CONNECT\",\"subResource\":\"exec\",\"object\":{\"kind\":\"PodExecOptions\",\"command\":[1]}}}",
	};
	char why[256], *out;
	size_t len;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out = NULL;
		CHECK_EQ_INT(kt_admission_review(bad[i], strlen(bad[i]), "x", &out, &len, why, sizeof(why)), -EINVAL);
		CHECK(out == NULL && why[0]);
	}
}

int main(void)
{
	RUN(t_exec_patched);
	RUN(t_user_id_stripped);
	RUN(t_left_alone);
	RUN(t_refused);
	return kt_test_done();
}
