#!/usr/bin/env python3
"""A crashed or killed domain shows a clear state in its pane, never a stale
picture; the display is gone from the screen and the message is drawn."""
import os, signal, time
from uitest import *

start_xvfb()
legacy_proc, legacy = start_host("legacy", "Legacy betting terminal")
linux_proc, linux = start_host("linux1", "Second domain: linux1")
start([os.environ["TANDEM_SHELL"], "--fullscreen", "--no-scale",
       "--socket", os.path.join(tmp, "no-tandemd.sock"),
       "--attach", "legacy=" + legacy, "--attach", "linux1=" + linux])
if not find(legacy) or not find(linux):
    fail("panes not shown")
legacy_proc.send_signal(signal.SIGUSR1)   # display state: crashed
linux_proc.kill()                          # VMM dies
time.sleep(1.5)
if find(legacy, tries=1):
    fail("crashed domain still shows its old picture")
print("ok: crashed domain's stale picture is gone")
