// SPDX-License-Identifier: Apache-2.0
/* One dlopen-and-resolve for the libraries the store loads on first use
 * (dl_load.h says why they are not linked). */
#include <assert.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "dl_load.h"

int kt_dl_load(const char *soname, const char *need, const char *pkg, const char *const *names,
	       void **syms, size_t n, char *msg, size_t msgsz)
{
	const char *e;
	void *h;

	assert(soname && need && pkg && names && syms && msg && msgsz);
	h = dlopen(soname, RTLD_LAZY | RTLD_LOCAL);
	if (!h) {
		e = dlerror();
		snprintf(msg, msgsz, "cannot load %s (%s, Debian package %s): %s", soname, need, pkg,
			 e ? e : "?");
		return -ENOENT;
	}
	for (size_t i = 0; i < n; i++) {
		syms[i] = dlsym(h, names[i]);
		if (!syms[i]) {
			snprintf(msg, msgsz, "%s has no %s: %s is needed (Debian package %s)", soname,
				 names[i], need, pkg);
			return -ENOSYS;
		}
	}
	return 0;
}
