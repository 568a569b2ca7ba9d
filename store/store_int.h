/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to store/: the kt_store object, the statement cache, error
 * mapping, varints and the helpers the store files share.  Nothing outside
 * store/ (except the store's own unit tests) includes this.
 */
#ifndef KUBETAPE_STORE_INT_H
#define KUBETAPE_STORE_INT_H

#include <sqlite3.h>
#include "store.h"

/* Largest decompressed chunk the writer produces and a reader accepts; a
 * bound on what a corrupt raw_len can make a reader allocate. */
#define KT_CHUNK_RAW_MAX (64u << 20)
/* A LEB128 u64 never needs more than 10 bytes. */
#define KT_VARINT_MAX 10
/* Search query limit (bytes of user text). */
#define KT_QUERY_MAX 1024

enum kt_codec {
	KT_CODEC_NONE = 0, /* data is the raw frames (readers accept it) */
	KT_CODEC_ZSTD = 1, /* data is one zstd frame; what the writer writes */
	KT_CODEC_ZSTD_SPLIT = 2, /* one zstd frame of headers, then payloads (compaction) */
};

struct ZSTD_DCtx_s;
/* Codec 2's permutation of raw frames and back (out: len bytes); -EBADMSG
 * if the frames do not parse. */
int kt_frames_split(const uint8_t *in, size_t len, uint8_t *out);
int kt_frames_join(const uint8_t *in, size_t len, uint8_t *out);
/* A chunk's stored bytes -> raw_len bytes of frames in out.  Codec 2 goes
 * through *scratch (grown as needed).  -EBADMSG with *why, -ENOMEM. */
/* Grow b's buffer to hold `need` bytes (doubling, capped at
 * KT_CHUNK_RAW_MAX: -E2BIG beyond it); shared by kt_chunk_add and the
 * recorder's frame merge (chunk_merge.c). */
int kt_chunk_reserve(struct kt_chunk_builder *b, size_t need);
int kt_chunk_decode(struct ZSTD_DCtx_s *dctx, int codec, const void *data, size_t len,
		    uint8_t *out, size_t raw_len, uint8_t **scratch, size_t *scratch_cap,
		    const char **why);

/* Cached statements, prepared on first use, one set per kt_store.  Only
 * single-step statements used by non-reentrant paths live here: a list
 * callback may call back into the store, so iterating queries are prepared
 * per call. */
enum kt_stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SESSION_INSERT,
	ST_SESSION_UPDATE,
	ST_SESSION_GET,
	ST_SESSION_INTERRUPT,
	ST_SESSION_ADD_TOTALS,
	ST_SESSION_EXISTS,
	ST_CMD_SEQ,
	ST_CMD_BUMP,
	ST_CMD_INSERT,
	ST_CMD_FTS,
	ST_CMD_EXIT,
	ST_CHUNK_LAST,
	ST_CHUNK_INSERT,
	ST_CHAIN_GET,
	ST_CHAIN_PUT,
	ST_CP_HEAD,		/* checkpoints: chain.c, sign.c */
	ST_CP_INSERT,
	ST_CP_TAIL,
	ST_COMPACT_LIMIT,	/* compact.c gives the SQL of these */
	ST_COMPACT_LIST,
	ST_COMPACT_READ,
	ST_COMPACT_CHECK,
	ST_COMPACT_DELETE,
	ST_IX_BLOCK_GET,	/* index_write.c gives the SQL of these */
	ST_IX_BLOCK_INSERT,
	ST_IX_BLOCK_GROW,
	ST_IX_BLOCK_END,
	ST_IX_PEND_DELETE,
	ST_IX_PEND_INSERT,
	ST_IX_KEYFRAME,
	ST_IX_POSITION,
	ST_IX_RESUME,
	ST__COUNT,
};

struct ZSTD_CCtx_s;
struct kt_pgr;
struct kt_compact_ctx;
void kt_compact_ctx_free(struct kt_compact_ctx *x);

struct kt_store {
	sqlite3 *db;
	char *path;
	unsigned flags;
	int zstd_level;             /* 0: chunks stored raw */
	int compact_level;          /* kt_store_set_compaction; 0 = default */
	size_t compact_target;
	int compact_fast_level;     /* kt_store_set_compaction_fast; 0 = default */
	uint64_t compact_fast_rate;
	struct kt_compact_ctx *compact; /* compact.c: zstd contexts, buffers */
	struct ZSTD_CCtx_s *cctx;   /* lazily created by the first chunk append */
	void *zbuf;                 /* compression output, reused */
	size_t zbuf_cap;
	sqlite3_stmt *stmts[ST__COUNT];
	bool quiet;                 /* kt_store_set_quiet: errors at debug level */
	/* the cluster store (store/pg/pgr.h): db is NULL, every public read
	 * function dispatches to kt_pgr_*; NULL on SQLite */
	struct kt_pgr *pg;
};

