// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sessions.h"
#include "rec_evidence.h"
#include "evdecode.h"
#include "log.h"

#include "sessions_int.h"

/* Errors that say the store cannot write now (disk full, read-only, I/O,
 * locked): retried.  Others (a row the store refuses) are about one event. */
bool kt_rec_store_fault(int err)
{
	return err == -ENOSPC || err == -EIO || err == -EROFS || err == -EACCES || err == -EBUSY ||
	       err == -ENOMEM || err == -EPERM || err == -ENOENT || err == -EDQUOT;
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* BPF stamps CLOCK_BOOTTIME; the store wants wall-clock microseconds.  The
 * offset is re-read periodically so an NTP step shows up within seconds. */
void kt_rec_refresh_clock(struct kt_recorder *r)
{
	r->boot_to_wall_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
	r->clock_at_us = kt_now_us();
}

static int64_t wall_us(const struct kt_recorder *r, uint64_t boot_ns)
{
	return ((int64_t)boot_ns + r->boot_to_wall_ns) / 1000;
}

static void read_boot_id(char out[9])
{
	char buf[64] = "";
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		if (n < 0)
			buf[0] = 0;
		close(fd);
	}
	snprintf(out, 9, "%.8s", buf[0] ? buf : "00000000");
}

struct rec_session **kt_rec_slot(struct kt_recorder *r, uint64_t kid)
{
	struct rec_session **pp = &r->buckets[(kid ^ (kid >> 17)) % NBUCKETS];

	while (*pp && (*pp)->kid != kid)
		pp = &(*pp)->next;
	return pp;
}

int kt_rec_ensure_tx(struct kt_recorder *r)
{
	int err;

	if (r->in_tx)
		return 0;
	err = kt_store_begin(r->st);
	if (!err)
		r->in_tx = true;
	return err;
}

void kt_rec_session_free(struct rec_session *s)
{
	if (!s)
		return;
	kt_chunk_builder_free(&s->cb);
	free(s);
}

/* argv (NUL-separated) joined with spaces, clipped to the field */
static void join_argv(char *dst, size_t cap, const char *argv, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;

	memcpy(dst, argv, n);
	dst[n] = 0;
	while (n && dst[n - 1] == 0)
		n--;
	for (size_t i = 0; i < n; i++)
		if (dst[i] == 0 || (unsigned char)dst[i] < 0x20)
			dst[i] = ' ';
}

static void tty_name(char *dst, size_t cap, const struct kt_tty *t)
{
	snprintf(dst, cap, "pts/%u on devpts %u:%u", t->index, KT_DEV_MAJOR(t->dev),
		 KT_DEV_MINOR(t->dev));
}

