// SPDX-License-Identifier: Apache-2.0
/* Per-client limits and login throttling (see peers.h). */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libwebsockets.h>

#include "peers.h"
#include "log.h"
#include "server.h"

struct kt_web_limits kt_web_limits = {
	.conns_per_ip = KT_WEB_DEFAULT_CONNS_PER_IP,
	.streams_per_ip = KT_WEB_DEFAULT_STREAMS_PER_IP,
};

#define BUCKETS 4096

/* One client address.  Kept while it has connections or a login bucket
 * that is not full again. */
struct peer {
	struct peer *next;
	uint8_t addr[16];       /* IPv4 as v4-mapped IPv6 */
	unsigned conns, streams;
	int64_t login_tokens_us; /* bucket level in time units: full = BURST * REFILL */
	int64_t login_at_us;     /* when the level was last brought up to date */
	int64_t throttle_log_us; /* last "throttled" log line for this address */
	int64_t conns_log_us, streams_log_us; /* last "over the cap" lines */
	unsigned fails;          /* failed logins since the last success */
};

/* One accepted connection. */
struct tracked {
	struct tracked *next;
	const struct lws *wsi;
	struct peer *peer;
	unsigned streams;       /* streams this connection holds (0 or 1) */
};

static struct peer *peers[BUCKETS];
static struct tracked *conns[BUCKETS];
static unsigned total_streams;
static int64_t global_tokens_us = KT_WEB_LOGIN_GLOBAL_BURST * KT_WEB_LOGIN_GLOBAL_REFILL_US;
static int64_t global_at_us;

static unsigned addr_hash(const uint8_t *a)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ a[i]) * 16777619u;
	return h % BUCKETS;
}

static unsigned wsi_hash(const struct lws *wsi)
{
	uintptr_t p = (uintptr_t)wsi;

	return (unsigned)((p >> 4) ^ (p >> 16)) % BUCKETS;
}

static void to_v6(const struct sockaddr *sa, uint8_t out[16])
{
	memset(out, 0, 16);
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else if (sa->sa_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	}
}

static void addr_text(const uint8_t a[16], char *buf, size_t len)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!memcmp(a, mapped, 12))
		inet_ntop(AF_INET, a + 12, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a, buf, (socklen_t)len);
}

static bool bucket_full(const struct peer *p, int64_t now)
{
	return p->login_tokens_us + (now - p->login_at_us) >=
	       KT_WEB_LOGIN_BURST * KT_WEB_LOGIN_REFILL_US;
}

static struct peer *peer_get(const uint8_t a[16], bool create)
{
	struct peer **pp = &peers[addr_hash(a)], *p;

	for (p = *pp; p; p = p->next)
		if (!memcmp(p->addr, a, 16))
			return p;
	if (!create)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	memcpy(p->addr, a, 16);
	p->login_tokens_us = KT_WEB_LOGIN_BURST * KT_WEB_LOGIN_REFILL_US;
	p->login_at_us = lws_now_usecs();
	p->next = *pp;
	*pp = p;
	return p;
}

/* Drop an address nothing refers to any more. */
static void peer_maybe_free(struct peer *p)
{
	struct peer **pp = &peers[addr_hash(p->addr)];

	if (p->conns || p->streams || !bucket_full(p, lws_now_usecs()))
		return;
	for (; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			free(p);
			return;
		}
}

static struct tracked *tracked_get(const struct lws *wsi, struct tracked ***link)
{
	struct tracked **pp = &conns[wsi_hash(wsi)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->wsi == wsi) {
			if (link)
				*link = pp;
			return *pp;
		}
	return NULL;
}

int limits_accept(struct lws *wsi)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct tracked *t;
	struct peer *p;
	uint8_t a[16];

	if (getpeername(lws_get_socket_fd(wsi), (struct sockaddr *)&ss, &sl))
		return 0;	/* not a socket we can name: nothing to count */
	to_v6((struct sockaddr *)&ss, a);
	p = peer_get(a, true);
	t = calloc(1, sizeof(*t));
	if (!p || !t) {
		free(t);
		return -1;
	}
	t->wsi = wsi;
	t->peer = p;
	t->next = conns[wsi_hash(wsi)];
	conns[wsi_hash(wsi)] = t;
	p->conns++;
	return 0;
}

int limits_filter(const struct lws_filter_network_conn_args *a)
{
	uint8_t addr[16];
	char txt[INET6_ADDRSTRLEN];
	struct peer *p;
	int64_t now;

	if (!kt_web_limits.conns_per_ip)
		return 0;
	to_v6((const struct sockaddr *)&a->cli_addr, addr);
	p = peer_get(addr, false);
	if (!p || p->conns < kt_web_limits.conns_per_ip)
		return 0;
	now = lws_now_usecs();
	if (now - p->conns_log_us > 10 * 1000000LL) {
		addr_text(addr, txt, sizeof(txt));
		pr_warn("%s has %u connections open (limit %u, --max-conns-per-ip): "
			"closing the new ones", txt, p->conns, kt_web_limits.conns_per_ip);
		p->conns_log_us = now;
	}
	return 1;
}

