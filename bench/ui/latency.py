#!/usr/bin/env python3
"""Key-to-pixels latency in tandem-shell: a real legacy domain under tandemd,
the shell under Xvfb with the legacy pane holding the keyboard grab;
key_to_pixels presses keys with XTest and times the first X frame (XDamage)
that changes the pane. The path: X -> shell -> VMM display socket -> PV
keyboard -> guest echoes into its cells -> frame event -> shell redraw."""
import os, statistics, subprocess, sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "ui"))
from uitest import Tandemd, start, start_xvfb, find, fail, xdotool  # noqa: E402

t = Tandemd()
t.create_legacy("legacy")
t.wait_screen("legacy", "Operator ID")
start_xvfb()
start([os.environ["TANDEM_SHELL"], "--fullscreen", "--no-scale", "--socket", t.sock])
a = find(t.control_path("legacy"))
if not a:
    fail("the shell never showed the legacy domain")
xdotool("mousemove", str(a[0] + a[2] // 2), str(a[1] + a[3] // 2), "click", "1")
n = int(os.environ.get("LATENCY_KEYS", "20"))
r = subprocess.run([os.environ["KEY_TO_PIXELS"], *map(str, a), str(n)], capture_output=True,
                   text=True, timeout=300)
if r.returncode != 0:
    fail("key_to_pixels: " + r.stderr)
ms = sorted(float(v) for v in r.stdout.split())
print(f"key to pixels ({len(ms)} keys): median {statistics.median(ms):.1f} ms, "
      f"min {ms[0]:.1f}, p90 {ms[int(0.9 * (len(ms) - 1))]:.1f}, max {ms[-1]:.1f} ms")
