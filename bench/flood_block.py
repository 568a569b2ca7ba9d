#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# bench/flood_block.py PATH BYTES — the flood workload's block of terminal
# output (bench/flood.sh on the host, bench/guest_flood.sh in a qemu guest:
# the same bytes in both): 256 KiB pieces of `seq` numbers, a `find /usr`
# listing, `ls -lR /usr/share` text and base64 of random bytes, in turn.
# Mixed on purpose: the screen indexer's and the compressor's costs depend
# on what the text is; one kind would flatter or punish them.
import base64, os, subprocess, sys
path, size = sys.argv[1], int(sys.argv[2])
find = subprocess.run(["find", "/usr"], capture_output=True).stdout[: 8 << 20]
lsr = subprocess.run(["ls", "-lR", "/usr/share"], capture_output=True).stdout[: 8 << 20]
seq_n = [1]
def seq_piece(n):
    s = seq_n[0]; seq_n[0] += 40000
    return "".join("%d\n" % i for i in range(s, s + 40000)).encode()[:n]
def b64_piece(n):
    return base64.encodebytes(os.urandom(n * 3 // 4))[:n]
offs = {"find": 0, "ls": 0}
def text_piece(name, src, n):
    o = offs[name]
    if o + n > len(src): o = 0
    offs[name] = o + n
    return src[o:o + n]
makers = [seq_piece, lambda n: text_piece("find", find, n), b64_piece, lambda n: text_piece("ls", lsr, n)]
with open(path, "wb") as f:
    done, i = 0, 0
    while done < size:
        n = min(256 << 10, size - done)
        p = makers[i % len(makers)](n)
        f.write(p); done += len(p); i += 1
