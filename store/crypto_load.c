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
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "evidence_int.h"
#include "log.h"

#define KT_CRYPTO_SONAME "libcrypto.so.3"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct kt_evp evp;
static bool loaded;
static char load_msg[256];

static void load(void)
{
	struct { const char *name; void **p; } syms[] = {
		{ "EVP_MD_fetch", (void **)&evp.md_fetch },
		{ "EVP_MD_free", (void **)&evp.md_free },
		{ "EVP_MD_CTX_new", (void **)&evp.ctx_new },
		{ "EVP_MD_CTX_free", (void **)&evp.ctx_free },
		{ "EVP_DigestInit_ex2", (void **)&evp.init },
		{ "EVP_DigestUpdate", (void **)&evp.update },
		{ "EVP_DigestFinal_ex", (void **)&evp.final },
		{ "EVP_Digest", (void **)&evp.digest },
		{ "EVP_sha256", (void **)&evp.sha256 },
	};
	const char *e;
	void *h;

	h = dlopen(KT_CRYPTO_SONAME, RTLD_LAZY | RTLD_LOCAL);
	if (!h) {
		e = dlerror();
		snprintf(load_msg, sizeof(load_msg), "cannot load %s (OpenSSL 3, Debian package "
			 "libssl3) for the SHA-256 chain: %s", KT_CRYPTO_SONAME, e ? e : "?");
		return;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].p = dlsym(h, syms[i].name);
		if (!*syms[i].p) {
			snprintf(load_msg, sizeof(load_msg), "%s has no %s: OpenSSL 3 is needed",
				 KT_CRYPTO_SONAME, syms[i].name);
			/* handle kept: unloading a library with constructors is not
			 * worth the risk */
			return;
		}
	}
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
