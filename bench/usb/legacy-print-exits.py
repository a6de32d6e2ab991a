#!/usr/bin/env python3
"""Userspace exits per receipt printed over PV USB by the legacy guest on
/dev/kvm: sells N tickets with the emulated USB printer attached and
reports, per receipt, the VMM's hypercall exits (stats "legacy") and PV USB
requests (stats "pvusb"), against the same sale with the spool printer
(--printer, PRINTER_WRITE).

usage: TANDEM_BUILD=build bench/usb/legacy-print-exits.py [N]"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "legacy"))
from legacy_harness import Legacy, login, mkdisk, sell, workdir  # noqa: E402


def hypercalls(vm):
    return sum(vm.ctl.call("stats")["legacy"]["hypercalls"].values())


def run(n, usb):
    wd = workdir()
    disk = os.path.join(wd, "data.img")
    mkdisk(disk)
    spool = os.path.join(wd, "usb.txt")
    vm = Legacy(disk, printer=not usb, extra=["--usb", "printer:" + spool] if usb else [])
    vm.connect()
    login(vm)
    vm.type("1")
    vm.wait_screen("Race 03  Solvalla")
    sell(vm, 1, 1, "20", "TICKET 000001 SAVED")  # the first one claims the printer
    target = spool if usb else vm.spool
    while "END TICKET 000001" not in open(target, encoding="cp850").read():
        time.sleep(0.05)
    h0 = hypercalls(vm)
    r0 = vm.ctl.call("stats").get("pvusb", {}).get("requests", 0)
    t0 = time.time()
    for i in range(2, n + 2):
        sell(vm, 1, 1, "20", "TICKET %06u SAVED" % i)
        while "END TICKET %06u" % i not in open(target, encoding="cp850").read():
            time.sleep(0.01)
    dt = time.time() - t0
    h1 = hypercalls(vm)
    r1 = vm.ctl.call("stats").get("pvusb", {}).get("requests", 0)
    vm.stop()
    return (h1 - h0) / n, (r1 - r0) / n, dt / n


n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
for usb in (False, True):
    h, r, t = run(n, usb)
    print("%s: %.1f hypercall exits per sale (typing included), %.1f PV USB requests per "
          "receipt, %.2f s per sale" % ("PV USB printer" if usb else "spool printer", h, r, t))
