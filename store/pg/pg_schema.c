// SPDX-License-Identifier: Apache-2.0
/*
 * The cluster store's PostgreSQL schema (store/FORMAT-pg.md) as migration
 * steps, applied by kt_pg_migrate under an advisory lock so that shippers
 * starting together never race.  Every node table is the node's SQLite
 * table with one more key column first, `src` (the shipping node's
 * --node-name), so that the read side can run the SQLite queries with an
 * added `src` term.  INTEGER columns are bigint, BLOB bytea, TEXT text;
 * the database must be SQL_ASCII so text is kept byte for byte as the node
 * has it (kernel strings are not always UTF-8).  Never edit a released step.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pg_int.h"

/* Tables that hold one node's rows each; RLS restricts node roles to their
 * own src (see FORMAT-pg.md "Roles"). */
const char *const kt_pg_node_tables[] = {
	"sessions", "commands", "chunks", "keyframes", "screen_blocks", "screen_pending",
	"screen_index", "chain_heads", "checkpoints", "audit_requests", "audit_sources",
	"kt_nodes", "kt_ship_sessions", NULL,
};

static const char pg_v1[] =
	"CREATE TABLE kt_nodes ("
	"  src text PRIMARY KEY,"
	"  pubkey text NOT NULL DEFAULT '',"
	"  store_schema bigint NOT NULL DEFAULT 0,"
	"  hwm_session bigint NOT NULL DEFAULT 0,"
	"  hwm_checkpoint bigint NOT NULL DEFAULT 0,"
	"  hwm_audit bigint NOT NULL DEFAULT 0,"
	"  batches bigint NOT NULL DEFAULT 0,"
	"  bytes bigint NOT NULL DEFAULT 0,"
	"  shipped_us bigint NOT NULL DEFAULT 0,"
	"  caught_up_us bigint NOT NULL DEFAULT 0,"
	"  backlog_sessions bigint NOT NULL DEFAULT 0,"
	"  backlog_bytes bigint NOT NULL DEFAULT 0);"
	/* the shipper's per-session cursor; not for readers */
	"CREATE TABLE kt_ship_sessions ("
	"  src text NOT NULL,"
	"  session_id bigint NOT NULL,"
	"  done boolean NOT NULL DEFAULT false,"
	"  n_chunks bigint NOT NULL DEFAULT 0,"
	"  frames bigint NOT NULL DEFAULT 0,"
	"  raw_chunks bigint NOT NULL DEFAULT 0,"
	/* the node row's state at the last sync (pg_ship_session.c) */
	"  fp text NOT NULL DEFAULT '',"
	"  PRIMARY KEY (src, session_id));"
	"CREATE INDEX kt_ship_sessions_open ON kt_ship_sessions (src, session_id) WHERE NOT done;"

	"CREATE TABLE sessions ("
	"  src text NOT NULL,"
	"  id bigint NOT NULL,"
	/* a cluster-wide number for `kubetape show` on the server */
	"  gid bigint GENERATED ALWAYS AS IDENTITY UNIQUE,"
	"  uuid text NOT NULL,"
	"  kernel_id bigint NOT NULL DEFAULT 0,"
	"  start_us bigint NOT NULL,"
	"  end_us bigint NOT NULL DEFAULT 0,"
	"  state bigint NOT NULL DEFAULT 0,"
	"  has_exit bigint NOT NULL DEFAULT 0,"
	"  exit_status bigint NOT NULL DEFAULT 0,"
	"  node text NOT NULL DEFAULT '',"
	"  k8s_namespace text NOT NULL DEFAULT '',"
	"  pod text NOT NULL DEFAULT '',"
	"  pod_uid text NOT NULL DEFAULT '',"
	"  container text NOT NULL DEFAULT '',"
	"  container_id text NOT NULL DEFAULT '',"
	"  runtime text NOT NULL DEFAULT '',"
	"  attribution_guess bigint NOT NULL DEFAULT 0,"
	"  hostname text NOT NULL DEFAULT '',"
	"  cgroup_path text NOT NULL DEFAULT '',"
	"  cgroup_id bigint NOT NULL DEFAULT 0,"
	"  pidns_ino bigint NOT NULL DEFAULT 0,"
	"  mntns_ino bigint NOT NULL DEFAULT 0,"
	"  leader_pid bigint NOT NULL DEFAULT 0,"
	"  leader_ns_pid bigint NOT NULL DEFAULT 0,"
	"  leader_uid bigint NOT NULL DEFAULT 0,"
	"  leader_gid bigint NOT NULL DEFAULT 0,"
	"  leader_comm text NOT NULL DEFAULT '',"
	"  has_tty bigint NOT NULL DEFAULT 0,"
	"  tty_name text NOT NULL DEFAULT '',"
	"  rows bigint NOT NULL DEFAULT 0,"
	"  cols bigint NOT NULL DEFAULT 0,"
	"  capture text NOT NULL DEFAULT '',"
	"  bytes_out bigint NOT NULL DEFAULT 0,"
	"  bytes_in bigint NOT NULL DEFAULT 0,"
	"  lost_bytes bigint NOT NULL DEFAULT 0,"
	"  lost_events bigint NOT NULL DEFAULT 0,"
	"  n_commands bigint NOT NULL DEFAULT 0,"
	"  first_command text NOT NULL DEFAULT '',"
	/* SQLite schema v6: how the leader got into the container (KT_ENTRY_*) */
	"  entry_flags bigint NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (src, id),"
	"  UNIQUE (src, uuid));"
	"CREATE INDEX sessions_ns_pod_start ON sessions (k8s_namespace, pod, start_us);"
	"CREATE INDEX sessions_pod ON sessions (pod);"
	"CREATE INDEX sessions_start ON sessions (start_us);"
	"CREATE INDEX sessions_node_start ON sessions (node, start_us);"
	"CREATE INDEX sessions_active ON sessions (src, id) WHERE state = 0;"

	"CREATE TABLE commands ("
	"  src text NOT NULL,"
	"  id bigint NOT NULL,"
	"  session_id bigint NOT NULL,"
	"  seq bigint NOT NULL,"
	"  ts_us bigint NOT NULL,"
	"  end_us bigint NOT NULL DEFAULT 0,"
	"  has_exit bigint NOT NULL DEFAULT 0,"
	"  exit_status bigint NOT NULL DEFAULT 0,"
	"  pid bigint NOT NULL DEFAULT 0,"
	"  ns_pid bigint NOT NULL DEFAULT 0,"
	"  ppid bigint NOT NULL DEFAULT 0,"
	"  uid bigint NOT NULL DEFAULT 0,"
	"  gid bigint NOT NULL DEFAULT 0,"
	"  euid bigint NOT NULL DEFAULT 0,"
	"  egid bigint NOT NULL DEFAULT 0,"
	"  comm text NOT NULL DEFAULT '',"
	"  filename text NOT NULL DEFAULT '',"
	"  argv bytea NOT NULL DEFAULT '',"
	"  argc bigint NOT NULL DEFAULT 0,"
	"  argv_text text NOT NULL DEFAULT '',"
	"  cwd text NOT NULL DEFAULT '',"
	"  argv_truncated bigint NOT NULL DEFAULT 0,"
	"  cwd_truncated bigint NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (src, id),"
	"  UNIQUE (src, session_id, seq));"
	"CREATE INDEX commands_running ON commands (src, session_id, id) WHERE end_us = 0;"
	/* substring search, the counterpart of commands_fts (trigram) */
	"CREATE INDEX commands_argv_trgm ON commands USING gin (argv_text gin_trgm_ops);"

	"CREATE TABLE chunks ("
	"  src text NOT NULL,"
	"  session_id bigint NOT NULL,"
	"  seq bigint NOT NULL,"
	"  start_us bigint NOT NULL,"
	"  end_us bigint NOT NULL,"
	"  out_offset bigint NOT NULL,"
	"  in_offset bigint NOT NULL,"
	"  out_bytes bigint NOT NULL,"
	"  in_bytes bigint NOT NULL,"
	"  nframes bigint NOT NULL,"
	"  raw_len bigint NOT NULL,"
	"  codec bigint NOT NULL,"
	/* already compressed (zstd) or raw frames: leave TOAST compression to PG */
	"  data bytea NOT NULL,"
	"  PRIMARY KEY (src, session_id, seq));"
	"CREATE INDEX chunks_end ON chunks (src, session_id, end_us);"

	"CREATE TABLE keyframes ("
	"  src text NOT NULL,"
	"  session_id bigint NOT NULL,"
	"  chunk_seq bigint NOT NULL,"
	"  frame_index bigint NOT NULL,"
	"  ts_us bigint NOT NULL,"
	"  out_offset bigint NOT NULL,"
	"  rows bigint NOT NULL,"
	"  cols bigint NOT NULL,"
	"  raw_len bigint NOT NULL,"
	"  codec bigint NOT NULL,"
	"  data bytea NOT NULL,"
	"  PRIMARY KEY (src, session_id, chunk_seq, frame_index));"
	"CREATE INDEX keyframes_ts ON keyframes (src, session_id, ts_us);"

	"CREATE TABLE screen_blocks ("
	"  src text NOT NULL,"
	"  id bigint NOT NULL,"
	"  session_id bigint NOT NULL,"
	"  seq bigint NOT NULL,"
	"  chunk_seq bigint NOT NULL,"
	"  frame_index bigint NOT NULL,"
	"  end_chunk_seq bigint NOT NULL,"
	"  end_frame_index bigint NOT NULL,"
	"  ts_first_us bigint NOT NULL,"
	"  ts_last_us bigint NOT NULL,"
	"  n_lines bigint NOT NULL,"
	"  final bigint NOT NULL DEFAULT 0,"
	"  open bigint NOT NULL DEFAULT 0,"
	/* the block's screen_fts trigrams (lower-cased), NULL until shipped */
	"  trigrams text[],"
	"  PRIMARY KEY (src, id),"
	"  UNIQUE (src, session_id, seq));"
	"CREATE INDEX screen_blocks_trigrams ON screen_blocks USING gin (trigrams);"
	"CREATE INDEX screen_blocks_untrigrammed ON screen_blocks (src, id)"
	"  WHERE open = 0 AND trigrams IS NULL;"
	"CREATE TABLE screen_pending ("
	"  src text NOT NULL,"
	"  block_id bigint NOT NULL,"
	"  first_line bigint NOT NULL,"
	"  lines bytea NOT NULL,"
	"  PRIMARY KEY (src, block_id, first_line));"
	"CREATE TABLE screen_index ("
	"  src text NOT NULL,"
	"  session_id bigint NOT NULL,"
	"  chunk_seq bigint NOT NULL,"
	"  frame_index bigint NOT NULL,"
	"  ts_us bigint NOT NULL,"
	"  out_offset bigint NOT NULL,"
	"  kf_offset bigint NOT NULL,"
	"  kf_us bigint NOT NULL,"
	"  block_seq bigint NOT NULL,"
	"  block_chunk_seq bigint NOT NULL,"
	"  block_frame_index bigint NOT NULL,"
	"  block_lines bigint NOT NULL,"
	"  done bigint NOT NULL DEFAULT 0,"
	"  rows bigint NOT NULL,"
	"  cols bigint NOT NULL,"
	"  state bytea,"
	"  PRIMARY KEY (src, session_id));"

	"CREATE TABLE chain_heads ("
	"  src text NOT NULL,"
	"  session_id bigint NOT NULL,"
	"  n_frames bigint NOT NULL,"
	"  head bytea NOT NULL,"
	"  PRIMARY KEY (src, session_id));"
	"CREATE TABLE checkpoints ("
	"  src text NOT NULL,"
	"  node_seq bigint NOT NULL,"
	"  session_id bigint NOT NULL,"
	"  uuid text NOT NULL,"
	"  seq bigint NOT NULL,"
	"  ts_us bigint NOT NULL,"
	"  n_frames bigint NOT NULL,"
	"  head bytea NOT NULL,"
	"  final bigint NOT NULL,"
	"  prev bytea NOT NULL,"
	"  sig bytea NOT NULL,"
	"  PRIMARY KEY (src, node_seq));"
	"CREATE INDEX checkpoints_session ON checkpoints (src, session_id, seq);"

	"CREATE TABLE audit_requests ("
	"  src text NOT NULL,"
	"  id bigint NOT NULL,"
	"  audit_id text NOT NULL,"
	"  verb text NOT NULL DEFAULT '',"
	"  subresource text NOT NULL,"
	"  username text NOT NULL DEFAULT '',"
	"  user_uid text NOT NULL DEFAULT '',"
	"  groups text NOT NULL DEFAULT '[]',"
	"  impersonated_user text NOT NULL DEFAULT '',"
	"  impersonated_groups text NOT NULL DEFAULT '[]',"
	"  source_ips text NOT NULL DEFAULT '[]',"
	"  user_agent text NOT NULL DEFAULT '',"
	"  k8s_namespace text NOT NULL,"
	"  pod text NOT NULL,"
	"  container text NOT NULL DEFAULT '',"
	"  argv bytea NOT NULL DEFAULT '',"
	"  argc bigint NOT NULL DEFAULT 0,"
	"  argv_truncated bigint NOT NULL DEFAULT 0,"
	"  tty bigint NOT NULL DEFAULT 0,"
	"  stdin bigint NOT NULL DEFAULT 0,"
	"  stdout bigint NOT NULL DEFAULT 0,"
	"  stderr bigint NOT NULL DEFAULT 0,"
	"  decision text NOT NULL DEFAULT '',"
	"  reason text NOT NULL DEFAULT '',"
	"  code bigint NOT NULL DEFAULT 0,"
	"  stages bigint NOT NULL DEFAULT 0,"
	"  received_us bigint NOT NULL,"
	"  started_us bigint NOT NULL DEFAULT 0,"
	"  completed_us bigint NOT NULL DEFAULT 0,"
	"  exec_id text NOT NULL DEFAULT '',"
	/* audit_id is unique per node store; the same request imported on
	 * two nodes stays two rows (the join runs per src) */
	"  PRIMARY KEY (src, id),"
	"  UNIQUE (src, audit_id));"
	"CREATE INDEX audit_requests_pod ON audit_requests (k8s_namespace, pod, received_us);"
	"CREATE INDEX audit_requests_exec_id ON audit_requests (exec_id) WHERE exec_id != '';"
	"CREATE TABLE audit_sources ("
	"  src text NOT NULL,"
	"  path text NOT NULL,"
	"  dev bigint NOT NULL,"
	"  ino bigint NOT NULL,"
	"  \"offset\" bigint NOT NULL,"
	"  fp bigint NOT NULL DEFAULT 0,"
	"  fp_len bigint NOT NULL DEFAULT 0,"
	"  updated_us bigint NOT NULL,"
	"  PRIMARY KEY (src, path));"

	/* retention on the node (store/prune.c): its holds as they are now,
	 * its prune records as they were written */
	"CREATE TABLE holds ("
	"  src text NOT NULL,"
	"  session_id bigint NOT NULL,"
	"  uuid text NOT NULL,"
	"  ts_us bigint NOT NULL,"
	"  who text NOT NULL DEFAULT '',"
	"  reason text NOT NULL DEFAULT '',"
	"  PRIMARY KEY (src, session_id));"
	"CREATE TABLE prunes ("
	"  src text NOT NULL,"
	"  id bigint NOT NULL,"
	"  session_id bigint NOT NULL,"
	"  uuid text NOT NULL,"
	"  ts_us bigint NOT NULL,"
	"  rule text NOT NULL,"
	"  min_age_us bigint NOT NULL DEFAULT 0,"
	"  who text NOT NULL DEFAULT '',"
	"  start_us bigint NOT NULL,"
	"  end_us bigint NOT NULL,"
	"  k8s_namespace text NOT NULL DEFAULT '',"
	"  pod text NOT NULL DEFAULT '',"
	"  bytes bigint NOT NULL DEFAULT 0,"
	"  n_frames bigint NOT NULL DEFAULT 0,"
	"  head bytea,"
	"  PRIMARY KEY (src, id));"

	/*
	 * Roles (FORMAT-pg.md): kubetape_node ships, kubetape_reader reads.
	 * A node role may only touch rows of the src mapped to it in
	 * kt_node_roles; the owner (who migrates) is not subject to RLS.
	 */
	"CREATE TABLE kt_node_roles ("
	"  role name PRIMARY KEY,"
	"  src text NOT NULL);"
	"DO $$ BEGIN"
	"  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kubetape_node') THEN"
	"    CREATE ROLE kubetape_node NOLOGIN;"
	"  END IF;"
	"  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kubetape_reader') THEN"
	"    CREATE ROLE kubetape_reader NOLOGIN;"
	"  END IF;"
	"END $$;"
	"CREATE FUNCTION kt_role_src() RETURNS text LANGUAGE sql STABLE AS"
	"  $$ SELECT src FROM kt_node_roles WHERE role = current_user $$;"
	"GRANT SELECT ON kt_meta, kt_node_roles TO kubetape_node, kubetape_reader;"
	"GRANT EXECUTE ON FUNCTION kt_role_src() TO kubetape_node;"
	"DO $$ DECLARE t text; BEGIN"
	"  FOREACH t IN ARRAY ARRAY['sessions','commands','chunks','keyframes',"
	"      'screen_blocks','screen_pending','screen_index','chain_heads','checkpoints',"
	"      'audit_requests','audit_sources','holds','prunes','kt_nodes','kt_ship_sessions'] LOOP"
	"    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);"
	"    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO kubetape_node', t);"
	"    EXECUTE format('GRANT SELECT ON %I TO kubetape_reader', t);"
	"    EXECUTE format('CREATE POLICY kt_node_own ON %I TO kubetape_node"
	"      USING (src = kt_role_src()) WITH CHECK (src = kt_role_src())', t);"
	"    EXECUTE format('CREATE POLICY kt_read_all ON %I FOR SELECT TO kubetape_reader"
	"      USING (true)', t);"
	"  END LOOP;"
	"END $$;";

