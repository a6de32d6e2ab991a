#!/usr/bin/env python3
"""A one-character change on the legacy guest's screen makes tandem-shell
redraw only the cells the guest reported changed: every area the shell
queues (TANDEM_SHELL_DEBUG_DAMAGE log) is exactly the pixel rectangle of the
cells in the VMM's frame event, never the pane, and the typed character's
cell is among them. (The legacy terminal reports its whole input field, one
row, as damage when it echoes a key.)"""
import re
from uitest import *

t = Tandemd()
t.create_legacy("legacy")
lines = t.wait_screen("legacy", "Operator ID")
start_xvfb()
log = os.path.join(tmp, "shell.err")
env = dict(os.environ, TANDEM_SHELL_DEBUG_DAMAGE="1")
start([os.environ["TANDEM_SHELL"], "--fullscreen", "--no-scale", "--socket", t.sock], env=env,
      stderr=open(log, "w"))
a = find(t.control_path("legacy"))
if not a:
    fail("legacy pane not found")
cell_w, cell_h = a[2] // 80, a[3] // 25
before = len(open(log).read().splitlines())

t.type("legacy", "7")
after = t.wait_screen("legacy", "7")
# the cell that changed: where the lines differ
changed = [(x, y) for y, (l0, l1) in enumerate(zip(lines, after))
           for x, (c0, c1) in enumerate(zip(l0, l1)) if c0 != c1]
if not changed:
    fail("no cell changed")
if not find(t.control_path("legacy")):
    fail("the pane does not show the new screen")
pat = re.compile(r"damage legacy cells (\d+) (\d+) (\d+) (\d+) queue_draw_area "
                 r"(-?\d+) (-?\d+) (\d+) (\d+)")
rects = [tuple(map(int, m.groups())) for l in open(log).read().splitlines()[before:]
         if (m := pat.match(l))]
if not rects:
    fail("the shell queued no redraw for the change")
pane_cells = 80 * 25
covered = set()
for x, y, w, h, qx, qy, qw, qh in rects:
    # the queued area is the cells' pixels plus a 1-2 px rounding margin
    if not (w * cell_w <= qw <= w * cell_w + 3 and h * cell_h <= qh <= h * cell_h + 3):
        fail(f"cells {w}x{h} queued {qw}x{qh} px (cell {cell_w}x{cell_h})")
    if h != 1 or w > 40:
        fail(f"a one-character change redrew {w}x{h} cells of {pane_cells}")
    covered |= {(cx, cy) for cx in range(x, x + w) for cy in range(y, y + h)}
if not any(w == 1 and h == 1 for x, y, w, h, *_ in rects):
    fail("no one-cell update (the cursor moving) was seen")
if not set(changed) <= covered:
    fail(f"changed cells {changed} not among the redrawn {sorted(covered)}")
print("ok:", len(rects), "redraws,", [r[:4] for r in rects], "for cells", changed)
