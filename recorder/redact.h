/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Redaction of secrets in argv, applied by the recorder before a command is
 * stored, indexed or put into the signed stream.  A redacted argument keeps
 * its shape, with the secret part replaced by "[redacted:RULE]" naming the
 * rule that fired: FOO_TOKEN=xyz -> FOO_TOKEN=[redacted:token].
 *
 * Rules (built-in defaults, plus a file, see kt_redact_load):
 *   flag   NAME NAME-FLAG      --password=VALUE, or --password VALUE (next arg)
 *   env    NAME GLOB           NAME=VALUE args whose name matches GLOB
 *                              (fnmatch, case-insensitive): *TOKEN*=...
 *   prefix NAME PROG-GLOB PFX  for programs matching PROG-GLOB (basename of
 *                              argv[0]), an arg PFX+VALUE: mysql -pVALUE
 *   regex  NAME ERE            any match of ERE inside any arg (cloud keys)
 * The first rule that matches an argument fires (file rules come first).
 *
 * Limits: only argv is recorded, never the environment block of execve, so
 * "environment values" means NAME=VALUE arguments (env(1), kubectl set env,
 * docker -e).  Terminal output is evidence and is never rewritten: a secret
 * a program prints stays in the recording.
 */
#ifndef KUBETAPE_REDACT_H
#define KUBETAPE_REDACT_H

#include <stddef.h>

struct kt_redact;

/*
 * The built-in rules, plus the rules in `path` (NULL: none).  A line
 * "defaults off" drops the built-in rules.  A malformed line is one error
 * naming file:line (-EINVAL); a missing file -ENOENT.
 */
int kt_redact_load(const char *path, struct kt_redact **out);
void kt_redact_free(struct kt_redact *rd);

/*
 * Redact a NUL-separated argv (len bytes).  Returns 0 when nothing fired,
 * 1 with *out (malloc'd, *out_len bytes, NUL-separated) and the names of the
 * rules that fired in `fired` (comma-separated, clipped), or -ENOMEM.
 */
int kt_redact_argv(const struct kt_redact *rd, const char *argv, size_t len,
		   char **out, size_t *out_len, char *fired, size_t fired_len);

#endif
