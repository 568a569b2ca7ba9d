// SPDX-License-Identifier: Apache-2.0
/*
 * kt_dl_load (store/dl_load.c): the one loader of the libraries the store
 * opens on first use (libcrypto, libpq).  A missing library and a library
 * too old for a symbol each give one sentence naming what is missing and
 * what would provide it, and distinct errors (-ENOENT, -ENOSYS) the
 * callers report; a complete load fills every symbol.
 */
#include <errno.h>
#include <string.h>
#include "kt_test.h"
#include "dl_load.h"

static void t_missing_library(void)
{
	const char *const names[] = { "strlen" };
	void *syms[1] = { (void *)1 };
	char msg[256] = "";

	CHECK_EQ_INT(kt_dl_load("libkt-no-such-library.so.9", "kt 9", "kt-none", names, syms, 1,
				msg, sizeof(msg)), -ENOENT);
	CHECK(strstr(msg, "cannot load libkt-no-such-library.so.9 (kt 9, Debian package kt-none): "));
}

static void t_missing_symbol(void)
{
	const char *const names[] = { "strlen", "kt_no_such_function_v9" };
	void *syms[2] = { NULL, NULL };
	char msg[256] = "";

	CHECK_EQ_INT(kt_dl_load("libc.so.6", "glibc 99", "libc6", names, syms, 2, msg, sizeof(msg)),
		     -ENOSYS);
	CHECK_EQ_STR(msg, "libc.so.6 has no kt_no_such_function_v9: glibc 99 is needed (Debian package libc6)");
}

static void t_loaded(void)
{
	const char *const names[] = { "strlen", "memchr" };
	void *syms[2] = { NULL, NULL };
	char msg[64] = "untouched";
	size_t (*len)(const char *);

	CHECK_EQ_INT(kt_dl_load("libc.so.6", "glibc", "libc6", names, syms, 2, msg, sizeof(msg)), 0);
	CHECK(syms[0] && syms[1]);
	CHECK_EQ_STR(msg, "untouched");
	len = (size_t (*)(const char *))syms[0];
	CHECK_EQ_INT(len("kubetape"), 8);
}

int main(void)
{
	RUN(t_missing_library);
	RUN(t_missing_symbol);
	RUN(t_loaded);
	return kt_test_done();
}
