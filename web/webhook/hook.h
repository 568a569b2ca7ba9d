/* SPDX-License-Identifier: Apache-2.0 */
/* kubetape-webhook: shared state of main.c and hook.c. */
#ifndef KUBETAPE_WEBHOOK_HOOK_H
#define KUBETAPE_WEBHOOK_HOOK_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define KT_HOOK_MAX_TOKEN 512
#define KT_HOOK_MIN_TOKEN 16
/* The API server's default batch is at most 400 events (--audit-webhook-
 * batch-max-size); an exec Event at Metadata level is 1-2 KiB. */
#define KT_HOOK_DEFAULT_MAX_BODY (8u << 20)

struct kt_hook {
	struct kt_store *st;
	const char *client_ca;     /* verify client certificates with it */
	char *token;               /* or accept this bearer token */
	size_t token_len;
	size_t max_body;
	bool admission;            /* serve POST /admit */
	struct {
		uint64_t batches, events, stored, duplicates;
		uint64_t malformed, too_big, unauthenticated, failed;
	} stats;
};
extern struct kt_hook kt_hook;
extern const struct lws_protocols kt_hook_protocols[];

#endif
