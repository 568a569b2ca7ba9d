// SPDX-License-Identifier: Apache-2.0
/*
 * libcrypto (OpenSSL 3), loaded when a SHA-256 chain (version 2) is first
 * hashed (dlopen) rather than linked into every program that links the
 * store.
 *
 * Why: the chain's SHA-256 (chain.c) is OpenSSL's, for its speed on the
 * recorder's append path, and is the only libcrypto use in the store.
 * Linked, libcrypto is loaded and relocated at every process start (~17,000
 * relative and ~4,200 symbol relocations, most of the dynamic loader's
 * work): ~0.8 ms of the ~2.2 ms of `kubetape --help` and of every CLI read
 * on the bench machine, although only appending to or verifying a version 2
 * chain, and signing or checking a checkpoint, hash with it.  `sessions`,
 * `show`, `search` and `replay` no longer pay it.
 *
 * How: kt_evp() opens libcrypto.so.3 once (pthread_once) and returns the
 * functions chain.c calls, or NULL after logging why (the callers then fail
 * the step: no head is written from a hash that was not computed).  Limit:
 * the soname is libcrypto.so.3 (OpenSSL 3's ABI; the headers are
 * libssl-dev's); a program that links libcrypto anyway (web/, through
 * libwebsockets) gets the copy already loaded.
 */
#include <errno.h>
#include <pthread.h>

#include "dl_load.h"
#include "evidence_int.h"
#include "log.h"

#define KT_CRYPTO_SONAME "libcrypto.so.3"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct kt_evp evp;
static bool loaded;
static char load_msg[256];

static void load(void)
{
	static const char *const names[] = {
		"EVP_MD_fetch", "EVP_MD_free", "EVP_MD_CTX_new", "EVP_MD_CTX_free",
		"EVP_DigestInit_ex2", "EVP_DigestUpdate", "EVP_DigestFinal_ex",
		"EVP_Digest", "EVP_sha256",
	};
	void *syms[sizeof(names) / sizeof(names[0])];

	if (kt_dl_load(KT_CRYPTO_SONAME, "OpenSSL 3, Debian package libssl3, for the "
		       "SHA-256 chain", names, syms, sizeof(names) / sizeof(names[0]),
		       load_msg, sizeof(load_msg)))
		return;
	/* in the order of names[] */
	evp.md_fetch = syms[0];
	evp.md_free = syms[1];
	evp.ctx_new = syms[2];
	evp.ctx_free = syms[3];
	evp.init = syms[4];
	evp.update = syms[5];
	evp.final = syms[6];
	evp.digest = syms[7];
	evp.sha256 = syms[8];
	loaded = true;
}

const struct kt_evp *kt_evp(void)
{
	pthread_once(&once, load);
	if (loaded)
		return &evp;
	pr_err("store: %s", load_msg);
	errno = ELIBACC;
	return NULL;
}
