"""Shared pieces of the phase tests: a real tandemd (tests/toolstack's
harness) that finds the migration tools, a legacy domain (PV USB) and a
tiny "new system" domain (xHCI), the plan file of docs/phase-plan.md's
example, where the emulated USB printer moves between them, and a screen
driver for the legacy guest over its VMM control socket."""
import json
import os
import re
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "toolstack"))
sys.path.insert(0, HERE)
from tstlib import Client, Env, Fail  # noqa: E402,F401
from mig import ARCHIVE, EXTRACT, MKDISK  # noqa: E402

PLAN = """\
# The tote terminal's retirement, in three phases.
title = "tote retirement"

[domain legacy]
config = "legacy.cfg"
archive = "archive/legacy.tar.zst"

[domain linux]
config = "{linux_cfg}"
stop_timeout = 1

[device printer]
kind = "usb"
usb = "printer:printer.prn"

[sync tickets]
from = "legacy"
out = "extract"

[phase 1]
title = "legacy sells tickets"
run = [ "legacy" ]
devices = [ "printer -> legacy" ]
routes = [ "ticket-sales -> legacy", "results -> legacy" ]
kiosk = [ "legacy" ]

[phase 2]
title = "both run; the printer and results move"
run = [ "legacy", "linux" ]
devices = [ "printer -> linux" ]
routes = [ "ticket-sales -> legacy", "results -> linux" ]
kiosk = [ "legacy", "linux" ]
switches = [ "legacy <-> linux" ]
sync = [ "tickets" ]

[phase 3]
title = "legacy retired"
run = [ "linux" ]
retire = [ "legacy" ]
devices = [ "printer -> linux" ]
routes = [ "ticket-sales -> linux", "results -> linux" ]
kiosk = [ "linux" ]
sync = [ "tickets" ]
"""


USBDEV = 'usbdev = [ "vendorid=0x1209,productid=0x0003" ]\n'


def vmm_call(path, cmd, **args):
    """One request on a VMM control socket."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    s.sendall((json.dumps(dict(args, id=1, cmd=cmd)) + "\n").encode())
    buf = b""
    while b"\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return json.loads(buf.split(b"\n")[0])


class PhaseEnv(Env):
    def __init__(self, argv):
        build = os.environ.get("TANDEM_BUILD")
        # tandemd runs the migration tools (docs/phase-plan.md).
        os.environ["TANDEM_EXTRACT"] = EXTRACT
        os.environ["TANDEM_ARCHIVE"] = ARCHIVE
        super().__init__(argv, shutdown_timeout=20)
        self.build = build
        self.disk = os.path.join(self.dir, "data.img")
        r = os.spawnv(os.P_WAIT, MKDISK, [MKDISK, "--force", self.disk])
        if r != 0:
            raise Fail("legacy-mkdisk failed")
        # Both domains have a USB controller: PV USB for the legacy guest,
        # an xHCI for the other; the printer moves with usb-detach/attach.
        with open(os.path.join(self.dir, "legacy.cfg"), "w") as f:
            f.write('name = "legacy"\ntype = "tandem-legacy"\nkernel = "%s"\nmemory = 16\n'
                    "disk = [ 'data.img,raw,xvda,rw' ]\n%s" % (self.legacy, USBDEV))
        self.config("linux", extra=USBDEV)  # the toolstack guest, idle: the "new system"
        os.makedirs(os.path.join(self.dir, "archive"), exist_ok=True)

    def plan(self, name="plan.tp", linux_cfg="linux.cfg", text=None):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text if text is not None else PLAN.format(linux_cfg=linux_cfg))
        return path

    def run_tool(self, argv):
        return subprocess.run(argv, capture_output=True, text=True, timeout=120)

    def vmm_cmdline(self, c, name):
        pid = {d["name"]: d for d in c.call("list")["domains"]}[name]["pid"]
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")

    def usb_ids(self, name):
        """The USB devices a domain's own VMM has (usb-list on its socket)."""
        r = vmm_call(os.path.join(self.dir, "run", name, "control.sock"), "usb-list")
        if not r.get("ok"):
            raise Fail("%s: VMM usb-list: %s" % (name, r))
        return [d["id"] for d in r["devices"]]

    def screen(self, name):
        return Screen(os.path.join(self.dir, "run", name, "control.sock"))


class Screen:
    """The legacy guest's screen and keyboard over its VMM control socket."""

    def __init__(self, path):
        deadline = time.time() + 20
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.time() > deadline:
                    raise Fail("no VMM control socket at " + path)
                time.sleep(0.05)
        self.f = self.s.makefile("rwb")
        self.n = 0

    def call(self, cmd, **args):
        self.n += 1
        self.f.write((json.dumps(dict(args, id=self.n, cmd=cmd)) + "\n").encode())
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise Fail("VMM control socket closed")
            m = json.loads(line)
            if m.get("id") == self.n:
                return m

    def wait(self, text, timeout=40):
        deadline = time.time() + timeout
        lines = []
        while time.time() < deadline:
            lines = self.call("screen-text").get("lines", [])
            if any(text in line for line in lines):
                return lines
            time.sleep(0.05)
        raise Fail("timed out waiting for %r on the legacy screen:\n%s" % (text, "\n".join(lines)))

    def wait_re(self, pattern, timeout=40):
        deadline = time.time() + timeout
        lines = []
        while time.time() < deadline:
            lines = self.call("screen-text").get("lines", [])
            if any(re.search(pattern, line) for line in lines):
                return lines
            time.sleep(0.05)
        raise Fail("timed out waiting for /%s/ on the legacy screen:\n%s" % (pattern, "\n".join(lines)))

    def type(self, text):
        self.call("send-keys", text=text)

    def keys(self, *k):
        self.call("send-keys", keys=list(k))

    def close(self):
        self.s.close()


def login(scr, op="1002", pin="4321"):
    scr.wait("OPERATOR LOGIN")
    scr.type(op + "\n" + pin + "\n")
    scr.wait("MAIN MENU")


def sell(scr, race, runner, stake, expect):
    scr.type("1")
    scr.wait("SELL TICKET")
    scr.type("%s\n%s\n%s\n" % (race, runner, stake))
    lines = scr.wait(expect)
    scr.keys("ESC")
    scr.wait("MAIN MENU")
    return lines


def end_of_day(scr):
    """(sold, cancelled, stakes in öre) from the terminal's totals screen."""
    scr.type("3")
    screen = "\n".join(scr.wait("This operator"))

    def number(label):
        m = re.search(label + r"\s+(\d+)(?:\.(\d\d))?", screen)
        if not m:
            raise Fail("no %r on the totals screen:\n%s" % (label, screen))
        return int(m.group(1)) * (100 if m.group(2) else 1) + int(m.group(2) or 0)

    got = (number("Tickets sold"), number("Tickets cancelled"), number("Total stakes SEK"))
    scr.keys("ESC")
    scr.wait("MAIN MENU")
    return got