/*
 * v3 (was v2 on its branch; v2 is the access log): substring filters on pod and namespace (the web's, `strpos(lower())`
 * on a node) through trigram indexes: the read side writes them as ILIKE
 * with % _ \ escaped, which pg_trgm serves.  Measured by bench/pg_scale.sh
 * on 100,000 sessions: a rare pod substring 245 ms by a scan, 3 ms by the
 * index.  And a namespace with a time window (--namespace --since/--until)
 * by (k8s_namespace, start_us): the list is newest first by gid, which
 * follows start time, so a window weeks back walked the gid index through
 * every newer session.  Indexes only; a few MB.
 */
static const char pg_v3[] =
	"CREATE INDEX sessions_pod_trgm ON sessions USING gin (pod gin_trgm_ops);"
	"CREATE INDEX sessions_ns_trgm ON sessions USING gin (k8s_namespace gin_trgm_ops);"
	"CREATE INDEX sessions_ns_start ON sessions (k8s_namespace, start_us);";

/*
 * v6 (v5 on its branch; renumbered after the one-key step): the chain
 * version of each session and checkpoint (FORMAT.md "Chain
 * versions", SQLite v9), shipped like every other column so the cluster
 * store verifies both hashes.  Rows shipped before are version 1 (BLAKE2b):
 * nothing else wrote them.  Self-contained: renumbers by from_version.
 */
