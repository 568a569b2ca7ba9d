// SPDX-License-Identifier: Apache-2.0
/*
 * What makes a recording survive the recorder: commit-then-consume, the
 * take-over of open sessions from an earlier recorder, and store faults.
 *
 * The kernel rings are the write-ahead log.  A record is read, written into
 * the store's batch, and its ring space is given back (consumed) only after
 * the batch committed, together with the ring positions it reached
 * ("ring.<boot>.<map id>.<ring>" in meta).  So:
 *  - kill -9 at any moment loses nothing that reached the ring: the next
 *    recorder (adopting the pinned rings) reads again from the consumer
 *    position, and skips what the store says was committed but not yet
 *    consumed (a crash between commit and consume).
 *  - a store that cannot write (disk full, read-only, I/O error) leaves the
 *    records in the ring: the batch is rolled back, the in-memory sessions
 *    are dropped and rebuilt from the committed rows, and the records are
 *    read again when the store writes.  Ids therefore only ever come from
 *    committed rows.  The rings (--ringbuf-mb for terminal bytes, 2 MiB for
 *    session starts and commands) are the bounded backlog; what does not fit
 *    is counted per session by the BPF side, exactly, and becomes a gap
 *    frame when the store writes again.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sessions_int.h"
#include "log.h"

static void ring_key(const struct kt_recorder *r, int i, char *key, size_t cap)
{
	snprintf(key, cap, "ring.%s.%u.%d", r->boot_id, r->k.ring_id(r->k.ctx, i), i);
}

struct rows {
	struct kt_session_info *v;
	size_t n, cap;
};

static int collect(const struct kt_session_info *s, void *ctx)
{
	struct rows *rows = ctx;

	if (rows->n == rows->cap) {
		size_t cap = rows->cap ? rows->cap * 2 : 16;
		struct kt_session_info *v = realloc(rows->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rows->v = v;
		rows->cap = cap;
	}
	rows->v[rows->n++] = *s;
	return 0;
}

/* One open row continued in memory, as the same session. */
static int adopt_row(struct kt_recorder *r, const struct kt_session_info *i, bool quiet)
{
	struct rec_session *s = calloc(1, sizeof(*s));
	struct kt_session ks;

	if (!s)
		return -ENOMEM;
	s->kid = i->kernel_id;
	s->info = *i;
	kt_chunk_builder_init(&s->cb);
	/* the stream already marks what the kernel had counted lost */
	s->gap_bytes = i->lost_bytes;
	s->gap_events = i->lost_events;
	if (r->k.session_lookup(r->k.ctx, s->kid, &ks) == 0) {
		s->tty_key = ks.tty.key;
		if (ks.nprocs <= 0)
			s->closing_since_us = kt_now_us();
	} else {
		/* closed and retired by a recorder that died before its commit:
		 * its last events are read again, else it ends as interrupted */
		s->orphan = true;
		s->closing_since_us = kt_now_us();
	}
	*kt_rec_slot(r, s->kid) = s;
	if (!quiet)
		pr_info("session %" PRId64 " (%s/%s) continues from the previous recorder: %" PRIu64
			" bytes, %u commands so far", i->id, i->k8s_namespace[0] ? i->k8s_namespace : "-",
			i->pod[0] ? i->pod : "-", i->bytes_out + i->bytes_in, i->n_commands);
	return 0;
}

/* Rebuild the in-memory sessions from the committed rows.  At start-up,
 * rows that cannot continue (another boot, kernel state not adopted) are
 * marked interrupted. */
static int load_open_rows(struct kt_recorder *r, bool startup)
{
	struct kt_session_filter f = KT_SESSION_FILTER_INIT;
	struct rows rows = {0};
	size_t blen = strlen(r->boot_id);
	int err, n_int = 0, n_adopt = 0;

	f.active = 1;
	err = kt_store_sessions_list(r->st, &f, collect, &rows);
	for (size_t k = 0; !err && k < rows.n; k++) {
		struct kt_session_info *i = &rows.v[k];
		bool ours = strncmp(i->uuid, r->boot_id, blen) == 0 && i->uuid[blen] == '-';

		if (!startup || (ours && r->k.adopted(r->k.ctx))) {
			err = adopt_row(r, i, !startup);
			n_adopt++;
			continue;
		}
		i->state = KT_SESSION_INTERRUPTED;
		i->end_us = kt_now_us();
		err = kt_rec_ensure_tx(r);
		if (!err)
			err = kt_store_session_update(r->st, i);
		n_int++;
	}
	free(rows.v);
	if (startup && n_adopt)
		pr_info("%d open sessions continued from the previous recorder", n_adopt);
	if (startup && n_int)
		pr_warn("%d sessions left open by a previous recorder marked interrupted (%s)", n_int,
			r->k.adopted(r->k.ctx) ? "from another boot" :
			"no kernel state was left to continue them");
	return err;
}

