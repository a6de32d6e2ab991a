"""Invalid stake and unknown race/runner show an error and write nothing; a
full disk shows a clear error and leaves earlier tickets and the FS intact."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from legacy_harness import (Legacy, fail, fsck_clean, login, mkdisk, sell,  # noqa: E402
                            skip_without_kvm, tickets, workdir)

skip_without_kvm()
work = workdir()
disk = os.path.join(work, "data.img")
mkdisk(disk)


def sell_screen(vm):
    vm.connect()
    login(vm)
    vm.type("1")
    vm.wait_screen("SELL TICKET")


vm = Legacy(disk)
try:
    sell_screen(vm)
    vm.type("9\n")
    vm.wait_screen("UNKNOWN RACE 9")
    vm.keys("BACKSPACE")
    vm.type("1\n9\n")
    vm.wait_screen("UNKNOWN RUNNER 9 IN RACE 01")
    vm.keys("BACKSPACE")
    vm.type("2\n0\n")
    vm.wait_screen("INVALID STAKE 0 -")
    vm.type("6000\n")
    vm.wait_screen("INVALID STAKE 6000 -")
    vm.type("1.234\n")
    vm.wait_screen("INVALID STAKE 1.234 -")
    vm.type(".\n")
    vm.wait_screen("INVALID STAKE . -")
    if vm.stop() != 0:
        fail("VMM did not power off:\n" + vm.output())
finally:
    if vm.proc.poll() is None:
        vm.kill()
if tickets(disk):
    fail("rejected input wrote tickets: %s" % tickets(disk))
if os.path.getsize(vm.spool) != 0:
    fail("rejected input printed a receipt")
fsck_clean(disk)

# Full disk: one ticket by the terminal, the rest of its cluster filled with
# valid records by mtools, and every free cluster taken by a filler file.
vm = Legacy(disk)
try:
    sell_screen(vm)
    sell(vm, 2, 1, "40", "TICKET 000001 SAVED")
    vm.stop()
finally:
    if vm.proc.poll() is None:
        vm.kill()
first = subprocess.run(["mtype", "-i", disk, "::TICKETS.DAT"], capture_output=True).stdout
recs = [first]
for n in range(2, 33):  # 32 records = one 2 KiB cluster
    recs.append(("%06u 20250101120000 1001 01 02 %08u S %-18s\r\n" % (n, 100 * n, "Bellman"))
                .encode("cp850"))
path = os.path.join(work, "TICKETS.DAT")
open(path, "wb").write(b"".join(recs))
subprocess.run(["mcopy", "-o", "-i", disk, path, "::TICKETS.DAT"], check=True)
listing = subprocess.run(["mdir", "-i", disk, "::"], capture_output=True, text=True).stdout
free = int(re.search(r"([\d ]+) bytes free", listing).group(1).replace(" ", ""))
filler = os.path.join(work, "FILLER.BIN")
with open(filler, "wb") as f:
    f.truncate(free)
subprocess.run(["mcopy", "-i", disk, filler, "::FILLER.BIN"], check=True)
fsck_clean(disk)
before = tickets(disk)
if len(before) != 32:
    fail("setup: expected 32 tickets, found %d" % len(before))

vm = Legacy(disk)
try:
    sell_screen(vm)
    sell(vm, 1, 2, "15", "DISK FULL - TICKET NOT SAVED")
    # The terminal keeps working: the next attempt fails the same clean way.
    sell(vm, 3, 1, "5", "DISK FULL - TICKET NOT SAVED")
    vm.stop()
finally:
    if vm.proc.poll() is None:
        vm.kill()
if tickets(disk) != before:
    fail("full disk changed earlier tickets")
if "END TICKET 000033" in open(vm.spool, encoding="cp850").read():
    fail("a receipt was printed for an unsaved ticket")
fsck_clean(disk)
print("PASS: bad stake/race/runner rejected, full disk reported, records intact")
