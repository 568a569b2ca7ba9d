// SPDX-License-Identifier: Apache-2.0
/*
 * kubetape-web: browse, search, play back and follow recorded sessions.
 *
 * Secure by default: it listens on 127.0.0.1 only.  Any other address needs
 * a token (--token-file), and without TLS also an explicit --insecure-http,
 * because the token and the recorded terminals would cross the network in
 * clear.  With a token, every API request and WebSocket needs it (bearer
 * header or the login form's cookie), also on loopback.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "hostcheck.h"
#include "listen.h"
#include "peers.h"
#include "reader.h"
#include "log.h"
#include "server.h"

extern const struct lws_protocols web_protocols[];

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
	if (kt_web.ctx)
		lws_cancel_service(kt_web.ctx);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: kubetape-web [--listen ADDR:PORT] [--db PATH] [--token-file F]\n"
		"                    [--tls-cert F --tls-key F] [--insecure-http] [--allow-host H]...\n"
		"                    [--max-conns-per-ip N] [--max-streams-per-ip N] [--log-level L]\n"
		"\n"
		"Web UI and JSON API over a kubetape store (read-only).\n"
		"\n"
		"  --listen ADDR:PORT  address to listen on (default " KT_WEB_DEFAULT_LISTEN ");\n"
		"                      [::1]:PORT for IPv6; port 0 picks a free port\n"
		"  --db PATH           store (default: $KUBETAPE_DB, else " KT_DEFAULT_DB_PATH ")\n"
		"  --token-file F      require this bearer token (first line of F, 16-512\n"
		"                      printable characters); mandatory off loopback\n"
		"  --tls-cert F, --tls-key F\n"
		"                      serve HTTPS/WSS with this PEM certificate and key\n"
		"  --insecure-http     allow plain HTTP on a non-loopback address\n"
		"  --allow-host NAME[:PORT]\n"
		"                      also accept requests whose Host is NAME (any port, or\n"
		"                      only PORT); repeatable, for a DNS name or a proxy.\n"
		"                      Without it only the listen address (and localhost on\n"
		"                      loopback) is accepted: DNS rebinding protection\n"
		"  --max-conns-per-ip N\n"
		"                      connections one client address may hold (default %d,\n"
		"                      0 = no limit); raise it behind a proxy\n"
		"  --max-streams-per-ip N\n"
		"                      streams, exports and live views per address\n"
		"                      (default %d, 0 = no limit)\n"
		"  --log-level L       error, warn, info (default) or debug\n",
		KT_WEB_DEFAULT_CONNS_PER_IP, KT_WEB_DEFAULT_STREAMS_PER_IP);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'd' },
		{ "token-file", required_argument, NULL, 't' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "insecure-http", no_argument, NULL, 'I' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "allow-host", required_argument, NULL, 'A' },
		{ "max-conns-per-ip", required_argument, NULL, 'C' },
		{ "max-streams-per-ip", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *listen = KT_WEB_DEFAULT_LISTEN, *token_file = NULL;
	const char *cert = NULL, *key = NULL;
	struct lws_context_creation_info info;
	struct sigaction sa = { .sa_handler = on_signal };
	bool insecure = false, loopback = false;
	char host[64];
	int opt, port, lvl, err = 0;

	kt_log_init("kubetape-web", KT_LOG_INFO);
	kt_web.db_path = kt_store_default_path();
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'l': listen = optarg; break;
		case 'd': kt_web.db_path = optarg; break;
		case 't': token_file = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'I': insecure = true; break;
		case 'L':
			lvl = kt_log_parse_level(optarg);
			if (lvl < 0) {
				pr_err("--log-level: '%s' is not error, warn, info or debug", optarg);
				return 2;
			}
			kt_log_init(NULL, (enum kt_log_level)lvl);
			break;
		case 'A':
			if (hostcheck_allow(optarg)) {
				pr_err("--allow-host: '%s' is not NAME or NAME:PORT (at most %d)", optarg,
				       KT_WEB_MAX_ALLOW_HOSTS);
				return 2;
			}
			break;
		case 'C':
		case 'S': {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || v > 100000 || optarg[0] == '-') {
				pr_err("--%s: '%s' is not a number 0-100000",
				       opt == 'C' ? "max-conns-per-ip" : "max-streams-per-ip", optarg);
				return 2;
			}
			if (opt == 'C')
				kt_web_limits.conns_per_ip = (unsigned)v;
			else
				kt_web_limits.streams_per_ip = (unsigned)v;
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		pr_err("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (web_parse_listen(listen, host, sizeof(host), &port, &loopback)) {
		pr_err("--listen: '%s' is not ADDR:PORT with an IP address (or localhost)", listen);
		return 2;
	}
	if (!cert != !key) {
		pr_err("--tls-cert and --tls-key go together");
		return 2;
	}
	kt_web.tls = cert != NULL;
	if (!loopback && !token_file) {
		pr_err("refusing to listen on %s without authentication: give --token-file "
		       "(or listen on 127.0.0.1)", host);
		return 2;
	}
	if (!loopback && !kt_web.tls && !insecure) {
		pr_err("refusing plain HTTP on %s: the token and the recorded terminals would "
		       "cross the network in clear; give --tls-cert/--tls-key, or --insecure-http "
		       "if something else encrypts the path", host);
		return 2;
	}
	if (!loopback && !kt_web.tls)
		pr_warn("--insecure-http: serving plain HTTP on %s; the token, the login cookie and "
			"every recorded terminal cross the network unencrypted", host);
	if (token_file) {
		err = kt_auth_load(token_file, &kt_web.token, &kt_web.token_len);
		if (err)
			return 1;
		kt_web.auth = true;
	}

	lws_set_log_level(LLL_ERR | LLL_WARN, web_lws_logger);
	memset(&info, 0, sizeof(info));
	info.port = port;
	info.iface = host;
	info.protocols = web_protocols;
	info.vhost_name = "kubetape-web";
	info.alpn = "http/1.1";  /* no h2: WebSockets over h2 need RFC 8441 */
	/* header blocks up to 128 KiB (a 100 KiB query) reach the validators
	 * and get a JSON 400/414; lws drops larger ones without an answer */
	info.max_http_header_data2 = KT_WEB_HEADER_DATA;	/* the short field tops at 64K */
	/* header buffers are allocated on demand; the pool must outnumber what
	 * the per-address caps let slow clients hold (peers.h) */
	info.max_http_header_pool = KT_WEB_HEADER_POOL;
	info.headers = web_security_headers(kt_web.tls);
	/* total time to send the header block; trickling does not extend it */
	info.timeout_secs_ah_idle = KT_WEB_HEADER_DEADLINE_S;
	info.timeout_secs = 30;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
	/* a method lws does not know, or plain HTTP to the TLS port: handed
	 * to the raw role, which answers a JSON error (badreq.c) */
	info.options |= LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG;
	info.listen_accept_role = "raw-skt";
	info.listen_accept_protocol = "kubetape";
	if (strchr(host, ':') == NULL)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	if (kt_web.tls) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		/* plain HTTP to this port is not served: with the fallback
		 * above it only gets badreq.c's JSON 400 (lws would hang up) */
		info.options |= LWS_SERVER_OPTION_ALLOW_NON_SSL_ON_SSL_PORT;
		info.ssl_cert_filepath = cert;
		info.ssl_private_key_filepath = key;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	kt_web.ctx = lws_create_context(&info);
	if (!kt_web.ctx) {
		pr_err("cannot listen on %s (address in use, bad TLS files, or no such address)", listen);
		err = 1;
		goto cleanup;
	}
	{
		struct lws_vhost *vh = lws_get_vhost_by_name(kt_web.ctx, "kubetape-web");

		if (vh)
			port = lws_get_vhost_listen_port(vh);
	}
	hostcheck_listen(host, port, loopback, kt_web.tls);
	kt_web_store();	/* report a missing store now rather than on first use */
	pr_info("listening on %s://%s%s%s:%d/ (store %s, auth %s)", kt_web.tls ? "https" : "http",
		strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", port,
		kt_web.db_path, kt_web.auth ? "token" : "off (loopback only)");
	while (!stop)
		if (lws_service(kt_web.ctx, 0) < 0)
			break;
	pr_info("stopping (%s)", stop ? strsignal(stop) : "service error");
cleanup:
	lws_context_destroy(kt_web.ctx);
	kt_store_close(kt_web.st);
	if (kt_web.token)
		explicit_bzero(kt_web.token, kt_web.token_len);
	free(kt_web.token);
	return err;
}
