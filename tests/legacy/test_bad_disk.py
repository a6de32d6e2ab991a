"""Corrupt and foreign data disks are refused with a clear on-screen error."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from legacy_harness import Legacy, fail, mkdisk, skip_without_kvm, workdir  # noqa: E402

skip_without_kvm()
work = workdir()


def expect_refusal(disk, text):
    vm = Legacy(disk)
    try:
        vm.connect()
        lines = vm.wait_screen(text)
        if not any("DATA DISK REFUSED" in l for l in lines):
            fail("%s: no refusal title on screen:\n%s" % (disk, "\n".join(lines)))
        if not vm.wait_output(text):
            fail("%s: console log lacks %r:\n%s" % (disk, text, vm.output()))
        vm.type("1001\n")  # input must not get past the refusal screen
        time.sleep(0.3)
        if any("MAIN MENU" in l or "OPERATOR LOGIN" in l for l in vm.ctl.screen()):
            fail("refused disk still reached the application")
        vm.stop()
    finally:
        if vm.proc.poll() is None:
            vm.kill()


blank = os.path.join(work, "zero.img")
with open(blank, "wb") as f:
    f.truncate(16 << 20)
expect_refusal(blank, "no boot sector signature")

foreign = os.path.join(work, "foreign.img")
subprocess.run(["mkfs.fat", "-F", "16", "-C", foreign, "16384"], check=True,
               capture_output=True)
expect_refusal(foreign, "NOT A TANDEM DATA DISK: RACECARD.DAT missing")

floppy = os.path.join(work, "floppy.img")
subprocess.run(["mkfs.fat", "-F", "12", "-C", floppy, "1440"], check=True, capture_output=True)
expect_refusal(floppy, "not a FAT16 volume")

bad_bpb = os.path.join(work, "badbpb.img")
mkdisk(bad_bpb)
with open(bad_bpb, "r+b") as f:
    f.seek(13)
    f.write(b"\x03")  # sectors per cluster: not a power of two
expect_refusal(bad_bpb, "bad BIOS parameter block")

bad_card = os.path.join(work, "badcard.img")
mkdisk(bad_card)
junk = os.path.join(work, "RACECARD.DAT")
open(junk, "wb").write(b"x" * 47)
subprocess.run(["mcopy", "-o", "-i", bad_card, junk, "::RACECARD.DAT"], check=True)
expect_refusal(bad_card, "DATA DISK CORRUPT: RACECARD.DAT line 1 malformed")
print("PASS: corrupt and foreign disks refused with clear errors")