struct rec_session *session_open(struct kt_recorder *r, const struct kt_session *ks,
					bool recovered)
{
	struct rec_session *s = calloc(1, sizeof(*s));
	struct kt_session_info *i;
	int err;

	if (!s) {
		pr_err("out of memory for session %" PRIx64, (uint64_t)ks->id);
		return NULL;
	}
	i = &s->info;
	s->kid = ks->id;
	s->tty_key = ks->tty.key;
	kt_chunk_builder_init(&s->cb);
	snprintf(i->uuid, sizeof(i->uuid), "%s-%016" PRIx64, r->boot_id, (uint64_t)ks->id);
	i->kernel_id = ks->id;
	i->start_us = wall_us(r, ks->start_ns);
	i->state = KT_SESSION_ACTIVE;
	snprintf(i->hostname, sizeof(i->hostname), "%.*s", KT_UTS_LEN, ks->uts_name);
	snprintf(i->cgroup_path, sizeof(i->cgroup_path), "%.*s", (int)KT_CGPATH_MAX, ks->cgroup_path);
	i->cgroup_id = ks->cgroup_id;
	i->pidns_ino = ks->pidns_ino;
	i->mntns_ino = ks->mntns_ino;
	i->leader_pid = ks->leader.pid;
	i->leader_ns_pid = ks->leader.ns_pid;
	i->leader_uid = ks->leader.uid;
	i->leader_gid = ks->leader.gid;
	snprintf(i->leader_comm, sizeof(i->leader_comm), "%.*s", KT_COMM_LEN, ks->leader.comm);
	i->has_tty = ks->tty.key != 0;
	if (i->has_tty) {
		tty_name(i->tty_name, sizeof(i->tty_name), &ks->tty);
		i->rows = ks->tty.rows;
		i->cols = ks->tty.cols;
	}
	snprintf(i->capture, sizeof(i->capture), "%s", r->k.backend(r->k.ctx));
	kt_attribute_entry(r->o.attrib, i, ks->entry, ks->ctr_tgid, ks->ctr_cgroup_id);

	err = kt_rec_ensure_tx(r);
	if (!err)
		err = kt_store_session_create(r->st, i);
	if (err) {
		note_err(r, err);
		if (!r->tx_err)
			pr_err("session %" PRIx64 ": cannot be stored: %s", (uint64_t)ks->id,
			       strerror(-err));
		kt_rec_session_free(s);
		return NULL;
	}
	kt_rec_ev_meta(&s->cb, i); /* the signed chain covers the metadata */
	if (i->entry_flags & KT_SESSION_F_LATE)
		kt_rec_ev_late(&s->cb, i->start_us, wall_us(r, ks->leader_start_ns));
	if (i->has_tty) {
		/* Attach the lazy capture hook now; what the session showed before
		 * it attached is recovered (or counted) by the BPF side. */
		r->k.capture_up(r->k.ctx);
		if (i->rows && i->cols)
			kt_chunk_add_resize(&s->cb, i->start_us, i->cols, i->rows);
	}
	*kt_rec_slot(r, s->kid) = s;
	r->n.sessions++;
	/* while the store is failing the batch is rolled back and re-read at
	 * every retry: not logged then (the recovery line counts sessions) */
	if (!r->store_down)
		pr_info("session %" PRId64 " started%s: %s/%s/%s%s pid %u (%s)%s%s%s%s", i->id,
			recovered ? " (rebuilt from kernel state, its start event was lost)" : "",
			i->k8s_namespace[0] ? i->k8s_namespace : "-", i->pod[0] ? i->pod : "-",
			i->container[0] ? i->container : "-", i->attribution_guess ? " (guessed)" : "",
			i->leader_pid, i->leader_comm, i->has_tty ? "" : ", no tty",
			i->entry_flags & KT_SESSION_F_FROM_NODE ? ", entered from the node" : "",
			i->entry_flags & KT_SESSION_F_INTERACTIVE ? ", interactive container" : "",
			i->entry_flags & KT_SESSION_F_LATE ? ", recording started late" : "");
	return s;
}

/* The session an event belongs to; rebuilt from the kernel's map if its
 * start event was lost, so no data is dropped for want of a row. */
static struct rec_session *session_get(struct kt_recorder *r, uint64_t kid)
{
	struct rec_session *s = *kt_rec_slot(r, kid);
	struct kt_session ks;

	if (s)
		return s;
	if (r->k.session_lookup(r->k.ctx, kid, &ks) == 0)
		return session_open(r, &ks, true);
	pr_warn("event for unknown session %" PRIx64 " dropped: the kernel no longer has it", kid);
	return NULL;
}

int kt_rec_session_flush(struct kt_recorder *r, struct rec_session *s)
{
	int err = 0;

	if (s->cb.nframes) {
		err = kt_rec_ensure_tx(r);
		if (!err)
			err = kt_store_chunk_append(r->st, s->info.id, &s->cb);
		/* A refused chunk is not dropped: the batch is rolled back
		 * and its records re-read from the ring (kt_recorder_tick). */
		if (err) {
			note_err(r, err);
			return err;
		}
		/* the chunk's totals went onto the row with it (the store adds
		 * them): no row update for output alone */
		kt_chunk_builder_reset(&s->cb);
	}
	if (s->dirty) {
		err = kt_rec_ensure_tx(r);
		if (!err)
			err = kt_store_session_update(r->st, &s->info);
		if (err) {
			note_err(r, err);
			if (!r->tx_err)
				pr_err("session %" PRId64 ": cannot update: %s", s->info.id,
				       strerror(-err));
		} else {
			s->dirty = false;
		}
	}
	return err;
}

/* Sign the session's chain head: at the first flush, then at least every
 * KT_CHECKPOINT_US while it has new frames, and at its end (final). */
