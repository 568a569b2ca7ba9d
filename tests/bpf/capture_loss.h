/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loss in the BPF selftest (included by tests/bpf/test_capture.c, whose
 * helpers and event state C it uses; a file of its own for the 800-line
 * rule): a ring buffer too small for a flood, its loss counted exactly, and
 * the first record after a loss flagged (KT_F_AFTER_LOSS).
 */
#ifndef KT_TEST_CAPTURE_LOSS_H
#define KT_TEST_CAPTURE_LOSS_H

/*
 * Both loss tests' flood: closes L, loads a loader of its own with a 64 KiB
 * data ring and runs `script` in a new session, reading the pty master to
 * its end into *got.  The ring is left unread (full: records lost) until
 * `drain_after` appears in what the pty gave (*drained), then polled as the
 * pty is read; NULL: unread till the end (settle() reads the rest).  CHECKs
 * that one session started and lost bytes (*ks: its kernel record).
 * Returns the loader for the caller to close; NULL if it did not load.
 */
static struct kt_loader *flood(const char *script, const char *drain_after, struct kt_fx_buf *got,
			       bool *drained, struct kt_session *ks)
{
	struct kt_loader_opts o = { .capture = capture, .capture_input = true,
				    .ringbuf_bytes = 64 << 10, .sys_exit = sys_exit_via };
	struct kt_loader *small = NULL;
	int master, st, err;
	pid_t helper, leader;

	*drained = false;
	memset(ks, 0, sizeof(*ks));
	kt_loader_close(L);
	L = NULL;
	reset();
	err = kt_loader_open(&o, on_event, NULL, &small);
	CHECK_EQ_INT(err, 0);
	if (err)
		return NULL;
	CHECK_EQ_INT(kt_loader_capture_up(small), 0);
	helper = enter_ns(ns_init, script, &master, &leader, 24, 80);
	C.leader = leader;
	kt_loader_poll(small, 200); /* deliver the session start */
	for (;;) {
		char b[65536];
		ssize_t n = read(master, b, sizeof(b));

		if (n <= 0)
			break;
		kt_fx_buf_add(got, b, n);
		if (!*drained && drain_after && memmem(got->p, got->len, drain_after, strlen(drain_after)))
			*drained = true;
		if (*drained)
			kt_loader_poll(small, 0);
	}
	close(master);
	waitpid(helper, &st, 0);
	settle(small);
	CHECK_EQ_INT(C.starts, 1);
	CHECK(kt_loader_session_lookup(small, C.sid, ks) == 0);
	CHECK(ks->lost_bytes > 0);
	return small;
}

/*
 * A ring buffer too small for a flood: whatever is not delivered must be
 * counted, exactly, in the session's and the global counters.
 */
static void t_loss_counted(void)
{
	struct kt_loader *small;
	struct kt_fx_buf got = {0};
	uint64_t k[KT_STAT_MAX];
	struct kt_session ks;
	bool drained;

	small = flood("sleep 0.3; seq 1 300000; /bin/echo flood-done", NULL, &got, &drained, &ks);
	if (!small)
		return;
	/* nothing vanishes: delivered + counted as lost == what the pty gave;
	 * but forced fexit on a preemptible kernel (t_pty_session) may also
	 * lose writes to skipped runs, counted only as such */
	if (!strcmp(kt_loader_backend(small), "tty-fentry") && capture_misses(small) &&
	    kt_loader_probe_fentry_preemptible(NULL) != 0 && C.out.len + ks.lost_bytes < got.len)
		printf("# loss test: %zu byte(s) neither delivered nor counted lost, with %llu skipped run(s) counted\n",
		       got.len - C.out.len - (size_t)ks.lost_bytes, (unsigned long long)capture_misses(small));
	else
		CHECK_EQ_INT(C.out.len + ks.lost_bytes, got.len);
	CHECK_EQ_INT(kt_loader_stats(small, k), 0);
	CHECK(k[KT_STAT_LOST_BYTES] >= ks.lost_bytes);
	CHECK(k[KT_STAT_LOST_EVENTS] >= ks.lost_events && ks.lost_events > 0);
	/* the flood filled the data ring, never the control ring: who ran what
	 * is complete */
	kt_fx_buf_add(&C.execs, "", 1);
	CHECK(strstr(C.execs.p, "|/bin/echo flood-done|") != NULL);
	CHECK_EQ_INT(C.ends, 1);
	print_misses(small, "loss test");
	printf("# loss test: pty gave %zu bytes, delivered %zu, counted lost %llu in %llu events\n",
	       got.len, C.out.len, (unsigned long long)ks.lost_bytes,
	       (unsigned long long)ks.lost_events);
	kt_loader_close(small);
	free(got.p);
}

