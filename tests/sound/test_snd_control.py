"""Sound through the toolstack: sound= in a domain config (a relative WAV
path is resolved against the config's directory, a bad backend is a config
error), tandemd's snd-list and snd-mute, and `tandem snd list|mute|unmute`,
on a real tandemd with a legacy domain (PV sound) and a PVH domain (AC97).
Muting reaches the VMM: its own sound report says so."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "toolstack"))
from tstlib import Client, Env, Fail, check  # noqa: E402
import time  # noqa: E402

env = Env(sys.argv)
try:
    env.start()
    c = Client(env.sock)
    term = os.path.join(env.dir, "term.cfg")
    with open(term, "w") as f:
        f.write(f'name = "term"\ntype = "tandem-legacy"\nkernel = "{env.legacy}"\n'
                'memory = 32\nsound = "wav:term.wav"\n')
    env.cli("create", term)
    env.cli("create", env.config("pvh", sound="wav:pvh.wav"))
    env.cli("create", env.config("quiet"))
    bad = env.config("bad", sound="alsa")
    p = env.cli("create", bad, check_rc=6)
    check("sound" in p.stderr and ":" in p.stderr, f"bad sound= message: {p.stderr}")

    doms = {d["domain"]: d for d in env.cli_json("snd", "list")["domains"]}
    check(doms["term"]["backend"] == "wav:" + os.path.join(env.dir, "term.wav"),
          f"relative WAV path not resolved: {doms['term']}")
    check(doms["term"]["device"] == "pv-sound" and doms["pvh"]["device"] == "ac97",
          f"devices: {doms}")
    check(doms["quiet"]["backend"] == "none" and doms["quiet"]["device"] is None, f"{doms['quiet']}")
    check(os.path.exists(os.path.join(env.dir, "term.wav")), "the VMM did not open term.wav")

    def vmm_muted(name, want, timeout=10):
        """The VMM's own report (through tandemd's metrics sampler)."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = env.cli_json("snd", "list", name)["domains"][0]
            if last["muted"] is want:
                return
            time.sleep(0.2)
        raise Fail(f"{name}: VMM reports muted={last and last['muted']}, want {want}")

    vmm_muted("term", False)
    for name in ("term", "pvh"):
        out = env.cli("snd", "mute", name).stdout
        check("muted" in out, out)
        vmm_muted(name, True)
        r = c.call("snd-mute", domain=name, muted=False)
        check(r == {"domain": name, "muted": False} or r.get("muted") is False, f"snd-mute: {r}")
        vmm_muted(name, False)
    out = env.cli("snd", "list").stdout
    check("term" in out and "pv-sound" in out and "ac97" in out, out)

    env.cli("snd", "mute", "nosuch", check_rc=4)
    env.cli("snd", "mute", "quiet", check_rc=5)
    env.cli("snd", "frob", check_rc=2)
    r = c.request("snd-mute", domain="term", muted="yes")
    check(r.get("error", {}).get("code") == "invalid", f"non-boolean muted: {r}")
    out = env.cli("--json", "events", "-d", "term", "-n", "50").stdout
    events = [e for e in map(json.loads, out.splitlines()) if e.get("kind") == "snd-mute"]
    check(len(events) >= 2, f"snd-mute events in the store: {events}")
    for name in ("term", "pvh", "quiet"):
        env.cli("destroy", name)
    print("PASS: sound= configs, snd-list, snd-mute and tandem snd reach the VMMs")
except Fail as e:
    print("FAIL:", e)
    print(env.daemon_log()[-3000:])
    sys.exit(1)
finally:
    env.cleanup()
