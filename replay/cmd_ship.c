// SPDX-License-Identifier: Apache-2.0
/*
 * `kubetape ship`: the node's store to the cluster store in PostgreSQL
 * (store/include/pg.h, store/FORMAT-pg.md).  A daemon loop: batches while there is
 * work, a poll every --poll-ms when caught up, reconnection with backoff
 * (0.25 s doubling to 5 s) while the server is down; the recorder keeps
 * recording locally meanwhile and the backlog is shipped when it returns.
 * SIGTERM/SIGINT only set a flag: the batch in flight commits or rolls
 * back, then exit 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "log.h"
#include "metrics.h"
#include "pg.h"

enum {
	OPT_TO = KT_OPT_CMD_BASE,
	OPT_ONCE,
	OPT_NODE,
	OPT_MIGRATE,
	OPT_BATCH,
	OPT_POLL,
	OPT_STATUS,
	OPT_IDLE,
	OPT_METRICS,
};

#define SHIP_URL_ENV "KUBETAPE_SHIP_TO"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *out)
{
	fputs("Usage: kubetape ship [--db PATH] [--to CONNINFO] [--node-name NAME] [--once]\n"
	      "                     [--migrate] [--poll-ms N] [--batch-bytes N] [--status-file F]\n"
	      "\n"
	      "Copy the node's store to the cluster store in PostgreSQL: sessions,\n"
	      "commands, chunks, keyframes and screen search data, audit requests and\n"
	      "tamper-evidence checkpoints.  Incremental and idempotent (the server keeps\n"
	      "a high-water mark per node); while the server is unreachable it retries\n"
	      "with backoff and catches up when it returns.  Layout: store/FORMAT-pg.md.\n"
	      "\n"
	      "Options:\n"
	      "      --to CONNINFO    libpq URI or key=value string (default: $" SHIP_URL_ENV ").\n"
	      "                       Passwords belong in PGPASSWORD or a PGPASSFILE, not\n"
	      "                       here (argv is visible in ps); TLS with sslmode=\n"
	      "                       verify-full sslrootcert=... (libpq's PG* variables\n"
	      "                       apply too)\n"
	      "      --node-name NAME this node's name in the cluster store (default:\n"
	      "                       $NODE_NAME, else the host name)\n"
	      "      --once           ship until caught up, then exit (0; 1 on any error)\n"
	      "      --migrate        create or upgrade the server schema (schema owner)\n"
	      "      --poll-ms N      when caught up, look for new data every N ms (500)\n"
	      "      --batch-bytes N  chunk bytes per transaction (8388608)\n"
	      "      --status-file F  write the shipping figures as JSON to F after each\n"
	      "                       batch (lag_us, backlog, bytes, connected)\n"
	      "      --metrics-listen ADDR\n"
	      "                       Prometheus metrics on http://ADDR/metrics (loopback\n"
	      "                       only): kubetape_ship_lag_seconds, _backlog_bytes, ...\n"
	      "      --idle-without-server\n"
	      "                       no --to and no $" SHIP_URL_ENV ": say so once and wait for\n"
	      "                       SIGTERM instead of failing (a DaemonSet whose Secret\n"
	      "                       is optional)\n", out);
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	/* interrupted by SIGTERM: fine, the loop checks the flag */
	nanosleep(&ts, NULL);
}

static struct kt_metrics *metrics;

static void publish(const struct kt_ship_status *s, int64_t now)
{
	struct kt_metrics_buf b = { 0 };

#define M(name, type, help, v) do { kt_mbuf_help(&b, name, type, help); kt_mbuf_val(&b, name, NULL, (double)(v)); } while (0)
	M("kubetape_ship_connected", "gauge", "1 while connected to the cluster store.", s->connected);
	M("kubetape_ship_lag_seconds", "gauge",
	  "Time since the start of the last batch that left nothing to ship (-1: never caught up).",
	  s->caught_up_us ? (double)(now - s->caught_up_us) / 1e6 : -1);
	M("kubetape_ship_backlog_sessions", "gauge", "Sessions not yet complete on the server.", s->backlog_sessions);
	M("kubetape_ship_backlog_bytes", "gauge", "Chunk bytes of sessions never shipped.", s->backlog_bytes);
	M("kubetape_ship_batches_total", "counter", "Batches committed.", s->batches);
	M("kubetape_ship_rows_total", "counter", "Rows written to the server.", s->rows);
	M("kubetape_ship_bytes_total", "counter", "Chunk and keyframe bytes written to the server.", s->bytes);
	M("kubetape_ship_errors_total", "counter", "Failed batches and connection attempts.", s->errors);
#undef M
	if (!b.oom)
		kt_metrics_publish(metrics, b.p, b.len);
	kt_mbuf_free(&b);
}

static void write_status(const char *path, const struct kt_ship_status *s, const char *src)
{
	char tmp[4096];
	FILE *f;
	int64_t now = kt_now_us();

	if (metrics)
		publish(s, now);
	if (!path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "{\"node\":\"%s\",\"connected\":%s,\"lag_us\":%" PRId64 ",\"batches\":%" PRIu64
		",\"rows\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"errors\":%" PRIu64
		",\"backlog_sessions\":%" PRId64 ",\"backlog_bytes\":%" PRId64 "}\n",
		src, s->connected ? "true" : "false",
		s->caught_up_us ? now - s->caught_up_us : -1, s->batches, s->rows, s->bytes,
		s->errors, s->backlog_sessions, s->backlog_bytes);
	if (fclose(f) == 0)
		rename(tmp, path);
}

static void first_line(const char *m, char *buf, size_t len)
{
	snprintf(buf, len, "%.*s", (int)strcspn(m, "\n"), m);
}

