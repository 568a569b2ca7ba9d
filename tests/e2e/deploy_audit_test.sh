#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# deploy/audit.yaml (the opt-in "who ran it" manifest) matches the code:
#   - every flag passed to kubetape-webhook is one its --help lists, and
#     every file it names is on a volume the pod mounts (the Secret, read-only)
#   - the store is the node's /var/lib/kubetape hostPath, read-write, at --db
#   - no privilege: drop ALL, not privileged, read-only root, RuntimeDefault
#   - the Service selects the pods and targets the container's port
#   - the MutatingWebhookConfiguration: its webhook name is the prefix of
#     the audit annotation the store reads (store/include/audit.h), CONNECT on
#     pods/exec, path /admit (served with --admission), opt-in per
#     namespace, failurePolicy Ignore
#   - deploy/audit-webhook-kubeconfig.yaml posts to /audit
#   - deploy/Containerfile ships kubetape-webhook
# Needs no root and no cluster; never skips (a missing python3-yaml or an
# unbuilt binary is a FAIL).
set -u
REPO=${KT_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
OUT=${KT_OUT:-$REPO/build}
case "$OUT" in /*) ;; *) OUT=$REPO/$OUT ;; esac
PY=
for p in /usr/bin/python3 python3; do
	command -v "$p" >/dev/null 2>&1 && "$p" -c 'import yaml' 2>/dev/null && { PY=$p; break; }
done
[ -n "$PY" ] || { echo "FAIL deploy_audit_yaml_module: no python3 with 'yaml': run 'make deps'"; exit 1; }
[ -x "$OUT/kubetape-webhook" ] || { echo "FAIL deploy_audit_webhook_built: $OUT/kubetape-webhook missing: run 'make'"; exit 1; }
HELP=$("$OUT/kubetape-webhook" --help 2>&1)
export HELP REPO
"$PY" - <<'PY'
import os, re, sys, yaml
repo, help_text = os.environ["REPO"], os.environ["HELP"]
failed = 0
def check(name, cond, why):
    global failed
    if cond:
        print("PASS " + name)
    else:
        print("FAIL %s: %s" % (name, why))
        failed += 1
docs = [d for d in yaml.safe_load_all(open(os.path.join(repo, "deploy/audit.yaml"))) if d]
by = {d["kind"]: d for d in docs}
check("deploy_audit_kinds", {"DaemonSet", "Service", "MutatingWebhookConfiguration"} <= set(by), sorted(by))
ds = by["DaemonSet"]
pod = ds["spec"]["template"]["spec"]
c = [x for x in pod["containers"] if x["command"] == ["kubetape-webhook"]]
check("deploy_audit_container", len(c) == 1, "no kubetape-webhook container")
c = c[0]
args = c["args"]
flags = [a for a in args if a.startswith("--")]
helpflags = set(re.findall(r"--[a-z][a-z-]*", help_text))
check("deploy_audit_flags_in_help", all(f in helpflags for f in flags),
      "flags not in kubetape-webhook --help: %s" % [f for f in flags if f not in helpflags])
val = {args[i]: args[i + 1] for i in range(len(args) - 1) if args[i].startswith("--") and not args[i + 1].startswith("--")}
mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
vols = {v["name"]: v for v in pod["volumes"]}
def mount_of(path):
    best = None
    for mp, m in mounts.items():
        if path.startswith(mp.rstrip("/") + "/") and (best is None or len(mp) > len(best[0])):
            best = (mp, m)
    return best
files = [val[f] for f in ("--tls-cert", "--tls-key", "--client-ca", "--token-file") if f in val]
ok = True
for f in files:
    mm = mount_of(f)
    if not mm or "secret" not in vols[mm[1]["name"]] or not mm[1].get("readOnly"):
        ok = False
check("deploy_audit_files_on_secret", ok and files, "credential files %s not on a read-only Secret mount" % files)
db = val.get("--db", "")
mm = mount_of(db)
check("deploy_audit_store_hostpath", mm and vols[mm[1]["name"]].get("hostPath", {}).get("path") == "/var/lib/kubetape"
      and not mm[1].get("readOnly"), "--db %s is not on the read-write /var/lib/kubetape hostPath" % db)
sc = c.get("securityContext", {})
check("deploy_audit_no_privilege", sc.get("privileged") is False and sc.get("allowPrivilegeEscalation") is False
      and sc.get("readOnlyRootFilesystem") is True and sc.get("capabilities", {}).get("drop") == ["ALL"]
      and not sc.get("capabilities", {}).get("add")
      and pod.get("securityContext", {}).get("seccompProfile", {}).get("type") == "RuntimeDefault"
      and pod.get("automountServiceAccountToken") is False and not pod.get("hostNetwork"),
      "security context: %s" % sc)
svc = by["Service"]
labels = ds["spec"]["template"]["metadata"]["labels"]
port = val.get("--listen", ":0").rsplit(":", 1)[1]
check("deploy_audit_service", all(labels.get(k) == v for k, v in svc["spec"]["selector"].items())
      and str(svc["spec"]["ports"][0]["targetPort"]) == port
      and any(str(p["containerPort"]) == port for p in c["ports"]), "Service selector/targetPort vs pod")
mwc = by["MutatingWebhookConfiguration"]["webhooks"][0]
hdr = open(os.path.join(repo, "store/include/audit.h")).read()
ann = re.search(r'#define KT_AUDIT_EXEC_ID_ANNOTATION "([^"]+)"', hdr).group(1)
rule = mwc["rules"][0]
check("deploy_audit_admission", ann == mwc["name"] + "/exec-id" and rule["operations"] == ["CONNECT"]
      and rule["resources"] == ["pods/exec"] and mwc["clientConfig"]["service"]["path"] == "/admit"
      and "--admission" in args and mwc.get("namespaceSelector", {}).get("matchLabels")
      and mwc.get("failurePolicy") == "Ignore" and mwc["admissionReviewVersions"] == ["v1"]
      and mwc["clientConfig"]["service"]["name"] == svc["metadata"]["name"],
      "webhook %s vs annotation %s, rules %s" % (mwc["name"], ann, rule))
kc = yaml.safe_load(open(os.path.join(repo, "deploy/audit-webhook-kubeconfig.yaml")))
check("deploy_audit_kubeconfig", kc["kind"] == "Config" and kc["clusters"][0]["cluster"]["server"].endswith("/audit"),
      "kubeconfig server does not post to /audit")
cf = open(os.path.join(repo, "deploy/Containerfile")).read()
check("deploy_audit_containerfile", "/src/build/kubetape-webhook" in cf, "Containerfile does not ship kubetape-webhook")
sys.exit(1 if failed else 0)
PY
