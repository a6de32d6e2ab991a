"""Shared harness for tests/ui: an Xvfb server, display hosts, processes."""
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

def start_host(name, title):
    sock = os.path.join(tmp, name + ".sock")
    p = subprocess.Popen([os.environ["DISPLAY_HOST"], sock, title], stdout=subprocess.PIPE, text=True)
    procs.append(p)
    if p.stdout.readline().strip() != "ready":
        fail(f"display host {name} did not start")
    return p, sock

def start(argv, **kw):
    p = subprocess.Popen(argv, **kw)
    procs.append(p)
    return p

def find(sock, tries=60):
    """Looks for the domain's rendered screen on the X screen: (x, y, w, h)."""
    out = ""
    for _ in range(tries):
        r = subprocess.run([os.environ["FIND_SCREEN"], "--control", sock], capture_output=True, text=True)
        out = r.stdout + r.stderr
        if r.returncode == 0:
            return tuple(map(int, r.stdout.split()[1:5]))
        time.sleep(0.25)
    print(out)
    return None

def xdotool(*args):
    subprocess.run(["xdotool", *args], check=True)