static const char pg_v6_chain_ver[] =
	"ALTER TABLE sessions ADD COLUMN chain_ver bigint NOT NULL DEFAULT 1;"
	"ALTER TABLE checkpoints ADD COLUMN ver bigint NOT NULL DEFAULT 1;";

/*
 * v7: a namespace's, a node's and a shipping node's sessions newest first,
 * by index.  Lists and command searches are newest session first (gid);
 * with --namespace or --node the walk went down sessions_gid_key through
 * every newer session of the cluster, a heap tuple each, to find the ones
 * the filter keeps.  bench/pg_scale.sh's 100,000 sessions, `search
 * password` at 1,000 hits: in namespace sandbox (1.2 % of them) 167 -> 94
 * ms (a new psql per run through a cursor, 11 runs each, alternating);
 * payments (19 %) 113 -> 109 (it walks ~1,900 of the ~9,700 newest either
 * way); on node-07 of 50 (~97,000 sessions walked, 54 ms of a 104 ms
 * search) the search is two branches, node and src (pgr_command.c), each
 * by its index: 189 -> 117 ms the same way.  sessions_ns_start stays for
 * a namespace with a time window.  Indexes only; ~3 MB each there.
 */
static const char pg_v7_filter_gid[] =
	"CREATE INDEX sessions_ns_gid ON sessions (k8s_namespace, gid);"
	"CREATE INDEX sessions_node_gid ON sessions (node, gid);"
	"CREATE INDEX sessions_src_gid ON sessions (src, gid);";