/*
 * One row of either backend, read column by column: a SQLite statement
 * (kt_row_sqlite) or a PostgreSQL result row (store/pg/, kt_pgr_row), so
 * that one function fills a struct from a row whatever the backend
 * (commands, audit requests).  A reader that meets a bad value (only the
 * PostgreSQL one can: wrong width, NULL) returns 0 / "" and sets err.
 */
struct kt_row {
	int64_t (*i64)(struct kt_row *row, int col);
	/* a text or blob column's bytes (*len), NUL-terminated; "" for NULL */
	const char *(*bytes)(struct kt_row *row, int col, size_t *len);
	const void *q;          /* sqlite3_stmt or PGresult */
	void *pg;               /* struct kt_pgr */
	int n;                  /* the result's row */
	const char *what;
	int err;
};
void kt_row_sqlite(struct kt_row *row, sqlite3_stmt *q);
/*
 * Rows of one session's query on either backend: sqlite_sql with ?1 the
 * session id and ?2.. the nargs args, or on the cluster store pg_sql with
 * $1 the session's node (src), $2 its id there (session_id is the
 * user-facing gid) and $3.. the args.  cb per row; stops at its first
 * non-zero result (returned).  A session the cluster store does not have:
 * no rows.
 */
#define KT_ROWS_ARGS_MAX 4
int kt_session_rows(struct kt_store *st, int64_t session_id, const char *sqlite_sql,
		    const char *pg_sql, int nargs, const int64_t *args, const char *what,
		    int (*cb)(struct kt_row *row, void *ctx), void *ctx);
#define KT_CMD_COLS(p) \
	p "id, " p "session_id, " p "seq, " p "ts_us, " p "end_us, " p "has_exit, " \
	p "exit_status, " p "pid, " p "ns_pid, " p "ppid, " p "uid, " p "gid, " \
	p "euid, " p "egid, " p "comm, " p "filename, " p "argv, " p "argc, " p "cwd, " \
	p "argv_truncated, " p "cwd_truncated"
/* Columns [first, first + 21) of KT_CMD_COLS order (command.c) into *c;
 * pointers valid while the row is. */
#define KT_CMD_NCOLS 21
void kt_command_read(struct kt_row *row, int first, struct kt_command *c);

/* Log "<what>: <sqlite message>" once and return a negative errno. */
int kt_sql_err(struct kt_store *st, int rc, const char *what);
/* a pruned session's trigram sets and groups (store/index/index_group.c),
 * inside the caller's transaction */
int kt_index_prune(struct kt_store *st, int64_t sid);
/* each trigram (UTF-8, folded as FTS5's trigram tokenizer folds) of closed
 * block block_id's set (schema v8), in code order, to cb (non-zero stops,
 * returned); 1 when the block has no set (closed before v8, or no
 * trigram), -EBADMSG (logged) for a corrupt one */
typedef int (*kt_term_cb)(const char *term, size_t len, void *ctx);
int kt_index_block_terms(struct kt_store *st, int64_t block_id, kt_term_cb cb, void *ctx);
int kt_sqlite_errno(int rc);

/* The cached statement `id`, reset and with bindings cleared; NULL after
 * logging on failure.  Callers sqlite3_reset() it when done so no read
 * snapshot outlives the call (followers must see later commits). */
sqlite3_stmt *kt_stmt(struct kt_store *st, enum kt_stmt_id id);
/* The same for a statement whose SQL its own file generates (session.c):
 * sql is only read the first time (may be NULL once cached). */
sqlite3_stmt *kt_stmt_sql(struct kt_store *st, enum kt_stmt_id id, const char *sql);

/* Step a statement expected to finish (no rows wanted): 0 or -errno. */
int kt_stmt_done(struct kt_store *st, sqlite3_stmt *stmt, const char *what);
/*
 * Step `q` (finalized here) collecting column 0 as ids, then call cb for
 * each id.  Collected first because callbacks write: a write under an open
 * SELECT would upgrade its read snapshot, which SQLite refuses at once
 * (SQLITE_BUSY_SNAPSHOT) when another connection committed meanwhile.
 * Returns the first non-zero cb result, or 0, or -errno.
 */
int kt_sql_ids_each(struct kt_store *st, sqlite3_stmt *q, const char *what,
		    int (*cb)(int64_t id, void *ctx), void *ctx);

/*
 * Make a multi-statement write atomic outside a kt_store_begin() batch (its
 * own BEGIN IMMEDIATE..COMMIT).  Inside a batch it does nothing: a savepoint
 * per operation would make FTS5 flush its pending index each time (a new
 * segment per command).  Operations therefore validate first (session
 * exists, seq known) so that only an I/O-level failure can stop them half
 * way, and such a failure will most likely fail the batch's commit too.
 */
int kt_op_begin(struct kt_store *st, bool *own);
int kt_op_end(struct kt_store *st, bool own, int err);

/* -EROFS (logged) for write calls on a read-only store. */
int kt_store_check_writable(struct kt_store *st, const char *what);

