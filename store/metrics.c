// SPDX-License-Identifier: Apache-2.0
/* The scrape endpoint (metrics.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"

struct kt_metrics {
	int fd, stop_pipe[2];
	pthread_t thread;
	pthread_mutex_t lock;
	char *text;
	size_t len;
	kt_metrics_render_cb render;
	void *ctx;
};

static int parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[64];
	const char *colon = strrchr(addr, ':');
	unsigned long port;
	char *end;

	if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || port == 0 || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		host[strlen(host) - 1] = 0;
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1 ||
		    !IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			return -EINVAL;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1 ||
		    (ntohl(s4->sin_addr.s_addr) >> 24) != 127)
			return -EINVAL;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*sl = sizeof(*s4);
	}
	return 0;
}

static void answer(struct kt_metrics *m, int c)
{
	char req[2048], head[256];
	size_t got = 0;
	const char *status = "200 OK";
	char *body = NULL;
	size_t blen = 0;
	struct pollfd p = { .fd = c, .events = POLLIN };

	/* the request line and headers, up to the blank line (2 s at most) */
	while (got < sizeof(req) - 1 && poll(&p, 1, 2000) == 1) {
		ssize_t n = read(c, req + got, sizeof(req) - 1 - got);

		if (n <= 0)
			return;
		got += (size_t)n;
		req[got] = 0;
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[got] = 0;
	if (strncmp(req, "GET ", 4) != 0) {
		status = "405 Method Not Allowed";
	} else if (strncmp(req + 4, "/metrics ", 9) != 0 && strncmp(req + 4, "/metrics?", 9) != 0) {
		status = "404 Not Found";
	} else {
		struct kt_metrics_buf b = { 0 };

		pthread_mutex_lock(&m->lock);
		body = m->len ? malloc(m->len) : NULL;
		if (body) {
			memcpy(body, m->text, m->len);
			blen = m->len;
		}
		pthread_mutex_unlock(&m->lock);
		if (m->render) {
			/* on this thread, with the owner's thread-safe context */
			m->render(m->ctx, &b);
			if (b.len && !b.oom) {
				char *all = realloc(body, blen + b.len);

				if (all) {
					memcpy(all + blen, b.p, b.len);
					body = all;
					blen += b.len;
				}
			}
			kt_mbuf_free(&b);
		}
	}
	snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
		 "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, blen);
	if (write(c, head, strlen(head)) > 0 && blen) {
		size_t off = 0;

		while (off < blen) {
			ssize_t n = write(c, body + off, blen - off);

			if (n <= 0)
				break;
			off += (size_t)n;
		}
	}
	free(body);
}

static void *serve(void *arg)
{
	struct kt_metrics *m = arg;
	struct pollfd p[2] = { { .fd = m->fd, .events = POLLIN }, { .fd = m->stop_pipe[0], .events = POLLIN } };

	for (;;) {
		int c;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		c = accept4(m->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		answer(m, c);
		close(c);
	}
	return NULL;
}

int kt_metrics_start(const char *addr, kt_metrics_render_cb render, void *ctx,
		     struct kt_metrics **out)
{
	struct sockaddr_storage ss;
	struct kt_metrics *m;
	socklen_t sl = 0;
	int one = 1, err;

	*out = NULL;
	if (!addr || parse_addr(addr, &ss, &sl)) {
		pr_err("metrics: '%s' is not a loopback HOST:PORT (127.0.0.1:9321, [::1]:9321)",
		       addr ? addr : "");
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->stop_pipe[0] = m->stop_pipe[1] = -1;
	m->render = render;
	m->ctx = ctx;
	pthread_mutex_init(&m->lock, NULL);
	m->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (m->fd < 0 || setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(m->fd, (struct sockaddr *)&ss, sl) || listen(m->fd, 16) ||
	    pipe2(m->stop_pipe, O_CLOEXEC)) {
		err = -errno;
		pr_err("metrics: cannot listen on %s: %s", addr, strerror(errno));
		goto fail;
	}
	err = -pthread_create(&m->thread, NULL, serve, m);
	if (err) {
		pr_err("metrics: thread: %s", strerror(-err));
		goto fail;
	}
	*out = m;
	return 0;
fail:
	if (m->fd >= 0)
		close(m->fd);
	if (m->stop_pipe[0] >= 0) {
		close(m->stop_pipe[0]);
		close(m->stop_pipe[1]);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
	return err;
}

void kt_metrics_publish(struct kt_metrics *m, const char *text, size_t len)
{
	char *copy;

	if (!m || !text)
		return;
	copy = malloc(len ? len : 1);
	if (!copy)
		return; /* the previous text stays */
	memcpy(copy, text, len);
	pthread_mutex_lock(&m->lock);
	free(m->text);
	m->text = copy;
	m->len = len;
	pthread_mutex_unlock(&m->lock);
}

void kt_metrics_stop(struct kt_metrics *m)
{
	if (!m)
		return;
	if (write(m->stop_pipe[1], "x", 1) == 1)
		pthread_join(m->thread, NULL);
	close(m->fd);
	close(m->stop_pipe[0]);
	close(m->stop_pipe[1]);
	pthread_mutex_destroy(&m->lock);
	free(m->text);
	free(m);
}

static void mb_printf(struct kt_metrics_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if (b->p && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = b->cap ? b->cap * 2 : 4096;
			char *p;

			while (cap < b->len + (size_t)n + 1)
				cap *= 2;
			p = realloc(b->p, cap);
			if (!p) {
				b->oom = 1;
				b->len = 0;
				return;
			}
			b->p = p;
			b->cap = cap;
		}
	}
}

void kt_mbuf_help(struct kt_metrics_buf *b, const char *name, const char *type, const char *help)
{
	mb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void kt_mbuf_val(struct kt_metrics_buf *b, const char *name, const char *labels, double v)
{
	mb_printf(b, "%s%s%s%s %.17g\n", name, labels ? "{" : "", labels ? labels : "",
		  labels ? "}" : "", v);
}

void kt_mbuf_free(struct kt_metrics_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
