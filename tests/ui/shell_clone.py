#!/usr/bin/env python3
"""The shell's create-domain dialog "from template", against a real
tandemd, driven with xdotool: a stopped domain with a disk is cloned
(tandemd's clone: a qcow2 overlay over its disk, a new config) and the
clone is started and runs; the template stays stopped and unchanged. A
template that does not exist gives a clear message and creates nothing."""
import json, socket, subprocess
from uitest import *

t = Tandemd()
disk = os.path.join(t.dir, "tmpl.img")
with open(disk, "wb") as f:
    f.truncate(1 << 20)
cfg = t.fb_config("tmpl")
with open(cfg, "a") as f:
    f.write(f"disk = [ '{disk},raw,xvda,rw' ]\non_poweroff = \"preserve\"\n")
t.cli("create", cfg)


def call(method, **params):
    s = socket.socket(socket.AF_UNIX)
    s.connect(t.sock)
    s.sendall(json.dumps({"id": 1, "method": method, "params": params}).encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        buf += s.recv(65536)
    s.close()
    return json.loads(buf.split(b"\n")[0])

# fbguest ignores the power button: the timeout stops it, preserved
call("shutdown", domain="tmpl", timeout=1, wait=True)
t.wait_state("tmpl", "stopped")
before = open(disk, "rb").read()

start_xvfb("1280x800x24")
log = os.path.join(tmp, "shell.log")
env = dict(os.environ, TANDEM_SHELL_LOG="1")


def new_domain(template, name):
    p = start([os.environ["TANDEM_SHELL"], "--socket", t.sock, "--open", "new"], env=env,
              stderr=open(log, "a"))
    r = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name", "^New domain$"],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        fail("no New domain window")
    win = r.stdout.split()[-1]
    for key, text in (("alt+n", name), ("alt+t", template)):
        xdotool("windowfocus", "--sync", win)
        xdotool("key", "--clearmodifiers", key)
        xdotool("type", "--delay", "5", text)
    xdotool("windowfocus", "--sync", win)
    xdotool("key", "--clearmodifiers", "alt+r")
    return p

p = new_domain("tmpl", "clone1")
wait_log(log, "Clone: clone1 cloned from tmpl and started", timeout=60)
t.wait_state("clone1", "running")
info = t.cli_json("info", "clone1")
disks = json.dumps(info.get("disks", []))
if "clone1-xvda.qcow2" not in disks:
    fail(f"clone1 does not run on an overlay: {info}")
t.wait_state("tmpl", "stopped")
if open(disk, "rb").read() != before:
    fail("the template's disk changed")
p.terminate()
p.wait(10)

at = os.path.getsize(log)
p = new_domain("nosuch", "clone2")
wait_log(log, "Clone: cloning nosuch failed: no domain named 'nosuch'", after=at, timeout=60)
if any(d["name"] == "clone2" for d in t.cli_json("list").get("domains", [])):
    fail("clone2 exists although its template does not")
text = open(log).read()
if "CRITICAL" in text or "WARNING" in text:
    fail("GTK complained:\n" + text)
print("ok")
