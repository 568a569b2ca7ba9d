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
 * A ring buffer too small for a flood: whatever is not delivered must be
 * counted, exactly, in the session's and the global counters.
 */
static void t_loss_counted(void)
{
	struct kt_loader_opts o = { .capture = capture, .capture_input = true,
				    .ringbuf_bytes = 64 << 10, .sys_exit = sys_exit_via };
	struct kt_loader *small = NULL;
	struct kt_fx_buf got = {0};
	uint64_t k[KT_STAT_MAX];
	struct kt_session ks;
	int master, st, err;
	pid_t helper, leader;

	kt_loader_close(L);
	L = NULL;
	reset();
	err = kt_loader_open(&o, on_event, NULL, &small);
	CHECK_EQ_INT(err, 0);
	if (err)
		return;
	CHECK_EQ_INT(kt_loader_capture_up(small), 0);
	helper = enter_ns(ns_init, "sleep 0.3; seq 1 300000; /bin/echo flood-done", &master, &leader, 24, 80);
	C.leader = leader;
	kt_loader_poll(small, 200); /* deliver the session start */
	pump(small, master, &got, NULL, NULL, false, true);
	close(master);
	waitpid(helper, &st, 0);
	settle(small);
	CHECK_EQ_INT(C.starts, 1);
	CHECK(kt_loader_session_lookup(small, C.sid, &ks) == 0);
	CHECK(ks.lost_bytes > 0);
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
 * lost), drained, then a second flood: the records that reach the ring are
 * laid over what the pty gave, in order; every hole (bytes the ring did not
 * take) must be followed by a record carrying the flag, and no record
 * without a hole before it may carry it (one writer: the order is exact).
 * A record placed by its first match after the previous one (seq's lines
 * are unique, so a record of more than a line has one place).
 */
static void t_loss_flagged(void)
{
	struct kt_loader_opts o = { .capture = capture, .capture_input = true,
				    .ringbuf_bytes = 64 << 10, .sys_exit = sys_exit_via };
	const char *script = "sleep 0.3; seq 1 100000; sleep 1; seq 100001 130000; /bin/echo flood-done";
	struct kt_loader *small = NULL;
	struct kt_fx_buf got = {0};
	struct kt_session ks;
	size_t j = 0, nrec, holes = 0, hole_unflagged = 0, flag_no_hole = 0, misplaced = 0;
	int master, st, err;
	bool drained = false;
	pid_t helper, leader;

	kt_loader_close(L);
	L = NULL;
	reset();
	err = kt_loader_open(&o, on_event, NULL, &small);
	CHECK_EQ_INT(err, 0);
	if (err)
		return;
	CHECK_EQ_INT(kt_loader_capture_up(small), 0);
	helper = enter_ns(ns_init, script, &master, &leader, 24, 80);
	C.leader = leader;
	kt_loader_poll(small, 200); /* deliver the session start */
	for (;;) {
		char b[65536];
		ssize_t n = read(master, b, sizeof(b));

		if (n <= 0)
			break;
		kt_fx_buf_add(&got, b, n);
		/* unread through the first flood; drained and read as it
		 * goes from its last line on (the second waits a second) */
		if (!drained && memmem(got.p, got.len, "\n100000\r\n", 9))
			drained = true;
		if (drained)
			kt_loader_poll(small, 0);
	}
	close(master);
	waitpid(helper, &st, 0);
	settle(small);
	CHECK(drained);
	CHECK_EQ_INT(C.starts, 1);
	CHECK(kt_loader_session_lookup(small, C.sid, &ks) == 0);
	CHECK(ks.lost_bytes > 0);
	nrec = C.recs.len / sizeof(struct out_rec);
	for (size_t i = 0; i < nrec; i++) {
		const struct out_rec *r = (const struct out_rec *)C.recs.p + i;
		const char *d = C.out.p + r->off, *at;

		if (j + r->len <= got.len && !memcmp(got.p + j, d, r->len)) {
			if (r->after_loss && flag_no_hole++ < 3)
				printf("# record %zu (%zu bytes at client offset %zu) flagged, no hole before it\n",
				       i, r->len, j);
			j += r->len;
			continue;
		}
		at = memmem(got.p + j, got.len - j, d, r->len);
		if (!at) {
			misplaced++;
			break;
		}
		holes++;
		if (!r->after_loss && hole_unflagged++ < 3)
			printf("# record %zu (%zu bytes) after a hole of %zu bytes at offset %zu: not flagged\n",
			       i, r->len, (size_t)(at - got.p) - j, j);
		j = (size_t)(at - got.p) + r->len;
	}
	printf("# loss flag: %zu records, %llu flagged, %zu holes inside (%zu bytes after the last), "
	       "%llu bytes lost in %llu events\n", nrec, (unsigned long long)C.nflagged, holes,
	       got.len - j, (unsigned long long)ks.lost_bytes, (unsigned long long)ks.lost_events);
	CHECK_EQ_INT(misplaced, 0);
	CHECK(holes > 0); /* the second flood was recorded after the loss */
	CHECK_EQ_INT(hole_unflagged, 0);
	CHECK_EQ_INT(flag_no_hole, 0);
	CHECK_EQ_INT(C.nflagged, holes);
	CHECK(memmem(C.out.p, C.out.len, "flood-done", 10) != NULL);
	kt_loader_close(small);
	free(got.p);
}

#endif /* KT_TEST_CAPTURE_LOSS_H */
