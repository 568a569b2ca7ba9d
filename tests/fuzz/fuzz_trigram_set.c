// SPDX-License-Identifier: Apache-2.0
/*
 * A screen_sets blob (schema v8, store/index/index_set.c) as a hostile
 * store holds it: ix_set_decode on arbitrary bytes.  Properties:
 *   - 0 or -EBADMSG (or -ENOMEM), never a crash or an overlong read;
 *   - on success the codes are strictly increasing, each a valid code
 *     (ix_tri_text turns it into 1-12 bytes of UTF-8), and encoding them
 *     again decodes to the same codes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "index_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t *c = NULL, *c2 = NULL;
	size_t n = 0, n2 = 0;
	struct buf b = { 0 };
	int err = ix_set_decode(data, size, &c, &n);

	if (err && err != -EBADMSG && err != -ENOMEM)
		abort();
	if (err) {
		if (c || n)
			abort();
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		char t[13];
		int len = ix_tri_text(c[i], t);

		if (i && c[i] <= c[i - 1])
			abort();
		/* a decodable code is <= IX_CODE_MAX; its characters may still be
		 * out of Unicode's range (the shipper refuses those) */
		if (len != -EBADMSG && (len < 3 || len > 12 || strlen(t) != (size_t)len))
			abort();
	}
	if (ix_set_encode(NULL, c, n, &b) || ix_set_decode(b.p, b.len, &c2, &n2) || n2 != n ||
	    (n && memcmp(c, c2, n * sizeof(*c))))
		abort();
	free(c);
	free(c2);
	free(b.p);
	return 0;
}