static void session_checkpoint(struct kt_recorder *r, struct rec_session *s, int64_t now, bool final)
{
	int ret;

	if (!r->o.signer || r->tx_err || (!final && s->cp_us && now - s->cp_us < KT_CHECKPOINT_US))
		return;
	ret = kt_rec_ensure_tx(r);
	if (!ret)
		ret = kt_store_checkpoint(r->st, r->o.signer, s->info.id, now, final);
	if (ret < 0) {
		/* a store fault rolls the batch back, the signer with it
		 * (continuity.c re-attaches it) */
		note_err(r, ret);
		if (!r->tx_err)
			pr_err("session %" PRId64 ": checkpoint not written: %s", s->info.id,
			       strerror(-ret));
	}
	if (ret > 0 || s->cp_us)
		s->cp_us = now;
}

/* after_loss: the kernel lost records of this session just before this one
 * (KT_F_AFTER_LOSS): it starts a frame of its own, so the hole lies between
 * two frames, where the reader can place it, never inside one */
static int add_frame(struct kt_recorder *r, struct rec_session *s, uint8_t type, int64_t ts,
		     const void *data, uint32_t len, bool after_loss)
{
	/* back-to-back bytes of one direction: one frame (COALESCE_US) */
	int err = after_loss ? -ESRCH : kt_chunk_extend(&s->cb, type, ts, COALESCE_US, data, len);

	if (err == -ESRCH)
		err = kt_chunk_add(&s->cb, type, ts, data, len);
	if (err) {
		pr_err("session %" PRId64 ": frame not buffered: %s", s->info.id, strerror(-err));
		note_err(r, err); /* -ENOMEM: retried from the ring */
		return err;
	}
	if (ts > s->last_frame_us)
		s->last_frame_us = ts;
	if (s->cb.len >= r->o.flush_bytes)
		kt_rec_session_flush(r, s);
	return 0;
}

/* Compare the kernel's loss counters with what the stream already says, and
 * mark the difference as a gap at `now`.  Called at commits, at a session's
 * close, and at the first record the kernel sent after a loss
 * (KT_F_AFTER_LOSS): there the gap lands just before that record's frame,
 * where the hole is in the ring's order (the counters may already hold
 * later loss too: then that is marked there as well, early but between
 * frames, and the sum stays exact). */
static void loss_apply(struct kt_recorder *r, struct rec_session *s, const struct kt_session *kp,
		       int64_t now)
{
	uint64_t lb = kp->lost_bytes, le = kp->lost_events;

	if (lb == s->gap_bytes && le == s->gap_events) {
		/* one line when an episode of loss ends; none while the store
		 * is down (this batch is rolled back and read again) */
		if (s->losing_since_us && now - s->loss_last_us >= LOSS_QUIET_US && !r->store_down) {
			pr_warn("session %" PRId64 ": no loss for %lld s: %" PRIu64 " bytes in %" PRIu64
				" events were lost over %.1f s (ring buffer full), each marked as a gap; "
				"%" PRIu64 " bytes in all", s->info.id, LOSS_QUIET_US / 1000000,
				(uint64_t)(s->gap_bytes - s->loss_from_bytes),
				(uint64_t)(s->gap_events - s->loss_from_events),
				(s->loss_last_us - s->losing_since_us) / 1e6, (uint64_t)s->gap_bytes);
			s->losing_since_us = 0;
		}
		return;
	}
	if (kt_chunk_add_gap(&s->cb, now, lb - s->gap_bytes,
			     le - s->gap_events) == 0) {
		if (!s->losing_since_us) {
			if (!r->store_down)
				pr_warn("session %" PRId64 ": losing output (ring buffer full): %" PRIu64
					" bytes in %" PRIu64 " events so far, marked as a gap; said "
					"again when it stops", s->info.id,
					(uint64_t)(lb - s->gap_bytes),
					(uint64_t)(le - s->gap_events));
			s->losing_since_us = now;
			s->loss_from_bytes = s->gap_bytes;
			s->loss_from_events = s->gap_events;
		}
		s->loss_last_us = now;
		r->n.gaps++;
		s->gap_bytes = lb;
		s->gap_events = le;
		s->info.lost_bytes = lb;
		s->info.lost_events = le;
		s->dirty = true;
	}
}

void kt_rec_check_loss(struct kt_recorder *r, struct rec_session *s, int64_t now)
{
	struct kt_session ks;

	if (r->k.session_lookup(r->k.ctx, s->kid, &ks) == 0)
		loss_apply(r, s, &ks, now);
}

