// SPDX-License-Identifier: Apache-2.0
/* JSON encoding of sessions and commands (see json_out.h). */
#include <errno.h>

#include "json_out.h"
#include "timefmt.h"
#include "satint.h"
#include <string.h>

_Static_assert(KT_JSON_TIME_LEN >= TF_TIME_LEN, "time buffer of store/json.h");

/* the CLI's fields (store/json.h); times as tf_format_time prints them */
static const struct kt_json_style cli_style = {
	.profile = KT_JSON_CLI,
	.format_time = tf_format_time,
};

json_t *jo_session(const struct kt_session_info *s)
{
	return kt_json_session(s, &cli_style);
}

json_t *jo_command(const struct kt_command *c)
{
	return kt_json_command(c, &cli_style);
}

json_t *jo_string(const char *s, size_t n)
{
	return kt_json_string(s, n);
}

json_t *jo_show(const struct kt_session_info *s, const struct kt_cmdtree *t)
{
	return jo_show_verified(s, t, NULL);
}

json_t *jo_show_verified(const struct kt_session_info *s, const struct kt_cmdtree *t,
			 json_t *verification)
{
	json_t *root = json_object(), *arr = json_array(), *js = jo_session(s);
	bool bad = !root || !arr || !js;

	if (!bad && verification && json_object_set(js, "verification", verification))
		bad = true;

	for (size_t i = 0; !bad && i < t->n; i++) {
		json_t *jc = jo_command(&t->v[i].c);

		if (!jc || json_object_set_new(jc, "depth", json_integer(t->v[i].depth)) ||
		    json_array_append_new(arr, jc))
			bad = true;
	}
	if (!bad && (json_object_set(root, "session", js) || json_object_set(root, "commands", arr)))
		bad = true;
	json_decref(js);
	json_decref(arr);
	if (bad) {
		json_decref(root);
		return NULL;
	}
	return root;
}

int jo_dump(json_t *j, FILE *out, bool pretty)
{
	size_t flags = JSON_PRESERVE_ORDER | (pretty ? JSON_INDENT(2) : JSON_COMPACT);

	return json_dumpf(j, out, flags) ? -EIO : 0;
}

int jo_array_item(json_t *j, size_t n, FILE *out)
{
	int err;

	if (!j)
		return -ENOMEM;
	fputs(n ? ",\n  " : "[\n  ", out);
	err = jo_dump(j, out, false);
	json_decref(j);
	return err;
}

void jo_array_end(size_t n, FILE *out)
{
	fputs(n ? "\n]\n" : "[]\n", out);
}

/*
 * Runs the kernel skipped on this node (store/skipped.c) while the session
 * was open: loss no session can be charged with, so every session whose
 * time overlaps the span they were counted in shows it.  The times are when
 * the recorder counted them (within a second of the skip while it runs;
 * skips made while no recorder ran are counted when the next one starts).
 */
#define SKIP_SLACK_US 2000000
bool jo_skipped_overlaps(const struct kt_skipped *k, const struct kt_session_info *s,
			 int64_t now_us)
{
	int64_t end = s->state == KT_SESSION_ACTIVE || !s->end_us ? now_us : s->end_us;

	return k->runs && k->first_us <= kt_add_sat(end, SKIP_SLACK_US) && k->last_us >= s->start_us;
}

int jo_add_skipped(struct kt_store *st, json_t *root, const struct kt_session_info *s)
{
	struct kt_skipped k;
	json_t *o;
	int err = kt_store_skipped_get(st, &k);

	/* the cluster store does not know the node's count: null, not 0 */
	if (err == -EOPNOTSUPP)
		return json_object_set_new(root, "node_skipped_runs", json_null()) ? -ENOMEM : 0;
	if (err)
		memset(&k, 0, sizeof(k));
	o = json_pack("{s:I, s:I, s:I, s:b}", "runs", (json_int_t)k.runs, "first_us",
		      (json_int_t)k.first_us, "last_us", (json_int_t)k.last_us, "overlaps_session",
		      jo_skipped_overlaps(&k, s, kt_now_us()));
	return o && !json_object_set_new(root, "node_skipped_runs", o) ? 0 : -ENOMEM;
}
