/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What kubetape-web and kubetape-webhook share about running an lws server
 * (web/listen.c): the --listen address and lws's log lines in our logger.
 */
#ifndef KUBETAPE_WEB_LISTEN_H
#define KUBETAPE_WEB_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

/*
 * "1.2.3.4:80", "[::1]:80", "localhost:80" -> host (an IP literal, no
 * brackets; localhost becomes 127.0.0.1), port (0-65535, 0 = any free one)
 * and whether it is a loopback address (loopback may be NULL).  Interface
 * and DNS names are refused: -EINVAL.
 */
int web_parse_listen(const char *s, char *host, size_t hlen, int *port, bool *loopback);

/* lws_set_log_level's emit function: lws's errors and warnings, one line
 * each, through store/log.h. */
void web_lws_logger(int level, const char *line);

#endif
