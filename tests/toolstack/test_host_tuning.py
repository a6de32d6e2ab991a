#!/usr/bin/env python3
"""tandemd as root turns shmem huge pages from "never" to "advise" at start
(guest RAM is a memfd that asks for huge pages), records it in the event
log, and leaves any other setting alone. The host's setting is restored."""
import os
import sys

from tstlib import Client, Env, Fail, check

KNOB = "/sys/kernel/mm/transparent_hugepage/shmem_enabled"


def current():
    with open(KNOB) as f:
        return f.read().split("[")[1].split("]")[0]


def put(value):
    with open(KNOB, "w") as f:
        f.write(value)


def events(env):
    c = Client(env.sock)
    try:
        return [e.get("detail", "") for e in c.call("events", limit=1000)["events"]]
    finally:
        c.close()


def main():
    if os.geteuid() != 0 or not os.access(KNOB, os.W_OK):
        print("SKIP: needs root and", KNOB)
        return 77
    saved = current()
    env = Env(sys.argv)
    try:
        put("never")
        env.start()
        check(current() == "advise", f"shmem_enabled is {current()} after start, want advise")
        check(any("advise" in m for m in events(env)), "no event says what tandemd changed")
        env.kill_daemon()
        put("within_size")
        env.start()
        check(current() == "within_size", f"tandemd overrode within_size with {current()}")
        changes = [m for m in events(env) if "never to advise" in m]
        check(len(changes) == 1, f"{len(changes)} change events after two starts and one change")
        print("PASS")
        return 0
    except Fail as e:
        print("FAIL:", e)
        print(env.daemon_log())
        return 1
    finally:
        env.cleanup()
        put(saved)


sys.exit(main())