void limits_closed(struct lws *wsi)
{
	struct tracked **link, *t = tracked_get(wsi, &link);
	struct peer *p;

	if (!t)
		return;
	p = t->peer;
	*link = t->next;
	assert(p->conns > 0 && p->streams >= t->streams && total_streams >= t->streams);
	p->conns--;
	p->streams -= t->streams;
	total_streams -= t->streams;
	free(t);
	peer_maybe_free(p);
}

int limits_stream_begin(struct lws *wsi)
{
	struct tracked *t = tracked_get(wsi, NULL);

	if (total_streams >= KT_WEB_MAX_STREAMS) {
		static int64_t logged_us;

		if (lws_now_usecs() - logged_us > 10 * 1000000LL) {
			pr_warn("refusing streams: %d open (server limit)", KT_WEB_MAX_STREAMS);
			logged_us = lws_now_usecs();
		}
		return -EBUSY;
	}
	if (t && kt_web_limits.streams_per_ip && t->peer->streams >= kt_web_limits.streams_per_ip) {
		char txt[INET6_ADDRSTRLEN];
		int64_t now = lws_now_usecs();

		if (now - t->peer->streams_log_us > 10 * 1000000LL) {
			addr_text(t->peer->addr, txt, sizeof(txt));
			pr_warn("refusing streams to %s: %u open (limit %u, --max-streams-per-ip)", txt,
				t->peer->streams, kt_web_limits.streams_per_ip);
			t->peer->streams_log_us = now;
		}
		return -EBUSY;
	}
	if (!t)
		return 0;	/* not a counted connection (cannot happen on a listener) */
	total_streams++;
	t->streams++;
	t->peer->streams++;
	return 0;
}

void limits_stream_end(struct lws *wsi)
{
	struct tracked *t = tracked_get(wsi, NULL);

	/* also called after limits_closed gave the stream back: no-op then */
	if (!t || !t->streams)
		return;
	assert(total_streams > 0 && t->peer->streams > 0);
	total_streams--;
	t->streams--;
	t->peer->streams--;
}

void limits_stream_progress(struct lws *wsi)
{
	lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, KT_WEB_STALL_S);
}

void limits_stream_sndbuf(struct lws *wsi)
{
	/* a client that never reads makes the kernel buffer at most this */
	int sz = 64 * 1024;	/* the kernel doubles it */

	setsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

static void refill(int64_t *level, int64_t *at, int64_t now, int64_t full)
{
	*level += now - *at;
	if (*level > full)
		*level = full;
	*at = now;
}

int limits_login_allow(struct lws *wsi, unsigned *retry_s)
{
	struct tracked *t = tracked_get(wsi, NULL);
	struct peer *p = t ? t->peer : NULL;
	int64_t now = lws_now_usecs(), wait_us = 0;
	char txt[INET6_ADDRSTRLEN];

	refill(&global_tokens_us, &global_at_us, now,
	       KT_WEB_LOGIN_GLOBAL_BURST * KT_WEB_LOGIN_GLOBAL_REFILL_US);
	if (p)
		refill(&p->login_tokens_us, &p->login_at_us, now,
		       KT_WEB_LOGIN_BURST * KT_WEB_LOGIN_REFILL_US);
	if (p && p->login_tokens_us < KT_WEB_LOGIN_REFILL_US)
		wait_us = KT_WEB_LOGIN_REFILL_US - p->login_tokens_us;
	else if (global_tokens_us < KT_WEB_LOGIN_GLOBAL_REFILL_US)
		wait_us = KT_WEB_LOGIN_GLOBAL_REFILL_US - global_tokens_us;
	if (wait_us) {
		*retry_s = (unsigned)((wait_us + 999999) / 1000000);
		if (p && now - p->throttle_log_us > 10 * 1000000LL) {
			addr_text(p->addr, txt, sizeof(txt));
			pr_warn("login attempts from %s throttled (%u failed so far)", txt, p->fails);
			p->throttle_log_us = now;
		}
		return -EAGAIN;
	}
	global_tokens_us -= KT_WEB_LOGIN_GLOBAL_REFILL_US;
	if (p)
		p->login_tokens_us -= KT_WEB_LOGIN_REFILL_US;
	return 0;
}

void limits_login_failed(struct lws *wsi)
{
	struct tracked *t = tracked_get(wsi, NULL);
	char txt[INET6_ADDRSTRLEN] = "unknown address";

	if (t) {
		t->peer->fails++;
		addr_text(t->peer->addr, txt, sizeof(txt));
	}
	pr_warn("login failed from %s: wrong token (%u failed from there)", txt,
		t ? t->peer->fails : 0);
}

void limits_login_ok(struct lws *wsi)
{
	struct tracked *t = tracked_get(wsi, NULL);
	char txt[INET6_ADDRSTRLEN] = "unknown address";

	if (t) {
		t->peer->fails = 0;
		addr_text(t->peer->addr, txt, sizeof(txt));
	}
	pr_info("login from %s", txt);
}

void limits_peer(struct lws *wsi, char *buf, size_t len)
{
	struct tracked *t = tracked_get(wsi, NULL);

	if (t)
		addr_text(t->peer->addr, buf, len);
	else
		snprintf(buf, len, "unknown address");
}