struct loss_batch {
	struct kt_recorder *r;
	int64_t now;
};

static int loss_batch_one(const struct kt_session *ks, void *ctx)
{
	struct loss_batch *b = ctx;
	struct rec_session *s = *kt_rec_slot(b->r, ks->id);

	if (s)
		loss_apply(b->r, s, ks, b->now);
	return 0;
}

/* Every session's loss counters in one pass over the kernel's map (a few
 * system calls for all sessions, instead of one lookup each); false: not
 * available here, look each one up. */
static bool check_loss_all(struct kt_recorder *r, int64_t now)
{
	struct loss_batch b = { r, now };

	return r->k.sessions_batch && r->k.sessions_batch(r->k.ctx, loss_batch_one, &b) == 0;
}

/* size: the bytes the ring delivered (hdr.size is only checked against it) */
static void on_exec(struct kt_recorder *r, struct rec_session *s, const struct kt_ev_exec *e, size_t size)
{
	const char *fn = e->data, *argv = fn + e->filename_len, *cwd = argv + e->argv_len;
	struct kt_ev_exec_strs x;
	struct kt_command c = {0};
	char *redacted = NULL, fired[128];
	size_t argv_len = e->argv_len;
	int err;

	if (kt_ev_exec_decode(e, size, &x)) {
		r->n.bad_events++;
		return;
	}
	/* secrets in argv are replaced before anything is stored or indexed */
	if (kt_redact_argv(r->o.redact, argv, argv_len, &redacted, &argv_len, fired, sizeof(fired)) > 0) {
		pr_info("session %" PRId64 ": argv of pid %u redacted (%s)", s->info.id, e->task.pid, fired);
		argv = redacted;
	}
	c.session_id = s->info.id;
	c.seq = s->info.n_commands;
	c.ts_us = wall_us(r, e->hdr.ts_ns);
	c.pid = e->task.pid;
	c.ns_pid = e->task.ns_pid;
	c.ppid = e->task.ppid;
	c.uid = e->task.uid;
	c.gid = e->task.gid;
	c.euid = e->task.euid;
	c.egid = e->task.egid;
	snprintf(c.comm, sizeof(c.comm), "%.*s", KT_COMM_LEN, e->task.comm);
	c.filename = fn;
	c.argv = argv;
	c.argv_len = argv_len;
	c.argc = e->argc;
	c.cwd = e->cwd_len ? cwd : "";
	c.argv_truncated = e->hdr.flags & KT_F_ARGV_TRUNC;
	c.cwd_truncated = e->hdr.flags & KT_F_CWD_TRUNC;
	err = kt_rec_ensure_tx(r);
	if (!err)
		err = kt_store_command_add(r->st, &c);
	if (err) {
		note_err(r, err);
		if (!r->tx_err)
			pr_err("session %" PRId64 ": command not stored: %s", s->info.id,
			       strerror(-err));
		free(redacted);
		return;
	}
	kt_rec_ev_cmd(&s->cb, &c);
	if (!s->info.n_commands)
		join_argv(s->info.first_command, sizeof(s->info.first_command), argv, argv_len);
	s->info.n_commands++;
	s->dirty = true;
	r->n.commands++;
	free(redacted);
}

static void on_exit_ev(struct kt_recorder *r, struct rec_session *s, const struct kt_ev_exit *e)
{
	int64_t ts = wall_us(r, e->hdr.ts_ns);
	int err = kt_rec_ensure_tx(r);
	int32_t seq = -1;

	if (!err)
		err = kt_store_command_exit_seq(r->st, s->info.id, e->task.pid, ts, e->exit_status, &seq);
	if (!err && seq >= 0)
		kt_rec_ev_exit(&s->cb, seq, ts, e->exit_status);
	if (err && err != -ENOENT) {
		note_err(r, err);
		if (!r->tx_err)
			pr_warn("session %" PRId64 ": exit of pid %u not stored: %s", s->info.id,
				e->task.pid, strerror(-err));
	}
	if (e->hdr.type == KT_EV_SESSION_END) {
		s->info.has_exit = true;
		s->info.exit_status = e->exit_status;
		s->info.end_us = ts;
		s->dirty = true;
		pr_info("session %" PRId64 ": leader exited with status %d", s->info.id, e->exit_status);
	}
	if (e->hdr.flags & KT_F_LAST_PROC)
		s->closing_since_us = kt_now_us();
}

