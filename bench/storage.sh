#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/storage.sh OUT [--quick|--smoke] — workload 3: bytes on disk per
# byte of terminal output, per corpus and overall, against what the common
# recorders store for the same bytes.
#
# Corpus (bench/corpus.py, one per round, seeds 1..N): interactive shell,
# logs (ls -lR, dmesg-like, top -b frames), a full-screen editor, base64 of
# random bytes; timed events (one per write the terminal saw).
#
#   kubetape   the events through the store API exactly as the recorder
#              chunks them (bench/corpus_store.c: 8 KiB frames, 128 KiB or
#              0.4 s per chunk at the 100 ms tick, appended raw, then indexed
#              and compacted as the recorder's worker does), one
#              fresh store per corpus; size = the store file after a WAL
#              checkpoint and VACUUM, minus the same store holding only the
#              empty session (schema, session row).  So it includes chunk
#              rows, their index entries and page slack, not just blobs.
#              Typed keys are stored too (the recorder's default); the
#              others below store output only.
#   asciicast  asciinema's own v2 writer class (Debian's asciinema package,
#              imported), one event per write, then gzip -6: what asciinema
#              users keep.  Without asciinema installed: n/a.
#   sudo       sudo's log_output I/O log as sudo 1.9 writes it with
#              compress_io (the default): the ttyout stream and the timing
#              file, each a zlib (gzip) stream at zlib's default level 6,
#              one timing line per write.  Emulated with Python's zlib, not
#              by running sudo (sudo would need a sudoers change and a real-
#              time replay); the log.json/log files (~1 KiB) are left out.
#
# Figure: bytes on disk / raw output bytes, per corpus and overall (sums),
# and kubetape / the best anchor (the smaller of asciicast.gz and sudo, per
# corpus and per round; goals, issue 14: <= 1.0 on every corpus, <= 0.8
# overall).  Where the bytes go (round 1, bench/corpus_breakdown.c): chunk
# payloads, frame headers and timing (the compressed blobs split in
# proportion to what each costs compressed alone), chunk rows, keyframes,
# the screen search index, other tables, free pages; as notes.
. "$(dirname "$0")/lib.sh"

WL=storage
SCALE=$(by_mode 1 0.5 0.03)
CS=$BENCH_TMP/corpus_store CB=$BENCH_TMP/corpus_breakdown
for p in corpus_store corpus_breakdown; do
	cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$KT_REPO/store/include" -o "$BENCH_TMP/$p" "$BENCH_DIR/$p.c" \
		"$BENCH_OUT/libkubetape.a" $STORE_LIBS ||
		{ msg "cannot build $p against $BENCH_OUT/libkubetape.a (make first)"; exit 1; }
done
command -v sqlite3 >/dev/null || { msg "sqlite3 CLI missing (make deps)"; exit 1; }
ASC=/usr/lib/python3/dist-packages
python3 -c "import sys; sys.path.insert(0, '$ASC'); import asciinema.asciicast.v2" 2>/dev/null && HAVE_ASC=1 || HAVE_ASC=0

# store_size DB: file size after checkpoint + VACUUM
store_size() {
	sqlite3 "$1" "PRAGMA wal_checkpoint(TRUNCATE); VACUUM;" >/dev/null 2>&1
	stat -c %s "$1"
}
"$CS" "$BENCH_TMP/empty.db" >/dev/null 2>&1 || { msg "corpus_store failed on an empty store"; exit 1; }
BASE=$(store_size "$BENCH_TMP/empty.db")

