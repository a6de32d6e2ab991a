#!/usr/bin/env python3
"""CPU time (user+system) tandem-shell uses over 10 s while it shows one idle
legacy domain's login screen (real tandemd, tandem-vmm, Xvfb)."""
import os, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "ui"))
from uitest import Tandemd, start, start_xvfb, find, fail  # noqa: E402

t = Tandemd()
t.create_legacy("legacy")
t.wait_screen("legacy", "OPERATOR LOGIN")
start_xvfb()
shell = start([os.environ["TANDEM_SHELL"], "--socket", t.sock, "--no-scale"])
if not find(t.control_path("legacy")):
    fail("the shell never showed the legacy domain")
time.sleep(2)


def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


c0, t0 = cpu(shell.pid), time.monotonic()
time.sleep(10)
c1, t1 = cpu(shell.pid), time.monotonic()
print(f"idle shell: {c1 - c0:.2f} s CPU in {t1 - t0:.1f} s ({100 * (c1 - c0) / (t1 - t0):.2f}%)")
