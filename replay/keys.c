// SPDX-License-Identifier: Apache-2.0
/* Decoding replay keys from raw terminal input (see keys.h). */
#include "keys.h"

enum { K_GROUND, K_ESC, K_CSI, K_SS3 };

/* A CSI longer than this is garbage (or a paste): swallowed to its end. */
#define CSI_MAX 16

void kt_keys_init(struct kt_keys *k)
{
	k->state = K_GROUND;
	k->csi_len = 0;
}

bool kt_keys_pending(const struct kt_keys *k)
{
	return k->state != K_GROUND;
}

void kt_keys_timeout(struct kt_keys *k)
{
	kt_keys_init(k);
}

static enum kt_key plain(unsigned char c)
{
	switch (c) {
	case ' ': return KT_KEY_PAUSE;
	case '+': case '=': return KT_KEY_FASTER; /* '=' is '+' unshifted */
	case '-': case '_': return KT_KEY_SLOWER;
	case '.': return KT_KEY_STEP;
	case ']': return KT_KEY_NEXT_CMD;
	case '[': return KT_KEY_PREV_CMD;
	case 'q': case 'Q': return KT_KEY_QUIT;
	default: return KT_KEY_NONE;
	}
}

static enum kt_key arrow(unsigned char final)
{
	if (final == 'C')
		return KT_KEY_FORWARD;
	if (final == 'D')
		return KT_KEY_BACK;
	return KT_KEY_NONE;
}

size_t kt_keys_feed(struct kt_keys *k, const void *buf, size_t len,
		    enum kt_key *out, size_t max)
{
	const unsigned char *p = buf;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		enum kt_key key = KT_KEY_NONE;

		switch (k->state) {
		case K_GROUND:
			if (c == 0x1b)
				k->state = K_ESC;
			else
				key = plain(c);
			break;
		case K_ESC:
			if (c == '[') {
				k->state = K_CSI;
				k->csi_len = 0;
			} else if (c == 'O') {
				k->state = K_SS3;
			} else if (c == 0x1b) {
				/* ESC ESC: the first was a lone Escape */
			} else {
				/* Alt+key: the key alone */
				k->state = K_GROUND;
				key = plain(c);
			}
			break;
		case K_CSI:
			/* parameters and intermediates until a final byte 0x40-0x7e */
			if (c >= 0x40 && c <= 0x7e) {
				if (k->csi_len <= CSI_MAX)
					key = arrow(c);
				k->state = K_GROUND;
			} else if (c < 0x20 || c > 0x3f) {
				/* not a CSI byte: abandon the sequence, reread c */
				k->state = K_GROUND;
				i--;
			} else {
				k->csi_len++;
			}
			break;
		case K_SS3:
			key = arrow(c);
			k->state = K_GROUND;
			break;
		}
		if (key != KT_KEY_NONE && n < max)
			out[n++] = key;
	}
	return n;
}
