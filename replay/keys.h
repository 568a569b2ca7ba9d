/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keys of `kubetape replay`, decoded from the bytes a terminal sends in raw
 * mode.  Pure (no I/O) so split escape sequences can be unit-tested.
 *
 *   space  pause/resume        +  faster (x2)       -  slower (/2)
 *   .      one frame (paused)  ]  next command      [  previous command
 *   right  +10 s (ESC [ C, ESC O C, with modifiers ESC [ 1 ; 5 C)
 *   left   -10 s (ESC [ D, ESC O D)                 q, Q  quit
 *
 * An escape sequence may arrive split over several reads; the decoder keeps
 * its state between kt_keys_feed() calls.  A lone ESC (the user pressed
 * Escape) is told apart from the start of a sequence only by time: the
 * caller calls kt_keys_timeout() when no byte followed within
 * KT_KEYS_ESC_MS, which drops it.  Unknown keys and sequences are ignored.
 */
#ifndef KUBETAPE_REPLAY_KEYS_H
#define KUBETAPE_REPLAY_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#define KT_KEYS_ESC_MS 50

enum kt_key {
	KT_KEY_NONE = 0,
	KT_KEY_QUIT,
	KT_KEY_PAUSE,
	KT_KEY_FASTER,
	KT_KEY_SLOWER,
	KT_KEY_STEP,
	KT_KEY_NEXT_CMD,
	KT_KEY_PREV_CMD,
	KT_KEY_FORWARD,   /* +10 s */
	KT_KEY_BACK,      /* -10 s */
};

struct kt_keys {
	int state;        /* ground, ESC, CSI, SS3 */
	size_t csi_len;   /* bytes of the CSI body seen (bounded) */
};

void kt_keys_init(struct kt_keys *k);
/*
 * Decodes buf; up to `max` keys go to out[] in order (extra keys in one
 * read are dropped: nobody types faster than a read).  Returns the count.
 */
size_t kt_keys_feed(struct kt_keys *k, const void *buf, size_t len,
		    enum kt_key *out, size_t max);
/* True while an ESC or an unfinished sequence is pending. */
bool kt_keys_pending(const struct kt_keys *k);
/* No more bytes came: a pending lone ESC or cut sequence is dropped. */
void kt_keys_timeout(struct kt_keys *k);

#endif
