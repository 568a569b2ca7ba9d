// SPDX-License-Identifier: Apache-2.0
/*
 * The recorder coalesces back-to-back terminal bytes of one session and
 * direction into one frame (recorder/sessions.c add_frame, COALESCE_US;
 * store/chunk_merge.c), on a synthetic kernel (recorder_fixture.h), as the
 * tty backend sends them (one ring record per pty_write):
 *   - two sessions' records interleaved in the ring: each session's bytes
 *     merge with its own, never with the other's;
 *   - in/out ordering: typed bytes, withheld input and a resize between
 *     output records each end the merge, in the ring's order;
 *   - records further apart than the span stay separate frames;
 *   - the session's end: every byte is in the store, in order, and the
 *     counted totals match the bytes;
 *   - a record the kernel flagged as the first after a loss
 *     (KT_F_AFTER_LOSS) starts a new frame, and the gap marker lies between
 *     the frames on either side of the hole.
 */
#include "recorder_fixture.h"

/* a data or withheld record with an explicit timestamp and kt_hdr.flags */
static void ev_data_f(struct kernel *k, uint64_t sid, uint16_t type, const char *text, uint64_t ts,
		      uint16_t flags)
{
	char buf[sizeof(struct kt_ev_data) + 64] = {0};
	size_t n = strlen(text);

	if (type == KT_EV_IN_WITHHELD) {
		struct kt_ev_withheld *w = (void *)buf;

		w->hdr.type = type;
		w->hdr.flags = flags;
		w->hdr.size = sizeof(*w);
		w->hdr.ts_ns = ts;
		w->hdr.session_id = sid;
		w->bytes = (uint32_t)n;
		w->source = KT_SRC_TTY;
		k_push(k, 1, w, sizeof(*w));
		return;
	}
	struct kt_ev_data *e = (void *)buf;

	e->hdr.type = type;
	e->hdr.flags = flags;
	e->hdr.size = sizeof(*e) + n;
	e->hdr.ts_ns = ts;
	e->hdr.session_id = sid;
	e->len = n;
	e->source = KT_SRC_TTY;
	memcpy(e->data, text, n);
	k_push(k, 1, e, sizeof(*e) + n);
}

static void ev_data(struct kernel *k, uint64_t sid, uint16_t type, const char *text, uint64_t ts)
{
	ev_data_f(k, sid, type, text, ts, 0);
}

/* frame types of a stream ('o' OUT, 'i' IN, 'w' WITHHELD, '?' other, END
 * and the rest not listed) and the bytes per direction */
struct seq {
	char types[64];
	char out[256], in[64];
};

static void seq_of(struct kt_store *st, int64_t id, struct seq *q)
{
	struct kt_stream *s = NULL;
	struct kt_frame f;
	size_t n = 0, no = 0, ni = 0;

	memset(q, 0, sizeof(*q));
	if (kt_stream_open(st, id, 0, &s))
		return;
	while (kt_stream_next(s, &f) == 1 && n + 1 < sizeof(q->types)) {
		switch (f.type) {
		case KT_FRAME_OUT:
			q->types[n++] = 'o';
			if (no + f.len < sizeof(q->out)) {
				memcpy(q->out + no, f.data, f.len);
				no += f.len;
			}
			break;
		case KT_FRAME_IN:
			q->types[n++] = 'i';
			if (ni + f.len < sizeof(q->in)) {
				memcpy(q->in + ni, f.data, f.len);
				ni += f.len;
			}
			break;
		case KT_FRAME_WITHHELD: q->types[n++] = 'w'; break;
		case KT_FRAME_RESIZE: q->types[n++] = 'r'; break;
		case KT_FRAME_GAP: q->types[n++] = 'g'; break;
		default: break; /* META, CMD, EXIT, END: not the subject here */
		}
	}
	kt_stream_close(s);
}

static void winsize(struct kernel *k, uint64_t sid, uint64_t ts)
{
	struct kt_ev_winsize w = {0};

	w.hdr.type = KT_EV_WINSIZE;
	w.hdr.size = sizeof(w);
	w.hdr.ts_ns = ts;
	w.hdr.session_id = sid;
	w.rows = 30;
	w.cols = 100;
	/* the data ring, so its order against the bytes is the test's */
	k_push(k, 1, &w, sizeof(w));
}

