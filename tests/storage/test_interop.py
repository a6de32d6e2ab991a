#!/usr/bin/env python3
"""Images made by qemu-img read byte-identically through Tandem; images
written by Tandem pass `qemu-img check` and compare equal to their source.
usage: test_interop.py TANDEM_IMAGE STORAGE_WRITER"""
import os
import subprocess
import sys
import tempfile

TI, WRITER = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
failures = []


def run(*args, ok=(0,)):
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode not in ok:
        raise RuntimeError(f"{' '.join(args)} -> {p.returncode}: {p.stderr.strip()}")
    return p


def check(name, fn):
    try:
        fn()
        print(f"ok   {name}")
    except Exception as e:  # noqa: BLE001 - report every case
        failures.append(name)
        print(f"FAIL {name}: {e}")


def same(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                raise RuntimeError(f"{a} and {b} differ")
            if not x:
                return


with tempfile.TemporaryDirectory(prefix="tandem-interop-") as d:
    os.chdir(d)
    # a source with data, holes and a partial cluster at the end
    with open("src.raw", "wb") as f:
        f.truncate(24 << 20)
        for i in range(0, 24 << 20, 3 << 20):
            f.seek(i + 4096 * (i % 7))
            f.write(os.urandom(700_000))
    run("qemu-img", "create", "-q", "-f", "qcow2", "-b", "src.raw", "-F", "raw", "over.qcow2")
    run("qemu-io", "-c", "write -P 0x5a 1M 3M", "-c", "write -z 8M 1M", "-c",
        "discard 12M 2M", "over.qcow2")

    def tandem_reads(img, fmt=None):
        ref, out = img + ".ref", img + ".out"
        run("qemu-img", "convert", *(["-f", fmt] if fmt else []), "-O", "raw", img, ref)
        run(TI, "convert", *(["-f", fmt] if fmt else []), "-O", "raw", img, out)
        same(ref, out)

    qemu_made = {
        "qcow2 v3": ["-O", "qcow2"],
        "qcow2 v2 (compat=0.10)": ["-O", "qcow2", "-o", "compat=0.10"],
        "qcow2 512-byte clusters": ["-O", "qcow2", "-o", "cluster_size=512"],
        "qcow2 compressed zlib": ["-c", "-O", "qcow2"],
        "qcow2 compressed zstd": ["-c", "-O", "qcow2", "-o", "compression_type=zstd"],
        "vpc dynamic": ["-O", "vpc"],
        "vpc fixed": ["-O", "vpc", "-o", "subformat=fixed"],
        "vmdk monolithicSparse": ["-O", "vmdk"],
        "vmdk streamOptimized": ["-O", "vmdk", "-o", "subformat=streamOptimized"],
    }
    for i, (name, opts) in enumerate(qemu_made.items()):
        img = f"q{i}.img"
        run("qemu-img", "convert", "-f", "raw", *opts, "src.raw", img)
        check(f"reads {name}", lambda img=img, v="vpc" in name: tandem_reads(img, "vpc" if v else None))
    def stream_footer():
        # qemu-img puts the grain directory up front; VMware's writers put
        # "at the end" (-1) in the header and the real offset in a footer
        # (footer marker, header copy, end-of-stream marker). Make that
        # layout from qemu's image; it must read the same.
        import struct
        with open(STREAM, "rb") as f:
            data = f.read()
        gd = struct.unpack("<Q", data[56:64])[0]
        head = data[:56] + struct.pack("<Q", 0xFFFFFFFFFFFFFFFF) + data[64:512]
        end = len(data) - 512 if data[-512:] == bytes(512) else len(data)  # qemu's EOS
        footer = data[:56] + struct.pack("<Q", gd) + data[64:512]
        marker = struct.pack("<QII", 1, 0, 3).ljust(512, b"\0")
        with open("footer.vmdk", "wb") as f:
            f.write(head + data[512:end] + marker + footer + bytes(512))
        tandem_reads("footer.vmdk")
        same("footer.vmdk.out", "src.raw")

    def stream_hostile():
        # damaged footer, grain marker or grain: one clear error, no crash
        import shutil
        import struct
        with open(STREAM, "rb") as f:  # the first grain, through the GD and GT
            gd = struct.unpack("<Q", f.read(512)[56:64])[0]
            f.seek(gd * 512)
            f.seek(struct.unpack("<I", f.read(4))[0] * 512)
            grain = struct.unpack("<I", f.read(4))[0]
        if grain <= 1:
            raise RuntimeError("expected the first grain allocated")
        cases = {"footer": ("footer.vmdk", os.path.getsize("footer.vmdk") - 1024, b"XXXX",
                            "no footer"),
                 "marker": (STREAM, grain * 512 + 8, struct.pack("<I", 0x7fffffff),
                            "compressed grain size"),
                 "grain": (STREAM, grain * 512 + 12, b"\xff" * 16, "does not inflate")}
        for name, (src, off, patch, needle) in cases.items():
            bad = f"bad-{name}.vmdk"
            shutil.copy(src, bad)
            with open(bad, "r+b") as f:
                f.seek(off)
                f.write(patch)
            p = subprocess.run([TI, "convert", bad, bad + ".raw"], capture_output=True, text=True)
            if p.returncode != 1 or needle not in p.stderr or "Sanitizer" in p.stderr:
                raise RuntimeError(f"{name}: rc {p.returncode}, stderr {p.stderr!r}")

    STREAM = f"q{list(qemu_made).index('vmdk streamOptimized')}.img"
    check("reads streamOptimized VMDK with its directory in a footer", stream_footer)
    check("refuses damaged streamOptimized VMDKs", stream_hostile)
    check("reads qcow2 with a raw backing file (written, zeroed, discarded)",
          lambda: tandem_reads("over.qcow2"))

    # Tandem writes: random I/O through the backend API, mirrored into raw.
    def writes_tandem_created():
        for seed, opts in ((1, ["-o", "cluster_size=4096"]), (2, ["-o", "compat=0.10"])):
            img, mirror = f"t{seed}.qcow2", f"t{seed}.mirror"
            run(TI, "create", "-f", "qcow2", *opts, img, "32M")
            run("qemu-img", "check", "-q", img)
            run("qemu-img", "convert", "-O", "raw", img, mirror)
            run(WRITER, "random", img, "qcow2", mirror, str(seed), "400")
            run("qemu-img", "check", "-q", img)
            run("qemu-img", "compare", "-q", "-f", "raw", "-F", "qcow2", mirror, img)

    def writes_over_backing():
        run("qemu-img", "create", "-q", "-f", "qcow2", "-b", "src.raw", "-F", "raw", "wb.qcow2")
        run("qemu-img", "convert", "-O", "raw", "wb.qcow2", "wb.mirror")
        run(WRITER, "random", "wb.qcow2", "qcow2", "wb.mirror", "3", "400")
        run("qemu-img", "check", "-q", "wb.qcow2")
        run("qemu-img", "compare", "-q", "-f", "raw", "-F", "qcow2", "wb.mirror", "wb.qcow2")

    def writes_small_clusters():
        # 512-byte clusters: qemu-img's refcount table fills up and must grow
        run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=512", "ws.qcow2", "64M")
        run("qemu-img", "convert", "-O", "raw", "ws.qcow2", "ws.mirror")
        run(WRITER, "random", "ws.qcow2", "qcow2", "ws.mirror", "6", "300")
        run("qemu-img", "check", "-q", "ws.qcow2")
        run("qemu-img", "compare", "-q", "-f", "raw", "-F", "qcow2", "ws.mirror", "ws.qcow2")
        p = run("qemu-img", "check", "--output=json", "ws.qcow2").stdout
        if '"image-end-offset"' not in p or os.stat("ws.qcow2").st_size < (16 << 20):
            raise RuntimeError("the workload did not outgrow the first refcount table")

    def writes_refcount_widths():
        for bits in (1, 8, 64):
            img, mirror = f"rb{bits}.qcow2", f"rb{bits}.mirror"
            run("qemu-img", "create", "-q", "-f", "qcow2", "-o", f"refcount_bits={bits}", img, "16M")
            run("qemu-img", "convert", "-O", "raw", img, mirror)
            run(WRITER, "random", img, "qcow2", mirror, str(bits), "200")
            run("qemu-img", "check", "-q", img)
            run("qemu-img", "compare", "-q", "-f", "raw", "-F", "qcow2", mirror, img)

    def clears_bitmaps():
        # a persistent dirty bitmap would go stale: the auto-clear bit must drop
        run("qemu-img", "create", "-q", "-f", "qcow2", "bm.qcow2", "8M")
        run("qemu-img", "bitmap", "--add", "bm.qcow2", "b0")
        run("qemu-img", "convert", "-O", "raw", "bm.qcow2", "bm.mirror")
        run(WRITER, "random", "bm.qcow2", "qcow2", "bm.mirror", "9", "20")
        info = run("qemu-img", "info", "bm.qcow2")
        # the bitmap's own clusters are now unreferenced: leaks, not corruption
        run("qemu-img", "check", "-q", "bm.qcow2", ok=(0, 3))
        if "b0" in info.stdout and "inconsistent" not in info.stderr:
            raise RuntimeError("bitmap still trusted after Tandem wrote: " + info.stdout)

    def writes_compressed():
        # overwriting compressed clusters frees them: refcounts must stay exact
        run("qemu-img", "convert", "-q", "-c", "-O", "qcow2", "src.raw", "wc.qcow2")
        run("qemu-img", "convert", "-O", "raw", "wc.qcow2", "wc.mirror")
        run(WRITER, "random", "wc.qcow2", "qcow2", "wc.mirror", "4", "300")
        p = run("qemu-img", "check", "wc.qcow2")
        if "leaked" in p.stdout:
            raise RuntimeError("leaks after overwriting compressed clusters: " + p.stdout)
        run("qemu-img", "compare", "-q", "-f", "raw", "-F", "qcow2", "wc.mirror", "wc.qcow2")

    def writes_vpc():
        for sub in ("dynamic", "fixed"):
            img, mirror = f"wv-{sub}.vhd", f"wv-{sub}.mirror"
            run("qemu-img", "create", "-q", "-f", "vpc", "-o", f"subformat={sub}", img, "24M")
            run("qemu-img", "convert", "-f", "vpc", "-O", "raw", img, mirror)
            run(WRITER, "random", img, "vpc", mirror, "5", "300")
            run("qemu-img", "compare", "-q", "-f", "raw", "-F", "vpc", mirror, img)

    def convert_roundtrip():
        for out_fmt in ("qcow2", "vpc"):
            conv = f"src.{out_fmt}"
            run(TI, "convert", "-O", out_fmt, "src.raw", conv)
            if out_fmt == "qcow2":
                run("qemu-img", "check", "-q", conv)
            run("qemu-img", "compare", "-q", "-f", "raw", "-F", out_fmt, "src.raw", conv)
        # a size that is not a multiple of 512 (qcow2 counts whole sectors: the
        # tail must not be cut), zero granules inside data, and a qcow2 chain
        # flattened (the readers each open the chain)
        with open("odd.raw", "wb") as f:
            f.write(os.urandom(300_000) + bytes(200_000) + os.urandom(500_000))
        run(TI, "convert", "-O", "qcow2", "odd.raw", "odd.qcow2")
        run("qemu-img", "check", "-q", "odd.qcow2")
        run("qemu-img", "compare", "-q", "-f", "raw", "-F", "qcow2", "odd.raw", "odd.qcow2")
        run(TI, "convert", "-f", "qcow2", "-O", "qcow2", "over.qcow2", "flat.qcow2")
        run("qemu-img", "check", "-q", "flat.qcow2")
        run("qemu-img", "compare", "-q", "over.qcow2", "flat.qcow2")
        if "backing" in run("qemu-img", "info", "flat.qcow2").stdout:
            raise RuntimeError("the flattened copy names a backing file")
        # sparse-aware: the holes of src.raw are not allocated in the copy
        info = run("qemu-img", "info", "--output=json", "src.qcow2").stdout
        size = os.stat("src.qcow2").st_size
        if size > 12 << 20:
            raise RuntimeError(f"convert was not sparse: {size} bytes ({info})")

    def resize_and_info():
        run(TI, "create", "-f", "qcow2", "-o", "cluster_size=512", "r.qcow2", "1M")
        run(TI, "resize", "r.qcow2", "+200M")  # outgrows the L1 table
        run("qemu-img", "check", "-q", "r.qcow2")
        out = run("qemu-img", "info", "--output=json", "r.qcow2").stdout
        if '"virtual-size": 210763776' not in out:
            raise RuntimeError("qemu-img sees the wrong size: " + out)
        import json
        info = json.loads(run(TI, "info", "--json", "r.qcow2").stdout)
        if info["virtual-size"] != 210763776 or info["format"] != "qcow2":
            raise RuntimeError(f"tandem-image info: {info}")

    def repair_dirty():
        # what a crash under lazy refcounts leaves: dirty bit, refcounts too low
        import struct
        run("qemu-img", "create", "-q", "-f", "qcow2", "dr.qcow2", "8M")
        run("qemu-io", "-c", "write -P 7 0 1M", "dr.qcow2")
        with open("dr.qcow2", "r+b") as f:
            h = f.read(104)
            rt_off = struct.unpack(">Q", h[48:56])[0]
            f.seek(rt_off)
            rb_off = struct.unpack(">Q", f.read(8))[0]
            f.seek(rb_off + 2 * 6)  # clusters 6..15: data written above
            f.write(b"\0" * 20)
            f.seek(72)
            f.write(struct.pack(">Q", 1))
        p = subprocess.run([WRITER, "random", "dr.qcow2", "qcow2", "/dev/null", "1", "1"],
                           capture_output=True, text=True)
        if p.returncode == 0 or "dirty" not in p.stderr:
            raise RuntimeError("a dirty image opened for writing: " + p.stderr)
        if run(TI, "check", "dr.qcow2", ok=(2,)).returncode != 2:
            raise RuntimeError("check missed the lowered refcounts")
        run(TI, "check", "-r", "dr.qcow2")
        run("qemu-img", "check", "-q", "dr.qcow2")
        run(TI, "check", "dr.qcow2")
        run("qemu-io", "-c", "read -P 7 0 1M", "dr.qcow2")

    check("repairs a dirty image with lowered refcounts (check -r)", repair_dirty)
    check("writes qcow2 made by tandem-image (v3 4K clusters, v2)", writes_tandem_created)
    check("writes qcow2 over a raw backing file", writes_over_backing)
    check("writes qcow2 with 512-byte clusters (refcount table grows)", writes_small_clusters)
    check("writes qcow2 with 1-, 8- and 64-bit refcounts", writes_refcount_widths)
    check("writes over compressed clusters", writes_compressed)
    check("clears auto-clear features (persistent bitmaps) on write", clears_bitmaps)
    check("writes vpc dynamic and fixed", writes_vpc)
    check("tandem-image convert to qcow2/vpc", convert_roundtrip)
    check("tandem-image resize and info", resize_and_info)

if failures:
    print(f"{len(failures)} failed: {failures}")
    sys.exit(1)
