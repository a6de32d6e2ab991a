"""Shared helpers for the legacy guest tests: start tandem-vmm with the legacy
guest, talk to its control socket, wait for screen text, read records."""
import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("TANDEM_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))


def tool(name):
    paths = {
        "vmm": os.path.join(BUILD, "hv", "tandem-vmm"),
        "elf": os.path.join(BUILD, "legacy", "legacy.elf"),
        "mkdisk": os.path.join(BUILD, "legacy", "legacy-mkdisk"),
        "badhc": os.path.join(BUILD, "tests", "legacy", "badhc.elf"),
    }
    return os.environ.get("LEGACY_" + name.upper(), paths[name])


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


_workdirs = []


def _cleanup():
    if os.environ.get("LEGACY_KEEP_TMP"):
        return
    for d in _workdirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)


def workdir():
    """A fresh temporary directory for one test's images (removed at exit
    unless LEGACY_KEEP_TMP is set)."""
    d = tempfile.mkdtemp(prefix="legacy-test-")
    _workdirs.append(d)
    return d


def skip_without_kvm():
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: no /dev/kvm")
        sys.exit(77)


class Control:
    def __init__(self, path, timeout=30):
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self.file = self.sock.makefile("rwb")
        self.next_id = 1

    def call(self, cmd, **args):
        req = dict(args, id=self.next_id, cmd=cmd)
        self.next_id += 1
        self.file.write((json.dumps(req) + "\n").encode())
        self.file.flush()
        while True:
            line = self.file.readline()
            if not line:
                raise EOFError("control socket closed")
            msg = json.loads(line)
            if msg.get("id") == req["id"]:
                return msg

    def screen(self):
        r = self.call("screen-text")
        if not r.get("ok"):
            raise RuntimeError(r.get("error"))
        return r["lines"]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Legacy:
    """One tandem-vmm running the legacy guest in a temporary directory."""

    def __init__(self, disk, elf=None, printer=True, extra=()):
        self.dir = workdir()
        self.sockpath = os.path.join(self.dir, "ctl.sock")
        self.spool = os.path.join(self.dir, "spool.txt") if printer else None
        self.log = open(os.path.join(self.dir, "vmm.log"), "w+b")
        cmd = [tool("vmm"), "--legacy", elf or tool("elf"), "--mem", "16M",
               "--control", self.sockpath, "--console", "stdio"]
        if disk:
            cmd += ["--disk", disk]
        if self.spool:
            cmd += ["--printer", self.spool]
        cmd += list(extra)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.ctl = None

    def connect(self):
        self.ctl = Control(self.sockpath)
        return self.ctl

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def wait_output(self, text, timeout=10):
        """Waits for text in the VMM's output (the PV console is written by
        the console multiplexer, so it may trail the screen)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.output():
                return True
            time.sleep(0.02)
        return False

    def wait_screen(self, text, timeout=30):
        deadline = time.time() + timeout
        lines = []
        while time.time() < deadline:
            if self.proc.poll() is not None:
                fail("VMM exited (%d) while waiting for %r:\n%s" %
                     (self.proc.returncode, text, self.output()))
            lines = self.ctl.screen()
            if any(text in l for l in lines):
                return lines
            time.sleep(0.05)
        fail("timed out waiting for %r on screen:\n%s\nVMM log:\n%s" %
             (text, "\n".join(lines), self.output()))

    def keys(self, *keys):
        r = self.ctl.call("send-keys", keys=list(keys))
        if not r.get("ok"):
            fail("send-keys: %s" % r)

    def type(self, text):
        r = self.ctl.call("send-keys", text=text)
        if not r.get("ok"):
            fail("send-keys: %s" % r)

    def stop(self, timeout=20):
        if self.proc.poll() is None and self.ctl:
            self.ctl.call("shutdown")
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.ctl:
            self.ctl.close()
        return self.proc.returncode

    def kill(self):
        self.proc.kill()
        self.proc.wait()


def mkdisk(path, *args):
    r = subprocess.run([tool("mkdisk"), "--force"] + list(args) + [path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail("legacy-mkdisk: " + r.stderr)


def fsck_clean(img):
    r = subprocess.run(["fsck.fat", "-n", img], capture_output=True, text=True)
    if r.returncode != 0:
        fail("fsck.fat -n %s: exit %d\n%s%s" % (img, r.returncode, r.stdout, r.stderr))


def mtype(img, name):
    r = subprocess.run(["mtype", "-i", img, "::" + name], capture_output=True,
                       env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    if r.returncode != 0:
        fail("mtype %s: %s" % (name, r.stderr.decode(errors="replace")))
    return r.stdout.decode("cp850")


def tickets(img):
    """Parses TICKETS.DAT (docs/legacy-records.md) into dicts."""
    data = mtype(img, "TICKETS.DAT")
    out = []
    for i in range(0, len(data) - len(data) % 64, 64):
        rec = data[i:i + 64]
        if not rec.endswith("\r\n"):
            fail("ticket record %d not CRLF-terminated: %r" % (i // 64, rec))
        out.append({"number": int(rec[0:6]), "stamp": rec[7:21], "operator": int(rec[22:26]),
                    "race": int(rec[27:29]), "runner": int(rec[30:32]),
                    "stake": int(rec[33:41]), "status": rec[42], "name": rec[44:62].rstrip()})
    return out


def login(vm, op="1001", pin="1234"):
    vm.wait_screen("OPERATOR LOGIN")
    vm.type(op + "\n" + pin + "\n")
    vm.wait_screen("MAIN MENU")


def sell(vm, race, runner, stake, expect="SAVED"):
    vm.type("%s\n%s\n%s\n" % (race, runner, stake))
    return vm.wait_screen(expect)
