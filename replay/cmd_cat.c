// SPDX-License-Identifier: Apache-2.0
/* `kubetape cat ID`: the recorded terminal bytes, exactly as captured. */
#include <errno.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "timefmt.h"

enum { OPT_INPUT = KT_OPT_CMD_BASE };

/* Past this many gap warnings only the total is reported. */
#define MAX_GAP_WARNINGS 10

static void usage(FILE *out)
{
	fputs("Usage: kubetape cat ID [--input] [-o FILE]\n"
	      "\n"
	      "Write the bytes the session's terminal showed, exactly as recorded (no\n"
	      "timing, no translation).  Escape sequences in them reach your terminal as\n"
	      "they reached the user's: redirect to a file or a pager when in doubt.\n"
	      "Where the recorder lost data nothing is written and a warning with the\n"
	      "lost byte count goes to stderr.\n"
	      "\n"
	      "Options:\n"
	      "      --input          the bytes the user typed instead (echo off too,\n"
	      "                       e.g. passwords)\n"
	      "  -o, --output FILE    write to FILE (created or truncated) instead of stdout\n", out);
}

struct gaps {
	uint64_t n, bytes, events;
};

static void on_gap(struct gaps *g, const struct kt_frame *f, int64_t start_us)
{
	uint64_t bytes = 0, events = 0;
	char off[32];

	int bad;

	/* the payload format belongs to the store (FORMAT.md) */
	bad = kt_frame_gap_parse(f, &bytes, &events);
	g->n++;
	g->bytes += bytes;
	g->events += events;
	if (g->n > MAX_GAP_WARNINGS)
		return;
	tf_format_offset(f->ts_us - start_us, off, sizeof(off));
	if (bad)
		pr_warn("cat: data lost at %s (amount unknown: malformed gap record)", off);
	else
		pr_warn("cat: %llu bytes (%llu events) lost at %s: the output has a hole there",
			(unsigned long long)bytes, (unsigned long long)events, off);
}

static int run(struct kt_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", no_argument, NULL, OPT_INPUT },
		{ "output", required_argument, NULL, 'o' },
		{ 0 },
	};
	struct kt_session_info s;
	struct kt_stream *stream = NULL;
	struct kt_frame f;
	struct gaps gaps = { 0 };
	const char *path = NULL;
	uint8_t want = KT_FRAME_OUT;
	FILE *out = stdout;
	unsigned corrupt = 0;
	int c, err, ret;

	while ((c = kt_cli_getopt(cli, argc, argv, "o:", opts)) != -1) {
		if (c < 0)
			return kt_cli_opt_exit(c);
		if (c == OPT_INPUT)
			want = KT_FRAME_IN;
		else if (c == 'o')
			path = optarg;
	}
	if (optind >= argc)
		return kt_cli_usage_error(cli, "missing session ID");
	if (optind + 1 < argc)
		return kt_cli_usage_error(cli, "unexpected argument '%s'", argv[optind + 1]);
	if (path && !*path)
		return kt_cli_usage_error(cli, "-o needs a file name");
	ret = kt_cli_get_session(cli, argv[optind], &s);
	if (ret)
		return ret;

	ret = KT_EXIT_RUNTIME;
	err = kt_stream_open(cli->store, s.id, 0, &stream);
	if (err)
		goto cleanup; /* logged by the store */
	/* only now, so an unknown id never truncates the file */
	if (path && strcmp(path, "-") != 0) {
		out = fopen(path, "wb");
		if (!out) {
			pr_err("cat: cannot write %s: %s", path, strerror(errno));
			out = stdout;
			goto cleanup;
		}
	}
	/* 0 = end of what is stored now; an active session just ends here.
	 * A corrupt chunk (-EBADMSG, logged by the store) is skipped so the
	 * rest is still written, but the exit status says it is incomplete. */
	while ((err = kt_stream_next(stream, &f)) > 0 || err == -EBADMSG) {
		if (err < 0) {
			corrupt++;
			continue;
		}
		if (f.type == want) {
			if (f.len && fwrite(f.data, 1, f.len, out) != f.len)
				break;
		} else if (f.type == KT_FRAME_GAP) {
			on_gap(&gaps, &f, s.start_us);
		}
	}
	if (err < 0)
		goto cleanup; /* logged by the store */
	if (fflush(out) || ferror(out)) {
		pr_err("cat: writing %s: %s", path ? path : "stdout", strerror(errno));
		goto cleanup;
	}
	if (gaps.n > MAX_GAP_WARNINGS)
		pr_warn("cat: %llu gaps in all, %llu bytes (%llu events) lost",
			(unsigned long long)gaps.n, (unsigned long long)gaps.bytes,
			(unsigned long long)gaps.events);
	if (corrupt) {
		pr_err("cat: %u corrupt chunk(s) skipped: the output is incomplete", corrupt);
		goto cleanup;
	}
	ret = KT_EXIT_OK;
cleanup:
	if (out != stdout && fclose(out) && ret == KT_EXIT_OK) {
		pr_err("cat: writing %s: %s", path, strerror(errno));
		ret = KT_EXIT_RUNTIME;
	}
	kt_stream_close(stream);
	return ret;
}

const struct kt_cmd kt_cmd_cat = {
	.name = "cat",
	.summary = "write a session's recorded terminal output (or --input) raw",
	.run = run,
	.usage = usage,
};
