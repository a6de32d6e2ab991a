#!/usr/bin/env python3
"""tandemd killed with SIGKILL: its VMMs keep running; a new tandemd
re-attaches (same pids, states, event log), notices a VMM that died while
it was down, still controls the survivors, and the store is intact."""
import os
import signal
import sqlite3
import sys

from tstlib import Client, alive, check, run


def main(env):
    c = Client(env.sock)
    for n in ("r1", "r2", "r3"):
        env.cli("create", env.config(n, on_crash="preserve"))
    env.cli("pause", "r2")
    before = {d["name"]: d for d in c.call("list")["domains"]}
    nevents = len(c.call("events", limit=10000)["events"])
    c.close()

    env.kill_daemon(signal.SIGKILL)
    for d in before.values():
        check(alive(d["pid"]), f"{d['name']} VMM died with tandemd")
    os.kill(before["r3"]["pid"], signal.SIGKILL)  # dies while nobody watches

    env.start()
    c = Client(env.sock)
    after = {d["name"]: d for d in c.call("list")["domains"]}
    check(after["r1"]["state"] == "running" and after["r1"]["pid"] == before["r1"]["pid"],
          f"r1 {after['r1']}")
    check(after["r2"]["state"] == "paused" and after["r2"]["pid"] == before["r2"]["pid"],
          f"r2 {after['r2']}")
    # r3's monitor may still be writing its exit status: wait for it.
    env.wait_state(c, "r3", "crashed")
    check("signal 9" in c.call("info", domain="r3")["reason"], "r3 reason")
    events = c.call("events", limit=10000)["events"]
    check(len(events) > nevents, "event log lost entries")
    check(any(e["kind"] == "reattach" and e.get("domain") == "r1" for e in events), "no reattach")

    # The re-attached VMMs obey.
    env.cli("unpause", "r2")
    env.cli("pause", "r1")
    check(env.cli_json("info", "r1")["state"] == "paused", "r1 not paused")
    env.cli("destroy", "r1")
    check(not alive(before["r1"]["pid"]), "destroy did not stop the re-attached VMM")

    con = sqlite3.connect(env.db)
    check(con.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "integrity_check")
    check(con.execute("PRAGMA journal_mode").fetchone()[0] == "wal", "not WAL")
    con.close()


sys.exit(run(main))
