// SPDX-License-Identifier: Apache-2.0
/* Tamper evidence and access log helpers of the CLI (evidence_cli.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "evidence_cli.h"
#include "log.h"

static int sibling(const char *db, const char *name, char *buf, size_t len)
{
	const char *slash = strrchr(db, '/');

	/* the cluster store (a URL) has no directory: each node's key is on
	 * the server (kt_nodes), its head file on the node */
	if (strstr(db, "://"))
		return -EINVAL;
	int n = slash ? snprintf(buf, len, "%.*s/%s", (int)(slash - db), db, name) :
			snprintf(buf, len, "%s", name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int kt_cli_pubkey(struct kt_cli *cli, const char *path, uint8_t pk[KT_PK_LEN], bool *have,
		  bool *trusted)
{
	struct kt_store *st;
	char buf[4096];
	int err;

	*have = *trusted = false;
	if (path) {
		err = kt_pubkey_load(path, pk);
		if (err)
			return err;
		*have = *trusted = true;
		return 0;
	}
	if (!sibling(cli->db_path, "node.key.pub", buf, sizeof(buf)) && access(buf, R_OK) == 0 &&
	    kt_pubkey_load(buf, pk) == 0) {
		*have = *trusted = true;
		return 0;
	}
	err = kt_cli_store(cli, &st);
	if (err)
		return err;
	*have = kt_store_pubkey(st, pk) == 0;
	return 0;
}

int kt_cli_key_path(struct kt_cli *cli, char *buf, size_t len)
{
	return sibling(cli->db_path, "node.key", buf, len);
}

const char *kt_cli_head_path(struct kt_cli *cli, char *buf, size_t len)
{
	if (sibling(cli->db_path, "node.key.head", buf, len) || access(buf, R_OK))
		return NULL;
	return buf;
}

json_t *kt_cli_verification_json(struct kt_cli *cli, int64_t session_id, unsigned flags,
				 struct kt_verify_result *out)
{
	struct kt_verify_result r;
	uint8_t pk[KT_PK_LEN];
	bool have, trusted;
	struct kt_store *st;
	json_t *j;

	if (kt_cli_pubkey(cli, NULL, pk, &have, &trusted) || kt_cli_store(cli, &st) ||
	    kt_verify_session(st, session_id, have ? pk : NULL, flags, &r))
		return NULL;
	if (out)
		*out = r;
	j = json_pack("{s:s, s:s, s:I, s:I, s:i, s:b, s:b}",
		      "state", kt_verify_state_name(r.state),
		      "checked", flags & KT_VERIFY_QUICK ? "signatures" : "frames",
		      "frames", (json_int_t)r.frames, "frames_signed", (json_int_t)r.frames_signed,
		      "checkpoints", (int)r.checkpoints, "final", r.final, "key_from_store", !trusted);
	if (j && r.problems)
		json_object_set_new(j, "problems", json_string(r.why));
	return j;
}

unsigned kt_cli_verify_flags(const struct kt_session_info *s)
{
	return s->bytes_out + s->bytes_in > KT_CLI_FULL_VERIFY_MAX ? KT_VERIFY_QUICK : 0;
}

int kt_cli_access(struct kt_cli *cli, int64_t session_id)
{
	char who[160], detail[512];
	size_t n = 0;

	kt_access_who_cli(who, sizeof(who));
	detail[0] = 0;
	for (int i = 1; i < cli->argc && n < sizeof(detail) - 1; i++)
		n += (size_t)snprintf(detail + n, sizeof(detail) - n, "%s%s", n ? " " : "", cli->argv[i]);
	/* through the open store when there is one (the cluster store's log
	 * is on the server: its connection) */
	if (cli->store ? kt_store_access_log(cli->store, who, cli->cmd ? cli->cmd->name : "?",
					     session_id, detail)
		       : kt_access_log(cli->db_path, who, cli->cmd ? cli->cmd->name : "?", session_id,
				       detail)) {
		pr_err("%s: refusing to show recorded data that cannot be logged as read (the access log needs write access to %s)",
		       cli->cmd ? cli->cmd->name : "kubetape", cli->db_path);
		return KT_EXIT_RUNTIME;
	}
	return KT_EXIT_OK;
}
