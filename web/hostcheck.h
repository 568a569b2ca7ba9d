/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host and Origin checks against DNS rebinding and cross-site reads
 * (web/hostcheck.c).
 *
 * A page on attacker.example whose name the attacker re-points at
 * 127.0.0.1 is same-origin with itself, so the browser lets it read this
 * server's answers: only the Host header still says "attacker.example".
 * Every HTTP request and WebSocket upgrade must therefore name this server
 * in Host:
 *   - the listen address itself (an IP literal; on 0.0.0.0 or [::] any IP
 *     literal), or "localhost" on a loopback listener, with any port (a
 *     port-forward changes it; a rebinding page cannot use an IP literal);
 *   - or a name given with --allow-host NAME (any port) or NAME:PORT (that
 *     port only), for a DNS name or a reverse proxy in front.
 * An Origin header, when sent, must be http:// or https:// followed by the
 * same host[:port] as Host (a foreign page's fetch or WebSocket carries its
 * own origin).  Answers: 421 for a foreign Host, 403 for a foreign Origin.
 */
#ifndef KUBETAPE_WEB_HOSTCHECK_H
#define KUBETAPE_WEB_HOSTCHECK_H

#include <stdbool.h>

struct lws;

#define KT_WEB_MAX_ALLOW_HOSTS 32

/* The listen address (as given, without brackets) and the bound port. */
void hostcheck_listen(const char *host, int port, bool loopback, bool tls);
/* --allow-host: "name", "name:port", "1.2.3.4", "[::1]:80".  -EINVAL. */
int hostcheck_allow(const char *spec);

/* NULL when the request may go on, else the reason (for the error body). */
const char *hostcheck_request(struct lws *wsi, unsigned *status);

#endif
