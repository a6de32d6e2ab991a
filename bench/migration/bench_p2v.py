#!/usr/bin/env python3
"""P2V copy throughput against dd of the same image (both fsync the result): a 256 MiB MBR disk
(sfdisk) with a FAT32 and an ext4 partition, free space full of stale
random bytes, files filling about a quarter of it. dd copies every byte;
tandem-p2v reads the allocation maps and copies what is in use. Each tool
runs three times with the image in the page cache; the best time counts.

  TANDEM_BUILD=build python3 bench/migration/bench_p2v.py
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

MiB = 1 << 20
BUILD = os.environ.get("TANDEM_BUILD", "build")
P2V = os.path.join(BUILD, "migration-kit", "tandem-p2v")
d = tempfile.mkdtemp(prefix="p2v-bench-", dir="/var/tmp")
env = dict(os.environ, MTOOLS_SKIP_CHECK="1")


def sh(*cmd, inp=None):
    subprocess.run(list(cmd), check=True, capture_output=True, input=inp, env=env)


def best(cmd, runs=3):
    t = []
    for _ in range(runs):
        for f in ("out.img", "out.cfg"):
            if os.path.exists(os.path.join(d, f)):
                os.unlink(os.path.join(d, f))
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        t.append(time.perf_counter() - t0)
    return min(t)


try:
    fat, ext, img = (os.path.join(d, n) for n in ("fat.img", "ext.img", "disk.img"))
    for p, size in ((fat, 96 * MiB), (ext, 150 * MiB)):
        with open(p, "wb") as f:
            f.write(os.urandom(size))
    sh("mkfs.fat", "-F", "32", "-s", "1", fat)
    for i in range(4):
        with open(os.path.join(d, "f.bin"), "wb") as f:
            f.write(os.urandom(6 * MiB))
        sh("mcopy", "-i", fat, os.path.join(d, "f.bin"), "::F%d.BIN" % i)
    root = os.path.join(d, "root")
    os.makedirs(root)
    for i in range(8):
        with open(os.path.join(root, "f%d.bin" % i), "wb") as f:
            f.write(os.urandom(5 * MiB))
    sh("mke2fs", "-q", "-F", "-t", "ext4", "-d", root, ext)
    with open(img, "wb") as f:
        f.truncate(256 * MiB)
    sh("sfdisk", "-q", img, inp=b"label: dos\nstart=2048, size=196608, type=c\n"
       b"start=198656, size=307200, type=83\n")
    sh("dd", "if=" + fat, "of=" + img, "bs=1M", "seek=1", "conv=notrunc")
    sh("dd", "if=" + ext, "of=" + img, "bs=1M", "seek=97", "conv=notrunc")
    out = os.path.join(d, "out.img")
    sh("cat", img)  # warm the page cache
    # tandem-p2v fsyncs its image before it reports; dd does the same here.
    t_dd = best(["dd", "if=" + img, "of=" + out, "bs=1M", "conv=fsync", "status=none"])
    t_dd_sparse = best(["dd", "if=" + img, "of=" + out, "bs=1M", "conv=sparse,fsync",
                        "status=none"])
    t_p2v = best([P2V, "--quiet", "--force", "--out", out, img])
    r = subprocess.run([P2V, "--quiet", "--force", "--json", "--out", out, img],
                       capture_output=True, text=True, check=True)
    import json
    rep = json.loads(r.stdout)
    size = 256 * MiB
    print("image 256 MiB, files 64 MiB")
    print("dd bs=1M conv=fsync:              %.3f s  %6.0f MiB/s of image" % (t_dd, size / MiB / t_dd))
    print("dd conv=sparse,fsync:   %.3f s  %6.0f MiB/s of image" %
          (t_dd_sparse, size / MiB / t_dd_sparse))
    print("tandem-p2v:             %.3f s  %6.0f MiB/s of image; read %.1f MiB, wrote %.1f MiB" %
          (t_p2v, size / MiB / t_p2v, rep["copied"] / MiB, rep["written"] / MiB))
    print("p2v / dd time: %.2f" % (t_p2v / t_dd))
finally:
    shutil.rmtree(d, ignore_errors=True)