/*
 * KT_F_AFTER_LOSS: a 64 KiB ring left unread through a first flood (records
 * lost), drained, then a second flood.  The records that reach the ring,
 * cut into runs at each flagged one (what the recorder may coalesce), are
 * laid over what the pty gave, in order: a run must be contiguous there (no
 * hole inside it: every hole is followed by a flagged record), a run after
 * a hole must start flagged, and a flagged run must follow a hole (one
 * writer: the order is exact).  A run is placed at its first match after
 * the previous one: seq's lines are unique, so a run of 16 bytes or more
 * has one place; shorter ones (a lone "\r\n" record between two losses)
 * are not placed, and the next run may then follow a hole or not.
 */
static void t_loss_flagged(void)
{
	struct kt_loader *small;
	struct kt_fx_buf got = {0};
	struct kt_session ks;
	size_t j = 0, nrec, nruns = 0, short_runs = 0, holes = 0, hole_inside = 0, hole_unflagged = 0,
	       flag_no_hole = 0;
	bool drained, flag_before = false;

	/* unread through the first flood; drained and read as it goes from
	 * its last line on (the second waits a second) */
	small = flood("sleep 0.3; seq 1 100000; sleep 1; seq 100001 130000; /bin/echo flood-done",
		      "\n100000\r\n", &got, &drained, &ks);
	if (!small)
		return;
	CHECK(drained);
	nrec = C.recs.len / sizeof(struct out_rec);
	for (size_t i = 0, e; i < nrec; i = e) {
		const struct out_rec *r = (const struct out_rec *)C.recs.p;
		const char *d = C.out.p + r[i].off, *at;
		size_t len;

		/* a run: a flagged record (or the first) and the unflagged
		 * ones after it, contiguous in `out` */
		for (e = i + 1; e < nrec && !r[e].after_loss; e++)
			;
		len = r[e - 1].off + r[e - 1].len - r[i].off;
		nruns++;
		if (len < 16) {
			/* "\r\n" alone (n_tty writes it apart from the
			 * line): it fits in too many places to place */
			short_runs++;
			flag_before = true;
			continue;
		}
		if (j + len <= got.len && !memcmp(got.p + j, d, len)) {
			if (r[i].after_loss && !flag_before && flag_no_hole++ < 3)
				printf("# run at record %zu (%zu bytes at client offset %zu) flagged, no hole before it\n",
				       i, len, j);
			j += len;
			flag_before = false;
			continue;
		}
		at = memmem(got.p + j, got.len - j, d, len);
		if (!at) {
			/* a hole inside the run: bytes lost with no flag after */
			printf("# run at record %zu (%zu bytes, %zu records) not in the client's bytes "
			       "after offset %zu: a hole inside it\n", i, len, e - i, j);
			hole_inside++;
			break;
		}
		holes++;
		if (i && !r[i].after_loss && !flag_before && hole_unflagged++ < 3)
			printf("# run at record %zu (%zu bytes) after a hole of %zu bytes at offset %zu: not flagged\n",
			       i, len, (size_t)(at - got.p) - j, j);
		j = (size_t)(at - got.p) + len;
		flag_before = false;
	}
	printf("# loss flag: %zu records in %zu runs (%zu too short to place), %llu flagged, %zu holes "
	       "found (%zu bytes after the last run), %llu bytes lost in %llu events\n", nrec, nruns,
	       short_runs, (unsigned long long)C.nflagged, holes, got.len - j,
	       (unsigned long long)ks.lost_bytes, (unsigned long long)ks.lost_events);
	CHECK(holes > 0); /* the second flood was recorded after the loss */
	CHECK_EQ_INT(hole_inside, 0);
	CHECK_EQ_INT(hole_unflagged, 0);
	CHECK_EQ_INT(flag_no_hole, 0);
	CHECK(C.nflagged > 0 && C.nflagged <= ks.lost_events);
	CHECK(memmem(C.out.p, C.out.len, "flood-done", 10) != NULL);
	kt_loader_close(small);
	free(got.p);
}

#endif /* KT_TEST_CAPTURE_LOSS_H */
