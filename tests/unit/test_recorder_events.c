// SPDX-License-Identifier: Apache-2.0
/*
 * The recorder core on a synthetic kernel (recorder_fixture.h), more cases
 * than test_recorder.c:
 *   - bad events (short, a size larger than the record, a data length past
 *     the payload, an unknown type) are counted and dropped, the good ones
 *     around them still recorded;
 *   - kernel loss growing twice: each increase becomes a GAP frame after
 *     the output read before it, with the cumulative totals on the row;
 *   - events of a session whose start was lost and whose kernel record is
 *     already gone are dropped, no row is made up;
 *   - tty reuse after the first session was retired: the second session
 *     claims the tty, both name the same devpts tty (KT_DEV_MAJOR/MINOR);
 *   - command exits out of order, an exit of a pid that never exec'd, and a
 *     pid that exec'd twice (the exit belongs to its last image);
 *   - a store that refuses writes (SQLite query_only): nothing committed or
 *     given back to the kernel, every byte once when it writes again.
 */
#include "recorder_fixture.h"

/* a session start on a given devpts tty (dev, index) */
static void start_on_tty(struct kernel *k, uint64_t sid, uint64_t key, uint32_t dev,
			 uint32_t index)
{
	struct kt_ev_session e = {0};

	ev_start(k, sid, key, false);
	k_sess(k, sid)->tty.dev = dev;
	k_sess(k, sid)->tty.index = index;
	e.hdr.type = KT_EV_SESSION_START;
	e.hdr.size = sizeof(e);
	e.hdr.ts_ns = k_sess(k, sid)->start_ns;
	e.hdr.session_id = sid;
	e.s = *k_sess(k, sid);
	k_push(k, 0, &e, sizeof(e));
}

struct frames {
	char types[64];     /* 'o' OUT, 'g' GAP, '?' other, in stream order */
	uint64_t gap[8];
	int ngap;
};

static void frames_of(struct kt_store *st, int64_t id, struct frames *fr)
{
	struct kt_stream *s = NULL;
	struct kt_frame f;
	size_t n = 0;

	memset(fr, 0, sizeof(*fr));
	if (kt_stream_open(st, id, 0, &s))
		return;
	while (kt_stream_next(s, &f) == 1 && n + 1 < sizeof(fr->types)) {
		uint64_t lb, le;

		if (f.type == KT_FRAME_OUT) {
			fr->types[n++] = 'o';
		} else if (f.type == KT_FRAME_GAP) {
			fr->types[n++] = 'g';
			if (fr->ngap < 8 && kt_frame_gap_parse(&f, &lb, &le) == 0)
				fr->gap[fr->ngap++] = lb;
		}
	}
	kt_stream_close(s);
}

static void t_bad_events(void)
{
	struct kt_store *st = store_new("bad");
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r = rec_new(st, k);
	struct kt_recorder_counters c;
	uint8_t buf[256] = {0};
	struct kt_hdr *h = (void *)buf;
	struct kt_ev_data *d = (void *)buf;
	uint64_t gap;
	char *out;

	ev_start(k, 71, 0xa7, true);
	ev_out(k, 71, "good ");
	kk_read(k, 0);
	/* shorter than a header */
	CHECK_EQ_INT(kt_recorder_event(r, buf, 3), 0);
	/* a header claiming more bytes than the record has */
	h->type = KT_EV_TTY_OUT;
	h->session_id = 71;
	h->size = 200;
	CHECK_EQ_INT(kt_recorder_event(r, buf, sizeof(*d) + 4), 0);
	/* data length past the payload */
	h->size = sizeof(*d) + 4;
	d->len = 100;
	CHECK_EQ_INT(kt_recorder_event(r, buf, sizeof(*d) + 4), 0);
	/* a session start too short for its record */
	h->type = KT_EV_SESSION_START;
	h->session_id = 72;
	h->size = sizeof(*h);
	CHECK_EQ_INT(kt_recorder_event(r, buf, sizeof(*h)), 0);
	/* a type this recorder does not know, for a known session */
	h->type = 200;
	h->session_id = 71;
	h->size = sizeof(*h);
	CHECK_EQ_INT(kt_recorder_event(r, buf, sizeof(*h)), 0);
	ev_out(k, 71, "still");
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	kt_recorder_counters(r, &c);
	CHECK_EQ_INT(c.bad_events, 5);
	CHECK_EQ_INT(c.sessions, 1);
	CHECK_EQ_INT(count_sessions(st), 1);
	out = stream_of(st, id_of(st, 71), &gap);
	CHECK_EQ_STR(out, "good still");
	free(out);
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
}

