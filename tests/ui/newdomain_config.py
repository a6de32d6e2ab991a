#!/usr/bin/env python3
"""The New domain dialog's config builder (dom0-ui/shell/newdomain_config.c):
every field combination it accepts is a config tandem-cfgcheck (tandemd's
own parser) accepts with the same values; bad fields get one message
naming the field."""
import os, subprocess, sys, tempfile

PRINT, CFGCHECK = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix="newdomain-")
kernel = os.path.join(tmp, "k e,r'nel.elf")  # quote, comma, space survive quoting
disk = os.path.join(tmp, "data,1.qcow2")
for f in (kernel, disk):
    open(f, "wb").close()


def build(name="d1", type_="pvh", kern=kernel, memory="512M", vcpus="2", disk_="", net="none",
          usb=""):
    return subprocess.run([PRINT, name, type_, kern, memory, vcpus, disk_, net, usb],
                          capture_output=True, text=True)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


good = [
    (dict(), ["memory = 512", "vcpus = 2"]),
    (dict(memory="2G", disk_=disk, net="user", usb="1d6b:0002, 3-4"),
     ["memory = 2048", "format=qcow2", "type=user", "vendorid=0x1d6b", "hostbus=3"]),
    (dict(type_="tandem-legacy", memory=" 16 MiB", vcpus="1", net="bridge"),
     ["memory = 16", "tandem-legacy", "type=bridge"]),
]
for kw, want in good:
    r = build(**kw)
    if r.returncode != 0:
        fail(f"{kw}: refused: {r.stdout}")
    cfg = os.path.join(tmp, "d.cfg")
    with open(cfg, "w") as f:
        f.write(r.stdout)
    c = subprocess.run([CFGCHECK, cfg], capture_output=True, text=True)
    if c.returncode != 0:
        fail(f"{kw}: tandem-cfgcheck refused\n{r.stdout}\n{c.stdout}{c.stderr}")
    for w in want:
        if w not in r.stdout:
            fail(f"{kw}: {w!r} not in\n{r.stdout}")
    if kernel not in c.stdout + c.stderr:
        fail(f"{kw}: the kernel's name did not survive quoting:\n{c.stdout}{c.stderr}")

bad = [
    (dict(name=""), "Name: a name is required"),
    (dict(name="-x"), "Name: '-x' must be"),
    (dict(name="a b"), "Name: 'a b' may only hold"),
    (dict(kern=""), "Kernel: a kernel file is required"),
    (dict(kern=tmp + "/none"), f"Kernel: {tmp}/none is not a file"),
    (dict(memory="12x"), "Memory: '12x' is not a size in MiB"),
    (dict(memory=""), "Memory: '' is not a size in MiB"),
    (dict(memory="0"), "Memory: '0' is out of range"),
    (dict(memory="2048G"), "Memory: '2048G' is out of range"),
    (dict(memory="99999999999999999999999"), "Memory: '99999999999999999999999' is out of range"),
    (dict(vcpus="0"), "vCPUs: 0 is out of range"),
    (dict(disk_=tmp), f"Disk: {tmp} is not a file"),
    (dict(usb="1234:5678 zz"), "USB: 'zz' is not VVVV:PPPP"),
    (dict(usb="12345:1"), "USB: '12345:1' is not"),
    (dict(kern=kernel + "\n"), "Kernel: the file name has a control character"),
]
for kw, want in bad:
    r = build(**kw)
    if r.returncode != 1 or not r.stdout.startswith(want) or r.stdout.count("\n") != 1:
        fail(f"{kw}: want {want!r}, got rc {r.returncode}: {r.stdout!r}")
print("ok")
