#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/audit_ingest.sh OUT [--quick|--smoke] — Kubernetes audit events into
# the store, per ingestion path (issue 12): events/s, wall time of the whole
# ingestion (process start included) over N events, half of them pods/exec
# stages (stored), half other requests (parsed and skipped), as a real audit
# log mixes them (tests/lib/audit_events.py bulk=N):
#
#   import jsonl     kubetape audit import FILE (one Event per line)
#   import list      kubetape audit import FILE (one EventList document)
#   follow           kubetape audit follow FILE --once (same lines; also
#                    writes its position with every 500 lines)
#   webhook          kubetape-webhook over HTTPS: EventList batches of 400
#                    events (the API server's default batch), one keep-alive
#                    TLS connection, client-certificate auth
#
# Each round into a fresh store.  No goal: the figures say what a node can
# take (a busy API server logs a few hundred exec-relevant events/s at most).
# Limits: the webhook figure includes Python's client (json.dumps of each
# batch is done before the clock starts).
. "$(dirname "$0")/lib.sh"

WL=audit
N=$(by_mode 50000 10000 400)
ROUNDS=$(by_mode 3 2 1)
HOOK=$BENCH_OUT/kubetape-webhook
[ -x "$KT_CLI" ] && [ -x "$HOOK" ] || { msg "$KT_CLI or $HOOK not built"; exit 1; }
command -v openssl >/dev/null || { bench_na $WL "webhook events/s" "openssl missing"; }

python3 "$KT_REPO/tests/lib/audit_events.py" "bulk=$N,seed=7" >"$BENCH_TMP/ev.jsonl"
python3 "$KT_REPO/tests/lib/audit_events.py" --eventlist "bulk=$N,seed=7" >"$BENCH_TMP/ev.json"
NEV=$(wc -l <"$BENCH_TMP/ev.jsonl")
msg "$NEV events ($N requests, half exec)"

rate() {	# rate T0_NS: events/s since T0
	echo "$NEV $1 $(now_ns)" | awk '{ printf "%.0f\n", $1 / (($3 - $2) / 1e9) }'
}

P=$BENCH_TMP/pki
mkdir -p "$P"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=bench-ca -keyout "$P/ca.key" -out "$P/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout "$P/srv.key" -out "$P/srv.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$P/ext"
openssl x509 -req -in "$P/srv.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 1 -extfile "$P/ext" -out "$P/srv.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=apiserver -keyout "$P/cli.key" -out "$P/cli.csr" 2>/dev/null
openssl x509 -req -in "$P/cli.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 1 -out "$P/cli.crt" 2>/dev/null
cat >"$BENCH_TMP/post.py" <<'PY'
import http.client, json, ssl, sys, time
port, ca, cert, key, path = sys.argv[1:6]
evs = [json.loads(l) for l in open(path)]
bodies = [json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "metadata": {},
                      "items": evs[i:i + 400]}).encode() for i in range(0, len(evs), 400)]
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
c = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx)
t0 = time.time()
for b in bodies:
    c.request("POST", "/audit", body=b, headers={"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("status %d" % r.status)
print("%.0f" % (len(evs) / (time.time() - t0)))
PY

r_jsonl=() r_list=() r_follow=() r_hook=()
for i in $(seq "$ROUNDS"); do
	rm -f "$BENCH_TMP"/r.db*
	t=$(now_ns); "$KT_CLI" --db "$BENCH_TMP/r.db" audit import "$BENCH_TMP/ev.jsonl" 2>"$BENCH_TMP/i.err" || { cat "$BENCH_TMP/i.err" >&2; exit 1; }
	r_jsonl+=("$(rate "$t")")
	rm -f "$BENCH_TMP"/r.db*
	t=$(now_ns); "$KT_CLI" --db "$BENCH_TMP/r.db" audit import "$BENCH_TMP/ev.json" 2>"$BENCH_TMP/i.err" || { cat "$BENCH_TMP/i.err" >&2; exit 1; }
	r_list+=("$(rate "$t")")
	rm -f "$BENCH_TMP"/r.db*
	t=$(now_ns); "$KT_CLI" --db "$BENCH_TMP/r.db" audit follow "$BENCH_TMP/ev.jsonl" --once 2>"$BENCH_TMP/i.err" || { cat "$BENCH_TMP/i.err" >&2; exit 1; }
	r_follow+=("$(rate "$t")")
	rm -f "$BENCH_TMP"/r.db* "$BENCH_TMP/port"
	"$HOOK" --db "$BENCH_TMP/r.db" --listen 127.0.0.1:0 --port-file "$BENCH_TMP/port" --tls-cert "$P/srv.crt" \
		--tls-key "$P/srv.key" --client-ca "$P/ca.crt" --log-level warn 2>"$BENCH_TMP/hook.log" &
	hp=$!
	for _ in $(seq 100); do [ -s "$BENCH_TMP/port" ] && break; sleep 0.05; done
	r=$(python3 "$BENCH_TMP/post.py" "$(cat "$BENCH_TMP/port")" "$P/ca.crt" "$P/cli.crt" "$P/cli.key" "$BENCH_TMP/ev.jsonl") ||
		{ kill $hp; cat "$BENCH_TMP/hook.log" >&2; exit 1; }
	kill -TERM $hp; wait $hp
	r_hook+=("$r")
	msg "round $i: import jsonl ${r_jsonl[-1]}, import list ${r_list[-1]}, follow ${r_follow[-1]}, webhook $r events/s"
done
bench_row $WL "import (JSON lines) events/s" ev/s - "${r_jsonl[@]}"
bench_row $WL "import (EventList) events/s" ev/s - "${r_list[@]}"
bench_row $WL "follow --once events/s" ev/s - "${r_follow[@]}"
bench_row $WL "webhook (HTTPS, 400/batch) events/s" ev/s - "${r_hook[@]}"
bench_note "audit: $NEV events per round ($N requests, half pods/exec), fresh store each round"
