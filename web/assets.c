// SPDX-License-Identifier: Apache-2.0
/*
 * Built-in UI files (generated at build time by web/embed.c from web/ui/
 * and node_modules/@xterm/xterm).  Lookup is an exact match on the decoded
 * path: there is no filesystem behind it, so "../" and friends can only
 * miss.  "/" is the index page.
 */
#include <string.h>

#include "routes.h"

extern const struct web_asset web_assets[];
extern const size_t web_assets_n;

const struct web_asset *web_asset_find(const char *path)
{
	if (!strcmp(path, "/"))
		path = "/index.html";
	for (size_t i = 0; i < web_assets_n; i++)
		if (!strcmp(web_assets[i].path, path))
			return &web_assets[i];
	return NULL;
}
