"""With the VMM stopped, mtools reads the ticket file: fixed-width CP850
records with the right stakes and accented runner names; fsck.fat is clean."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from legacy_harness import (Legacy, fail, fsck_clean, login, mkdisk, sell,  # noqa: E402
                            skip_without_kvm, tickets, workdir)
import subprocess  # noqa: E402

skip_without_kvm()
disk = os.path.join(workdir(), "data.img")
mkdisk(disk)
fsck_clean(disk)
vm = Legacy(disk)
try:
    vm.connect()
    login(vm, "1002", "4321")
    vm.type("1")
    vm.wait_screen("SELL TICKET")
    sell(vm, 1, 3, "12.5", "TICKET 000001 SAVED")
    sell(vm, 2, 3, "250", "TICKET 000002 SAVED")
    sell(vm, 1, 1, "7.05", "TICKET 000003 SAVED")
    if vm.stop() != 0:
        fail("VMM did not power off cleanly:\n" + vm.output())
finally:
    if vm.proc.poll() is None:
        vm.kill()

listing = subprocess.run(["mdir", "-i", disk, "::"], capture_output=True, text=True).stdout
if "TICKETS  DAT" not in listing or "192" not in listing:
    fail("mdir does not list a 192-byte TICKETS.DAT:\n" + listing)
got = [(t["number"], t["race"], t["runner"], t["stake"], t["status"], t["operator"], t["name"])
       for t in tickets(disk)]
want = [(1, 1, 3, 1250, "S", 1002, "Mästerkatt"), (2, 2, 3, 25000, "S", 1002, "Älvdansen"),
        (3, 1, 1, 705, "S", 1002, "Åskväder")]
if got != want:
    fail("ticket records differ:\n got  %s\n want %s" % (got, want))
fsck_clean(disk)
print("PASS: TICKETS.DAT read back by mtools, CP850 names intact, fsck clean")
