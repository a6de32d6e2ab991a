# rig-bin: hv/tandem-vmm
# Two unmodified Linux guests under tandem-vmm on one bridge: each has a
# virtio-net NIC on its own TAP, both TAPs are ports of a Linux bridge in
# L1. The server publishes the host's random file (its read-only disk) with
# busybox httpd; the client downloads it with busybox wget and reports the
# SHA-256, which must be the host's.
. /rig/lib.sh
cd "$RIG_WORK" || rig_fail "no work dir"
disk=$(rig_disk) || rig_fail "no virtio disk with serial $RIG_SCENARIO in L1"
want=$(rig_data sha256)

# tunctl makes persistent TAPs, so they can join the bridge before the VMMs
# attach to them (tandem-vmm --net tap= attaches to an existing one).
for t in tnsrv tncli; do
	tunctl -t "$t" >/dev/null || rig_fail "tunctl -t $t failed"
done
brctl addbr tnbr0 || rig_fail "brctl addbr failed (bridge module?)"
# STP is off, so ports forward at once; no forwarding delay either way.
echo 0 >/sys/class/net/tnbr0/bridge/forward_delay 2>/dev/null
for t in tnsrv tncli; do
	brctl addif tnbr0 "$t" || rig_fail "brctl addif tnbr0 $t failed"
	ip link set "$t" up
done
ip link set tnbr0 up

# The server runs in the background; it stops when the client tells it so
# (or after its own timeout).
(rig_boot_l2 tandem server --mem 160M --disk "$disk,ro" --scenario net-serve \
	--arg 10.0.7.1 --timeout 200 --vmm-arg --net --vmm-arg tap=tnsrv,mac=06:54:00:00:07:01
	echo "$RIG_RC" >server.status) >server.log 2>&1 &
server=$!
rig_boot_l2 tandem client --mem 160M --scenario net-fetch --arg 10.0.7.2:10.0.7.1 \
	--timeout 200 --vmm-arg --net --vmm-arg tap=tncli,mac=06:54:00:00:07:02
client_rc=$RIG_RC
wait $server
cat server.log
[ "$client_rc" = 0 ] || rig_fail "client tandem-vmm exited with status $client_rc"
[ "$(cat server.status 2>/dev/null)" = 0 ] || rig_fail "server tandem-vmm exited with status $(cat server.status 2>/dev/null)"
rig_expect server "L2-SERVING $want"
rig_expect client "L2-SHA256 $want"
rig_expect client "L2-RESULT net-fetch PASS"
rig_expect server "L2-DONE fetched"
rig_expect server "L2-RESULT net-serve PASS"
rig_report "net-bridge: $(grep -m1 'L2-PING' client.console)"
