/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shipping a node's SQLite store to the cluster store in PostgreSQL
 * (store/FORMAT-pg.md).  The node's file stays the source of truth and the
 * outbox: the shipper reads it (read-only, WAL: the recorder never waits)
 * and copies what the server lacks, one PostgreSQL transaction per batch.
 * The server keeps a high-water mark per node (kt_nodes) and a cursor per
 * session (kt_ship_sessions), updated in the batch's transaction, and every
 * row is written with an upsert on its key: a retried batch never
 * duplicates, an interrupted one (crash, server down) rolls back and the
 * next one resumes from the committed marks.
 *
 * Limits: the server never deletes what the node prunes or deletes (it is
 * the archive).  A node's screen-search trigrams are read by scanning its
 * screen_fts index (fts5vocab), once per batch in which blocks closed before
 * node schema v8 are shipped (v8 blocks: their trigram sets).
 */
#ifndef KUBETAPE_STORE_PG_H
#define KUBETAPE_STORE_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Version of the PostgreSQL schema (kt_meta.schema_version). */
#define KT_PG_SCHEMA_VERSION 8

struct kt_ship_opts {
	const char *db_path;    /* the node's SQLite store */
	const char *conninfo;   /* libpq URI or key=value string */
	const char *node_name;  /* src: this node's name in the cluster store */
	bool migrate;           /* create/upgrade the server schema when needed */
	size_t batch_bytes;     /* chunk/keyframe bytes per transaction (0: 8 MiB) */
};

struct kt_ship_status {
	bool connected;
	uint64_t batches, rows, bytes;   /* committed since start */
	uint64_t errors;                 /* failed batches / connections */
	int64_t caught_up_us;            /* start of the last batch that left nothing behind */
	int64_t backlog_sessions;        /* sessions not yet complete on the server */
	int64_t backlog_bytes;           /* chunk bytes of sessions never shipped */
};

struct kt_shipper;

/* Opens the store read-only (-ENOENT, -EPROTO as kt_store_open).  No
 * connection yet. */
int kt_shipper_open(const struct kt_ship_opts *o, struct kt_shipper **out);
void kt_shipper_close(struct kt_shipper *sh);
/* (Re)connects, checks the server and migrates (opts.migrate) or checks
 * the schema version.  -ECONNREFUSED (server unreachable: retry later),
 * -EPROTO (wrong server, schema, encoding: retrying will not help), -EIO. */
int kt_shipper_connect(struct kt_shipper *sh);
/*
 * One batch in one transaction.  *more: there is more to ship right now.
 * -ECONNRESET when the connection broke (the batch rolled back: reconnect
 * and retry), other negative errno on errors (logged).
 */
int kt_shipper_batch(struct kt_shipper *sh, bool *more);
/* libpq's message about the connection (last failure), may hold newlines. */
const char *kt_shipper_error(const struct kt_shipper *sh);
void kt_shipper_status(const struct kt_shipper *sh, struct kt_ship_status *out);
/*
 * Sessions of node `node_name` that are settled on the server (shipped
 * complete, kt_ship_sessions.done), ascending, malloc'd in *ids: what a
 * node may prune locally once it is on the server (kubetape prune
 * --shipped-to).  -ECONNREFUSED, -EPROTO (no or another schema), -ENOMEM.
 */
int kt_pg_shipped_sessions(const char *conninfo, const char *node_name, int64_t **ids,
			   size_t *n);
/* Closes the connection (it is reopened by kt_shipper_connect). */
void kt_shipper_disconnect(struct kt_shipper *sh);

#endif
