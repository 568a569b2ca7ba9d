/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Store records as JSON (jansson): the one encoder behind `kubetape ...
 * --json` (replay/json_out.c) and the kubetape-web API (web/jsonenc.c).
 * Field names are the struct field names of store.h; derived fields (state
 * name, exit code/signal) sit next to the raw ones.  Recorded strings may
 * hold invalid UTF-8, which JSON cannot carry: bad bytes become U+FFFD.
 *
 * The two outputs are documented separately and differ, chosen by
 * struct kt_json_style:
 *   KT_JSON_CLI  every field: kernel_id, cgroup and namespace ids,
 *                leader_gid, state_code, ISO times and durations,
 *                core_dumped, argc; u64 values above INT64_MAX as decimal
 *                strings (jansson integers are signed).
 *   KT_JSON_API  the fields the web UI uses plus "active"; u64 values
 *                clamped to 2^53 (what a JavaScript number holds exactly;
 *                no real counter gets there).
 */
#ifndef KUBETAPE_STORE_JSON_H
#define KUBETAPE_STORE_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

enum kt_json_profile { KT_JSON_CLI, KT_JSON_API };

struct kt_json_style {
	enum kt_json_profile profile;
	/* KT_JSON_CLI: writes the ISO time of "start", "end" and "time" into
	 * buf (KT_JSON_TIME_LEN bytes) and returns it */
	char *(*format_time)(int64_t us, char *buf, size_t len);
};
#define KT_JSON_TIME_LEN 32

/* New references, NULL on allocation failure. */
json_t *kt_json_session(const struct kt_session_info *s, const struct kt_json_style *st);
json_t *kt_json_command(const struct kt_command *c, const struct kt_json_style *st);
/* A JSON string of recorded bytes (invalid UTF-8 as U+FFFD). */
json_t *kt_json_string(const char *s, size_t n);

/* "active", "ended", "interrupted" or "unknown" (enum kt_session_state). */
const char *kt_session_state_name(int state);

#endif
