"""`tandem image ...` runs tandem-image (the external-command dispatch of the
tandem CLI) and its chain commands agree with qemu-img: info --json, commit,
rebase (safe and -u), snapshot -l against qemu-img's snapshots, convert with
a progress bar into a sparse file, and flocks that stop a second writer."""
import fcntl
import json
import os
import subprocess
import sys
import tempfile

TANDEM = os.path.abspath(sys.argv[1])
IMAGE_DIR = os.path.dirname(os.path.abspath(sys.argv[2]))
ENV = dict(os.environ, PATH=IMAGE_DIR + ":" + os.environ["PATH"])
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def tandem(*args, ok=True):
    r = subprocess.run([TANDEM] + list(args), capture_output=True, text=True, env=ENV)
    if ok and r.returncode != 0:
        print("FAIL: tandem %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
        sys.exit(1)
    return r


def qemu(*args):
    return subprocess.run(list(args), capture_output=True, text=True, check=True).stdout


def qemu_io(img, fmt, *cmds):
    a = ["qemu-io", "-f", fmt]
    for c in cmds:
        a += ["-c", c]
    qemu(*a, img)


def flatten(img, out):
    qemu("qemu-img", "convert", "-O", "raw", img, out)
    with open(out, "rb") as f:
        return f.read()


d = tempfile.mkdtemp(prefix="storage-cli-")
os.chdir(d)

# create + info through `tandem image`, JSON both ways
tandem("image", "create", "-f", "qcow2", "base.qcow2", "8M")
qemu_io("base.qcow2", "qcow2", "write -P 0x11 0 2M", "write -P 0x22 6M 1M")
tandem("image", "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "top.qcow2")
qemu_io("top.qcow2", "qcow2", "write -P 0x33 1M 2M", "write -z 6M 64k")
for args in (["--json", "image", "info", "top.qcow2"], ["image", "info", "--json", "top.qcow2"]):
    info = json.loads(tandem(*args).stdout)
    check(info.get("format") == "qcow2" and info.get("virtual-size") == 8 << 20, "info %s" % info)
    check("base.qcow2" in json.dumps(info), "info names the backing file: %s" % info)
r = tandem("image", "frobnicate", ok=False)
check(r.returncode != 0 and "usage" in r.stderr, "unknown subcommand: %r" % r.stderr)

# commit: the base takes the top's view; both check clean
view = flatten("top.qcow2", "view.raw")
with open("base.qcow2", "rb") as f:
    fd = f.fileno()
    fcntl.flock(fd, fcntl.LOCK_SH)  # a VM running on the base
    r = tandem("image", "commit", "top.qcow2", ok=False)
    check(r.returncode != 0 and "in use" in r.stderr, "commit under a reader: %r" % r.stderr)
    fcntl.flock(fd, fcntl.LOCK_UN)
r = tandem("--json", "image", "commit", "top.qcow2")
check(json.loads(r.stdout)["committed-bytes"] > 0, "commit --json: %r" % r.stdout)
check(flatten("base.qcow2", "base.raw") == view, "base after commit differs from the top's view")
for img in ("base.qcow2", "top.qcow2"):
    check(subprocess.run(["qemu-img", "check", img], capture_output=True).returncode == 0,
          "qemu-img check %s after commit" % img)
r = tandem("image", "commit", "base.qcow2", ok=False)
check(r.returncode != 0 and "no backing file" in r.stderr, "commit without backing: %r" % r.stderr)

# rebase (safe): onto a different raw file, and then onto nothing
qemu("qemu-img", "create", "-q", "-f", "raw", "other.raw", "8M")
qemu_io("other.raw", "raw", "write -P 0x44 0 1M", "write -P 0x55 5M 2M")
tandem("image", "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "child.qcow2")
qemu_io("child.qcow2", "qcow2", "write -P 0x66 512k 64k")
view = flatten("child.qcow2", "child0.raw")
tandem("image", "rebase", "-b", "other.raw", "-F", "raw", "child.qcow2")
info = json.loads(qemu("qemu-img", "info", "--output=json", "child.qcow2"))
check(info.get("backing-filename") == "other.raw" and info.get("backing-filename-format") == "raw",
      "qemu-img info after rebase: %s" % info)
check(flatten("child.qcow2", "child1.raw") == view, "safe rebase changed the guest's view")
tandem("image", "rebase", "-b", "", "child.qcow2")
info = json.loads(qemu("qemu-img", "info", "--output=json", "child.qcow2"))
check("backing-filename" not in info, "rebase -b '' left a backing file: %s" % info)
check(flatten("child.qcow2", "child2.raw") == view, "rebase onto nothing changed the view")
check(subprocess.run(["qemu-img", "check", "child.qcow2"], capture_output=True).returncode == 0,
      "qemu-img check after rebase")
# unsafe rebase only renames
tandem("image", "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "u.qcow2")
tandem("image", "rebase", "-u", "-b", "other.raw", "-F", "raw", "u.qcow2")
check(flatten("u.qcow2", "u.raw") == open("other.raw", "rb").read(), "rebase -u view")

# snapshots made by qemu-img are listed; creating one is refused clearly
qemu("qemu-img", "snapshot", "-c", "golden", "base.qcow2")
qemu("qemu-img", "snapshot", "-c", "second", "base.qcow2")
snaps = json.loads(tandem("--json", "image", "snapshot", "-l", "base.qcow2").stdout)
check([s["name"] for s in snaps] == ["golden", "second"] and snaps[0]["id"] == "1",
      "snapshot -l: %s" % snaps)
check(all(s["disk-size"] == 8 << 20 for s in snaps), "snapshot disk sizes: %s" % snaps)
r = tandem("image", "snapshot", "-l", "base.qcow2")
check("golden" in r.stdout and "second" in r.stdout, "snapshot -l text: %r" % r.stdout)
r = tandem("image", "snapshot", "-c", "x", "base.qcow2", ok=False)
check(r.returncode != 0 and "not supported" in r.stderr, "snapshot -c: %r" % r.stderr)

# convert: progress bar with -p, sparse output identical to qemu-img's view
qemu("qemu-img", "create", "-q", "-f", "qcow2", "big.qcow2", "64M")
qemu_io("big.qcow2", "qcow2", "write -P 0x77 40M 1M")
r = tandem("image", "convert", "-p", "-O", "qcow2", "big.qcow2", "copy.qcow2")
check("100%" in r.stderr and "[" in r.stderr, "convert -p shows no progress bar: %r" % r.stderr)
check(subprocess.run(["qemu-img", "compare", "big.qcow2", "copy.qcow2"],
                     capture_output=True).returncode == 0, "convert output differs")
check(os.stat("copy.qcow2").st_blocks * 512 < 8 << 20, "convert output is not sparse")

if failures:
    sys.exit(1)
print("PASS: tandem image create/info/commit/rebase/snapshot/convert")
