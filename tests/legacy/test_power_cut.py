"""SIGKILL tandem-vmm in the middle of a burst of ticket sales, three times on
the same disk: fsck.fat stays clean and every ticket whose receipt reached
the printer spool is on disk with its stake."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from legacy_harness import (Legacy, fail, fsck_clean, login, mkdisk,  # noqa: E402
                            skip_without_kvm, tickets, workdir)

skip_without_kvm()
disk = os.path.join(workdir(), "data.img")
mkdisk(disk)
printed = {}
# The extra delays move the kill into different steps of a sale's writes.
for round_no, (kill_after, extra) in enumerate(((1, 0.0), (4, 0.003), (7, 0.011))):
    vm = Legacy(disk)
    try:
        vm.connect()
        login(vm)
        vm.type("1")
        vm.wait_screen("SELL TICKET")
        burst = "".join("%d\n%d\n%d.%02d\n" % (1 + i % 3, 1 + i % 3, 10 + i, round_no)
                        for i in range(12))
        vm.type(burst)
        deadline = time.time() + 30
        spool = ""
        while time.time() < deadline:
            spool = open(vm.spool, encoding="cp850", newline="").read()
            if spool.count("END TICKET") >= kill_after:
                time.sleep(extra)
                break
            time.sleep(0.001)
        vm.kill()  # SIGKILL: the power cut
        spool = open(vm.spool, encoding="cp850", newline="").read()
    finally:
        if vm.proc.poll() is None:
            vm.kill()
    receipts = re.findall(r"TICKET (\d{6})\r\n.*?STAKE SEK (\d+)\.(\d\d)\r\n=+\r\nEND TICKET \1",
                          spool, re.S)
    if len(receipts) < kill_after:
        fail("round %d: only %d receipts printed before the kill" % (round_no, len(receipts)))
    for num, whole, frac in receipts:
        printed[int(num)] = int(whole) * 100 + int(frac)
    fsck_clean(disk)
    on_disk = {t["number"]: t["stake"] for t in tickets(disk)}
    for num, stake in printed.items():
        if on_disk.get(num) != stake:
            fail("round %d: ticket %06u printed (stake %d) but disk has %r" %
                 (round_no, num, stake, on_disk.get(num)))
    print("round %d: killed after %d receipts; %d tickets on disk, all printed ones present" %
          (round_no, len(receipts), len(on_disk)))
print("PASS: power cuts never lost a printed ticket, fsck clean")
