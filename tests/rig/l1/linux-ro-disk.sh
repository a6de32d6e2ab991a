# rig-bin: hv/tandem-vmm
# A disk given as PATH,ro: L2 can mount it read-only and read it, but a raw
# write to /dev/vda fails; host/linux-ro-disk.sh checks that the image is
# byte-for-byte unchanged. The L1 disk itself is writable, so only the
# VMM stands between the guest and the image.
. /rig/lib.sh
disk=$(rig_disk) || rig_fail "no virtio disk with serial $RIG_SCENARIO in L1"
token=$(rig_data token)
rig_boot_l2 "${RIG_VMM:-tandem}" l2 --cpus 1 --mem 256M --disk "$disk,ro" \
	--scenario ro --timeout 120
[ "$RIG_RC" = 0 ] || rig_fail "${RIG_VMM:-tandem} exited with status $RIG_RC"
rig_expect l2 "L2-READ $token"
rig_expect l2 "L2-WRITE-REFUSED"
rig_expect l2 "L2-RESULT ro PASS"
