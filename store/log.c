// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include "log.h"

static const char *log_prog = "kubetape";
static enum kt_log_level log_level = KT_LOG_INFO;
static const char *const names[] = { "error", "warn", "info", "debug" };

void kt_log_init(const char *prog, enum kt_log_level level)
{
	if (prog)
		log_prog = prog;
	log_level = level;
}

int kt_log_parse_level(const char *s)
{
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (s && strcmp(s, names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

enum kt_log_level kt_log_get_level(void) { return log_level; }

void kt_vlog(enum kt_log_level lvl, const char *fmt, va_list ap)
{
	char stackbuf[2048], *msg = stackbuf;
	va_list ap2;
	int len;
	size_t n;

	if (lvl > log_level)
		return;
	/* libbpf hands over whole verifier logs as one message: no clipping */
	va_copy(ap2, ap);
	len = vsnprintf(stackbuf, sizeof(stackbuf), fmt, ap);
	if (len >= (int)sizeof(stackbuf)) {
		msg = malloc((size_t)len + 1);
		if (msg)
			vsnprintf(msg, (size_t)len + 1, fmt, ap2);
		else
			msg = stackbuf;
	}
	va_end(ap2);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = 0;
	fprintf(stderr, "%s: %s: %s\n", log_prog, names[lvl], msg);
	if (msg != stackbuf)
		free(msg);
}

void kt_log(enum kt_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kt_vlog(lvl, fmt, ap);
	va_end(ap);
}
