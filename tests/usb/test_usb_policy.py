#!/usr/bin/env python3
"""USB ownership through tandemd: the emulated printer belongs to one
domain, then moves to another with no moment of double ownership (the old
owner's detach is stored, and done in its VMM, before the new owner's
attach); a denied device is never attached; sticky rules hold. The first
owner is the legacy terminal, whose printer hangs off PV USB. The rules
survive a tandemd restart. Each owner
is checked in the VMMs themselves over their control sockets."""
import json
import os
import signal
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "toolstack"))
from tstlib import Client, check, run  # noqa: E402

USBDEV = 'usbdev = [ "vendorid=0x1209,productid=0x0003" ]\n'


def vmm_devices(env, dom):
    """The devices on the domain's xHCI, from its VMM control socket."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(os.path.join(env.dir, "run", dom, "control.sock"))
    s.sendall(b'{"id": 1, "cmd": "usb-list"}\n')
    buf = b""
    while b"\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    r = json.loads(buf.split(b"\n")[0])
    check(r.get("ok"), f"{dom}: VMM usb-list failed: {r}")
    return [d["id"] for d in r["devices"]]


def main(env):
    c = Client(env.sock)
    for name in ("till", "kiosk"):
        env.cli("create", env.config(name, extra=USBDEV))
    printer = "printer:" + os.path.join(env.dir, "lp0.spool")
    stick = "storage:" + os.path.join(env.dir, "stick.img")
    with open(os.path.join(env.dir, "stick.img"), "wb") as f:
        f.truncate(1 << 20)

    c.call("usb-policy", rules=[{"match": "1209:0002", "action": "deny"},
                                {"match": "class:3", "action": "sticky:till"}])
    pol = env.cli_json("usb", "policy")
    check(pol["rules"][0] == {"match": "1209:0002", "action": "deny"}, f"policy: {pol}")

    if env.legacy:
        # The legacy terminal owns the printer (on its PV USB), then hands
        # it to till, as its retirement phase does.
        path = os.path.join(env.dir, "term.cfg")
        with open(path, "w") as f:
            f.write(f'name = "term"\ntype = "tandem-legacy"\nkernel = "{env.legacy}"\n'
                    'memory = 32\n' + USBDEV)
        env.cli("create", path)
        r = c.call("usb-attach", device=printer, domain="term")
        check(r["owner"] == "term" and r["port"] == 1, f"attach to term: {r}")
        check(vmm_devices(env, "term") == ["1209:0003"], "term's PV USB lacks the printer")
        r = c.request("usb-attach", device=stick, domain="term")
        check(not r.get("ok"), f"the denied stick went to term: {r}")
        check(vmm_devices(env, "term") == ["1209:0003"], "term got the denied stick")
        first = c.call("events", limit=10000)["events"]
        after = first[-1]["id"] if first else 0
        r = c.call("usb-attach", device=printer, domain="till")
        evs = [e for e in c.call("events", after=after)["events"] if e["kind"].startswith("usb-")]
        seq = [(e["kind"], e["domain"]) for e in evs]
        check(seq == [("usb-detach", "term"), ("usb-attach", "till")],
              f"events of the move from term: {seq}")
        check(vmm_devices(env, "term") == [], "term's PV USB still has the printer")
    else:
        print("note: no legacy guest given; the move from the legacy domain is not covered")
        r = c.call("usb-attach", device=printer, domain="till")
    check(r["owner"] == "till" and r["port"] >= 1, f"attach to till: {r}")
    check(vmm_devices(env, "till") == ["1209:0003"], "till's VMM lacks the printer")
    check(vmm_devices(env, "kiosk") == [], "kiosk's VMM has a device")

    # The ownership change (as a phase plan makes it).
    first = c.call("events", limit=10000)["events"]
    after = first[-1]["id"] if first else 0
    r = c.call("usb-attach", device=printer, domain="kiosk")
    check(r["owner"] == "kiosk", f"move to kiosk: {r}")
    check(vmm_devices(env, "till") == [], "till's VMM still has the printer")
    check(vmm_devices(env, "kiosk") == ["1209:0003"], "kiosk's VMM lacks the printer")
    evs = [e for e in c.call("events", after=after)["events"] if e["kind"].startswith("usb-")]
    seq = [(e["kind"], e["domain"]) for e in evs]
    check(seq == [("usb-detach", "till"), ("usb-attach", "kiosk")],
          f"events of the move: {seq}")
    owners = [d for d in env.cli_json("usb", "list")["devices"] if d["device"] == printer]
    check(len(owners) == 1 and owners[0]["owner"] == "kiosk", f"usb list: {owners}")
    check("kiosk" in env.cli("usb", "list").stdout, "the table lacks the owner")

    # Denied: refused, recorded, never on any xHCI.
    r = c.request("usb-attach", device=stick, domain="kiosk")
    check(not r.get("ok") and "denied" in json.dumps(r["error"]), f"denied attach: {r}")
    p = env.cli("usb", "attach", stick, "till", check_rc=None)
    check(p.returncode != 0 and "denied" in p.stderr, f"CLI denied attach: {p.stderr}")
    for dom in ("till", "kiosk") + (("term",) if env.legacy else ()):
        check("1209:0002" not in vmm_devices(env, dom), f"{dom} got the denied stick")
    kinds = [e["kind"] for e in c.call("events", after=after)["events"]]
    check(kinds.count("usb-denied") == 2, f"usb-denied events: {kinds}")

    # Sticky: the keyboard goes only to till, also when no domain is named.
    r = c.request("usb-attach", device="kbd", domain="kiosk")
    check(not r.get("ok"), f"sticky keyboard went to kiosk: {r}")
    r = c.call("usb-attach", device="kbd")
    check(r["owner"] == "till", f"sticky default: {r}")

    # Detach, and bad input.
    env.cli("usb", "detach", printer)
    check(vmm_devices(env, "kiosk") == [], "kiosk's VMM kept the printer after detach")
    for bad in ({"device": ""}, {"device": "printer:"}, {"device": 5}, {}):
        r = c.request("usb-attach", **bad, domain="till")
        check(not r.get("ok"), f"usb-attach {bad} was accepted")
    r = c.request("usb-policy", rules=[{"match": "nonsense", "action": "deny"}])
    check(not r.get("ok"), "a bad rule was accepted")
    check(c.call("usb-policy")["rules"][0]["match"] == "1209:0002", "a bad rule changed the policy")

    # The rules, the focused domain and who owns which device survive a
    # tandemd restart (the store; the VMMs' own usb-list).
    c.call("usb-attach", device=printer, domain="kiosk")
    c.call("usb-policy", focused="kiosk")
    want = c.call("usb-policy")
    c.close()
    env.kill_daemon(signal.SIGTERM)
    env.start()
    c = Client(env.sock)
    got = c.call("usb-policy")
    check(got == want, f"policy after restart: {got}, want {want}")
    owners = {d["device"]: (d["owner"], d["port"]) for d in c.call("usb-list")["devices"]}
    check(owners.get(printer, (None,))[0] == "kiosk" and owners.get("kbd", (None,))[0] == "till",
          f"owners after restart: {owners}")
    first = c.call("events", limit=10000)["events"]
    after = first[-1]["id"] if first else 0
    r = c.call("usb-attach", device=printer, domain="till")
    check(r["owner"] == "till", f"move after restart: {r}")
    evs = [e for e in c.call("events", after=after)["events"] if e["kind"].startswith("usb-")]
    seq = [(e["kind"], e["domain"]) for e in evs]
    check(seq == [("usb-detach", "kiosk"), ("usb-attach", "till")],
          f"events of the move after restart: {seq}")
    check(vmm_devices(env, "kiosk") == [], "kiosk's VMM kept the printer (double owner)")
    check(sorted(vmm_devices(env, "till")) == ["1209:0001", "1209:0003"],
          "till's VMM lacks the printer or the keyboard")
    r = c.request("usb-attach", device=stick, domain="kiosk")
    check(not r.get("ok") and "denied" in json.dumps(r["error"]), f"denied after restart: {r}")


if __name__ == "__main__":
    sys.exit(run(main))
