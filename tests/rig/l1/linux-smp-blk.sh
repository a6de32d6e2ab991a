# rig-bin: hv/tandem-vmm
# An unmodified Debian kernel with 2 vCPUs, 512 MiB and a writable ext4
# virtio disk (the raw disk run.sh attached to L1, so the host can inspect
# it afterwards). L2 must see both CPUs, read the token the host wrote and
# write another one; host/linux-smp-blk.sh checks that one in the image.
# RIG_VMM selects the VMM (qemu-reference runs this script with qemu).
. /rig/lib.sh
disk=$(rig_disk) || rig_fail "no virtio disk with serial $RIG_SCENARIO in L1"
token=$(rig_data token)
write=$(rig_data write-token)
rig_boot_l2 "${RIG_VMM:-tandem}" l2 --cpus 2 --mem 512M --disk "$disk" \
	--scenario blk --arg "2:$write" --timeout 150
[ "$RIG_RC" = 0 ] || rig_fail "${RIG_VMM:-tandem} exited with status $RIG_RC"
rig_expect l2 "L2-CPUS 2"
rig_expect l2 "L2-READ $token"
rig_expect l2 "L2-WROTE $write"
rig_expect l2 "L2-RESULT blk PASS"
