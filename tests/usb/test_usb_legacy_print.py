#!/usr/bin/env python3
"""The legacy guest on /dev/kvm with the emulated USB printer on PV USB
(--usb printer:PATH) and no spool printer: a ticket sold at the terminal
comes out of the USB printer's spool file. Then the printer is unplugged
through the VMM's control socket (usb-detach): the next ticket falls back to
the PV spool printer when the domain has one, and plugging a printer back
in (usb-attach) brings the receipts back to USB. The VMM's stats show the
PV USB requests, and its usb-list the device."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "legacy"))
from legacy_harness import Legacy, fail, login, mkdisk, sell, skip_without_kvm, workdir  # noqa: E402


def read(path):
    try:
        with open(path, encoding="cp850") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def wait_text(path, text, timeout=20):
    """The terminal shows SAVED before it prints: wait for the receipt."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in read(path):
            return True
        time.sleep(0.05)
    return False


def check_vmm(vm, cmd, **args):
    r = vm.ctl.call(cmd, **args)
    if not r.get("ok"):
        fail("%s %s: %s\n%s" % (cmd, args, r, vm.output()))
    return r


skip_without_kvm()
vm = None
try:
    wd = workdir()
    disk = os.path.join(wd, "data.img")
    usb_spool = os.path.join(wd, "usb-lp.txt")
    usb_spool2 = os.path.join(wd, "usb-lp2.txt")
    mkdisk(disk)
    # The PV spool printer is there too: it must stay empty while the USB
    # printer is attached.
    vm = Legacy(disk, extra=["--usb", "printer:" + usb_spool])
    vm.connect()
    devs = check_vmm(vm, "usb-list")["devices"]
    if [d["id"] for d in devs] != ["1209:0003"] or devs[0]["port"] != 1:
        fail("VMM usb-list: %s" % devs)
    login(vm)
    vm.type("1")
    vm.wait_screen("SELL TICKET")
    vm.wait_screen("Race 03  Solvalla")
    sell(vm, 1, 1, "20", "TICKET 000001 SAVED")
    wait_text(usb_spool, "END TICKET 000001")
    text = read(usb_spool)
    if "TANDEM TOTE RECEIPT" not in text or "END TICKET 000001" not in text or \
            "Åskväder" not in text:
        fail("receipt 1 missing from the USB printer's spool:\n%r\n%s" % (text, vm.output()))
    if read(vm.spool):
        fail("the PV spool printer got a receipt while the USB printer was attached")
    if "usbfront: printer MFG:Tandem;MDL:Spool Printer" not in vm.output():
        fail("the frontend did not read the printer's device ID:\n" + vm.output())
    stats = check_vmm(vm, "stats")
    pv = stats.get("pvusb", {})
    if pv.get("completed", 0) < 5 or pv.get("rejected") != 0 or pv.get("bytes", 0) < len(text):
        fail("pvusb stats: %s" % pv)

    # Unplugged: the next receipt goes to the PV spool printer.
    check_vmm(vm, "usb-detach", port=1)
    if check_vmm(vm, "usb-list")["devices"]:
        fail("usb-list after usb-detach is not empty")
    sell(vm, 2, 1, "35.50", "TICKET 000002 SAVED")
    if not wait_text(vm.spool, "END TICKET 000002"):
        fail("receipt 2 did not fall back to the spool printer:\n%s" % vm.output())
    if "END TICKET 000002" in read(usb_spool):
        fail("receipt 2 reached a detached USB printer")

    # Another USB printer plugged in: receipts go there.
    r = check_vmm(vm, "usb-attach", spec="printer:" + usb_spool2)
    if r.get("port") != 1:
        fail("usb-attach: %s" % r)
    sell(vm, 3, 3, "100", "TICKET 000003 SAVED")
    if not wait_text(usb_spool2, "END TICKET 000003"):
        fail("receipt 3 missing from the new USB printer:\n%r\n%s" % (read(usb_spool2),
                                                                      vm.output()))
    if "END TICKET 000003" in read(vm.spool):
        fail("receipt 3 went to the spool printer although a USB printer is attached")
    rc = vm.stop()
    if rc != 0:
        fail("tandem-vmm exit %d after shutdown:\n%s" % (rc, vm.output()))
    if "sandbox: blocked" in vm.output():
        fail("the sandbox blocked a call:\n" + vm.output())
    print("PASS: receipts on the PV USB printer, spool fallback when unplugged, re-attach")
finally:
    if vm and vm.proc.poll() is None:
        vm.kill()
