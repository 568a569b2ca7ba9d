// SPDX-License-Identifier: Apache-2.0
/* Store records as JSON (see jsonenc.h). */
#include <string.h>

#include "jsonenc.h"

/* the API's fields (store/json.h) */
static const struct kt_json_style api_style = { .profile = KT_JSON_API };

json_t *je_session(const struct kt_session_info *s)
{
	return kt_json_session(s, &api_style);
}

json_t *je_command(const struct kt_command *c)
{
	return kt_json_command(c, &api_style);
}

json_t *je_str_n(const char *s, size_t n)
{
	return kt_json_string(s, n);
}

char *je_dump(json_t *j, size_t *len)
{
	char *s;

	if (!j)
		return NULL;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s)
		*len = strlen(s);
	return s;
}
