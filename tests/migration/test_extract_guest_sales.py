"""The real legacy guest sells and cancels tickets; while its VMM runs,
tandem-extract and tandem-archive refuse the disk; after power-off the
extraction matches the terminal's own END OF DAY TOTALS screen and the
records mtools reads."""
import os
import re
import sqlite3
import sys

HERE = os.path.dirname(__file__)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "legacy"))
from legacy_harness import Legacy, login, sell, skip_without_kvm, tickets  # noqa: E402
from mig import ARCHIVE, extract, fail, jsonl, mkdisk, report, run, workdir  # noqa: E402

skip_without_kvm()
d = workdir()
disk = os.path.join(d, "data.img")
out = os.path.join(d, "out")
mkdisk(disk)
vm = Legacy(disk)
try:
    vm.connect()
    login(vm, "1002", "4321")
    vm.type("1")
    vm.wait_screen("SELL TICKET")
    sell(vm, 1, 3, "12.5", "TICKET 000001 SAVED")
    sell(vm, 2, 3, "250", "TICKET 000002 SAVED")
    sell(vm, 3, 2, "99.95", "TICKET 000003 SAVED")
    vm.keys("ESC")
    vm.wait_screen("MAIN MENU")
    vm.type("2")
    vm.wait_screen("CANCEL TICKET")
    vm.type("2\n")
    vm.wait_screen("TICKET 000002 CANCELLED")
    vm.keys("ESC")
    vm.wait_screen("MAIN MENU")
    vm.type("3")
    screen = "\n".join(vm.wait_screen("This operator"))
    # The disk is live: both tools must keep their hands off it.
    r = extract(disk, out)
    # tandem-vmm locks its disk (LOCK_EX); an older one is found as a writer.
    busy = ("locked by another process" in r.stderr or
            ("in use" in r.stderr and "tandem-vmm" in r.stderr))
    if r.returncode != 2 or not busy:
        fail("extract of a running domain's disk: exit %d %r" % (r.returncode, r.stderr))
    r = run([ARCHIVE, "create", "--name", "tote", "--disk", disk, os.path.join(d, "a.tar.zst")])
    if r.returncode != 1 or ("in use" not in r.stderr and "locked" not in r.stderr):
        fail("archive of a running domain's disk: exit %d %r" % (r.returncode, r.stderr))
    if vm.stop() != 0:
        fail("VMM did not power off cleanly:\n" + vm.output())
finally:
    if vm.proc.poll() is None:
        vm.kill()


def number(label):
    m = re.search(label + r"\s+(\d+)(?:\.(\d\d))?", screen)
    if not m:
        fail("no %r on the totals screen:\n%s" % (label, screen))
    return int(m.group(1)) * (100 if m.group(2) else 1) + int(m.group(2) or 0)


want = (number("Tickets sold"), number("Tickets cancelled"), number("Total stakes SEK"))
r = extract(disk, out)
if r.returncode != 0:
    fail("extract: exit %d %s%s" % (r.returncode, r.stdout, r.stderr))
rep = report(out)
tk = rep["tickets"]
got = (tk["sold"], tk["cancelled"], tk["stake_total_ore"])
if got != want or want != (2, 1, 1250 + 9995):
    fail("extraction totals %s, terminal END OF DAY %s" % (got, want))
if not rep["reconciled"] or tk["cancelled_numbers"] != [2]:
    fail("report: %s" % rep)
mt = [(t["number"], t["stake"], t["status"], t["name"], t["operator"], t["stamp"])
      for t in tickets(disk)]
ex = [(t["number"], t["stake_ore"], t["status"], t["runner_name"], t["operator_id"], t["sold_at"])
      for t in jsonl(os.path.join(out, "tickets.jsonl"))]
if ex != mt:
    fail("tickets.jsonl %s\n differs from mtools %s" % (ex, mt))
if ex[1][3] != "Älvdansen":
    fail("CP850 runner name not decoded: %r" % ex[1][3])
db = sqlite3.connect(os.path.join(out, "legacy.sqlite"))
if db.execute("SELECT count(*) FROM tickets WHERE day = ?", (ex[0][5][:8],)).fetchone() != (3,):
    fail("sqlite tickets by day wrong")
print("PASS: guest-sold tickets extracted; totals match the terminal; live disk refused")
