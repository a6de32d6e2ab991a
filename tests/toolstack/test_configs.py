#!/usr/bin/env python3
"""The xl.cfg subset: good configs in both disk syntaxes, warnings for
unknown keys, and 20 bad configs, each rejected with its file:line and a
precise message, both offline (tandem-cfgcheck) and by tandemd (create)."""
import json
import os
import subprocess
import sys

from tstlib import Client, check, run

BASE = 'name = "t"\nkernel = "/bin/true"\n'

# (config text, line of the error, message fragment)
BAD = [
    ('kernel = "/bin/true"\n', 2, "'name' is required"),
    ('name = "t"\n', 2, "'kernel' is required"),
    (BASE + 'memory = "lots"\n', 3, "memory: expected an integer (MiB)"),
    (BASE + 'memory = 0\n', 3, "memory: 0 is out of range"),
    (BASE + 'vcpus = 65\n', 3, "vcpus: 65 is out of range 1..64"),
    (BASE + 'type = "hvm"\n', 3, "type: 'hvm' is not supported"),
    (BASE + 'type = "pvhx"\n', 3, "type: 'pvhx' is not one of pvh, tandem-legacy"),
    (BASE + 'on_crash = "explode"\n', 3, "on_crash: 'explode' is not one of destroy, restart, preserve"),
    (BASE + 'disk = [ "/tmp/x,raw,xvda,rx" ]\n', 3, "disk: access 'rx' is not one of rw, ro"),
    (BASE + 'disk = [ "/tmp/x,qcow3,xvda,rw" ]\n', 3, "disk: format 'qcow3'"),
    (BASE + 'disk = [ "format=raw, vdev=floppy, target=/tmp/x" ]\n', 3, "vdev 'floppy'"),
    (BASE + 'disk = [ "format=raw, vdev=xvda" ]\n', 3, "disk: no target"),
    (BASE + 'disk = [ "/tmp/a,raw,xvda", "/tmp/b,raw,xvda" ]\n', 3, "vdev 'xvda' is used twice"),
    (BASE + 'disk = "/tmp/x,raw,xvda"\n', 3, "disk: expected a [list]"),
    (BASE + 'vif = [ "mac=00:16:3e:zz:00:01" ]\n', 3, "vif: mac '00:16:3e:zz:00:01'"),
    (BASE + 'name = "u"\n', 3, "'name' is set twice"),
    (BASE + 'memory = 64 128\n', 3, "unexpected '1' after the value of 'memory'"),
    (BASE + 'extra = "unterminated\n', 3, "unterminated string"),
    (BASE + 'disk = [ "/tmp/x,raw,xvda",\n  "/tmp/y,raw,xvdb"\n', 3, "list opened here is not closed"),
    ('name = "bad name!"\nkernel = "/bin/true"\n', 1, "name: 'bad name!' must be"),
    (BASE + 'usbdev = [ "hostbus=1,hostaddr=x" ]\n', 3, "usbdev: hostaddr 'x' is not a number"),
    (BASE + '= 5\n', 3, "expected a key name"),
]

GOOD = '''# an xl.cfg a Xen user could bring
name = "legacy-term"
type = "tandem-legacy"
kernel = "legacy.elf"
memory = 32
vcpus = 1
disk = [ 'data.img,raw,xvda,rw',
         'format=raw, vdev=xvdb, access=ro, target=/srv/images/a,b.img' ]
vif = [ 'mac=00:16:3e:00:00:01,bridge=br0' ]
vfb = [ 'vnc=1' ]
usbdev = [ 'hostbus=1,hostaddr=4' ]
on_poweroff = "preserve"; on_reboot = "restart"
on_crash = 'restart'
maxmem = 64
colour = "blue"
'''


def cfgcheck(env, text, name="bad.cfg"):
    path = os.path.join(env.dir, name)
    with open(path, "w") as f:
        f.write(text)
    p = subprocess.run([env.cfgcheck, path], capture_output=True, text=True, timeout=10)
    return path, p


def main(env):
    check(len(BAD) >= 20, "fewer than 20 bad configs")
    c = Client(env.sock)
    for i, (text, line, frag) in enumerate(BAD):
        path, p = cfgcheck(env, text, f"bad{i}.cfg")
        want = f"{path}:{line}: "
        check(p.returncode == 6, f"bad config {i} accepted: {text!r}")
        check(p.stderr.startswith(want) and frag in p.stderr,
              f"bad config {i}: got {p.stderr.strip()!r}, want {want}...{frag}")
        r = c.request("create", config=text, path=path)
        check(not r["ok"] and r["error"]["code"] == "config", f"daemon accepted bad {i}")
        check(r["error"]["message"].startswith(want) and frag in r["error"]["message"],
              f"daemon bad {i}: {r['error']['message']}")
        p = env.cli("create", path, check_rc=6)
        check(frag in p.stderr, f"cli bad {i}: {p.stderr}")

    path, p = cfgcheck(env, GOOD, "good.cfg")
    check(p.returncode == 0, f"good config rejected: {p.stderr}")
    check(f"{path}:14: warning: 'maxmem' is not supported" in p.stderr, p.stderr)
    check(f"{path}:15: warning: unknown key 'colour' ignored" in p.stderr, p.stderr)
    cfg = json.loads(p.stdout)
    args = cfg["vmm_args"]
    check(cfg["on_crash"] == "restart" and cfg["on_poweroff"] == "preserve", cfg)
    check(args[args.index("--legacy") + 1] == os.path.join(env.dir, "legacy.elf"), args)
    disks = [args[i + 1] for i, a in enumerate(args) if a == "--disk"]
    check(disks == [os.path.join(env.dir, "data.img") + ",format=raw",
                    "/srv/images/a,b.img,ro,format=raw"], disks)
    check(args[args.index("--mem") + 1] == "32M", args)

    # The daemon checks the files a config names before starting a VMM.
    r = c.request("create", config=BASE.replace("/bin/true", "/nonexistent/k"), path="/x.cfg")
    check(r["error"]["code"] == "config" and "/nonexistent/k" in r["error"]["message"], r)


sys.exit(run(main))
