#!/usr/bin/env python3
"""The shell's create-domain dialog (its fields, not "from template")
against a real tandemd, driven with xdotool: a bad memory size and a
kernel that is not there are refused in the dialog with a message and
create nothing; filled in right (a legacy guest: its ELF, 16 MiB, a disk
from legacy-mkdisk), tandemd creates the domain from the xl.cfg text the
dialog wrote, it runs and its pane shows its screen. A name tandemd
refuses (taken) shows tandemd's message in the dialog, which stays open."""
import subprocess
from uitest import *

t = Tandemd()
disk = os.path.join(t.dir, "leg1.img")
r = subprocess.run([os.environ["LEGACY_MKDISK"], "--force", disk], capture_output=True, text=True)
if r.returncode != 0:
    fail("legacy-mkdisk: " + r.stderr)

start_xvfb("1280x800x24")
log = os.path.join(tmp, "shell.log")
env = dict(os.environ, TANDEM_SHELL_LOG="1")


def open_dialog():
    p = start([os.environ["TANDEM_SHELL"], "--fullscreen", "--no-scale", "--socket", t.sock,
               "--open", "new"], env=env,
              stderr=open(log, "a"))
    r = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name", "^New domain$"],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        fail("no New domain window")
    return p, r.stdout.split()[-1]


def fill(win, fields):
    """fields: [(mnemonic key, text or None to just press it)]; then Create."""
    for key, text in fields:
        xdotool("windowfocus", "--sync", win)
        xdotool("key", "--clearmodifiers", key)
        if text is not None:
            # the mnemonic selects the entry's text: typing replaces it
            xdotool("type", "--delay", "5", text)
    xdotool("windowfocus", "--sync", win)
    xdotool("key", "--clearmodifiers", "alt+r")


def names():
    return [d["name"] for d in t.cli_json("list").get("domains", [])]


def dialog_open():
    r = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^New domain$"],
                       capture_output=True, text=True)
    return r.returncode == 0


p, win = open_dialog()
at = 0
fill(win, [("alt+n", "leg1"), ("alt+g", None), ("alt+k", os.environ["LEGACY_ELF"]),
           ("alt+m", "12x"), ("alt+d", disk)])
at = wait_log(log, "New domain: Memory: '12x' is not a size in MiB", after=at)
fill(win, [("alt+m", "16"), ("alt+k", "/nonexistent/legacy.elf")])
at = wait_log(log, "New domain: Kernel: /nonexistent/legacy.elf is not a file", after=at)
if "leg1" in names() or not dialog_open():
    fail("a refused dialog created leg1 or closed")
fill(win, [("alt+k", os.environ["LEGACY_ELF"])])
at = wait_log(log, "New domain: leg1 created and started", after=at, timeout=60)
t.wait_state("leg1", "running")
info = t.cli_json("info", "leg1")
if info.get("type") != "tandem-legacy" or info.get("memory_mib") != 16 or \
        disk not in str(info.get("disks")):
    fail(f"leg1 is not what the dialog said: {info}")
t.wait_screen("leg1", "OPERATOR LOGIN", timeout=60)
if not find(t.control_path("leg1")):
    fail("leg1's pane does not show its screen")
p.terminate()
p.wait(10)

# tandemd's own refusal (the name is taken) is shown in the dialog
p, win = open_dialog()
fill(win, [("alt+n", "leg1"), ("alt+g", None), ("alt+k", os.environ["LEGACY_ELF"]),
           ("alt+m", "16")])
at = wait_log(log, "New domain: tandemd refused leg1: ", after=at, timeout=60)
if names().count("leg1") != 1 or not dialog_open():
    fail(f"after tandemd's refusal: domains {names()}, dialog open {dialog_open()}")
p.terminate()
p.wait(10)
text = open(log).read()
if "CRITICAL" in text or "WARNING" in text:
    fail("GTK complained:\n" + text)
print("ok")
