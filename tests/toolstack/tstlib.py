"""Shared harness for the toolstack tests: a real tandemd in a private
directory, a real tandem-vmm per domain running the toolstack test guest,
and a raw JSON-lines client (the CLI is exercised through subprocess)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


class Env:
    def __init__(self, argv, request_timeout_ms=1000, shutdown_timeout=2,
                 metrics_interval_ms=1000):
        (self.tandemd, self.tandem, self.cfgcheck, self.vmm,
         self.guest) = [os.path.abspath(a) for a in argv[1:6]]
        # The legacy guest (legacy/), which answers a clean shutdown.
        self.legacy = os.path.abspath(argv[6]) if len(argv) > 6 else None
        if not os.path.exists("/dev/kvm"):
            print("SKIP: no /dev/kvm")
            sys.exit(77)
        # Short path: UNIX socket names are limited to 108 bytes.
        self.dir = tempfile.mkdtemp(prefix="ts-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.sock = os.path.join(self.dir, "tandemd.sock")
        self.conf = os.path.join(self.dir, "tandemd.conf")
        self.db = os.path.join(self.dir, "state", "tandem.db")
        with open(self.conf, "w") as f:
            f.write(f"socket = {self.sock}\n"
                    f"db = {self.db}\n"
                    f"run_dir = {self.dir}/run\n"
                    f"vmm = {self.vmm}\n"
                    f"request_timeout_ms = {request_timeout_ms}\n"
                    f"shutdown_timeout = {shutdown_timeout}\n"
                    f"metrics_interval_ms = {metrics_interval_ms}\n")
        self.daemon = None
        self.log = open(os.path.join(self.dir, "tandemd.log"), "ab")
        self.env = dict(os.environ, TANDEM_SOCKET=self.sock)

    # ---- daemon ----
    def start(self):
        self.daemon = subprocess.Popen([self.tandemd, "--config", self.conf],
                                       stdout=self.log, stderr=self.log)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                c = Client(self.sock)
                c.call("version")
                c.close()
                return
            except OSError:
                time.sleep(0.02)
        raise Fail("tandemd did not come up: " + self.daemon_log())

    def kill_daemon(self, sig=signal.SIGKILL):
        self.daemon.send_signal(sig)
        self.daemon.wait(10)

    def daemon_log(self):
        with open(os.path.join(self.dir, "tandemd.log"), errors="replace") as f:
            return f.read()[-3000:]

    def cleanup(self):
        # Destroy every domain through the daemon, then stop it; any VMM left
        # (daemon dead) is killed by the pid the store holds.
        try:
            if self.daemon and self.daemon.poll() is None:
                c = Client(self.sock)
                for d in c.call("list")["domains"]:
                    try:
                        c.call("destroy", domain=d["name"])
                    except Fail:
                        pass
                c.close()
                self.kill_daemon(signal.SIGTERM)
        except Exception as e:  # cleanup must not hide the test's verdict
            print("cleanup:", e)
        try:
            import sqlite3
            con = sqlite3.connect(self.db)
            for (pid,) in con.execute("SELECT vmm_pid FROM domains"):
                if pid:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
            con.close()
        except Exception:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- configs and CLI ----
    def config(self, name, mode=0, extra="", **keys):
        path = os.path.join(self.dir, name + ".cfg")
        lines = [f'name = "{name}"', 'type = "pvh"', f'kernel = "{self.guest}"',
                 "memory = 16", f'extra = "mode={mode}"']
        for k, v in keys.items():
            lines.append(f'{k} = "{v}"')
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n" + extra)
        return path

    def cli(self, *args, check_rc=0, stdin=subprocess.DEVNULL):
        p = subprocess.run([self.tandem, *args], env=self.env, stdin=stdin,
                           capture_output=True, text=True, timeout=60)
        if check_rc is not None and p.returncode != check_rc:
            raise Fail(f"tandem {' '.join(args)}: exit {p.returncode}, want {check_rc}:"
                       f" {p.stdout} {p.stderr}")
        return p

    def cli_json(self, *args):
        return json.loads(self.cli("--json", *args).stdout)

    def wait_state(self, c, name, want, timeout=20):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            doms = {d["name"]: d for d in c.call("list")["domains"]}
            last = doms.get(name, {}).get("state", "absent")
            if last == want:
                return doms.get(name)
            time.sleep(0.05)
        raise Fail(f"{name}: state {last}, want {want}")


class Client:
    """A raw client of the API, independent of libtandem."""

    def __init__(self, path, timeout=30):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""
        self.next_id = 1
        self.events = []

    def close(self):
        self.s.close()

    def send_raw(self, data):
        self.s.sendall(data)

    def read_msg(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise Fail("tandemd closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def request(self, method, **params):
        rid = self.next_id
        self.next_id += 1
        msg = {"v": 1, "id": rid, "method": method}
        if params:
            msg["params"] = params
        self.s.sendall((json.dumps(msg) + "\n").encode())
        while True:
            m = self.read_msg()
            if "event" in m:
                self.events.append(m)
                continue
            if m.get("id") in (rid, None):
                return m

    def call(self, method, **params):
        r = self.request(method, **params)
        if not r.get("ok"):
            raise Fail(f"{method} {params}: {r.get('error')}")
        return r["result"]

    def next_event(self, timeout=20):
        if self.events:
            return self.events.pop(0)
        self.s.settimeout(timeout)
        try:
            return self.read_msg()
        finally:
            self.s.settimeout(30)


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def run(main, **envargs):
    env = Env(sys.argv, **envargs)
    try:
        env.start()
        main(env)
        print("PASS")
        return 0
    except Fail as e:
        print("FAIL:", e)
        print("--- tandemd log ---")
        print(env.daemon_log())
        return 1
    finally:
        env.cleanup()
