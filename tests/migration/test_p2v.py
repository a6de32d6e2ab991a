"""tandem-p2v on disks built here with sfdisk, mkfs.fat and mkfs.ext4 (MBR
and GPT, free space full of stale random bytes), a FAT12 floppy and a
legacy terminal disk without a table: partitions and filesystems are
detected, the converted image's files are byte-identical (mtools,
debugfs), its filesystems check clean, unused blocks are not copied, and
truncated, damaged or garbage sources get one clear line."""
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mig import BUILD, MENV, MKDISK, fail, workdir  # noqa: E402

P2V = os.path.join(BUILD, "migration-kit", "tandem-p2v")
MiB = 1 << 20
rnd = random.Random(7)
d = workdir()


def sh(*cmd, inp=None):
    r = subprocess.run(list(cmd), capture_output=True, env=MENV, input=inp)
    if r.returncode != 0:
        fail("%s: exit %d %s" % (" ".join(cmd), r.returncode, r.stderr.decode(errors="replace")))
    return r.stdout


def blob(n):
    return bytes(rnd.getrandbits(8) for _ in range(n))


def stale(path, size):
    """A partition image whose every byte starts as random: free blocks
    keep old data, as on a used physical disk."""
    with open(path, "wb") as f:
        f.write(os.urandom(size))


def fat_part(path, size, fat, files, label):
    stale(path, size)
    sh("mkfs.fat", "-F", str(fat), "-n", label, *(["-s", "1"] if fat == 32 else []), path)
    for name, data in files.items():
        src = os.path.join(d, "src.bin")
        with open(src, "wb") as f:
            f.write(data)
        sh("mcopy", "-i", path, src, "::" + name)


def ext_part(path, size, kind, files, label):
    root = os.path.join(d, "root-" + label)
    for name, data in files.items():
        os.makedirs(os.path.dirname(os.path.join(root, name)), exist_ok=True)
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
    stale(path, size)
    sh("mke2fs", "-q", "-F", "-t", kind, "-L", label, "-M", "/", "-d", root, path)


