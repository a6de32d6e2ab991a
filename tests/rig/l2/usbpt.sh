# L2 scenario "usbpt": a passed-through USB stick (QEMU's usb-storage,
# 46f4:0001, forwarded from L1 with libusb). $1 is the token to write to
# /written.txt. After writing, wait for the L1 script to unplug it.
. /scenarios/lib.sh
token=$1
stick=""
i=0
while [ -z "$stick" ] && [ $i -lt 150 ]; do
	for d in /sys/bus/usb/devices/*; do
		[ "$(cat "$d/idVendor" 2>/dev/null)" = 46f4 ] && stick=$d
	done
	i=$((i + 1))
	[ -n "$stick" ] || sleep 0.1
done
[ -n "$stick" ] || { echo "L2: no passed-through stick (46f4) in sysfs"; exit 1; }
echo "L2-USB $(cat "$stick/idVendor"):$(cat "$stick/idProduct") $(cat "$stick/product")"
wait_dev /dev/sda || exit 1
mount -t ext4 /dev/sda /mnt || { echo "L2: mount /dev/sda failed"; exit 1; }
echo "L2-READ $(cat /mnt/token.txt)"
echo "$token" >/mnt/written.txt || { echo "L2: write failed"; exit 1; }
sync
umount /mnt || { echo "L2: umount failed"; exit 1; }
echo "L2-WROTE $token"
i=0
while [ -d "$stick" ]; do
	i=$((i + 1))
	[ $i -gt 300 ] && { echo "L2: the stick is still there 30 s later"; exit 1; }
	sleep 0.1
done
echo "L2-REMOVED"
exit 0