int kt_recorder_adopt(struct kt_recorder *r)
{
	int err;

	for (int i = 0; i < KT_KOPS_RINGS; i++) {
		char key[80];
		int64_t pos;

		ring_key(r, i, key, sizeof(key));
		if (kt_store_meta_get_int(r->st, key, &pos))
			continue;
		err = r->k.ring_skip_to(r->k.ctx, i, (uint64_t)pos);
		if (err > 0)
			pr_info("ring %d: skipped records committed by the previous recorder", i);
		else if (err < 0)
			pr_warn("ring %d: the store's position %" PRId64 " is outside the ring (%s); "
				"reading from the kernel's", i, pos, strerror(-err));
		r->saved_pos[i] = r->k.ring_read_pos(r->k.ctx, i);
	}
	r->saved_valid = true;
	err = load_open_rows(r, true);
	if (r->in_tx) {
		err = kt_store_commit(r->st) ?: err;
		r->in_tx = false;
	}
	if (err)
		pr_err("taking over open sessions failed: %s", strerror(-err));
	kt_rec_lazy_capture_tick(r, kt_now_us());
	return err;
}

bool kt_recorder_store_down(const struct kt_recorder *r)
{
	return r->store_down;
}

static int kops_poll(struct kt_recorder *r, int timeout_ms)
{
	int n = r->k.wait(r->k.ctx, timeout_ms);

	if (n < 0 && n != -EINTR)
		return n;
	/* terminal bytes are submitted without wakeups (bpf/maps.bpf.h):
	 * whatever woke us, or the timeout, read every ring */
	return r->k.read(r->k.ctx, 0);
}

int kt_recorder_poll(struct kt_recorder *r, int timeout_ms)
{
	int n;

	if (r->store_down) {
		usleep((useconds_t)timeout_ms * 1000);
		return 0;
	}
	n = kops_poll(r, timeout_ms);
	return n == -EINTR ? 0 : n;
}

static int save_positions(struct kt_recorder *r)
{
	int err = 0;

	for (int i = 0; i < KT_KOPS_RINGS && !err; i++) {
		uint64_t pos = r->k.ring_read_pos(r->k.ctx, i);
		char key[80];

		if (r->saved_valid && pos == r->saved_pos[i])
			continue;
		ring_key(r, i, key, sizeof(key));
		err = kt_rec_ensure_tx(r);
		if (!err)
			err = kt_store_meta_set_int(r->st, key, (int64_t)pos);
	}
	return err;
}

static void store_failed(struct kt_recorder *r, int err, int64_t now)
{
	kt_store_rollback(r->st);
	r->in_tx = false;
	r->k.rewind(r->k.ctx);
	kt_rec_drop_all(r);
	r->saved_valid = false;
	r->tx_err = 0;
	r->held_since_us = 0;	/* all of it is read again */
	r->held_bytes = 0;
	r->retry_at_us = now + STORE_RETRY_US;
	if (!r->store_down) {
		r->store_down = true;
		r->down_since_us = now;
		r->down_retries = 0;
		kt_store_set_quiet(r->st, true);
		pr_err("store failing (%s): capture continues into the kernel ring buffers, which "
		       "hold the backlog; what overflows them is counted per session and marked as "
		       "a gap; retrying every %lld s", strerror(-err), STORE_RETRY_US / 1000000);
	}
	r->down_retries++;
}

