/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who may hold the server, and for how long (web/peers.c).
 *
 * The server is one thread with a bounded pool of header buffers, so an
 * unauthenticated client must not be able to occupy it:
 *   - connections per client address are capped (--max-conns-per-ip); the
 *     excess is closed at accept, before it costs a header buffer;
 *   - lws closes a connection that has not sent its whole header block
 *     within KT_WEB_HEADER_DEADLINE_S (a total deadline: trickling bytes do
 *     not extend it), and the pool is large enough for the connections the
 *     caps allow;
 *   - streams, exports and live viewers are capped per address and in
 *     total, their socket send buffers are small, and a client that does
 *     not read for KT_WEB_STALL_S is dropped;
 *   - failed logins are logged with the address and throttled per address
 *     and in total (token buckets).
 * A client behind a proxy shares the proxy's address: raise the caps there.
 */
#ifndef KUBETAPE_WEB_PEERS_H
#define KUBETAPE_WEB_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lws;
struct lws_filter_network_conn_args;

#define KT_WEB_HEADER_DEADLINE_S 5
#define KT_WEB_STALL_S 30
/* at most POOL * DATA bytes (64 MiB) of header buffers, allocated on demand */
#define KT_WEB_HEADER_POOL 512
#define KT_WEB_HEADER_DATA (128 * 1024)
#define KT_WEB_DEFAULT_CONNS_PER_IP 128
#define KT_WEB_DEFAULT_STREAMS_PER_IP 64
#define KT_WEB_MAX_STREAMS 256
/* login: per address a burst of 5, then one attempt per 6 s; in total a
 * burst of 20, then 2 per second */
#define KT_WEB_LOGIN_BURST 5
#define KT_WEB_LOGIN_REFILL_US (6 * 1000000LL)
#define KT_WEB_LOGIN_GLOBAL_BURST 20
#define KT_WEB_LOGIN_GLOBAL_REFILL_US (500 * 1000LL)

struct kt_web_limits {
	unsigned conns_per_ip;     /* 0 = unlimited */
	unsigned streams_per_ip;   /* 0 = unlimited */
};
extern struct kt_web_limits kt_web_limits;

/* LWS_CALLBACK_FILTER_NETWORK_CONNECTION: 1 to hang up at once (the
 * address holds --max-conns-per-ip already), else 0. */
int limits_filter(const struct lws_filter_network_conn_args *a);
/* LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED: counts the connection;
 * -1 only when out of memory (the caller closes it). */
int limits_accept(struct lws *wsi);
/* LWS_CALLBACK_WSI_DESTROY: forget the connection (any wsi; no-op for
 * those limits_accept never saw). */
void limits_closed(struct lws *wsi);

/* A long-lived response (stream, export, live): 0, or -EBUSY when the
 * client or the server is at its cap.  Each successful call is paired with
 * one limits_stream_end. */
int limits_stream_begin(struct lws *wsi);
void limits_stream_end(struct lws *wsi);
/* The stall deadline, renewed after each write. */
void limits_stream_progress(struct lws *wsi);
/* A small send buffer, so a client that never reads costs little. */
void limits_stream_sndbuf(struct lws *wsi);

/* Before checking a login: 0 to go on, or -EAGAIN (throttled, logged)
 * with *retry_s set. */
int limits_login_allow(struct lws *wsi, unsigned *retry_s);
/* After a wrong token / a good one: logged with the client's address. */
void limits_login_failed(struct lws *wsi);
void limits_login_ok(struct lws *wsi);

/* The client's address as text (for logs). */
void limits_peer(struct lws *wsi, char *buf, size_t len);

#endif
