"""Boot the legacy guest, log in and sell three tickets by keystrokes; the
screen shows each confirmation and the receipts reach the printer spool."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from legacy_harness import Legacy, fail, login, mkdisk, sell, skip_without_kvm, workdir  # noqa: E402

skip_without_kvm()
vm = None
try:
    disk = os.path.join(workdir(), "data.img")
    mkdisk(disk)
    vm = Legacy(disk)
    vm.connect()
    login(vm)
    vm.type("1")
    vm.wait_screen("SELL TICKET")
    screen = "\n".join(vm.wait_screen("Race 03  Solvalla"))  # drawn last
    if "Race 01  Örebro" not in screen or "Race 02  Åby" not in screen:
        fail("race card not shown with accented track names:\n" + screen)
    sell(vm, 1, 1, "20", "TICKET 000001 SAVED: Örebro R01 #01 Åskväder SEK 20.00")
    sell(vm, 2, 1, "35.50", "TICKET 000002 SAVED: Åby R02 #01 Östanvind SEK 35.50")
    lines = sell(vm, 3, 3, "100", "TICKET 000003 SAVED: Solvalla R03 #03 Snöstorm SEK 100.00")
    if not any("Operator 1001 Åsa Öberg" in l for l in lines):
        fail("operator name missing from the sell screen:\n" + "\n".join(lines))
    rc = vm.stop()
    if rc != 0:
        fail("tandem-vmm exit %d after shutdown:\n%s" % (rc, vm.output()))
    spool = open(vm.spool, encoding="cp850").read()
    for n, runner in ((1, "Åskväder"), (2, "Östanvind"), (3, "Snöstorm")):
        if "END TICKET %06u" % n not in spool or runner not in spool:
            fail("receipt %d (%s) missing from the spool:\n%s" % (n, runner, spool))
    print("PASS: three tickets sold, confirmed on screen and printed")
finally:
    if vm and vm.proc.poll() is None:
        vm.kill()