static void t_interleaved_sessions(void)
{
	struct kt_store *st = store_new("coalesce");
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r = rec_new(st, k);
	struct kt_session_info a, b;
	struct seq qa, qb;
	uint64_t t;

	ev_start(k, 91, 0xe1, true);
	ev_start(k, 92, 0xe2, true);
	t = now_boot_ns();
	ev_data(k, 91, KT_EV_TTY_OUT, "a1 ", t + 1000);
	ev_data(k, 92, KT_EV_TTY_OUT, "b1 ", t + 2000);
	ev_data(k, 91, KT_EV_TTY_OUT, "a2 ", t + 3000);      /* A merges over B's record */
	ev_data(k, 91, KT_EV_TTY_IN, "k", t + 4000);         /* typed: new frame */
	ev_data(k, 92, KT_EV_TTY_OUT, "b2 ", t + 5000);      /* B merges over A's */
	ev_data(k, 91, KT_EV_TTY_IN, "l", t + 6000);         /* IN after IN: merges */
	ev_data(k, 91, KT_EV_TTY_OUT, "a3 ", t + 7000);      /* echo: new frame */
	ev_data(k, 91, KT_EV_IN_WITHHELD, "pw", t + 8000);   /* password typed */
	ev_data(k, 91, KT_EV_TTY_OUT, "a4 ", t + 9000);
	winsize(k, 91, t + 10000);
	ev_data(k, 91, KT_EV_TTY_OUT, "a5 ", t + 11000);
	ev_data(k, 91, KT_EV_TTY_OUT, "a6 ", t + 11000 + 3000000); /* 3 ms on: new */
	ev_data(k, 92, KT_EV_TTY_OUT, "b3", t + 12000);
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	/* bytes after a commit (the chunk flushed at the session end below):
	 * still one frame with what the builder holds */
	ev_data(k, 91, KT_EV_TTY_OUT, "a7", t + 11000 + 3000100);
	ev_exit(k, 91, 1091, true, true, 0);
	ev_exit(k, 92, 1092, true, true, 0);
	kk_read(k, 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK_EQ_INT(kt_store_session_get(st, id_of(st, 91), &a), 0);
	CHECK_EQ_INT(kt_store_session_get(st, id_of(st, 92), &b), 0);
	CHECK_EQ_INT(a.state, KT_SESSION_ENDED);
	CHECK_EQ_INT(b.state, KT_SESSION_ENDED);
	seq_of(st, a.id, &qa);
	seq_of(st, b.id, &qb);
	/* the size at start | a1+a2 | k+l | a3 | withheld | a4 | resize | a5 |
	 * a6 (3 ms on) | a7: 0.1 ms after a6 but in a later read after a
	 * commit, so a new chunk's first frame (a commit never reopens a
	 * frame); if the chunk was still open it merges into a6's */
	if (strcmp(qa.types, "roioworoo") && strcmp(qa.types, "roioworooo"))
		fprintf(stderr, "session A's frames: %s\n", qa.types);
	CHECK(!strcmp(qa.types, "roioworoo") || !strcmp(qa.types, "roioworooo"));
	CHECK_EQ_STR(qa.out, "a1 a2 a3 a4 a5 a6 a7");
	CHECK_EQ_STR(qa.in, "kl");
	CHECK_EQ_STR(qb.types, "ro");
	CHECK_EQ_STR(qb.out, "b1 b2 b3");
	CHECK_EQ_INT(a.bytes_out, strlen("a1 a2 a3 a4 a5 a6 a7"));
	CHECK_EQ_INT(a.bytes_in, 2);
	CHECK_EQ_INT(b.bytes_out, 8);
	CHECK_EQ_INT(a.lost_bytes + b.lost_bytes, 0);
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
}

/* kernel loss between two output records: the gap stays between them */
static void t_gap_breaks_merge(void)
{
	struct kt_store *st = store_new("coalesce_gap");
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r = rec_new(st, k);
	struct kt_session_info i;
	uint64_t gap;
	char *out;

	ev_start(k, 93, 0xe3, true);
	ev_out(k, 93, "abc");
	k_sess(k, 93)->lost_bytes = 40;
	k_sess(k, 93)->lost_events = 1;
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0); /* the gap is marked after "abc" */
	ev_out(k, 93, "def");
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK_EQ_INT(kt_store_session_get(st, id_of(st, 93), &i), 0);
	out = stream_of(st, i.id, &gap);
	CHECK_EQ_STR(out, "abcdef");
	CHECK_EQ_INT(gap, 40);
	free(out);
	{
		struct kt_stream *s = NULL;
		struct kt_frame f;
		char t[16] = {0};
		size_t n = 0;

		CHECK_EQ_INT(kt_stream_open(st, i.id, 0, &s), 0);
		while (s && kt_stream_next(s, &f) == 1 && n + 1 < sizeof(t))
			if (f.type == KT_FRAME_OUT || f.type == KT_FRAME_GAP)
				t[n++] = f.type == KT_FRAME_OUT ? 'o' : 'g';
		kt_stream_close(s);
		CHECK_EQ_STR(t, "ogo");
	}
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
}