static void t_loss_positioned(void)
{
	struct kt_store *st = store_new("loss2");
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r = rec_new(st, k);
	struct kt_session_info i;
	struct frames fr;
	int64_t id;

	ev_start(k, 73, 0xa8, true);
	ev_out(k, 73, "abc");
	k_sess(k, 73)->lost_bytes = 100;
	k_sess(k, 73)->lost_events = 1;
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	ev_out(k, 73, "def");
	k_sess(k, 73)->lost_bytes = 300; /* cumulative, as the kernel counts */
	k_sess(k, 73)->lost_events = 3;
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0); /* no new loss: no new gap */
	id = id_of(st, 73);
	frames_of(st, id, &fr);
	CHECK_EQ_STR(fr.types, "ogog");
	CHECK_EQ_INT(fr.ngap, 2);
	CHECK_EQ_INT(fr.gap[0], 100);
	CHECK_EQ_INT(fr.gap[1], 200);
	CHECK_EQ_INT(kt_store_session_get(st, id, &i), 0);
	CHECK_EQ_INT(i.lost_bytes, 300);
	CHECK_EQ_INT(i.lost_events, 3);
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
}

static void t_unknown_session_dropped(void)
{
	struct kt_store *st = store_new("unknown");
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r = rec_new(st, k);

	ev_start(k, 74, 0xa9, false); /* start lost ... */
	k_sess(k, 74)->id = 0;         /* ... and the kernel record gone */
	ev_out(k, 74, "orphan");
	ev_exec(k, 74, 4074, "ls");
	ev_exit(k, 74, 4074, true, true, 0);
	ev_start(k, 75, 0xaa, true);
	ev_out(k, 75, "kept");
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK_EQ_INT(count_sessions(st), 1);
	CHECK_EQ_INT(id_of(st, 74), 0);
	CHECK(id_of(st, 75) > 0);
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
}

static void t_tty_reuse_after_retire(void)
{
	struct kt_store *st = store_new("reuse");
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r = rec_new(st, k);
	struct kt_session_info a, b;
	uint64_t gap;
	bool owned = false;
	char *out;

	start_on_tty(k, 76, 0xd1, KT_MKDEV(0, 85), 3);
	ev_out(k, 76, "first");
	ev_exit(k, 76, 1076, true, true, 0);
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0); /* closed and retired */
	CHECK(!k_sess(k, 76));
	/* the same pty (same tty_struct key) for the next exec */
	start_on_tty(k, 77, 0xd1, KT_MKDEV(0, 85), 3);
	ev_out(k, 77, "second");
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK_EQ_INT(count_sessions(st), 2);
	CHECK_EQ_INT(kt_store_session_get(st, id_of(st, 76), &a), 0);
	CHECK_EQ_INT(kt_store_session_get(st, id_of(st, 77), &b), 0);
	CHECK_EQ_INT(a.state, KT_SESSION_ENDED);
	CHECK_EQ_INT(b.state, KT_SESSION_ACTIVE);
	CHECK_EQ_STR(a.tty_name, "pts/3 on devpts 0:85");
	CHECK_EQ_STR(b.tty_name, a.tty_name);
	out = stream_of(st, a.id, &gap);
	CHECK_EQ_STR(out, "first");
	free(out);
	out = stream_of(st, b.id, &gap);
	CHECK_EQ_STR(out, "second");
	free(out);
	for (int t = 0; t < k->nttys; t++)
		owned |= k->ttys[t][0] == 0xd1 && k->ttys[t][1] == 77;
	CHECK(owned);
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
}

struct cmds {
	char argv0[8][16];
	int exit_status[8];
	bool has_exit[8];
	int n;
};

static int cmd_cb(const struct kt_command *c, void *ctx)
{
	struct cmds *x = ctx;

	if (x->n >= 8)
		return 1;
	snprintf(x->argv0[x->n], sizeof(x->argv0[0]), "%s", c->filename ? c->filename : "");
	x->exit_status[x->n] = c->exit_status;
	x->has_exit[x->n] = c->has_exit;
	x->n++;
	return 0;
}

