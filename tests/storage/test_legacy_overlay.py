"""The legacy guest on a qcow2 linked clone of its raw data disk (the format
probed by tandem-vmm): a sold ticket lands in the overlay, the base keeps its
SHA-256, qemu-img check is clean and the flattened overlay holds the ticket.
While the guest runs, the images are flocked: a second VMM can neither open
the overlay nor write the base."""
import hashlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "legacy"))
from legacy_harness import (Legacy, fail, fsck_clean, login, mkdisk, sell,  # noqa: E402
                            skip_without_kvm, tickets, tool, workdir)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def second_vmm(disk):
    """A second tandem-vmm on disk: must refuse to start (exit 1 or 2) with
    a one-line 'in use' / 'being written' reason."""
    r = subprocess.run([tool("vmm"), "--legacy", tool("elf"), "--mem", "16M", "--console", "none",
                        "--disk", disk], capture_output=True, text=True, timeout=30)
    if r.returncode == 0 or ("in use" not in r.stderr and "being written" not in r.stderr):
        fail("second VMM on %s: exit %d, stderr %r" % (disk, r.returncode, r.stderr))


skip_without_kvm()
d = workdir()
base = os.path.join(d, "base.img")
overlay = os.path.join(d, "clone.qcow2")
mkdisk(base)
before = sha256(base)
r = subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.img", "-F", "raw",
                    overlay], capture_output=True, text=True)
if r.returncode != 0:
    fail("qemu-img create: " + r.stderr)

vm = Legacy(overlay + ",cache=none")  # the PV disk with O_DIRECT data
try:
    vm.connect()
    login(vm, "1002", "4321")
    second_vmm(overlay)
    second_vmm(base + ",format=raw")
    vm.type("1")
    vm.wait_screen("SELL TICKET")
    sell(vm, 2, 3, "250", "TICKET 000001 SAVED")
    if vm.stop() != 0:
        fail("VMM did not power off cleanly:\n" + vm.output())
finally:
    if vm.proc.poll() is None:
        vm.kill()

if sha256(base) != before:
    fail("the base image changed under its overlay")
r = subprocess.run(["qemu-img", "check", overlay], capture_output=True, text=True)
if r.returncode != 0:
    fail("qemu-img check %s: exit %d\n%s%s" % (overlay, r.returncode, r.stdout, r.stderr))
flat = os.path.join(d, "flat.img")
subprocess.run(["qemu-img", "convert", "-O", "raw", overlay, flat], check=True)
got = [(t["number"], t["race"], t["runner"], t["stake"]) for t in tickets(flat)]
if got != [(1, 2, 3, 25000)]:
    fail("tickets in the flattened overlay: %s" % got)
fsck_clean(flat)
if tickets(base):
    fail("the base image has tickets")
print("PASS: ticket in the qcow2 overlay, base unchanged, qemu-img check clean, locks hold")
