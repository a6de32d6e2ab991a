#!/usr/bin/env python3
"""The shell's per-domain mute toggle against a real tandemd and a real
domain with sound (an AC97 into a WAV file), driven with xdotool: it
follows the selected domain's snd-list state, and toggling it sends
snd-mute, which tandemd's snd-list then reports. For a domain without
sound= the toggle is insensitive and says so ("has no sound device"), and
Alt+M sends nothing; for a stopped domain with sound, tandemd refuses
snd-mute (bad_state) and the shell shows its message and goes back to
tandemd's state."""
import json, socket, subprocess, time
from uitest import *

t = Tandemd()
cfg = t.fb_config("snd1")
with open(cfg, "a") as f:
    f.write(f'sound = "wav:{t.dir}/snd1.wav"\n')
t.cli("create", cfg)
t.create_fb("quiet")
cfg = t.fb_config("halted")
with open(cfg, "a") as f:
    f.write(f'sound = "wav:{t.dir}/halted.wav"\non_poweroff = "preserve"\n')
t.cli("create", cfg)


def muted():
    s = socket.socket(socket.AF_UNIX)
    s.connect(t.sock)
    s.sendall(b'{"id":1,"method":"snd-list","params":{"domain":"snd1"}}\n')
    buf = b""
    while not buf.endswith(b"\n"):
        buf += s.recv(65536)
    s.close()
    r = json.loads(buf.split(b"\n")[0])
    if not r.get("ok"):
        fail(f"snd-list: {r}")
    return r["result"]["domains"][0]["muted"]

start_xvfb("1280x800x24")
log = os.path.join(tmp, "shell.log")


def shell(domain, first_line, after=0):
    """A shell with domain selected; waits for its first Sound line and the
    window. Returns (process, window, log offset)."""
    p = start([os.environ["TANDEM_SHELL"], "--socket", t.sock, "--select", domain],
              env=dict(os.environ, TANDEM_SHELL_LOG="1"), stderr=open(log, "a"))
    at = wait_log(log, first_line, after=after)
    r = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name", "^Tandem$"],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        fail("no Tandem window")
    return p, r.stdout.split()[-1], at


open(log, "w").close()
p, win, at = shell("snd1", "Sound: snd1 is not muted")
for want in (True, False):
    xdotool("windowfocus", "--sync", win)
    xdotool("key", "--clearmodifiers", "alt+m")
    at = wait_log(log, "Sound: snd1 " + ("muted" if want else "unmuted"), after=at)
    # snd-list reports the VMM's state from its next stats sample
    deadline = time.time() + 15
    while muted() != want and time.time() < deadline:
        time.sleep(0.2)
    if muted() != want:
        fail(f"the toggle said {'muted' if want else 'unmuted'} but snd-list has {muted()}")
p.terminate()
p.wait(10)

# no sound device: insensitive, so Alt+M (its mnemonic) reaches nothing
p, win, at = shell("quiet", "Sound: quiet has no sound device", after=at)
xdotool("windowfocus", "--sync", win)
xdotool("key", "--clearmodifiers", "alt+m")
time.sleep(1.5)  # a sensitive toggle would have called snd-mute by now
after = open(log).read()[at:]
if "Sound: quiet muted" in after or "mute failed" in after:
    fail("the toggle of a domain without sound acted:\n" + after)
p.terminate()
p.wait(10)

# tandemd's error: snd-mute on a stopped domain is bad_state
# (fbguest ignores the power button: the timeout stops it, preserved)
t.cli("shutdown", "-t", "1", "halted")
t.wait_state("halted", "stopped")
p, win, at = shell("halted", "Sound: halted is not muted", after=at)
xdotool("windowfocus", "--sync", win)
xdotool("key", "--clearmodifiers", "alt+m")
at = wait_log(log, "Sound: mute failed: ", after=at)
msg = open(log).read()[at:].split("\n", 1)[0]
if "halted" not in msg:
    fail(f"the failure does not name the domain: {msg!r}")
# then the toggle goes back to what tandemd says
at = wait_log(log, "Sound: halted is not muted", after=at)
p.terminate()
p.wait(10)

text = open(log).read()
if "CRITICAL" in text or "WARNING" in text:
    fail("GTK complained:\n" + text)
print("ok")
