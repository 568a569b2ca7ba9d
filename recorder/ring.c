// SPDX-License-Identifier: Apache-2.0
/*
 * The ring layout is the kernel's (kernel/bpf/ringbuf.c), the same libbpf
 * maps in ringbuf.c: page 0 holds consumer_pos (writable by user space),
 * page 1 producer_pos, then the data area mapped twice so a record that
 * wraps is contiguous.  Each record has an 8-byte header: length with a
 * BUSY bit (still being written) and a DISCARD bit, then the data, padded
 * to 8 bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "ring.h"

#define HDR_SZ 8u
#define BUSY_BIT (1u << 31)
#define DISCARD_BIT (1u << 30)

struct kt_ring {
	unsigned long *consumer; /* page 0, read-write */
	unsigned long *producer; /* page 1, read-only */
	char *data;              /* 2 * size, read-only */
	size_t size, page;
	uint64_t read_pos;
};

int kt_ring_open(int map_fd, struct kt_ring **out)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct kt_ring *r;
	void *p;
	int err;

	*out = NULL;
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->page = (size_t)sysconf(_SC_PAGESIZE);
	r->size = info.max_entries;
	p = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		goto cleanup;
	}
	r->consumer = p;
	p = mmap(NULL, r->page + 2 * r->size, PROT_READ, MAP_SHARED, map_fd, r->page);
	if (p == MAP_FAILED) {
		err = -errno;
		goto cleanup;
	}
	r->producer = p;
	r->data = (char *)p + r->page;
	r->read_pos = __atomic_load_n(r->consumer, __ATOMIC_ACQUIRE);
	*out = r;
	return 0;
cleanup:
	kt_ring_close(r);
	return err;
}

void kt_ring_close(struct kt_ring *r)
{
	if (!r)
		return;
	if (r->consumer)
		munmap(r->consumer, r->page);
	if (r->producer)
		munmap(r->producer, r->page + 2 * r->size);
	free(r);
}

static uint32_t roundup_len(uint32_t len)
{
	len &= ~(BUSY_BIT | DISCARD_BIT);
	return (len + HDR_SZ + 7) & ~7u;
}

int kt_ring_read(struct kt_ring *r, kt_ring_cb cb, void *ctx, size_t max_bytes)
{
	uint64_t start = r->read_pos, prod;
	int n = 0;

	prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
	while (r->read_pos < prod) {
		uint32_t *hdr = (uint32_t *)(r->data + (r->read_pos & (r->size - 1)));
		uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);

		if (len & BUSY_BIT)
			break;
		if (max_bytes && r->read_pos - start >= max_bytes)
			break;
		if (!(len & DISCARD_BIT)) {
			int err = cb(ctx, (char *)hdr + HDR_SZ, len & ~(BUSY_BIT | DISCARD_BIT));

			if (err < 0)
				return n; /* stopped by the caller: re-read later */
			n++;
		}
		r->read_pos += roundup_len(len);
		if (r->read_pos >= prod)
			prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
	}
	return n;
}

void kt_ring_consume(struct kt_ring *r)
{
	__atomic_store_n(r->consumer, (unsigned long)r->read_pos, __ATOMIC_RELEASE);
}

void kt_ring_rewind(struct kt_ring *r)
{
	r->read_pos = __atomic_load_n(r->consumer, __ATOMIC_ACQUIRE);
}

int kt_ring_skip_to(struct kt_ring *r, uint64_t pos)
{
	uint64_t cons = __atomic_load_n(r->consumer, __ATOMIC_ACQUIRE);
	uint64_t prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);

	if (pos == cons)
		return 0;
	if (pos < cons || pos > prod)
		return -ERANGE;
	r->read_pos = pos;
	kt_ring_consume(r);
	return 1;
}

uint64_t kt_ring_read_pos(const struct kt_ring *r)
{
	return r->read_pos;
}

uint64_t kt_ring_consumer_pos(const struct kt_ring *r)
{
	return __atomic_load_n(r->consumer, __ATOMIC_ACQUIRE);
}

uint64_t kt_ring_producer_pos(const struct kt_ring *r)
{
	return __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
}

size_t kt_ring_size(const struct kt_ring *r)
{
	return r->size;
}

uint64_t kt_ring_held(const struct kt_ring *r)
{
	return r->read_pos - kt_ring_consumer_pos(r);
}
