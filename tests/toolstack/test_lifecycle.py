#!/usr/bin/env python3
"""Lifecycle through the CLI: create, list, pause, unpause, shutdown (the
idle guest ignores the power button, so the timeout path), destroy; guests
that power off, reboot and crash by themselves, with each policy; every
state seen in `list` and in the event stream."""
import os
import sys

from tstlib import Client, check, run


def states_of(events, name):
    return [e["state"] for e in events if e.get("event") == "state" and e.get("domain") == name]


def main(env):
    ev = Client(env.sock)
    ev.call("subscribe", topics=["state"])

    cfg = env.config("web", on_poweroff="preserve")
    out = env.cli("create", cfg).stdout
    check("web running" in out, f"create said {out!r}")
    doms = {d["name"]: d for d in env.cli_json("list")["domains"]}
    check(doms["web"]["state"] == "running", f"list: {doms}")
    check(doms["web"]["pid"] > 0, "no VMM pid")
    check("web" in env.cli("list").stdout, "table list lacks web")

    env.cli("pause", "web")
    check(env.cli_json("info", "web")["state"] == "paused", "not paused")
    r = env.cli("pause", "web", check_rc=5)
    check("not running" in r.stderr, f"double pause: {r.stderr}")
    env.cli("unpause", "web")
    check(env.cli_json("info", "web")["state"] == "running", "not running again")

    # Console: the fd comes through tandemd; a stopped domain has none.
    env.cli("console", "web")

    # Clean shutdown request; this guest never answers it, so after the
    # timeout tandemd kills it and applies on_poweroff=preserve.
    r = env.cli("shutdown", "-w", "-t", "1", "web")
    info = env.cli_json("info", "web")
    check(info["state"] == "stopped", f"after shutdown: {info['state']}")
    check("timed out" in info["reason"], f"reason {info['reason']}")
    env.cli("console", "web", check_rc=5)
    env.cli("destroy", "web")
    check("web" not in [d["name"] for d in env.cli_json("list")["domains"]], "still listed")
    env.cli("info", "web", check_rc=4)

    # The legacy guest answers a clean shutdown by powering off.
    if env.legacy:
        path = os.path.join(env.dir, "term.cfg")
        with open(path, "w") as f:
            f.write(f'name = "term"\ntype = "tandem-legacy"\nkernel = "{env.legacy}"\n'
                    'memory = 32\non_poweroff = "preserve"\n')
        env.cli("create", path)
        env.cli("shutdown", "-w", "-t", "60", "term")
        info = env.cli_json("info", "term")
        check(info["state"] == "stopped" and info["reason"] == "powered off", f"term {info}")
        env.cli("destroy", "term")

    # A guest that powers off by itself: on_poweroff=preserve keeps it.
    env.cli("create", "--no-wait", env.config("off", mode=1, on_poweroff="preserve"))
    c = Client(env.sock)
    d = env.wait_state(c, "off", "stopped")
    check(c.call("info", domain="off")["reason"] == "powered off", "reason")
    env.cli("destroy", "off")

    # Crash with on_crash=preserve: crashed, reason names the guest crash.
    env.cli("create", "--no-wait", env.config("boom", mode=3, on_crash="preserve"))
    env.wait_state(c, "boom", "crashed")
    reason = c.call("info", domain="boom")["reason"]
    check("guest crashed" in reason, f"crash reason {reason}")
    env.cli("destroy", "boom")

    # Crash with on_crash=destroy (the default): gone from the registry.
    env.cli("create", "--no-wait", env.config("gone", mode=3))
    env.wait_state(c, "gone", "absent")

    # Reboot with on_reboot=restart: restarted until the loop guard stops it.
    env.cli("create", "--no-wait", env.config("loop", mode=2, on_reboot="restart"))
    env.wait_state(c, "loop", "crashed", timeout=40)
    info = c.call("info", domain="loop")
    check(info["restarts"] == 5, f"restarts {info['restarts']}")
    check("too often" in info["reason"], info["reason"])
    env.cli("destroy", "loop")

    # The event stream saw every state, in order.
    evs = []
    while True:
        e = ev.next_event()
        evs.append(e)
        if e.get("domain") == "loop" and e.get("state") == "destroyed":
            break
    web = states_of(evs, "web")
    check(web == ["starting", "running", "paused", "running", "shutting_down", "stopped",
                  "destroyed"], f"web states {web}")
    if env.legacy:
        check(states_of(evs, "term") == ["starting", "running", "shutting_down", "stopped",
                                         "destroyed"], f"term {states_of(evs, 'term')}")
    check(states_of(evs, "off")[-2:] == ["stopped", "destroyed"], f"off {states_of(evs, 'off')}")
    check(states_of(evs, "boom")[-2:] == ["crashed", "destroyed"], "boom states")
    check(states_of(evs, "gone")[-2:] == ["crashed", "destroyed"], "gone states")
    check(states_of(evs, "loop").count("starting") == 6, f"loop {states_of(evs, 'loop')}")

    # The event log holds the same story, and `events` prints it.
    out = env.cli("events", "-d", "web", "-n", "100").stdout
    check("shutdown timed out" in out, f"event log: {out}")


sys.exit(run(main))