static const struct {
	int from_version;
	const char *sql;
	int (*fill)(PGconn *c);  /* after sql, in the same transaction */
} pg_migrations[] = {
	{ 0, pg_v1, NULL },
	{ 1, kt_pg_step_access_log, NULL },  /* pg_schema_access.c */
	{ 2, pg_v3, NULL },  /* the read side's indexes (bench/pg_scale.sh) */
	{ 3, kt_pg_step_search_walk, NULL },  /* pg_schema_search.c */
	{ 4, kt_pg_step_one_key, NULL },  /* pg_schema_onekey.c */
	{ 5, pg_v6_chain_ver, NULL },  /* the chain hash's version */
	{ 6, pg_v7_filter_gid, NULL },  /* filtered sessions newest first */
	{ 7, kt_pg_step_cmd_bloom, kt_pg_fill_cmd_bloom },  /* pg_schema_bloom.c */
};

int kt_pg_err(PGconn *c, const PGresult *r, const char *what)
{
	const char *msg = r ? PQresultErrorMessage(r) : NULL;

	if (!msg || !*msg)
		msg = c ? PQerrorMessage(c) : "no connection";
	/* libpq messages end with a newline (sometimes several lines) */
	pr_err("postgres: %s: %.*s", what, (int)strcspn(msg, "\n"), msg);
	return c && PQstatus(c) != CONNECTION_OK ? -ECONNRESET : -EIO;
}

