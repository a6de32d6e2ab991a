#!/usr/bin/env python3
"""The VMM control socket with a real tandem-vmm and guest: status, pause,
resume, stats, malformed and oversized requests, quit."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

vmm, guest = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp()
sock_path = os.path.join(tmp, "ctl.sock")
proc = subprocess.Popen([vmm, "--kernel", guest, "--mem", "16M", "--cpus", "2",
                         "--console", "none", "--control", sock_path],
                        stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


for _ in range(100):
    if os.path.exists(sock_path):
        break
    time.sleep(0.05)
s = socket.socket(socket.AF_UNIX)
s.connect(sock_path)
f = s.makefile("rwb", buffering=0)


def call(obj, raw=None):
    f.write((raw if raw is not None else json.dumps(obj)).encode() + b"\n")
    line = f.readline()
    return json.loads(line) if line else None


r = call({"id": 1, "cmd": "status"})
check(r["ok"] and r["id"] == 1 and r["state"] == "running" and r["vcpus"] == 2, "status running")
check(call({"cmd": "pause"})["ok"], "pause accepted")
check(call({"cmd": "status"})["state"] == "paused", "status paused")
check(call({"cmd": "resume"})["ok"], "resume accepted")
check(call({"cmd": "status"})["state"] == "running", "status running again")
st = call({"cmd": "stats"})
check(st["ok"] and isinstance(st["exits"]["total"], int) and st["cpu_ns"] > 0 and st["rss"] > 0 and st["mem"] == 16 << 20,
      "stats has exits, rss, mem")
r = call(None, raw="{not json")
check(r and not r["ok"] and "malformed" in r["error"], "malformed JSON refused")
r = call({"cmd": "frobnicate"})
check(not r["ok"] and r["error"] == "unknown command", "unknown command refused")
r = call({"cmd": 5})
check(not r["ok"] and "cmd" in r["error"], "non-string cmd refused")
r = call({"cmd": "subscribe", "topics": "state"})
check(not r["ok"], "subscribe with bad topics refused")

# Oversized: the VMM answers once and drops this client, then serves others.
big = socket.socket(socket.AF_UNIX)
big.connect(sock_path)
big.sendall(b"x" * (70 * 1024))
reply = big.makefile("rb").readline()
check(b"exceeds 64 KiB" in reply, "oversized request refused")
big.close()
check(call({"cmd": "status"})["ok"], "still serving after oversized request")

call({"cmd": "quit"})
rc = proc.wait(timeout=10)
err = proc.stderr.read().decode()
check(rc == 1 and "destroyed by the control socket" in err, f"quit exits 1 (rc={rc})")
print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
