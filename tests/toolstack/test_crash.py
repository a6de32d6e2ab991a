#!/usr/bin/env python3
"""SIGKILL one VMM: that domain becomes crashed and its on_crash policy is
applied (preserve, restart); the other domains keep running untouched."""
import os
import signal
import sys
import time

from tstlib import Client, alive, check, run


def main(env):
    c = Client(env.sock)
    for name, policy in (("a", "preserve"), ("b", "restart"), ("c", "destroy")):
        c.call("create", config=open(env.config(name, on_crash=policy)).read(),
               path=env.config(name, on_crash=policy))
    pids = {d["name"]: d["pid"] for d in c.call("list")["domains"]}
    check(all(alive(p) for p in pids.values()), f"VMMs not alive: {pids}")
    c.call("subscribe", topics=["state"])

    os.kill(pids["a"], signal.SIGKILL)
    env.wait_state(c, "a", "crashed")
    info = c.call("info", domain="a")
    check("signal 9" in info["reason"], f"reason {info['reason']}")
    check(info["pid"] == 0, "crashed domain still has a pid")

    os.kill(pids["b"], signal.SIGKILL)
    deadline = time.time() + 20
    while time.time() < deadline:
        b = c.call("info", domain="b")
        if b["state"] == "running" and b["pid"] not in (0, pids["b"]):
            break
        time.sleep(0.05)
    check(b["state"] == "running" and b["restarts"] == 1, f"b not restarted: {b}")
    check(alive(b["pid"]), "restarted VMM not alive")

    os.kill(pids["c"], signal.SIGKILL)
    env.wait_state(c, "c", "absent")

    # The survivor of the first kill is untouched by all of this.
    check(alive(pids["b"]) is False, "killed VMM still alive")
    states = []
    while True:
        e = c.next_event()
        if e.get("event") == "state":
            states.append((e["domain"], e["state"]))
        if ("c", "destroyed") in states:
            break
    check(("a", "crashed") in states and ("b", "crashed") in states and ("c", "crashed") in states,
          f"events {states}")
    check(states.index(("b", "crashed")) < states.index(("b", "starting")), "b order")
    a = c.call("info", domain="a")
    check(a["state"] == "crashed", "a changed after other crashes")


sys.exit(run(main))
