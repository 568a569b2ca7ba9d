/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every command shares about tamper evidence and the access log:
 * finding the node's public key, a session's verification state as JSON,
 * and logging a read before showing anything.
 */
#ifndef KUBETAPE_REPLAY_EVIDENCE_CLI_H
#define KUBETAPE_REPLAY_EVIDENCE_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include "cli.h"
#include "evidence.h"

/*
 * The public key to verify with: `path` (--pubkey) if given, else
 * node.key.pub next to the store, else the key recorded in the store
 * itself (*trusted false: whoever edits the store can replace that one).
 * 0, or -errno logged (a --pubkey that does not parse).  *have false when
 * there is none at all.
 */
int kt_cli_pubkey(struct kt_cli *cli, const char *path, uint8_t pk[KT_PK_LEN], bool *have,
		  bool *trusted);
/* "<store dir>/node.key.head" if it exists and is readable, else NULL */
const char *kt_cli_head_path(struct kt_cli *cli, char *buf, size_t len);
/* node.key next to the store (the recorder's default), whether or not it
 * exists; -ENAMETOOLONG */
int kt_cli_key_path(struct kt_cli *cli, char *buf, size_t len);

/* {"state": "verified", "frames": N, "frames_signed": N, "checkpoints": N,
 *  "checked": "frames"|"signatures", "problems": "..."}; NULL on error */
json_t *kt_cli_verification_json(struct kt_cli *cli, int64_t session_id, unsigned flags,
				 struct kt_verify_result *out);
/* Full verification up to this many raw bytes of a session, else quick
 * (show, export --format json); `kubetape verify` always does it in full. */
#define KT_CLI_FULL_VERIFY_MAX (64ull << 20)

/* KT_VERIFY_QUICK above KT_CLI_FULL_VERIFY_MAX bytes recorded, else 0 */
unsigned kt_cli_verify_flags(const struct kt_session_info *s);

/* Log this read (the command and its arguments) before showing anything;
 * KT_EXIT_OK, or KT_EXIT_RUNTIME when it cannot be logged (logged). */
int kt_cli_access(struct kt_cli *cli, int64_t session_id);

#endif
