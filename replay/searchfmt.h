/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How `kubetape search` prints a hit, separate from the command so it can
 * be unit-tested: one table row (text) or one JSON object per hit.
 *
 * A hit is either a command (an exec whose argv matched) or a screen line
 * (text the terminal displayed, from the store's screen index).  Both carry
 * the session they belong to and the time they happened; the offset shown is
 * that time minus the session start, as `show` prints it.  Everything
 * recorded is attacker-controlled: rows go through table.c (sanitized),
 * argv through shquote.c, JSON strings through jo_string (valid UTF-8).
 */
#ifndef KUBETAPE_REPLAY_SEARCHFMT_H
#define KUBETAPE_REPLAY_SEARCHFMT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"
#include "table.h"

enum sf_kind { SF_COMMAND = 0, SF_SCREEN = 1 };

struct sf_hit {
	enum sf_kind kind;
	const struct kt_session_info *s;
	int64_t ts_us;
	const struct kt_command *c;   /* SF_COMMAND */
	const char *text;             /* SF_SCREEN: the line, UTF-8 */
	int64_t line_id;              /* SF_SCREEN */
	bool final;                   /* SF_SCREEN: on the session's last screen */
};

/* The columns of sf_add_row(), for tbl_init(). */
enum { SF_COL_SESSION, SF_COL_OFFSET, SF_COL_WHO, SF_COL_IN, SF_COL_MATCH, SF_NCOLS };
extern struct tbl_col sf_cols[SF_NCOLS];

/* argv quoted for a POSIX shell ("[argv truncated]" appended when it was);
 * malloc'd, NULL on ENOMEM. */
char *sf_command_line(const struct kt_command *c);

/* One row: SESSION, OFFSET (+MM:SS.mmm), NAMESPACE/POD, IN ("command",
 * "screen", "final screen"), MATCH.  0 or -ENOMEM. */
int sf_add_row(struct tbl *t, const struct sf_hit *h);

/*
 * {"kind": "command"|"screen", "session_id", "ts_us", "time", "offset_us",
 *  "offset", "namespace", "pod", "container", "node",
 *  command: "command_line" (quoted) and "command" (as in show --json);
 *  screen: "text", "final", "line_id"}.  New reference or NULL.
 */
json_t *sf_json(const struct sf_hit *h);

#endif