/* Migrations, applied by kt_store_open(KT_STORE_CREATE). */
struct kt_migration {
	int from_version;  /* the step upgrades from_version -> from_version + 1 */
	const char *sql;
};
extern const struct kt_migration kt_migrations[];
extern const size_t kt_n_migrations;

/* Sessions columns shared by session.c and command.c (search). */
extern const char *const kt_session_cols_sql; /* "id, uuid, ..." unprefixed */
/* Fill *s from `stmt` columns [first, first + n_session_cols). */
void kt_session_from_row(sqlite3_stmt *stmt, int first, struct kt_session_info *s);
/* The column table itself (cols[] in session.c, kt_session_cols_sql
 * order), for a reader of another backend (store/pg/): column i set from
 * an integer (converted as kt_session_from_row does) or from len bytes of
 * text (clipped to the field as kt_strlcpy clips). */
int kt_session_ncols(void);
bool kt_session_col_is_str(int i);
void kt_session_col_set_int(struct kt_session_info *s, int i, int64_t v);
void kt_session_col_set_str(struct kt_session_info *s, int i, const char *v, size_t len);
/* session statements, generated from the column table into buf */
const char *kt_session_insert_sql(char *buf, size_t len);
const char *kt_session_update_sql(char *buf, size_t len);
const char *kt_session_get_sql(char *buf, size_t len);
const char *kt_session_cols_prefixed(const char *prefix, char *buf, size_t len);
/*
 * Append the filter's WHERE terms (" AND ..." with ?NNN parameters starting
 * at *nparam + 1) to `sql`; bind them later with kt_session_filter_bind.
 * `alias` is the sessions table alias ("" or "s.").  Pagination (after_id,
 * limit) is not included: its meaning depends on the query.
 */
int kt_session_filter_sql(const struct kt_session_filter *f, const char *alias,
			  char *sql, size_t len, int *nparam);
int kt_session_filter_bind(sqlite3_stmt *stmt, const struct kt_session_filter *f,
			   int first_param);
/* The same terms in another backend's spelling: its substring function
 * (instr's argument order), another column the node filter also matches
 * (or NULL), and the placeholder of filter value slot 1..6 (namespace,
 * pod, container, node, until, since) written into buf. */
struct kt_filter_dialect {
	const char *instr;
	/* substring filters as ILIKE with % _ \ escaped (PostgreSQL: its
	 * trigram indexes serve ILIKE, not strpos; same ASCII folding in the
	 * cluster store's C collation) instead of instr(lower, lower) */
	bool ilike;
	const char *node_alt;
	const char *(*ph)(void *ctx, int slot, const struct kt_session_filter *f, char *buf,
			  size_t len);
	void *ctx;
};
int kt_session_filter_sql_d(const struct kt_session_filter *f, const char *alias,
			    char *sql, size_t len, const struct kt_filter_dialect *d);

/* Search queries (command.c): user text -> one FTS5 phrase per word of 3+
 * characters and one LIKE pattern (\ escapes) per word. */
struct kt_search_plan {
	char *fts;         /* FTS5 query: "w1" "w2" (implicit AND), or NULL */
	char **like;       /* '%word%' LIKE pattern of every word */
	bool *indexed;     /* the word is in the FTS query (3+ characters) */
	int nlike;
};
/* Validates the query (length, UTF-8, not empty; logged) and plans it. */
int kt_search_plan_make(const char *query, struct kt_search_plan *p);
void kt_search_plan_free(struct kt_search_plan *p);

/* Streams positioned by the screen index (stream.c): the first frame
 * returned is frame `frame_index` (0-based) of chunk `chunk_seq`, i.e. the
 * session's frame number chunk_seq + frame_index (chunk seq = the frame
 * number of its first frame), which compaction does not change. */
int kt_stream_open_pos(struct kt_store *st, int64_t session_id, int64_t chunk_seq,
		       uint32_t frame_index, struct kt_stream **out);
/* Where the frame last returned by kt_stream_next was: its chunk and its
 * index + 1 (the position right after it). */
void kt_stream_tell(const struct kt_stream *s, int64_t *chunk_seq, uint32_t *frame_index);

/* varints: unsigned LEB128, see FORMAT.md */
size_t kt_varint_put(uint8_t *dst, uint64_t v);
/* 0 with *v set and *p advanced, -EBADMSG if truncated or > 64 bits */
int kt_varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v);

/* Bounded copy of a possibly-NULL C string into a fixed field. */
void kt_strlcpy(char *dst, const char *src, size_t size);
/* Does [s, s+len) hold valid UTF-8 (no overlongs, surrogates, > U+10FFFF)? */
bool kt_utf8_valid(const char *s, size_t len);
/* Copy len bytes to dst (room for len * 3 + 1) replacing every invalid
 * UTF-8 byte by U+FFFD; returns the output length. */
size_t kt_utf8_sanitize(char *dst, const char *s, size_t len);

#endif
