"""Helpers for the sound tests: a private PulseAudio server with a null sink,
a parec recorder of the sink's monitor with arrival times, and tone analysis
in pure Python (Goertzel)."""
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "legacy"))
import legacy_harness  # noqa: E402,F401  (re-exported for the tests)
from legacy_harness import fail  # noqa: E402

RATE = 48000


def skip_without(*programs):
    for p in programs:
        if not shutil.which(p):
            print("SKIP: %s not installed" % p)
            sys.exit(77)


class Pulse:
    """A PulseAudio server of our own: its runtime dir and socket live in a
    temporary directory, so it never meets the user's server."""

    def __init__(self, base=None):
        self.dir = base or tempfile.mkdtemp(prefix="snd-pulse-")
        self.socket = os.path.join(self.dir, "native")
        self.server = "unix:" + self.socket
        self.proc = None

    def start(self, timeout=20):
        env = dict(os.environ, HOME=os.path.join(self.dir, "home"),
                   XDG_RUNTIME_DIR=os.path.join(self.dir, "run"),
                   PULSE_RUNTIME_PATH=os.path.join(self.dir, "run", "pulse"))
        for d in ("home", "run"):
            os.makedirs(os.path.join(self.dir, d), mode=0o700, exist_ok=True)
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        self.log = open(os.path.join(self.dir, "pulse.log"), "ab")
        self.proc = subprocess.Popen(
            ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit",
             "--use-pid-file=no", "--log-target=stderr",
             "-L", "module-null-sink sink_name=tsink rate=%d" % RATE,
             "-L", "module-native-protocol-unix socket=%s auth-anonymous=1" % self.socket],
            env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                fail("pulseaudio exited with %d:\n%s" % (self.proc.returncode, self.log_text()))
            if subprocess.run(["pactl", "-s", self.server, "info"], capture_output=True).returncode == 0:
                return
            time.sleep(0.1)
        fail("pulseaudio did not come up:\n" + self.log_text())

    def log_text(self):
        with open(os.path.join(self.dir, "pulse.log"), "rb") as f:
            return f.read().decode(errors="replace")[-3000:]

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def sink_latency_us(self):
        out = subprocess.run(["pactl", "-s", self.server, "list", "sinks"],
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            line = line.strip()
            if line.startswith("Latency:"):
                return int(line.split()[1])
        return None

    def wait_settled(self, timeout=15):
        """The null sink renders up to 2 s ahead while nobody asks for low
        latency, and does not rewind when a client does: wait until what it
        rendered ahead has drained, or tone timing means nothing."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            lat = self.sink_latency_us()
            if lat is not None and lat < 50000:
                return
            time.sleep(0.1)
        fail("the null sink's latency stayed above 50 ms")

    def close(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class Recorder:
    """parec of the sink monitor, read in small chunks; each chunk's arrival
    time (CLOCK_MONOTONIC) is kept so that the time a sample reached the sink
    can be bounded from above."""

    def __init__(self, pulse):
        self.proc = subprocess.Popen(
            ["parec", "-s", pulse.server, "-d", "tsink.monitor", "--raw", "--format=s16le",
             "--rate=%d" % RATE, "--channels=1", "--latency-msec=5"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.samples = []
        self.arrivals = []  # (sample count after the chunk, time.monotonic())
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        rest = b""
        fd = self.proc.stdout.fileno()
        while True:
            data = os.read(fd, 1920)
            now = time.monotonic()
            if not data:
                return
            data = rest + data
            n = len(data) // 2
            rest = data[2 * n:]
            vals = [int.from_bytes(data[2 * i:2 * i + 2], "little", signed=True) for i in range(n)]
            with self.lock:
                self.samples.extend(vals)
                self.arrivals.append((len(self.samples), now))

    def mark(self):
        with self.lock:
            return len(self.samples)

    def snapshot(self, start=0):
        with self.lock:
            return self.samples[start:]

    def time_of(self, index):
        """Upper bound of the time sample index was recorded."""
        with self.lock:
            for count, t in self.arrivals:
                if count > index:
                    return t
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait()


def goertzel_power(x, freq):
    w = 2 * math.pi * freq / RATE
    c = 2 * math.cos(w)
    s1 = s2 = 0.0
    for v in x:
        s0 = v + c * s1 - s2
        s2, s1 = s1, s0
    return s1 * s1 + s2 * s2 - c * s1 * s2


def dominant_frequency(x):
    """The strongest of 100, 150, ..., 4000 Hz in x (a coarse pass, then
    10 Hz steps around the winner)."""
    best = max(range(100, 4001, 50), key=lambda f: goertzel_power(x, f))
    return max(range(best - 50, best + 51, 10), key=lambda f: goertzel_power(x, f))


def find_onset(x, threshold=3000, start=0):
    """Index of the first sample at or after start whose magnitude passes
    threshold, or None."""
    for i in range(start, len(x)):
        if abs(x[i]) >= threshold:
            return i
    return None


def wait_tone(rec, since, timeout=10, min_len=RATE // 10):
    """Waits until a tone of at least min_len samples appears after sample
    index since; returns (onset index, dominant frequency)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        x = rec.snapshot()
        on = find_onset(x, start=since)
        if on is not None and len(x) >= on + min_len:
            seg = x[on + 480:on + min_len]  # skip the attack
            return on, dominant_frequency(seg)
        time.sleep(0.1)
    return None, None


def wait_quiet(rec, ms=300, timeout=10):
    """Waits until the last ms of the recording are silent; returns the mark
    after them."""
    deadline = time.time() + timeout
    n = RATE * ms // 1000
    while time.time() < deadline:
        x = rec.snapshot()
        if len(x) >= n and find_onset(x, start=len(x) - n) is None:
            return len(x)
        time.sleep(0.05)
    fail("the sink did not go quiet")