int kt_pg_exec(PGconn *c, const char *sql, const char *what)
{
	PGresult *r = PQexec(c, sql);
	int err = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		err = kt_pg_err(c, r, what);
	PQclear(r);
	return err;
}

/* The stored schema version, 0 if there is no kt_meta yet. */
static int pg_version(PGconn *c, int *version)
{
	PGresult *r = PQexec(c, "SELECT to_regclass('kt_meta') IS NOT NULL");
	int err = 0;

	*version = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		err = kt_pg_err(c, r, "reading the schema version");
	} else if (strcmp(PQgetvalue(r, 0, 0), "t") == 0) {
		PQclear(r);
		r = PQexec(c, "SELECT value::int FROM kt_meta WHERE key = 'schema_version'");
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			err = kt_pg_err(c, r, "reading the schema version");
		else if (PQntuples(r) == 1)
			*version = atoi(PQgetvalue(r, 0, 0));
	}
	PQclear(r);
	return err;
}

int kt_pg_check_server(PGconn *c)
{
	const char *enc = PQparameterStatus(c, "server_encoding");

	/* SQL_ASCII: text is bytes; node strings are not always UTF-8 and a
	 * shipper must never alter or drop them */
	if (!enc || strcmp(enc, "SQL_ASCII") != 0) {
		pr_err("postgres: the database's encoding is %s; kubetape needs SQL_ASCII "
		       "(CREATE DATABASE ... ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' "
		       "TEMPLATE template0; FORMAT-pg.md)", enc ? enc : "unknown");
		return -EPROTO;
	}
	if (PQserverVersion(c) < 130000) {
		pr_err("postgres: server version %d is too old (13 or newer needed)",
		       PQserverVersion(c));
		return -EPROTO;
	}
	return 0;
}

