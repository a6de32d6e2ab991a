#!/usr/bin/env python3
"""Storage throughput through the image layer, next to qemu-img doing the same.
usage: bench.py BUILD_DIR   (prints a markdown table for docs/PERFORMANCE.md)"""
import os
import subprocess
import sys
import tempfile
import time

build = os.path.abspath(sys.argv[1])
TI = os.path.join(build, "hv/image/tandem-image")
WRITER = os.path.join(build, "tests/storage/storage_writer")
MIB = 256


def timed(*args):
    t = time.monotonic()
    subprocess.run(args, check=True, capture_output=True)
    return time.monotonic() - t


rows = []
with tempfile.TemporaryDirectory(prefix="tandem-bench-", dir="/var/tmp") as d:
    os.chdir(d)
    with open("src.raw", "wb") as f:
        for _ in range(MIB):
            f.write(os.urandom(1 << 20))
    for fmt in ("qcow2", "vpc"):
        t = timed(TI, "convert", "-O", fmt, "src.raw", "t." + fmt)
        q = timed("qemu-img", "convert", "-f", "raw", "-O", fmt, "src.raw", "q." + fmt)
        rows.append((f"convert raw → {fmt}, {MIB} MiB", MIB / t, MIB / q))
        t = timed(TI, "convert", "-f", fmt, "-O", "raw", "t." + fmt, "back.raw")
        q = timed("qemu-img", "convert", "-f", fmt, "-O", "raw", "q." + fmt, "qback.raw")
        rows.append((f"convert {fmt} → raw, {MIB} MiB", MIB / t, MIB / q))
    subprocess.run([TI, "create", "-f", "qcow2", "w.qcow2", "1G"], check=True)
    subprocess.run(["truncate", "-s", "1G", "w.raw", "m.raw"], check=True)
    ops = 3000  # random writes of 1 B..256 KiB, 1/4 zeroing, flush every ~16
    tq = timed(WRITER, "random", "w.qcow2", "qcow2", "m.raw", "7", str(ops))
    tr = timed(WRITER, "random", "w.raw", "raw", "m.raw", "7", str(ops))
    print("| measurement | tandem | qemu-img |\n|---|---|---|")
    for name, a, b in rows:
        print(f"| {name} | {a:.0f} MiB/s | {b:.0f} MiB/s |")
    print(f"| {ops} random writes, qcow2 (incl. raw mirror) | {ops / tq:.0f} ops/s | — |")
    print(f"| {ops} random writes, raw (incl. raw mirror) | {ops / tr:.0f} ops/s | — |")
