// SPDX-License-Identifier: Apache-2.0
/* Secrets in argv, replaced before anything is stored (see redact.h). */
#include <errno.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"
#include "log.h"

enum rule_kind { R_FLAG, R_ENV, R_PREFIX, R_REGEX };

struct rule {
	enum rule_kind kind;
	char name[48];
	char pat[256];   /* flag name, env glob, program glob */
	char pfx[64];    /* prefix rules */
	regex_t re;      /* regex rules */
};

struct kt_redact {
	struct rule *r;
	int n, cap;
};

static const char *const defaults[] = {
	"flag   password-flag  --password",
	"flag   password-flag  --passwd",
	"flag   token-flag     --token",
	"flag   secret-flag    --client-secret",
	"prefix mysql-p        mysql*   -p",
	"prefix mysql-p        mariadb* -p",
	"env    password       *PASSWORD*",
	"env    password       *PASSWD*",
	"env    token          *TOKEN*",
	"env    secret         *SECRET*",
	"env    api-key        *API_KEY*",
	"regex  aws-access-key (AKIA|ASIA)[0-9A-Z]{16}",
	"regex  gcp-api-key    AIza[0-9A-Za-z_-]{35}",
	"regex  github-token   gh[pousr]_[A-Za-z0-9]{36,}",
	"regex  slack-token    xox[abprs]-[0-9A-Za-z-]{10,}",
};

