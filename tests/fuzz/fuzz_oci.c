// SPDX-License-Identifier: Apache-2.0
/*
 * kt_oci_annotations_parse on arbitrary bytes (config.json is written by
 * the runtime, but its values come from pod specs).  Checks that every
 * output field is terminated, free of control characters, and that the
 * sandbox id, which is later used as a path component, is hex.
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
	int rc = kt_oci_annotations_parse((const char *)data, size, &m);

	if (rc != 0 && rc != -ENOENT && rc != -EBADMSG && rc != -EFBIG)
		abort();
	check_field(m.pod, sizeof(m.pod));
	check_field(m.k8s_namespace, sizeof(m.k8s_namespace));
	check_field(m.pod_uid, sizeof(m.pod_uid));
	check_field(m.container, sizeof(m.container));
	check_field(m.sandbox_id, sizeof(m.sandbox_id));
	if (m.sandbox_id[0] && !kt_hex_id_valid(m.sandbox_id, KT_CID_MIN, KT_CID_MAX))
		abort();
	if (m.type == KT_CT_SANDBOX && m.container[0])
		abort();
	if (rc != 0 && (m.pod[0] || m.container[0] || m.runtime))
		abort();
	return 0;
}
