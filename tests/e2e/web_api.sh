#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# kubetape-web JSON API against real servers on loopback (no root needed):
# filters, pagination over 10,001 sessions, auth on and off, login cookie,
# hostile requests, stream/export/live WebSocket, 50 live viewers, listen
# policy and TLS.  The assertions live in tests/web/api_test.mjs.
. "$(dirname "$0")/../lib/common.sh"

require_cmd node openssl
require_built "$KT_OUT/kubetape-web" "$KT_OUT/tests/web/kt_webfill"
cd "$KT_REPO/tests/web" || fatal web_api_cd "cannot cd to tests/web"
KT_OUT=$KT_OUT node api_test.mjs || rc=1
# hostile and greedy clients, DNS rebinding, login throttling, screen search
KT_OUT=$KT_OUT node hostile_test.mjs || rc=1
exit "${rc:-0}"