static void t_command_exits_out_of_order(void)
{
	struct kt_store *st = store_new("cmds");
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r = rec_new(st, k);
	struct kt_session_info i;
	struct cmds x = {0};

	ev_start(k, 78, 0xab, true);
	ev_exec(k, 78, 3001, "make");
	ev_exec(k, 78, 3002, "cc");
	ev_exec(k, 78, 3003, "sh");
	ev_exec(k, 78, 3003, "ls");        /* sh exec'd ls: same pid */
	ev_exit(k, 78, 3002, false, false, 1);
	ev_exit(k, 78, 3999, false, false, 9); /* forked, never exec'd */
	ev_exit(k, 78, 3003, false, false, 4);
	ev_exit(k, 78, 3001, false, false, 2);
	ev_exit(k, 78, 1078, true, true, 0);
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK_EQ_INT(kt_store_commands_list(st, id_of(st, 78), cmd_cb, &x), 0);
	CHECK_EQ_INT(x.n, 4);
	CHECK_EQ_STR(x.argv0[0], "make");
	CHECK(x.has_exit[0] && x.exit_status[0] == 2 << 8);
	CHECK_EQ_STR(x.argv0[1], "cc");
	CHECK(x.has_exit[1] && x.exit_status[1] == 1 << 8);
	CHECK_EQ_STR(x.argv0[2], "sh");
	CHECK(!x.has_exit[2]);                 /* replaced by ls, never exited */
	CHECK_EQ_STR(x.argv0[3], "ls");
	CHECK(x.has_exit[3] && x.exit_status[3] == 4 << 8);
	CHECK_EQ_INT(kt_store_session_get(st, id_of(st, 78), &i), 0);
	CHECK_EQ_INT(i.state, KT_SESSION_ENDED);
	CHECK(i.has_exit && i.exit_status == 0);
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
}

static void t_store_refuses_writes(void)
{
	struct kt_store *st = store_new("rofs");
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r = rec_new(st, k);
	uint64_t cons[KT_KOPS_RINGS], gap;
	char *out;

	ev_start(k, 79, 0xac, true);
	ev_out(k, 79, "before ");
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	for (int i = 0; i < KT_KOPS_RINGS; i++)
		cons[i] = k->rings[i].cons;
	query_only(st, true);
	ev_out(k, 79, "during ");
	ev_start(k, 80, 0xad, true);        /* starts while nothing can be written */
	ev_exec(k, 80, 5080, "id");
	ev_out(k, 80, "uid=0");
	kk_read(k, 0);
	CHECK(kt_recorder_tick(r) < 0);
	CHECK(kt_recorder_store_down(r));
	CHECK_EQ_INT(count_sessions(st), 1);
	for (int i = 0; i < KT_KOPS_RINGS; i++)
		CHECK_EQ_INT(k->rings[i].cons, cons[i]); /* the rings keep the backlog */
	query_only(st, false);
	ev_out(k, 79, "after");
	usleep(1100 * 1000);                         /* the retry interval */
	for (int t = 0; t < 100 && (kt_recorder_store_down(r) || !kk_caught_up(k)); t++) {
		kt_recorder_tick(r);
		kt_recorder_poll(r, 0);
	}
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK(!kt_recorder_store_down(r));
	CHECK_EQ_INT(count_sessions(st), 2);
	out = stream_of(st, id_of(st, 79), &gap);
	CHECK_EQ_STR(out, "before during after");
	free(out);
	out = stream_of(st, id_of(st, 80), &gap);
	CHECK_EQ_STR(out, "uid=0");
	free(out);
	for (int i = 0; i < KT_KOPS_RINGS; i++)
		CHECK_EQ_INT(k->rings[i].cons, k->rings[i].end);
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
}

int main(void)
{
	kt_log_init("test_recorder_events", getenv("KT_DEBUG") ? KT_LOG_DEBUG : KT_LOG_ERROR);
	kt_attrib_config_defaults(&ac);
	ac.n_containerd = ac.n_crio = 0;
	ac.node_name = "unit";
	if (kt_fx_mkdtemp(dir, sizeof(dir), "kt-test-recorder-events"))
		return 1;
	RUN(t_bad_events);
	RUN(t_loss_positioned);
	RUN(t_unknown_session_dropped);
	RUN(t_tty_reuse_after_retire);
	RUN(t_command_exits_out_of_order);
	RUN(t_store_refuses_writes);
	kt_fx_rm_dir(dir);
	return kt_test_done();
}
