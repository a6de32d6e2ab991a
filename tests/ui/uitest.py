"""Shared harness for tests/ui: an Xvfb server, a real tandemd with real domains,
processes."""
import os, subprocess, sys, tempfile, time, atexit, signal

procs = []
tmp = tempfile.mkdtemp(prefix="tandem-ui-")

def cleanup():
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
atexit.register(cleanup)

def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)

def start_xvfb(size="2200x900x24"):
    for n in range(90, 140):
        if not os.path.exists(f"/tmp/.X11-unix/X{n}") and not os.path.exists(f"/tmp/.X{n}-lock"):
            break
    p = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", size, "-nolisten", "tcp"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(p)
    os.environ["DISPLAY"] = f":{n}"
    for _ in range(100):
        if subprocess.run(["xdpyinfo"], capture_output=True).returncode == 0:
            return
        time.sleep(0.05)
    fail("Xvfb did not start")

def start(argv, **kw):
    p = subprocess.Popen(argv, **kw)
    procs.append(p)
    return p

def find(sock, tries=60, scale=1, png=None):
    """Looks for the domain's rendered screen (or a PNG) on the X screen:
    (x, y, w, h). scale: device pixels per logical pixel (GDK_SCALE)."""
    out = ""
    what = ["--png", png] if png else ["--control", sock, "--scale", str(scale)]
    for _ in range(tries):
        r = subprocess.run([os.environ["FIND_SCREEN"], *what], capture_output=True, text=True)
        out = r.stdout + r.stderr
        if r.returncode == 0:
            return tuple(map(int, r.stdout.split()[1:5]))
        time.sleep(0.25)
    print(out)
    return None

MESSAGE_FAILED = 0x4F  # render/message.h: crashed, destroyed
MESSAGE_INFO = 0x70

def find_message(text, attr, inside=None, scale=1, tries=60):
    """Looks for a state message as panes draw it; with inside=(x, y, w, h)
    that rectangle must hold only the plain pane and the message."""
    argv = [os.environ["FIND_SCREEN"], "--message", text, "--attr", str(attr),
            "--scale", str(scale)]
    if inside:
        argv += ["--inside", ",".join(map(str, inside))]
    out = ""
    for i in range(tries):
        save = os.path.join(tempfile.gettempdir(), "tandem-ui-failed.png")
        r = subprocess.run(argv + (["--save", save] if i == tries - 1 else []),
                           capture_output=True, text=True)
        out = r.stdout + r.stderr
        if r.returncode == 0:
            return tuple(map(int, r.stdout.split()[1:5]))
        time.sleep(0.25)
    print(out, "(screen saved to", save + ")")
    return None

def xdotool(*args):
    subprocess.run(["xdotool", *args], check=True)

def wait_log(path, text, timeout=30, after=0):
    """Waits until text is in the log file at path (from offset after);
    returns the offset just past it."""
    deadline = time.time() + timeout
    data = ""
    while time.time() < deadline:
        with open(path, errors="replace") as f:
            data = f.read()
        i = data.find(text, after)
        if i >= 0:
            return i + len(text)
        time.sleep(0.1)
    fail(f"{text!r} not in {path}:\n{data[-3000:]}")


