// SPDX-License-Identifier: Apache-2.0
/* Evidence frames the recorder puts into a session's stream (evidence.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence.h"
#include "rec_evidence.h"
#include "log.h"

static int add_owned(struct kt_chunk_builder *cb, uint8_t type, int64_t ts, uint8_t *p,
		     size_t len, int err)
{
	if (err)
		return err;
	err = len > UINT32_MAX ? -E2BIG : kt_chunk_add(cb, type, ts, p, (uint32_t)len);
	free(p);
	return err;
}

int kt_rec_ev_meta(struct kt_chunk_builder *cb, const struct kt_session_info *i)
{
	uint8_t *p = NULL;
	size_t len = 0;
	int err = kt_evidence_meta(i, &p, &len);

	return add_owned(cb, KT_FRAME_META, i->start_us, p, len, err);
}

int kt_rec_ev_cmd(struct kt_chunk_builder *cb, const struct kt_command *c)
{
	uint8_t *p = NULL;
	size_t len = 0;
	int err = kt_evidence_cmd(c, &p, &len);

	return add_owned(cb, KT_FRAME_CMD, c->ts_us, p, len, err);
}

int kt_rec_ev_exit(struct kt_chunk_builder *cb, int32_t seq, int64_t end_us, int status)
{
	uint8_t p[32];
	size_t len = kt_evidence_exit(seq, end_us, status, p);

	return kt_chunk_add(cb, KT_FRAME_EXIT, end_us, p, (uint32_t)len);
}

int kt_rec_ev_end(struct kt_chunk_builder *cb, const struct kt_session_info *i, int64_t ts_us)
{
	uint8_t p[32];
	size_t len = kt_evidence_end(i, p);

	return kt_chunk_add(cb, KT_FRAME_END, ts_us, p, (uint32_t)len);
}

static int add_varint(struct kt_chunk_builder *cb, uint8_t type, int64_t ts_us, uint64_t v)
{
	uint8_t p[10];
	size_t n = 0;

	do {	/* LEB128, as every varint of the stream (FORMAT.md) */
		p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return kt_chunk_add(cb, type, ts_us, p, (uint32_t)n);
}

int kt_rec_ev_withheld(struct kt_chunk_builder *cb, int64_t ts_us, uint32_t bytes)
{
	return add_varint(cb, KT_FRAME_WITHHELD, ts_us, bytes);
}

int kt_rec_ev_late(struct kt_chunk_builder *cb, int64_t ts_us, int64_t leader_start_us)
{
	return add_varint(cb, KT_FRAME_LATE, ts_us, leader_start_us > 0 ? (uint64_t)leader_start_us : 0);
}

int kt_rec_key_path(const char *db, const char *key, char *buf, size_t len)
{
	const char *slash = strrchr(db, '/');
	int n;

	if (key)
		n = snprintf(buf, len, "%s", key);
	else if (slash)
		n = snprintf(buf, len, "%.*s/node.key", (int)(slash - db), db);
	else
		n = snprintf(buf, len, "node.key");
	if (n < 0 || (size_t)n >= len) {
		pr_err("key path too long");
		return -ENAMETOOLONG;
	}
	return 0;
}
