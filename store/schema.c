// SPDX-License-Identifier: Apache-2.0
/*
 * The schema as a list of migration steps.  kt_store_open(KT_STORE_CREATE)
 * runs, in one transaction, every step whose from_version is >= the stored
 * version, then records KT_SCHEMA_VERSION in meta.  To go to v2: append
 * { 1, "ALTER TABLE ... / CREATE TABLE keyframes ..." }, bump
 * KT_SCHEMA_VERSION in store.h and describe it in FORMAT.md.  Never edit a
 * released step: databases in the field already ran it.
 *
 * Column meanings and units are in FORMAT.md.
 */
#include "store_int.h"

static const char schema_v1[] =
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY NOT NULL,"
	"  value"
	") WITHOUT ROWID;"

	/* AUTOINCREMENT: ids are what users type, never reuse one */
	"CREATE TABLE sessions ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  uuid TEXT NOT NULL UNIQUE,"
	"  kernel_id INTEGER NOT NULL DEFAULT 0,"
	"  start_us INTEGER NOT NULL,"
	"  end_us INTEGER NOT NULL DEFAULT 0,"
	"  state INTEGER NOT NULL DEFAULT 0,"
	"  has_exit INTEGER NOT NULL DEFAULT 0,"
	"  exit_status INTEGER NOT NULL DEFAULT 0,"
	"  node TEXT NOT NULL DEFAULT '',"
	"  k8s_namespace TEXT NOT NULL DEFAULT '',"
	"  pod TEXT NOT NULL DEFAULT '',"
	"  pod_uid TEXT NOT NULL DEFAULT '',"
	"  container TEXT NOT NULL DEFAULT '',"
	"  container_id TEXT NOT NULL DEFAULT '',"
	"  runtime TEXT NOT NULL DEFAULT '',"
	"  attribution_guess INTEGER NOT NULL DEFAULT 0,"
	"  hostname TEXT NOT NULL DEFAULT '',"
	"  cgroup_path TEXT NOT NULL DEFAULT '',"
	"  cgroup_id INTEGER NOT NULL DEFAULT 0,"
	"  pidns_ino INTEGER NOT NULL DEFAULT 0,"
	"  mntns_ino INTEGER NOT NULL DEFAULT 0,"
	"  leader_pid INTEGER NOT NULL DEFAULT 0,"
	"  leader_ns_pid INTEGER NOT NULL DEFAULT 0,"
	"  leader_uid INTEGER NOT NULL DEFAULT 0,"
	"  leader_gid INTEGER NOT NULL DEFAULT 0,"
	"  leader_comm TEXT NOT NULL DEFAULT '',"
	"  has_tty INTEGER NOT NULL DEFAULT 0,"
	"  tty_name TEXT NOT NULL DEFAULT '',"
	"  rows INTEGER NOT NULL DEFAULT 0,"
	"  cols INTEGER NOT NULL DEFAULT 0,"
	"  capture TEXT NOT NULL DEFAULT '',"
	"  bytes_out INTEGER NOT NULL DEFAULT 0,"
	"  bytes_in INTEGER NOT NULL DEFAULT 0,"
	"  lost_bytes INTEGER NOT NULL DEFAULT 0,"
	"  lost_events INTEGER NOT NULL DEFAULT 0,"
	"  n_commands INTEGER NOT NULL DEFAULT 0,"
	"  first_command TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX sessions_ns_pod_start ON sessions (k8s_namespace, pod, start_us);"
	"CREATE INDEX sessions_pod ON sessions (pod);"
	"CREATE INDEX sessions_start ON sessions (start_us);"
	/* small: only open sessions; interrupt_open and `active` filters */
	"CREATE INDEX sessions_active ON sessions (id) WHERE state = 0;"

	"CREATE TABLE commands ("
	"  id INTEGER PRIMARY KEY,"
	"  session_id INTEGER NOT NULL REFERENCES sessions (id),"
	"  seq INTEGER NOT NULL,"
	"  ts_us INTEGER NOT NULL,"
	"  end_us INTEGER NOT NULL DEFAULT 0,"
	"  has_exit INTEGER NOT NULL DEFAULT 0,"
	"  exit_status INTEGER NOT NULL DEFAULT 0,"
	"  pid INTEGER NOT NULL DEFAULT 0,"
	"  ns_pid INTEGER NOT NULL DEFAULT 0,"
	"  ppid INTEGER NOT NULL DEFAULT 0,"
	"  uid INTEGER NOT NULL DEFAULT 0,"
	"  gid INTEGER NOT NULL DEFAULT 0,"
	"  euid INTEGER NOT NULL DEFAULT 0,"
	"  egid INTEGER NOT NULL DEFAULT 0,"
	"  comm TEXT NOT NULL DEFAULT '',"
	"  filename TEXT NOT NULL DEFAULT '',"
	"  argv BLOB NOT NULL DEFAULT x'',"
	"  argc INTEGER NOT NULL DEFAULT 0,"
	"  argv_text TEXT NOT NULL DEFAULT '',"
	"  cwd TEXT NOT NULL DEFAULT '',"
	"  argv_truncated INTEGER NOT NULL DEFAULT 0,"
	"  cwd_truncated INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE UNIQUE INDEX commands_session_seq ON commands (session_id, seq);"
	/* small: only running commands; kt_store_command_exit */
	"CREATE INDEX commands_running ON commands (session_id, pid, seq) WHERE end_us = 0;"
	/*
	 * trigram: substring search ("passwd" finds /etc/passwd).  External
	 * content: the text lives once, in commands.argv_text.  No INSERT
	 * trigger: the writer adds the row itself (kt_store_command_add).  A
	 * trigger makes every command insert a statement transaction, and FTS5
	 * flushes its pending index at every savepoint: 4x slower inserts.
	 * Deletes and argv_text updates (retention, repairs) go via triggers.
	 */
	"CREATE VIRTUAL TABLE commands_fts USING fts5 ("
	"  argv_text, content = 'commands', content_rowid = 'id', tokenize = 'trigram'"
	");"
	"CREATE TRIGGER commands_fts_ad AFTER DELETE ON commands BEGIN"
	"  INSERT INTO commands_fts (commands_fts, rowid, argv_text)"
	"    VALUES ('delete', old.id, old.argv_text);"
	"END;"
	"CREATE TRIGGER commands_fts_au AFTER UPDATE OF argv_text ON commands BEGIN"
	"  INSERT INTO commands_fts (commands_fts, rowid, argv_text)"
	"    VALUES ('delete', old.id, old.argv_text);"
	"  INSERT INTO commands_fts (rowid, argv_text) VALUES (new.id, new.argv_text);"
	"END;"

	"CREATE TABLE chunks ("
	"  session_id INTEGER NOT NULL REFERENCES sessions (id),"
	"  seq INTEGER NOT NULL,"
	"  start_us INTEGER NOT NULL,"
	"  end_us INTEGER NOT NULL,"
	"  out_offset INTEGER NOT NULL,"
	"  in_offset INTEGER NOT NULL,"
	"  out_bytes INTEGER NOT NULL,"
	"  in_bytes INTEGER NOT NULL,"
	"  nframes INTEGER NOT NULL,"
	"  raw_len INTEGER NOT NULL,"
	"  codec INTEGER NOT NULL,"
	"  data BLOB NOT NULL,"
	"  PRIMARY KEY (session_id, seq)"
	");"
	"CREATE INDEX chunks_end ON chunks (session_id, end_us);";

