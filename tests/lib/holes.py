#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""holes.py CLIENT_BYTES ASCIICAST LOST_BYTES

Checks that a recording is the client's bytes with holes only where the
recorder counted loss.  The recording's output events ("o", the recorder's
frames: each is the bytes of one read of the pty, so contiguous in what the
client got; gap notices left out) must appear in the client's bytes in
order, without overlapping; the bytes between them (the holes) must add up
exactly to the sum of the gap markers ("m" events "[kubetape: N bytes lost
here]") and to LOST_BYTES.  Each event is placed at its earliest position
after the previous one (if any in-order placement exists, that one does).
Prints one line (the figures, or what is wrong); exit 0 when exact.
"""
import json
import re
import sys


def load_cast(path):
    blocks = []
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
                blocks.append(data.encode("utf-8"))
    return blocks, marked, gaps


def main():
    out = open(sys.argv[1], "rb").read()
    blocks, marked, gaps = load_cast(sys.argv[2])
    lost = int(sys.argv[3])
    j = skipped = holes = recorded = 0
    for n, b in enumerate(blocks):
        if out.startswith(b, j):
            j += len(b)
            recorded += len(b)
            continue
        p = out.find(b, j)
        if p < 0:
            print("recorded frame %d (%d bytes, %r...) is not in the client's bytes after "
                  "offset %d: not a prefix plus continuation" % (n, len(b), b[:24], j))
            sys.exit(1)
        skipped += p - j
        holes += 1
        j = p + len(b)
        recorded += len(b)
    tail = len(out) - j
    skipped += tail
    print("client %d bytes, recorded %d in %d frames, %d holes skipping %d bytes (%d at the "
          "end); %d gap markers summing to %d; lost_bytes %d" %
          (len(out), recorded, len(blocks), holes, skipped, tail, gaps, marked, lost))
    sys.exit(0 if skipped == marked == lost else 1)


main()