int kt_recorder_event(void *ctx, void *data, size_t size)
{
	struct kt_recorder *r = ctx;
	const struct kt_hdr *h = data;
	struct rec_session *s;

	/* the batch failed: stop reading, everything since the last commit
	 * is read again once the store writes */
	if (r->tx_err)
		return -EAGAIN;
	/* held in memory until the next commit gives it back (continuity.c) */
	if (!r->held_since_us)
		r->held_since_us = kt_now_us();
	r->held_bytes += size;
	r->n.events++;
	if (kt_ev_check(data, size)) {
		r->n.bad_events++;
		return 0;
	}
	if (h->type == KT_EV_SESSION_START) {
		const struct kt_ev_session *e = data;

		if (size < sizeof(*e)) {
			r->n.bad_events++;
			return 0;
		}
		if (!*kt_rec_slot(r, h->session_id))
			session_open(r, &e->s, false);
		return r->tx_err ? -EAGAIN : 0;
	}
	s = session_get(r, h->session_id);
	if (!s)
		return 0;
	switch (h->type) {
	case KT_EV_EXEC:
		if (size >= sizeof(struct kt_ev_exec))
			on_exec(r, s, data, size);
		else
			r->n.bad_events++;
		break;
	case KT_EV_EXIT:
	case KT_EV_SESSION_END:
		if (size >= sizeof(struct kt_ev_exit))
			on_exit_ev(r, s, data);
		else
			r->n.bad_events++;
		break;
	case KT_EV_TTY_OUT:
	case KT_EV_TTY_IN: {
		const struct kt_ev_data *e = data;
		bool out = h->type == KT_EV_TTY_OUT;

		if (size < sizeof(*e) || e->len > size - sizeof(*e)) {
			r->n.bad_events++;
			break;
		}
		if (h->flags & KT_F_AFTER_LOSS)
			kt_rec_check_loss(r, s, wall_us(r, h->ts_ns));
		if (add_frame(r, s, out ? KT_FRAME_OUT : KT_FRAME_IN, wall_us(r, h->ts_ns),
			      e->data, e->len, h->flags & KT_F_AFTER_LOSS) == 0) {
			if (out) {
				s->info.bytes_out += e->len;
				r->n.bytes_out += e->len;
			} else {
				s->info.bytes_in += e->len;
				r->n.bytes_in += e->len;
			}
		}
		break;
	}
	case KT_EV_IN_WITHHELD: {
		const struct kt_ev_withheld *e = data;

		if (size < sizeof(*e)) {
			r->n.bad_events++;
			break;
		}
		if (h->flags & KT_F_AFTER_LOSS)
			kt_rec_check_loss(r, s, wall_us(r, h->ts_ns));
		/* typed with ECHO off: the kernel sent only the count */
		kt_rec_ev_withheld(&s->cb, wall_us(r, h->ts_ns), e->bytes);
		break;
	}
	case KT_EV_WINSIZE: {
		const struct kt_ev_winsize *e = data;

		if (size < sizeof(*e)) {
			r->n.bad_events++;
			break;
		}
		kt_chunk_add_resize(&s->cb, wall_us(r, h->ts_ns), e->cols, e->rows);
		/* runtimes size the console just after the exec: the first real
		 * size is the session's size */
		if (!s->info.rows || !s->info.cols) {
			s->info.rows = e->rows;
			s->info.cols = e->cols;
			s->dirty = true;
		}
		break;
	}
	default:
		r->n.bad_events++;
	}
	return r->tx_err ? -EAGAIN : 0;
}

/* Last process gone and the grace for trailing output over: close it.
 * Its kernel record is dropped after the commit (kt_recorder_tick). */
