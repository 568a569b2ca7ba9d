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
#include "pod_meta_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_pod_meta m;
	int rc = kt_oci_annotations_parse((const char *)data, size, &m);

	if (rc != 0 && rc != -ENOENT && rc != -EBADMSG && rc != -EFBIG)
		abort();
	check_pod_meta(&m);
	check_field(m.sandbox_id, sizeof(m.sandbox_id));
	if (m.sandbox_id[0] && !kt_hex_id_valid(m.sandbox_id, KT_CID_MIN, KT_CID_MAX))
		abort();
	if (rc != 0 && (m.pod[0] || m.container[0] || m.runtime))
		abort();
	return 0;
}
