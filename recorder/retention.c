// SPDX-License-Identifier: Apache-2.0
/* Continuous retention in the index worker (retention.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence.h"
#include "log.h"
#include "prune.h"
#include "retention.h"
#include "store.h"

#define FIRST_DELAY_US (5 * 1000000LL)
#define INTERVAL_US (600 * 1000000LL)

static int64_t older_us;
static uint64_t max_bytes;
static char older_arg[32], bytes_arg[32];
static int64_t next_us;
static char key_path[4096];
static struct kt_signer *signer;

void kt_retention_set_key(const char *path)
{
	snprintf(key_path, sizeof(key_path), "%s", path ? path : "");
}

int kt_retention_set(bool older, const char *arg)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!arg || !*arg || *arg == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || v == 0)
		return -EINVAL;
	if (older) {
		switch (*end) {
		case 0: case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: return -EINVAL;
		}
	} else {
		switch (*end) {
		case 0: mul = 1; break;
		case 'K': mul = 1ull << 10; break;
		case 'M': mul = 1ull << 20; break;
		case 'G': mul = 1ull << 30; break;
		default: return -EINVAL;
		}
	}
	if (*end && end[1])
		return -EINVAL;
	if (v > UINT64_MAX / mul / (older ? 1000000 : 1) || (older && v * mul > INT64_MAX / 1000000))
		return -EINVAL;
	if (older) {
		older_us = (int64_t)(v * mul) * 1000000;
		snprintf(older_arg, sizeof(older_arg), "%llus", v * mul);
	} else {
		max_bytes = v * mul;
		snprintf(bytes_arg, sizeof(bytes_arg), "%" PRIu64, max_bytes);
	}
	return 0;
}

int kt_retention_argv(char **argv)
{
	int n = 0;

	if (older_us) {
		argv[n++] = "--retain-older-than";
		argv[n++] = older_arg;
	}
	if (max_bytes) {
		argv[n++] = "--retain-max-bytes";
		argv[n++] = bytes_arg;
	}
	if (n && key_path[0]) {
		argv[n++] = "--key";
		argv[n++] = key_path;
	}
	return n;
}

void kt_retention_tick(struct kt_store *st)
{
	struct kt_prune_rule r = { .older_than_us = older_us, .max_bytes = max_bytes,
				   .who = "kubetape-recorder retention" };
	struct kt_prune_stats stats;
	int64_t now = kt_now_us();
	int err;

	if (!older_us && !max_bytes)
		return;
	if (!next_us)
		next_us = now + FIRST_DELAY_US;
	if (now < next_us)
		return;
	next_us = now + INTERVAL_US;
	/* the recorder created the key before starting the worker */
	if (!signer && key_path[0] && kt_signer_load(key_path, &signer)) {
		pr_warn("retention: the node key %s cannot be loaded: not pruning (an unsigned "
			"prune would read as a deletion); next try in 10 minutes", key_path);
		return;
	}
	r.signer = signer;
	err = kt_store_prune(st, &r, NULL, NULL, &stats);
	if (err)
		pr_warn("retention: prune failed (%s); next try in 10 minutes", strerror(-err));
	else if (stats.sessions)
		pr_info("retention: pruned %" PRId64 " sessions (%" PRId64 " bytes); exempt %" PRId64
			" held, %" PRId64 " active or not settled", stats.sessions, stats.bytes,
			stats.held, stats.active);
}

void kt_retention_done(void)
{
	kt_signer_free(signer);
	signer = NULL;
}
