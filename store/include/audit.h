/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who ran it: Kubernetes API server audit events (audit.k8s.io/v1) for
 * pods/exec and pods/attach, stored next to the sessions, and the join
 * between the two (store/FORMAT.md "Audit requests and the join").
 *
 * Parsing (audit_parse.c) is pure: JSON text in, struct kt_audit_event out,
 * no database.  Storing (audit.c) keeps one row per auditID, merging the
 * stages (RequestReceived, ResponseStarted, ResponseComplete, Panic) as
 * they arrive; a stage seen twice changes nothing, so retried webhook
 * batches and re-imported files are idempotent.  The join (audit_join.c) is
 * computed when asked, from both tables, so it is re-evaluated whenever a
 * late event or a late session row arrives, in either order, and a reader
 * on a read-only store sees the current answer.  Everything goes through
 * this API so that a central (PostgreSQL) store can run the same join.
 */
#ifndef KUBETAPE_AUDIT_H
#define KUBETAPE_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "store.h"

/* The audit annotation the admission webhook adds (webhook name "exec-id.kubetape.io"
 * + "/" + key "exec-id": the API server prefixes audit annotations that way). */
#define KT_AUDIT_EXEC_ID_ANNOTATION "exec-id.kubetape.io/exec-id"
/* The variable the admission webhook prepends: `env KUBETAPE_EXEC_ID=<id> cmd...` */
#define KT_EXEC_ID_ENV "KUBETAPE_EXEC_ID"
#define KT_EXEC_ID_MAX 64

#define KT_AUDIT_ARGV_MAX 4096     /* NUL-separated argv bytes kept */
#define KT_AUDIT_LIST_MAX 1024     /* groups / source IPs as a JSON array text */
#define KT_AUDIT_EVENT_MAX (1u << 20) /* one JSON line / event */

enum kt_audit_stage {
	KT_STAGE_REQUEST_RECEIVED = 1 << 0,
	KT_STAGE_RESPONSE_STARTED = 1 << 1,
	KT_STAGE_RESPONSE_COMPLETE = 1 << 2,
	KT_STAGE_PANIC = 1 << 3,
};

/* One exec/attach request as stored (all stages merged). */
struct kt_audit_request {
	int64_t id;                          /* rowid */
	char audit_id[72];
	char verb[16];                       /* create (SPDY) or get (WebSocket) */
	char subresource[8];                 /* exec or attach */
	char username[KT_STR_LONG];
	char user_uid[KT_STR_SHORT];
	char groups[KT_AUDIT_LIST_MAX];      /* JSON array text */
	char impersonated_user[KT_STR_LONG]; /* '' if none */
	char impersonated_groups[KT_AUDIT_LIST_MAX];
	char source_ips[KT_AUDIT_LIST_MAX];  /* JSON array text */
	char user_agent[KT_STR_LONG];
	char k8s_namespace[KT_STR_LONG];
	char pod[KT_STR_LONG];
	char container[KT_STR_LONG];         /* '' = the pod's default container */
	char argv[KT_AUDIT_ARGV_MAX];        /* NUL-separated command= values */
	size_t argv_len;
	uint32_t argc;
	bool argv_truncated;
	bool tty, stdin_, stdout_, stderr_;
	char decision[16];                   /* allow / forbid / '' */
	char reason[KT_STR_LONG];
	int code;                            /* responseStatus.code; 0 = none yet */
	unsigned stages;                     /* enum kt_audit_stage bits seen */
	int64_t received_us;                 /* requestReceivedTimestamp */
	int64_t started_us;                  /* stageTimestamp of ResponseStarted */
	int64_t completed_us;                /* of ResponseComplete or Panic */
	char exec_id[KT_EXEC_ID_MAX + 1];    /* KT_AUDIT_EXEC_ID_ANNOTATION, validated */
};

/* One parsed event: the request plus the stage it reports. */
struct kt_audit_event {
	struct kt_audit_request r;  /* id 0; only this stage's time is set */
	enum kt_audit_stage stage;
	int64_t stage_us;
};

/*
 * Parse one audit.k8s.io/v1 Event object (jansson json_t *).  Returns 0 with
 * *ev filled for a pods/exec or pods/attach event, 1 for a well-formed event
 * of anything else (skipped), -EINVAL with a one-line reason in why for a
 * malformed one (wrong kind/apiVersion, missing auditID/stage/user, bad
 * timestamp, a requestURI that does not parse, wrong types).
 */
