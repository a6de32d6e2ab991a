#!/usr/bin/env python3
"""Crash consistency: a writer is SIGKILLed at random points; `qemu-img check`
must never find corruption (leaks are fine) and every write acknowledged by a
flush before the kill must read back.
usage: test_crash.py TANDEM_IMAGE STORAGE_WRITER"""
import os
import random
import select
import signal
import subprocess
import sys
import tempfile
import time

TI, WRITER = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
RUNS = 50
rnd = random.Random(int(os.environ.get("STORAGE_CRASH_SEED", time.time())))
failures = 0


def kill_at_random(img, seed, delay, direct):
    env = dict(os.environ, STORAGE_WRITER_DIRECT="1" if direct else "0")
    p = subprocess.Popen([WRITER, "crash", img, str(seed)], stdout=subprocess.PIPE, env=env)
    flushed, buf, deadline = 0, b"", time.monotonic() + delay
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([p.stdout], [], [], left)
        if not r:
            break
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk:
            break
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            if line.startswith(b"flushed "):
                flushed = int(line.split()[1])
    p.send_signal(signal.SIGKILL)
    p.wait()
    # lines already written before the kill count as acknowledged too
    rest = p.stdout.read()
    for line in (buf + rest).split(b"\n"):
        if line.startswith(b"flushed "):
            flushed = max(flushed, int(line.split()[1]))
    return flushed


with tempfile.TemporaryDirectory(prefix="tandem-crash-") as d:
    for run in range(RUNS):
        fmt = "vpc" if run % 5 == 4 else "qcow2"
        img = os.path.join(d, f"c{run}.{fmt}")
        opts = ["-o", "cluster_size=4096"] if run % 2 else []
        if run % 5 == 2:  # an image laid out by qemu-img
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", img, "160M"], check=True)
        elif run % 5 == 3:  # partial-cluster writes copy up from a backing file
            base = os.path.join(d, "base.raw")
            if not os.path.exists(base):
                with open(base, "wb") as f:
                    f.truncate(160 << 20)
                    for i in range(0, 160 << 20, 5 << 20):
                        f.seek(i)
                        f.write(os.urandom(1 << 20))
            subprocess.run([TI, "create", "-f", "qcow2", "-b", base, "-F", "raw", img],
                           check=True)
        else:
            subprocess.run([TI, "create", "-f", fmt, *(opts if fmt == "qcow2" else []), img,
                            "160M"], check=True)
        seed = rnd.randrange(1, 1 << 30)
        delay = rnd.uniform(0.02, 0.3)
        direct = run % 4 < 2  # half the writers use cache=none (O_DIRECT data)
        flushed = kill_at_random(img, seed, delay, direct)
        verdict = []
        if fmt == "qcow2":
            c = subprocess.run(["qemu-img", "check", img], capture_output=True, text=True)
            if c.returncode not in (0, 3):  # 3: leaked clusters only
                verdict.append(f"qemu-img check rc {c.returncode}: {c.stdout.strip()}")
        v = subprocess.run([WRITER, "verify", img, str(seed), str(flushed)],
                           capture_output=True, text=True)
        if v.returncode:
            verdict.append(v.stderr.strip())
        status = "FAIL" if verdict else "ok  "
        print(f"{status} run {run}: {fmt}{' direct' if direct else ''} seed {seed} killed after {delay:.2f}s, "
              f"{flushed} writes flushed {'; '.join(verdict)}")
        failures += bool(verdict)
        os.unlink(img)

sys.exit(1 if failures else 0)
