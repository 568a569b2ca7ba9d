/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KT_DL_LOAD_H
#define KT_DL_LOAD_H
#include <stddef.h>

/*
 * kt_dl_load — dlopen SONAME and resolve NAMES[0..N) into SYMS, for the
 * libraries the store loads on first use rather than links (libcrypto for
 * the SHA-256 chain, store/crypto_load.c; libpq for the cluster store,
 * store/pg/pq_load.c).  On failure writes one sentence to MSG naming what
 * was missing, NEED (the library and version, "OpenSSL 3") and PKG (the
 * Debian package that provides it), and returns -ENOENT (no library) or
 * -ENOSYS (a symbol missing: too old).  The handle
 * is never closed: unloading a library with constructors is not worth the
 * risk, and nothing else holds it.  Not thread-safe by itself: callers run
 * it under pthread_once.
 */
int kt_dl_load(const char *soname, const char *need, const char *pkg, const char *const *names,
	       void **syms, size_t n, char *msg, size_t msgsz);

#endif
