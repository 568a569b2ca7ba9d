// SPDX-License-Identifier: Apache-2.0
/*
 * kubetape-recorder: the node daemon.  Loads (or adopts, from bpffs) the BPF
 * programs, writes the ring buffers into the store, and on SIGTERM/SIGINT
 * writes everything and exits 0, leaving the kernel side recording for the
 * next recorder (recorder/continuity.c).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attrib.h"
#include "ctr_seed.h"
#include "indexer.h"
#include "loader.h"
#include "log.h"
#include "pin.h"
#include "sessions.h"
#include "rec_evidence.h"
#include "reader.h"
#include "rec_metrics.h"
#include "retention.h"
#include "skips.h"
#include "store.h"

#define DEFAULT_DB KT_DEFAULT_DB_PATH
#define TICK_MS 100

enum { OPT_PIN_DIR = 0x100, OPT_UNPIN, OPT_LIFELINE, OPT_PARENT, OPT_PIN_LAYOUT, OPT_SYS_EXIT, OPT_PROC_ROOT };

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	exiting = sig;
}

static int seed_ctr_ns(uint32_t ino, const struct kt_ctr_ns *v, void *ld)
{
	int err = kt_loader_ctr_ns_seed(ld, ino, v);

	return err == -EEXIST ? 0 : err;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: kubetape-recorder [options]\n"
"\n"
"Records every exec session entering a container on this node (kubectl exec,\n"
"crictl exec, nsenter) from the kernel into a SQLite store.\n"
"\n"
"  --db PATH               store (default " DEFAULT_DB ")\n"
"  --log-level LEVEL       error, warn, info (default) or debug\n"
"  --capture MODE          auto (default): the best backend that attaches;\n"
"                          tty: pty-driver hooks (fentry, else kprobe);\n"
"                          syscall: read/write tracepoints on pty masters;\n"
"                          tty-fentry, tty-kprobe: one tty variant only\n"
"  --containerd-state DIR  containerd state root (repeatable; default /run/containerd)\n"
"  --crio-state DIR        CRI-O/podman storage root, run or graph root (repeatable;\n"
"                          default /run/containers/storage, /var/lib/containers/storage)\n"
"  --docker-root DIR       docker data root (repeatable; default /var/lib/docker)\n"
"  --node-name NAME        node name (default $NODE_NAME, else the host name)\n"
"  --proc-root DIR         the node's /proc (host pid namespace; default /proc):\n"
"                          containers already running at start, and which pod an\n"
"                          nsenter from the node entered\n"
"  --ringbuf-mb N          BPF ring buffer size in MiB, a power of two (default 16)\n"
"  --input                 also record what users type (off by default);\n"
"                          bytes typed while the terminal has ECHO off\n"
"                          (password prompts) are dropped in the kernel and\n"
"                          only counted\n"
"  --no-input              do not record what users type (the default)\n"
"  --redact-rules FILE     argv redaction rules added to the built-in ones\n"
"                          (README, \"Secrets\")\n"
"  --key FILE              node signing key (default: node.key next to the\n"
"                          store; created on first start, mode 0600)\n"
"  --print-pubkey          print the node's public key (for kubetape verify\n"
"                          --pubkey) and exit\n"
"  --eager-capture         syscall backend: keep its hook attached even with no\n"
"                          tty recorded (every syscall on the node pays for it);\n"
"                          by default it attaches on a session's first event,\n"
"                          recovering up to 4 KiB shown before that from the\n"
"                          pty and counting anything older as lost\n"
"  --sys-exit HOOK         syscall backend's hook: auto (default: perf where the\n"
"                          kernel runs BTF tracepoint programs preemptible, 7.x,\n"
"                          else btf), btf (tp_btf/sys_exit) or perf (tracepoint\n"
"                          raw_syscalls:sys_exit); for comparisons: btf on 7.x\n"
"                          skips runs (counted, kubetape show)\n"
"  --stats-file PATH       write counters as JSON here on exit\n"
"  --retain-older-than D   prune sessions ended more than D ago (30d, 12h, 90m;\n"
"                          in the worker, every 10 minutes; never held/active)\n"
"  --retain-max-bytes N    prune the oldest sessions beyond N stored bytes (K/M/G)\n"
"  --metrics-listen ADDR   Prometheus metrics on http://ADDR/metrics (loopback\n"
"                          only, e.g. 127.0.0.1:9321)\n"
"  --nice N                scheduling priority (default -4, like auditd's\n"
"                          priority_boost: capture keeps up on a busy node)\n"
"  --no-index              do not run the screen indexer (an unprivileged\n"
"                          worker process rendering keyframes for seeking and\n"
"                          screen text for search; it resumes where it left)\n"
"  --pin-dir DIR           bpffs directory for the kernel state that outlives\n"
"                          the recorder (default " KT_PIN_DEFAULT ");\n"
"                          'none': the programs go with the process\n"
"  --unpin                 remove the pinned kernel state and exit (uninstall):\n"
"                          open sessions stop being recorded (when a running\n"
"                          recorder exits, at once if none runs)\n"
"  -h, --help              this help\n"
"\n"
"What is a session: every way into a container, decided in the kernel at\n"
"execve (kt_entry_rule): an exec through the runtime (kubectl, crictl or\n"
"docker exec, with or without a tty, into pods with their own pid namespace\n"
"or hostPID ones), nsenter or any setns from the node (attributed to the\n"
"container whose namespaces it entered, marked entered-from-node; needs the\n"
"node's /proc, --proc-root), and a container's own process started on a\n"
"terminal of its own (kubectl run -it, kubectl debug -it: marked\n"
"interactive-container).  Host processes and containers' own\n"
"non-interactive processes never are.\n"
"\n"
"Sessions across restarts: the BPF programs, maps and ring buffers stay\n"
"pinned in --pin-dir while no recorder runs, so capture never stops.  A\n"
"recorder that starts (after SIGTERM, kill -9, OOM, a crash or an upgrade of\n"
"the same pinned layout) adopts them and continues every open session as the\n"
"same session (same id): the output, commands and exit codes that happened\n"
"meanwhile are read from the rings; only what overflowed the rings is lost,\n"
"counted per session and shown as a gap.  Records leave the rings only after\n"
"they are committed, so even kill -9 loses nothing that reached them.  If the\n"
"store cannot be written (disk full, read-only, I/O errors) the rings hold\n"
"the backlog the same way (--ringbuf-mb) until it can; SIGTERM meanwhile\n"
"leaves it there for the next recorder.  An upgrade to a new pinned layout\n"
"with the same event format takes the old state over: the new programs share\n"
"its maps and rings and one map store switches recording to them, so open\n"
"sessions continue without a gap.  Without usable pinned state (first start,\n"
"reboot, --pin-dir none, an upgrade across event formats, said in the log)\n"
"open sessions of an earlier recorder are marked interrupted; the sessions\n"
"running on the node are found again (a BPF task iterator applying the same\n"
"rule as the exec hook) and recorded from that moment as new sessions marked\n"
"\"recording started late\" with the time: what they showed before is not\n"
"recorded.\n"
"\n"
"Exit status: 0 after SIGTERM/SIGINT with everything written (or, when the\n"
"store cannot be written, left in the pinned rings for the next recorder);\n"
"1 on a runtime error; 2 on a usage error.\n");
}

static int mkdir_parent(const char *path)
{
	char dir[4096];
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(dir, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static void write_stats(const char *path, struct kt_loader *ld, struct kt_recorder *rec,
			const struct kt_skips *sk)
{
	uint64_t k[KT_STAT_MAX] = {0};
	struct kt_recorder_counters c;
	FILE *f;

	kt_loader_stats(ld, k);
	kt_recorder_counters(rec, &c);
	pr_info("kernel: %" PRIu64 " sessions, %" PRIu64 " events and %" PRIu64
		" bytes lost, %" PRIu64 " session starts lost, %" PRIu64 " map-full; "
		"%" PRIu64 " runs skipped; "
		"recorder: %" PRIu64 " events, %" PRIu64 " bad, %" PRIu64 " bytes out, %" PRIu64 " in",
		k[KT_STAT_SESSIONS], k[KT_STAT_LOST_EVENTS], k[KT_STAT_LOST_BYTES],
		k[KT_STAT_LOST_SESSION_EV], k[KT_STAT_MAP_FULL], kt_skips_kernel_total(sk),
		c.events, c.bad_events, c.bytes_out, c.bytes_in);
	if (!path)
		return;
	f = fopen(path, "w");
	if (!f) {
		pr_warn("cannot write %s: %s", path, strerror(errno));
		return;
	}
	fprintf(f,
		"{\"backend\":\"%s\",\"kernel\":{\"sessions\":%" PRIu64 ",\"lost_events\":%" PRIu64
		",\"lost_bytes\":%" PRIu64 ",\"lost_session_events\":%" PRIu64 ",\"map_full\":%" PRIu64
		",\"skipped_runs\":%" PRIu64 "},"
		"\"recorder\":{\"events\":%" PRIu64 ",\"bad_events\":%" PRIu64 ",\"sessions\":%" PRIu64
		",\"commands\":%" PRIu64 ",\"bytes_out\":%" PRIu64 ",\"bytes_in\":%" PRIu64
		",\"gaps\":%" PRIu64 ",\"lost_bytes\":%" PRIu64 ",\"lost_events\":%" PRIu64
		",\"skipped_runs_counted\":%" PRIu64 "}}\n",
		kt_loader_backend(ld), k[KT_STAT_SESSIONS], k[KT_STAT_LOST_EVENTS],
		k[KT_STAT_LOST_BYTES], k[KT_STAT_LOST_SESSION_EV], k[KT_STAT_MAP_FULL],
		kt_skips_kernel_total(sk), c.events, c.bad_events, c.sessions, c.commands,
		c.bytes_out, c.bytes_in, c.gaps, c.lost_bytes, c.lost_events, kt_skips_counted(sk));
	fclose(f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "capture", required_argument, NULL, 'c' },
		{ "containerd-state", required_argument, NULL, 'C' },
		{ "crio-state", required_argument, NULL, 'O' },
		{ "docker-root", required_argument, NULL, 'D' },
		{ "node-name", required_argument, NULL, 'n' },
		{ "proc-root", required_argument, NULL, OPT_PROC_ROOT },
		{ "ringbuf-mb", required_argument, NULL, 'r' },
		{ "no-input", no_argument, NULL, 'I' },
		{ "input", no_argument, NULL, 'i' },
		{ "redact-rules", required_argument, NULL, 'R' },
		{ "key", required_argument, NULL, 'K' },
		{ "print-pubkey", no_argument, NULL, 'P' },
		{ "stats-file", required_argument, NULL, 's' },
		{ "metrics-listen", required_argument, NULL, 0x4d4c },
		{ "retain-older-than", required_argument, NULL, 0x5241 },
		{ "retain-max-bytes", required_argument, NULL, 0x5242 },
		{ "no-index", no_argument, NULL, 'X' },
		{ "index-worker", no_argument, NULL, 'W' },
		{ "nice", required_argument, NULL, 'N' },
		{ "eager-capture", no_argument, NULL, 'E' },
		/* long-only options: codes outside the letters */
		{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
		{ "worker-lifeline", required_argument, NULL, OPT_LIFELINE },
		{ "worker-parent", required_argument, NULL, OPT_PARENT },
		{ "unpin", no_argument, NULL, OPT_UNPIN },
		{ "sys-exit", required_argument, NULL, OPT_SYS_EXIT },
		/* tests only: pin as another layout, to test upgrades */
		{ "pin-layout", required_argument, NULL, OPT_PIN_LAYOUT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct kt_loader_opts lo = { .capture = KT_CAPTURE_AUTO, .ringbuf_bytes = KT_RING_DATA_BYTES,
				     .capture_input = false };
	struct kt_recorder_opts ro = { .flush_age_us = 400000, .flush_bytes = 128 << 10,
				       .close_grace_us = 1000000 };
	struct kt_attrib_config ac;
	bool containerd_set = false, crio_set = false, docker_set = false;
	const char *db = DEFAULT_DB, *stats_file = NULL, *metrics_addr = NULL;
	struct kt_rec_metrics *metrics = NULL;
	struct kt_store *st = NULL;
	struct kt_loader *ld = NULL;
	struct kt_recorder *rec = NULL;
	struct kt_kops kops;
	struct kt_indexer *ix = NULL;
	struct kt_skips *skips = NULL;
	bool index = true, worker = false, unpin = false, print_pubkey = false;
	int life_fd = -1;
	long worker_ppid = 0;
	const char *pin_dir = KT_PIN_DEFAULT;
	const char *redact_path = NULL, *key_path = NULL;
	struct kt_redact *redact = NULL;
	struct kt_signer *signer = NULL;
	char key_buf[4096];
	long nice_val = -4;
	struct sigaction sa = { .sa_handler = on_signal };
	int opt, err, lvl;
	char *end;
	long mb;

	kt_log_init("kubetape-recorder", KT_LOG_INFO);
	kt_attrib_config_defaults(&ac);
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			db = optarg;
			break;
		case 'l':
			lvl = kt_log_parse_level(optarg);
			if (lvl < 0) {
				pr_err("--log-level: '%s' is not one of error, warn, info, debug", optarg);
				return 2;
			}
			kt_log_init(NULL, lvl);
			break;
		case 'c':
			if (kt_capture_parse(optarg, &lo.capture)) {
				pr_err("--capture: '%s' is not one of auto, tty, syscall, tty-fentry, tty-kprobe", optarg);
				return 2;
			}
			break;
		case 'C':
		case 'O':
		case 'D': {
			bool *set = opt == 'C' ? &containerd_set : opt == 'O' ? &crio_set : &docker_set;
			int *cnt = opt == 'C' ? &ac.n_containerd : opt == 'O' ? &ac.n_crio : &ac.n_docker;
			const char **roots = opt == 'C' ? ac.containerd_roots :
					     opt == 'O' ? ac.crio_roots : ac.docker_roots;

			if (!*set) {
				*cnt = 0;
				*set = true;
			}
			if (*cnt >= KT_ATTRIB_MAX_ROOTS) {
				pr_err("at most %d state roots per runtime", KT_ATTRIB_MAX_ROOTS);
				return 2;
			}
			roots[(*cnt)++] = optarg;
			break;
		}
		case 'n':
			ac.node_name = optarg;
			break;
		case OPT_PROC_ROOT:
			ac.proc_root = optarg;
			break;
		case 'r':
			errno = 0;
			mb = strtol(optarg, &end, 10);
			if (errno || *end || mb < 1 || mb > 1024 || (mb & (mb - 1))) {
				pr_err("--ringbuf-mb: '%s' is not a power of two between 1 and 1024", optarg);
				return 2;
			}
			lo.ringbuf_bytes = (uint32_t)mb << 20;
			break;
		case 'I':
			lo.capture_input = false;
			break;
		case 'i':
			lo.capture_input = true;
			break;
		case 'R':
			redact_path = optarg;
			break;
		case 'K':
			key_path = optarg;
			break;
		case 'P':
			print_pubkey = true;
			break;
		case 's':
			stats_file = optarg;
			break;
		case 0x4d4c:
			metrics_addr = optarg;
			break;
		case 0x5241:
		case 0x5242:
			if (kt_retention_set(opt == 0x5241, optarg)) {
				pr_err("--%s: malformed '%s' (see --help)",
				       opt == 0x5241 ? "retain-older-than" : "retain-max-bytes", optarg);
				return 2;
			}
			break;
		case 'X':
			index = false;
			break;
		case 'W':
			worker = true;
			break;
		case 'E':
			lo.eager = true;
			break;
		case OPT_PIN_DIR:
			if (strcmp(optarg, "none") && optarg[0] != '/') {
				pr_err("--pin-dir: '%s' is not an absolute path or 'none'", optarg);
				return 2;
			}
			pin_dir = strcmp(optarg, "none") ? optarg : NULL;
			break;
		case OPT_UNPIN:
			unpin = true;
			break;
		case OPT_SYS_EXIT:
			if (!strcmp(optarg, "auto"))
				lo.sys_exit = KT_SYS_EXIT_AUTO;
			else if (!strcmp(optarg, "btf"))
				lo.sys_exit = KT_SYS_EXIT_BTF;
			else if (!strcmp(optarg, "perf"))
				lo.sys_exit = KT_SYS_EXIT_PERF;
			else {
				pr_err("--sys-exit: '%s' is not one of auto, btf, perf", optarg);
				return 2;
			}
			break;
		case OPT_PIN_LAYOUT:
			errno = 0;
			lo.layout = (int)strtol(optarg, &end, 10);
			if (errno || *end || lo.layout < 1 || lo.layout > 9999) {
				pr_err("--pin-layout: '%s' is not a number from 1 to 9999", optarg);
				return 2;
			}
			break;
		case OPT_LIFELINE:	/* internal: set by the recorder for its worker */
			life_fd = (int)strtol(optarg, NULL, 10);
			break;
		case OPT_PARENT:
			worker_ppid = strtol(optarg, NULL, 10);
			break;
		case 'N':
			errno = 0;
			nice_val = strtol(optarg, &end, 10);
			if (errno || *end || nice_val < -20 || nice_val > 19) {
				pr_err("--nice: '%s' is not a number from -20 to 19", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s' (see --help)", argv[optind]);
		return 2;
	}
	ro.attrib = &ac;
	lo.pin_dir = pin_dir;
	lo.defer_consume = true;
	ro.keep_kernel_state = pin_dir != NULL;
	if (unpin) {
		if (!pin_dir) {
			pr_err("--unpin needs a --pin-dir");
			return 2;
		}
		err = kt_loader_unpin(pin_dir);
		if (err) {
			pr_err("cannot remove %s: %s", pin_dir, strerror(-err));
			return 1;
		}
		pr_info("removed the kernel state pinned in %s", pin_dir);
		return 0;
	}
	if (worker) {
		kt_log_init("kubetape-indexer", kt_log_get_level());
		return kt_indexer_worker(db, life_fd, worker_ppid);
	}
	if (kt_rec_key_path(db, key_path, key_buf, sizeof(key_buf)))
		return 2;
	if (print_pubkey) {
		if (mkdir_parent(key_buf) || kt_signer_open(key_buf, &signer))
			return 1;
		printf("%s\n", kt_signer_pubkey_text(signer));
		kt_signer_free(signer);
		return 0;
	}
	if (kt_redact_load(redact_path, &redact))
		return 2; /* said why */
	ro.redact = redact;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A ring buffer only holds a fraction of a second of a flood: the
	 * drain loop must not be starved by the very processes it records. */
	if (setpriority(PRIO_PROCESS, 0, (int)nice_val))
		pr_warn("cannot set priority %ld: %s", nice_val, strerror(errno));

	err = mkdir_parent(db);
	if (err) {
		pr_err("cannot create the directory of %s: %s", db, strerror(-err));
		return 1;
	}
	err = kt_store_open(db, KT_STORE_CREATE, &st);
	if (err) {
		kt_redact_free(redact);
		return 1; /* the store said why */
	}
	err = mkdir_parent(key_buf) ?: kt_signer_open(key_buf, &signer) ?: kt_signer_attach(signer, st);
	if (err)
		goto cleanup; /* said why */
	ro.signer = signer;
	/* With the worker, chunks are appended raw and compressed later off the
	 * capture path; without it, cheaply at zstd level 1 right away. */
	kt_store_set_zstd_level(st, index ? 0 : 1);
	/* Ring records are given back to the kernel once their commit
	 * returns: that commit must be on disk, not in the page cache, or a
	 * filesystem failure (read-only after an error, I/O errors) or a node
	 * crash before writeback loses records no ring holds any more
	 * (tests/e2e/store_ioerr_test.sh found it).  About one fsync per tick
	 * (100 ms) with data. */
	err = kt_store_set_durable(st);
	if (err)
		goto cleanup;

	/* The recorder is created before the ring buffer so the callback has a
	 * context; it only touches the loader once events arrive. */
	err = kt_recorder_new(st, &ro, &rec);
	if (err)
		goto cleanup;
	err = kt_loader_open(&lo, kt_recorder_event, rec, &ld);
	if (err)
		goto cleanup;
	kt_loader_kops(ld, &kops);
	kt_recorder_set_kops(rec, &kops);
	err = kt_skips_new(&skips);
	if (err)
		goto cleanup;
	/* sessions of a previous recorder: continued, or marked interrupted */
	kt_recorder_adopt(rec);
	int n = kt_ctr_scan(ac.proc_root, seed_ctr_ns, ld);
	if (n < 0)
		pr_warn("cannot scan %s (%s): execs into hostPID containers that started before now are not recorded",
			ac.proc_root, strerror(-n));
	else
		pr_info("%d container mount namespaces already on the node", n);
	if (!kt_loader_adopted(ld)) {
		/* no kernel state to adopt: sessions already running are found
		 * by the same rule and recorded from now on, marked late */
		n = kt_loader_find_running(ld);
		if (n < 0)
			pr_warn("cannot look for sessions already running (%s): only new entries "
				"into a container are recorded", strerror(-n));
		else
			pr_info("%d session(s) already running: recorded from now on, marked "
				"\"recording started late\"", n);
	}
	if (index && kt_indexer_start(db, &ix))
		pr_warn("screen indexing is off: seeking and screen search will lag until it runs");
	if (metrics_addr && kt_rec_metrics_start(metrics_addr, db, &metrics))
		goto cleanup; /* said why */
	pr_info("recording into %s (backend %s); ready", db, kt_loader_backend(ld));

	while (!exiting) {
		err = kt_recorder_poll(rec, TICK_MS);
		if (err < 0) {
			pr_err("ring buffer poll failed: %s", strerror(-err));
			goto cleanup;
		}
		kt_recorder_tick(rec);
		/* after the tick's commit: no store transaction is open */
		if (!kt_recorder_store_down(rec))
			kt_skips_check(skips, ld, st, kt_now_us(), false);
		kt_indexer_check(ix);
		kt_rec_metrics_tick(metrics, ld, rec);
	}
	pr_info("%s: flushing", exiting == SIGINT ? "SIGINT" : "SIGTERM");
	err = kt_recorder_shutdown(rec);
	if (!kt_recorder_store_down(rec))
		kt_skips_check(skips, ld, st, kt_now_us(), true);
	write_stats(stats_file, ld, rec, skips);
	/* indexing is resumable: finish what is quick, leave the rest */
	kt_indexer_stop(ix, 2000);
	ix = NULL;
cleanup:
	kt_rec_metrics_stop(metrics);
	kt_indexer_stop(ix, 0);
	kt_skips_free(skips);
	kt_recorder_free(rec);
	kt_loader_close(ld);
	kt_store_close(st);
	kt_signer_free(signer);
	kt_redact_free(redact);
	return err ? 1 : 0;
}
