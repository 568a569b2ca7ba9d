// SPDX-License-Identifier: Apache-2.0
/*
 * Seed replayer for libFuzzer targets, linked instead of libFuzzer when the
 * targets are built without FUZZ=1 (as sudo and others do): every file given,
 * or every regular file in every directory given, goes once through
 * LLVMFuzzerTestOneInput.  Each input is copied into a buffer of exactly its
 * size, so an ASan build (make SAN=1) catches a read one byte past the end.
 *
 *   build/tests/fuzz_frame tests/fuzz/corpus/fuzz_frame/ [more files/dirs]
 *
 * With no argument it replays tests/fuzz/corpus/<program name>/.  Prints
 * "PASS <name> (<n> inputs)"; a target that crashes takes the process down
 * (which is the failure report), and no inputs at all is a FAIL.
 *
 * A real fuzzer from the same target (clang only):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Istore \
 *     tests/fuzz/fuzz_frame.c store/[a-z]*.c -o fuzz_frame -lsqlite3 -lzstd
 *   ./fuzz_frame -max_total_time=60 tests/fuzz/corpus/fuzz_frame/
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Inputs larger than this are a corpus mistake, not a seed. */
#define KT_MAX_INPUT (16u << 20)

static const char *prog = "fuzz";
static unsigned long ninputs;

static int run_file(const char *path)
{
	struct stat sb;
	uint8_t *buf = NULL;
	FILE *f;
	int err = 0;

	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &sb) < 0) {
		err = -errno;
		fprintf(stderr, "FAIL %s: %s: %s\n", prog, path, strerror(errno));
		goto cleanup;
	}
	if ((uint64_t)sb.st_size > KT_MAX_INPUT) {
		fprintf(stderr, "FAIL %s: %s: larger than %u bytes\n", prog, path, KT_MAX_INPUT);
		err = -EFBIG;
		goto cleanup;
	}
	/* malloc(0) may return NULL; give the target a valid pointer anyway */
	buf = malloc(sb.st_size ? (size_t)sb.st_size : 1);
	if (!buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (sb.st_size && fread(buf, 1, sb.st_size, f) != (size_t)sb.st_size) {
		fprintf(stderr, "FAIL %s: %s: short read\n", prog, path);
		err = -EIO;
		goto cleanup;
	}
	LLVMFuzzerTestOneInput(buf, (size_t)sb.st_size);
	ninputs++;
cleanup:
	free(buf);
	if (f)
		fclose(f);
	return err;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular files of one directory, in name order (reproducible runs). */
static int run_dir(const char *dir)
{
	struct dirent *de;
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0;
	int err = 0;
	DIR *d;

	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "FAIL %s: %s: %s\n", prog, dir, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **p = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));

			if (!p) {
				err = -ENOMEM;
				goto cleanup;
			}
			names = p;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			err = -ENOMEM;
			goto cleanup;
		}
		n++;
	}
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n && !err; i++) {
		struct stat sb;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
			err = run_file(path);
	}
cleanup:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return err;
}

int main(int argc, char **argv)
{
	char defdir[512];
	const char *slash;
	int err = 0;

	slash = strrchr(argv[0], '/');
	prog = slash ? slash + 1 : argv[0];
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);

	if (argc < 2) {
		snprintf(defdir, sizeof(defdir), "tests/fuzz/corpus/%s", prog);
		err = run_dir(defdir);
	}
	for (int i = 1; i < argc && !err; i++) {
		struct stat sb;

		if (stat(argv[i], &sb) < 0) {
			fprintf(stderr, "FAIL %s: %s: %s\n", prog, argv[i], strerror(errno));
			err = -errno;
		} else if (S_ISDIR(sb.st_mode)) {
			err = run_dir(argv[i]);
		} else {
			err = run_file(argv[i]);
		}
	}
	if (err)
		return 1;
	if (!ninputs) {
		printf("FAIL %s: no inputs\n", prog);
		return 1;
	}
	printf("PASS %s (%lu inputs)\n", prog, ninputs);
	return 0;
}
