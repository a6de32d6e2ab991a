#!/usr/bin/env python3
"""HiDPI: with GDK_SCALE=2 tandem-shell draws the legacy guest's text with a
font twice the size at device resolution (found pixel-exactly as the render
library draws the guest's own cells at scale 2, not a blurred upscale), and
tandem-screenshot under the same GDK_SCALE writes exactly those pixels."""
import subprocess
from uitest import *

t = Tandemd()
t.create_legacy("legacy")
t.wait_screen("legacy", "OPERATOR LOGIN")

start_xvfb("3000x1300x24")
env = dict(os.environ, GDK_SCALE="2")
start([os.environ["TANDEM_SHELL"], "--fullscreen", "--no-scale", "--socket", t.sock], env=env)
a = find(t.control_path("legacy"), scale=2)
if not a:
    fail("the legacy pane is not drawn at scale 2")
one = subprocess.run([os.environ["FIND_SCREEN"], "--control", t.control_path("legacy"), "--size"],
                     capture_output=True, text=True).stdout.split()
if [a[2], a[3]] != [2 * int(one[1]), 2 * int(one[2])]:
    fail(f"pane {a[2]}x{a[3]} is not twice the 1x screen {one[1]}x{one[2]}")
print("legacy pane at", a)

png = os.path.join(tmp, "legacy@2x.png")
r = subprocess.run([os.environ["TANDEM_SCREENSHOT"], "--control", t.control_path("legacy"), png],
                   env=env, capture_output=True, text=True)
if r.returncode != 0:
    fail("tandem-screenshot: " + r.stderr)
b = find(None, png=png, tries=1)
if b != a:
    fail(f"the 2x screenshot is not what the shell shows: {b} vs {a}")
r = subprocess.run([os.environ["TANDEM_SCREENSHOT"], "--control", t.control_path("legacy"),
                    "--scale", "9", png], capture_output=True, text=True)
if r.returncode != 2 or "--scale 9: expected 1 to 4" not in r.stderr:
    fail("a bad scale is not refused: " + r.stderr)
print("ok")
