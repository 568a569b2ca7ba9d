// SPDX-License-Identifier: Apache-2.0
/*
 * kt_cgroup_parse on arbitrary bytes (cut at the first NUL, as the kernel's
 * string would be).  Beyond memory safety it checks the promises callers
 * build paths on: an id returned is lowercase hex of a valid length, a pod
 * uid is a dashed uuid or 32 hex.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../recorder/attrib.h"

static void check_uid(const char *u)
{
	size_t n = strlen(u);

	if (n == 0 || (n == 32 && kt_hex_id_valid(u, 32, 32)))
		return;
	if (n != 36)
		abort();
	for (size_t i = 0; i < n; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? u[i] != '-' : !kt_hex_id_valid((char[]){ u[i], 0 }, 1, 1))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_cgroup_ids ids;
	char *path = malloc(size + 1);
	int rc;

	if (!path)
		return 0;
	memcpy(path, data, size);
	path[size] = '\0';
	rc = kt_cgroup_parse(path, &ids);
	if (rc != 0 && rc != -ENOENT)
		abort();
	if (rc == 0) {
		if (!kt_hex_id_valid(ids.container_id, KT_CID_MIN, KT_CID_MAX))
			abort();
		if (!strstr(path, ids.container_id))
			abort();
	} else if (ids.container_id[0]) {
		abort();
	}
	if (ids.runtime < KT_RT_UNKNOWN || ids.runtime > KT_RT_DOCKER)
		abort();
	check_uid(ids.pod_uid);
	free(path);
	return 0;
}
