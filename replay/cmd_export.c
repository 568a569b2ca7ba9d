// SPDX-License-Identifier: Apache-2.0
/*
 * `kubetape export ID --format F [-o FILE]`: a session in a format other
 * tools read.  One writer function per format in `formats[]`; adding one
 * (e.g. `text` once the screen module exists) is one function and one row.
 * Every writer streams: memory stays bounded whatever the session's size.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asciicast.h"
#include "cmdtree.h"
#include "commands.h"
#include "framesrc.h"
#include "evidence_cli.h"
#include "identity.h"
#include "json_out.h"
#include "log.h"
#include "outfile.h"
#include "humanfmt.h"
#include "progress.h"
#include "shquote.h"
#include "textexport.h"
#include "timefmt.h"

enum { OPT_FORMAT = KT_OPT_CMD_BASE, OPT_FORCE, OPT_NO_INPUT };

/* Everything a format writer needs. */
struct exp {
	struct kt_cli *cli;
	const struct kt_session_info *s;
	FILE *out;
	bool follow, input;
	struct kt_src src;
	struct kt_progress pg;
	bool progress;           /* a bar would not garble the output */
};

struct format {
	const char *name;
	/* 0 or a negative errno, logged (-EIO: errno says why, logged by run) */
	int (*write)(struct exp *x);
	bool can_follow;
};

static void usage(FILE *out)
{
	fputs("Usage: kubetape export ID [--format FORMAT] [-o FILE [--force]] [--follow]\n"
	      "\n"
	      "Write a session in a format for other tools.\n"
	      "\n"
	      "Formats:\n"
	      "  asciicast  (default) asciicast v2 for asciinema (asciinema play FILE) and\n"
	      "             its web player: output \"o\", typed input \"i\", resizes \"r\",\n"
	      "             one marker \"m\" per command (\"$ argv\") and one per recorder\n"
	      "             loss, which also shows in playback as a highlighted notice\n"
	      "             line.  Invalid UTF-8 becomes U+FFFD, as asciinema records it.\n"
	      "  raw        the output bytes only, exactly as recorded (like cat)\n"
	      "  json       metadata and commands, as 'kubetape show --json'\n"
	      "  text       what the screen displayed, as text: each line as it scrolled\n"
	      "             off (or was cleared) with its offset (+MM:SS.mmm), then the\n"
	      "             lines of the final screen\n"
	      "\n"
	      "Options:\n"
	      "  -F, --format FORMAT  asciicast, raw, json or text\n"
	      "  -o, --output FILE    write FILE atomically (a temp file renamed when\n"
	      "                       complete); an existing FILE is an error\n"
	      "      --force          replace an existing FILE\n"
	      "      --no-input       asciicast: leave out what the user typed\n"
	      "  -f, --follow         asciicast, raw, text: keep writing while the session is\n"
	      "                       recorded, until it ends (Ctrl-C stops)\n"
	      "\n"
	      "A progress bar goes to stderr when it is a terminal and the output is not.\n", out);
}

/* ------------------------------------------------------------- raw */

static int write_raw(struct exp *x)
{
	return kt_src_copy(&x->src, KT_FRAME_OUT, x->out, &x->pg);
}

/* ------------------------------------------------------------- json */

static int write_json(struct exp *x)
{
	struct kt_cmdtree t;
	json_t *root;
	int err;

	err = kt_cmdtree_load(x->cli->store, x->s->id, &t, "export");
	if (err)
		return err;
	{	/* the same object as show --json, verification included */
		json_t *v = kt_cli_verification_json(x->cli, x->s->id, kt_cli_verify_flags(x->s), NULL);

		root = jo_show_verified(x->s, &t, v);
		json_decref(v);
	}
	kt_cmdtree_free(&t);
	/* the same document as show --json, identity included */
	if (!root || ki_json_add_identity(x->cli->store, root, x->s) ||
	    jo_add_skipped(x->cli->store, root, x->s)) {
		json_decref(root);
		pr_err("export: out of memory or bad $" KT_AUDIT_WINDOW_ENV);
		return -ENOMEM;
	}
	err = jo_dump(root, x->out, true);
	json_decref(root);
	if (!err && fputc('\n', x->out) == EOF)
		err = -EIO;
	return err;
}

