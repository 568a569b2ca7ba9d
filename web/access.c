// SPDX-License-Identifier: Apache-2.0
/* Access log and verification state for the web API (access.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "access.h"
#include "auth.h"
#include "evidence.h"
#include "server.h"

/* Through the open store (on the cluster store the log is on the server,
 * through its connection); the node store's access/ file also before the
 * store could be opened. */
static int log_entry(const char *who, const char *action, int64_t session_id, const char *detail)
{
	struct kt_store *st = kt_web_store();

	return st ? kt_store_access_log(st, who, action, session_id, detail)
		  : kt_access_log(kt_web.db_path, who, action, session_id, detail);
}

int web_access(struct lws *wsi, const char *action, int64_t session_id, const char *detail)
{
	char who[160], peer[64] = "?", buf[KT_AUTH_MAX_TOKEN + 16];
	const char *how = "web (no auth)";
	size_t max = sizeof(buf);
	int n;

	lws_get_peer_simple(wsi, peer, sizeof(peer));
	n = lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_AUTHORIZATION);
	if (n > 7 && strncasecmp(buf, "Bearer ", 7) == 0) {
		how = "web bearer token";
	} else if (lws_http_cookie_get(wsi, KT_AUTH_COOKIE, buf, &max) == 0) {
		/* a prefix names the login without handing out the cookie */
		snprintf(who, sizeof(who), "web cookie %.8s from %s", buf, peer);
		explicit_bzero(buf, sizeof(buf));
		return log_entry(who, action, session_id, detail);
	}
	explicit_bzero(buf, sizeof(buf));
	snprintf(who, sizeof(who), "%s from %s", kt_web.auth ? how : "web (no auth)", peer);
	return log_entry(who, action, session_id, detail);
}

void web_verify_key_load(struct web_verify_key *k)
{
	const char *slash = strrchr(kt_web.db_path, '/');
	char pub[4096];

	_Static_assert(sizeof(k->pk) == KT_PK_LEN, "web_verify_key.pk is a public key");
	k->trusted = false;
	snprintf(pub, sizeof(pub), "%.*s%snode.key.pub", slash ? (int)(slash - kt_web.db_path) : 0,
		 kt_web.db_path, slash ? "/" : "");
	if (access(pub, R_OK) == 0 && kt_pubkey_load(pub, k->pk) == 0)
		k->trusted = true;
}

json_t *web_verification(const struct web_verify_key *k, int64_t session_id)
{
	struct kt_store *st = kt_web_store();
	struct kt_verify_result r;
	json_t *j;

	if (!st)
		return NULL;
	/* signatures and coverage only: the API answers fast; kubetape
	 * verify rehashes every frame */
	if (kt_verify_session(st, session_id, k->trusted ? k->pk : NULL, KT_VERIFY_QUICK, &r))
		return NULL;
	j = json_pack("{s:s, s:s, s:I, s:I, s:i, s:b, s:b}",
		      "state", kt_verify_state_name(r.state), "checked", "signatures",
		      "frames", (json_int_t)r.frames, "frames_signed", (json_int_t)r.frames_signed,
		      "checkpoints", (int)r.checkpoints, "final", r.final, "key_from_store", !k->trusted);
	if (j && r.problems)
		json_object_set_new(j, "problems", json_string(r.why));
	return j;
}
