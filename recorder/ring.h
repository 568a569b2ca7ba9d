/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A BPF ring-buffer consumer that separates reading from consuming.
 *
 * libbpf's ring_buffer__consume() advances the kernel's consumer position
 * as soon as a record has been handed to the callback.  A recorder killed
 * after that but before its database commit loses those records for good.
 * Here a record is only *read* (read_pos moves); the space goes back to the
 * kernel (consumer_pos moves) when the caller says the records are durable
 * (kt_ring_consume), i.e. after its commit.  After a crash the next process
 * re-reads everything not consumed, so the ring is the recorder's write-ahead
 * log; the caller stores read_pos in the same transaction as the data so a
 * crash between commit and consume cannot duplicate records
 * (kt_ring_skip_to).  While records are held, the kernel sees less free
 * space: a full ring is counted as loss by the BPF side, per session.
 */
#ifndef KUBETAPE_RING_H
#define KUBETAPE_RING_H

#include <stddef.h>
#include <stdint.h>

struct kt_ring;

typedef int (*kt_ring_cb)(void *ctx, void *data, size_t size);

/* map_fd: a BPF_MAP_TYPE_RINGBUF (the fd is not owned). */
int kt_ring_open(int map_fd, struct kt_ring **out);
void kt_ring_close(struct kt_ring *r);

/*
 * Hand records from read_pos on to cb until the ring is empty, a record is
 * still being written, or `max_bytes` (0 = no limit) were read.  A negative
 * cb return stops the read before that record (it is re-read next time,
 * after a kt_ring_rewind).  Returns the number of records handed over.
 */
int kt_ring_read(struct kt_ring *r, kt_ring_cb cb, void *ctx, size_t max_bytes);
/* Give everything read so far back to the kernel. */
void kt_ring_consume(struct kt_ring *r);
/* Forget what was read and not consumed: it will be read again. */
void kt_ring_rewind(struct kt_ring *r);
/*
 * Consume up to `pos` if it lies between the consumer and the producer
 * position (records a previous process committed but did not consume);
 * 1 if it moved, 0 if nothing to skip, -ERANGE if pos is not in the ring.
 */
int kt_ring_skip_to(struct kt_ring *r, uint64_t pos);

uint64_t kt_ring_read_pos(const struct kt_ring *r);
uint64_t kt_ring_consumer_pos(const struct kt_ring *r);
uint64_t kt_ring_producer_pos(const struct kt_ring *r);
size_t kt_ring_size(const struct kt_ring *r);
/* Bytes read but not yet consumed. */
uint64_t kt_ring_held(const struct kt_ring *r);

#endif
