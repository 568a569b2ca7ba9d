/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Authentication: one shared bearer token (--token-file).  A request is
 * authenticated by "Authorization: Bearer TOKEN" (API clients) or by the
 * login cookie the login form sets (browsers: WebSockets cannot send an
 * Authorization header).  Tokens and cookie ids are compared in constant
 * time.  The cookie holds a random id, never the token; ids live in memory
 * (a restart logs everyone out) in a small table, expire after
 * KT_AUTH_COOKIE_TTL_S and the oldest is evicted when the table is full.
 */
#ifndef KUBETAPE_WEB_AUTH_H
#define KUBETAPE_WEB_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct lws;

#define KT_AUTH_COOKIE "kt_session"
#define KT_AUTH_COOKIE_TTL_S (12 * 3600)
#define KT_AUTH_MIN_TOKEN 16
#define KT_AUTH_MAX_TOKEN 512

/* Reads the token (trailing newline/space trimmed).  -EINVAL (logged) for
 * a token shorter than KT_AUTH_MIN_TOKEN, longer than KT_AUTH_MAX_TOKEN or
 * with non-printable bytes; warns when the file is readable by others. */
int kt_auth_load(const char *path, char **token, size_t *len);

/* True when auth is off, or the request carries the token or a live cookie. */
bool kt_auth_ok(struct lws *wsi);

/*
 * POST /login body (application/x-www-form-urlencoded, "token=..."): on a
 * matching token, writes a Set-Cookie header line (with CRLF) to `hdr` and
 * returns 0; -EACCES for a wrong token, -EINVAL for a malformed body.
 */
int kt_auth_login(const char *form, size_t len, char *hdr, size_t hdr_len);
/* Forgets the request's cookie and writes a header line expiring it. */
void kt_auth_logout(struct lws *wsi, char *hdr, size_t hdr_len);

#endif
