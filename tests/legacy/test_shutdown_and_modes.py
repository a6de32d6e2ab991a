"""Cancel and end-of-day totals, the 132x43 mode, idling without exits, and a
clean shutdown request delivered as a PV event."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from legacy_harness import (Legacy, fail, fsck_clean, login, mkdisk, mtype,  # noqa: E402
                            sell, skip_without_kvm, tickets, workdir)

skip_without_kvm()
disk = os.path.join(workdir(), "data.img")
mkdisk(disk)
vm = Legacy(disk)
try:
    vm.connect()
    login(vm)
    vm.type("1")
    vm.wait_screen("SELL TICKET")
    sell(vm, 1, 4, "50", "TICKET 000001 SAVED")
    sell(vm, 2, 2, "25.25", "TICKET 000002 SAVED")
    vm.keys("ESC")
    vm.wait_screen("MAIN MENU")
    # Paused, the vCPU leaves its block hypercall and parks: keys wait.
    r = vm.ctl.call("pause")
    if not r.get("ok"):
        fail("pause: %s" % r)
    vm.type("2")
    time.sleep(0.3)
    if any("CANCEL TICKET" in l for l in vm.ctl.screen()):
        fail("a paused guest handled a key")
    r = vm.ctl.call("resume")
    if not r.get("ok"):
        fail("resume: %s" % r)
    vm.wait_screen("CANCEL TICKET")
    vm.type("1\n")
    vm.wait_screen("TICKET 000001 CANCELLED, REFUND SEK 50.00")
    vm.type("1\n")
    vm.wait_screen("TICKET 000001 IS ALREADY CANCELLED")
    vm.type("77\n")
    vm.wait_screen("NO SUCH TICKET 77")
    vm.keys("ESC")
    vm.wait_screen("MAIN MENU")
    vm.type("3")
    lines = vm.wait_screen("This operator")  # drawn last
    text = "\n".join(lines)
    for want in ("Tickets sold            1", "Tickets cancelled       1",
                 "Total stakes SEK       25.25"):
        if want not in text:
            fail("totals screen lacks %r:\n%s" % (want, text))
    vm.type("p")
    vm.wait_screen("TOTALS PRINTED")
    vm.keys("ESC")
    vm.wait_screen("MAIN MENU")
    vm.type("5")
    deadline = time.time() + 20
    r = vm.ctl.call("screen-text")
    while (r["width"] != 132 or len(r["lines"]) != 43 or
           not r["lines"][42].startswith(" 1-5 choose")) and time.time() < deadline:
        time.sleep(0.02)
        r = vm.ctl.call("screen-text")
    vm.wait_screen("MAIN MENU")
    r = vm.ctl.call("screen-text")
    if (r["width"], r["height"]) != (132, 43) or len(r["lines"]) != 43:
        fail("132x43 mode not active: %sx%s" % (r["width"], r["height"]))
    if not r["lines"][42].startswith(" 1-5 choose"):
        fail("help line not on row 43 in 132x43 mode: %r" % r["lines"][42])
    # Idle: the guest sleeps in the block hypercall; no exits while nothing happens.
    before = vm.ctl.call("stats")["exits"]["total"]
    time.sleep(1.0)
    after = vm.ctl.call("stats")["exits"]["total"]
    if after - before > 2:
        fail("guest not idle: %d exits in one idle second" % (after - before))
    rc = vm.stop()
    if rc != 0 or not vm.wait_output("shutdown requested, 2 tickets on disk"):
        fail("clean shutdown failed (exit %d):\n%s" % (rc, vm.output()))
finally:
    if vm.proc.poll() is None:
        vm.kill()
spool = open(vm.spool, encoding="cp850").read()
if "TANDEM TOTE CANCELLATION" not in spool or "TOTAL STAKES SEK 25.25" not in spool:
    fail("cancellation or totals not printed:\n" + spool)
status = {t["number"]: t["status"] for t in tickets(disk)}
# The totals were archived in a subdirectory the guest's FAT driver created.
totals = mtype(disk, "REPORTS/TOTALS.DAT")
if len(totals) != 46 or not re.fullmatch(r"\d{14} 1001 000001 000001 0000002525\r\n", totals):
    fail("REPORTS/TOTALS.DAT: %r" % totals)
if status != {1: "C", 2: "S"}:
    fail("ticket status on disk: %s" % status)
fsck_clean(disk)
print("PASS: cancel, totals, 132x43, idle and clean shutdown")
