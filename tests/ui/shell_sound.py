#!/usr/bin/env python3
"""The shell's per-domain mute toggle against a real tandemd and a real
domain with sound (an AC97 into a WAV file), driven with xdotool: it
follows the selected domain's snd-list state, and toggling it sends
snd-mute, which tandemd's snd-list then reports."""
import json, socket, subprocess, time
from uitest import *

t = Tandemd()
cfg = t.fb_config("snd1")
with open(cfg, "a") as f:
    f.write(f'sound = "wav:{t.dir}/snd1.wav"\n')
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
start([os.environ["TANDEM_SHELL"], "--socket", t.sock, "--select", "snd1"],
      env=dict(os.environ, TANDEM_SHELL_LOG="1"), stderr=open(log, "w"))
at = wait_log(log, "Sound: snd1 is not muted")
r = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name", "^Tandem$"],
                   capture_output=True, text=True, timeout=30)
if r.returncode != 0:
    fail("no Tandem window")
win = r.stdout.split()[-1]
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
text = open(log).read()
if "CRITICAL" in text or "WARNING" in text:
    fail("GTK complained:\n" + text)
print("ok")
