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
#include <stddef.h>
#include <string.h>
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
	/* name and field side by side: a reordered or added line cannot
	 * bind a symbol to another field */
	static const struct { const char *name; size_t off; } tab[] = {
		{ "EVP_MD_fetch", offsetof(struct kt_evp, md_fetch) },
		{ "EVP_MD_free", offsetof(struct kt_evp, md_free) },
		{ "EVP_MD_CTX_new", offsetof(struct kt_evp, ctx_new) },
		{ "EVP_MD_CTX_free", offsetof(struct kt_evp, ctx_free) },
		{ "EVP_DigestInit_ex2", offsetof(struct kt_evp, init) },
		{ "EVP_DigestUpdate", offsetof(struct kt_evp, update) },
		{ "EVP_DigestFinal_ex", offsetof(struct kt_evp, final) },
		{ "EVP_Digest", offsetof(struct kt_evp, digest) },
		{ "EVP_sha256", offsetof(struct kt_evp, sha256) },
	};
	enum { N = sizeof(tab) / sizeof(tab[0]) };
	/* every field of struct kt_evp is one function pointer of tab[] */
	_Static_assert(sizeof(struct kt_evp) == N * sizeof(void (*)(void)),
		       "struct kt_evp and tab[] differ");
	const char *names[N];
	void *syms[N];

	for (size_t i = 0; i < N; i++)
		names[i] = tab[i].name;
	if (kt_dl_load(KT_CRYPTO_SONAME, "OpenSSL 3", "libssl3", names, syms, N, load_msg,
		       sizeof(load_msg)))
		return;
	for (size_t i = 0; i < N; i++)
		memcpy((char *)&evp + tab[i].off, &syms[i], sizeof(syms[i]));
	loaded = true;
}

const struct kt_evp *kt_evp(void)
{
	pthread_once(&once, load);
	if (loaded)
		return &evp;
	pr_err("store: the SHA-256 chain: %s", load_msg);
	errno = ELIBACC;
	return NULL;
}