void kt_rec_session_close(struct kt_recorder *r, struct rec_session **pp, int state)
{
	struct rec_session *s = *pp;

	/* its last events are read by now (the close grace), so its loss
	 * counters are final whatever the other sessions' backlog */
	kt_rec_check_loss(r, s, kt_now_us());
	s->info.state = state;
	if (!s->info.end_us || s->last_frame_us > s->info.end_us)
		s->info.end_us = s->last_frame_us > s->info.end_us ? s->last_frame_us : kt_now_us();
	s->dirty = true;
	kt_rec_ev_end(&s->cb, &s->info, s->info.end_us);
	kt_rec_session_flush(r, s);
	session_checkpoint(r, s, kt_now_us(), true);
	if (r->nretire == r->retire_cap) {
		size_t cap = r->retire_cap ? r->retire_cap * 2 : 16;
		struct retire *n = realloc(r->retire, cap * sizeof(*n));

		if (n) {
			r->retire = n;
			r->retire_cap = cap;
		}
	}
	if (r->nretire < r->retire_cap)
		r->retire[r->nretire++] = (struct retire){ s->kid, s->tty_key };
	pr_info("session %" PRId64 " %s: %" PRIu64 " bytes out, %" PRIu64 " in, %u commands%s",
		s->info.id, state == KT_SESSION_ENDED ? "ended" : "interrupted",
		s->info.bytes_out, s->info.bytes_in, s->info.n_commands,
		s->info.lost_bytes || s->info.lost_events ? ", WITH LOSS" : "");
	r->n.lost_bytes += s->info.lost_bytes;
	r->n.lost_events += s->info.lost_events;
	*pp = s->next;
	kt_rec_session_free(s);
}

/* After the commit: forget closed sessions' kernel state. */
void kt_rec_retire_committed(struct kt_recorder *r)
{
	for (size_t i = 0; i < r->nretire; i++) {
		struct retire *t = &r->retire[i];

		r->k.session_retire(r->k.ctx, t->kid, t->tty_key);
		/* A newer session on the same (reused) tty_struct may have taken
		 * the entry between the retire's check and its delete: give it
		 * back. */
		if (t->tty_key)
			for (int b = 0; b < NBUCKETS; b++)
				for (struct rec_session *o = r->buckets[b]; o; o = o->next)
					if (o->kid != t->kid && o->tty_key == t->tty_key &&
					    !o->closing_since_us)
						r->k.tty_claim(r->k.ctx, o->tty_key, o->kid);
	}
	r->nretire = 0;
}

/* Detach the lazy capture hook after a quiet spell with no tty recorded.
 * A session starting meanwhile increments the kernel's count first and
 * re-attaches on its start event; its first bytes are caught up from the
 * n_tty ring. */
#define CAPTURE_IDLE_US (5 * 1000000LL)
void kt_rec_lazy_capture_tick(struct kt_recorder *r, int64_t now)
{
	if (!r->k.capture_lazy(r->k.ctx))
		return;
	if (!r->k.capture_is_up(r->k.ctx)) {
		/* a session started while no recorder ran (or the hook was
		 * detached when it was restarted) */
		if (r->k.nr_ttys(r->k.ctx))
			r->k.capture_up(r->k.ctx);
		return;
	}
	if (r->k.nr_ttys(r->k.ctx)) {
		r->capture_idle_since_us = 0;
		return;
	}
	if (!r->capture_idle_since_us)
		r->capture_idle_since_us = now;
	else if (now - r->capture_idle_since_us >= CAPTURE_IDLE_US)
		r->k.capture_down(r->k.ctx);
}

/* Flush every session: nothing read stays only in memory past a commit. */
void kt_rec_flush_all(struct kt_recorder *r, int64_t now)
{
	bool loss_done = false;

	if (now - r->clock_at_us > CLOCK_REFRESH_US)
		kt_rec_refresh_clock(r);
	/* see kt_recorder_tick; a failed batch may have applied some: the
	 * lookups one by one then mark only what is still new */
	if (r->caught_up)
		loss_done = check_loss_all(r, now);
	for (int b = 0; b < NBUCKETS; b++) {
		struct rec_session **pp = &r->buckets[b];

		while (*pp && !r->tx_err) {
			struct rec_session *s = *pp;

			if (s->closing_since_us && now - s->closing_since_us >= r->o.close_grace_us) {
				kt_rec_session_close(r, pp, s->orphan && !s->info.has_exit ?
						     KT_SESSION_INTERRUPTED : KT_SESSION_ENDED);
				continue;
			}
			if (r->caught_up && !loss_done)
				kt_rec_check_loss(r, s, now);
			if (s->cb.nframes || s->dirty)
				kt_rec_session_flush(r, s);
			session_checkpoint(r, s, now, false);
			pp = &s->next;
		}
	}
}

