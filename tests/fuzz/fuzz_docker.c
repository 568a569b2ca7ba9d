// SPDX-License-Identifier: Apache-2.0
/*
 * kt_docker_config_parse on arbitrary bytes (docker's config.v2.json holds
 * names and labels that come from users and pod specs).  Every output
 * field must be terminated and free of control characters; a sandbox
 * never names a container.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../recorder/attrib.h"
#include "pod_meta_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_pod_meta m;
	int rc = kt_docker_config_parse((const char *)data, size, &m);

	if (rc != 0 && rc != -ENOENT && rc != -EBADMSG && rc != -EFBIG)
		abort();
	check_pod_meta(&m);
	return 0;
}
