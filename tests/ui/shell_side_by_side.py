#!/usr/bin/env python3
"""tandem-shell shows two domains side by side; each pane's pixels equal the
guest's own cell buffer rendered by the render library; typing into the
focused legacy console changes the guest's screen."""
import json, socket, time, os
from uitest import *

def screen_text(sock):
    s = socket.socket(socket.AF_UNIX); s.connect(sock)
    s.sendall(b'{"id":1,"cmd":"screen-text"}\n')
    buf = b""
    while not buf.endswith(b"\n"):
        buf += s.recv(65536)
    s.close()
    return json.loads(buf)

start_xvfb()
_, legacy = start_host("legacy", "Legacy betting terminal")
_, linux = start_host("linux1", "Second domain: linux1")
start([os.environ["TANDEM_SHELL"], "--fullscreen", "--no-scale", "--theme", "dark",
       "--socket", os.path.join(tmp, "no-tandemd.sock"),
       "--attach", "legacy=" + legacy, "--attach", "linux1=" + linux])
a = find(legacy)
b = find(linux)
if not a or not b:
    fail(f"panes not found: legacy={a} linux1={b}")
print("legacy pane at", a, "linux1 pane at", b)
if not a[0] + a[2] <= b[0]:
    fail("legacy pane is not left of the linux1 pane")
if "TANDEM BRANCH TERMINAL" not in screen_text(legacy)["lines"][0]:
    fail("legacy screen-text lacks the title")

# input: click the legacy pane (grabs the keyboard) and type
xdotool("mousemove", str(a[0] + a[2] // 2), str(a[1] + a[3] // 2), "click", "1")
time.sleep(0.3)
xdotool("type", "--delay", "30", "Op42")
for _ in range(40):
    if "Operator: Op42" in screen_text(legacy)["lines"][5]:
        break
    time.sleep(0.1)
else:
    fail("typed text did not reach the guest: " + screen_text(legacy)["lines"][5])
if not find(legacy):
    fail("the pane does not show the updated guest screen")
print("ok")