static int run(struct kt_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, OPT_TO },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "node-name", required_argument, NULL, OPT_NODE },
		{ "migrate", no_argument, NULL, OPT_MIGRATE },
		{ "batch-bytes", required_argument, NULL, OPT_BATCH },
		{ "poll-ms", required_argument, NULL, OPT_POLL },
		{ "status-file", required_argument, NULL, OPT_STATUS },
		{ "idle-without-server", no_argument, NULL, OPT_IDLE },
		{ "metrics-listen", required_argument, NULL, OPT_METRICS },
		{ 0 },
	};
	struct kt_ship_opts o = { 0 };
	struct kt_shipper *sh = NULL;
	struct kt_ship_status s;
	struct sigaction sa = { .sa_handler = on_signal };
	const char *status_file = NULL, *metrics_addr = NULL;
	char host[256], msg[512];
	uint64_t v;
	long poll_ms = 500, backoff = 250;
	bool once = false, down = false, idle = false, more;
	int64_t last_log = 0;
	int c, err, ret = KT_EXIT_RUNTIME;

	o.conninfo = getenv(SHIP_URL_ENV);
	o.node_name = getenv("NODE_NAME");
	while ((c = kt_cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c < 0)
			return kt_cli_opt_exit(c);
		switch (c) {
		case OPT_TO: o.conninfo = optarg; break;
		case OPT_ONCE: once = true; break;
		case OPT_NODE: o.node_name = optarg; break;
		case OPT_MIGRATE: o.migrate = true; break;
		case OPT_STATUS: status_file = optarg; break;
		case OPT_IDLE: idle = true; break;
		case OPT_METRICS: metrics_addr = optarg; break;
		case OPT_BATCH:
			if (kt_parse_uint(optarg, 1u << 30, &v) || v < 4096)
				return kt_cli_usage_error(cli, "--batch-bytes: 4096..2^30, not '%s'", optarg);
			o.batch_bytes = v;
			break;
		case OPT_POLL:
			if (kt_parse_uint(optarg, 60000, &v) || v < 10)
				return kt_cli_usage_error(cli, "--poll-ms: 10..60000, not '%s'", optarg);
			poll_ms = (long)v;
			break;
		}
	}
	if (optind < argc)
		return kt_cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	o.db_path = cli->db_path; /* --db may come after the command */
	if ((!o.conninfo || !*o.conninfo) && idle && !once) {
		pr_info("ship: no server configured (--to, $%s): idle until SIGTERM", SHIP_URL_ENV);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		while (!stop)
			pause();
		return KT_EXIT_OK;
	}
	if (!o.conninfo || !*o.conninfo)
		return kt_cli_usage_error(cli, "--to CONNINFO (or $%s) is required", SHIP_URL_ENV);
	if (!o.node_name || !*o.node_name) {
		if (gethostname(host, sizeof(host)) < 0)
			return kt_cli_usage_error(cli, "--node-name is required (no host name)");
		host[sizeof(host) - 1] = 0;
		o.node_name = host;
	}
	err = kt_shipper_open(&o, &sh);
	if (err)
		return err == -EINVAL ? KT_EXIT_USAGE : KT_EXIT_RUNTIME;
	if (metrics_addr && kt_metrics_start(metrics_addr, NULL, NULL, &metrics)) {
		kt_shipper_close(sh);
		return KT_EXIT_USAGE; /* said why */
	}

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop) {
		kt_shipper_status(sh, &s);
		if (!s.connected) {
			err = kt_shipper_connect(sh);
			if (err == -EPROTO || err == -EINVAL || err == -ENOMEM)
				goto cleanup; /* logged: retrying will not help */
			if (err) {
				first_line(kt_shipper_error(sh), msg, sizeof(msg));
				if (once) {
					pr_err("ship: cannot reach postgres: %s", msg);
					goto cleanup;
				}
				if (!down)
					pr_warn("ship: postgres unreachable (%s); retrying with backoff, "
						"the node keeps recording locally", msg);
				down = true;
				write_status(status_file, &s, o.node_name);
				nap_ms(backoff);
				backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
				continue;
			}
			pr_info("ship: connected; shipping node '%s'%s", o.node_name,
				down ? " (catching up)" : "");
		}
		err = kt_shipper_batch(sh, &more);
		kt_shipper_status(sh, &s);
		write_status(status_file, &s, o.node_name);
		if (err) {
			if (once)
				goto cleanup;
			if (err == -ECONNRESET) {
				if (!down)
					pr_warn("ship: lost the connection to postgres; the batch rolled "
						"back, retrying with backoff");
				down = true;
			}
			nap_ms(backoff);
			backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
			if (err != -ECONNRESET)
				kt_shipper_disconnect(sh); /* a fresh session for the retry */
			continue;
		}
		if (down)
			pr_info("ship: postgres is back");
		down = false;
		backoff = 250;
		if (more)
			continue;
		if (once)
			break;
		if (kt_now_us() - last_log > 60 * 1000000LL) {
			last_log = kt_now_us();
			pr_info("ship: caught up; %" PRIu64 " batches, %" PRIu64 " rows, %" PRIu64
				" bytes shipped", s.batches, s.rows, s.bytes);
		}
		nap_ms(poll_ms);
	}
	if (once)
		pr_info("ship: done; %" PRIu64 " rows, %" PRIu64 " bytes in %" PRIu64 " batches",
			s.rows, s.bytes, s.batches);
	ret = KT_EXIT_OK;
cleanup:
	kt_metrics_stop(metrics);
	metrics = NULL;
	kt_shipper_close(sh);
	return ret;
}

const struct kt_cmd kt_cmd_ship = {
	.name = "ship",
	.summary = "copy the node's store to the cluster store (PostgreSQL)",
	.run = run,
	.usage = usage,
};
