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

static void check_field(const char *f, size_t cap)
{
	const char *end = memchr(f, '\0', cap);

	if (!end)
		abort();
	for (const char *p = f; p < end; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_pod_meta m;
	int rc = kt_docker_config_parse((const char *)data, size, &m);

	if (rc != 0 && rc != -ENOENT && rc != -EBADMSG && rc != -EFBIG)
		abort();
	check_field(m.pod, sizeof(m.pod));
	check_field(m.k8s_namespace, sizeof(m.k8s_namespace));
	check_field(m.pod_uid, sizeof(m.pod_uid));
	check_field(m.container, sizeof(m.container));
	if (m.type == KT_CT_SANDBOX && m.container[0])
		abort();
	return 0;
}
