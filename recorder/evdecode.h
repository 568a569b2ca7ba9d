/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checks of ring-buffer events (bpf/events.h) before the recorder reads
 * them.  The ring buffer tells how many bytes it delivered; everything
 * inside the event (hdr.size, string lengths, data lengths) is only a claim
 * and is checked against that.  No BPF needed: unit-tested and fuzzed
 * (tests/fuzz/fuzz_evdecode.c).
 *
 * 0 when well formed, -EBADMSG otherwise; nothing is allocated.
 */
#ifndef KUBETAPE_EVDECODE_H
#define KUBETAPE_EVDECODE_H

#include <stddef.h>
#include <stdint.h>

#include "events.h"

/*
 * Any event: the header fits, hdr.size is within what the ring delivered
 * (`size`) and at least the fixed part of its type; variable parts (exec
 * strings, data bytes) lie within hdr.size.  An unknown type passes with
 * only the header checked (a newer BPF object; the caller counts it).
 */
int kt_ev_check(const void *data, size_t size);

/* The strings of an exec event, inside the event. */
struct kt_ev_exec_strs {
	const char *filename, *argv, *cwd; /* cwd "" when not had */
	uint32_t filename_len, argv_len, cwd_len;
};

/*
 * An exec event delivered as `size` bytes: hdr.size within it, filename,
 * argv and cwd within hdr.size, filename and cwd NUL-terminated (filename non-empty);
 * argv is argv_len bytes (a truncated one may lack its last NUL).  Fills *x
 * on success.
 */
int kt_ev_exec_decode(const struct kt_ev_exec *e, size_t size, struct kt_ev_exec_strs *x);

#endif
