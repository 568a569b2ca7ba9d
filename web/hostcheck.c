// SPDX-License-Identifier: Apache-2.0
/* Host and Origin checks (see hostcheck.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "hostcheck.h"
#include "log.h"

#define NAME_LEN 256

static struct {
	char host[64];          /* listen address, canonical text */
	bool wildcard, loopback, tls;
	int port;
	int n_allow;
	struct {
		char name[NAME_LEN];
		int port;       /* 0 = any */
	} allow[KT_WEB_MAX_ALLOW_HOSTS];
} hc;

/* Canonical text of an IP literal, or false when `s` is not one. */
static bool ip_canon(const char *s, char *out, size_t len)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, s, a) == 1)
		return inet_ntop(AF_INET, a, out, (socklen_t)len) != NULL;
	if (inet_pton(AF_INET6, s, a) == 1)
		return inet_ntop(AF_INET6, a, out, (socklen_t)len) != NULL;
	return false;
}

/* "name", "name:port", "[v6]", "[v6]:port" -> lower-case name (no
 * brackets) and port (0 when absent).  -EINVAL for anything else. */
static int split_hostport(const char *s, size_t slen, char *name, size_t nlen, int *port)
{
	const char *end = s + slen, *hend, *colon = NULL;
	size_t n;

	*port = 0;
	if (!slen)
		return -EINVAL;
	if (s[0] == '[') {
		const char *rb = memchr(s, ']', slen);

		if (!rb)
			return -EINVAL;
		hend = rb;
		s++;
		if (rb + 1 < end) {
			if (rb[1] != ':')
				return -EINVAL;
			colon = rb + 1;
		}
	} else {
		colon = memchr(s, ':', slen);
		hend = colon ? colon : end;
		if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1)))
			return -EINVAL;	/* bare IPv6 without brackets */
	}
	n = (size_t)(hend - s);
	if (!n || n >= nlen)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!isalnum(ch) && ch != '.' && ch != '-' && ch != ':' && ch != '_')
			return -EINVAL;
		name[i] = (char)tolower(ch);
	}
	name[n] = 0;
	if (colon) {
		long p = 0;
		const char *q = colon + 1;

		if (q == end || end - q > 5)
			return -EINVAL;
		for (; q < end; q++) {
			if (!isdigit((unsigned char)*q))
				return -EINVAL;
			p = p * 10 + (*q - '0');
		}
		if (p < 1 || p > 65535)
			return -EINVAL;
		*port = (int)p;
	}
	return 0;
}

void hostcheck_listen(const char *host, int port, bool loopback, bool tls)
{
	if (!ip_canon(host, hc.host, sizeof(hc.host)))
		snprintf(hc.host, sizeof(hc.host), "%s", host);
	hc.wildcard = !strcmp(hc.host, "0.0.0.0") || !strcmp(hc.host, "::");
	hc.loopback = loopback;
	hc.tls = tls;
	hc.port = port;
}

int hostcheck_allow(const char *spec)
{
	char name[NAME_LEN], canon[64];
	int port;

	if (hc.n_allow == KT_WEB_MAX_ALLOW_HOSTS ||
	    split_hostport(spec, strlen(spec), name, sizeof(name), &port))
		return -EINVAL;
	if (ip_canon(name, canon, sizeof(canon)))
		snprintf(name, sizeof(name), "%s", canon);
	snprintf(hc.allow[hc.n_allow].name, NAME_LEN, "%s", name);
	hc.allow[hc.n_allow].port = port;
	hc.n_allow++;
	return 0;
}

/* Does "host[:port]" name this server? */
static bool host_ok(const char *s, size_t len)
{
	char name[NAME_LEN], canon[64];
	int port;

	if (split_hostport(s, len, name, sizeof(name), &port))
		return false;
	if (ip_canon(name, canon, sizeof(canon)))
		snprintf(name, sizeof(name), "%s", canon);
	for (int i = 0; i < hc.n_allow; i++)
		if (!strcmp(hc.allow[i].name, name) && (!hc.allow[i].port || hc.allow[i].port == port))
			return true;
	/* Any port: `kubectl port-forward pod/x 9000:8321` makes the browser
	 * send 127.0.0.1:9000.  A rebinding page needs a DNS name it controls,
	 * never an IP literal or localhost; a page on another port of the same
	 * IP is cross-origin and the Origin check below refuses it. */
	if (!strcmp(name, hc.host))
		return true;
	if (hc.wildcard && ip_canon(name, canon, sizeof(canon)))
		return true;
	return hc.loopback && !strcmp(name, "localhost");
}

const char *hostcheck_request(struct lws *wsi, unsigned *status)
{
	char host[NAME_LEN + 8], origin[NAME_LEN + 16];
	const char *o;
	int hl = 0, ol;

	*status = 421;
	/* No Host at all (HTTP/1.0 tools): a browser always sends one, so a
	 * rebinding page cannot arrive this way. */
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HOST) <= 0)
		goto origin;
	hl = lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST);
	if (hl <= 0 || !host_ok(host, (size_t)hl))
		return "the Host header does not name this server (see --allow-host)";
origin:
	if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0)
		return NULL;
	*status = 403;
	if (hl <= 0)
		return "foreign Origin";	/* an Origin but no Host to match */
	ol = lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN);
	if (ol <= 0)
		return "foreign Origin";
	if (!strncasecmp(origin, "http://", 7))
		o = origin + 7;
	else if (!strncasecmp(origin, "https://", 8))
		o = origin + 8;
	else
		return "foreign Origin";
	/* the same host[:port] as Host (which passed the check) */
	if (strlen(o) != (size_t)hl || strncasecmp(o, host, (size_t)hl))
		return "foreign Origin";
	return NULL;
}