class Tandemd:
    """A real tandemd (unprivileged, private directory) running real
    tandem-vmm domains; displays reach viewers through its "display" method."""

    def __init__(self):
        if not os.access("/dev/kvm", os.R_OK | os.W_OK):
            print("SKIP: no /dev/kvm")
            sys.exit(77)
        # short path: UNIX socket names are limited to 108 bytes
        self.dir = tempfile.mkdtemp(prefix="ui-", dir="/tmp")
        self.sock = os.path.join(self.dir, "tandemd.sock")
        conf = os.path.join(self.dir, "tandemd.conf")
        with open(conf, "w") as f:
            f.write(f"socket = {self.sock}\ndb = {self.dir}/state/tandem.db\n"
                    f"run_dir = {self.dir}/run\nvmm = {os.environ['TANDEM_VMM']}\n")
        self.env = dict(os.environ, TANDEM_SOCKET=self.sock)
        self.log = open(os.path.join(self.dir, "tandemd.log"), "ab")
        self.proc = subprocess.Popen([os.environ["TANDEMD"], "--config", conf],
                                     stdout=self.log, stderr=self.log)
        atexit.register(self.cleanup)
        for _ in range(200):
            if os.path.exists(self.sock):
                return
            time.sleep(0.05)
        fail("tandemd did not come up")

    def cleanup(self):
        if self.proc.poll() is None:
            for d in self.cli_json("list").get("domains", []):
                subprocess.run([os.environ["TANDEM_CLI"], "destroy", d["name"]], env=self.env,
                               capture_output=True, timeout=30)
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        import shutil
        shutil.rmtree(self.dir, ignore_errors=True)

    def cli(self, *args):
        r = subprocess.run([os.environ["TANDEM_CLI"], *args], env=self.env, capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            with open(os.path.join(self.dir, "tandemd.log"), errors="replace") as f:
                log = f.read()[-2000:]
            fail(f"tandem {' '.join(args)}: {r.stdout}{r.stderr}\n{log}")
        return r.stdout

    def cli_json(self, *args):
        import json
        try:
            return json.loads(self.cli("--json", *args))
        except ValueError:
            return {}

    def legacy_config(self, name):
        """Writes a legacy guest's config (type tandem-legacy) with its own
        data disk; returns its path."""
        disk = os.path.join(self.dir, name + ".img")
        r = subprocess.run([os.environ["LEGACY_MKDISK"], "--force", disk], capture_output=True,
                           text=True)
        if r.returncode != 0:
            fail("legacy-mkdisk: " + r.stderr)
        cfg = os.path.join(self.dir, name + ".cfg")
        with open(cfg, "w") as f:
            f.write(f'name = "{name}"\ntype = "tandem-legacy"\n'
                    f'kernel = "{os.environ["LEGACY_ELF"]}"\nmemory = 16\n'
                    f"disk = [ '{disk},raw,xvda,rw' ]\n")
        return cfg

    def create_legacy(self, name):
        """A legacy guest with its own data disk, started."""
        self.cli("create", self.legacy_config(name))

    def control_path(self, name):
        """Where tandemd put the VMM control socket (only find_screen, a test
        tool, uses it; the shell and kiosk go through tandemd)."""
        return os.path.join(self.dir, "run", name, "control.sock")

    def display_request(self, params):
        """Raw "display" call: (reply, passed descriptors)."""
        import json, socket
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.sock)
        s.sendall(json.dumps({"id": 1, "method": "display", "params": params}).encode() + b"\n")
        msg, fds, _, _ = socket.recv_fds(s, 65536, 1)
        s.close()
        return json.loads(msg.split(b"\n")[0]), fds

    def display(self, name):
        """A socket to the domain's display, handed over by tandemd."""
        import socket
        reply, fds = self.display_request({"domain": name})
        if "error" in reply or len(fds) != 1:
            fail(f"display {name}: {reply}")
        return socket.socket(fileno=fds[0])

    def screen_text(self, name):
        import json
        s = self.display(name)
        s.sendall(b'{"id":1,"cmd":"screen-text"}\n')
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        s.close()
        return json.loads(buf.split(b"\n")[0])

    def type(self, name, text):
        import json
        s = self.display(name)
        s.sendall(json.dumps({"id": 1, "cmd": "type", "text": text}).encode() + b"\n")
        s.recv(4096)
        s.close()

    def wait_screen(self, name, text, timeout=30):
        lines = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            lines = self.screen_text(name).get("lines", [])
            if any(text in l for l in lines):
                return lines
            time.sleep(0.1)
        fail(f"{name}: {text!r} not on screen:\n" + "\n".join(lines))

    def fb_config(self, name, w=320, h=240, crash_on_key=False):
        """Writes the config of a tiny PVH guest (fbguest.c) with a
        framebuffer it fills with a gradient; returns its path.
        crash_on_key: the guest triple-faults on the first key (on_crash =
        preserve keeps it listed as crashed)."""
        cfg = os.path.join(self.dir, name + ".cfg")
        with open(cfg, "w") as f:
            f.write(f'name = "{name}"\ntype = "pvh"\nkernel = "{os.environ["FBGUEST"]}"\n'
                    f'memory = 16\nextra = "w={w} h={h} crash={int(crash_on_key)}"\n'
                    f'vfb = [ "resolution={w}x{h}" ]\n')
            if crash_on_key:
                f.write('on_crash = "preserve"\n')
        return cfg

    def create_fb(self, name, w=320, h=240, crash_on_key=False):
        """An fbguest domain (see fb_config), started."""
        self.cli("create", self.fb_config(name, w, h, crash_on_key))

    def key(self, name, code):
        """Presses and releases one key (evdev code) on the domain's display."""
        import json
        s = self.display(name)
        try:
            for down in (True, False):
                s.sendall(json.dumps({"id": 1, "cmd": "key", "code": code, "down": down})
                          .encode() + b"\n")
                s.recv(4096)
        except OSError:
            pass  # the key may have ended the guest (and its VMM) already
        s.close()

    def wait_state(self, name, state, timeout=30):
        deadline = time.time() + timeout
        doms = []
        while time.time() < deadline:
            doms = self.cli_json("list").get("domains", [])
            if any(d.get("name") == name and d.get("state") == state for d in doms):
                return
            time.sleep(0.1)
        fail(f"{name} never became {state}: {doms}")

    def fb_pixels(self, name, points):
        """XRGB values of the framebuffer at points [(x, y)], read from the
        display memory the VMM shares (display-attach)."""
        import json, mmap, socket, struct
        s = self.display(name)
        s.sendall(b'{"id":1,"cmd":"display-attach"}\n')
        msg, fds, _, _ = socket.recv_fds(s, 65536, 1)
        s.close()
        r = json.loads(msg.split(b"\n")[0])
        if not fds or r.get("kind") != "framebuffer":
            fail(f"display-attach {name}: {r}")
        with mmap.mmap(fds[0], r["map_size"], prot=mmap.PROT_READ) as m:
            out = [struct.unpack_from("<I", m, r["data_offset"] + y * r["stride"] + 4 * x)[0]
                   & 0xFFFFFF for x, y in points]
        os.close(fds[0])
        return out

    def wait_fb_drawn(self, name, w=320, h=240, timeout=30):
        """Waits until fbguest's gradient is in the framebuffer."""
        pts = [(0, 0), (w - 1, h - 1), (17, 0), (w // 2, h // 3)]
        want = [(x * 255 // w) << 16 | (y * 255 // h) << 8 | (0xC0 if (x // 16 + y // 16) % 2
                                                              else 0x30) for x, y in pts]
        deadline = time.time() + timeout
        got = None
        while time.time() < deadline:
            got = self.fb_pixels(name, pts)
            if got == want:
                return
            time.sleep(0.1)
        fail(f"{name}: framebuffer shows {[hex(v) for v in got]}, want {[hex(v) for v in want]}")
