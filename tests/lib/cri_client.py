#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""cri_client.py — the kubelet's side of the CRI, as much as the tests need.

    cri_client.py SOCK version
    cri_client.py SOCK runp   --name N --namespace NS --uid U --cgroup-parent CG --log-dir D
    cri_client.py SOCK create --sandbox ID --name C --image IMG POD-FLAGS -- CMD...
    cri_client.py SOCK start ID
    cri_client.py SOCK exec [-t] [-i] ID -- CMD...    (exit status = the command's)
    cri_client.py SOCK stopp ID | rmp ID

runp/create print the new id.  POD-FLAGS repeat runp's (CreateContainer
carries the sandbox config again, as kubelet sends it).  Pods use the
node's network (no CNI needed) and their own pid namespace.

The protobuf messages of k8s.io/cri-api (package runtime.v1) are encoded
by hand from the API's documented field numbers (only the fields used
here); gRPC carries the bytes.  Exec returns a URL on the runtime's
streaming server; this client speaks the WebSocket flavour of it
(subprotocol v4.channel.k8s.io: one leading channel byte per message,
0 stdin, 1 stdout, 2 stderr, 3 error/status JSON, 4 resize JSON), with
the terminal in raw mode and SIGWINCH sent as resizes, as kubectl does.

Runs with Debian's /usr/bin/python3 (python3-grpcio).
"""
import argparse
import base64
import fcntl
import hashlib
import json
import os
import select
import signal
import socket
import struct
import sys
import termios
import tty
import urllib.parse

import grpc

# ------------------------------------------------------------------ protobuf


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def f_bytes(num, data):
    if isinstance(data, str):
        data = data.encode()
    return _varint(num << 3 | 2) + _varint(len(data)) + data


def f_int(num, n):
    return _varint(num << 3) + _varint(n) if n else b""


def f_str(num, s):
    return f_bytes(num, s) if s else b""


def f_map(num, d):
    return b"".join(f_bytes(num, f_str(1, k) + f_str(2, v)) for k, v in d.items())


def decode(buf):
    """{field number: [values]}: ints for varints, bytes for length-delimited."""
    out, i = {}, 0
    while i < len(buf):
        key, i = _read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _read_varint(buf, i)
        elif wt == 2:
            n, i = _read_varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        out.setdefault(num, []).append(v)
    return out


def _read_varint(buf, i):
    n = shift = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


# runtime.v1 NamespaceMode
NS_POD, NS_CONTAINER, NS_NODE = 0, 1, 2


def pod_sandbox_config(a):
    metadata = f_str(1, a.name) + f_str(2, a.uid) + f_str(3, a.namespace)  # PodSandboxMetadata
    # NamespaceOption: network=1 pid=2 ipc=3
    ns_opts = f_int(1, NS_NODE) + f_int(2, NS_CONTAINER) + f_int(3, NS_POD)
    security = f_bytes(1, ns_opts)  # LinuxSandboxSecurityContext.namespace_options
    linux = f_str(1, a.cgroup_parent) + f_bytes(2, security)  # LinuxPodSandboxConfig
    # PodSandboxConfig: metadata=1 log_directory=3 labels=6 linux=8 (no
    # hostname=2: a host-network pod shares the node's UTS namespace)
    return (f_bytes(1, metadata) + f_str(3, a.log_dir) +
            f_map(6, {"io.kubernetes.pod.name": a.name, "io.kubernetes.pod.namespace": a.namespace,
                      "io.kubernetes.pod.uid": a.uid}) + f_bytes(8, linux))


def rpc(chan, method, req, timeout=60):
    call = chan.unary_unary("/runtime.v1.RuntimeService/" + method,
                            request_serializer=lambda b: b, response_deserializer=lambda b: b)
    return decode(call(req, timeout=timeout))


def first_str(msg, num):
    return msg.get(num, [b""])[0].decode()


# ------------------------------------------------------------------ websocket


class WebSocket:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "http":
            raise SystemExit("cri_client: streaming URL %r: only plain http is spoken here" % url)
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        path = u.path + ("?" + u.query if u.query else "")
        self.sock.sendall((
            "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n" % (path, u.netloc, key)).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise SystemExit("cri_client: streaming server closed during the handshake")
            buf += chunk
        head, self.buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode(errors="replace").split("\r\n")
        if " 101 " not in lines[0] + " ":
            raise SystemExit("cri_client: streaming server refused the upgrade: %s" % lines[0])
        hdrs = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
        want = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        if hdrs.get("sec-websocket-accept") != want:
            raise SystemExit("cri_client: bad Sec-WebSocket-Accept")
        if hdrs.get("sec-websocket-protocol") != "v4.channel.k8s.io":
            raise SystemExit("cri_client: server chose protocol %r" % hdrs.get("sec-websocket-protocol"))
        self.sock.settimeout(None)
        self.partial = b""

    def send(self, payload, opcode=2):
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def recv(self):
        """One whole message: (opcode, payload); raises EOFError at the end."""
        while True:
            self._need(2)
            b0, b1 = self.buf[0], self.buf[1]
            n, off = b1 & 0x7F, 2
            if n == 126:
                self._need(4)
                n, off = struct.unpack(">H", self.buf[2:4])[0], 4
            elif n == 127:
                self._need(10)
                n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
            if b1 & 0x80:
                raise SystemExit("cri_client: server sent a masked frame")
            self._need(off + n)
            payload, self.buf = self.buf[off:off + n], self.buf[off + n:]
            opcode = b0 & 0x0F
            if opcode == 9:
                self.send(payload, 10)
                continue
            if opcode == 10:
                continue
            if opcode == 8:
                raise EOFError
            if opcode in (1, 2):
                self.opcode = opcode
            self.partial += payload
            if b0 & 0x80:
                msg, self.partial = self.partial, b""
                return self.opcode, msg

    def pending(self):
        return len(self.buf) > 0


def exit_code_of(status):
    if not status:
        return 0
    st = json.loads(status)
    if st.get("status") == "Success":
        return 0
    for c in (st.get("details") or {}).get("causes") or []:
        if c.get("reason") == "ExitCode":
            return int(c.get("message"))
    sys.stderr.write("cri_client: exec failed: %s\n" % st.get("message"))
    return 1


def winsize(fd):
    rows, cols = struct.unpack("hhhh", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))[:2]
    return json.dumps({"Width": cols, "Height": rows}).encode()


def do_exec(chan, a):
    # ExecRequest: container_id=1 cmd=2 tty=3 stdin=4 stdout=5 stderr=6
    req = (f_str(1, a.id) + b"".join(f_bytes(2, c) for c in a.cmd) + f_int(3, a.tty) +
           f_int(4, a.stdin) + f_int(5, 1) + f_int(6, 0 if a.tty else 1))
    url = first_str(rpc(chan, "Exec", req), 1)  # ExecResponse.url
    ws = WebSocket(url)
    saved = None
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    if a.tty and os.isatty(0):
        saved = termios.tcgetattr(0)
        tty.setraw(0)
        signal.signal(signal.SIGWINCH, lambda *_: None)
        signal.set_wakeup_fd(wake_w)
        ws.send(b"\x04" + winsize(0))
    status = b""
    stdin_open = a.stdin
    try:
        while True:
            fds = [ws.sock, wake_r] + ([0] if stdin_open else [])
            r = [ws.sock] if ws.pending() else select.select(fds, [], [])[0]
            if wake_r in r:
                os.read(wake_r, 512)
                ws.send(b"\x04" + winsize(0))
            if 0 in r:
                data = os.read(0, 65536)
                if data:
                    ws.send(b"\x00" + data)
                else:
                    stdin_open = False
            if ws.sock in r:
                try:
                    _, msg = ws.recv()
                except EOFError:
                    break
                if not msg:
                    continue
                ch, data = msg[0], msg[1:]
                if ch == 1:
                    os.write(1, data)
                elif ch == 2:
                    os.write(2, data)
                elif ch == 3:
                    status += data
    finally:
        if saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)
    return exit_code_of(status)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("sock")
    sub = p.add_subparsers(dest="op", required=True)
    sub.add_parser("version")
    for name in ("runp", "create"):
        sp = sub.add_parser(name)
        for f in ("--name", "--namespace", "--uid", "--cgroup-parent", "--log-dir"):
            sp.add_argument(f, required=True)
        if name == "create":
            sp.add_argument("--sandbox", required=True)
            sp.add_argument("--container", required=True)
            sp.add_argument("--image", required=True)
            sp.add_argument("cmd", nargs="+")
    for name in ("start", "stopp", "rmp"):
        sub.add_parser(name).add_argument("id")
    ep = sub.add_parser("exec")
    ep.add_argument("-t", dest="tty", action="store_true")
    ep.add_argument("-i", dest="stdin", action="store_true")
    ep.add_argument("id")
    ep.add_argument("cmd", nargs="+")
    a = p.parse_args()

    chan = grpc.insecure_channel("unix://" + a.sock)
    if a.op == "version":
        r = rpc(chan, "Version", f_str(1, "v1"))
        print(" ".join(first_str(r, n) for n in (2, 3, 4)))
    elif a.op == "runp":
        print(first_str(rpc(chan, "RunPodSandbox", f_bytes(1, pod_sandbox_config(a))), 1))
    elif a.op == "create":
        # ContainerConfig: metadata=1 image=2 command=3 log_path=11
        cfg = (f_bytes(1, f_str(1, a.container)) + f_bytes(2, f_str(1, a.image)) +
               b"".join(f_bytes(3, c) for c in a.cmd) + f_str(11, a.container + ".log"))
        req = f_str(1, a.sandbox) + f_bytes(2, cfg) + f_bytes(3, pod_sandbox_config(a))
        print(first_str(rpc(chan, "CreateContainer", req), 1))
    elif a.op == "start":
        rpc(chan, "StartContainer", f_str(1, a.id))
    elif a.op == "stopp":
        rpc(chan, "StopPodSandbox", f_str(1, a.id))
    elif a.op == "rmp":
        rpc(chan, "RemovePodSandbox", f_str(1, a.id))
    elif a.op == "exec":
        sys.exit(do_exec(chan, a))


if __name__ == "__main__":
    try:
        main()
    except grpc.RpcError as e:
        sys.exit("cri_client: %s: %s" % (e.code().name, e.details()))
