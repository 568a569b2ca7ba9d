// SPDX-License-Identifier: Apache-2.0
/*
 * The server's state (struct kt_web, server.h) and its store, opened on
 * first use.  Its own file so that the handlers, which read both, do not
 * depend on main.c, which starts them.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "server.h"

struct kt_web kt_web;

struct kt_store *kt_web_store(void)
{
	static int last_err;
	int err;

	if (kt_web.st)
		return kt_web.st;
	err = kt_store_open(kt_web.db_path, KT_STORE_RDONLY, &kt_web.st);
	if (err) {
		kt_web.st = NULL;
		if (err != last_err)
			pr_err("cannot open the store %s: %s (will retry on the next request)",
			       kt_web.db_path, strerror(-err));
		last_err = err;
		return NULL;
	}
	if (last_err)
		pr_info("store %s opened", kt_web.db_path);
	last_err = 0;
	return kt_web.st;
}
