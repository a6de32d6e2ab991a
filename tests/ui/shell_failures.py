#!/usr/bin/env python3
"""Real domains under tandemd die while tandem-shell shows them: one is
destroyed, one crashes (a tiny guest that triple-faults on a key). Each pane
then shows the state message exactly as the render library draws it, and the
rectangle where the guest's picture was holds nothing but the plain pane and
the message (no frozen or garbage image)."""
from uitest import *

KEY_A = 30

t = Tandemd()
t.create_fb("fb1")
# another size, so its picture differs from fb1's
t.create_fb("crash1", w=400, h=300, crash_on_key=True)
t.wait_fb_drawn("fb1")
t.wait_fb_drawn("crash1", w=400, h=300)

start_xvfb()
start([os.environ["TANDEM_SHELL"], "--fullscreen", "--no-scale", "--socket", t.sock])
a = find(t.control_path("fb1"))
b = find(t.control_path("crash1"))
if not a or not b or a == b:
    fail(f"panes not found: fb1={a} crash1={b}")

t.cli("destroy", "fb1")
if not find_message("fb1 was destroyed", MESSAGE_FAILED, inside=a):
    fail("the destroyed domain's pane does not say so (or still shows its picture)")
print("ok: fb1 was destroyed")

t.key("crash1", KEY_A)
t.wait_state("crash1", "crashed")
if not find_message("crash1 has crashed", MESSAGE_FAILED, inside=b):
    fail("the crashed domain's pane does not say so (or still shows its picture)")
print("ok: crash1 has crashed")