def disk(path, size, label, parts):
    """parts: [(start MiB, image, type)]; laid out with sfdisk."""
    with open(path, "wb") as f:
        f.truncate(size)
    script = "label: %s\n" % label
    for start, img, typ in parts:
        script += "start=%d, size=%d, type=%s\n" % (start * 2048, os.path.getsize(img) // 512, typ)
    sh("sfdisk", "-q", path, inp=script.encode())
    for start, img, _ in parts:
        sh("dd", "if=" + img, "of=" + path, "bs=1M", "seek=%d" % start, "conv=notrunc", "status=none")


def p2v(src, out, *extra):
    return subprocess.run([P2V, "--json", "--quiet", "--out", out, *extra, src],
                          capture_output=True, text=True)


def convert(src, out):
    r = p2v(src, out)
    if r.returncode != 0:
        fail("p2v %s: exit %d %s" % (src, r.returncode, r.stderr))
    return json.loads(r.stdout)


def part_file(img, start_mib, size, name):
    p = os.path.join(d, name)
    sh("dd", "if=" + img, "of=" + p, "bs=1M", "skip=%d" % start_mib, "count=%d" % (size // MiB),
       "status=none")
    return p


def check_fat(img, start_mib, files, size):
    for name, data in files.items():
        got = sh("mtype", "-i", "%s@@%dM" % (img, start_mib), "::" + name)
        if got != data:
            fail("%s ::%s differs after p2v" % (img, name))
    sh("fsck.fat", "-n", part_file(img, start_mib, size, "fatcheck.img"))


def check_ext(img, start_mib, files, size):
    p = part_file(img, start_mib, size, "extcheck.img")
    for name, data in files.items():
        got = sh("debugfs", "-R", "cat /" + name, p)
        if got != data:
            fail("%s /%s differs after p2v (%d vs %d bytes)" % (img, name, len(got), len(data)))
    sh("e2fsck", "-fn", p)


def allocated(path):
    return os.stat(path).st_blocks * 512


# ---- MBR: FAT16 (with an OS/2 marker) + ext4 ----
fat_files = {"OS2KRNL": b"os/2 kernel stand-in\r\n", "CONFIG.SYS": b"PROTSHELL=PMSHELL.EXE\r\n",
             "DATA.BIN": blob(300 * 1024)}
ext_files = {"etc/os-release": b'NAME="Debian GNU/Linux"\n', "srv/tote/big.bin": blob(1200 * 1024),
             "empty": b""}
fat16 = os.path.join(d, "fat16.img")
ext4 = os.path.join(d, "ext4.img")
fat_part(fat16, 20 * MiB, 16, fat_files, "OS2BOOT")
ext_part(ext4, 24 * MiB, "ext4", ext_files, "rootfs")
mbr = os.path.join(d, "mbr.img")
disk(mbr, 48 * MiB, "dos", [(1, fat16, "6"), (22, ext4, "83")])
out = os.path.join(d, "mbr-out.img")
rep = convert(mbr, out)
parts = [(p["number"], p["type"], p["fs"], p["label"]) for p in rep["partitions"]]
if rep["scheme"] != "mbr" or parts != [(1, "0x06", "fat16", "OS2BOOT"), (2, "0x83", "ext4", "rootfs")]:
    fail("MBR detection: %s %s" % (rep["scheme"], parts))
if rep["partitions"][0]["os"] != "OS/2 (OS2KRNL)" or not rep["os"].startswith("Linux"):
    fail("OS identification: %s / %s" % (rep["partitions"][0]["os"], rep["os"]))
check_fat(out, 1, fat_files, 20 * MiB)
check_ext(out, 22, ext_files, 24 * MiB)
# Only what is in use was copied: the stale random free space was not.
# (44 MiB of the partitions are stale random bytes; the files hold 1.5 MiB.)
if not rep["copied"] < 24 * MiB or allocated(out) > 6 * MiB or rep["written"] > 6 * MiB:
    fail("copied %d bytes (allocated %d) of a mostly free 48 MiB disk" %
         (rep["copied"], allocated(out)))
with open(mbr, "rb") as a, open(out, "rb") as b:
    if a.read(1 * MiB) != b.read(1 * MiB):
        fail("the partition table and boot area differ")
cfg = open(out[:-4] + ".cfg").read()
if "disk = [ 'mbr-out.img,raw,xvda,rw' ]" not in cfg or 'name = "mbr-out"' not in cfg:
    fail("domain config:\n" + cfg)

# ---- GPT: FAT32 + ext2 ----
fat32 = os.path.join(d, "fat32.img")
ext2 = os.path.join(d, "ext2.img")
f32_files = {"EFI.TXT": b"esp\n", "PAYLOAD.BIN": blob(200 * 1024)}
e2_files = {"home/user/notes.txt": "Örebro travbana\n".encode()}
fat_part(fat32, 40 * MiB, 32, f32_files, "ESP32")
ext_part(ext2, 8 * MiB, "ext2", e2_files, "home")
gpt = os.path.join(d, "gpt.img")
disk(gpt, 52 * MiB, "gpt", [(1, fat32, "U"), (42, ext2, "L")])
sh("sfdisk", "-q", "--part-label", gpt, "2", "linux-home")
gout = os.path.join(d, "gpt-out.img")
rep = convert(gpt, gout)
parts = [(p["number"], p["type"], p["fs"], p["name"]) for p in rep["partitions"]]
if rep["scheme"] != "gpt" or parts != [
        (1, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "fat32", ""),
        (2, "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "ext2", "linux-home")]:
    fail("GPT detection: %s %s" % (rep["scheme"], parts))
check_fat(gout, 1, f32_files, 40 * MiB)
check_ext(gout, 42, e2_files, 8 * MiB)
with open(gpt, "rb") as a, open(gout, "rb") as b:
    a.seek(-33 * 512, 2)
    b.seek(-33 * 512, 2)
    if a.read() != b.read():
        fail("the backup GPT was not copied")

# ---- no table: a FAT12 floppy and a legacy terminal disk ----
flop = os.path.join(d, "floppy.img")
sh("mkfs.fat", "-C", "-n", "DOSDISK", flop, "1440")
sh("mcopy", "-i", flop, os.path.join(d, "src.bin"), "::IO.SYS")
rep = convert(flop, os.path.join(d, "floppy-out.img"))
p = rep["partitions"][0]
if rep["scheme"] != "none" or p["fs"] != "fat12" or p["os"] != "MS-DOS or Windows 9x (IO.SYS)":
    fail("floppy: %s" % rep)
term = os.path.join(d, "terminal.img")
sh(MKDISK, "--force", term)
rep = convert(term, os.path.join(d, "terminal-out.img"))
if rep["partitions"][0]["fs"] != "fat16" or "TICKETS.DAT" not in rep["os"]:
    fail("legacy terminal disk: %s" % rep)
for name in ("TICKETS.DAT", "RACECARD.DAT"):
    a = sh("mtype", "-i", term, "::" + name)
    if a != sh("mtype", "-i", os.path.join(d, "terminal-out.img"), "::" + name):
        fail("terminal " + name + " differs")

# ---- the CLI front end ----
r = subprocess.run([os.path.join(BUILD, "hv", "control", "tandem"), "p2v", "--quiet", "--out",
                    os.path.join(d, "via-cli.img"), flop], capture_output=True, text=True,
                   env=dict(os.environ, PATH=os.path.dirname(P2V) + ":" + os.environ["PATH"]))
if r.returncode != 0 or "fat12" not in r.stdout or "partition table: none" not in r.stdout:
    fail("tandem p2v: %d %s %s" % (r.returncode, r.stdout, r.stderr))

# ---- bad sources: one line each ----
trunc = os.path.join(d, "truncated.img")
with open(mbr, "rb") as f, open(trunc, "wb") as g:
    g.write(f.read(30 * MiB))
garbage = os.path.join(d, "garbage.img")
with open(garbage, "wb") as f:
    f.write(blob(64 * 1024))
tiny = os.path.join(d, "tiny.img")
with open(tiny, "wb") as f:
    f.write(b"x" * 100)
badgpt = os.path.join(d, "badgpt.img")
with open(gpt, "rb") as f, open(badgpt, "wb") as g:
    g.write(f.read())
with open(badgpt, "r+b") as f:
    f.seek(512 + 40)
    f.write(b"\xff")
cutfs = os.path.join(d, "cutfs.img")
with open(flop, "rb") as f, open(cutfs, "wb") as g:
    g.write(f.read(700 * 1024))
cases = [
    (trunc, "partition 2 (sectors 45056-94207) ends past the end of the disk (61440 sectors): "
            "a truncated image?"),
    (garbage, "no partition table (MBR or GPT) and no filesystem signature: not a disk image"),
    (tiny, "is 100 bytes, smaller than one sector"),
    (badgpt, "GPT header CRC mismatch: the header is damaged"),
    (cutfs, "fat12 filesystem at byte 0 spans 1474560 bytes but its partition or disk has "
            "716800: a truncated image?"),
    (os.path.join(d, "missing.img"), "missing.img"),
    (d, "not a regular file"),
]
for src, want in cases:
    o = os.path.join(d, "bad-out.img")
    r = p2v(src, o)
    err = r.stderr.strip()
    if r.returncode != 2 or want not in err or "\n" in err or os.path.exists(o):
        fail("%s: exit %d %r, want %r" % (os.path.basename(src), r.returncode, err, want))
r = p2v(flop, os.path.join(d, "floppy-out.img"))
if r.returncode != 2 or "File exists (use --force to replace it)" not in r.stderr:
    fail("existing output: %d %r" % (r.returncode, r.stderr))
print("PASS: MBR, GPT, floppy and terminal disks converted; bad sources refused")
