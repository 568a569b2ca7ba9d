#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
tests/lib/deploy_check.py — static checks of deploy/ (run by
tests/e2e/deploy_manifest_test.sh, which finds the binaries' --help text).

  deploy_check.py REPO RECORDER_HELP_FILE WEB_HELP_FILE

Prints "PASS name" / "FAIL name: why" per check; exit 1 if any failed.
A help file that is empty means that binary is not built: the checks that
need it FAIL (they never skip).

What it asserts is the security contract deploy/README.md documents: change
both together, never this file alone to make a check pass.
"""
import os
import re
import sys

try:
    import yaml
except ImportError:
    print("FAIL deploy_yaml_module: python3 has no 'yaml' module: run 'make deps' (Debian package python3-yaml)")
    sys.exit(1)

# The documented capability set of the recorder (deploy/README.md, Privileges).
RECORDER_CAPS = {"BPF", "PERFMON", "SYS_PTRACE"}
# Where the runtimes keep their API sockets: no hostPath may contain one (a
# read-only mount does not stop connect(2)).
RUNTIME_SOCKETS = [
    "/run/containerd/containerd.sock", "/var/run/containerd/containerd.sock",
    "/run/crio/crio.sock", "/var/run/crio/crio.sock",
    "/run/docker.sock", "/var/run/docker.sock",
    "/run/containerd/s", "/run/dockershim.sock",
]
# Where the recorder looks for bundles below each state root (recorder/attrib.c)
CONTAINERD_SUB = "io.containerd.runtime.v2.task"
CRIO_SUB = "overlay-containers"
DOCKER_SUB = "containers"  # <docker-root>/containers/<id>/config.v2.json (attrib_runtime.c)
LOOPBACK = {"127.0.0.1", "::1", "[::1]", "localhost"}

failed = 0


def ok(name):
    print(f"PASS {name}")


def bad(name, why):
    global failed
    failed += 1
    print(f"FAIL {name}: {why}")


def check(name, cond, why):
    (ok if cond else (lambda n: bad(n, why)))(name)


def flags_in_help(help_text):
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", help_text))


def arg_flags(args):
    return [a.split("=", 1)[0] for a in args if a.startswith("--")]


def arg_value(args, flag):
    for i, a in enumerate(args):
        if a == flag and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return None


def under(path, root):
    path, root = path.rstrip("/") or "/", root.rstrip("/") or "/"
    return path == root or path.startswith(root + "/") or root == "/"


def main():
    repo, rec_help_f, web_help_f = sys.argv[1:4]
    rec_help = open(rec_help_f).read()
    web_help = open(web_help_f).read()
    manifest = os.path.join(repo, "deploy/kubetape.yaml")

    # ---------------------------------------------------------------- parse
    try:
        docs = [d for d in yaml.safe_load_all(open(manifest)) if d]
    except Exception as e:  # any parse error is the finding
        bad("deploy_yaml_parses", f"{manifest}: {e}")
        return
    kinds = {d.get("kind"): d for d in docs}
    missing = [k for k in ("Namespace", "ServiceAccount", "DaemonSet") if k not in kinds]
    if missing:
        bad("deploy_yaml_parses", f"missing {', '.join(missing)} (has {sorted(kinds)})")
        return
    ok("deploy_yaml_parses")

    ds = kinds["DaemonSet"]
    pod = ds["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in pod.get("containers", [])}
    inits = pod.get("initContainers", [])
    every = list(containers.values()) + inits
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    rec = containers.get("recorder")
    web = containers.get("web")
    if rec is None or web is None:
        bad("deploy_containers", f"want containers 'recorder' and 'web', have {sorted(containers)}")
        return
    ok("deploy_containers")

    def sc(c):
        return c.get("securityContext") or {}

    # ---------------------------------------------------------------- pod
    check("deploy_no_host_namespaces",
          not any(pod.get(k) for k in ("hostPID", "hostNetwork", "hostIPC")),
          "hostPID/hostNetwork/hostIPC set: " +
          str({k: pod.get(k) for k in ("hostPID", "hostNetwork", "hostIPC") if pod.get(k)}))
    seccomp_ok = True
    why = []
    for c in every:
        prof = (sc(c).get("seccompProfile") or (pod.get("securityContext") or {}).get("seccompProfile") or {})
        if prof.get("type") != "RuntimeDefault":
            seccomp_ok = False
            why.append(f"{c['name']}: {prof.get('type') or 'unset (Unconfined unless kubelet defaults it)'}")
    check("deploy_seccomp_runtime_default", seccomp_ok, "; ".join(why))
    sa = kinds["ServiceAccount"]
    check("deploy_no_api_token",
          sa.get("automountServiceAccountToken") is False and pod.get("automountServiceAccountToken") is False
          and not any(d.get("kind") in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding") for d in docs),
          "the recorder reads nothing from the API server: no token, no RBAC")

    # ---------------------------------------------------------------- recorder
    rsc = sc(rec)
    check("deploy_recorder_not_privileged",
          rsc.get("privileged") in (None, False) and rsc.get("allowPrivilegeEscalation") is False,
          f"privileged={rsc.get('privileged')} allowPrivilegeEscalation={rsc.get('allowPrivilegeEscalation')}")
    caps = rsc.get("capabilities") or {}
    drop, add = caps.get("drop") or [], set(caps.get("add") or [])
    check("deploy_recorder_caps_drop_all", drop == ["ALL"], f"drop is {drop}, want [ALL]")
    check("deploy_recorder_caps_exact", add == RECORDER_CAPS,
          f"add is {sorted(add)}, documented set is {sorted(RECORDER_CAPS)}")
    ro_fail = [c["name"] for c in every if sc(c).get("readOnlyRootFilesystem") is not True]
    check("deploy_readonly_rootfs", not ro_fail, f"not readOnlyRootFilesystem: {ro_fail}")
    for c in [web] + inits:
        csc = sc(c)
        cc = csc.get("capabilities") or {}
        extra = set(cc.get("add") or []) - ({"CHOWN"} if c in inits else set())
        check(f"deploy_{c['name'].replace('-', '_')}_least_privilege",
              cc.get("drop") == ["ALL"] and not extra and not csc.get("privileged")
              and csc.get("allowPrivilegeEscalation") is False,
              f"drop={cc.get('drop')} add={sorted(cc.get('add') or [])} privileged={csc.get('privileged')} "
              f"allowPrivilegeEscalation={csc.get('allowPrivilegeEscalation')}")
    check("deploy_web_not_root",
          sc(web).get("runAsNonRoot") is True and sc(web).get("runAsUser", 0) != 0,
          f"runAsNonRoot={sc(web).get('runAsNonRoot')} runAsUser={sc(web).get('runAsUser')}")

    env = {e["name"]: e for e in rec.get("env") or []}
    nn = env.get("NODE_NAME", {})
    check("deploy_node_name_downward_api",
          ((nn.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath") == "spec.nodeName",
          f"NODE_NAME is {nn or 'not set'}, want valueFrom.fieldRef.fieldPath spec.nodeName")

    # the recorder's flags exist in the built recorder
    rargs = (rec.get("command") or [])[1:] + (rec.get("args") or [])
    cmd0 = (rec.get("command") or [""])[0]
    if not rec_help.strip():
        bad("deploy_recorder_flags_exist", "kubetape-recorder is not built (no --help output): run 'make'")
    else:
        known = flags_in_help(rec_help)
        unknown = [f for f in arg_flags(rargs) if f not in known]
        check("deploy_recorder_flags_exist", cmd0 == "kubetape-recorder" and not unknown,
              f"command {cmd0!r}; flags not in 'kubetape-recorder --help': {unknown}")

    # ---------------------------------------------------------------- mounts
    def hostpath_mounts(c):
        out = []
        for m in c.get("volumeMounts") or []:
            v = volumes.get(m["name"], {})
            if "hostPath" in v:
                out.append((m, v["hostPath"]))
        return out

    db = arg_value(rargs, "--db") or "/var/lib/kubetape/kubetape.db"
    dbdir = os.path.dirname(db)
    dbm = [(m, hp) for m, hp in hostpath_mounts(rec) if m["mountPath"].rstrip("/") == dbdir]
    check("deploy_db_hostpath_mount",
          len(dbm) == 1 and not dbm[0][0].get("readOnly") and dbm[0][1].get("path") == dbdir
          and dbm[0][1].get("type") == "DirectoryOrCreate" and not dbm[0][0].get("subPath"),
          f"want {dbdir} mounted read-write from hostPath {dbdir} (DirectoryOrCreate), got {dbm}")
    wdbm = [m for m, hp in hostpath_mounts(web) if m["mountPath"].rstrip("/") == dbdir]
    check("deploy_web_db_readonly", len(wdbm) == 1 and wdbm[0].get("readOnly") is True,
          f"web must mount {dbdir} read-only, got {wdbm}")

    # The recorder pins its kernel state under --pin-dir (bpffs), so that one
    # read-write mount of the node's bpffs is expected, in the recorder only.
    pin = arg_value(rargs, "--pin-dir") or "/sys/fs/bpf/kubetape"
    pinm = [(m, hp) for m, hp in hostpath_mounts(rec) if m["mountPath"].rstrip("/") == "/sys/fs/bpf"]
    check("deploy_bpffs_mount",
          under(pin, "/sys/fs/bpf") and len(pinm) == 1 and not pinm[0][0].get("readOnly")
          and pinm[0][1].get("path") == "/sys/fs/bpf" and pinm[0][1].get("type") == "Directory",
          f"--pin-dir {pin} needs the node's /sys/fs/bpf mounted read-write (hostPath, type Directory), got {pinm}")

    problems = []
    for c in every:
        for m, hp in hostpath_mounts(c):
            p = hp.get("path", "")
            if c is rec and p.rstrip("/") == "/sys/fs/bpf":
                pass  # checked above
            elif (under(p, "/run") or under(p, "/var/run") or under(p, "/sys") or under(p, "/proc")) \
                    and m.get("readOnly") is not True:
                problems.append(f"{c['name']}: {p} is not readOnly")
            if m.get("mountPropagation") == "Bidirectional":
                problems.append(f"{c['name']}: {p} is Bidirectional")
            socks = [s for s in RUNTIME_SOCKETS if under(s, p)]
            if socks:
                problems.append(f"{c['name']}: hostPath {p} contains runtime sockets {socks}")
            if c is rec and p.rstrip("/") == "/proc":
                # the node's procfs for --proc-root: it cannot be at /proc,
                # the container's own; read-only (checked above) and the
                # recorder must be told where it is
                if m["mountPath"].rstrip("/") != (arg_value(rargs, "--proc-root") or "/proc").rstrip("/"):
                    problems.append(f"{c['name']}: the node's /proc is at {m['mountPath']}, "
                                    f"but --proc-root is {arg_value(rargs, '--proc-root')}")
            elif m["mountPath"].rstrip("/") != os.path.join(p, m.get("subPath", "")).rstrip("/"):
                problems.append(f"{c['name']}: hostPath {p} mounted at {m['mountPath']}: paths the recorder "
                                "reports would not be the node's")
    check("deploy_host_mounts_safe", not problems, "; ".join(problems))

    # every runtime state root the recorder is given is visible, read-only
    roots = [(arg_value(rargs[i:], "--containerd-state"), CONTAINERD_SUB)
             for i, a in enumerate(rargs) if a == "--containerd-state" or a.startswith("--containerd-state=")]
    roots += [(arg_value(rargs[i:], "--crio-state"), CRIO_SUB)
              for i, a in enumerate(rargs) if a == "--crio-state" or a.startswith("--crio-state=")]
    roots += [(arg_value(rargs[i:], "--docker-root"), DOCKER_SUB)
              for i, a in enumerate(rargs) if a == "--docker-root" or a.startswith("--docker-root=")]
    missing = []
    for root, sub in roots:
        need = os.path.join(root, sub)
        if not any(under(need, m["mountPath"]) and m.get("readOnly") is True for m, _ in hostpath_mounts(rec)):
            missing.append(need)
    check("deploy_runtime_state_mounts", roots and not missing,
          f"no read-only hostPath mount covers {missing}" if roots else "no --containerd-state/--crio-state/--docker-root")
    check("deploy_docker_root", any(r[1] == DOCKER_SUB for r in roots),
          "no --docker-root: docker containers (cri-dockerd nodes) would not be attributed")
    tr = [m for m, hp in hostpath_mounts(rec) if m["mountPath"] == "/sys/kernel/tracing"]
    check("deploy_tracefs_mount", len(tr) == 1 and tr[0].get("readOnly") is True,
          "the recorder's preflight needs tracefs at /sys/kernel/tracing (read-only hostPath)")

    # ---------------------------------------------------------------- web
    wargs = (web.get("command") or [])[1:] + (web.get("args") or [])
    listen = arg_value(wargs, "--listen")
    host = listen.rsplit(":", 1)[0] if listen else None
    check("deploy_web_loopback",
          (web.get("command") or [""])[0] == "kubetape-web" and host in LOOPBACK
          and "--insecure-http" not in arg_flags(wargs) and not web.get("ports"),
          f"web must listen on loopback by default (--listen {listen}), without --insecure-http or ports")
    if not web_help.strip():
        bad("deploy_web_flags_exist", "kubetape-web is not built (no --help output): the Makefile has no "
            "kubetape-web target yet, or run 'make'")
    else:
        known = flags_in_help(web_help)
        unknown = [f for f in arg_flags(wargs) if f not in known]
        check("deploy_web_flags_exist", not unknown, f"flags not in 'kubetape-web --help': {unknown}")

    # ---------------------------------------------------------------- images
    images = {c.get("image") for c in every}
    check("deploy_one_image", images == {"kubetape:VERSION"},
          f"every container should use the documented placeholder kubetape:VERSION, got {sorted(images)}")

    # ---------------------------------------------------------------- Containerfile
    containerfile(repo, [c for c in every])


def makefile_progs(repo):
    """Programs `make` (target all) builds into $(OUT): the PROGS list plus
    any $(OUT)/name an `all:` line names directly."""
    text = open(os.path.join(repo, "Makefile")).read().replace("\\\n", " ")
    progs = []
    for m in re.finditer(r"^PROGS\s*[:+]?=\s*(.*)$", text, re.M):
        progs += [os.path.basename(w) for w in m.group(1).split()]
    for m in re.finditer(r"^all\s*:(?!=)(.*)$", text, re.M):
        progs += [w[len("$(OUT)/"):] for w in m.group(1).split()
                  if w.startswith("$(OUT)/") and "/" not in w[len("$(OUT)/"):]]
    return progs


def containerfile(repo, containers):
    path = os.path.join(repo, "deploy/Containerfile")
    try:
        lines = open(path).read().replace("\\\n", " ").splitlines()
    except OSError as e:
        bad("deploy_containerfile_binaries", str(e))
        return
    stages, cur = [], None
    for ln in lines:
        s = ln.strip()
        if not s or s.startswith("#"):
            continue
        word = s.split()[0].upper()
        if word == "FROM":
            cur = {"from": s, "lines": []}
            stages.append(cur)
        elif cur is not None:
            cur["lines"].append(s)
    if len(stages) < 2:
        bad("deploy_containerfile_binaries", f"want a multi-stage build, found {len(stages)} FROM")
        return
    runtime = stages[-1]
    copied = []
    for s in runtime["lines"]:
        if s.split()[0].upper() == "COPY" and "--from=" in s:
            words = [w for w in s.split()[1:] if not w.startswith("--")]
            copied += [os.path.basename(w) for w in words[:-1]]
    progs = makefile_progs(repo)
    not_built = [c for c in copied if c not in progs]
    check("deploy_containerfile_binaries", copied and not not_built,
          f"runtime stage copies {not_built}, which the Makefile does not build (PROGS: {progs})")
    cmds = {(c.get("command") or [""])[0] for c in containers}
    base_tools = {"install"}  # coreutils, in debian:12-slim
    missing = [c for c in cmds if c not in copied and c not in base_tools]
    check("deploy_manifest_commands_in_image", not missing,
          f"the manifest runs {missing}, which the image does not ship")
    # builder installs deps.sh's BUILD list
    deps = open(os.path.join(repo, "tests/lib/deps.sh")).read()
    m = re.search(r"^BUILD=\(([^)]*)\)", deps, re.M)
    build_pkgs = m.group(1).split() if m else []
    builder_text = " ".join(" ".join(st["lines"]) for st in stages[:-1])
    absent = [p for p in build_pkgs if not re.search(r"(?<![\w.+-])" + re.escape(p) + r"(?![\w.+-])", builder_text)]
    check("deploy_containerfile_build_deps", build_pkgs and not absent,
          f"builder stage does not install deps.sh BUILD packages {absent}" if build_pkgs
          else "no BUILD=( ) list in tests/lib/deps.sh")
    check("deploy_containerfile_runs_make",
          any(re.search(r"\bmake\b(?!\s+clean)", s) for st in stages[:-1] for s in st["lines"] if s.upper().startswith("RUN")),
          "no builder RUN step runs make")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print("FAIL deploy_check_usage: usage: deploy_check.py REPO RECORDER_HELP_FILE WEB_HELP_FILE")
        sys.exit(2)
    main()
    sys.exit(1 if failed else 0)