struct json_t;
int kt_audit_event_from_json(const struct json_t *obj, struct kt_audit_event *ev,
			     char *why, size_t why_len);

/*
 * Parse `buf`: one Event, one EventList ({"kind":"EventList","items":[...]}),
 * or JSON lines of Events (blank lines allowed).  Calls cb for each exec or
 * attach event in order; cb returns <0 to stop (returned).  Malformed input:
 * -EINVAL with why = "line N: reason" (or "items[N]: reason"); events before
 * it were delivered only if `partial` (JSON lines from a log: a bad line does
 * not hide the good ones); with !partial nothing is delivered unless all of
 * it parses (a webhook batch is all or nothing).  *n_events counts every
 * Event seen, *n_skipped those that were not exec/attach.
 */
typedef int (*kt_audit_event_cb)(const struct kt_audit_event *ev, void *ctx);
int kt_audit_parse(const char *buf, size_t len, bool partial, kt_audit_event_cb cb,
		   void *ctx, uint64_t *n_events, uint64_t *n_skipped,
		   char *why, size_t why_len);

/* RFC 3339 (as the API server writes: 2026-12-06T12:00:00.123456Z) -> us. */
int kt_audit_parse_time(const char *s, int64_t *us);
/*
 * requestURI -> namespace, pod, subresource, argv (NUL-separated, percent-
 * and '+'-decoded command= values), container, flags.  -EINVAL if it is not
 * /api/v1/namespaces/NS/pods/POD/(exec|attach)[?query] or a value is badly
 * encoded.
 */
int kt_audit_parse_uri(const char *uri, struct kt_audit_request *r);

/* ---- storing (audit.c) ------------------------------------------------------ */

struct kt_audit_ingest_stats {
	uint64_t events;      /* Events seen */
	uint64_t skipped;     /* not pods/exec or pods/attach */
	uint64_t stored;      /* exec/attach stages stored */
	uint64_t duplicates;  /* stage already stored for that auditID */
};

/*
 * Store one event: insert its request or merge the stage into the stored
 * row.  Sets *dup when that stage of that auditID was already stored
 * (nothing changes).  Needs a writable store; -EROFS otherwise.
 */
int kt_audit_store_event(struct kt_store *st, const struct kt_audit_event *ev, bool *dup);
/*
 * kt_audit_parse + kt_audit_store_event in one transaction per call (inside
 * a kt_store_begin batch: in that batch).  partial as in kt_audit_parse;
 * with !partial a malformed input stores nothing.  Counts are added to
 * *stats.
 */
int kt_audit_ingest(struct kt_store *st, const char *buf, size_t len, bool partial,
		    struct kt_audit_ingest_stats *stats, char *why, size_t why_len);

int kt_audit_request_get(struct kt_store *st, int64_t id, struct kt_audit_request *out);
/* Requests in time order (received_us); since/until 0 = open. */
typedef int (*kt_audit_request_cb)(const struct kt_audit_request *r, void *ctx);
int kt_audit_requests_list(struct kt_store *st, int64_t since_us, int64_t until_us,
			   kt_audit_request_cb cb, void *ctx);

/* Where a followed audit log stopped (audit_sources table): one row per path. */
struct kt_audit_source {
	uint64_t dev, ino;
	uint64_t offset;      /* bytes consumed (complete lines) */
	/* FNV-1a of the file's first fp_len bytes (<= 256, <= offset): inode
	 * numbers are reused after a rotation deletes a file, its first line
	 * is not */
	uint64_t fp;
	uint32_t fp_len;
};
/* -ENOENT if the path was never followed. */
int kt_audit_source_get(struct kt_store *st, const char *path, struct kt_audit_source *out);
int kt_audit_source_put(struct kt_store *st, const char *path, const struct kt_audit_source *src);

/* ---- the join (audit_join.c) ------------------------------------------------ */

