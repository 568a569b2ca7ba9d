/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Store records as JSON (jansson) for the API: the store's encoder
 * (store/json.h) with the API's fields.  Field names follow store.h
 * and `kubetape ... --json`; derived fields (state name, exit code/signal)
 * sit next to the raw ones.  Recorded strings may be invalid UTF-8, which
 * JSON cannot carry: bad bytes become U+FFFD.  u64 counters above 2^53 are
 * clamped to 2^53 (what a JavaScript number holds exactly; no real counter
 * gets there).
 */
#ifndef KUBETAPE_WEB_JSONENC_H
#define KUBETAPE_WEB_JSONENC_H

#include <jansson.h>

#include "json.h"
#include "store.h"

/* New references, NULL on allocation failure. */
json_t *je_session(const struct kt_session_info *s);
json_t *je_command(const struct kt_command *c);
json_t *je_str_n(const char *s, size_t n);

/* json_dumps (compact) into a malloc'd buffer; NULL on ENOMEM.  Steals j. */
char *je_dump(json_t *j, size_t *len);

#endif
