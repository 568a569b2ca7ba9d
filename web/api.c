// SPDX-License-Identifier: Apache-2.0
/*
 * JSON endpoints: session list, one session, its commands, search.  Every
 * list is paginated with a hard cap, so one request is one short store
 * call: 10,000 sessions are browsed page by page, never loaded at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "access.h"
#include "audit.h"
#include "json.h"
#include "jsonenc.h"
#include "log.h"
#include "params.h"
#include "routes.h"

#define SESSIONS_DEFAULT 100
#define SESSIONS_MAX 500
#define COMMANDS_DEFAULT 1000
#define COMMANDS_MAX 5000
#define SEARCH_DEFAULT 50
#define SEARCH_MAX 200
#define NAME_MAX_LEN 253       /* a DNS-1123 name; container names are shorter */

static int send_json(struct lws *wsi, struct conn *c, json_t *j)
{
	size_t len = 0;
	char *body = je_dump(j, &len);

	if (!body)
		return web_error(wsi, c, 500, "out of memory");
	return web_respond(wsi, c, 200, "application/json", body, len, true, false, NULL);
}

/* A store error as a response: the store has logged the details. */
static int store_error(struct lws *wsi, struct conn *c, int err)
{
	if (err == -ENOENT)
		return web_error(wsi, c, 404, "no such session");
	return web_error(wsi, c, 500, "store error: %s", strerror(-err));
}

#define STORE_OR_503(st)                                                           \
	do {                                                                       \
		if (!((st) = kt_web_store()))                                      \
			return web_error(wsi, c, 503, "the store is not available"); \
	} while (0)

int api_info(struct lws *wsi, struct conn *c)
{
	struct web_query q;
	static const char *const allowed[] = { NULL };

	if (web_query_load(wsi, &q, allowed))
		return web_error(wsi, c, 400, "%s", q.why);
	return send_json(wsi, c, json_pack("{s:s,s:b,s:b,s:b,s:i}",
					   "server", "kubetape-web", "auth", kt_web.auth,
					   /* the stream seeks from kt_stream_open_at's
					    * keyframes; search reaches kt_store_screen_search */
					   "keyframes", 1, "screen_search", 1,
					   "live_poll_ms", KT_WEB_LIVE_POLL_US / 1000));
}

/* The session filter parameters shared by the list and the search. */
static int parse_filter(struct web_query *q, struct kt_session_filter *f)
{
	int64_t since = 0, until = 0;
	int active = -1, tty = -1;

	if (web_q_str(q, "namespace", NAME_MAX_LEN, &f->k8s_namespace) ||
	    web_q_str(q, "pod", NAME_MAX_LEN, &f->pod) ||
	    web_q_str(q, "container", NAME_MAX_LEN, &f->container) ||
	    web_q_str(q, "node", NAME_MAX_LEN, &f->node) ||
	    web_q_int(q, "since", 0, INT64_MAX / 2, &since) ||
	    web_q_int(q, "until", 0, INT64_MAX / 2, &until) ||
	    web_q_bool(q, "active", &active) ||
	    web_q_bool(q, "tty", &tty))
		return -EINVAL;
	if (since && until && since > until) {
		snprintf(q->why, sizeof(q->why), "'since' is after 'until'");
		return -EINVAL;
	}
	/* auditors type part of a generated pod name: substrings */
	f->substr = true;
	f->since_us = since;
	f->until_us = until;
	f->active = active;
	f->tty = tty;
	return 0;
}

/* Who ran it (store/audit.h): the session's join to the API server's
 * audit log, as "identity" next to the session, when the store has any. */
static const struct kt_json_style api_style = { .profile = KT_JSON_API };

static bool have_audit(struct kt_store *st)
{
	return kt_audit_any(st);
}

/* je_session(s) plus "identity" (computed into *id when id is not NULL). */
static json_t *session_with_identity(struct kt_store *st, const struct kt_session_info *s,
				     struct kt_audit_identity *id)
{
	json_t *j = je_session(s);

