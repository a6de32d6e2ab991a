#!/usr/bin/env python3
"""tandem-kiosk follows tandemd's phase plan (docs/phase-plan.md): started
with no domain named, it shows what phase 1's kiosk section names (pixels
equal to the guest's own cells); in phase 1 the hotkey is refused with an
OSD message drawn by render/message.c; when phase 2 is applied while it
runs, the hotkey goes only where the plan's switches allow, skipping a
shown domain no switch leads to."""
import subprocess
from uitest import *

PLAN = """title = "kiosk follows the plan"

[domain legacy]
config = "legacy.cfg"

[domain fb]
config = "fb.cfg"

[domain till2]
config = "till2.cfg"

[phase 1]
title = "legacy alone"
run = [ "legacy" ]
kiosk = [ "legacy" ]

[phase 2]
title = "three run"
run = [ "legacy", "fb", "till2" ]
kiosk = [ "legacy", "fb", "till2" ]
switches = [ "legacy <-> till2" ]
"""

t = Tandemd()
t.legacy_config("legacy")
t.legacy_config("till2")
t.fb_config("fb")
plan = os.path.join(t.dir, "plan.tp")
with open(plan, "w") as f:
    f.write(PLAN)
t.cli("phase", "apply", plan)
t.wait_screen("legacy", "OPERATOR LOGIN")

# an X screen exactly the size of the rendered guest screen: full screen is 1:1
r = subprocess.run([os.environ["FIND_SCREEN"], "--control", t.control_path("legacy"), "--size"],
                   capture_output=True, text=True)
if r.returncode != 0 or not r.stdout.startswith("SIZE "):
    fail("find_screen --size: " + r.stdout + r.stderr)
w, h = map(int, r.stdout.split()[1:3])
start_xvfb(f"{w}x{h}x24")
theme = os.path.join(os.environ["TANDEM_THEMES_DIR"], "kiosk.theme")
osd_px = 32
for line in open(theme):
    if line.split("=")[0].strip() == "osd_font_px":
        osd_px = int(line.split("=")[1])
if osd_px % 16:
    fail(f"{theme}: osd_font_px {osd_px} is not a multiple of the cell font's 16 px")
log = os.path.join(tmp, "kiosk.log")
start([os.environ["TANDEM_KIOSK"], "--socket", t.sock, "--theme", theme],
      env=dict(os.environ, TANDEM_KIOSK_LOG="1"), stderr=open(log, "w"))
at = wait_log(log, "phase 1: shows 1 domain(s), 0 switch(es)")
a = find(t.control_path("legacy"))
if a != (0, 0, w, h):
    fail(f"phase 1: legacy is not shown full screen: {a}, screen {w}x{h}")
xdotool("mousemove", str(w // 2), str(h // 2))

# phase 1 allows no switch: refused, said on screen, legacy stays
xdotool("key", "F12")
refused = "No switch from legacy in phase 1"
at = wait_log(log, "osd: " + refused, after=at)
if not find_message(refused, 0x4F, scale=osd_px // 16):
    fail("the refusal is not on screen as render/message.c draws it")
if find(t.control_path("legacy")) != (0, 0, w, h):
    fail("legacy is not back full screen after the refusal")

# phase 2 while the kiosk runs: it follows without a restart
t.cli("phase", "apply", plan)
at = wait_log(log, "phase 2: shows 3 domain(s), 2 switch(es)", after=at)
t.wait_screen("till2", "OPERATOR LOGIN")
t.type("till2", "1001\n1234\n")  # a screen unlike legacy's
t.wait_screen("till2", "MAIN MENU")
t.wait_state("fb", "running")
xdotool("key", "F12")
at = wait_log(log, "showing till2", after=at)
b = find(t.control_path("till2"))
if b != (0, 0, w, h):
    fail(f"phase 2: after F12, till2 is not shown full screen: {b}")
xdotool("key", "F12")
at = wait_log(log, "showing legacy", after=at)
if find(t.control_path("legacy")) != (0, 0, w, h):
    fail("phase 2: the second F12 did not bring legacy back")
if "showing fb" in open(log).read():
    fail("fb was shown although no switch leads to it:\n" + open(log).read())
print("ok")
