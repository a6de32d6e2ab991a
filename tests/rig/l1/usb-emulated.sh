# rig-bin: hv/tandem-vmm
# An unmodified Debian kernel drives tandem-vmm's emulated xHCI with the
# keyboard, a disk (the raw virtio disk run.sh attached to L1, handed over
# as a block device) and a printer spooling to a file in L1. L2 enumerates
# them, writes a token to the disk (host/usb-emulated.sh finds it in the
# image) and prints one (checked here in the spool file).
. /rig/lib.sh
disk=$(rig_disk) || rig_fail "no virtio disk with serial $RIG_SCENARIO in L1"
token=$(rig_data token)
write=$(rig_data write-token)
spool=$RIG_WORK/lp0.spool
rig_boot_l2 tandem l2 --mem 256M --scenario usb --arg "$write" --timeout 150 \
	--vmm-arg --usb --vmm-arg kbd --vmm-arg --usb --vmm-arg "storage:$disk" \
	--vmm-arg --usb --vmm-arg "printer:$spool"
[ "$RIG_RC" = 0 ] || rig_fail "tandem-vmm exited with status $RIG_RC"
rig_expect l2 "L2-USB 1209:0001"
rig_expect l2 "L2-USB 1209:0002"
rig_expect l2 "L2-USB 1209:0003"
rig_expect l2 "L2-BOUND usbhid usb-storage usblp"
rig_expect l2 "L2-READ $token"
rig_expect l2 "L2-WROTE $write"
rig_expect l2 "L2-RESULT usb PASS"
grep -qx "RECEIPT $write" "$spool" || rig_fail "the spool file has '$(head -c 200 "$spool")', expected 'RECEIPT $write'"
