#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# kubetape-web serving sessions recorded at 1 column, 0x0 and 65535x65535
# (no root needed): the browser only ever gets sizes by the screen model's
# rule.  The assertions live in tests/web/size_test.mjs.
. "$(dirname "$0")/../lib/common.sh"

require_cmd node
require_built "$KT_OUT/kubetape-web" "$KT_OUT/tests/test_hostile_size"
cd "$KT_REPO/tests/web" || fatal web_size_cd "cannot cd to tests/web"
KT_OUT=$KT_OUT node size_test.mjs
