# rig-bin: hv/tandem-vmm
# An unmodified Debian kernel on a qcow2 overlay (format probed by
# tandem-vmm) whose backing file is a raw ext4 image. Both arrive as raw
# disks and are copied into L1's RAM; L2 reads the base's token and writes
# another file; the images go back to the host as a tar on a third disk.
. /rig/lib.sh
base=$(rig_disk storage-overlay-base) || rig_fail "no base disk in L1"
ovl=$(rig_disk storage-overlay) || rig_fail "no overlay disk in L1"
out=$(rig_disk storage-overlay-out) || rig_fail "no output disk in L1"
dir=/tmp/storage-overlay
mkdir -p $dir
cat "$base" >$dir/base.img || rig_fail "copy of the base failed"
cat "$ovl" >$dir/overlay.qcow2 || rig_fail "copy of the overlay failed"
token=$(rig_data token)
write=$(rig_data write-token)
rig_boot_l2 tandem l2 --mem 256M --disk $dir/overlay.qcow2 \
	--scenario blk --arg "1:$write" --timeout 150
[ "$RIG_RC" = 0 ] || rig_fail "tandem-vmm exited with status $RIG_RC"
rig_expect l2 "L2-READ $token"
rig_expect l2 "L2-WROTE $write"
rig_expect l2 "L2-RESULT blk PASS"
(cd $dir && tar -cf "$out" base.img overlay.qcow2) || rig_fail "tar of the images failed"
sync
