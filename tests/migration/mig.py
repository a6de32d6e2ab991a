"""Shared helpers for the migration-kit tests: the tools' paths, legacy
record formatting (docs/legacy-records.md) and mtools wrappers."""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

BUILD = os.environ.get("TANDEM_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
EXTRACT = os.path.join(BUILD, "migration-kit", "tandem-extract")
ARCHIVE = os.path.join(BUILD, "migration-kit", "tandem-archive")
MKDISK = os.path.join(BUILD, "legacy", "legacy-mkdisk")
MENV = dict(os.environ, MTOOLS_SKIP_CHECK="1")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def workdir():
    """A temporary directory, removed when the test exits."""
    d = tempfile.mkdtemp(prefix="migration-test-")
    atexit.register(shutil.rmtree, d, True)
    return d


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, env=MENV, **kw)


def mkdisk(path):
    r = run([MKDISK, "--force", path])
    if r.returncode != 0:
        fail("legacy-mkdisk: " + r.stderr)


def mcopy(img, name, data):
    """Writes data as ::NAME on the image with mtools (replacing it)."""
    src = os.path.join(os.path.dirname(img), "mcopy-src.bin")
    with open(src, "wb") as f:
        f.write(data)
    r = run(["mcopy", "-o", "-i", img, src, "::" + name])
    if r.returncode != 0:
        fail("mcopy %s: %s" % (name, r.stderr))
    os.unlink(src)


def mdel(img, name):
    r = run(["mdel", "-i", img, "::" + name])
    if r.returncode != 0:
        fail("mdel %s: %s" % (name, r.stderr))


def fsck_clean(img):
    r = run(["fsck.fat", "-n", img])
    if r.returncode != 0:
        fail("fsck.fat -n %s: exit %d\n%s%s" % (img, r.returncode, r.stdout, r.stderr))


def ticket(number, stamp, op, race, runner, stake, status, name):
    rec = "%06d %s %04d %02d %02d %08d %s %-18.18s\r\n" % (number, stamp, op, race, runner, stake,
                                                           status, name)
    b = rec.encode("cp850")
    assert len(b) == 64, len(b)
    return b


def runner(race, track, post, number, name):
    b = ("%02d %-12.12s %s %02d %-20.20s\r\n" % (race, track, post, number, name)).encode("cp850")
    assert len(b) == 47
    return b


def extract(img, out, *extra):
    return run([EXTRACT, "--out", out] + list(extra) + [img])


def report(out):
    with open(os.path.join(out, "report.json"), encoding="utf-8") as f:
        return json.load(f)


def jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def totals(records):
    """End-of-day numbers as the terminal defines them, from raw records."""
    sold = [r for r in records if r[42:43] == b"S"]
    cancelled = [r for r in records if r[42:43] == b"C"]
    return len(sold), len(cancelled), sum(int(r[33:41]) for r in sold)
