#!/usr/bin/env python3
"""Each theme loads in tandem-shell with no GTK warning; an unknown theme is
refused with a clear message."""
import os, subprocess, time
from uitest import *

start_xvfb("1280x800x24")
env = dict(os.environ, G_DEBUG="fatal-warnings")
for theme in ["light", "dark", "high-contrast"]:
    p = subprocess.Popen([os.environ["TANDEM_SHELL"], "--theme", theme,
                          "--socket", os.path.join(tmp, "none.sock")],
                         env=env, stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    if p.poll() is not None:
        fail(f"{theme}: shell exited: {p.stderr.read()}")
    p.terminate()
    err = p.communicate(timeout=5)[1]
    if "WARNING" in err or "CRITICAL" in err or "Gtk-" in err:
        fail(f"{theme}: {err}")
    print(theme, "ok")
p = subprocess.run([os.environ["TANDEM_SHELL"], "--theme", "nosuch"], env=env,
                   capture_output=True, text=True, timeout=10)
if "theme \"nosuch\" not found" not in p.stderr:
    fail("unknown theme not reported: " + p.stderr)
print("ok")