CORPORA=(shell logs editor random)
declare -A KT ASC_R SUDO RATIO BEST	# [corpus] = per-round lists
TOT_KT=() TOT_ASC=() TOT_SUDO=() TOT_RATIO=() TOT_BEST=()
for r in $(seq "$RUNS"); do
	d=$BENCH_TMP/corpus-$r
	BENCH_CORPUS_SCALE=$SCALE python3 "$BENCH_DIR/corpus.py" "$r" "$d" || { msg "corpus.py failed"; exit 1; }
	sums=(0 0 0 0 0)	# raw kt asc sudo best
	for c in "${CORPORA[@]}"; do
		ev=$d/$c.ev db=$d/$c.db
		read -r raw_out raw_in chunks < <("$CS" "$db" "$ev" 2>/dev/null) || { msg "corpus_store failed on $c"; exit 1; }
		kt=$(($(store_size "$db") - BASE))
		# asciicast v2 by asciinema's writer + gzip -6, and sudo's I/O log
		read -r asc sudo < <(python3 - "$ev" "$ASC" "$HAVE_ASC" <<-'EOF'
		import gzip, io, os, struct, sys, tempfile, zlib
		ev, ascpath, have = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
		events = []
		with open(ev, "rb") as f:
		    while True:
		        h = f.read(13)
		        if len(h) < 13:
		            break
		        t, ts, n = struct.unpack("<cqI", h)
		        events.append((t, ts, f.read(n)))
		out = [(ts, d) for t, ts, d in events if t == b"o" and d]
		asc = "nan"
		if have:
		    sys.path.insert(0, ascpath)
		    from asciinema.asciicast.v2 import writer
		    tmp = tempfile.NamedTemporaryFile(delete=False, suffix=".cast")
		    tmp.close()
		    with writer(tmp.name, width=80, height=24, metadata={"timestamp": 1795300000,
		                "env": {"SHELL": "/bin/bash", "TERM": "xterm"}}) as w:
		        for ts, d in out:
		            w.write_stdout(ts / 1e6, d)
		    raw = open(tmp.name, "rb").read()
		    os.unlink(tmp.name)
		    asc = len(gzip.compress(raw, compresslevel=6, mtime=0))
		# sudo 1.9 iolog: ttyout and timing, each gzdopen(fd, "w") = zlib level 6
		timing, prev = io.StringIO(), 0
		for ts, d in out:
		    dt = ts - prev; prev = ts
		    timing.write("%d %d.%09d %d\n" % (4, dt // 1000000, (dt % 1000000) * 1000, len(d)))
		ttyout = b"".join(d for _, d in out)
		sudo = len(gzip.compress(ttyout, 6, mtime=0)) + len(gzip.compress(timing.getvalue().encode(), 6, mtime=0))
		print(asc, sudo)
		EOF
		) || { msg "encoding $c failed"; exit 1; }
		[ "$r" = 1 ] && bench_note "storage: where the bytes go, $c (round 1, bytes): $("$CB" "$db" "$BENCH_TMP/empty.db" | tr '\n' ' ')"
		best=$sudo
		[ "$asc" != nan ] && [ "$asc" -lt "$sudo" ] && best=$asc
		BEST[$c]+="$(awk -v a="$kt" -v b="$best" 'BEGIN { printf "%.4f", a / b }') "
		KT[$c]+="$(awk -v a="$kt" -v b="$raw_out" 'BEGIN { printf "%.4f", a / b }') "
		SUDO[$c]+="$(awk -v a="$sudo" -v b="$raw_out" 'BEGIN { printf "%.4f", a / b }') "
		if [ "$asc" != nan ]; then
			ASC_R[$c]+="$(awk -v a="$asc" -v b="$raw_out" 'BEGIN { printf "%.4f", a / b }') "
			RATIO[$c]+="$(awk -v a="$kt" -v b="$asc" 'BEGIN { printf "%.4f", a / b }') "
		fi
		sums=($((sums[0] + raw_out)) $((sums[1] + kt)) $((sums[2] + ${asc/nan/0})) $((sums[3] + sudo)) $((sums[4] + best)))
		msg "round $r $c: raw $raw_out (+$raw_in typed), $chunks chunks; kubetape $kt, asciicast.gz $asc, sudo $sudo bytes"
	done
	TOT_KT+=("$(awk -v a="${sums[1]}" -v b="${sums[0]}" 'BEGIN { printf "%.4f", a / b }')")
	TOT_SUDO+=("$(awk -v a="${sums[3]}" -v b="${sums[0]}" 'BEGIN { printf "%.4f", a / b }')")
	# the best anchor overall: whichever of the two stores less in all
	if [ "$HAVE_ASC" = 1 ] && [ "${sums[2]}" -lt "${sums[3]}" ]; then
		TOT_BEST+=("$(awk -v a="${sums[1]}" -v b="${sums[2]}" 'BEGIN { printf "%.4f", a / b }')")
	else
		TOT_BEST+=("$(awk -v a="${sums[1]}" -v b="${sums[3]}" 'BEGIN { printf "%.4f", a / b }')")
	fi
	if [ "$HAVE_ASC" = 1 ]; then
		TOT_ASC+=("$(awk -v a="${sums[2]}" -v b="${sums[0]}" 'BEGIN { printf "%.4f", a / b }')")
		TOT_RATIO+=("$(awk -v a="${sums[1]}" -v b="${sums[2]}" 'BEGIN { printf "%.4f", a / b }')")
	fi
	[ "$r" = 1 ] && bench_note "storage: corpus sizes (round 1, raw output bytes): $(for c in "${CORPORA[@]}"; do printf '%s %s  ' "$c" "$(python3 -c "
import struct,sys
n=0
f=open('$d/$c.ev','rb')
while True:
    h=f.read(13)
    if len(h)<13: break
    t,ts,l=struct.unpack('<cqI',h); f.seek(l,1)
    n+=l if t==b'o' else 0
print(n)")"; done)"
	rm -rf "$d"
done

# shellcheck disable=SC2086
for c in "${CORPORA[@]}"; do
	bench_row $WL "$c: kubetape bytes / output byte" x - ${KT[$c]}
	if [ "$HAVE_ASC" = 1 ]; then
		bench_row $WL "$c: asciicast.gz bytes / output byte" x - ${ASC_R[$c]}
		bench_row $WL "$c: kubetape / asciicast.gz" x - ${RATIO[$c]}
	fi
	bench_row $WL "$c: sudo iolog bytes / output byte" x - ${SUDO[$c]}
	bench_row $WL "$c: kubetape / best anchor" x "<=1" ${BEST[$c]}
done
bench_row $WL "overall: kubetape bytes / output byte" x - "${TOT_KT[@]}"
if [ "$HAVE_ASC" = 1 ]; then
	bench_row $WL "overall: asciicast.gz bytes / output byte" x - "${TOT_ASC[@]}"
	bench_row $WL "overall: kubetape / asciicast.gz" x - "${TOT_RATIO[@]}"
else
	bench_na $WL "overall: kubetape / asciicast.gz" "asciinema not installed (make deps)"
fi
bench_row $WL "overall: sudo iolog bytes / output byte" x - "${TOT_SUDO[@]}"
bench_row $WL "overall: kubetape / best anchor" x "<=0.8" "${TOT_BEST[@]}"
bench_note "storage: kubetape = store file after VACUUM minus an empty-session store ($BASE bytes), written through the store API with the recorder's chunking; asciicast = asciinema's writer + gzip -6; sudo = zlib-6 ttyout + timing streams (emulated)"
exit 0
