#!/usr/bin/env python3
"""tandemd's vifs against the real host: a bridged vif gets its bridge and a
persistent TAP (on the bridge, in its VLAN, held open by the domain's VMM),
`tandem net list` shows it with its MAC, a user-mode vif needs no host
device, a bad vif is refused with file:line, and the TAP goes away when the
domain stops."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "toolstack"))
from tstlib import Client, check, run  # noqa: E402

BR = f"tnbr{os.getpid() % 100000}"


def vmm_taps(pid):
    """TAP names the process holds open (from /proc/PID/fdinfo 'iff:')."""
    names = []
    d = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(d):
        try:
            with open(os.path.join(d, fd)) as f:
                for line in f:
                    if line.startswith("iff:"):
                        names.append(line.split()[1])
        except OSError:
            pass
    return names


def main(env):
    if not os.access("/dev/net/tun", os.R_OK | os.W_OK) or os.geteuid() != 0:
        print("SKIP: needs root and /dev/net/tun")
        sys.exit(77)
    c = Client(env.sock)
    try:
        cfg = env.config("neta", extra=f"vif = [ 'mac=06:54:00:00:0a:01,bridge={BR},vlan=10' ]\n")
        env.cli("create", cfg)
        vifs = c.call("net-list")["vifs"]
        check(len(vifs) == 1, f"net-list: {vifs}")
        v = vifs[0]
        check(v["mac"] == "06:54:00:00:0a:01" and v["bridge"] == BR + "v10" and v["vlan"] == 10
              and v["tap_present"], f"vif: {v}")
        tap = v["tap"]
        check(os.path.isdir(f"/sys/class/net/{BR}v10/bridge"), "no VLAN 10 bridge")
        check(os.path.realpath(f"/sys/class/net/{tap}/master").endswith(f"/{BR}v10"),
              f"{tap} not on {BR}v10")
        pid = env.cli_json("info", "neta")["pid"]
        check(tap in vmm_taps(pid), f"VMM {pid} does not hold {tap}: {vmm_taps(pid)}")

        cfg = env.config("netb", extra="vif = [ 'type=user,hostfwd=tcp::0-:80', 'bridge=%s' ]\n" % BR)
        r = env.cli("create", cfg, check_rc=None)
        check(r.returncode != 0 and "hostfwd" in (r.stdout + r.stderr), f"port 0: {r.stderr}")
        cfg = env.config("netb", extra="vif = [ 'type=user', 'bridge=%s' ]\n" % BR)
        env.cli("create", cfg)
        table = env.cli("net", "list").stdout
        check("neta" in table and "06:54:00:00:0a:01" in table and "netb" in table
              and "user" in table, f"net list:\n{table}")
        mine = env.cli_json("net", "list", "netb")["vifs"]
        check([x["type"] for x in mine] == ["user", "bridge"], f"netb: {mine}")
        tap_b = mine[1]["tap"]
        check(os.path.realpath(f"/sys/class/net/{tap_b}/master").endswith("/" + BR),
              f"{tap_b} not on {BR} (VLANs must not share a bridge)")

        bad = env.config("netc", extra="vif = [ 'vlan=5000' ]\n")
        r = env.cli("create", bad, check_rc=None)
        check(r.returncode == 6 and "netc.cfg:" in r.stderr and "vlan" in r.stderr,
              f"bad vlan: {r.returncode} {r.stderr}")

        env.cli("destroy", "neta")
        env.cli("destroy", "netb")
        check(not os.path.exists(f"/sys/class/net/{tap}"), f"{tap} left behind")
        check(not os.path.exists(f"/sys/class/net/{tap_b}"), f"{tap_b} left behind")
    finally:
        for br in (BR, BR + "v10"):
            subprocess.run(["ip", "link", "del", br], capture_output=True)


if __name__ == "__main__":
    sys.exit(run(main))