int kt_recorder_tick(struct kt_recorder *r)
{
	int64_t now = kt_now_us();
	int err = 0;

	if (r->store_down) {
		if (now < r->retry_at_us)
			return 0;
		/* start over from the committed state; the signer's chain too
		 * (its checkpoints in the rolled-back batch are gone) */
		err = r->o.signer ? kt_signer_attach(r->o.signer, r->st) : 0;
		if (!err)
			err = load_open_rows(r, false);
		if (!err) {
			int n = r->k.read(r->k.ctx, CATCHUP_BYTES);

			if (n < 0)
				err = n;
		}
		if (err || r->tx_err) {
			store_failed(r, r->tx_err ?: err, now);
			return r->tx_err ?: err;
		}
	}
	/* nothing due: what was read waits in memory and in the rings */
	if (!r->store_down && !kt_rec_commit_due(r, now)) {
		kt_rec_lazy_capture_tick(r, now);
		return 0;
	}
	/* Loss is marked in the stream where the reading stands: at the end of
	 * what the rings hold, not in the middle of a backlog being replayed.
	 * Under a sustained flood the rings are never empty: mark it at least
	 * every second anyway (the gap then sits up to that much early). */
	r->caught_up = r->k.caught_up(r->k.ctx) || now - r->loss_checked_us >= 1000000;
	if (r->caught_up)
		r->loss_checked_us = now;
	kt_rec_flush_all(r, now);
	if (!r->tx_err)
		note_err(r, save_positions(r));
	if (!r->tx_err && r->in_tx) {
		err = kt_store_commit(r->st);
		r->in_tx = false;
		if (err) {
			note_err(r, err);
			if (!r->tx_err)
				pr_err("commit failed: %s", strerror(-err));
		}
	}
	if (r->tx_err) {
		err = r->tx_err;
		store_failed(r, err, now);
		return err;
	}
	/* durable: the signed chain's head goes outside the store, the ring
	 * space back to the kernel, then closed sessions' kernel records */
	kt_signer_save_head(r->o.signer);
	r->k.consume(r->k.ctx);
	r->held_since_us = 0;
	r->held_bytes = 0;
	r->force_commit = false;
	for (int i = 0; i < KT_KOPS_RINGS; i++)
		r->saved_pos[i] = r->k.ring_read_pos(r->k.ctx, i);
	r->saved_valid = true;
	kt_rec_retire_committed(r);
	if (r->store_down) {
		int n = 0;

		for (int b = 0; b < NBUCKETS; b++)
			for (struct rec_session *s = r->buckets[b]; s; s = s->next)
				n++;
		r->store_down = false;
		kt_store_set_quiet(r->st, false);
		pr_warn("store writable again after %.1f s (%" PRIu64 " retries): %d open sessions "
			"continue, including those started meanwhile; the backlog is being written",
			(now - r->down_since_us) / 1e6, r->down_retries, n);
	}
	kt_rec_lazy_capture_tick(r, now);
	return err;
}

int kt_recorder_shutdown(struct kt_recorder *r)
{
	int n_open = 0, err;

	r->force_commit = true;	/* whatever the flush age */
	if (r->store_down) {
		r->retry_at_us = 0;
		kt_recorder_tick(r);
	}
	if (!r->store_down)
		r->k.read(r->k.ctx, 0);
	r->caught_up = !r->store_down && r->k.caught_up(r->k.ctx);
	for (int b = 0; b < NBUCKETS; b++)
		for (struct rec_session **pp = &r->buckets[b]; *pp;) {
			if (r->o.keep_kernel_state && !(*pp)->closing_since_us) {
				n_open++;
				pp = &(*pp)->next;
				continue;
			}
			kt_rec_session_close(r, pp, (*pp)->closing_since_us && !(*pp)->orphan ?
					     KT_SESSION_ENDED : KT_SESSION_INTERRUPTED);
		}
	if (!r->store_down) {
		r->retry_at_us = 0;
		r->force_commit = true;
		err = kt_recorder_tick(r);
	} else {
		err = -EIO;
	}
	if (err || r->store_down) {
		pr_err("store not writable at shutdown: %s", r->o.keep_kernel_state ?
		       "what was not written stays in the kernel ring buffers for the next recorder" :
		       "what was not written is lost (no pinned kernel state)");
		return 0;
	}
	if (n_open)
		pr_info("%d open sessions stay active: the kernel keeps recording them for the next "
			"recorder", n_open);
	return 0;
}