enum kt_audit_tier {
	KT_TIER_NONE = 0,      /* no request: someone entered from the node */
	KT_TIER_EXACT = 1,     /* the admission webhook's exec id on both sides */
	KT_TIER_MATCHED = 2,   /* ns+pod+container+argv, start in window, one candidate */
	KT_TIER_AMBIGUOUS = 3, /* several candidates: listed, none chosen */
};
const char *kt_audit_tier_name(int tier);

#define KT_AUDIT_WINDOW_DEFAULT_US (5 * 1000000LL)
#define KT_AUDIT_MAX_CAND 8

struct kt_audit_join_opts {
	/* |session start - ResponseStarted| allowed for a match (clock skew +
	 * the time from the API server to the runtime); 0 = default */
	int64_t window_us;
};

struct kt_audit_identity {
	int tier;                  /* enum kt_audit_tier */
	char exec_id[KT_EXEC_ID_MAX + 1]; /* from the session's first command */
	/* EXACT/MATCHED: cand[0] is the request.  AMBIGUOUS: the candidate
	 * requests (n_cand, at most KT_AUDIT_MAX_CAND shown of n_cand_total);
	 * other_sessions: sessions competing for the same single request. */
	int n_cand, n_cand_total;
	struct kt_audit_request cand[KT_AUDIT_MAX_CAND];
	int n_other_sessions;
	int64_t other_sessions[KT_AUDIT_MAX_CAND];
};

/* The session's join, as of now.  *out is large: allocate it. */
int kt_audit_session_identity(struct kt_store *st, const struct kt_session_info *s,
			      const struct kt_audit_join_opts *o, struct kt_audit_identity *out);
/* Does the identity name `user` (user or impersonated user) / `group`
 * (either group list)?  EXACT and MATCHED: their request; AMBIGUOUS: any
 * candidate (the caller shows the tier).  NULL = no condition. */
bool kt_audit_identity_has(const struct kt_audit_identity *id, const char *user,
			   const char *group);

/* Sessions whose join is the request `req_id` (exact or matched) and the
 * candidates when ambiguous: used by gaps and the request-side view. */
int kt_audit_request_sessions(struct kt_store *st, const struct kt_audit_request *r,
			      const struct kt_audit_join_opts *o, int64_t *ids, int max,
			      int *n, int *tier);

/*
 * Findings (kubetape audit gaps): exec requests the API server let through
 * (code 101 or a ResponseStarted stage) with no session, and sessions with
 * no request (tier NONE), in [since, until] (0 = open).  Attach requests are
 * not expected to make a session (they join the container's own process).
 */
typedef int (*kt_gap_request_cb)(const struct kt_audit_request *r, void *ctx);
typedef int (*kt_gap_session_cb)(const struct kt_session_info *s, void *ctx);
int kt_audit_gaps(struct kt_store *st, const struct kt_audit_join_opts *o,
		  int64_t since_us, int64_t until_us,
		  kt_gap_request_cb on_request, kt_gap_session_cb on_session, void *ctx);

/* Is any request stored?  (One indexed row read: callers skip the join, and
 * its columns, for a store that has none.) */
bool kt_audit_any(struct kt_store *st);
/* First requestReceived and last stage time stored (0, 0 when none; a scan). */
int kt_audit_span(struct kt_store *st, int64_t *first_us, int64_t *last_us);

/* Helpers shared with the admission webhook: is `id` a valid exec id
 * ([A-Za-z0-9-], 1..KT_EXEC_ID_MAX)?  Derive (exec id, effective argv) from
 * a session's first argv `env KUBETAPE_EXEC_ID=<id> cmd...`: returns the
 * offset of cmd in argv and copies the id, or 0 when there is none. */
bool kt_exec_id_valid(const char *id, size_t len);
size_t kt_exec_id_from_argv(const char *argv, size_t argv_len, char *id, size_t id_len);

/* ---- JSON (audit_json.c; style as in store/json.h) ------------------------ */
struct kt_json_style;
/* New references, NULL on allocation failure.  The identity: {"tier",
 * "user", "impersonated_user", "exec_id", "request" (EXACT/MATCHED),
 * "candidates" (AMBIGUOUS), "candidates_total", "competing_sessions"}. */
struct json_t *kt_json_audit_request(const struct kt_audit_request *r,
				     const struct kt_json_style *st);
struct json_t *kt_json_identity(const struct kt_audit_identity *id,
				const struct kt_json_style *st);

#endif
