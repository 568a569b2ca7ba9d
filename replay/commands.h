/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every `kubetape` command.  Adding one: write replay/cmd_NAME.c defining
 * `const struct kt_cmd kt_cmd_NAME` (see cmd_cat.c for the smallest), declare
 * it here and add it to the table in main.c.
 */
#ifndef KUBETAPE_REPLAY_COMMANDS_H
#define KUBETAPE_REPLAY_COMMANDS_H

#include "cli.h"

extern const struct kt_cmd kt_cmd_sessions;
extern const struct kt_cmd kt_cmd_show;
extern const struct kt_cmd kt_cmd_cat;
extern const struct kt_cmd kt_cmd_export;
extern const struct kt_cmd kt_cmd_search;
extern const struct kt_cmd kt_cmd_replay;
extern const struct kt_cmd kt_cmd_verify;
extern const struct kt_cmd kt_cmd_access_log;
extern const struct kt_cmd kt_cmd_audit;
extern const struct kt_cmd kt_cmd_ship;
extern const struct kt_cmd kt_cmd_prune;
extern const struct kt_cmd kt_cmd_hold;

#endif
