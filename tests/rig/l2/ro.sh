# L2 scenario "ro": a read-only virtio disk. Mounting it read-only and
# reading must work; writing to the raw device must fail. The host checks
# afterwards that the image did not change.
. /scenarios/lib.sh
wait_dev /dev/vda || exit 1
echo "L2-BLOCKDEV-RO $(blockdev --getro /dev/vda)"
mount -t ext4 -o ro /dev/vda /mnt || { echo "L2: mount -o ro /dev/vda failed"; exit 1; }
echo "L2-READ $(cat /mnt/token.txt)"
umount /mnt
if dd if=/dev/zero of=/dev/vda bs=4096 count=1 oflag=direct 2>/tmp/dd.err; then
	echo "L2: dd to the read-only disk succeeded"
	exit 1
fi
echo "L2-WRITE-REFUSED $(head -n 1 /tmp/dd.err)"
exit 0
