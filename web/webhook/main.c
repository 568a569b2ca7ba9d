// SPDX-License-Identifier: Apache-2.0
/*
 * kubetape-webhook: the HTTPS endpoint the Kubernetes API server's audit
 * webhook backend posts EventList batches to (--audit-webhook-config-file),
 * storing exec/attach requests into the node's kubetape store, and,
 * optionally (--admission), the exec-id mutating admission webhook.
 *
 * A separate process from the recorder on purpose: a slow or hostile
 * client can cost this process time, never the recorder's capture loop;
 * both write the same SQLite file, each batch one short transaction.
 * HTTPS only, and every request authenticated (client certificate or
 * bearer token): the audit log is evidence, nobody else may write to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hook.h"
#include "listen.h"
#include "log.h"
#include "reader.h"

static volatile sig_atomic_t stop;
static struct lws_context *ctx;

static void on_signal(int sig)
{
	stop = sig;
	if (ctx)
		lws_cancel_service(ctx);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: kubetape-webhook --tls-cert F --tls-key F (--client-ca F | --token-file F)\n"
		"                        [--listen ADDR:PORT] [--db PATH] [--max-body BYTES]\n"
		"                        [--admission] [--port-file F] [--log-level L]\n"
		"\n"
		"HTTPS endpoint for the API server's audit webhook backend: POST /audit takes an\n"
		"audit.k8s.io/v1 EventList and stores its pods/exec and pods/attach requests\n"
		"(kubetape audit gaps, sessions --user).  With --admission, POST /admit is the\n"
		"exec-id mutating admission webhook (AdmissionReview v1, CONNECT pods/exec).\n"
		"\n"
		"  --listen ADDR:PORT  default 0.0.0.0:8443; port 0 picks a free one\n"
		"  --db PATH           store (default: $" KT_DB_ENV ", else " KT_DEFAULT_DB_PATH ")\n"
		"  --tls-cert F, --tls-key F   server certificate and key (PEM); required\n"
		"  --client-ca F       accept clients with a certificate signed by this CA\n"
		"  --token-file F      accept \"Authorization: Bearer <first line of F>\"\n"
		"  --max-body BYTES    larger requests get 413 (default %u)\n"
		"  --port-file F       write the listening port to F once ready\n"
		"  --log-level L       error, warn, info (default) or debug\n"
		"\n"
		"Answers: 200 {\"events\",\"stored\",\"duplicates\",\"skipped\"}; 401 without\n"
		"credentials; 413 too large; 400 malformed (a Status whose message says where;\n"
		"nothing of that batch is stored); 503 store unavailable (the API server retries).\n"
		"Bodies need a Content-Length (the API server sends one): libwebsockets closes\n"
		"the connection on a chunked request body.\n",
		KT_HOOK_DEFAULT_MAX_BODY);
}

static int load_token(const char *path)
{
	char buf[KT_HOOK_MAX_TOKEN + 2];
	struct stat sb;
	ssize_t n;
	size_t l;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		pr_err("token file %s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &sb) == 0 && (sb.st_mode & 077))
		pr_warn("token file %s is readable by group or others (mode %o)", path,
			(unsigned)(sb.st_mode & 0777));
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0) {
		pr_err("token file %s: %s", path, strerror(errno));
		return -EIO;
	}
	l = (size_t)n;
	while (l && (buf[l - 1] == '\n' || buf[l - 1] == '\r' || buf[l - 1] == ' '))
		l--;
	if (l < KT_HOOK_MIN_TOKEN || (size_t)n > KT_HOOK_MAX_TOKEN + 1) {
		pr_err("token file %s: the token must be %d to %d characters", path,
		       KT_HOOK_MIN_TOKEN, KT_HOOK_MAX_TOKEN);
		return -EINVAL;
	}
	for (size_t i = 0; i < l; i++)
		if (buf[i] <= ' ' || buf[i] > '~') {
			pr_err("token file %s: the token must be printable ASCII without spaces", path);
			return -EINVAL;
		}
	kt_hook.token = strndup(buf, l);
	kt_hook.token_len = l;
	explicit_bzero(buf, sizeof(buf));
	return kt_hook.token ? 0 : -ENOMEM;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'd' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "client-ca", required_argument, NULL, 'a' },
		{ "token-file", required_argument, NULL, 't' },
		{ "max-body", required_argument, NULL, 'm' },
		{ "admission", no_argument, NULL, 'A' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *listen = "0.0.0.0:8443", *cert = NULL, *key = NULL, *token_file = NULL;
	const char *port_file = NULL, *db = kt_store_default_path();
	struct lws_context_creation_info info;
	struct sigaction sa = { .sa_handler = on_signal };
	char host[64], *end;
	int opt, port, lvl, ret = 1;

	kt_log_init("kubetape-webhook", KT_LOG_INFO);
	kt_hook.max_body = KT_HOOK_DEFAULT_MAX_BODY;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'l': listen = optarg; break;
		case 'd': db = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'a': kt_hook.client_ca = optarg; break;
		case 't': token_file = optarg; break;
		case 'A': kt_hook.admission = true; break;
		case 'p': port_file = optarg; break;
		case 'm':
			errno = 0;
			kt_hook.max_body = strtoul(optarg, &end, 10);
			if (errno || *end || kt_hook.max_body < 1024 || kt_hook.max_body > (1u << 30)) {
				pr_err("--max-body: '%s' is not a size in bytes (1024..1073741824)", optarg);
				return 2;
			}
			break;
		case 'L':
			lvl = kt_log_parse_level(optarg);
			if (lvl < 0) {
				pr_err("--log-level: '%s' is not error, warn, info or debug", optarg);
				return 2;
			}
			kt_log_init(NULL, (enum kt_log_level)lvl);
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		pr_err("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (!cert || !key) {
		pr_err("--tls-cert and --tls-key are required: the API server only posts over HTTPS");
		return 2;
	}
	if (!kt_hook.client_ca && !token_file) {
		pr_err("refusing to run without authentication: give --client-ca and/or --token-file");
		return 2;
	}
	if (web_parse_listen(listen, host, sizeof(host), &port, NULL)) {
		pr_err("--listen: '%s' is not ADDR:PORT with an IP address (or localhost)", listen);
		return 2;
	}
	if (token_file && load_token(token_file))
		return 1;
	if (kt_store_open(db, KT_STORE_CREATE, &kt_hook.st))
		goto out; /* logged */

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(LLL_ERR | LLL_WARN, web_lws_logger);
	memset(&info, 0, sizeof(info));
	info.port = port;
	info.iface = host;
	info.protocols = kt_hook_protocols;
	info.vhost_name = "kubetape-webhook";
	info.alpn = "http/1.1";
	info.max_http_header_data = 8192;
	info.max_http_header_pool = 64;
	info.timeout_secs = 30;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_DISABLE_IPV6 |
		       LWS_SERVER_OPTION_VALIDATE_UTF8;
	info.ssl_cert_filepath = cert;
	info.ssl_private_key_filepath = key;
	if (kt_hook.client_ca) {
		/* ask for a certificate and verify one that comes; do not
		 * demand one: a token may authenticate instead (hook.c) */
		info.ssl_ca_filepath = kt_hook.client_ca;
		info.options |= LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT |
				LWS_SERVER_OPTION_PEER_CERT_NOT_REQUIRED;
	}
	ctx = lws_create_context(&info);
	if (!ctx) {
		pr_err("cannot listen on %s (address in use, or the TLS files are unreadable)", listen);
		goto out;
	}
	{
		struct lws_vhost *vh = lws_get_vhost_by_name(ctx, "kubetape-webhook");

		if (vh)
			port = lws_get_vhost_listen_port(vh);
	}
	if (port_file) {
		FILE *f = fopen(port_file, "w");

		if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f)) {
			pr_err("--port-file %s: %s", port_file, strerror(errno));
			goto out;
		}
	}
	pr_info("ready: https://%s:%d (audit webhook%s), store %s", host, port,
		kt_hook.admission ? " and /admit" : "", db);
	while (!stop)
		if (lws_service(ctx, 0) < 0)
			break;
	pr_info("stopping on signal %d: %llu batches, %llu events, %llu stored, %llu duplicates, "
		"%llu malformed, %llu too large, %llu unauthenticated", (int)stop,
		(unsigned long long)kt_hook.stats.batches, (unsigned long long)kt_hook.stats.events,
		(unsigned long long)kt_hook.stats.stored, (unsigned long long)kt_hook.stats.duplicates,
		(unsigned long long)kt_hook.stats.malformed, (unsigned long long)kt_hook.stats.too_big,
		(unsigned long long)kt_hook.stats.unauthenticated);
	ret = 0;
out:
	if (ctx)
		lws_context_destroy(ctx);
	kt_store_close(kt_hook.st);
	free(kt_hook.token);
	return ret;
}
