#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""mkimage.py ROOTFS TAG OUT.tar -- CMD... : a docker-archive image (one
uncompressed layer holding ROOTFS, Cmd = CMD) that `ctr images import`,
`docker load` and `podman load` all read.  No registry is reachable here,
so the runtime tests build their images locally from fakepod's rootfs.
"""
import hashlib
import io
import json
import os
import sys
import tarfile


def main():
    if len(sys.argv) < 6 or sys.argv[4] != "--":
        sys.exit("usage: mkimage.py ROOTFS TAG OUT.tar -- CMD...")
    rootfs, tag, out, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[5:]
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(os.listdir(rootfs)):
            t.add(os.path.join(rootfs, name), arcname=name)
    layer = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": cmd, "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "kubetape tests/lib/mkimage.py"}],
    }, sort_keys=True).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [tag],
                            "Layers": ["layer.tar"]}]).encode()
    with tarfile.open(out, "w") as t:
        for name, data in (("layer.tar", layer), (config_name, config), ("manifest.json", manifest)):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data))


main()
