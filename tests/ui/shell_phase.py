#!/usr/bin/env python3
"""The shell's phase panel against a real tandemd and real domains, driven
with xdotool through its buttons and confirmation dialogs: it shows the
plan and the current phase (phase-status); Apply asks first (Escape
cancels, nothing changes), then applies with a progress bar that follows
tandemd's phase-progress events (step N of M and its text); a phase whose
domain cannot start fails, and the panel shows tandemd's last_error;
Rollback goes back a phase. The status line comes from TANDEM_SHELL_LOG."""
import json, re, subprocess
from uitest import *

PLAN = """title = "panel test"

[domain fb1]
config = "fb1.cfg"
stop_timeout = 1

[domain fb2]
config = "fb2.cfg"
stop_timeout = 1

[domain bad]
config = "bad.cfg"

[phase 1]
title = "one"
run = [ "fb1" ]

[phase 2]
title = "two"
run = [ "fb1", "fb2" ]

[phase 3]
title = "cannot start"
run = [ "fb1", "fb2", "bad" ]
"""

t = Tandemd()
t.fb_config("fb1")
t.fb_config("fb2")
with open(os.path.join(t.dir, "bad.cfg"), "w") as f:
    f.write(f'name = "bad"\ntype = "pvh"\nkernel = "{t.dir}/no-such-kernel"\nmemory = 16\n')
plan = os.path.join(t.dir, "plan.tp")
with open(plan, "w") as f:
    f.write(PLAN)
t.cli("phase", "apply", plan)
start_xvfb("1280x800x24")
log = os.path.join(tmp, "shell.log")
start([os.environ["TANDEM_SHELL"], "--socket", t.sock, "--open", "phase"],
      env=dict(os.environ, TANDEM_SHELL_LOG="1"), stderr=open(log, "w"))
at = wait_log(log, 'Plan "panel test": phase 1 of 3')


def window(title):
    r = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name",
                        "^" + re.escape(title) + "$"], capture_output=True, text=True, timeout=30)
    if r.returncode != 0 or not r.stdout.split():
        fail(f"no window {title!r}")
    return r.stdout.split()[-1]


def press(title, key):
    """Focuses the window with that title (no window manager here) and
    presses key in it."""
    w = window(title)
    xdotool("windowfocus", "--sync", w)
    xdotool("key", "--clearmodifiers", key)


def phase():
    return t.cli_json("phase", "status")

# Apply asks first; Escape cancels and nothing changes
press("Phase", "alt+a")
at = wait_log(log, "Phase: confirm: Apply phase 2 (two)?", after=at)
press("Apply phase?", "Escape")
at = wait_log(log, "Phase: cancelled", after=at)
if phase().get("phase") != 1:
    fail(f"a cancelled apply changed the phase: {phase()}")

# Apply, confirmed: progress while tandemd works, then phase 2
press("Phase", "alt+a")
at = wait_log(log, "Phase: confirm: Apply phase 2", after=at)
press("Apply phase?", "alt+a")
at = wait_log(log, "Phase: progress shown: Applying", after=at)
# the bar follows tandemd's phase-progress events: "Step 1 of N: TEXT"
step1 = wait_log(log, "Phase: Step 1 of ", after=at, timeout=60)
line = open(log).read()[step1:].split("\n", 1)[0]
if not line.split(":", 1)[0].isdigit() or not line.split(":", 1)[1].strip():
    fail(f"a step line without its count or text: {line!r}")
at = wait_log(log, "Phase: now in phase 2 (was 1)", after=at, timeout=60)
at = wait_log(log, 'Plan "panel test": phase 2 of 3', after=at)
t.wait_state("fb2", "running")

# a phase that cannot be applied: tandemd's error is shown
press("Phase", "alt+a")
at = wait_log(log, "Phase: confirm: Apply phase 3", after=at)
press("Apply phase?", "alt+a")
before = at
at = wait_log(log, "Phase: Failed: ", after=at, timeout=60)
st = phase()
if st.get("phase") != 2 or not st.get("last_error"):
    fail(f"after the failed apply tandemd says {st}")
if "no-such-kernel" not in st["last_error"]:
    fail(f"last_error does not name the missing kernel: {st['last_error']}")
wait_log(log, "Last change failed: " + st["last_error"], after=before)

# Rollback, confirmed: back to phase 1, fb2 stopped
press("Phase", "alt+r")
at = wait_log(log, "Phase: confirm: Roll back", after=at)
press("Roll back?", "alt+r")
at = wait_log(log, "Phase: now in phase 1 (was 2)", after=at, timeout=60)
if phase().get("phase") != 1:
    fail(f"rollback: {phase()}")
if any(d["name"] == "fb2" and d["state"] == "running"
       for d in t.cli_json("list").get("domains", [])):
    fail("fb2 still runs after the rollback to phase 1")
with open(log) as f:
    text = f.read()
if "CRITICAL" in text or "WARNING" in text:
    fail("GTK complained:\n" + text)
print("ok")
