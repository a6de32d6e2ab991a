#!/usr/bin/env python3
"""Storage throughput (docs/PERFORMANCE.md, Storage).
usage: bench.py BUILD_DIR [ROUNDS]   (prints markdown tables)

1. qcow2 against raw through the same backend (bench/storage/blkbench, images
   opened cache=none: guest data with O_DIRECT), ROUNDS rounds on fresh
   images, raw and qcow2 alternating which goes first; medians.
2. `tandem-image convert` against `qemu-img convert` on the same 4 GiB raw
   image holding 1 GiB of data in 256 extents (a quarter of each extent
   zeros), the rest sparse; to qcow2 and back to raw. Both tools see the same
   page-cache state: before each run every dirty page of the machine is
   written (sync) and the disk gets 3 s to settle (without the pause the
   host was still writing the previous run's output, and whichever tool went
   second lost by up to 1.8x), then the source's cached pages are dropped
   (POSIX_FADV_DONTNEED), so both read it cold; the destination is a fresh
   file and the time includes an fsync of it (qemu-img leaves its writeback
   to the kernel, tandem-image flushes); medians of ROUNDS with the order
   alternating, ratio tandem/qemu-img; the per-round ratios go to stderr."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

build = os.path.abspath(sys.argv[1])
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
TI = os.path.join(build, "hv/image/tandem-image")
BLKBENCH = os.path.join(build, "bench/storage/blkbench")


def drop_cache(path):
    fd = os.open(path, os.O_RDONLY)
    os.fdatasync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)


def timed_convert(args, src, dst):
    if os.path.exists(dst):
        os.unlink(dst)
    os.sync()
    time.sleep(3)
    drop_cache(src)
    t = time.monotonic()
    subprocess.run(args, check=True, capture_output=True)
    fd = os.open(dst, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    return time.monotonic() - t


with tempfile.TemporaryDirectory(prefix="tandem-bench-", dir="/var/tmp") as d:
    os.chdir(d)
    size_mib, rops = 256, 4000
    res = {"raw": [], "qcow2": []}
    for r in range(ROUNDS):
        for f in ("b.raw", "b.qcow2"):
            if os.path.exists(f):
                os.unlink(f)
        subprocess.run([TI, "create", "-f", "qcow2", "b.qcow2", f"{size_mib}M"], check=True)
        subprocess.run(["truncate", "-s", f"{size_mib}M", "b.raw"], check=True)
        for fmt in (("raw", "qcow2") if r % 2 == 0 else ("qcow2", "raw")):
            out = subprocess.run([BLKBENCH, "b." + fmt, fmt, str(size_mib), str(rops)],
                                 check=True, capture_output=True, text=True).stdout.split()
            res[fmt].append([float(x) for x in out])
    print(f"| through the backend, cache=none, median of {ROUNDS} | raw | qcow2 | qcow2/raw |")
    print("|---|---|---|---|")
    for i, name in enumerate([f"sequential write 1 MiB, {size_mib} MiB (MiB/s)",
                              f"sequential read 1 MiB, {size_mib} MiB (MiB/s)",
                              f"random write 4 KiB, allocated, {rops} ops (IOPS)",
                              f"random read 4 KiB, allocated, {rops} ops (IOPS)"]):
        rv = statistics.median(x[i] for x in res["raw"])
        qv = statistics.median(x[i] for x in res["qcow2"])
        print(f"| {name} | {rv:.0f} | {qv:.0f} | {100 * qv / rv:.0f} % |")
    for f in ("b.raw", "b.qcow2"):
        os.unlink(f)

    # 4 GiB, 1 GiB of data: 256 extents of 4 MiB every 16 MiB, MiB 3 zeros
    with open("src.raw", "wb") as f:
        f.truncate(4 << 30)
        for i in range(256):
            f.seek(i * (16 << 20) + (i % 7) * 65536)
            blk = os.urandom(1 << 20)
            f.write(blk * 2 + bytes(1 << 20) + blk)
    rows = []
    for name, targs, qargs, src, tdst, qdst in [
        ("raw → qcow2", [TI, "convert", "-O", "qcow2", "src.raw", "t.qcow2"],
         ["qemu-img", "convert", "-f", "raw", "-O", "qcow2", "src.raw", "q.qcow2"],
         "src.raw", "t.qcow2", "q.qcow2"),
        ("qcow2 → raw", [TI, "convert", "-f", "qcow2", "-O", "raw", "q.qcow2", "t.raw"],
         ["qemu-img", "convert", "-f", "qcow2", "-O", "raw", "q.qcow2", "q.raw"],
         "q.qcow2", "t.raw", "q.raw"),
    ]:
        ts, qs = [], []
        for r in range(ROUNDS):
            if r % 2 == 0:
                ts.append(timed_convert(targs, src, tdst))
                qs.append(timed_convert(qargs, src, qdst))
            else:
                qs.append(timed_convert(qargs, src, qdst))
                ts.append(timed_convert(targs, src, tdst))
        subprocess.run(["qemu-img", "compare", "-q", tdst, qdst], check=True)
        print(name, "per-round ratios:", " ".join(f"{a / b:.2f}" for a, b in zip(ts, qs)),
              file=sys.stderr)
        t, q = statistics.median(ts), statistics.median(qs)
        rows.append((name, t, q))
    print(f"\n| convert, 4 GiB image with 1 GiB of data, median of {ROUNDS} | tandem-image |"
          " qemu-img | time ratio tandem/qemu-img |")
    print("|---|---|---|---|")
    for name, t, q in rows:
        print(f"| {name} | {t:.2f} s | {q:.2f} s | {t / q:.2f} |")
