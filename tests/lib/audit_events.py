#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Kubernetes audit events (audit.k8s.io/v1) for kubetape's tests and bench.

Written from the Event reference, as kube-apiserver's log and webhook
backends emit them for pods/exec and pods/attach: one request = a
ResponseStarted event (code 101 when the stream opened) and a
ResponseComplete event, or one ResponseComplete with 403 when denied.

  audit_events.py [--eventlist] SPEC...     events to stdout (JSON lines, or
                                            one EventList document)
  SPEC = key=value,... with keys
    id      auditID (required)
    t       ResponseStarted time, float seconds since the epoch (required)
    user    user.username            imp   impersonatedUser.username
    groups  user groups, '+'-separated
    verb    create (SPDY, kubectl < 1.30) or get (WebSocket)
    ns pod container  where (defaults default/web-1/app)
    cmd     argv, '+'-separated words (each becomes one command= parameter)
    code    101 (default) or 403 (denied: one ResponseComplete event)
    execid  the admission webhook's audit annotation
    sub     exec (default) or attach
    stages  'started,complete' (default) or a subset
  bulk=N,seed=S: N random requests (bench), other keys as defaults
"""
import json
import random
import sys
import urllib.parse
from datetime import datetime, timezone


def ts(t):
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def events(spec):
    t = float(spec["t"])
    ns = spec.get("ns", "default")
    pod = spec.get("pod", "web-1")
    sub = spec.get("sub", "exec")
    code = int(spec.get("code", "101"))
    q = [("command", w) for w in spec.get("cmd", "sh").split("+")] if sub == "exec" else []
    q += [("container", spec.get("container", "app")), ("stdin", "true"), ("stdout", "true"),
          ("stderr", "true" if spec.get("tty") != "1" else "false")]
    if spec.get("tty") == "1":
        q.append(("tty", "true"))
    uri = "/api/v1/namespaces/%s/pods/%s/%s?%s" % (ns, pod, sub, urllib.parse.urlencode(q))
    user = {"username": spec.get("user", "alice"), "uid": "uid-" + spec.get("user", "alice"),
            "groups": spec.get("groups", "system:authenticated").split("+")}
    ann = {"authorization.k8s.io/decision": "forbid" if code == 403 else "allow",
           "authorization.k8s.io/reason": "" if code == 403 else 'RBAC: allowed by RoleBinding "exec"'}
    if spec.get("execid"):
        ann["exec-id.kubetape.io/exec-id"] = spec["execid"]
    base = {
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": spec["id"], "requestURI": uri, "verb": spec.get("verb", "create"),
        "user": user, "sourceIPs": [spec.get("ip", "10.0.0.7")],
        "userAgent": "kubectl/v1.31.0 (linux/amd64) kubernetes/9edcffc",
        "objectRef": {"resource": "pods", "namespace": ns, "name": pod,
                      "apiVersion": "v1", "subresource": sub},
        "requestReceivedTimestamp": ts(t - 0.05),
        "annotations": ann,
    }
    if spec.get("imp"):
        base["impersonatedUser"] = {"username": spec["imp"], "groups": ["devs", "system:authenticated"]}
    out = []
    stages = spec.get("stages", "started,complete").split(",")
    if code == 403:
        e = dict(base, stage="ResponseComplete", stageTimestamp=ts(t),
                 responseStatus={"metadata": {}, "status": "Failure", "reason": "Forbidden", "code": 403})
        return [e]
    if "started" in stages:
        out.append(dict(base, stage="ResponseStarted", stageTimestamp=ts(t),
                        responseStatus={"metadata": {}, "code": 101}))
    if "complete" in stages:
        out.append(dict(base, stage="ResponseComplete", stageTimestamp=ts(t + 1.5),
                        responseStatus={"metadata": {}, "code": 101}))
    return out


def bulk(spec):
    rnd = random.Random(int(spec.get("seed", "1")))
    n = int(spec["bulk"])
    t0 = float(spec.get("t", "1780000000"))
    out = []
    for i in range(n):
        if rnd.random() < 0.5:
            # most of an audit log is not exec: gets, lists, watches
            out.append({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
                        "auditID": "bulk-o-%d" % i, "stage": "ResponseComplete",
                        "requestURI": "/api/v1/namespaces/default/pods?limit=500", "verb": "list",
                        "user": {"username": "system:node:n%d" % (i % 50), "groups": ["system:nodes"]},
                        "sourceIPs": ["10.0.1.%d" % (i % 250)], "userAgent": "kubelet/v1.31.0",
                        "objectRef": {"resource": "pods", "namespace": "default", "apiVersion": "v1"},
                        "responseStatus": {"metadata": {}, "code": 200},
                        "requestReceivedTimestamp": ts(t0 + i * 0.01),
                        "stageTimestamp": ts(t0 + i * 0.01 + 0.002)})
        else:
            out.extend(events({"id": "bulk-x-%d" % i, "t": t0 + i * 0.01, "user": "u%d" % (i % 97),
                               "pod": "web-%d" % (i % 200), "cmd": "sh+-c+echo %d" % i,
                               "stages": "started"}))
    return out


def main(argv):
    eventlist = False
    if argv and argv[0] == "--eventlist":
        eventlist = True
        argv = argv[1:]
    evs = []
    for a in argv:
        spec = dict(kv.split("=", 1) for kv in a.split(",") if kv)
        evs.extend(bulk(spec) if "bulk" in spec else events(spec))
    if eventlist:
        json.dump({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "metadata": {}, "items": evs},
                  sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")
    else:
        for e in evs:
            sys.stdout.write(json.dumps(e, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
