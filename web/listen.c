// SPDX-License-Identifier: Apache-2.0
/* The listen address and lws's logging, for both servers (listen.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "listen.h"
#include "log.h"

int web_parse_listen(const char *s, char *host, size_t hlen, int *port, bool *loopback)
{
	const char *colon;
	struct in_addr a4;
	struct in6_addr a6;
	char *end;
	long p;
	bool lo;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= hlen)
			return -EINVAL;
		snprintf(host, hlen, "%.*s", (int)(rb - s - 1), s + 1);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= hlen || colon == s)
			return -EINVAL;
		snprintf(host, hlen, "%.*s", (int)(colon - s), s);
	}
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || p < 0 || p > 65535)
		return -EINVAL;
	if (!strcmp(host, "localhost")) {
		snprintf(host, hlen, "127.0.0.1");
		lo = true;
	} else if (inet_pton(AF_INET, host, &a4) == 1) {
		lo = (ntohl(a4.s_addr) >> 24) == 127;
	} else if (inet_pton(AF_INET6, host, &a6) == 1) {
		lo = IN6_IS_ADDR_LOOPBACK(&a6);
	} else {
		return -EINVAL;	/* interface names are ambiguous: addresses only */
	}
	*port = (int)p;
	if (loopback)
		*loopback = lo;
	return 0;
}

void web_lws_logger(int level, const char *line)
{
	char buf[512];
	size_t n;

	snprintf(buf, sizeof(buf), "%s", line);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = 0;
	kt_log(level & LLL_ERR ? KT_LOG_ERROR : KT_LOG_WARN, "lws: %s", buf);
}
