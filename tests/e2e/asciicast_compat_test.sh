#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/e2e/asciicast_compat_test.sh — `kubetape export` against the real
# asciinema (Debian's 2.2, /usr/bin/asciinema).  Needs no root.
#
# The store comes from tests/unit/test_export.c (KT_EXPORT_FIXTURE=PATH
# builds it there and exits):
#   1  nothing lost: ASCII, escape sequences, UTF-8 with characters split
#      across frames and chunks, NUL/DEL/C1, a resize, input, commands
#   2  a gap (4096 bytes) cutting a UTF-8 character
#   3  invalid UTF-8 of every kind, nothing lost
# Checks:
#   - `asciinema cat` of the export prints exactly `export --format raw`
#     for session 1 (the "o" stream is the recorded output, byte for byte);
#   - for session 3 it prints what Python's decode("utf-8", "replace") makes
#     of the raw bytes, i.e. what asciinema itself would have recorded;
#   - session 2 shows the loss notice in playback, raw export stays pure;
#   - every line is JSON, times never decrease (Python's json);
#   - `asciinema play -s 100` plays each file to its last output, exit 0.
# asciinema cat/play open /dev/tty, so they run under ptyrun (or script).

. "$(dirname "$0")/../lib/common.sh"

require_cmd asciinema python3
KT=$KT_OUT/kubetape
[ -x "$KT" ] || fatal asciicast_setup "no $KT: run 'make' first"
[ -x "$KT_OUT/tests/test_export" ] || fatal asciicast_setup "no $KT_OUT/tests/test_export: run 'make' first"
export LC_ALL=C.UTF-8 PYTHONIOENCODING=utf-8

# on_pty CMD — run the shell command CMD with a terminal as /dev/tty
on_pty() {
	if [ -x "$PTYRUN" ]; then
		"$PTYRUN" --timeout 60 -- sh -c "$1" >/dev/null
	else
		script -qec "$1" /dev/null >/dev/null
	fi
}

step_start
DB=$KT_TMP/fixture.db
if KT_EXPORT_FIXTURE=$DB "$KT_OUT/tests/test_export" >"$KT_TMP/fixture.log" 2>&1; then
	pass asciicast_fixture
else
	fatal asciicast_fixture "building the store failed: $(tr '\n' ' ' <"$KT_TMP/fixture.log")"
fi

for id in 1 2 3; do
	"$KT" --db "$DB" export "$id" -o "$KT_TMP/s$id.cast" 2>>"$KT_TMP/export.err" &&
		"$KT" --db "$DB" export "$id" --format raw -o "$KT_TMP/s$id.raw" 2>>"$KT_TMP/export.err" ||
		fatal asciicast_export "kubetape export $id failed: $(tail -1 "$KT_TMP/export.err")"
done

# ---------------------------------------------------------------- JSON lines
step_start
why=$(python3 - "$KT_TMP"/s1.cast "$KT_TMP"/s2.cast "$KT_TMP"/s3.cast <<'EOF' 2>&1
import json, sys
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    assert lines[-1] == "", f"{path}: no final newline"
    header = json.loads(lines[0])
    assert header["version"] == 2 and isinstance(header["width"], int) and isinstance(header["height"], int), path
    last = 0.0
    for n, line in enumerate(lines[1:-1], 2):
        t, code, data = json.loads(line)
        assert isinstance(t, (int, float)) and t >= last, f"{path}:{n}: time {t} < {last}"
        assert code in ("o", "i", "r", "m"), f"{path}:{n}: code {code!r}"
        assert isinstance(data, str), f"{path}:{n}"
        last = t
EOF
) && pass asciicast_json_lines || fail asciicast_json_lines "$why"

# ---------------------------------------------------------------- cat == raw
step_start
if on_pty "asciinema cat '$KT_TMP/s1.cast' >'$KT_TMP/s1.cat'" &&
	cmp -s "$KT_TMP/s1.cat" "$KT_TMP/s1.raw"; then
	pass asciicast_cat_equals_raw
