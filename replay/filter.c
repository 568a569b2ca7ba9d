// SPDX-License-Identifier: Apache-2.0
/* Shared session filter flags (see filter.h). */
#include <errno.h>

#include "filter.h"
#include "timefmt.h"

void kt_filter_usage(FILE *out)
{
	fputs("Filters (all must match):\n"
	      "  -n, --namespace NS   Kubernetes namespace (exact)\n"
	      "      --pod POD        pod name (exact)\n"
	      "      --container NAME container name (exact)\n"
	      "      --node NODE      node name (exact)\n"
	      "      --since TIME     sessions still open at or after TIME\n"
	      "      --until TIME     sessions started at or before TIME\n"
	      "      --active         only sessions still being recorded\n"
	      "      --tty, --no-tty  only sessions with / without a terminal\n"
	      "  TIME is a duration ago (90s, 30m, 2h, 1d, 1w, 1h30m), epoch seconds\n"
	      "  (1795341600), or UTC date/time (2026-11-22T10:00:00Z, 2026-11-22 10:00,\n"
	      "  2026-11-22; a +HH:MM suffix gives another zone).\n", out);
}

void kt_filter_init(struct kt_session_filter *f)
{
	*f = (struct kt_session_filter)KT_SESSION_FILTER_INIT;
}

static int set_str(struct kt_cli *cli, const char **dst, const char *flag, const char *arg)
{
	if (!arg || !*arg) {
		kt_cli_usage_error(cli, "%s needs a non-empty value", flag);
		return -EINVAL;
	}
	*dst = arg;
	return 1;
}

static int set_time(struct kt_cli *cli, int64_t *dst, const char *flag, const char *arg)
{
	const char *why = "malformed";
	int64_t t;

	if (tf_parse_time(arg, kt_now_us(), &t, &why)) {
		kt_cli_usage_error(cli, "invalid %s '%s': %s", flag, arg, why);
		return -EINVAL;
	}
	/* 0 means "open" in the filter: the epoch itself is no real bound */
	*dst = t ? t : 1;
	return 1;
}

static int set_tty(struct kt_cli *cli, struct kt_session_filter *f, int v)
{
	if (f->tty != -1 && f->tty != v) {
		kt_cli_usage_error(cli, "--tty and --no-tty exclude each other");
		return -EINVAL;
	}
	f->tty = v;
	return 1;
}

int kt_filter_opt(struct kt_cli *cli, struct kt_session_filter *f, int c,
		  const char *arg)
{
	switch (c) {
	case KT_OPT_NAMESPACE: return set_str(cli, &f->k8s_namespace, "--namespace", arg);
	case KT_OPT_POD: return set_str(cli, &f->pod, "--pod", arg);
	case KT_OPT_CONTAINER: return set_str(cli, &f->container, "--container", arg);
	case KT_OPT_NODE: return set_str(cli, &f->node, "--node", arg);
	case KT_OPT_SINCE: return set_time(cli, &f->since_us, "--since", arg);
	case KT_OPT_UNTIL: return set_time(cli, &f->until_us, "--until", arg);
	case KT_OPT_ACTIVE: f->active = 1; return 1;
	case KT_OPT_TTY: return set_tty(cli, f, 1);
	case KT_OPT_NO_TTY: return set_tty(cli, f, 0);
	default: return 0;
	}
}

int kt_filter_getopt(struct kt_cli *cli, int argc, char **argv,
		     const struct option *longopts, struct kt_session_filter *f)
{
	int c, err;

	while ((c = kt_cli_getopt(cli, argc, argv, KT_FILTER_SHORTOPTS, longopts)) >= 0) {
		err = kt_filter_opt(cli, f, c, optarg);
		if (err < 0)
			return KT_OPT_ERROR;
		if (!err)
			break;
	}
	return c;
}

int kt_filter_check(struct kt_cli *cli, const struct kt_session_filter *f)
{
	if (f->since_us && f->until_us && f->since_us > f->until_us) {
		kt_cli_usage_error(cli, "--since is later than --until");
		return -EINVAL;
	}
	return 0;
}
