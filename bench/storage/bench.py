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
BLKBENCH = os.path.join(build, "bench/storage/blkbench")
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

    # qcow2 against raw through the same backend (blkbench): the first
    # sequential pass allocates every qcow2 cluster, so the reads that follow
    # are of allocated clusters; page cache dropped before each read pass.
    size_mib, rops = 256, 4000
    subprocess.run([TI, "create", "-f", "qcow2", "b.qcow2", f"{size_mib}M"], check=True)
    subprocess.run(["truncate", "-s", f"{size_mib}M", "b.raw"], check=True)
    res = {}
    for fmt in ("raw", "qcow2"):
        out = subprocess.run([BLKBENCH, "b." + fmt, fmt, str(size_mib), str(rops)], check=True,
                             capture_output=True, text=True).stdout.split()
        res[fmt] = [float(x) for x in out]
    print("\n| through the backend | raw | qcow2 | qcow2/raw |\n|---|---|---|---|")
    for i, name in enumerate([f"sequential write 1 MiB, {size_mib} MiB (MiB/s)",
                              f"sequential read 1 MiB, cold (MiB/s)",
                              f"random write 4 KiB, {rops} ops (IOPS)",
                              f"random read 4 KiB, allocated, cold (IOPS)"]):
        r, q = res["raw"][i], res["qcow2"][i]
        print(f"| {name} | {r:.0f} | {q:.0f} | {100 * q / r:.0f} % |")
