#!/usr/bin/env python3
"""The shell's USB menu against a real tandemd and two real domains with an
xHCI (usbdev in their configs), driven with xdotool: the emulated printer
(a --usb spec typed into the Device field) is attached to one domain, moved
to the other, detached; a stick the policy denies is refused with a clear
"Denied by USB policy" message and is attached nowhere. Every result is
checked in tandemd's usb-list and in the VMMs' own usb-list."""
import json, re, socket, subprocess
from uitest import *

t = Tandemd()
for name in ("usba", "usbb"):
    cfg = t.fb_config(name)
    with open(cfg, "a") as f:
        f.write('usbdev = [ "vendorid=0x1209,productid=0x0003" ]\n')
    t.cli("create", cfg)
printer = "printer:" + os.path.join(t.dir, "lp0.spool")
stick = "storage:" + os.path.join(t.dir, "stick.img")
with open(os.path.join(t.dir, "stick.img"), "wb") as f:
    f.truncate(1 << 20)


def call(method, **params):
    s = socket.socket(socket.AF_UNIX)
    s.connect(t.sock)
    s.sendall(json.dumps({"id": 1, "method": method, "params": params}).encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        buf += s.recv(65536)
    s.close()
    return json.loads(buf.split(b"\n")[0])


def owner(dev):
    for d in call("usb-list")["result"]["devices"]:
        if d["device"] == dev:
            return d["owner"]
    return None


def vmm_devices(dom):
    s = socket.socket(socket.AF_UNIX)
    s.connect(t.control_path(dom))
    s.sendall(b'{"id": 1, "cmd": "usb-list"}\n')
    buf = b""
    while b"\n" not in buf:
        buf += s.recv(65536)
    s.close()
    return [d["id"] for d in json.loads(buf.split(b"\n")[0])["devices"]]


r = call("usb-policy", rules=[{"match": "1209:0002", "action": "deny"}])
if not r.get("ok"):
    fail(f"usb-policy: {r}")
start_xvfb("1280x800x24")
log = os.path.join(tmp, "shell.log")
start([os.environ["TANDEM_SHELL"], "--socket", t.sock, "--open", "usb"],
      env=dict(os.environ, TANDEM_SHELL_LOG="1"), stderr=open(log, "w"))
at = wait_log(log, "USB devices: usb-list answered")
r = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name", "^USB devices$"],
                   capture_output=True, text=True, timeout=30)
if r.returncode != 0:
    fail("no USB devices window")
win = r.stdout.split()[-1]


def fill(mnemonic, text):
    xdotool("windowfocus", "--sync", win)
    xdotool("key", "--clearmodifiers", mnemonic)
    xdotool("key", "--clearmodifiers", "ctrl+a")
    xdotool("type", "--delay", "5", text)


def act(device, domain, button):
    fill("alt+d", device)
    if domain:
        fill("alt+o", domain)
    xdotool("windowfocus", "--sync", win)
    xdotool("key", "--clearmodifiers", button)

act(printer, "usba", "alt+a")
at = wait_log(log, f"USB: {printer} attached to usba (port ", after=at)
if owner(printer) != "usba" or vmm_devices("usba") != ["1209:0003"]:
    fail(f"after attach: owner {owner(printer)}, usba has {vmm_devices('usba')}")

act(printer, "usbb", "alt+a")
at = wait_log(log, f"USB: {printer} attached to usbb (port ", after=at)
if owner(printer) != "usbb" or vmm_devices("usbb") != ["1209:0003"] or vmm_devices("usba"):
    fail(f"after the move: owner {owner(printer)}, usba {vmm_devices('usba')}, "
         f"usbb {vmm_devices('usbb')}")

act(stick, "usba", "alt+a")
at = wait_log(log, "USB: Denied by USB policy: ", after=at)
if owner(stick) or vmm_devices("usba"):
    fail(f"the denied stick was attached: owner {owner(stick)}, usba {vmm_devices('usba')}")

act(printer, None, "alt+h")
at = wait_log(log, f"USB: {printer} detached", after=at)
if owner(printer) or vmm_devices("usbb"):
    fail(f"after detach: owner {owner(printer)}, usbb {vmm_devices('usbb')}")
text = open(log).read()
if "CRITICAL" in text or "WARNING" in text:
    fail("GTK complained:\n" + text)
print("ok")
