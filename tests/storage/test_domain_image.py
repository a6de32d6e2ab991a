"""tandem clone / export / import against a real tandemd and tandem-vmm:
a running domain's writable disk is refused (it is locked), a stopped one is
cloned onto a qcow2 overlay that starts and leaves the base untouched; an
export holds config, disks and a manifest whose SHA-256 sums hashlib agrees
with; import installs it, and a tampered or truncated archive is refused
with nothing installed."""
import glob
import hashlib
import json
import os
import subprocess
import sys
import tarfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "toolstack"))
from tstlib import Client, Env, Fail, check  # noqa: E402


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def qemu_img(*args):
    return subprocess.run(["qemu-img", *args], capture_output=True, text=True)


def disk_cfg(env, name, disk, mode, extra=""):
    return env.config(name, mode=mode, extra=(
        f'disk = [ "format=raw, vdev=xvda, access=rw, target={disk}" ]\n' + extra))


def main(env):
    c = Client(env.sock)
    images = os.path.join(env.dir, "images")
    os.mkdir(images)
    golden = os.path.join(images, "golden.img")
    with open(golden, "wb") as f:
        f.truncate(4 << 20)
        f.seek(1 << 20)
        f.write(os.urandom(256 << 10))
    base_sum = sha256(golden)

    # running with the disk open read-write: clone and export are refused
    env.cli("create", disk_cfg(env, "live", golden, 0))
    env.wait_state(c, "live", "running")
    p = env.cli("clone", "live", "copy", check_rc=None)
    check(p.returncode == 1 and "being written" in p.stderr, f"clone of a running domain: {p.stderr}")
    p = env.cli("export", "live", os.path.join(env.dir, "live.tar"), check_rc=None)
    check(p.returncode == 1 and "being written" in p.stderr,
          f"export of a running domain: {p.stderr}")
    check(not os.path.exists(os.path.join(env.dir, "live.tar")), "a refused export left a file")
    env.cli("destroy", "live")

    # a stopped (preserved) domain: linked clone
    env.cli("create", disk_cfg(env, "gold", golden, 1, 'on_poweroff = "preserve"\n'))
    env.wait_state(c, "gold", "stopped")
    r = env.cli_json("clone", "gold", "copy")
    overlay = os.path.join(images, "copy-xvda.qcow2")
    check(r["disks"] == [overlay] and os.path.exists(r["config_path"]), f"clone reply {r}")
    info = json.loads(qemu_img("info", "--output=json", overlay).stdout)
    check(info["format"] == "qcow2" and info.get("full-backing-filename") == golden
          and info["virtual-size"] == 4 << 20, f"overlay {info}")
    p = env.cli("clone", "gold", "copy", check_rc=None)
    check(p.returncode != 0 and "exists" in p.stderr, f"second clone: {p.stderr}")
    p = env.cli("clone", "nosuch", "x", check_rc=None)
    check(p.returncode == 4, f"clone of a missing domain: {p.returncode} {p.stderr}")
    env.cli("create", r["config_path"])
    env.wait_state(c, "copy", "stopped")  # mode=1 powers off; on_poweroff is preserve
    check(qemu_img("check", overlay).returncode == 0, "qemu-img check of the overlay")
    check(sha256(golden) == base_sum, "the base changed")

    # export: config + flattened disk + manifest
    tar = os.path.join(env.dir, "gold.tar")
    r = env.cli_json("export", "gold", tar)
    with tarfile.open(tar) as t:
        names = t.getnames()
        check(sorted(names) == ["config.cfg", "disk-xvda.qcow2", "manifest.json"], names)
        man = json.load(t.extractfile("manifest.json"))
        xdir = os.path.join(env.dir, "x")
        t.extractall(xdir)
    check(sha256(os.path.join(xdir, "config.cfg")) == man["config-sha256"], "config sha256")
    check(sha256(os.path.join(xdir, "disk-xvda.qcow2")) == man["disks"][0]["sha256"],
          "disk sha256")
    check(qemu_img("compare", "-f", "qcow2", "-F", "raw", os.path.join(xdir, "disk-xvda.qcow2"),
                   golden).returncode == 0, "exported disk differs from the source")
    check(os.path.getsize(os.path.join(xdir, "disk-xvda.qcow2")) < 2 << 20,
          "exported disk is not compact")

    # a large export runs in a worker: other clients are answered meanwhile,
    # and subscribers see its progress
    big = os.path.join(images, "big.img")
    blk = os.urandom(1 << 20)
    with open(big, "wb") as f:
        f.truncate(2 << 30)
        for i in range(512):
            f.seek(i * (3 << 20))
            f.write(i.to_bytes(4, "little") + blk[4:])
    env.cli("create", disk_cfg(env, "big", big, 1, 'on_poweroff = "preserve"\n'))
    env.wait_state(c, "big", "stopped")
    ev = Client(env.sock)
    ev.call("subscribe", topics=["event"], domain="big")
    ex = Client(env.sock, timeout=120)
    big_tar = os.path.join(env.dir, "big.tar")
    ex.send_raw((json.dumps({"v": 1, "id": 1, "method": "export",
                             "params": {"domain": "big", "path": big_tar}}) + "\n").encode())
    progress = ev.next_event(timeout=30)  # the copy has started
    check(progress.get("event") == "export-progress" and progress.get("domain") == "big",
          f"first event {progress}")
    listed = env.cli_json("list")
    doms = listed.get("domains", listed) if isinstance(listed, dict) else listed
    check(any(d["name"] == "big" for d in doms), f"list during the export: {listed}")
    check(not os.path.exists(big_tar) and os.path.exists(big_tar + ".part"),
          "the export finished before list answered: it did not run alongside")
    r = ex.read_msg()
    check(r.get("ok") and r["result"]["path"] == big_tar, f"export reply {r}")
    more = []
    while True:
        try:
            more.append(ev.next_event(timeout=2))
        except Exception:  # noqa: BLE001 - no more events
            break
    last = [e for e in more if e.get("event") == "export-progress"]
    check(last and last[-1]["done"] == last[-1]["total"], f"progress events {more[-3:]}")
    with tarfile.open(big_tar) as t:
        t.extract("disk-xvda.qcow2", os.path.join(env.dir, "bigx"))
    check(qemu_img("compare", "-F", "raw", os.path.join(env.dir, "bigx", "disk-xvda.qcow2"),
                   big).returncode == 0, "the large export differs from its disk")
    for f in (big_tar, big, os.path.join(env.dir, "bigx", "disk-xvda.qcow2")):
        os.unlink(f)
    env.cli("destroy", "big")

    # import: refused while the name exists, tampered copies install nothing
    p = env.cli("import", tar, check_rc=None)
    check(p.returncode != 0 and "already exists" in p.stderr, f"import over gold: {p.stderr}")
    env.cli("destroy", "gold")
    data = bytearray(open(tar, "rb").read())
    with tarfile.open(tar) as t:
        off = t.getmember("disk-xvda.qcow2").offset_data
    bad = os.path.join(env.dir, "bad.tar")
    data[off + 70000] ^= 0x40
    open(bad, "wb").write(data)
    p = env.cli("import", bad, check_rc=None)
    check(p.returncode != 0 and "does not match the manifest" in p.stderr, f"tampered: {p.stderr}")
    open(bad, "wb").write(open(tar, "rb").read()[:off + 4096])
    p = env.cli("import", bad, check_rc=None)
    check(p.returncode != 0 and "import:" in p.stderr, f"truncated: {p.stderr}")
    check(not os.path.exists(os.path.join(env.dir, "gold")) and
          not glob.glob(os.path.join(env.dir, "gold.import-*")), "a refused import left files")

    r = env.cli_json("import", tar)
    check(r["name"] == "gold" and r["dir"] == os.path.join(env.dir, "gold"), f"import {r}")
    disk = os.path.join(r["dir"], "disk-xvda.qcow2")
    check(qemu_img("compare", "-F", "raw", disk, golden).returncode == 0, "imported disk differs")
    env.cli("create", r["config_path"])
    env.wait_state(c, "gold", "stopped")
    check(sha256(golden) == base_sum, "the base changed")
    print("PASS: clone, export, import (and refusals)")


env = Env(sys.argv)
try:
    env.start()
    main(env)
except Fail as e:
    print("FAIL:", e)
    print(env.daemon_log())
    env.cleanup()
    sys.exit(1)
env.cleanup()
