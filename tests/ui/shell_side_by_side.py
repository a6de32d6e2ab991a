#!/usr/bin/env python3
"""tandem-shell, started against a real tandemd, shows the legacy guest and a
framebuffer domain (a tiny PVH guest drawing a gradient) side by side without
being told any VMM path (tandemd's "display" method). The legacy pane's pixels
equal the guest's own cells rendered by the render library, the other pane's
equal the guest's framebuffer; typing into the legacy pane with xdotool
changes the guest's screen."""
import time
from uitest import *

t = Tandemd()
t.create_legacy("legacy")
t.create_fb("fb1")
t.wait_screen("legacy", "OPERATOR LOGIN")
t.wait_fb_drawn("fb1")
# bad requests get an error and no descriptor
for params, code in (({"domain": "nosuch"}, "not_found"), ({"domain": 7}, "invalid"), ({}, "invalid")):
    reply, fds = t.display_request(params)
    if fds or code not in str(reply.get("error", "")).lower():
        fail(f"display {params}: {reply} fds={fds}, want a {code} error")

start_xvfb()
start([os.environ["TANDEM_SHELL"], "--fullscreen", "--no-scale", "--theme", "dark",
       "--socket", t.sock])
a = find(t.control_path("legacy"))
b = find(t.control_path("fb1"))
if not a or not b:
    fail(f"panes not found: legacy={a} fb1={b}")
print("legacy pane at", a, "fb1 pane at", b)
if not (a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0]):
    fail("the panes are not side by side")

# input: click the legacy pane (grabs the keyboard) and log in by keystrokes
xdotool("mousemove", str(a[0] + a[2] // 2), str(a[1] + a[3] // 2), "click", "1")
time.sleep(0.3)
for field in ("1001", "1234"):
    xdotool("type", "--delay", "40", field)
    xdotool("key", "Return")
    time.sleep(0.3)
t.wait_screen("legacy", "MAIN MENU")
if not find(t.control_path("legacy")):
    fail("the pane does not show the updated guest screen")
print("ok")
