// SPDX-License-Identifier: Apache-2.0
/* Printing `kubetape search` hits (see searchfmt.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "searchfmt.h"
#include "shquote.h"
#include "timefmt.h"
#include "satint.h"

struct tbl_col sf_cols[SF_NCOLS] = {
	[SF_COL_SESSION] = { .header = "SESSION", .align = TBL_RIGHT },
	[SF_COL_OFFSET] = { .header = "OFFSET", .align = TBL_RIGHT },
	[SF_COL_WHO] = { .header = "NAMESPACE/POD", .align = TBL_LEFT },
	[SF_COL_IN] = { .header = "IN", .align = TBL_LEFT },
	[SF_COL_MATCH] = { .header = "MATCH", .align = TBL_LEFT, .flex = true },
};

/*
 * One memory stream for every hit, rewound each time: open_memstream
 * allocates and zeroes an 8 KiB buffer, which for a 1000-hit search was a
 * fifth of the process's instructions.  Not thread-safe (the CLI has one
 * thread); the stream and its buffer live until exit.
 */
char *sf_command_line(const struct kt_command *c)
{
	static FILE *f;
	static char *buf;
	static size_t len;

	if (!f) {
		f = open_memstream(&buf, &len);
		if (!f)
			return NULL;
	} else {
		rewind(f); /* also clears a previous error */
	}
	if (c->argv_len)
		shq_argv(f, c->argv, c->argv_len);
	else if (c->filename) /* no argv recorded: the exec'd file, like show */
		shq_word(f, c->filename, strlen(c->filename));
	if (c->argv_truncated)
		fputs(" [argv truncated]", f);
	/* the NUL written, not relied on: a rewound stream keeps older bytes */
	if (fputc(0, f) == EOF || fflush(f) || ferror(f))
		return NULL;
	return strdup(buf);
}

static const char *in_name(const struct sf_hit *h)
{
	if (h->kind == SF_COMMAND)
		return "command";
	return h->final ? "final screen" : "screen";
}

int sf_add_row(struct tbl *t, const struct sf_hit *h)
{
	const struct kt_session_info *s = h->s;
	char off[32];
	char *cmd = NULL;
	int err = 0;

	err |= tbl_cellf(t, "%lld", (long long)s->id);
	err |= tbl_cell(t, tf_format_offset(kt_sub_sat(h->ts_us, s->start_us), off, sizeof(off)));
	if (!s->k8s_namespace[0] && !s->pod[0])
		err |= tbl_cell(t, "-");
	else
		err |= tbl_cellf(t, "%s/%s%s", s->k8s_namespace[0] ? s->k8s_namespace : "-",
				 s->pod[0] ? s->pod : "-", s->attribution_guess ? "?" : "");
	err |= tbl_cell(t, in_name(h));
	if (h->kind == SF_COMMAND) {
		cmd = sf_command_line(h->c);
		err |= cmd ? tbl_cell(t, cmd) : -ENOMEM;
		free(cmd);
	} else {
		/* tbl_cell sanitizes: a line may hold anything the program drew */
		err |= tbl_cell(t, h->text ? h->text : "");
	}
	return err ? -ENOMEM : 0;
}

#define SET(o, k, v) do { if (json_object_set_new(o, k, v)) bad = true; } while (0)

static json_t *str0(const char *s)
{
	return jo_string(s, strlen(s));
}

json_t *sf_json(const struct sf_hit *h)
{
	const struct kt_session_info *s = h->s;
	json_t *o = json_object();
	char buf[TF_TIME_LEN];
	char *cmd;
	bool bad = false;

	if (!o)
		return NULL;
	SET(o, "kind", json_string(h->kind == SF_COMMAND ? "command" : "screen"));
	SET(o, "session_id", json_integer(s->id));
	SET(o, "ts_us", json_integer(h->ts_us));
	SET(o, "time", json_string(tf_format_time(h->ts_us, buf, sizeof(buf))));
	SET(o, "offset_us", json_integer(kt_sub_sat(h->ts_us, s->start_us)));
	SET(o, "offset", json_string(tf_format_offset(kt_sub_sat(h->ts_us, s->start_us), buf, sizeof(buf))));
	SET(o, "namespace", str0(s->k8s_namespace));
	SET(o, "pod", str0(s->pod));
	SET(o, "container", str0(s->container));
	SET(o, "node", str0(s->node));
	if (h->kind == SF_COMMAND) {
		cmd = sf_command_line(h->c);
		SET(o, "command_line", cmd ? str0(cmd) : NULL);
		free(cmd);
		SET(o, "command", jo_command(h->c));
	} else {
		SET(o, "text", str0(h->text ? h->text : ""));
		SET(o, "final", json_boolean(h->final));
		SET(o, "line_id", json_integer(h->line_id));
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
