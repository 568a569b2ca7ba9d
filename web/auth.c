// SPDX-License-Identifier: Apache-2.0
/* Bearer token and login cookie (see auth.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "log.h"
#include "server.h"

#define MAX_COOKIES 256
#define ID_BYTES 32

struct cookie_slot {
	char id[ID_BYTES * 2 + 1];
	time_t expires;         /* 0 = free */
};
static struct cookie_slot cookies[MAX_COOKIES];

int kt_auth_load(const char *path, char **token, size_t *len)
{
	char buf[KT_AUTH_MAX_TOKEN + 2];
	struct stat sb;
	ssize_t n;
	size_t l;
	int fd, err = 0;

	*token = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_err("token file %s: %s", path, strerror(errno));
		return err;
	}
	if (fstat(fd, &sb) == 0 && (sb.st_mode & 077))
		pr_warn("token file %s is readable by group or others (mode %o)", path,
			(unsigned)(sb.st_mode & 0777));
	n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		err = -errno;
		pr_err("token file %s: %s", path, strerror(errno));
		goto cleanup;
	}
	l = (size_t)n;
	while (l && (buf[l - 1] == '\n' || buf[l - 1] == '\r' || buf[l - 1] == ' '))
		l--;
	if (l < KT_AUTH_MIN_TOKEN || (size_t)n > KT_AUTH_MAX_TOKEN + 1) {
		pr_err("token file %s: the token must be %d to %d characters", path,
		       KT_AUTH_MIN_TOKEN, KT_AUTH_MAX_TOKEN);
		err = -EINVAL;
		goto cleanup;
	}
	for (size_t i = 0; i < l; i++) {
		/* printable ASCII without space: survives headers and forms */
		if (buf[i] <= ' ' || buf[i] > '~') {
			pr_err("token file %s: the token must be printable ASCII without spaces", path);
			err = -EINVAL;
			goto cleanup;
		}
	}
	*token = strndup(buf, l);
	if (!*token) {
		err = -ENOMEM;
		goto cleanup;
	}
	*len = l;
cleanup:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return err;
}

/* Constant time in the secret: the loop always runs over all of `want`;
 * only the attacker's own length decides the index test. */
static bool ct_equal(const char *given, size_t glen, const char *want, size_t wlen)
{
	unsigned char d = glen != wlen;

	for (size_t i = 0; i < wlen; i++)
		d |= (unsigned char)want[i] ^ (unsigned char)(i < glen ? given[i] : 0);
	return d == 0;
}

static bool cookie_valid(const char *id, size_t len)
{
	time_t now = time(NULL);
	bool ok = false;

	/* every live slot is compared, match or not */
	for (int i = 0; i < MAX_COOKIES; i++)
		if (cookies[i].expires > now)
			ok |= ct_equal(id, len, cookies[i].id, ID_BYTES * 2);
	return ok;
}

bool kt_auth_ok(struct lws *wsi)
{
	char buf[KT_AUTH_MAX_TOKEN + 16];
	size_t max = sizeof(buf);
	int n;

	if (!kt_web.auth)
		return true;
	n = lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_AUTHORIZATION);
	if (n > 7 && strncasecmp(buf, "Bearer ", 7) == 0) {
		bool ok = ct_equal(buf + 7, (size_t)n - 7, kt_web.token, kt_web.token_len);

		explicit_bzero(buf, sizeof(buf));
		return ok;
	}
	if (lws_http_cookie_get(wsi, KT_AUTH_COOKIE, buf, &max) == 0)
		return cookie_valid(buf, strlen(buf));
	return false;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The "token" field of a urlencoded form, decoded into out. */
static int form_token(const char *form, size_t len, char *out, size_t cap, size_t *olen)
{
	const char *p = form, *end = form + len;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *fe = amp ? amp : end;
		size_t o = 0;

		if (fe - p >= 6 && memcmp(p, "token=", 6) == 0) {
			for (const char *q = p + 6; q < fe; q++) {
				int ch = (unsigned char)*q;

				if (ch == '+') {
					ch = ' ';
				} else if (ch == '%') {
					int hi, lo;

					if (fe - q < 3 || (hi = hexval(q[1])) < 0 || (lo = hexval(q[2])) < 0)
						return -EINVAL;
					ch = hi << 4 | lo;
					q += 2;
				}
				if (o + 1 >= cap)
					return -EINVAL;
				out[o++] = (char)ch;
			}
			/* tolerate a pasted trailing newline */
			while (o && (out[o - 1] == '\n' || out[o - 1] == '\r' || out[o - 1] == ' '))
				o--;
			out[o] = 0;
			*olen = o;
			return 0;
		}
		p = fe + 1;
	}
	return -EINVAL;
}

static void cookie_header(char *hdr, size_t hdr_len, const char *value, long max_age)
{
	snprintf(hdr, hdr_len, "set-cookie: " KT_AUTH_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%ld%s\r\n",
		 value, max_age, kt_web.tls ? "; Secure" : "");
}

int kt_auth_login(const char *form, size_t len, char *hdr, size_t hdr_len)
{
	char given[KT_AUTH_MAX_TOKEN + 2];
	uint8_t raw[ID_BYTES];
	size_t glen = 0;
	time_t now = time(NULL);
	int slot = 0, err;
	bool ok;

	err = form_token(form, len, given, sizeof(given), &glen);
	if (err)
		return err;
	ok = ct_equal(given, glen, kt_web.token, kt_web.token_len);
	explicit_bzero(given, sizeof(given));
	if (!ok)
		return -EACCES;
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		pr_err("getrandom: %s", strerror(errno));
		return -EIO;
	}
	/* a free or expired slot, else the one expiring first */
	for (int i = 0; i < MAX_COOKIES; i++) {
		if (cookies[i].expires <= now) {
			slot = i;
			break;
		}
		if (cookies[i].expires < cookies[slot].expires)
			slot = i;
	}
	for (int i = 0; i < ID_BYTES; i++)
		snprintf(cookies[slot].id + 2 * i, 3, "%02x", raw[i]);
	cookies[slot].expires = now + KT_AUTH_COOKIE_TTL_S;
	cookie_header(hdr, hdr_len, cookies[slot].id, KT_AUTH_COOKIE_TTL_S);
	return 0;
}

void kt_auth_logout(struct lws *wsi, char *hdr, size_t hdr_len)
{
	char buf[ID_BYTES * 2 + 8];
	size_t max = sizeof(buf);

	if (lws_http_cookie_get(wsi, KT_AUTH_COOKIE, buf, &max) == 0) {
		for (int i = 0; i < MAX_COOKIES; i++)
			if (cookies[i].expires && ct_equal(buf, strlen(buf), cookies[i].id, ID_BYTES * 2))
				cookies[i].expires = 0;
	}
	cookie_header(hdr, hdr_len, "", 0);
}