/*
 * v2: the screen index (store/index/, FORMAT.md "Screen index").
 * keyframes: redraw bytes (zstd) of the screen after frame_index frames of
 * chunk chunk_seq; "last keyframe at or before T" is keyframes_ts.
 * screen_blocks: the lines that left the screen between two keyframes (and
 * the final screen), no text: search finds candidate blocks in screen_fts
 * and renders them again from their keyframe.  Numbered per session (seq)
 * so re-indexing writes nothing twice.  screen_fts: a contentless trigram
 * index, rowid = block id, detail=none and no column sizes: only which
 * trigrams each block holds (~0.05-0.1x the text; per-line rows with
 * positions were 5x).  screen_pending: lines of the open block, until a
 * keyframe or the session end closes it.  screen_index: where the indexer
 * of each session stands.
 */
static const char schema_v2[] =
	/*
	 * v2 numbers chunks by frames: seq = the session frame number of the
	 * chunk's first frame (v1: 0, 1, 2, ...), so that a position "frame f
	 * of chunk c" = frame number c + f stays valid when compaction merges
	 * chunks.  Renumber through negative values: the new numbers are
	 * distinct and never below the old ones, but a row-by-row update in
	 * place could collide with a row not yet renumbered.
	 */
	"CREATE TEMP TABLE kt_renumber AS SELECT session_id, seq, sum(nframes) OVER"
	"  (PARTITION BY session_id ORDER BY seq ROWS UNBOUNDED PRECEDING) - nframes AS first_frame"
	"  FROM chunks;"
	"CREATE UNIQUE INDEX temp.kt_renumber_key ON kt_renumber (session_id, seq);"
	"UPDATE chunks SET seq = -1 - (SELECT first_frame FROM kt_renumber r"
	"  WHERE r.session_id = chunks.session_id AND r.seq = chunks.seq);"
	"UPDATE chunks SET seq = -1 - seq;"
	"DROP TABLE temp.kt_renumber;"

	"CREATE TABLE keyframes ("
	"  session_id INTEGER NOT NULL REFERENCES sessions (id),"
	"  chunk_seq INTEGER NOT NULL,"
	"  frame_index INTEGER NOT NULL,"
	"  ts_us INTEGER NOT NULL,"
	"  out_offset INTEGER NOT NULL,"
	"  rows INTEGER NOT NULL,"
	"  cols INTEGER NOT NULL,"
	"  raw_len INTEGER NOT NULL,"
	"  codec INTEGER NOT NULL,"
	"  data BLOB NOT NULL,"
	"  PRIMARY KEY (session_id, chunk_seq, frame_index)"
	") WITHOUT ROWID;"
	"CREATE INDEX keyframes_ts ON keyframes (session_id, ts_us);"

	"CREATE TABLE screen_blocks ("
	"  id INTEGER PRIMARY KEY,"
	"  session_id INTEGER NOT NULL REFERENCES sessions (id),"
	"  seq INTEGER NOT NULL,"
	"  chunk_seq INTEGER NOT NULL,"
	"  frame_index INTEGER NOT NULL,"
	"  end_chunk_seq INTEGER NOT NULL,"
	"  end_frame_index INTEGER NOT NULL,"
	"  ts_first_us INTEGER NOT NULL,"
	"  ts_last_us INTEGER NOT NULL,"
	"  n_lines INTEGER NOT NULL,"
	"  final INTEGER NOT NULL DEFAULT 0,"
	"  open INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE UNIQUE INDEX screen_blocks_session_seq ON screen_blocks (session_id, seq);"
	/* small: at most one open block per session */
	"CREATE INDEX screen_blocks_open ON screen_blocks (id) WHERE open = 1;"
	"CREATE VIRTUAL TABLE screen_fts USING fts5 ("
	"  x, tokenize = 'trigram', detail = 'none', content = '', columnsize = 0"
	");"
	"CREATE TABLE screen_pending ("
	"  block_id INTEGER NOT NULL,"
	"  first_line INTEGER NOT NULL,"
	"  lines BLOB NOT NULL,"
	"  PRIMARY KEY (block_id, first_line)"
	") WITHOUT ROWID;"

	"CREATE TABLE screen_index ("
	"  session_id INTEGER PRIMARY KEY REFERENCES sessions (id),"
	"  chunk_seq INTEGER NOT NULL,"
	"  frame_index INTEGER NOT NULL,"
	"  ts_us INTEGER NOT NULL,"
	"  out_offset INTEGER NOT NULL,"
	"  kf_offset INTEGER NOT NULL,"
	"  kf_us INTEGER NOT NULL,"
	"  block_seq INTEGER NOT NULL,"
	"  block_chunk_seq INTEGER NOT NULL,"
	"  block_frame_index INTEGER NOT NULL,"
	"  block_lines INTEGER NOT NULL,"
	"  done INTEGER NOT NULL DEFAULT 0,"
	"  rows INTEGER NOT NULL,"
	"  cols INTEGER NOT NULL,"
	"  state BLOB"
	");";

