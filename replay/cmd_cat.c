// SPDX-License-Identifier: Apache-2.0
/* `kubetape cat ID`: the recorded terminal bytes, exactly as captured. */
#include <errno.h>
#include <string.h>

#include "commands.h"
#include "framesrc.h"
#include "log.h"
#include "timefmt.h"

enum { OPT_INPUT = KT_OPT_CMD_BASE };

static void usage(FILE *out)
{
	fputs("Usage: kubetape cat ID [--input] [--follow] [-o FILE]\n"
	      "\n"
	      "Write the bytes the session's terminal showed, exactly as recorded (no\n"
	      "timing, no translation).  Escape sequences in them reach your terminal as\n"
	      "they reached the user's: redirect to a file or a pager when in doubt.\n"
	      "Where the recorder lost data nothing is written and a warning with the\n"
	      "lost byte count goes to stderr, as does a note when recording started\n"
	      "late (the session was already running when the recorder started).\n"
	      "\n"
	      "Options:\n"
	      "      --input          the bytes the user typed instead (echo off too,\n"
	      "                       e.g. passwords)\n"
	      "  -f, --follow         keep writing while the session is recorded, like\n"
	      "                       tail -f, until it ends (Ctrl-C stops, exit 0)\n"
	      "  -o, --output FILE    write to FILE (created or truncated) instead of stdout\n", out);
}

static int run(struct kt_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", no_argument, NULL, OPT_INPUT },
		{ "follow", no_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ 0 },
	};
	struct kt_session_info s;
	struct kt_src src = { 0 };
	const char *path = NULL;
	uint8_t want = KT_FRAME_OUT;
	bool follow = false;
	FILE *out = stdout;
	int c, err, ret;

	while ((c = kt_cli_getopt(cli, argc, argv, "fo:", opts)) != -1) {
		if (c < 0)
			return kt_cli_opt_exit(c);
		if (c == OPT_INPUT)
			want = KT_FRAME_IN;
		else if (c == 'f')
			follow = true;
		else if (c == 'o')
			path = optarg;
	}
	if (kt_cli_session_operand(cli, argc, argv))
		return KT_EXIT_USAGE;
	if (path && !*path)
		return kt_cli_usage_error(cli, "-o needs a file name");
	ret = kt_cli_get_session(cli, argv[optind], &s);
	if (ret)
		return ret;

	ret = KT_EXIT_RUNTIME;
	err = kt_src_open(&src, cli->store, &s, "cat", follow);
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
	if (s.entry_flags & KT_SESSION_F_LATE) {
		char t[TF_TIME_LEN];

		pr_warn("cat: session %lld: recording started late, at %s (the recorder found it "
			"running): what it showed before then is not recorded", (long long)s.id,
			tf_format_time(s.start_us, t, sizeof(t)));
	}
	if (follow)
		kt_src_catch_signals();
	/* Without --follow an active session just ends at what is stored. */
	err = kt_src_copy(&src, want, out, NULL);
	if (err == -EINTR) /* Ctrl-C is how a follower stops: a clean end */
		err = 0;
	if (err == -EIO || (!err && (fflush(out) || ferror(out)))) {
		pr_err("cat: writing %s: %s", path ? path : "stdout", strerror(errno));
		goto cleanup;
	}
	if (err)
		goto cleanup; /* logged by the store */
	if (kt_src_finish(&src))
		goto cleanup; /* corrupt chunks, logged */
	ret = KT_EXIT_OK;
cleanup:
	if (out != stdout && fclose(out) && ret == KT_EXIT_OK) {
		pr_err("cat: writing %s: %s", path, strerror(errno));
		ret = KT_EXIT_RUNTIME;
	}
	kt_src_close(&src);
	return ret;
}

const struct kt_cmd kt_cmd_cat = {
	.name = "cat",
	.summary = "write a session's recorded terminal output (or --input) raw",
	.run = run,
	.usage = usage,
};
