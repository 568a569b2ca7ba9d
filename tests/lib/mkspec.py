#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the OCI spec of one container of a fake pod, shaped like what the
CRI plugin of containerd gives runc for a kubelet pod: CRI annotations, a
kubepods cgroupfs path, and (for app containers) the sandbox's net/ipc/uts
namespaces joined, /etc/hostname and /etc/hosts bind-mounted from the pod dir.

usage: mkspec.py [--host-pid] [--terminal] BASE_SPEC OUT ROLE CID SANDBOX_ID POD_NAME POD_NS POD_UID
                 CONTAINER_NAME ROOTFS CGROUPS_PATH POD_DIR [SANDBOX_INIT_PID]
                 -- ARGS...
ROLE is sandbox or container.  BASE_SPEC is `ctr oci spec` output.
--host-pid: no pid namespace of its own (a hostPID pod's container);
--terminal: process.terminal = true (kubectl run -it, kubectl debug -it).
"""
import json
import sys


def main(a):
    if "--" not in a:
        sys.exit("mkspec.py: missing -- before the container's command")
    dd = a.index("--")
    pos, args = a[1:dd], a[dd + 1:]
    host_pid = "--host-pid" in pos
    terminal = "--terminal" in pos
    pos = [x for x in pos if x not in ("--host-pid", "--terminal")]
    if len(pos) not in (12, 13) or not args:
        sys.exit(__doc__)
    base, out, role, cid, sbid, pname, pns, puid, cname, rootfs, cgpath, poddir = pos[:12]
    sbpid = pos[12] if len(pos) == 13 else None
    if role not in ("sandbox", "container"):
        sys.exit("mkspec.py: ROLE must be sandbox or container")
    if role == "container" and not sbpid:
        sys.exit("mkspec.py: a container needs SANDBOX_INIT_PID")

    with open(base) as f:
        s = json.load(f)
    s["root"] = {"path": rootfs, "readonly": False}
    s["process"]["args"] = args
    s["process"]["cwd"] = "/"
    if terminal:
        s["process"]["terminal"] = True
    # kubelet passes TERM for tty execs; HOME lets bash find ~ like in a pod.
    s["process"]["env"] = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                           "HOSTNAME=" + pname, "TERM=xterm", "HOME=/root"]
    s["linux"]["cgroupsPath"] = cgpath
    ann = {"io.kubernetes.cri.container-type": role,
           "io.kubernetes.cri.sandbox-id": sbid,
           "io.kubernetes.cri.sandbox-name": pname,
           "io.kubernetes.cri.sandbox-namespace": pns,
           "io.kubernetes.cri.sandbox-uid": puid}
    if role == "sandbox":
        s["hostname"] = pname
        ann["io.kubernetes.cri.sandbox-log-directory"] = f"/var/log/pods/{pns}_{pname}_{puid}"
    else:
        ann["io.kubernetes.cri.container-name"] = cname
        ann["io.kubernetes.cri.image-name"] = "registry.example/kubetape/fakepod:v1"
        # Join the sandbox's net/ipc/uts like CRI; own pid + mount namespaces.
        s["linux"]["namespaces"] = [
            {"type": "pid"}, {"type": "mount"},
            {"type": "network", "path": f"/proc/{sbpid}/ns/net"},
            {"type": "ipc", "path": f"/proc/{sbpid}/ns/ipc"},
            {"type": "uts", "path": f"/proc/{sbpid}/ns/uts"}]
        if host_pid:
            s["linux"]["namespaces"].pop(0)
        for name in ("hostname", "hosts"):
            s["mounts"].append({"destination": f"/etc/{name}", "type": "bind",
                                "source": f"{poddir}/{name}",
                                "options": ["rbind", "rprivate", "rw"]})
    s["annotations"] = ann
    with open(out, "w") as f:
        json.dump(s, f, indent=1)


if __name__ == "__main__":
    main(sys.argv)
