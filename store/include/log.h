/* SPDX-License-Identifier: Apache-2.0 */
/* One logger with levels for every kubetape program (and libbpf, via
 * kt_log_libbpf).  Messages go to stderr as "prog: level: text". */
#ifndef KUBETAPE_LOG_H
#define KUBETAPE_LOG_H

#include <stdarg.h>

enum kt_log_level { KT_LOG_ERROR = 0, KT_LOG_WARN, KT_LOG_INFO, KT_LOG_DEBUG };

void kt_log_init(const char *prog, enum kt_log_level level);
/* "error", "warn", "info", "debug" -> level; -EINVAL otherwise */
int kt_log_parse_level(const char *s);
enum kt_log_level kt_log_get_level(void);
void kt_log(enum kt_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void kt_vlog(enum kt_log_level lvl, const char *fmt, va_list ap);

#define pr_err(...)   kt_log(KT_LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)  kt_log(KT_LOG_WARN, __VA_ARGS__)
#define pr_info(...)  kt_log(KT_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) kt_log(KT_LOG_DEBUG, __VA_ARGS__)

#endif