static int add_rule(struct kt_redact *rd, const char *line, const char *where)
{
	char kind[16], name[48], a[256], b[64], extra[8];
	struct rule *r;
	int n, err;

	n = sscanf(line, "%15s %47s %255s %63s %7s", kind, name, a, b, extra);
	if (n < 3) {
		pr_err("%s: expected 'KIND NAME PATTERN...'", where);
		return -EINVAL;
	}
	if (rd->n == rd->cap) {
		int cap = rd->cap ? rd->cap * 2 : 32;
		struct rule *p = realloc(rd->r, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		rd->r = p;
		rd->cap = cap;
	}
	r = &rd->r[rd->n];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	if (strcmp(kind, "regex") == 0) {
		/* the pattern is the rest of the line: it may hold spaces */
		const char *p = strstr(line, name) + strlen(name);

		p += strspn(p, " \t");
		snprintf(a, sizeof(a), "%.*s", (int)strcspn(p, "\r\n"), p);
		r->kind = R_REGEX;
		err = regcomp(&r->re, a, REG_EXTENDED);
		if (err) {
			char msg[128];

			regerror(err, &r->re, msg, sizeof(msg));
			pr_err("%s: regex '%s': %s", where, a, msg);
			return -EINVAL;
		}
	} else if (strcmp(kind, "flag") == 0 || strcmp(kind, "env") == 0) {
		if (n != 3) {
			pr_err("%s: %s takes one pattern", where, kind);
			return -EINVAL;
		}
		r->kind = kind[0] == 'f' ? R_FLAG : R_ENV;
		snprintf(r->pat, sizeof(r->pat), "%s", a);
	} else if (strcmp(kind, "prefix") == 0) {
		if (n != 4) {
			pr_err("%s: prefix takes a program glob and a prefix", where);
			return -EINVAL;
		}
		r->kind = R_PREFIX;
		snprintf(r->pat, sizeof(r->pat), "%s", a);
		snprintf(r->pfx, sizeof(r->pfx), "%s", b);
	} else {
		pr_err("%s: unknown rule kind '%s' (flag, env, prefix, regex)", where, kind);
		return -EINVAL;
	}
	rd->n++;
	return 0;
}

int kt_redact_load(const char *path, struct kt_redact **out)
{
	struct kt_redact *rd = calloc(1, sizeof(*rd));
	bool use_defaults = true;
	char line[512], where[4200];
	FILE *f = NULL;
	int ln = 0, err = 0;

	*out = NULL;
	if (!rd)
		return -ENOMEM;
	if (path) {
		f = fopen(path, "re");
		if (!f) {
			err = -errno;
			pr_err("redaction rules %s: %s", path, strerror(-err));
			goto cleanup;
		}
		while (fgets(line, sizeof(line), f)) {
			const char *p = line + strspn(line, " \t");

			ln++;
			if (*p == '#' || *p == '\n' || *p == 0)
				continue;
			if (strncmp(p, "defaults off", 12) == 0) {
				use_defaults = false;
				continue;
			}
			snprintf(where, sizeof(where), "%s:%d", path, ln);
			err = add_rule(rd, p, where);
			if (err)
				goto cleanup;
		}
	}
	for (size_t i = 0; use_defaults && i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		err = add_rule(rd, defaults[i], "built-in rule");
		if (err)
			goto cleanup;
	}
	*out = rd;
	rd = NULL;
cleanup:
	if (f)
		fclose(f);
	kt_redact_free(rd);
	return err;
}

void kt_redact_free(struct kt_redact *rd)
{
	if (!rd)
		return;
	for (int i = 0; i < rd->n; i++)
		if (rd->r[i].kind == R_REGEX)
			regfree(&rd->r[i].re);
	free(rd->r);
	free(rd);
}

struct obuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct obuf *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 256;
		char *p;

		while (cap < o->len + n)
			cap *= 2;
		p = realloc(o->p, cap);
		if (!p) {
			o->oom = true;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void put_mark(struct obuf *o, const struct rule *r)
{
	put(o, "[redacted:", 10);
	put(o, r->name, strlen(r->name));
	put(o, "]", 1);
}

static void note(char *fired, size_t cap, const char *name)
{
	size_t n = strlen(fired), l = strlen(name);
	const char *p = fired;

	while ((p = strstr(p, name))) {
		if ((p == fired || p[-1] == ',') && (p[l] == 0 || p[l] == ','))
			return; /* already listed */
		p += l;
	}
	if (n + l + 2 < cap)
		snprintf(fired + n, cap - n, "%s%s", n ? "," : "", name);
}

/* Redact one argument `a` (NUL-free, n bytes) into o.  Returns the rule that
 * fired, or NULL (then `a` was copied); *next is set when a flag rule wants
 * the next argument replaced. */
static const struct rule *one_arg(const struct kt_redact *rd, const char *a, size_t n,
				  const char *prog, struct obuf *o, const struct rule **next)
{
	const char *buf = a; /* NUL-terminated (see kt_redact_argv) */
	const char *eq = memchr(a, '=', n);

	for (int i = 0; i < rd->n; i++) {
		const struct rule *r = &rd->r[i];
		size_t name_len = eq ? (size_t)(eq - a) : n;
		regmatch_t m;
		char name[256];

		switch (r->kind) {
		case R_FLAG:
			if (eq && name_len == strlen(r->pat) && !memcmp(a, r->pat, name_len) && eq + 1 < a + n) {
				put(o, a, name_len + 1);
				put_mark(o, r);
				return r;
			}
			if (!eq && strcmp(buf, r->pat) == 0) {
				put(o, a, n);
				*next = r;
				return NULL; /* the flag itself stays as is */
			}
			break;
		case R_ENV:
			if (!eq || name_len == 0 || name_len >= sizeof(name) || eq + 1 >= a + n)
				break;
			memcpy(name, a, name_len);
			name[name_len] = 0;
			if (fnmatch(r->pat, name, FNM_CASEFOLD) == 0) {
				put(o, a, name_len + 1);
				put_mark(o, r);
				return r;
			}
			break;
		case R_PREFIX: {
			size_t pl = strlen(r->pfx);

			if (prog && n > pl && !strncmp(buf, r->pfx, pl) && fnmatch(r->pat, prog, 0) == 0) {
				put(o, a, pl);
				put_mark(o, r);
				return r;
			}
			break;
		}
		case R_REGEX:
			if (regexec(&r->re, buf, 1, &m, 0) == 0 && m.rm_eo > m.rm_so) {
				/* every match in the argument */
				const char *p = buf;
				size_t off = 0;

				while (regexec(&r->re, p, 1, &m, off ? REG_NOTBOL : 0) == 0 && m.rm_eo > m.rm_so) {
					put(o, p, m.rm_so);
					put_mark(o, r);
					p += m.rm_eo;
					off = 1;
				}
				put(o, p, strlen(p));
				return r;
			}
			break;
		}
	}
	put(o, a, n);
	return NULL;
}

int kt_redact_argv(const struct kt_redact *rd, const char *argv, size_t len,
		   char **out, size_t *out_len, char *fired, size_t fired_len)
{
	struct obuf o = {0};
	const struct rule *next = NULL;
	const char *prog = NULL, *p, *end;
	char *copy;
	int any = 0;

	*out = NULL;
	if (fired_len)
		fired[0] = 0;
	if (!rd || !len)
		return 0;
	/* a copy with a NUL after the last byte: every argument is a C string
	 * even when the kernel truncated the last one */
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, argv, len);
	copy[len] = 0;
	p = copy;
	end = copy + len;
	while (p < end) {
		const char *z = memchr(p, 0, end - p);
		size_t n = z ? (size_t)(z - p) : (size_t)(end - p);
		const struct rule *r;

		if (!prog) {
			const char *slash = memrchr(p, '/', n);

			prog = slash ? slash + 1 : p; /* argv[0] is NUL-terminated */
		}
		if (next && n) {
			put_mark(&o, next);
			note(fired, fired_len, next->name);
			any = 1;
			next = NULL;
		} else {
			next = NULL;
			r = one_arg(rd, p, n, p == copy ? NULL : prog, &o, &next);
			if (r) {
				note(fired, fired_len, r->name);
				any = 1;
			}
		}
		if (z)
			put(&o, "", 1);
		p += n + (z ? 1 : 0);
	}
	free(copy);
	if (o.oom) {
		free(o.p);
		return -ENOMEM;
	}
	if (!any) {
		free(o.p);
		return 0;
	}
	*out = o.p;
	*out_len = o.len;
	return 1;
}
