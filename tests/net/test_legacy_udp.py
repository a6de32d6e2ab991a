"""The legacy guest's PV network end to end on /dev/kvm: virtio-net on the
PV bus, libslirp behind it (--net user), the guest's own ARP/IPv4/UDP stack.
NET.CFG on the data disk points the sale summaries at a UDP listener on the
host's 127.0.0.1 (slirp's 10.0.2.2); after each sale the listener must get
"TANDEM-SALE 1\\r\\n" followed by exactly the record the guest wrote to
TICKETS.DAT, and the VMM's stats count the frames. A NET.CFG with a bad line leaves the network off with a
one-line reason, and the terminal still sells."""
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "legacy"))
from legacy_harness import Legacy, fail, login, mkdisk, sell, skip_without_kvm, workdir  # noqa: E402

MAGIC = b"TANDEM-SALE 1\r\n"


def put_cfg(img, text):
    path = os.path.join(os.path.dirname(img), "NET.CFG")
    with open(path, "w") as f:
        f.write(text)
    r = subprocess.run(["mcopy", "-o", "-i", img, path, "::NET.CFG"], capture_output=True,
                       text=True, env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    if r.returncode != 0:
        fail("mcopy NET.CFG: " + r.stderr)


def ticket_records(img):
    r = subprocess.run(["mtype", "-i", img, "::TICKETS.DAT"], capture_output=True,
                       env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    if r.returncode != 0:
        fail("mtype TICKETS.DAT: %s" % r.stderr)
    return [r.stdout[i:i + 64] for i in range(0, len(r.stdout) - 63, 64)]


def receive(sock, vm, what):
    sock.settimeout(30)
    try:
        data, _ = sock.recvfrom(2048)
    except socket.timeout:
        fail("no summary datagram for %s within 30 s\n%s" % (what, vm.output()))
    return data


skip_without_kvm()
vm = None
listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
listener.bind(("127.0.0.1", 0))
port = listener.getsockname()[1]
try:
    disk = os.path.join(workdir(), "data.img")
    mkdisk(disk)
    put_cfg(disk, "# legacy guest network\r\nADDRESS=10.0.2.15/24\r\nGATEWAY=10.0.2.2\r\n"
                  "SUMMARY=10.0.2.2:%d\r\n" % port)
    vm = Legacy(disk, extra=["--net", "user"])
    vm.connect()
    if not vm.wait_output("legacy: net up 10.0.2.15 mac 06:54:", 30):
        fail("the guest did not bring its network up:\n" + vm.output())
    login(vm)
    vm.type("1")
    vm.wait_screen("SELL TICKET")
    vm.wait_screen("Race 03  Solvalla")
    sell(vm, 1, 1, "20", "TICKET 000001 SAVED")
    first = receive(listener, vm, "ticket 1")
    sell(vm, 3, 3, "100", "TICKET 000002 SAVED")
    second = receive(listener, vm, "ticket 2")
    # Per-NIC counters in the VMM's stats: at least the ARP request and both
    # datagrams went out, and slirp's ARP reply came in.
    st = vm.ctl.call("stats")
    nets = st.get("net") or [{}]
    if len(st.get("net", [])) != 1 or nets[0].get("tx_packets", 0) < 3 or \
            nets[0].get("rx_packets", 0) < 1 or nets[0].get("tx_errors") != 0:
        fail("stats 'net' does not show the traffic: %s" % st.get("net"))
    rc = vm.stop()
    if rc != 0:
        fail("tandem-vmm exit %d after shutdown:\n%s" % (rc, vm.output()))
    recs = ticket_records(disk)
    if len(recs) != 2:
        fail("TICKETS.DAT holds %d records, expected 2" % len(recs))
    for n, (got, rec) in enumerate(((first, recs[0]), (second, recs[1])), 1):
        if got != MAGIC + rec:
            fail("summary of ticket %d is %r, expected %r" % (n, got, MAGIC + rec))
    if not recs[1].startswith(b"000002") or b" 00010000 " not in recs[1]:
        fail("ticket 2's record does not show the sale: %r" % recs[1])
    print("PASS: both sale summaries arrived intact (%d bytes each)" % len(first))
    vm = None

    # A bad line: the network stays off, with the reason; sales go on.
    disk2 = os.path.join(workdir(), "bad.img")
    mkdisk(disk2)
    put_cfg(disk2, "ADDRESS=10.0.2.15/24\nSUMMARY=10.0.2.2:99999\n")
    vm = Legacy(disk2, extra=["--net", "user"])
    vm.connect()
    login(vm)
    if "NET.CFG line 2: SUMMARY must be A.B.C.D:PORT, network off" not in vm.output():
        fail("bad NET.CFG not reported:\n" + vm.output())
    vm.type("1")
    vm.wait_screen("Race 03  Solvalla")
    sell(vm, 1, 1, "20", "TICKET 000001 SAVED")
    if vm.stop() != 0:
        fail("tandem-vmm failed with a bad NET.CFG:\n" + vm.output())
    print("PASS: a bad NET.CFG line is reported and the terminal still sells")
finally:
    if vm and vm.proc.poll() is None:
        vm.kill()
