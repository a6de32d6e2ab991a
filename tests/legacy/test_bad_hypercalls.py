"""A test guest abuses every hypercall (unknown numbers, bad pointers, out of
range arguments) and gets error codes; the VMM survives, and the guest's
final CPU fault ends as a crash report with vector and EIP."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from legacy_harness import fail, mkdisk, skip_without_kvm, tool, workdir  # noqa: E402

skip_without_kvm()
disk = os.path.join(workdir(), "data.img")
mkdisk(disk)
r = subprocess.run([tool("vmm"), "--legacy", tool("badhc"), "--mem", "16M", "--disk", disk,
                    "--console", "stdio"], stdin=subprocess.DEVNULL, capture_output=True,
                   text=True, timeout=60)
out = r.stdout + r.stderr
checks = re.findall(r"^CHECK (\S+) got=(-?\d+) want=(-?\d+) (ok|BAD)$", out, re.M)
if len(checks) < 30:
    fail("expected at least 30 probes, saw %d:\n%s" % (len(checks), out))
bad = [c for c in checks if c[3] != "ok"]
if bad or "VERDICT PASS" not in out:
    fail("probes failed: %s\n%s" % (bad, out))
if r.returncode != 4:
    fail("want exit 4 (guest crash), got %d:\n%s" % (r.returncode, out))
if not re.search(r"legacy guest crashed: exception 6 \(#UD\), error code 0x0, EIP 0x001[0-9a-f]{5}",
                 out):
    fail("no crash report with vector and EIP:\n" + out)
print("PASS: %d hypercall probes answered with the right codes; fault reported" % len(checks))