/*
 * The kernel flags the first record it sent after losing some of the
 * session's (KT_F_AFTER_LOSS): that record starts a new frame even when it
 * is 0.5 ms after the last one, in the same read, with nothing else between
 * (what merged before: a hole inside one frame), and the gap is marked right
 * there, between the two frames, not at the commit.  A flagged IN record
 * and a flagged withheld count do the same; an unflagged record after them
 * merges again.
 */
static void t_flag_breaks_merge(void)
{
	struct kt_store *st = store_new("coalesce_flag");
	struct kernel *k = calloc(1, sizeof(*k));
	struct kt_recorder *r = rec_new(st, k);
	struct kt_session_info i;
	struct seq q;
	uint64_t t, gap;
	char *out;

	ev_start(k, 94, 0xe4, true);
	t = now_boot_ns();
	ev_data(k, 94, KT_EV_TTY_OUT, "abc", t + 1000);
	/* 40 bytes in 2 records lost here, then the flagged one */
	k_sess(k, 94)->lost_bytes = 40;
	k_sess(k, 94)->lost_events = 2;
	ev_data_f(k, 94, KT_EV_TTY_OUT, "def", t + 1500, KT_F_AFTER_LOSS);
	ev_data(k, 94, KT_EV_TTY_OUT, "ghi", t + 2000);          /* merges with def */
	ev_data(k, 94, KT_EV_TTY_IN, "x", t + 2500);
	ev_data_f(k, 94, KT_EV_TTY_IN, "y", t + 3000, KT_F_AFTER_LOSS); /* no new loss: no gap */
	ev_data(k, 94, KT_EV_TTY_OUT, "jkl", t + 3500);
	kk_read(k, 0);
	/* the second loss: after the kernel's counters moved again */
	k_sess(k, 94)->lost_bytes = 45;
	k_sess(k, 94)->lost_events = 3;
	ev_data_f(k, 94, KT_EV_IN_WITHHELD, "pw", t + 4000, KT_F_AFTER_LOSS);
	ev_data(k, 94, KT_EV_TTY_OUT, "mno", t + 4500);
	kk_read(k, 0);
	CHECK_EQ_INT(kt_recorder_tick(r), 0);
	ev_exit(k, 94, 1094, true, true, 0);
	kk_read(k, 0);
	for (int n = 0; n < 3; n++)
		CHECK_EQ_INT(kt_recorder_tick(r), 0);
	CHECK_EQ_INT(kt_store_session_get(st, id_of(st, 94), &i), 0);
	seq_of(st, i.id, &q);
	/* size | abc | gap | def+ghi | x | y | jkl | gap | withheld | mno */
	CHECK_EQ_STR(q.types, "rogoiiogwo");
	CHECK_EQ_STR(q.out, "abcdefghijklmno");
	CHECK_EQ_STR(q.in, "xy");
	out = stream_of(st, i.id, &gap);
	CHECK_EQ_INT(gap, 45);
	CHECK_EQ_INT(i.lost_bytes, 45);
	CHECK_EQ_INT(i.lost_events, 3);
	free(out);
	kt_recorder_free(r);
	kt_store_close(st);
	k_free(k);
}

int main(void)
{
	kt_log_init("test_recorder_coalesce", getenv("KT_DEBUG") ? KT_LOG_DEBUG : KT_LOG_ERROR);
	kt_attrib_config_defaults(&ac);
	ac.n_containerd = ac.n_crio = 0;
	ac.node_name = "unit";
	if (kt_fx_mkdtemp(dir, sizeof(dir), "kt-test-recorder-coalesce"))
		return 1;
	RUN(t_interleaved_sessions);
	RUN(t_gap_breaks_merge);
	RUN(t_flag_breaks_merge);
	kt_fx_rm_dir(dir);
	return kt_test_done();
}
