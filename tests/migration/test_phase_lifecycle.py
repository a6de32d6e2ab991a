"""All three phases with the real legacy guest under a real tandemd:
phase 1 the legacy terminal sells and prints on the emulated USB printer
(its PV USB); a failed phase-2 apply (the new domain's kernel is missing)
leaves phase 1 fully in place, printer included; phase 2 runs both, the
printer moves to the new domain's xHCI with tandemd's usb-detach then
usb-attach while the legacy guest keeps running (each VMM's own usb-list,
the store's events in order, progress events for every step), records are
extracted incrementally; phase 3 makes a final sync that reconciles with
the terminal's END OF DAY screen, archives and removes the legacy domain;
after its disk and config are purged, rollback restores the archive and
boots the legacy guest with all its tickets; rolling back to phase 1
moves the printer back and the terminal prints on it again."""
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from phaselib import ARCHIVE, Client, Fail, PhaseEnv, end_of_day, login, sell  # noqa: E402


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def wait_text(path, text, timeout=30):
    """The terminal shows SAVED before the receipt reaches the printer."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path) and text in open(path, encoding="cp850").read():
            return
        time.sleep(0.05)
    raise Fail("no %r in the USB printer's spool %s" % (text, path))


def last_event_id(c):
    evs = c.call("events", limit=10000)["events"]
    return evs[-1]["id"] if evs else 0


def usb_events(c, after):
    return [(e["kind"], e["domain"]) for e in c.call("events", after=after, limit=10000)["events"]
            if e["kind"].startswith("usb-")]


def pids(c):
    return {d["name"]: d["pid"] for d in c.call("list")["domains"]}


def main(env):
    env.start()
    c = Client(env.sock)
    plan = env.plan()
    spool = os.path.join(env.dir, "printer.prn")
    out = os.path.join(env.dir, "extract")

    # plan changes nothing; it lists the steps of phase 1.
    p = env.cli_json("phase", "plan", plan)
    check(p["from"] == 0 and p["phase"] == 1, "plan: %s" % p)
    check(p["steps"][-1:] == ["usb-attach printer to legacy"] and
          any("start legacy" in s for s in p["steps"]), "plan steps: %s" % p["steps"])
    check("device printer: (none) -> legacy" in p["changes"], "plan changes: %s" % p["changes"])
    check(c.call("list")["domains"] == [], "plan started something")
    check(env.cli_json("phase", "status")["phase"] == 0, "plan changed the phase")

    # ---- phase 1: the legacy terminal sells and owns the printer ----
    env.cli("phase", "apply", plan)
    st = env.cli_json("phase", "status")
    check(st["phase"] == 1 and st["owners"] == {"printer": "legacy"}, "status 1: %s" % st)
    check(st["kiosk"] == {"shows": ["legacy"], "switches": []}, "kiosk 1: %s" % st)
    check(st["current"]["routes"] == {"ticket-sales": "legacy", "results": "legacy"},
          "routes 1: %s" % st["current"])
    check(env.usb_ids("legacy") == ["1209:0003"], "phase 1: legacy's PV USB lacks the printer")
    scr = env.screen("legacy")
    login(scr)
    sell(scr, 1, 3, "12.5", "TICKET 000001 SAVED")
    sell(scr, 2, 3, "250", "TICKET 000002 SAVED")
    wait_text(spool, "END TICKET 000002")
    check("END TICKET 000001" in open(spool, encoding="cp850").read(), "receipt 1 missing")
    scr.close()

    # ---- failed apply: the new domain cannot start; phase 1 stays ----
    bad = os.path.join(env.dir, "linux-bad.cfg")
    with open(bad, "w") as f:
        f.write('name = "linux"\nkernel = "missing-kernel.elf"\nmemory = 16\n')
    badplan = env.plan("bad.tp", linux_cfg="linux-bad.cfg")
    legacy_pid = pids(c)["legacy"]
    after = last_event_id(c)
    r = env.cli("phase", "apply", badplan, check_rc=None)
    check(r.returncode == 5, "bad apply: exit %d %s" % (r.returncode, r.stderr))
    check("start linux" in r.stderr and "missing-kernel.elf" in r.stderr and
          "back in phase 1" in r.stderr, "bad apply message: %s" % r.stderr)
    st = env.cli_json("phase", "status")
    check(st["phase"] == 1 and "start linux" in (st["last_error"] or ""), "status after: %s" % st)
    doms = {d["name"]: d for d in c.call("list")["domains"]}
    check(set(doms) == {"legacy"} and doms["legacy"]["state"] == "running",
          "after a failed apply: %s" % doms)
    # The printer leaves its owner only right before the new owner takes
    # it, so a start that fails earlier never touches it.
    check(doms["legacy"]["pid"] == legacy_pid, "the failed apply restarted legacy")
    check(env.usb_ids("legacy") == ["1209:0003"], "failed apply: legacy lost its printer")
    check(usb_events(c, after) == [], "failed apply moved USB devices: %s" % usb_events(c, after))
    txt = env.cli("phase", "status").stdout
    check("last failure: apply phase 2 failed: start linux" in txt, "status text: %s" % txt)

    # ---- phase 2: both run, the printer moves, records are extracted ----
    p = env.cli_json("phase", "plan", plan)
    check(p["phase"] == 2 and "device printer: legacy -> linux" in p["changes"] and
          "route results: legacy -> linux" in p["changes"], "plan 2: %s" % p)
    check(p["steps"][-6:-4] == ["usb-detach printer from legacy", "usb-attach printer to linux"],
          "plan 2 steps: %s" % p["steps"])
    sub = Client(env.sock)
    sub.call("subscribe", topics=["event"])
    after = last_event_id(c)
    env.cli("phase", "apply", plan)
    sub.call("version")  # every event of the apply came before this reply
    prog = [e for e in sub.events if e["event"] == "phase-progress"]
    sub.close()
    check([e["text"] for e in prog[:-1]] == p["steps"] and
          [e["step"] for e in prog[:-1]] == list(range(1, len(p["steps"]) + 1)) and
          all(e["steps"] == len(p["steps"]) and e["state"] == "running" and
              e["action"] == "phase-apply" and (e["from"], e["to"]) == (1, 2) for e in prog[:-1]) and
          prog[-1]["state"] == "done", "progress events: %s" % prog)
    st = env.cli_json("phase", "status")
    check(st["phase"] == 2 and st["owners"] == {"printer": "linux"} and st["last_error"] is None,
          "status 2: %s" % st)
    check(pids(c)["legacy"] == legacy_pid, "phase 2 restarted the legacy guest")
    check(env.usb_ids("linux") == ["1209:0003"], "phase 2: linux's xHCI lacks the printer")
    check(env.usb_ids("legacy") == [], "phase 2: legacy's PV USB kept the printer")
    check(usb_events(c, after) == [("usb-detach", "legacy"), ("usb-attach", "linux")],
          "phase 2 USB events: %s" % usb_events(c, after))
    owner = [d["owner"] for d in c.call("usb-list")["devices"] if d["device"].endswith(spool)]
    check(owner == ["linux"], "tandemd's usb-list: %s" % owner)
    check(st["kiosk"]["switches"] == [{"from": "legacy", "to": "linux"},
                                      {"from": "linux", "to": "legacy"}], "kiosk 2: %s" % st)
    doms = {d["name"]: d["state"] for d in c.call("list")["domains"]}
    check(doms == {"legacy": "running", "linux": "running"}, "phase 2 domains: %s" % doms)
    with open(os.path.join(out, "report.json")) as f:
        rep = json.load(f)
    check(rep["tickets"]["sold"] == 2 and rep["reconciled"], "phase 2 sync: %s" % rep["tickets"])
    printed = os.path.getsize(spool)
    scr = env.screen("legacy")
    scr.wait("MAIN MENU")  # still logged in: the move did not restart it
    sell(scr, 3, 2, "99.95", "RECEIPT NOT PRINTED")
    scr.type("2")
    scr.wait("Ticket no")
    scr.type("2")
    scr.wait_re(r"Ticket no\s+2")
    scr.type("\n")  # the cancel's receipt fails too; END OF DAY below shows the cancel
    scr.keys("ESC")
    scr.wait("MAIN MENU")
    eod = end_of_day(scr)
    scr.close()
    check(os.path.getsize(spool) == printed, "the legacy guest still printed in phase 2")
    check(eod == (2, 1, 1250 + 9995), "END OF DAY %s" % (eod,))

    # ---- phase 3: final sync, reconciliation, archive, removal ----
    env.cli("phase", "apply", plan)
    doms = {d["name"]: d["state"] for d in c.call("list")["domains"]}
    check(doms == {"linux": "running"}, "phase 3 domains: %s" % doms)
    with open(os.path.join(out, "report.json")) as f:
        rep = json.load(f)
    tk = rep["tickets"]
    check((tk["sold"], tk["cancelled"], tk["stake_total_ore"]) == eod and rep["reconciled"],
          "final reconciliation %s vs END OF DAY %s" % (tk, eod))
    with open(os.path.join(out, "tickets.jsonl")) as f:
        moved = [json.loads(line) for line in f]
    check(sorted((t["event"], t["number"]) for t in moved) == [("new", 3), ("status", 2)],
          "incremental run moved %s" % moved)
    db = sqlite3.connect(os.path.join(out, "legacy.sqlite"))
    check(db.execute("SELECT count(*) FROM tickets").fetchone() == (3,), "sqlite not cumulative")
    arch = os.path.join(env.dir, "archive", "legacy.tar.zst")
    r = env.run_tool([ARCHIVE, "verify", arch])
    check(r.returncode == 0, "archive verify: %s" % r.stderr)
    hist = env.cli_json("phase", "history")
    check([(h["action"], h["from"], h["to"], h["ok"]) for h in hist["history"]] ==
          [("apply", 0, 1, True), ("apply", 1, 2, False), ("apply", 1, 2, True),
           ("apply", 2, 3, True)], "history: %s" % hist["history"])
    details = [s.get("detail", "") for s in hist["steps"]]
    check(any(d.startswith("archive legacy") for d in details) and
          any(d.startswith("start linux") for d in details), "audit steps: %s" % details)

    # ---- rollback after the originals are purged: the archive brings it back ----
    r = env.run_tool([ARCHIVE, "purge", "--yes", arch])
    check(r.returncode == 0 and not os.path.exists(env.disk), "purge: %s" % r.stderr)
    env.cli("phase", "rollback")
    st = env.cli_json("phase", "status")
    check(st["phase"] == 2, "rollback: %s" % st)
    scr = env.screen("legacy")
    login(scr)
    got = end_of_day(scr)
    check(got == eod, "restored legacy guest shows %s, had %s" % (got, eod))
    check(env.usb_ids("linux") == ["1209:0003"] and env.usb_ids("legacy") == [],
          "phase 2 again: the printer is not on linux only")

    # ---- rollback to phase 1: the printer comes back to the terminal ----
    after = last_event_id(c)
    env.cli("phase", "rollback")
    st = env.cli_json("phase", "status")
    check(st["phase"] == 1 and st["owners"] == {"printer": "legacy"}, "rollback 1: %s" % st)
    check(set(pids(c)) == {"legacy"}, "rollback 1 domains: %s" % pids(c))
    check(env.usb_ids("legacy") == ["1209:0003"], "rollback 1: legacy lacks the printer")
    check(usb_events(c, after) == [("usb-detach", "linux"), ("usb-attach", "legacy")],
          "rollback USB events: %s" % usb_events(c, after))
    sell(scr, 1, 1, "10", "TICKET 000004 SAVED")
    wait_text(spool, "END TICKET 000004")
    scr.close()
    print("PASS: phases 1 -> 2 -> 3, failed apply undone, the printer moved by usb-detach/attach,"
          " rollback from the archive and back to phase 1")


if __name__ == "__main__":
    env = PhaseEnv(sys.argv)
    try:
        main(env)
    except Fail as e:
        print("FAIL:", e)
        print(env.daemon_log())
        sys.exit(1)
    finally:
        env.cleanup()
