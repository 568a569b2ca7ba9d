/* SPDX-License-Identifier: Apache-2.0 */
/* Handlers the router in http.c dispatches to.  Each returns what the lws
 * callback must return (0 to continue, -1 to close the connection). */
#ifndef KUBETAPE_WEB_ROUTES_H
#define KUBETAPE_WEB_ROUTES_H

#include <stdint.h>

#include "server.h"

/* api.c */
int api_info(struct lws *wsi, struct conn *c);
int api_sessions(struct lws *wsi, struct conn *c);
int api_session(struct lws *wsi, struct conn *c, int64_t id);
int api_commands(struct lws *wsi, struct conn *c, int64_t id);
int api_search(struct lws *wsi, struct conn *c);

/* stream.c: GET .../stream and .../export.cast */
int stream_start(struct lws *wsi, struct conn *c, int64_t id, bool export);
int stream_writeable(struct lws *wsi, struct conn *c);
void stream_free(struct conn *c);

/* live.c: the WebSocket */
int live_filter(struct lws *wsi);        /* 0 = accept the upgrade */
int live_established(struct lws *wsi, struct conn *c);
int live_writeable(struct lws *wsi, struct conn *c);
void live_closed(struct conn *c);

/* assets.c */
struct web_asset {
	const char *path;           /* "/", "/app.js", ... */
	const char *ctype;
	const uint8_t *data;
	size_t len;
};
const struct web_asset *web_asset_find(const char *path);

#endif