/* ------------------------------------------------------------- asciicast */

struct acx {
	struct exp *x;
	struct kt_acast w;
	int32_t next_seq;   /* commands before it have their marker */
};

/* Frames up to until_us; 0 at the end of what is stored (or later frames). */
static int cast_pump(struct acx *a, int64_t until_us)
{
	struct kt_frame f;
	int err;

	while ((err = kt_src_next(&a->x->src, until_us, &f)) > 0) {
		err = kt_acast_frame(&a->w, &f, f.data, f.len, a->x->input);
		if (err)
			return err;
		kt_progress_update(&a->x->pg, a->x->src.payload);
	}
	return err;
}

/*
 * Commands come in exec order from the store's callback; output is merged
 * in by time from inside it (frames up to the exec time first), so neither
 * list is ever held whole.  Marker times are clamped to be monotonic.
 */
static int cast_command(const struct kt_command *c, void *ctx)
{
	struct acx *a = ctx;
	char *label = NULL;
	size_t len = 0;
	FILE *m;
	int err;

	if (c->seq < a->next_seq)
		return 0; /* following: marked on an earlier pass */
	err = cast_pump(a, c->ts_us);
	if (err)
		return err;
	m = open_memstream(&label, &len);
	if (!m)
		return -ENOMEM;
	fputs("$ ", m);
	if (c->argv_len)
		shq_argv(m, c->argv, c->argv_len);
	else if (c->filename)
		shq_word(m, c->filename, strlen(c->filename));
	if (fclose(m)) {
		free(label);
		return -ENOMEM;
	}
	err = kt_acast_marker(&a->w, c->ts_us, label, len);
	free(label);
	a->next_seq = c->seq + 1;
	return err;
}

static int write_asciicast(struct exp *x)
{
	const struct kt_session_info *s = x->s;
	struct kt_acast_header h = { 0 };
	struct acx a = { .x = x };
	char title[3 * KT_STR_LONG + 32];
	int err;

	snprintf(title, sizeof(title), "%s/%s/%s #%lld",
		 *s->k8s_namespace ? s->k8s_namespace : "-", *s->pod ? s->pod : "-",
		 *s->container ? s->container : "-", (long long)s->id);
	/* width and height are required: a session without a terminal (or
	 * without a known size) gets the classic 80x24 (reader.h) */
	kt_session_term_size(s, &h.width, &h.height);
	h.timestamp = s->start_us / 1000000;
	h.title = title;
	/* env (TERM, SHELL) is not recorded by kubetape: omitted */
	kt_acast_init(&a.w, x->out, s->start_us);
	err = kt_acast_header(&a.w, &h);
	for (;;) {
		if (!err)
			err = kt_store_commands_list(x->cli->store, s->id, cast_command, &a);
		if (!err)
			err = cast_pump(&a, INT64_MAX);
		if (!err && x->follow && fflush(x->out))
			err = -EIO;
		if (!err)
			err = kt_src_wait(&x->src);
		if (err <= 0)
			break;
		err = 0;
	}
	if (err == -ENOMEM)
		pr_err("export: out of memory");
	if (!err || err == -EINTR) { /* an interrupted follow still ends cleanly */
		int e = kt_acast_finish(&a.w);

		err = err ? err : e;
	}
	return err;
}

/* ------------------------------------------------------------- text */

/* What the terminal displayed, as text: store/include/textexport.h. */
static const struct kt_text_ops text_ops = {
	.sanitize = hf_sanitize,
	.offset = tf_format_offset,
};

static int write_text(struct exp *x)
{
	struct kt_text t = { 0 };
	struct kt_frame f;
	int err;

	err = kt_text_init(&t, x->out, x->s, &text_ops);
	if (err)
		goto cleanup;
	for (;;) {
		while ((err = kt_src_next(&x->src, INT64_MAX, &f)) > 0) {
			err = kt_text_frame(&t, &f);
			if (err)
				goto cleanup;
			kt_progress_update(&x->pg, x->src.payload);
		}
		if (err < 0)
			break;
		if (x->follow && fflush(x->out)) {
			err = -EIO;
			break;
		}
		err = kt_src_wait(&x->src);
		if (err <= 0)
			break;
	}
	if (!err || (err == -EINTR && x->follow))
		err = kt_text_finish(&t);
cleanup:
	kt_text_free(&t);
	return err;
}

