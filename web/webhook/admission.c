// SPDX-License-Identifier: Apache-2.0
/* The exec-id mutating admission webhook's logic (see admission.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <jansson.h>

#include "admission.h"
#include "audit.h"

static int fail(char *why, size_t len, const char *msg)
{
	snprintf(why, len, "%s", msg);
	return -EINVAL;
}

static int new_id(char *id, size_t len)
{
	unsigned char r[12];

	if (len < sizeof(r) * 2 + 1 || getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -EIO;
	for (size_t i = 0; i < sizeof(r); i++)
		sprintf(id + 2 * i, "%02x", r[i]);
	return 0;
}

static const char *base(const char *s)
{
	const char *b = strrchr(s, '/');

	return b ? b + 1 : s;
}

/* The command without any leading `env KUBETAPE_EXEC_ID=...` (user-supplied). */
static json_t *stripped(const json_t *cmd)
{
	static const char pfx[] = KT_EXEC_ID_ENV "=";
	size_t i = 0, n = json_array_size(cmd);
	json_t *out = json_array();

	if (!out)
		return NULL;
	while (i + 1 < n && json_is_string(json_array_get(cmd, i)) &&
	       !strcmp(base(json_string_value(json_array_get(cmd, i))), "env")) {
		size_t j = i + 1, k;
		bool any = false;

		/* env's leading assignments: drop ours, keep the others */
		for (k = j; k < n && json_is_string(json_array_get(cmd, k)) &&
		     strchr(json_string_value(json_array_get(cmd, k)), '='); k++)
			any |= !strncmp(json_string_value(json_array_get(cmd, k)), pfx, sizeof(pfx) - 1);
		if (!any)
			break;
		for (k = j; k < n && json_is_string(json_array_get(cmd, k)) &&
		     strchr(json_string_value(json_array_get(cmd, k)), '='); k++) {
			const char *a = json_string_value(json_array_get(cmd, k));

			if (strncmp(a, pfx, sizeof(pfx) - 1)) {
				/* another variable: keep `env VAR=...` */
				if (!json_array_size(out) && json_array_append(out, json_array_get(cmd, i)))
					goto oom;
				if (json_array_append(out, json_array_get(cmd, k)))
					goto oom;
			}
		}
		i = k;
		if (json_array_size(out))
			break;
	}
	for (; i < n; i++)
		if (json_array_append(out, json_array_get(cmd, i)))
			goto oom;
	return out;
oom:
	json_decref(out);
	return NULL;
}

static char *b64(const char *s, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *o = malloc((n + 2) / 3 * 4 + 1), *p = o;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		*p++ = t[v >> 18 & 63];
		*p++ = t[v >> 12 & 63];
		*p++ = i + 1 < n ? t[v >> 6 & 63] : '=';
		*p++ = i + 2 < n ? t[v & 63] : '=';
	}
	*p = 0;
	return o;
}

int kt_admission_review(const char *body, size_t len, const char *exec_id,
			char **out, size_t *out_len, char *why, size_t wl)
{
	json_t *rev = NULL, *req, *obj, *cmd, *resp = NULL, *root = NULL, *ncmd = NULL, *patch = NULL;
	const char *uid, *op, *sub, *kind;
	char id[KT_EXEC_ID_MAX + 1], *ptext = NULL, *pb64 = NULL, env[KT_EXEC_ID_MAX + 32];
	json_error_t jerr;
	int err = -EINVAL;

	*out = NULL;
	rev = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!rev) {
		snprintf(why, wl, "not JSON: %s", jerr.text);
		return -EINVAL;
	}
	if (!json_is_object(rev) || !json_is_string(json_object_get(rev, "kind")) ||
	    strcmp(json_string_value(json_object_get(rev, "kind")), "AdmissionReview") ||
	    !json_is_string(json_object_get(rev, "apiVersion")) ||
	    strcmp(json_string_value(json_object_get(rev, "apiVersion")), "admission.k8s.io/v1")) {
		fail(why, wl, "not an admission.k8s.io/v1 AdmissionReview");
		goto out;
	}
	req = json_object_get(rev, "request");
	uid = json_string_value(json_object_get(req, "uid"));
	if (!json_is_object(req) || !uid || !*uid) {
		fail(why, wl, "request.uid missing");
		goto out;
	}
	op = json_string_value(json_object_get(req, "operation"));
	sub = json_string_value(json_object_get(req, "subResource"));
	obj = json_object_get(req, "object");
	kind = json_string_value(json_object_get(obj, "kind"));
	cmd = json_object_get(obj, "command");
	resp = json_pack("{s:s, s:b}", "uid", uid, "allowed", 1);
	if (!resp)
		goto oom;
	if (op && !strcmp(op, "CONNECT") && sub && !strcmp(sub, "exec") && kind &&
	    !strcmp(kind, "PodExecOptions") && json_is_array(cmd) && json_array_size(cmd)) {
		size_t i;
		json_t *v;

		json_array_foreach(cmd, i, v)
			if (!json_is_string(v)) {
				fail(why, wl, "request.object.command holds a non-string");
				goto out;
			}
		if (exec_id) {
			if (!kt_exec_id_valid(exec_id, strlen(exec_id))) {
				fail(why, wl, "invalid exec id");
				goto out;
			}
			snprintf(id, sizeof(id), "%s", exec_id);
		} else if (new_id(id, sizeof(id))) {
			err = -EIO;
			goto out;
		}
		ncmd = stripped(cmd);
		snprintf(env, sizeof(env), KT_EXEC_ID_ENV "=%s", id);
		if (!ncmd || json_array_insert_new(ncmd, 0, json_string(env)) ||
		    json_array_insert_new(ncmd, 0, json_string("env")))
			goto oom;
		patch = json_pack("[{s:s, s:s, s:O}]", "op", "replace", "path", "/command", "value", ncmd);
		ptext = patch ? json_dumps(patch, JSON_COMPACT) : NULL;
		pb64 = ptext ? b64(ptext, strlen(ptext)) : NULL;
		if (!pb64 || json_object_set_new(resp, "patchType", json_string("JSONPatch")) ||
		    json_object_set_new(resp, "patch", json_string(pb64)) ||
		    json_object_set_new(resp, "auditAnnotations", json_pack("{s:s}", "exec-id", id)))
			goto oom;
	}
	root = json_pack("{s:s, s:s, s:O}", "apiVersion", "admission.k8s.io/v1", "kind", "AdmissionReview",
			 "response", resp);
	*out = root ? json_dumps(root, JSON_COMPACT) : NULL;
	if (!*out)
		goto oom;
	*out_len = strlen(*out);
	err = 0;
	goto out;
oom:
	err = -ENOMEM;
	snprintf(why, wl, "out of memory");
out:
	json_decref(rev);
	json_decref(resp);
	json_decref(root);
	json_decref(ncmd);
	json_decref(patch);
	free(ptext);
	free(pb64);
	return err;
}
