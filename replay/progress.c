// SPDX-License-Identifier: Apache-2.0
/* Progress bar on stderr (progress.h). */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "humanfmt.h"
#include "progress.h"

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void kt_progress_init(struct kt_progress *p, const char *label, uint64_t total, bool enable)
{
	memset(p, 0, sizeof(*p));
	p->on = enable;
	p->label = label;
	p->total = total;
	p->t0_us = mono_us();
	p->last_us = p->t0_us;
}

void kt_progress_format(const struct kt_progress *p, uint64_t done, int64_t elapsed_us,
			unsigned width, char *buf, size_t len)
{
	char d[16], t[16], r[16], eta[32] = "", bar[64];
	unsigned pct = 0, barw, fill;
	double rate = elapsed_us > 0 ? (double)done * 1e6 / (double)elapsed_us : 0;
	bool known = p->total && done < p->total;

	if (p->total)
		pct = known ? (unsigned)(done * 100 / p->total) : 99;
	if (known && rate >= 1) {
		uint64_t s = (uint64_t)((double)(p->total - done) / rate);

		if (s >= 3600)
			snprintf(eta, sizeof(eta), "  ETA %llu:%02llu:%02llu", (unsigned long long)(s / 3600),
				 (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
		else
			snprintf(eta, sizeof(eta), "  ETA %llu:%02llu", (unsigned long long)(s / 60),
				 (unsigned long long)(s % 60));
	}
	hf_bytes(done, d, sizeof(d));
	hf_bytes(p->total, t, sizeof(t));
	hf_bytes((uint64_t)rate, r, sizeof(r));
	/* the bar takes what the numbers leave, 10..40 cells, none when narrow */
	barw = width > 60 ? width - 60 : 0;
	if (barw > 40)
		barw = 40;
	if (barw >= 10) {
		fill = barw * pct / 100;
		bar[0] = '[';
		memset(bar + 1, '#', fill);
		memset(bar + 1 + fill, '.', barw - fill);
		bar[barw + 1] = ']';
		bar[barw + 2] = 0;
	} else {
		bar[0] = 0;
	}
	snprintf(buf, len, "%s  %s%s%3u%%  %s/%s  %s/s%s", p->label, bar, *bar ? "  " : "",
		 pct, d, t, r, eta);
}

static unsigned term_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
		return ws.ws_col;
	return 80;
}

void kt_progress_update(struct kt_progress *p, uint64_t done)
{
	char line[256];
	int64_t now;
	unsigned w;

	if (!p->on)
		return;
	now = mono_us();
	if (now - p->t0_us < KT_PROGRESS_DELAY_MS * 1000 ||
	    (p->drawn && now - p->last_us < KT_PROGRESS_EVERY_MS * 1000))
		return;
	p->last_us = now;
	w = term_width();
	kt_progress_format(p, done, now - p->t0_us, w, line, sizeof(line));
	if (strlen(line) >= w)  /* a wrapped line could not be redrawn with \r */
		line[w ? w - 1 : 0] = 0;
	fprintf(stderr, "\r%s\x1b[K", line);
	fflush(stderr);
	p->drawn = true;
}

void kt_progress_done(struct kt_progress *p)
{
	if (p->on && p->drawn) {
		fputs("\r\x1b[K", stderr);
		fflush(stderr);
	}
	p->drawn = false;
}