/*
 * Whether this tick commits.  Output of small sessions waits in memory (and
 * in the rings, not given back) up to flush_age: one commit then writes a
 * chunk per session for several ticks' worth, instead of a chunk, a row
 * update and a WAL sync per session per tick.  Anything already written
 * into the transaction (a session row, a command, a chunk cut at
 * flush_bytes), a close that is due, or more than HOLD_MAX_BYTES held
 * commits now.  A commit writes every session's frames (kt_rec_flush_all):
 * the rings are given back as a whole, so nothing read may stay behind in
 * memory past one.
 */
bool kt_rec_commit_due(const struct kt_recorder *r, int64_t now)
{
	if (r->in_tx || r->force_commit || r->o.flush_age_us <= 0)
		return true;
	if (r->held_since_us && now - r->held_since_us >= r->o.flush_age_us)
		return true;
	for (int i = 0; i < KT_KOPS_RINGS; i++) {
		if (!r->ring_size[i]) {
			if (r->held_bytes >= HOLD_MAX_BYTES)
				return true;
			continue;
		}
		/* an eighth of the ring held: room for a burst stays */
		if (!r->saved_valid ||
		    r->k.ring_read_pos(r->k.ctx, i) - r->saved_pos[i] >= r->ring_size[i] / 8)
			return true;
	}
	for (int b = 0; b < NBUCKETS; b++)
		for (const struct rec_session *s = r->buckets[b]; s; s = s->next)
			if (s->closing_since_us && now - s->closing_since_us >= r->o.close_grace_us)
				return true;
	return false;
}

void kt_rec_drop_all(struct kt_recorder *r)
{
	for (int b = 0; b < NBUCKETS; b++)
		while (r->buckets[b]) {
			struct rec_session *s = r->buckets[b];

			r->buckets[b] = s->next;
			kt_rec_session_free(s);
		}
	r->nretire = 0;
}

/*
 * The recorder's store handle loses its page cache at nearly every
 * transaction (the index worker writes the same DB from its own process, so
 * SQLite drops the cache when it sees the WAL changed) and regrows it while
 * writing the next commit.  glibc then trims the freed top of the heap at
 * each drop and the next commit faults it back in: with the default
 * thresholds that churn (brk, munmap, page faults, _int_malloc) was about a
 * quarter of the capture CPU in a flood (bench/results/11-capture.md).  Keep
 * up to TRIM_KEEP of freed heap; the cost is that RSS stays near its peak
 * (page cache and chunk buffers) instead of shrinking, bounded well inside
 * the pod's 256 MiB limit (deploy/kubetape.yaml).  16 MiB measured as good
 * as 64 MiB (flood 5.23 vs 5.41 CPU-s/GiB, n = 3).  Process-wide: the
 * recorder daemon is the process this core runs in.
 */
#define TRIM_KEEP (16 << 20)
#define TOP_PAD (4 << 20)

static void tune_allocator(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	if (!mallopt(M_TRIM_THRESHOLD, TRIM_KEEP) || !mallopt(M_TOP_PAD, TOP_PAD))
		pr_debug("mallopt refused; the heap is trimmed at the defaults");
}

int kt_recorder_new(struct kt_store *st, const struct kt_recorder_opts *o,
		    struct kt_recorder **out)
{
	struct kt_recorder *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return -ENOMEM;
	tune_allocator();
	r->st = st;
	r->o = *o;
	read_boot_id(r->boot_id);
	kt_rec_refresh_clock(r);
	*out = r;
	return 0;
}

void kt_recorder_set_kops(struct kt_recorder *r, const struct kt_kops *k)
{
	r->k = *k;
}

void kt_recorder_set_ring_size(struct kt_recorder *r, int i, size_t bytes)
{
	if (i >= 0 && i < KT_KOPS_RINGS)
		r->ring_size[i] = bytes;
}

void kt_recorder_free(struct kt_recorder *r)
{
	if (!r)
		return;
	kt_rec_drop_all(r);
	free(r->retire);
	free(r);
}

void kt_recorder_counters(const struct kt_recorder *r, struct kt_recorder_counters *c)
{
	*c = r->n;
	for (int b = 0; b < NBUCKETS; b++)
		for (struct rec_session *s = r->buckets[b]; s; s = s->next) {
			c->lost_bytes += s->info.lost_bytes;
			c->lost_events += s->info.lost_events;
		}
}