	if (!j || !id)
		return j;
	if (kt_audit_session_identity(st, s, NULL, id) ||
	    json_object_set_new(j, "identity", kt_json_identity(id, &api_style))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

struct list_ctx {
	struct web_verify_key key;
	json_t *arr;
	int limit, n;
	int64_t next;          /* id to continue after, 0 = no more */
	bool oom;
	struct kt_store *st;
	struct kt_audit_identity *id;  /* NULL: no audit data in the store */
	const char *user;              /* user or impersonated user filter */
};

static int list_cb(const struct kt_session_info *s, void *ctx)
{
	struct list_ctx *l = ctx;
	json_t *j;

	if (l->user && (kt_audit_session_identity(l->st, s, NULL, l->id) ||
			!kt_audit_identity_has(l->id, l->user, NULL)))
		return 0;
	if (l->n == l->limit)	/* the one extra row: there is a next page */
		return 1;
	j = session_with_identity(l->st, s, l->id);
	if (j)
		json_object_set_new(j, "verification", web_verification(&l->key, s->id) ?: json_null());
	if (!j || json_array_append_new(l->arr, j)) {
		l->oom = true;
		return 1;
	}
	l->n++;
	l->next = s->id;
	return 0;
}

int api_sessions(struct lws *wsi, struct conn *c)
{
	static const char *const allowed[] = { "namespace", "pod", "container", "node", "since",
		"until", "active", "tty", "limit", "after", "user", NULL };
	struct kt_session_filter f = KT_SESSION_FILTER_INIT;
	struct list_ctx l = { 0 };
	struct kt_store *st;
	struct web_query q;
	int64_t limit = SESSIONS_DEFAULT, after = 0, total = 0;
	bool more;
	int err;

	if (web_query_load(wsi, &q, allowed) || parse_filter(&q, &f) ||
	    web_q_int(&q, "limit", 1, SESSIONS_MAX, &limit) ||
	    web_q_int(&q, "after", 1, INT64_C(1) << 53, &after) ||
	    web_q_str(&q, "user", NAME_MAX_LEN, &l.user))
		return web_error(wsi, c, 400, "%s", q.why);
	STORE_OR_503(st);
	/* newest start first; the cursor is the last id shown, whose start
	 * time continues the order */
	f.by_start = true;
	if (after) {
		struct kt_session_info last;

		err = kt_store_session_get(st, after, &last);
		if (err == -ENOENT)
			return web_error(wsi, c, 400, "'after' names no session");
		if (err)
			return store_error(wsi, c, err);
		f.after_start_us = last.start_us;
	}
	err = kt_store_sessions_count(st, &f, &total);
	if (err)
		return store_error(wsi, c, err);
	f.after_id = after;
	/* with a user filter the store cannot count: list_cb stops */
	f.limit = l.user ? 0 : (int)limit + 1;
	l.arr = json_array();
	l.limit = (int)limit;
	l.st = st;
	web_verify_key_load(&l.key);
	if (!l.arr)
		return web_error(wsi, c, 500, "out of memory");
	if (have_audit(st) && !(l.id = malloc(sizeof(*l.id)))) {
		json_decref(l.arr);
		return web_error(wsi, c, 500, "out of memory");
	}
	if (l.user && !l.id) {	/* no audit data: nobody matches */
		json_decref(l.arr);
		return send_json(wsi, c, json_pack("{s:[],s:n}", "sessions", "next_after"));
	}
	err = kt_store_sessions_list(st, &f, list_cb, &l);
	free(l.id);
	if (err < 0 || l.oom) {
		json_decref(l.arr);
		return l.oom ? web_error(wsi, c, 500, "out of memory") : store_error(wsi, c, err);
	}
	more = err == 1;
	return send_json(wsi, c, json_pack("{s:o,s:o,s:I}", "sessions", l.arr,
					   "next_after", more ? json_integer(l.next) : json_null(),
					   "total", (json_int_t)total));
}

int api_session(struct lws *wsi, struct conn *c, int64_t id)
{
	static const char *const allowed[] = { NULL };
	struct kt_audit_identity *ident = NULL;
	struct web_verify_key key;
	struct kt_session_info s;
	struct kt_store *st;
	struct web_query q;
	json_t *j;
	int err;

	if (web_query_load(wsi, &q, allowed))
		return web_error(wsi, c, 400, "%s", q.why);
	STORE_OR_503(st);
	err = kt_store_session_get(st, id, &s);
	if (err)
		return store_error(wsi, c, err);
	if (web_access(wsi, "view", id, "GET /api/sessions/ID"))
		return web_error(wsi, c, 500, "the access log cannot be written");
	if (have_audit(st) && !(ident = malloc(sizeof(*ident))))
		return web_error(wsi, c, 500, "out of memory");
	j = session_with_identity(st, &s, ident);
	free(ident);
	{
		json_t *v;

		web_verify_key_load(&key);
		v = web_verification(&key, id);

		if (j)
			json_object_set_new(j, "verification", v ? v : json_null());
		else
			json_decref(v);
	}
	return send_json(wsi, c, json_pack("{s:o}", "session", j));
}

struct cmd_ctx {
	json_t *arr;
	int64_t after;         /* seq > after */
	int limit, n;
	bool more, oom;
};

static int cmd_cb(const struct kt_command *cmd, void *ctx)
{
	struct cmd_ctx *l = ctx;

	if (cmd->seq <= l->after)
		return 0;
	if (l->n == l->limit) {
		l->more = true;
		return 1;
	}
	if (json_array_append_new(l->arr, je_command(cmd))) {
		l->oom = true;
		return 1;
	}
	l->n++;
	return 0;
}

int api_commands(struct lws *wsi, struct conn *c, int64_t id)
{
	static const char *const allowed[] = { "limit", "after", NULL };
	struct cmd_ctx l = { .after = -1 };
	struct kt_session_info s;
	struct kt_store *st;
	struct web_query q;
	int64_t limit = COMMANDS_DEFAULT;
	json_t *last;
	int err;

	if (web_query_load(wsi, &q, allowed) ||
	    web_q_int(&q, "limit", 1, COMMANDS_MAX, &limit) ||
	    web_q_int(&q, "after", -1, INT32_MAX, &l.after))
		return web_error(wsi, c, 400, "%s", q.why);
	STORE_OR_503(st);
	err = kt_store_session_get(st, id, &s);
	if (err)
		return store_error(wsi, c, err);
	l.arr = json_array();
	l.limit = (int)limit;
	if (!l.arr)
		return web_error(wsi, c, 500, "out of memory");
	err = kt_store_commands_list(st, id, cmd_cb, &l);
	if (err < 0 || l.oom) {
		json_decref(l.arr);
		return l.oom ? web_error(wsi, c, 500, "out of memory") : store_error(wsi, c, err);
	}
	last = json_array_get(l.arr, json_array_size(l.arr) - 1);
	return send_json(wsi, c, json_pack("{s:I,s:o,s:o}", "session_id", (json_int_t)id,
					   "commands", l.arr, "next_after",
					   l.more && last ? json_incref(json_object_get(last, "seq"))
							  : json_null()));
}

struct hit_ctx {
	json_t *arr;
	int limit, n;
	int64_t last_id;
	bool more, oom;
};

static int hit_add(struct hit_ctx *h, json_t *hit, int64_t id)
{
	if (h->n == h->limit) {
		json_decref(hit);
		h->more = true;
		return 1;
	}
	if (json_array_append_new(h->arr, hit)) {
		h->oom = true;
		return 1;
	}
	h->n++;
	h->last_id = id;
	return 0;
}

static int hit_cb(const struct kt_session_info *s, const struct kt_command *cmd, void *ctx)
{
	return hit_add(ctx, json_pack("{s:s,s:o,s:I,s:o}", "kind", "command",
				      "session", je_session(s),
				      "offset_us", (json_int_t)(cmd->ts_us - s->start_us),
				      "command", je_command(cmd)), cmd->id);
}

static int screen_cb(const struct kt_session_info *s, const struct kt_screen_hit *sh, void *ctx)
{
	return hit_add(ctx, json_pack("{s:s,s:o,s:I,s:{s:I,s:I,s:b,s:o}}", "kind", "screen",
				      "session", je_session(s),
				      "offset_us", (json_int_t)(sh->ts_us - s->start_us),
				      "screen", "id", (json_int_t)sh->id,
				      "ts_us", (json_int_t)sh->ts_us, "final", sh->final,
				      "text", je_str_n(sh->text, strlen(sh->text))), sh->id);
}

/* One kind of search into its own array; 0 or a response already sent
 * (*sent set). */
static int run_search(struct lws *wsi, struct conn *c, struct kt_store *st, const char *text,
		      struct kt_session_filter f, int64_t after, int64_t limit, bool screen,
		      struct hit_ctx *h, bool *sent)
{
	int err;

	f.after_id = after;
	f.limit = (int)limit + 1;
	h->arr = json_array();
	h->limit = (int)limit;
	if (!h->arr)
		goto oom;
	if (screen)
		err = kt_store_screen_search(st, text, &f, screen_cb, h);
	else
		err = kt_store_commands_search(st, text, &f, hit_cb, h);
	if (err >= 0 && !h->oom)
		return 0;
	json_decref(h->arr);
	h->arr = NULL;
	*sent = true;
	if (h->oom)
		goto oom;
	if (err == -EINVAL)
		return web_error(wsi, c, 400, "invalid search query");
	return store_error(wsi, c, err);
oom:
	*sent = true;
	return web_error(wsi, c, 500, "out of memory");
}

/*
 * Commands and screen text are two indexes with their own hit ids, so each
 * kind pages on its own cursor: `after` / next_after for commands,
 * `after_screen` / next_after_screen for screen lines.  in=all returns up
 * to `limit` of each, commands first.
 */
int api_search(struct lws *wsi, struct conn *c)
{
	static const char *const allowed[] = { "q", "in", "namespace", "pod", "container", "node",
		"since", "until", "active", "tty", "limit", "after", "after_screen", NULL };
	struct kt_session_filter f = KT_SESSION_FILTER_INIT;
	struct hit_ctx hc = { 0 }, hs = { 0 };
	const char *text = NULL, *in = "all";
	struct kt_store *st;
	struct web_query q;
	int64_t limit = SEARCH_DEFAULT, after = 0, after_screen = 0;
	bool want_cmds, want_screen, sent = false;
	json_t *hits;
	int r;

	if (web_query_load(wsi, &q, allowed) || parse_filter(&q, &f) ||
	    web_q_str(&q, "q", WEB_Q_MAX_VALUE, &text) ||
	    web_q_str(&q, "in", 16, &in) ||
	    web_q_int(&q, "limit", 1, SEARCH_MAX, &limit) ||
	    web_q_int(&q, "after", 1, INT64_C(1) << 53, &after) ||
	    web_q_int(&q, "after_screen", 1, INT64_C(1) << 53, &after_screen))
		return web_error(wsi, c, 400, "%s", q.why);
	if (!text || !*text || !text[strspn(text, " \t")])
		return web_error(wsi, c, 400, "query parameter 'q' is required");
	want_cmds = !strcmp(in, "commands") || !strcmp(in, "all");
	want_screen = !strcmp(in, "screen") || !strcmp(in, "all");
	if (!want_cmds && !want_screen)
		return web_error(wsi, c, 400, "'in' must be commands, screen or all");
	/* a cursor of the other kind only continues that kind */
	if (in[0] == 'a' && after && !after_screen)
		want_screen = false;
	if (in[0] == 'a' && after_screen && !after)
		want_cmds = false;
	if (web_access(wsi, "search", 0, text))
		return web_error(wsi, c, 500, "the access log cannot be written");
	STORE_OR_503(st);
	if (want_cmds) {
		r = run_search(wsi, c, st, text, f, after, limit, false, &hc, &sent);
		if (sent)
			return r;
	}
	if (want_screen) {
		r = run_search(wsi, c, st, text, f, after_screen, limit, true, &hs, &sent);
		if (sent) {
			json_decref(hc.arr);
			return r;
		}
	}
	hits = hc.arr ? hc.arr : json_array();
	if (hs.arr) {
		json_array_extend(hits, hs.arr);
		json_decref(hs.arr);
	}
	return send_json(wsi, c, json_pack("{s:o,s:o,s:o,s:b,s:b}", "hits", hits,
					   "next_after", hc.more ? json_integer(hc.last_id) : json_null(),
					   "next_after_screen",
					   hs.more ? json_integer(hs.last_id) : json_null(),
					   "commands_searched", want_cmds, "screen_searched", want_screen));
}
