"""tandem-extract refuses, with one line and exit 2, a disk that another
process holds open for writing or locks exclusively, and images that are not
a legacy FAT16 disk or whose FAT is broken."""
import fcntl
import json
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from mig import EXTRACT, extract, fail, mcopy, mkdisk, ticket, workdir  # noqa: E402

d = workdir()
img = os.path.join(d, "busy.img")
out = os.path.join(d, "out")
mkdisk(img)


def refused(path, words, *extra):
    r = extract(path, out, *extra)
    if r.returncode != 2 or r.stderr.count("\n") != 1 or "Traceback" in r.stderr or \
            not all(w in r.stderr for w in words):
        fail("%s: want exit 2 with %s, got %d: %r" % (path, words, r.returncode, r.stderr))


# A process with the image open read-write (what a running tandem-vmm does).
holder = subprocess.Popen([sys.executable, "-c",
                           "import os,sys; fd=os.open(sys.argv[1], os.O_RDWR); "
                           "print('ok', flush=True); sys.stdin.read()", img],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
holder.stdout.readline()
refused(img, ["in use", str(holder.pid)])
holder.stdin.close()
holder.wait()

# An exclusive lock (another tool rewriting the disk).
with open(img, "rb") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    refused(img, ["locked"])
r = extract(img, out)
if r.returncode != 0:
    fail("free disk not extracted: %d %s" % (r.returncode, r.stderr))

refused(os.path.join(d, "missing.img"), ["missing.img"])
refused(d, ["not a regular file"])
junk = os.path.join(d, "junk.img")
with open(junk, "wb") as f:
    f.write(os.urandom(4096))
refused(junk, ["boot sector"])
short = os.path.join(d, "short.img")
with open(img, "rb") as f, open(short, "wb") as g:
    g.write(f.read(1 << 20))
refused(short, ["needs"])

# TICKETS.DAT's cluster chain cut: its first cluster marked free in FAT 1.
mcopy(img, "TICKETS.DAT", b"".join(ticket(i, "20261118120000", 1001, 1, 1, 100, "S", "X")
                                   for i in range(1, 60)))
raw = bytearray(open(img, "rb").read())
bps, spc, res = struct.unpack_from("<HBH", raw, 11)
nroot = struct.unpack_from("<H", raw, 17)[0]
fatsz = struct.unpack_from("<H", raw, 22)[0]
root = (res + 2 * fatsz) * bps
for i in range(nroot):
    e = raw[root + 32 * i: root + 32 * i + 32]
    if e[:11] == b"TICKETS DAT":
        first = struct.unpack_from("<H", e, 26)[0]
struct.pack_into("<H", raw, res * bps + 2 * first, 0)
broken = os.path.join(d, "broken.img")
open(broken, "wb").write(raw)
refused(broken, ["TICKETS.DAT", "chain"])

# The same cut in FAT 2 only: FAT 1 is read, the difference is reported and
# the disk does not count as reconciled.
raw2 = bytearray(open(img, "rb").read())
struct.pack_into("<H", raw2, (res + fatsz) * bps + 2 * first, 0)
halfbad = os.path.join(d, "fat2.img")
open(halfbad, "wb").write(raw2)
r = extract(halfbad, out)
rep = json.load(open(os.path.join(out, "report.json")))
if r.returncode != 1 or rep["fat_copies_differ"] != 1 or rep["tickets"]["records"] != 59:
    fail("FAT 2 mismatch: exit %d, %s" % (r.returncode, rep.get("fat_copies_differ")))

r = subprocess.run([EXTRACT, img], capture_output=True, text=True)
if r.returncode != 2 or "usage" not in r.stderr:
    fail("missing --out not refused: %d %r" % (r.returncode, r.stderr))
print("PASS: busy, locked, missing, junk, truncated and broken disks refused in one line")
