#!/usr/bin/env python3
"""Toolstack benchmark (docs/PERFORMANCE.md, "Toolstack").
usage: bench.py BUILD_DIR
Starts a private tandemd with 50 idle domains (the toolstack test guest),
then measures: `list` requests/s and p50/p99 latency from one client,
create-to-running latency (the legacy guest if BUILD_DIR has
legacy/legacy.elf, else the toolstack test guest), and tandemd's RSS."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tests", "toolstack"))
import tstlib  # noqa: E402

DOMAINS = 50


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    b = os.path.abspath(sys.argv[1])
    argv = ["bench", f"{b}/hv/control/tandemd", f"{b}/hv/control/tandem",
            f"{b}/hv/control/tandem-cfgcheck", f"{b}/hv/tandem-vmm",
            f"{b}/tests/toolstack/toolstack-guest.elf"]
    env = tstlib.Env(argv)
    try:
        env.start()
        c = tstlib.Client(env.sock)
        rss0 = rss_kib(env.daemon.pid)
        starts = []
        for i in range(DOMAINS):
            path = env.config(f"b{i}")
            t0 = time.perf_counter()
            c.call("create", config=open(path).read(), path=path)
            starts.append(time.perf_counter() - t0)
        rss50 = rss_kib(env.daemon.pid)
        lat = []
        t0 = time.perf_counter()
        for _ in range(2000):
            t = time.perf_counter()
            c.call("list")
            lat.append(time.perf_counter() - t)
        wall = time.perf_counter() - t0
        lat.sort()
        legacy = f"{b}/legacy/legacy.elf"
        if os.path.exists(legacy):
            path = os.path.join(env.dir, "legacy.cfg")
            with open(path, "w") as f:
                f.write(f'name = "legacy"\ntype = "tandem-legacy"\nkernel = "{legacy}"\n'
                        "memory = 32\n")
            t = time.perf_counter()
            c.call("create", config=open(path).read(), path=path)
            legacy_ms = (time.perf_counter() - t) * 1000
            which = "legacy guest"
        else:
            legacy_ms = sorted(starts)[len(starts) // 2] * 1000
            which = "toolstack test guest (no legacy.elf in this build)"
        time.sleep(2)  # a few metrics rounds with 50 domains
        print(f"list with {DOMAINS} domains: {2000 / wall:.0f} req/s,"
              f" p50 {lat[1000] * 1000:.2f} ms, p99 {lat[1980] * 1000:.2f} ms")
        print(f"create-to-running ({which}): {legacy_ms:.1f} ms")
        print(f"tandemd RSS: {rss0} KiB idle, {rss50} KiB with {DOMAINS} domains,"
              f" {rss_kib(env.daemon.pid)} KiB after metrics rounds")
    finally:
        env.cleanup()


main()