/*
 * Up to step `target` (kt_pg_migrate: KT_PG_SCHEMA_VERSION; a lower target
 * only from tests/helpers/kt_pg_migrate.c, to build an older release's
 * schema with the steps as released).  One transaction: a migration that
 * is interrupted (killed, connection lost) leaves the version it started
 * from.
 */
int kt_pg_migrate_to(PGconn *c, bool allow, int target)
{
	int version = 0, from, err;
	char sql[128];

	if (target < 1 || target > KT_PG_SCHEMA_VERSION)
		return -EINVAL;
	err = kt_pg_check_server(c);
	if (err)
		return err;
	err = pg_version(c, &version);
	if (err)
		return err;
	if (version == target)
		return 0;
	if (version > target) {
		pr_err("postgres: schema version %d is newer than this kubetape's (%d): upgrade it",
		       version, target);
		return -EPROTO;
	}
	if (!allow) {
		pr_err("postgres: schema version %d, %d needed: run 'kubetape ship --migrate' "
		       "as the schema owner", version, target);
		return -EPROTO;
	}
	err = kt_pg_exec(c, "BEGIN", "begin migration");
	if (err)
		return err;
	/* one migrator at a time; the others find the new version after it */
	err = kt_pg_exec(c, "SELECT pg_advisory_xact_lock(1263818064)", "migration lock");
	if (!err)
		err = pg_version(c, &version);
	/*
	 * Decide again under the lock: another migrator may have committed
	 * while this one waited.  Before, the steps were skipped but the
	 * version was still written as `target`: a second shipper logged
	 * "migrated from version 6 to 6", and one that lost the race to a
	 * newer kubetape wrote its older number over the newer one (whose
	 * next start would then re-run its own steps and fail on "already
	 * exists").  tests/e2e/pg_upgrade_test.sh runs two migrators at once.
	 */
	if (!err && version >= target) {
		kt_pg_exec(c, "ROLLBACK", "end migration");
		if (version == target)
			return 0;
		pr_err("postgres: schema version %d is newer than this kubetape's (%d): upgrade it",
		       version, target);
		return -EPROTO;
	}
	from = version;
	if (!err && version == 0)
		err = kt_pg_exec(c, "CREATE EXTENSION IF NOT EXISTS pg_trgm;"
				 "CREATE TABLE kt_meta (key text PRIMARY KEY, value text NOT NULL);"
				 "INSERT INTO kt_meta VALUES ('schema_version', '0')",
				 "creating kt_meta");
	for (size_t i = 0; !err && i < sizeof(pg_migrations) / sizeof(pg_migrations[0]); i++) {
		if (pg_migrations[i].from_version < version ||
		    pg_migrations[i].from_version >= target)
			continue;
		snprintf(sql, sizeof(sql), "migration step %d", pg_migrations[i].from_version + 1);
		err = kt_pg_exec(c, pg_migrations[i].sql, sql);
		if (!err && pg_migrations[i].fill)
			err = pg_migrations[i].fill(c);
	}
	if (!err) {
		snprintf(sql, sizeof(sql), "UPDATE kt_meta SET value = '%d' WHERE key = 'schema_version'",
			 target);
		err = kt_pg_exec(c, sql, "recording the schema version");
	}
	if (!err)
		err = kt_pg_exec(c, "COMMIT", "commit migration");
	if (err) {
		kt_pg_exec(c, "ROLLBACK", "rollback migration");
		return err;
	}
	pr_info("postgres: schema migrated from version %d to %d", from, target);
	return 0;
}

int kt_pg_migrate(PGconn *c, bool allow)
{
	return kt_pg_migrate_to(c, allow, KT_PG_SCHEMA_VERSION);
}
