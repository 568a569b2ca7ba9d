#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench/corpus.py SEED OUTDIR — the storage benchmark's terminal corpus.

Writes four timed event streams, OUTDIR/{shell,logs,editor,random}.ev, each
what a terminal showed during a plausible session (output after the line
discipline: "\\r\\n" line ends, kernel echo of typed keys):

  shell   interactive shell: prompts, keys echoed one by one 80-250 ms apart,
          short outputs (ls, id, ps, env, cat of small files), think time
  logs    `ls -lR` of real directories, dmesg-like kernel log lines, and
          `top -b`-style frames once a second (real text from this host)
  editor  a full-screen editor paging through C source: cursor moves,
          line redraws with colour (SGR) escapes, full-page redraws, status line
  random  base64 of random bytes (incompressible text)

Event file format (little endian), one record per write(2) the terminal saw:
  u8 type ('o' output, 'i' input), i64 ts_us (virtual time from 0), u32 len, data
Input events are the typed keys (kubetape records them by default; asciinema
and sudo's log_output do not, so the benchmark counts them against kubetape).

Limits: synthetic timing; the text is real where the host has it (ls -lR of
/usr/share, this repository's sources), generated otherwise; the same SEED
gives the same corpus on the same host.
"""
import base64
import os
import random
import struct
import subprocess
import sys

SEED, OUT = int(sys.argv[1]), sys.argv[2]
SCALE = float(os.environ.get("BENCH_CORPUS_SCALE", "1"))  # smoke runs shrink it
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
rng = random.Random(SEED)


class Stream:
    def __init__(self, name):
        self.f = open(os.path.join(OUT, name + ".ev"), "wb")
        self.t = 0  # us

    def ev(self, data, typ=b"o", dt_us=0):
        self.t += int(dt_us)
        if isinstance(data, str):
            data = data.encode()
        # a program's write(2) of more than 4 KiB reaches the pty master in
        # 4 KiB pieces (the n_tty buffer), so the terminal sees those
        for i in range(0, len(data), 4096):
            piece = data[i:i + 4096]
            self.f.write(struct.pack("<cqI", typ, self.t, len(piece)) + piece)
            self.t += 30

    def close(self):
        self.f.close()


def crlf(b):
    if isinstance(b, str):
        b = b.encode()
    return b.replace(b"\n", b"\r\n")


def host(cmd, limit):
    try:
        return subprocess.run(cmd, capture_output=True, timeout=30).stdout[:limit]
    except Exception:  # noqa: BLE001 - the corpus falls back to generated text
        return b""


# ---------------------------------------------------------------- shell
def shell():
    s = Stream("shell")
    prompt = "root@web-7d4b9c:/app# "
    files = ["app.py", "config.yaml", "requirements.txt", "static", "templates", "Dockerfile",
             "README.md", "migrations", "wsgi.py", "tests", "logs", "venv"]
    outputs = {
        "ls": lambda: "  ".join(rng.sample(files, rng.randint(4, len(files)))) + "\n",
        "ls -la": lambda: "total %d\n" % rng.randint(20, 90) + "".join(
            "%s 1 app app %6d Nov %2d %02d:%02d %s\n" % (rng.choice(["-rw-r--r--", "drwxr-xr-x"]),
                                                      rng.randint(0, 99999), rng.randint(1, 28),
                                                      rng.randint(0, 23), rng.randint(0, 59), f)
            for f in rng.sample(files, rng.randint(5, len(files)))),
        "id": lambda: "uid=0(root) gid=0(root) groups=0(root)\n",
        "ps aux": lambda: "USER  PID %CPU %MEM    VSZ   RSS TTY  STAT START TIME COMMAND\n" + "".join(
            "root %4d  %3.1f  %3.1f %6d %5d pts/0 S   10:%02d  0:%02d %s\n" % (
                rng.randint(1, 999), rng.random() * 5, rng.random() * 3, rng.randint(2000, 900000),
                rng.randint(500, 90000), rng.randint(0, 59), rng.randint(0, 59),
                rng.choice(["python3 app.py", "gunicorn wsgi:app", "bash", "sleep 1000", "ps aux"]))
            for _ in range(rng.randint(3, 9))),
        "env": lambda: "".join("%s=%s\n" % kv for kv in [
            ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"), ("HOSTNAME", "web-7d4b9c"),
            ("KUBERNETES_SERVICE_HOST", "10.96.0.1"), ("KUBERNETES_PORT", "tcp://10.96.0.1:443"),
            ("APP_ENV", "production"), ("HOME", "/root"), ("TERM", "xterm")]),
        "cat config.yaml": lambda: "".join("%s: %s\n" % (k, rng.choice(["true", "false", str(rng.randint(1, 9000)), "\"db.shop.svc\""]))
                                           for k in rng.sample(["debug", "port", "workers", "db_host", "cache_ttl",
                                                                "log_level", "timeout", "retries"], 6)),
        "df -h": lambda: "Filesystem Size Used Avail Use%% Mounted on\noverlay 100G %dG %dG %d%% /\ntmpfs 64M 0 64M 0%% /dev\n" % (
            rng.randint(10, 90), rng.randint(10, 90), rng.randint(10, 90)),
        "echo $APP_ENV": lambda: "production\n",
        "curl -s localhost:8080/healthz": lambda: "{\"status\":\"ok\",\"uptime\":%d}\n" % rng.randint(1, 10 ** 6),
        "tail -n 5 logs/app.log": lambda: "".join("2026-11-22 10:%02d:%02d INFO request GET /api/items/%d 200 %dms\n" % (
            rng.randint(0, 59), rng.randint(0, 59), rng.randint(1, 9999), rng.randint(1, 900)) for _ in range(5)),
        "cd static": lambda: "", "cd ..": lambda: "", "pwd": lambda: "/app\n",
    }
    cmds = list(outputs)
    s.ev(prompt)
    for _ in range(int(600 * SCALE) or 1):
        c = rng.choice(cmds)
        s.ev(b"", dt_us=rng.randint(1, 5) * 1e6)  # think time
        for ch in c:
            s.ev(ch, b"i", rng.randint(80, 250) * 1000)
            s.ev(ch, b"o", rng.randint(50, 300))  # the kernel's echo
        s.ev("\r", b"i", rng.randint(80, 250) * 1000)
        s.ev("\r\n", b"o", 200)
        out = crlf(outputs[c]())
        if out:
            s.ev(out, dt_us=rng.randint(1000, 30000))
        s.ev(prompt, dt_us=500)
    s.close()


# ---------------------------------------------------------------- logs
def logs():
    s = Stream("logs")
    lsr = crlf(host(["ls", "-lR", "/usr/share/doc", "/usr/lib/python3"], int(3e6 * SCALE)))
    s.ev(b"", dt_us=1e6)
    for i in range(0, len(lsr), 8192):
        s.ev(lsr[i:i + 8192], dt_us=2000)
    # dmesg-like
    t = 0.0
    subsys = ["eth0: Link is Up - 10Gbps/Full", "EXT4-fs (vda1): re-mounted. Opts: errors=remount-ro",
              "audit: type=1400 audit(%d.%03d:%d): apparmor=\"STATUS\" operation=\"profile_load\"",
              "IPv6: ADDRCONF(NETDEV_CHANGE): veth%x: link becomes ready",
              "cni0: port %d(veth%x) entered forwarding state",
              "TCP: request_sock_TCP: Possible SYN flooding on port %d. Sending cookies.",
              "oom_reaper: reaped process %d (python3), now anon-rss:0kB, file-rss:0kB"]
    buf = []
    for _ in range(int(40000 * SCALE)):
        t += rng.random() * 0.05
        fmt = rng.choice(subsys)
        n = fmt.count("%")
        args = tuple(rng.randint(1, 65535) for _ in range(n))
        buf.append("[%12.6f] %s\n" % (t, fmt % args if n else fmt))
        if len(buf) == 40:
            s.ev(crlf("".join(buf)), dt_us=rng.randint(1000, 20000))
            buf = []
    # top -b frames, one a second
    top = host(["top", "-b", "-n", "1", "-w", "120"], 200000).decode(errors="replace").split("\n")
    if len(top) < 8:
        top = ["top - 10:00:00 up 1 day", "Tasks: 100 total", "%Cpu(s): 1.0 us", "MiB Mem : 24000 total",
               "", "    PID USER  PR NI VIRT RES SHR S %CPU %MEM TIME+ COMMAND"] + [
            "%7d root 20 0 %6d %5d %5d S 0.0 0.1 0:00.%02d proc%d" % (i, i * 10, i, i, i % 100, i) for i in range(60)]
    head, procs = top[:7], [l for l in top[7:] if l.strip()]
    for frame in range(int(300 * SCALE) or 1):
        lines = list(head)
        lines[0] = "top - 10:%02d:%02d up 12 days,  3:04,  0 users,  load average: %.2f, %.2f, %.2f" % (
            frame // 60 % 60, frame % 60, rng.random() * 2, rng.random() * 2, rng.random() * 2)
        body = []
        for p in procs[:40]:
            f = p.split()
            if len(f) >= 12:
                f[8] = "%.1f" % (rng.random() * 10 if rng.random() < 0.2 else 0)
                f[10] = "%d:%02d.%02d" % (rng.randint(0, 9), rng.randint(0, 59), rng.randint(0, 99))
                p = " ".join(f)
            body.append(p)
        s.ev(crlf("\n".join(lines + body) + "\n\n"), dt_us=1e6)
    s.close()


# ---------------------------------------------------------------- editor
KEYWORDS = ("static", "int", "return", "if", "else", "for", "while", "struct", "const", "char",
            "void", "uint64_t", "goto", "sizeof", "unsigned", "bool", "case", "switch", "break")


def colour(line):
    out = []
    for w in line.split(" "):
        if w in KEYWORDS:
            out.append("\x1b[38;5;130m%s\x1b[m" % w)
        elif w.startswith("//") or w.startswith("/*") or w.startswith("*"):
            out.append("\x1b[38;5;244m%s" % w)
        elif w.startswith("\""):
            out.append("\x1b[38;5;28m%s\x1b[m" % w)
        else:
            out.append(w)
    return " ".join(out)


def editor():
    s = Stream("editor")
    src = []
    for d in ("store", "replay", "recorder"):
        p = os.path.join(REPO, d)
        for f in sorted(os.listdir(p)) if os.path.isdir(p) else []:
            if f.endswith(".c"):
                src += open(os.path.join(p, f), errors="replace").read().expandtabs(8).split("\n")
    if not src:
        src = ["int x%d = %d;" % (i, i) for i in range(5000)]
    rows, cols = 23, 120
    top, cur = 0, 0
    s.ev("\x1b[?1049h\x1b[?1h\x1b=\x1b[H\x1b[2J", dt_us=1e6)

    def page():
        out = ["\x1b[?25l\x1b[H\x1b[2J"]
        for r in range(rows):
            n = top + r
            text = src[n][:cols - 6] if n < len(src) else "~"
            out.append("\x1b[%d;1H\x1b[38;5;242m%5d \x1b[m%s\x1b[K" % (r + 1, n + 1, colour(text)))
        out.append(status())
        return "".join(out)

    def status():
        return "\x1b[24;1H\x1b[7m store/chunk.c [+]   %d,%d   %d%%\x1b[m\x1b[%d;%dH\x1b[?25h" % (
            top + cur + 1, 1, (top + cur) * 100 // max(1, len(src)), cur + 1, 7)

    s.ev(page(), dt_us=50000)
    for _ in range(int(8000 * SCALE) or 1):
        k = rng.random()
        if k < 0.55:  # j/k: cursor move, scroll by one line at the edges
            s.ev("j", b"i", rng.randint(60, 200) * 1000)
            if cur < rows - 1:
                cur += 1
                s.ev(status(), dt_us=300)
            else:
                top = min(top + 1, max(0, len(src) - rows))
                n = top + rows - 1
                text = src[n][:cols - 6] if n < len(src) else "~"
                s.ev("\x1b[1;23r\x1b[23;1H\n\x1b[r\x1b[23;1H\x1b[38;5;242m%5d \x1b[m%s\x1b[K" % (n + 1, colour(text)) + status(), dt_us=300)
        elif k < 0.70:  # ^F / ^B: full page redraw
            s.ev("\x06", b"i", rng.randint(150, 600) * 1000)
            top = (top + rows) % max(1, len(src) - rows)
            s.ev(page(), dt_us=400)
        elif k < 0.92:  # typing into the line: redraw of the line
            ch = rng.choice("abcdefghijklmnopqrstuvwxyz _();")
            s.ev(ch, b"i", rng.randint(80, 250) * 1000)
            n = top + cur
            if n < len(src):
                src[n] = (src[n] + ch)[:cols]
            s.ev("\x1b[%d;7H%s\x1b[K" % (cur + 1, colour(src[n][:cols - 6] if n < len(src) else "")) + status(), dt_us=300)
        else:  # :w
            s.ev(":w\r", b"i", rng.randint(500, 2000) * 1000)
            s.ev("\x1b[24;1H\x1b[K\"store/chunk.c\" %dL, %dB written" % (len(src), sum(map(len, src))), dt_us=5000)
    s.ev("\x1b[?1049l", dt_us=1e6)
    s.close()


# ---------------------------------------------------------------- random
def rnd():
    s = Stream("random")
    data = crlf(base64.encodebytes(rng.randbytes(int(3 << 20) if SCALE >= 1 else int((3 << 20) * SCALE))))
    s.ev(b"", dt_us=1e6)
    for i in range(0, len(data), 4096):
        s.ev(data[i:i + 4096], dt_us=200)
    s.close()


os.makedirs(OUT, exist_ok=True)
shell()
logs()
editor()
rnd()
