#!/usr/bin/env python3
"""tandemd applies the USB rules to host hotplug: kernel uevents (sent here
on the real NETLINK_KOBJECT_UEVENT socket, as the kernel sends them) for
devices in a sysfs tree (TANDEM_USB_SYSFS, as no USB hardware is here).
A sticky device is offered to its domain's VMM, a denied one is recorded and
never offered, a device with no rule stays on the host, and events for
interfaces or for devices not in sysfs are ignored. Attaching a real device
and its unplug are shown by the rig scenario usb-hotplug."""
import atexit
import os
import shutil
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "toolstack"))
from tstlib import Client, check, run  # noqa: E402

SYSFS = tempfile.mkdtemp(prefix="usbsys-", dir="/tmp")
os.environ["TANDEM_USB_SYSFS"] = SYSFS  # tandemd inherits it
atexit.register(shutil.rmtree, SYSFS, True)
USBDEV = 'usbdev = [ "vendorid=0x1209,productid=0x0003" ]\n'


def fake_device(name, vid, pid, cls):
    d = os.path.join(SYSFS, name)
    os.makedirs(d)
    os.makedirs(d + ":1.0")
    for leaf, val in (("idVendor", vid), ("idProduct", pid), ("bDeviceClass", "00")):
        with open(os.path.join(d, leaf), "w") as f:
            f.write(val + "\n")
    with open(os.path.join(d + ":1.0", "bInterfaceClass"), "w") as f:
        f.write(cls + "\n")


def uevent(action, name, devtype="usb_device"):
    path = f"/devices/pci0000:00/0000:00:1d.0/usb1/{name}"
    keys = [f"{action}@{path}", f"ACTION={action}", f"DEVPATH={path}", "SUBSYSTEM=usb",
            f"DEVTYPE={devtype}", "SEQNUM=1"]
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 15)  # NETLINK_KOBJECT_UEVENT
    s.bind((0, 0))
    try:
        s.sendto(b"\0".join(k.encode() for k in keys) + b"\0", (0, 1))
    except PermissionError:
        print("SKIP: sending uevents needs CAP_NET_ADMIN")
        sys.exit(77)
    finally:
        s.close()


def usb_events(c, after, want, timeout=20):
    deadline = time.time() + timeout
    while True:
        evs = [e for e in c.call("events", after=after)["events"] if e["kind"].startswith("usb-")]
        if len(evs) >= want or time.time() > deadline:
            return evs
        time.sleep(0.05)


def main(env):
    c = Client(env.sock)
    env.cli("create", env.config("l2a", extra=USBDEV))
    fake_device("1-7", "46f4", "0001", "08")
    fake_device("1-8", "dead", "beef", "08")
    fake_device("1-9", "1234", "5678", "03")
    c.call("usb-policy", rules=[{"match": "path:1-7", "action": "sticky:l2a"},
                                {"match": "dead:beef", "action": "deny"}])
    first = c.call("events", limit=10000)["events"]
    after = first[-1]["id"] if first else 0

    # Ignored: an interface, a device not in sysfs, an unknown action.
    uevent("add", "1-7:1.0", devtype="usb_interface")
    uevent("add", "3-1")
    uevent("change", "1-7")
    # Sticky: offered to l2a's VMM (which has no such host device here, so
    # its usb-attach fails; tandemd tries again for a few seconds, as the
    # VMM's libusb may hear of a new device later than tandemd, then records
    # the failure).
    uevent("add", "1-7")
    evs = usb_events(c, after, 2)
    seq = [(e["kind"], e["domain"]) for e in evs]
    check(seq == [("usb-hotplug", "l2a"), ("usb-error", "l2a")], f"sticky hotplug: {evs}")
    check("host:1-7" in evs[0]["detail"] and "usb-attach failed" in evs[1]["detail"],
          f"sticky hotplug details: {evs}")
    check(evs[1]["time"] - evs[0]["time"] >= 3, f"no retries before giving up: {evs}")
    after = evs[-1]["id"]

    # Denied: recorded, never offered to a VMM.
    uevent("add", "1-8")
    evs = usb_events(c, after, 1)
    check([e["kind"] for e in evs] == ["usb-denied"] and "host:1-8" in evs[0]["detail"],
          f"denied hotplug: {evs}")
    after = evs[-1]["id"]

    # No rule: stays on the host, and the decision is recorded.
    uevent("add", "1-9")
    evs = usb_events(c, after, 1)
    check([e["kind"] for e in evs] == ["usb-hotplug"] and "left on the host" in evs[0]["detail"],
          f"no-rule hotplug: {evs}")
    after = evs[-1]["id"]

    # Focused: goes to the focused domain.
    c.call("usb-policy", rules=[{"match": "class:3", "action": "focused"}], focused="l2a")
    uevent("add", "1-9")
    evs = usb_events(c, after, 2)
    seq = [(e["kind"], e["domain"]) for e in evs]
    check(seq == [("usb-hotplug", "l2a"), ("usb-error", "l2a")], f"focused hotplug: {evs}")
    time.sleep(0.3)
    late = [e for e in c.call("events", after=evs[-1]["id"])["events"]
            if e["kind"].startswith("usb-")]
    check(not late, f"events for ignored uevents: {late}")
    r = [d for d in c.call("usb-list")["devices"] if d["device"] == "host:1-9"]
    check(len(r) == 1 and r[0]["owner"] is None, f"failed attach left an owner: {r}")


if __name__ == "__main__":
    sys.exit(run(main))