/* v3: tamper evidence (chain.c, sign.c, verify.c); FORMAT.md "Tamper
 * evidence".  Self-contained
 * (new tables only) so it can be renumbered after another step. */
static const char schema_v3[] =
	"CREATE TABLE chain_heads ("
	"  session_id INTEGER PRIMARY KEY,"
	"  n_frames INTEGER NOT NULL,"
	"  head BLOB NOT NULL"
	");"
	"CREATE TABLE checkpoints ("
	"  node_seq INTEGER PRIMARY KEY,"
	"  session_id INTEGER NOT NULL,"
	"  uuid TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  ts_us INTEGER NOT NULL,"
	"  n_frames INTEGER NOT NULL,"
	"  head BLOB NOT NULL,"
	"  final INTEGER NOT NULL,"
	"  prev BLOB NOT NULL,"
	"  sig BLOB NOT NULL"
	");"
	"CREATE INDEX checkpoints_session ON checkpoints (session_id, seq);";

/* v4: audit requests (pods/exec, pods/attach) and followed audit logs;
 * the join itself is computed on read (store/audit_join.c). */
extern const char kt_schema_audit[];
/* v5: retention, legal holds and prune records (store/prune.c); new tables
 * only, so it renumbers by changing its from_version. */
extern const char kt_schema_retention[];
/* v6: how the session's leader got into the container (FORMAT.md) */
static const char schema_v6_entry[] =
	"ALTER TABLE sessions ADD COLUMN entry_flags INTEGER NOT NULL DEFAULT 0;";

