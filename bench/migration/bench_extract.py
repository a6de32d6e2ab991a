#!/usr/bin/env python3
"""Extraction throughput of tandem-extract on a generated large legacy disk
(legacy-mkdisk --size-mb 127, TICKETS.DAT placed by mtools; a million
tickets by default), a full run with tandem-extract's own --timing split
(read and decode / JSON Lines and CSV / SQLite / report), the disk's read
speed with dd (page cache dropped first when we may), an incremental run
after 1000 more sales; archive create/verify times.

  TANDEM_BUILD=build python3 bench/migration/bench_extract.py [RECORDS]
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "migration"))
from mig import ARCHIVE, EXTRACT, MKDISK, MENV, ticket  # noqa: E402

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
d = tempfile.mkdtemp(prefix="migration-bench-")
img = os.path.join(d, "big.img")
subprocess.run([MKDISK, "--force", "--size-mb", "127", img], check=True, capture_output=True)
names = ["Åskväder", "Mästerkatt", "Älvdansen", "Östanvind", "Snöstorm"]


def recs(lo, hi):
    # Ticket numbers have 6 digits: a million tickets wrap after 999 999.
    return b"".join(ticket((i - 1) % 999999 + 1, "202611%02d%02d%02d00" % (1 + i % 28, 10 + i % 12, i % 60),
                           1001 + i % 2, 1 + i % 3, 1 + i % 5, 100 + i % 500000,
                           "C" if i % 50 == 0 else "S", names[i % 5]) for i in range(lo, hi))


def place(data):
    src = os.path.join(d, "t.bin")
    open(src, "wb").write(data)
    subprocess.run(["mcopy", "-o", "-i", img, src, "::TICKETS.DAT"], check=True, env=MENV)


def drop_caches():
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def timed(cmd, want=None):
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit("%s: exit %d %s" % (cmd[0], r.returncode, r.stderr))
    if want is not None:
        want.append(r.stderr.strip())
    return dt


data = recs(1, n + 1)
place(data)
out = os.path.join(d, "out")
cold = drop_caches()
t0 = time.monotonic()
subprocess.run(["dd", "if=" + img, "of=/dev/null", "bs=1M"], check=True, capture_output=True)
dd = time.monotonic() - t0
print("dd read of the %.0f MiB disk (%s): %.3f s = %.0f MiB/s" %
      (os.path.getsize(img) / 2**20, "cold" if cold else "page cache", dd,
       os.path.getsize(img) / 2**20 / dd))
runs = []
for _ in range(3):
    split = []
    runs.append((timed([EXTRACT, "--timing", "--out", out, img], split), split[0]))
best, split = min(runs)
print("full extraction: %d records (%.1f MiB) in %.2f s = %.0f records/s" %
      (n, len(data) / 2**20, best, n / best))
print("  " + split.split("timing: ")[-1])
state = os.path.join(d, "state.json")
timed([EXTRACT, "--out", out, "--since", state, img])
place(data + recs(n + 1, n + 1001))
dt = timed([EXTRACT, "--out", out, "--since", state, img])
print("incremental run moving 1000 new records on top of %d: %.2f s" % (n, dt))
arc = os.path.join(d, "big.tar.zst")
print("archive create (127 MiB disk): %.2f s, %.1f MiB" %
      (timed([ARCHIVE, "create", "--name", "big", "--disk", img, arc]), os.path.getsize(arc) / 2**20))
print("archive verify: %.2f s" % timed([ARCHIVE, "verify", arc]))
subprocess.run(["rm", "-rf", d])
