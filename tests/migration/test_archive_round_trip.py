"""tandem-archive: archive a legacy domain's disk and config, verify, detect
one corrupted byte, restore byte-identical (fsck.fat clean), and purge only
with --yes, only unchanged, offline originals."""
import hashlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from mig import ARCHIVE, fail, fsck_clean, mcopy, mkdisk, run, ticket, workdir  # noqa: E402

d = workdir()
img = os.path.join(d, "tote.img")
cfg = os.path.join(d, "tote.cfg")
mkdisk(img)
mcopy(img, "TICKETS.DAT", b"".join(ticket(i, "20261118120000", 1001, 1, 2, 1000, "S", "Bellman")
                                   for i in range(1, 40)))
with open(cfg, "w") as f:
    f.write('name = "tote"\ntype = "tandem-legacy"\nkernel = "legacy.elf"\n'
            'disk = ["tote.img,raw,xvda,rw"]\nprinter = "spool.txt"\n')


def sha(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()


orig = {img: sha(img), cfg: sha(cfg)}
arc = os.path.join(d, "archive", "tote.tar.zst")
os.mkdir(os.path.dirname(arc))


def tool(*args, rc=0, words=()):
    r = run([ARCHIVE] + list(args))
    if r.returncode != rc or not all(w in r.stdout + r.stderr for w in words):
        fail("tandem-archive %s: want exit %d with %s, got %d:\n%s%s" %
             (" ".join(args), rc, words, r.returncode, r.stdout, r.stderr))
    return r


tool("create", "--name", "tote", "--disk", img, "--config", cfg, arc)
tool("create", "--name", "tote", "--disk", img, arc, rc=1, words=["exists"])
tool("create", "--name", "../x", "--disk", img, arc + "2", rc=2, words=["--name"])
tool("verify", arc, words=["OK"])
r = subprocess.run(["sha256sum", "-c", os.path.basename(arc) + ".sha256"], cwd=os.path.dirname(arc),
                   capture_output=True, text=True)
if r.returncode != 0:
    fail("sha256sum -c does not accept the checksum file: " + r.stdout + r.stderr)
members = subprocess.run(["tar", "--zstd", "-tf", arc], capture_output=True, text=True).stdout.split()
if sorted(members) != ["MANIFEST", "config/", "config/tote.cfg", "disk/", "disk/tote.img"]:
    fail("archive members: %s" % members)

# One corrupted byte: caught by the archive checksum...
good = open(arc, "rb").read()
bad = bytearray(good)
bad[len(bad) // 2] ^= 0x01
open(arc, "wb").write(bad)
tool("verify", arc, rc=1, words=["SHA-256 mismatch", "damaged"])
tool("restore", "--to", d, arc, rc=1, words=["damaged"])
# ...and still caught when someone "fixed" the checksum file to match.
with open(arc + ".sha256", "w") as f:
    f.write("%s  tote.tar.zst\n" % hashlib.sha256(bad).hexdigest())
r = tool("verify", arc, rc=1)
if r.stderr.count("\n") != 1:
    fail("verify failure is not one line: %r" % r.stderr)
open(arc, "wb").write(good)
with open(arc + ".sha256", "w") as f:
    f.write("%s  tote.tar.zst\n" % hashlib.sha256(good).hexdigest())
tool("verify", arc, words=["OK"])

# Restore next to the originals: refused while they exist, done into a folder.
tool("restore", arc, rc=1, words=["exists", "--force"])
into = os.path.join(d, "restored")
os.mkdir(into)
tool("restore", "--to", into, arc, words=["restored"])
for p in (img, cfg):
    q = os.path.join(into, os.path.basename(p))
    if sha(q) != orig[p] or os.path.getsize(q) != os.path.getsize(p):
        fail("%s is not byte-identical to %s" % (q, p))
fsck_clean(os.path.join(into, "tote.img"))

# Purge: needs --yes; refuses a disk in use or changed since archiving.
tool("purge", arc, rc=1, words=["would delete", "--yes"])
if not os.path.exists(img):
    fail("purge without --yes deleted the disk")
holder = subprocess.Popen([sys.executable, "-c", "import os,sys; os.open(sys.argv[1], os.O_RDWR); "
                           "print('ok', flush=True); sys.stdin.read()", img],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
holder.stdout.readline()
tool("purge", "--yes", arc, rc=1, words=["in use"])
holder.stdin.close()
holder.wait()
with open(cfg, "a") as f:
    f.write("# edited after archiving\n")
tool("purge", "--yes", arc, rc=1, words=["changed since it was archived"])
with open(cfg, "w") as f:
    f.write(open(os.path.join(into, "tote.cfg")).read())
tool("purge", "--yes", arc, words=["deleted"])
if os.path.exists(img) or os.path.exists(cfg):
    fail("purge --yes left the originals")

# Restore to the original paths recorded in the manifest; replacing a disk
# needs --force and is refused while a process writes to it.
tool("restore", arc, words=["restored"])
holder = subprocess.Popen([sys.executable, "-c", "import os,sys; os.open(sys.argv[1], os.O_RDWR); "
                           "print('ok', flush=True); sys.stdin.read()", img],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
holder.stdout.readline()
tool("restore", "--force", arc, rc=1, words=["in use"])
holder.stdin.close()
holder.wait()
with open(img, "r+b") as f:
    f.write(b"\0" * 512)  # boot sector wiped
tool("restore", "--force", arc, words=["restored"])
for p in (img, cfg):
    if sha(p) != orig[p]:
        fail("%s not restored byte-identical" % p)
fsck_clean(img)
tool("verify", os.path.join(d, "nothing.tar.zst"), rc=1, words=["checksum file"])
print("PASS: archive, verify, corruption detected, restore byte-identical, purge guarded")