/* ------------------------------------------------------------- command */

static const struct format formats[] = {
	{ "asciicast", write_asciicast, true },
	{ "raw", write_raw, true },
	{ "json", write_json, false },
	{ "text", write_text, true },
};

static int run(struct kt_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "no-input", no_argument, NULL, OPT_NO_INPUT },
		{ "follow", no_argument, NULL, 'f' },
		{ 0 },
	};
	const char *fmt_name = "asciicast", *path = NULL;
	const struct format *fmt = NULL;
	struct kt_session_info s;
	struct kt_outfile of = { 0 };
	struct exp x = { .cli = cli, .s = &s, .input = true };
	bool force = false, streams, interrupted;
	int c, err, ret;

	while ((c = kt_cli_getopt(cli, argc, argv, "F:o:f", opts)) != -1) {
		if (c < 0)
			return kt_cli_opt_exit(c);
		switch (c) {
		case 'F': fmt_name = optarg; break;
		case 'o': path = optarg; break;
		case 'f': x.follow = true; break;
		case OPT_FORCE: force = true; break;
		case OPT_NO_INPUT: x.input = false; break;
		}
	}
	if (kt_cli_session_operand(cli, argc, argv))
		return KT_EXIT_USAGE;
	if (path && !*path)
		return kt_cli_usage_error(cli, "-o needs a file name");
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i].name, fmt_name) == 0)
			fmt = &formats[i];
	if (!fmt)
		return kt_cli_usage_error(cli, "unknown format '%s' (asciicast, raw, json, text)", fmt_name);
	if (!fmt->write)
		return kt_cli_usage_error(cli, "format %s is not implemented in this build", fmt->name);
	if (x.follow && !fmt->can_follow)
		return kt_cli_usage_error(cli, "--follow does not apply to format %s", fmt->name);
	ret = kt_cli_get_session(cli, argv[optind], &s);
	if (ret)
		return ret;

	ret = KT_EXIT_RUNTIME;
	streams = fmt->write != write_json;
	/* fail before a long export, not after; commit checks again */
	if (kt_outfile_check(path, force, "export"))
		return ret;
	if (streams) {
		err = kt_src_open(&x.src, cli->store, &s, "export", x.follow);
		if (err)
			goto cleanup; /* logged by the store */
	}
	err = kt_outfile_open(&of, path, force, "export");
	if (err)
		goto cleanup;
	x.out = of.f;
	/* Ctrl-C must not leave a temp file behind, and ends a follow cleanly */
	kt_src_catch_signals();
	/* a bar on the terminal that also shows the data would garble it */
	kt_progress_init(&x.pg, "export", s.bytes_out + s.bytes_in,
			 streams && !x.follow && isatty(STDERR_FILENO) &&
			 !(of.f == stdout && isatty(STDOUT_FILENO)));
	err = fmt->write(&x);
	kt_progress_done(&x.pg);
	interrupted = err == -EINTR;
	if (interrupted && x.follow)
		err = 0; /* how a follower stops: keep what was written */
	if (err == -EIO)
		pr_err("export: writing %s: %s", path ? path : "stdout", strerror(errno));
	else if (interrupted && err)
		pr_err("export: interrupted%s", of.tmp ? ": no file written" : "");
	if (err)
		goto cleanup;
	if (streams && kt_src_finish(&x.src))
		goto cleanup; /* corrupt chunks: logged, incomplete output */
	if (kt_outfile_commit(&of))
		goto cleanup;
	ret = KT_EXIT_OK;
cleanup:
	kt_outfile_abort(&of);
	kt_src_close(&x.src);
	if (ret != KT_EXIT_OK && kt_src_signal())
		ret = 128 + kt_src_signal();
	return ret;
}

const struct kt_cmd kt_cmd_export = {
	.name = "export",
	.summary = "a session as asciicast v2 (asciinema), raw output, JSON or screen text",
	.run = run,
	.usage = usage,
};
