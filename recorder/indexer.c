// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "indexer.h"
#include "log.h"
#include "store.h"

#define IDLE_MS 500          /* how often to look for new output */
#define BUDGET (1u << 20)    /* output bytes per call: short store locks */
#define NICE 10

struct kt_indexer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct kt_store *st;
	bool stop;
	int64_t deadline_us;     /* after stop: finish work until then */
	bool more;               /* a session had more to index this round */
};

static bool stopping(struct kt_indexer *ix)
{
	bool s;

	pthread_mutex_lock(&ix->lock);
	s = ix->stop && kt_now_us() >= ix->deadline_us;
	pthread_mutex_unlock(&ix->lock);
	return s;
}

static int index_one(int64_t id, void *ctx)
{
	struct kt_indexer *ix = ctx;
	int r;

	/* one budget per session per round: a flooding session cannot starve
	 * the others' keyframes */
	r = kt_index_session(ix->st, id, BUDGET);
	if (r > 0)
		ix->more = true;
	if (r < 0)
		pr_warn("indexer: session %lld: %s", (long long)id, strerror(-r));
	return stopping(ix) ? 1 : 0;
}

static void *run(void *arg)
{
	struct kt_indexer *ix = arg;

	pthread_setname_np(pthread_self(), "kt-indexer");
	/* Linux: per-thread nice value, so capture keeps the CPU under load */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), NICE);
	for (;;) {
		struct timespec ts;
		bool stop;

		ix->more = false;
		kt_index_pending(ix->st, index_one, ix);

		pthread_mutex_lock(&ix->lock);
		stop = ix->stop;
		if (stop && (kt_now_us() >= ix->deadline_us || !ix->more)) {
			pthread_mutex_unlock(&ix->lock);
			break;
		}
		if (!stop && !ix->more) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += IDLE_MS * 1000000L;
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&ix->cond, &ix->lock, &ts);
		}
		pthread_mutex_unlock(&ix->lock);
	}
	return NULL;
}

int kt_indexer_start(const char *db, struct kt_indexer **out)
{
	struct kt_indexer *ix = calloc(1, sizeof(*ix));
	int err;

	*out = NULL;
	if (!ix)
		return -ENOMEM;
	pthread_mutex_init(&ix->lock, NULL);
	pthread_cond_init(&ix->cond, NULL);
	err = kt_store_open(db, 0, &ix->st);
	if (err)
		goto cleanup;
	err = -pthread_create(&ix->thread, NULL, run, ix);
	if (err) {
		pr_err("cannot start the indexer thread: %s", strerror(-err));
		goto cleanup;
	}
	*out = ix;
	return 0;
cleanup:
	kt_store_close(ix->st);
	pthread_cond_destroy(&ix->cond);
	pthread_mutex_destroy(&ix->lock);
	free(ix);
	return err;
}

void kt_indexer_stop(struct kt_indexer *ix, int grace_ms)
{
	if (!ix)
		return;
	pthread_mutex_lock(&ix->lock);
	ix->stop = true;
	ix->deadline_us = kt_now_us() + (int64_t)grace_ms * 1000;
	pthread_cond_signal(&ix->cond);
	pthread_mutex_unlock(&ix->lock);
	pthread_join(ix->thread, NULL);
	kt_store_close(ix->st);
	pthread_cond_destroy(&ix->cond);
	pthread_mutex_destroy(&ix->lock);
	free(ix);
}
