/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fixtures shared by the tests that sign stores and verify them
 * (test_evidence, test_chain_ver, test_prune).  Header-only (static inline),
 * like kt_fixture.h; include after kt_test.h and kt_fixture.h: the helpers
 * CHECK their calls, so a failure is reported at this file's line, with a
 * "#" line naming the case where the caller gives one.
 *
 *   paths         struct kt_ev_paths, kt_ev_paths_init: a temp dir, a store
 *                 file and a node key (and its head file) under it
 *   writing       kt_ev_open_signed: a store and its node key, attached;
 *                 kt_ev_end_session: a session ended the recorder's way
 *   verifying     struct kt_ev_node, kt_ev_verify: a session's verdict and
 *                 the node chain's problems, as `kubetape verify --all`
 *   judging       kt_ev_expect: a tampered store's verdict and reasons
 */
#ifndef KT_EVIDENCE_FIXTURE_H
#define KT_EVIDENCE_FIXTURE_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "store.h"
#include "evidence.h"
#include "rec_evidence.h"

/* ------------------------------------------------------------ paths */

struct kt_ev_paths {
	char dir[128];   /* /tmp/NAME.XXXXXX */
	char db[256];    /* dir/kt.db */
	char key[256];   /* dir/keys/node.key (its public key: key.pub) */
	char head[300];  /* key.head: the node chain's head file */
};

/* Creates the temp dir (and keys/ in it, mode 0700) and names the files;
 * nothing else is created.  0, or -1 after a "FAIL setup" line. */
static inline int kt_ev_paths_init(struct kt_ev_paths *p, const char *name)
{
	char d[300];

	if (kt_fx_mkdtemp(p->dir, sizeof(p->dir), name))
		return -1;
	snprintf(p->db, sizeof(p->db), "%s/kt.db", p->dir);
	snprintf(p->key, sizeof(p->key), "%s/keys/node.key", p->dir);
	snprintf(p->head, sizeof(p->head), "%s.head", p->key);
	snprintf(d, sizeof(d), "%s/keys", p->dir);
	if (mkdir(d, 0700)) {
		printf("FAIL setup: mkdir %s: %s\n", d, strerror(errno));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ writing */

/*
 * Opens (creating) the store at `path` and the signer of `key` (creating
 * the key pair), and attaches the signer to the store: the recorder's
 * writing setup.  0, or -1 when either did not open (CHECKed); the caller
 * frees *sg and closes *st either way.
 */
static inline int kt_ev_open_signed(const char *path, const char *key, struct kt_store **st,
				    struct kt_signer **sg)
{
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_CREATE, st), 0);
	CHECK_EQ_INT(kt_signer_open(key, sg), 0);
	if (!*st || !*sg)
		return -1;
	CHECK_EQ_INT(kt_signer_attach(*sg, *st), 0);
	return 0;
}

/*
 * Ends session *s at `end` with exit status `status` in the recorder's order
 * (recorder/sessions.c kt_rec_session_close): the END frame appended
 * (through b, which holds no frames before), the row marked ended, then the
 * final checkpoint, which must sign something (1).
 */
static inline void kt_ev_end_session(struct kt_store *st, struct kt_signer *sg,
				     struct kt_session_info *s, struct kt_chunk_builder *b,
				     int64_t end, int status)
{
	CHECK_EQ_INT(kt_store_session_get(st, s->id, s), 0);
	s->state = KT_SESSION_ENDED;
	s->end_us = end;
	s->has_exit = true;
	s->exit_status = status;
	CHECK_EQ_INT(kt_rec_ev_end(b, s, s->end_us), 0);
	CHECK_EQ_INT(kt_store_chunk_append(st, s->id, b), 0);
	CHECK_EQ_INT(kt_store_session_update(st, s), 0);
	CHECK_EQ_INT(kt_store_checkpoint(st, sg, s->id, s->end_us, true), 1);
}

/* ------------------------------------------------------------ verifying */

/* The node chain's problems: how many, and the first (clipped). */
struct kt_ev_node {
	int n;
	char first[512];
};

static inline void kt_ev_on_problem(const char *p, void *ctx)
{
	struct kt_ev_node *np = ctx;

	if (!np->n++)
		snprintf(np->first, sizeof(np->first), "%s", p);
}

/*
 * Verifies the store at `path` as `kubetape verify --all` would, against
 * p's public key (p->key.pub) and head file: session `sid`'s verdict into
 * *r (r NULL: no session verified; state -1: no such session), the node
 * chain's problems into *np.  CHECKs that the key loads, the store opens and
 * the node chain could be read.  Returns kt_verify_node's result (the number
 * of problems, or -errno), -1 if the store did not open.
 */
static inline int kt_ev_verify(const struct kt_ev_paths *p, const char *path, int64_t sid,
			       struct kt_verify_result *r, struct kt_ev_node *np)
{
	struct kt_store *st = NULL;
	uint8_t pk[KT_PK_LEN];
	char pub[300];
	int n = -1;

	if (r)
		memset(r, 0, sizeof(*r));
	memset(np, 0, sizeof(*np));
	snprintf(pub, sizeof(pub), "%s.pub", p->key);
	CHECK_EQ_INT(kt_pubkey_load(pub, pk), 0);
	CHECK_EQ_INT(kt_store_open(path, KT_STORE_RDONLY, &st), 0);
	if (!st)
		return -1;
	if (r && kt_verify_session(st, sid, pk, 0, r) == -ENOENT)
		r->state = -1;
	n = kt_verify_node(st, pk, p->head, kt_ev_on_problem, np, NULL);
	CHECK(n >= 0);
	kt_store_close(st);
	return n;
}

/* ------------------------------------------------------------ judging */

/*
 * A tampered store's verdict (kt_ev_verify's): with `want` the session must
 * be BROKEN and, unless want is "", give a reason containing it (NULL: its
 * verdict is not judged); with `want_node` the node chain's first problem
 * must contain that (NULL: not judged).  A wrong reason is printed in a "#"
 * line labelled `name`.
 */
static inline void kt_ev_expect(const char *name, const struct kt_verify_result *r,
				const struct kt_ev_node *np, const char *want,
				const char *want_node)
{
	if (want) {
		CHECK_EQ_INT(r->state, KT_VERIFY_BROKEN);
		if (*want && !strstr(r->why, want)) {
			printf("# %s: got '%s', want '%s'\n", name, r->why, want);
			CHECK(!"reason");
		}
	}
	if (want_node && !strstr(np->first, want_node)) {
		printf("# %s: node chain: got '%s', want '%s'\n", name, np->first, want_node);
		CHECK(!"node reason");
	}
}

#endif
