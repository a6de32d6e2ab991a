#!/usr/bin/env python3
"""The shell's USB menu and phase panel against a real tandemd: when tandemd
has no usb-list / phase-status method (tandem --json says so too) the
dialog reports "not available" cleanly; when it has them, the dialog opens
without an error. The status line is read from stderr (TANDEM_SHELL_LOG)."""
import json, socket, subprocess, time
from uitest import *


def has_method(sock, method):
    """Asks tandemd directly whether it knows the method."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall(json.dumps({"id": 1, "method": method, "params": {}}).encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        buf += s.recv(65536)
    s.close()
    err = json.loads(buf.split(b"\n")[0]).get("error")
    return not (err and "unknown" in json.dumps(err).lower())

t = Tandemd()
start_xvfb("1280x800x24")
env = dict(os.environ, TANDEM_SHELL_LOG="1")
for dialog, method, title in (("usb", "usb-list", "USB devices"), ("phase", "phase-status", "Phase")):
    available = has_method(t.sock, method)
    log = os.path.join(tmp, dialog + ".err")
    p = start([os.environ["TANDEM_SHELL"], "--socket", t.sock, "--open", dialog], env=env,
              stderr=open(log, "w"))
    want = f"not available (tandemd has no {method} method)"
    deadline = time.time() + 20
    text = ""
    while time.time() < deadline:
        text = open(log).read()
        if want in text or f"{method} answered" in text:
            break
        time.sleep(0.2)
    time.sleep(0.3)
    text = open(log).read()
    p.terminate()
    p.wait(10)
    if not available and want not in text:
        fail(f"{dialog}: tandemd has no {method} but the shell did not say so: {text}")
    if available and (f"{method} answered" not in text or "CRITICAL" in text):
        fail(f"{dialog}: {method} exists but the shell reported: {text}")
    print(f"ok: {dialog} ({'available' if available else 'not available'})")