/* v7: keyframes as a rowid table, same columns and keys.  WITHOUT ROWID
 * makes it an index b-tree, whose rows keep at most ~1000 bytes on their
 * page (4 KiB pages): every keyframe (1-4 KB compressed) spilled the rest
 * to an overflow page of its own, about 2 KB wasted per keyframe (a third
 * of the keyframe pages in bench/corpus_breakdown.c).  A rowid table keeps
 * rows up to ~4 KB on the page.  Rebuilt by copy; readers see the same
 * table (FORMAT.md). */
static const char schema_v7_keyframes[] =
	"CREATE TABLE keyframes_v7 ("
	"  session_id INTEGER NOT NULL REFERENCES sessions (id),"
	"  chunk_seq INTEGER NOT NULL,"
	"  frame_index INTEGER NOT NULL,"
	"  ts_us INTEGER NOT NULL,"
	"  out_offset INTEGER NOT NULL,"
	"  rows INTEGER NOT NULL,"
	"  cols INTEGER NOT NULL,"
	"  raw_len INTEGER NOT NULL,"
	"  codec INTEGER NOT NULL,"
	"  data BLOB NOT NULL,"
	"  PRIMARY KEY (session_id, chunk_seq, frame_index)"
	");"
	"INSERT INTO keyframes_v7 (session_id, chunk_seq, frame_index, ts_us, out_offset, rows,"
	"  cols, raw_len, codec, data) SELECT session_id, chunk_seq, frame_index, ts_us,"
	"  out_offset, rows, cols, raw_len, codec, data FROM keyframes ORDER BY session_id,"
	"  chunk_seq, frame_index;"
	"DROP TABLE keyframes;"
	"ALTER TABLE keyframes_v7 RENAME TO keyframes;"
	"CREATE INDEX keyframes_ts ON keyframes (session_id, ts_us);";

/*
 * v8: screen search by trigram sets (store/index/index_set.c,
 * index_group.c; FORMAT.md "Screen index").  screen_sets: each closed
 * block's sorted distinct trigram codes (a blob); screen_groups:
 * consecutive closed blocks of a session; screen_gfts: one contentless
 * FTS5 row per closed group (rowid = group id), the union of its blocks'
 * codes as words (written lazily, index_group.c).  New tables only (self-contained, renumbers by its
 * from_version).  screen_fts keeps the v2-v7 blocks' documents and is
 * still searched for them; nothing writes it any more.
 */
static const char schema_v8_sets[] =
	"CREATE TABLE screen_groups ("
	"  id INTEGER PRIMARY KEY,"
	"  session_id INTEGER NOT NULL REFERENCES sessions (id),"
	"  open INTEGER NOT NULL DEFAULT 1,"
	"  n_blocks INTEGER NOT NULL DEFAULT 0,"
	"  n_pairs INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX screen_groups_session ON screen_groups (session_id);"
	/* small: at most one open group per session (open = 1), and the closed
	 * ones waiting for their screen_gfts row (open = 2) */
	"CREATE INDEX screen_groups_open ON screen_groups (id) WHERE open != 0;"
	"CREATE TABLE screen_sets ("
	"  block_id INTEGER PRIMARY KEY,"
	"  group_id INTEGER NOT NULL,"
	"  n INTEGER NOT NULL,"
	"  data BLOB NOT NULL"
	");"
	"CREATE INDEX screen_sets_group ON screen_sets (group_id);"
	"CREATE VIRTUAL TABLE screen_gfts USING fts5 ("
	"  x, tokenize = 'ascii', detail = 'none', content = '', columnsize = 0"
	");";

/*
 * v9: the tamper-evidence hash is recorded per session and per checkpoint
 * (FORMAT.md "Chain versions"): 1 = BLAKE2b-256, 2 = SHA-256.  Existing
 * rows are version 1 (what wrote them); new sessions default to 2, so no
 * session insert has to name it.  Self-contained: renumbers by from_version.
 */
static const char schema_v9_chain_ver[] =
	"ALTER TABLE sessions ADD COLUMN chain_ver INTEGER NOT NULL DEFAULT 2;"
	"UPDATE sessions SET chain_ver = 1;"
	"ALTER TABLE checkpoints ADD COLUMN ver INTEGER NOT NULL DEFAULT 1;";

const struct kt_migration kt_migrations[] = {
	{ 0, schema_v1 },
	{ 1, schema_v2 },
	{ 2, schema_v3 },
	{ 3, kt_schema_audit },
	{ 4, kt_schema_retention },
	{ 5, schema_v6_entry },
	{ 6, schema_v7_keyframes },
	{ 7, schema_v8_sets },
	{ 8, schema_v9_chain_ver },
};
const size_t kt_n_migrations = sizeof(kt_migrations) / sizeof(kt_migrations[0]);
