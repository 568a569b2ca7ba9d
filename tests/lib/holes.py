#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""holes.py CLIENT_BYTES ASCIICAST LOST_BYTES

Checks that a recording is the client's bytes with holes only where the
recorder counted loss: walks the client's output and the recording's "o"
events (gap notices left out) together; every recorded byte must match in
order, and the bytes skipped must add up exactly to the sum of the gap
markers ("m" events "[kubetape: N bytes lost here]") and to LOST_BYTES.
Needs output whose lines never repeat (a counter flood): the end of a hole
is found by searching the next recorded bytes (64 of them, fewer when
holes are closer than that: a lost record can be a few bytes).
Prints one line (the figures, or what is wrong); exit 0 when exact.
"""
import json
import re
import sys

WINDOWS = (64, 32, 16, 10)


def load_cast(path):
    rec = bytearray()
    marked = 0
    gaps = 0
    skip_notice = False
    with open(path, encoding="utf-8") as f:
        f.readline()  # header
        for line in f:
            t, code, data = json.loads(line)
            if code == "m":
                m = re.match(r"\[kubetape: (\d+) bytes lost here\]", data)
                if m:
                    marked += int(m.group(1))
                    gaps += 1
                    skip_notice = True
                elif data.startswith("[kubetape:"):
                    print("a gap of unknown size: %r" % data)
                    sys.exit(1)
            elif code == "o":
                if skip_notice and "lost by the recorder here]" in data:
                    skip_notice = False
                    continue
                rec += data.encode("utf-8")
    return bytes(rec), marked, gaps


def common(a, i, b, j):
    """length of the common prefix of a[i:] and b[j:]"""
    n = 0
    step = 1 << 16
    while True:
        x = a[i + n:i + n + step]
        y = b[j + n:j + n + step]
        if x == y and len(x) == step:
            n += step
            continue
        m = min(len(x), len(y))
        lo, hi = 0, m
        while lo < hi:  # first mismatch in [0, m]
            mid = (lo + hi) // 2
            if x[:mid + 1] == y[:mid + 1]:
                lo = mid + 1
            else:
                hi = mid
        return n + lo


def main():
    out = open(sys.argv[1], "rb").read()
    rec, marked, gaps = load_cast(sys.argv[2])
    lost = int(sys.argv[3])
    i = j = skipped = holes = 0
    while i < len(rec):
        k = common(rec, i, out, j)
        i += k
        j += k
        if i >= len(rec):
            break
        p = -1
        for win in WINDOWS:
            w = rec[i:i + win]
            p = out.find(w, j)
            if p >= 0:
                break
        if p < 0:
            print("recorded bytes at %d (%r) are not in the client's bytes after %d: "
                  "not a prefix plus continuation" % (i, w[:32], j))
            sys.exit(1)
        skipped += p - j
        holes += 1
        j = p
    tail = len(out) - j
    skipped += tail
    msg = ("client %d bytes, recorded %d, %d holes skipping %d bytes (%d at the end); "
           "%d gap markers summing to %d; lost_bytes %d" %
           (len(out), len(rec), holes, skipped, tail, gaps, marked, lost))
    print(msg)
    sys.exit(0 if skipped == marked == lost else 1)


main()
