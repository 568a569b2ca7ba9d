// SPDX-License-Identifier: Apache-2.0
/*
 * Runs of the recorder's BPF programs the kernel skipped (recursion_misses),
 * kept in meta (FORMAT.md, "meta"): a node-level count with the time span
 * it was seen in, and per loaded program the kernel count already added.
 * A skipped run may have been a session's tty read, fork or exec, or
 * nothing recorded at all: it is loss that cannot be attributed, so it is
 * stored apart from the sessions' own lost_bytes/lost_events and shown
 * with every session whose time overlaps it (kubetape show).
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store_int.h"
#include "log.h"
#include "pg/pgr.h"

#define K_RUNS "skipped.runs"
#define K_FIRST "skipped.first_us"
#define K_LAST "skipped.last_us"

static void prog_key(char *k, size_t cap, const char *boot_id, uint32_t prog_id)
{
	snprintf(k, cap, "skipped.%.8s.%" PRIu32, boot_id, prog_id);
}

static int get0(struct kt_store *st, const char *key, int64_t *v)
{
	int err = kt_store_meta_get_int(st, key, v);

	if (err == -ENOENT) {
		*v = 0;
		return 0;
	}
	return err;
}

int kt_store_skipped_get(struct kt_store *st, struct kt_skipped *out)
{
	int64_t runs, first, last;
	int err;

	memset(out, 0, sizeof(*out));
	/* node meta, not shipped (FORMAT-pg.md): callers say so */
	if (st->pg)
		return -EOPNOTSUPP;
	err = get0(st, K_RUNS, &runs) ?: get0(st, K_FIRST, &first) ?: get0(st, K_LAST, &last);
	if (err)
		return err;
	out->runs = (uint64_t)runs;
	out->first_us = first;
	out->last_us = last;
	return 0;
}

int kt_store_skipped_seen(struct kt_store *st, const char *boot_id, uint32_t prog_id,
			  uint64_t *misses)
{
	char k[64];
	int64_t v;
	int err;

	prog_key(k, sizeof(k), boot_id, prog_id);
	err = get0(st, k, &v);
	*misses = err ? 0 : (uint64_t)v;
	return err;
}

int kt_store_skipped_add(struct kt_store *st, const char *boot_id, uint32_t prog_id,
			 uint64_t misses, uint64_t added, int64_t now_us)
{
	struct kt_skipped cur;
	char k[64];
	int err;

	assert(added > 0);
	err = kt_store_skipped_get(st, &cur);
	if (err)
		return err;
	prog_key(k, sizeof(k), boot_id, prog_id);
	err = kt_store_meta_set_int(st, K_RUNS, (int64_t)(cur.runs + added)) ?:
	      kt_store_meta_set_int(st, K_LAST, now_us) ?:
	      kt_store_meta_set_int(st, k, (int64_t)misses);
	if (!err && !cur.first_us)
		err = kt_store_meta_set_int(st, K_FIRST, now_us);
	return err;
}
