/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the runtime-metadata parsers promise of the struct kt_pod_meta they
 * fill, whatever their input (fuzz_docker.c, fuzz_oci.c): every text field
 * NUL-terminated within its array and free of control characters (the
 * fields reach logs, paths and the store), and a sandbox names no
 * container.  Each check abort()s, which is what libFuzzer and the seed
 * replay (replay_main.c) report.
 */
#ifndef KT_FUZZ_POD_META_CHECK_H
#define KT_FUZZ_POD_META_CHECK_H

#include <stdlib.h>
#include <string.h>

#include "../../recorder/attrib.h"

static inline void check_field(const char *f, size_t cap)
{
	const char *end = memchr(f, '\0', cap);

	if (!end)
		abort();
	for (const char *p = f; p < end; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
}

static inline void check_pod_meta(const struct kt_pod_meta *m)
{
	check_field(m->pod, sizeof(m->pod));
	check_field(m->k8s_namespace, sizeof(m->k8s_namespace));
	check_field(m->pod_uid, sizeof(m->pod_uid));
	check_field(m->container, sizeof(m->container));
	if (m->type == KT_CT_SANDBOX && m->container[0])
		abort();
}

#endif
