#!/usr/bin/env python3
"""tandem-kiosk against a real tandemd: the legacy guest fills the screen and
its pixels equal the guest's own cells rendered by the render library; the
hotkey switches to the other domain, whose screen then fills the display."""
import subprocess, time
from uitest import *

t = Tandemd()
t.create_legacy("legacy")
t.create_legacy("till2")
t.wait_screen("legacy", "OPERATOR LOGIN")
t.wait_screen("till2", "OPERATOR LOGIN")
t.type("till2", "1001\n1234\n")
t.wait_screen("till2", "MAIN MENU")

# an X screen exactly the size of the rendered guest screen: full screen is 1:1
r = subprocess.run([os.environ["FIND_SCREEN"], "--control", t.control_path("legacy"), "--size"],
                   capture_output=True, text=True)
if r.returncode != 0 or not r.stdout.startswith("SIZE "):
    fail("find_screen --size: " + r.stdout + r.stderr)
w, h = map(int, r.stdout.split()[1:3])
start_xvfb(f"{w}x{h}x24")
start([os.environ["TANDEM_KIOSK"], "--socket", t.sock, "legacy", "till2"])
a = find(t.control_path("legacy"))
if a != (0, 0, w, h):
    fail(f"legacy is not shown full screen: {a}, screen {w}x{h}")
if find(t.control_path("till2"), tries=1):
    fail("till2 is visible before the hotkey")
xdotool("mousemove", str(w // 2), str(h // 2))
xdotool("key", "F12")
b = find(t.control_path("till2"))
if b != (0, 0, w, h):
    fail(f"after F12, till2 is not shown full screen: {b}")
print("ok")
