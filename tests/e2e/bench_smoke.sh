#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The benchmark harness, smoke-sized: proves every bench/ script still runs
# end to end (real pod, real recorder).  It checks the harness, not the
# performance goals: those are `make bench`'s job, never a test's.
exec "$(dirname "$0")/../../bench/run.sh" "${KT_OUT:-build}" --smoke
