#!/usr/bin/env python3
"""CPU time (user+system) the dom0 UIs use while both guests are idle: a
legacy domain at its login screen and an fbguest framebuffer domain, run by
a real tandemd and tandem-vmm, shown by tandem-shell (both panes) and by
tandem-kiosk (the legacy guest full screen), each alone under Xvfb.
  idle_shell.py [shell|kiosk|all] [SECONDS]
Also counts the wakeups (voluntary context switches of all threads) and
reads tandemd's CPU over the same window."""
import os, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "ui"))
from uitest import Tandemd, start, start_xvfb, find, fail  # noqa: E402

which = sys.argv[1] if len(sys.argv) > 1 else "all"
secs = float(sys.argv[2]) if len(sys.argv) > 2 else 10
t = Tandemd()
t.create_legacy("legacy")
t.create_fb("fb")
t.wait_screen("legacy", "OPERATOR LOGIN")
t.wait_fb_drawn("fb")


def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wakeups(pid):
    n = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            for line in f:
                if line.startswith("voluntary_ctxt_switches"):
                    n += int(line.split()[1])
    return n


def measure(label, argv):
    p = start(argv)
    if not find(t.control_path("legacy")):
        fail(f"{label} never showed the legacy domain")
    time.sleep(2)  # let start-up work (fonts, first frames, OSD expiry) finish
    c0, w0, d0, t0 = cpu(p.pid), wakeups(p.pid), cpu(t.proc.pid), time.monotonic()
    time.sleep(secs)
    c1, w1, d1, t1 = cpu(p.pid), wakeups(p.pid), cpu(t.proc.pid), time.monotonic()
    dt = t1 - t0
    print(f"idle {label}: {c1 - c0:.2f} s CPU in {dt:.1f} s ({100 * (c1 - c0) / dt:.2f}%), "
          f"{(w1 - w0) / dt:.1f} wakeups/s; tandemd {100 * (d1 - d0) / dt:.2f}%")
    p.terminate()
    p.wait(10)


if which in ("shell", "all"):
    start_xvfb()
    measure("shell", [os.environ["TANDEM_SHELL"], "--fullscreen", "--no-scale", "--socket",
                      t.sock])
if which in ("kiosk", "all"):
    start_xvfb("640x400x24")  # the legacy screen's size: shown 1:1, found exactly
    measure("kiosk", [os.environ["TANDEM_KIOSK"], "--socket", t.sock, "legacy"])
