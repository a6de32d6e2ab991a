#!/usr/bin/env python3
"""100 clients x 200 mixed requests against 5 running domains. Readers
list/info/stats/history/events; one writer per domain toggles pause and
checks every transition. No request may fail, no update may be lost (the
event log and audit log hold exactly the writers' transitions). Latency
percentiles are printed for bench/, never asserted."""
import random
import sys
import threading
import time

from tstlib import Client, check, run

CLIENTS, REQUESTS, DOMAINS = 100, 200, 5


def main(env):
    c = Client(env.sock)
    names = [f"c{i}" for i in range(DOMAINS)]
    for n in names:
        path = env.config(n)
        c.call("create", config=open(path).read(), path=path)
    first_event = c.call("events", limit=1)["events"][-1]["id"]
    errors, lat = [], []
    toggles = {n: 0 for n in names}

    def reader(k):
        rnd = random.Random(k)
        cl = Client(env.sock)
        for _ in range(REQUESTS):
            n = rnd.choice(names)
            m, p = rnd.choice([("list", {}), ("info", {"domain": n}), ("stats", {"domain": n}),
                               ("history", {"domain": n, "limit": 10}),
                               ("events", {"limit": 5}), ("version", {})])
            t0 = time.perf_counter()
            r = cl.request(m, **p)
            lat.append(time.perf_counter() - t0)
            if not r.get("ok"):
                errors.append((m, r))
        cl.close()

    def writer(k):
        cl = Client(env.sock)
        n = names[k]
        for i in range(REQUESTS):
            m, want = ("pause", "paused") if i % 2 == 0 else ("unpause", "running")
            t0 = time.perf_counter()
            r = cl.request(m, domain=n)
            lat.append(time.perf_counter() - t0)
            if not r.get("ok") or r["result"]["state"] != want:
                errors.append((m, r))
            else:
                toggles[n] += 1
        cl.close()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(DOMAINS)]
    threads += [threading.Thread(target=reader, args=(k,)) for k in range(CLIENTS - DOMAINS)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    check(not errors, f"{len(errors)} failed requests, first {errors[:3]}")
    check(len(lat) == CLIENTS * REQUESTS, f"{len(lat)} replies")
    for n in names:
        check(toggles[n] == REQUESTS, f"{n}: {toggles[n]} toggles")
        check(c.call("info", domain=n)["state"] == "running", f"{n} final state")
    evs = c.call("events", after=first_event, limit=10000)["events"]
    changes = [e for e in evs if e["kind"] == "state"]
    check(len(changes) == DOMAINS * REQUESTS, f"{len(changes)} state events logged")
    lat.sort()
    p50, p99 = lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000
    print(f"bench: {CLIENTS * REQUESTS} requests by {CLIENTS} clients in {wall:.2f}s:"
          f" {CLIENTS * REQUESTS / wall:.0f} req/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms")


sys.exit(run(main))