else
	fail asciicast_cat_equals_raw "asciinema cat differs from raw export: $(cmp "$KT_TMP/s1.cat" "$KT_TMP/s1.raw" 2>&1)"
fi

# the fixture really has what this test is about
step_start
if python3 - "$KT_TMP/s1.raw" <<'EOF'
import sys
raw = open(sys.argv[1], "rb").read()
raw.decode("utf-8")  # valid
assert b"\xe2\x82\xac" in raw and b"\xf0\x9f\x98\x80" in raw and b"\x1b[" in raw and b"\0" in raw
EOF
then pass asciicast_fixture_content; else fail asciicast_fixture_content "session 1 lacks UTF-8/escapes/NUL"; fi
# the split characters were split in the store: the cast has them whole
step_start
if grep -q '€' "$KT_TMP/s1.cast" && grep -q '😀' "$KT_TMP/s1.cast" &&
	! grep -q $'\xef\xbf\xbd' "$KT_TMP/s1.cast"; then
	pass asciicast_split_utf8_whole
else
	fail asciicast_split_utf8_whole "split characters not rejoined (or U+FFFD present)"
fi

# ---------------------------------------------------------------- invalid UTF-8
step_start
python3 -c 'import sys; sys.stdout.buffer.write(open(sys.argv[1], "rb").read().decode("utf-8", "replace").encode())' \
	"$KT_TMP/s3.raw" >"$KT_TMP/s3.want"
if on_pty "asciinema cat '$KT_TMP/s3.cast' >'$KT_TMP/s3.cat'" &&
	cmp -s "$KT_TMP/s3.cat" "$KT_TMP/s3.want"; then
	pass asciicast_invalid_utf8_like_asciinema
else
	fail asciicast_invalid_utf8_like_asciinema "differs from Python's utf-8/replace decoding: $(cmp "$KT_TMP/s3.cat" "$KT_TMP/s3.want" 2>&1)"
fi

# ---------------------------------------------------------------- loss
step_start
if on_pty "asciinema cat '$KT_TMP/s2.cast' >'$KT_TMP/s2.cat'" &&
	grep -q 'kubetape: 4096 bytes lost by the recorder here' "$KT_TMP/s2.cat" &&
	grep -q '"m", "\[kubetape: 4096 bytes lost here\]"' "$KT_TMP/s2.cast" &&
	! grep -q kubetape "$KT_TMP/s2.raw"; then
	pass asciicast_gap_visible_raw_pure
else
	fail asciicast_gap_visible_raw_pure "loss notice missing from playback, or present in raw"
fi

# ---------------------------------------------------------------- play
# asciinema play exits 0 even on a malformed file (it reports and stops),
# so what the pty showed must also end with the session's last output.
last_words=([1]='root@web-0:/# exit' [2]='after' [3]='B')
for id in 1 2 3; do
	step_start
	rm -f "$KT_TMP/play$id.out"
	if [ -x "$PTYRUN" ]; then
		"$PTYRUN" --timeout 60 --out "$KT_TMP/play$id.out" -- asciinema play -s 100 "$KT_TMP/s$id.cast" >/dev/null
	else
		script -qec "asciinema play -s 100 '$KT_TMP/s$id.cast'" "$KT_TMP/play$id.out" >/dev/null
	fi
	rc=$?
	if [ "$rc" = 0 ] && grep -qF "${last_words[id]}" "$KT_TMP/play$id.out" &&
		! grep -qiE 'error|traceback' "$KT_TMP/play$id.out"; then
		pass "asciicast_play_s$id"
	else
		fail "asciicast_play_s$id" "asciinema play -s 100 exited $rc or did not play to '${last_words[id]}': $(tail -c 300 "$KT_TMP/play$id.out" 2>/dev/null | tr -cd '[:print:]')"
	fi
done

finish
