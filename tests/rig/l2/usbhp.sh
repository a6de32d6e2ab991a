# L2 scenario "usbhp": a USB stick that tandemd in L1 attached when it was
# hot-plugged into L1 (QEMU's usb-storage, 46f4:0001, serial HPSTICK). Reads
# /token.txt, then waits for the unplug.
. /scenarios/lib.sh
stick=""
i=0
while [ -z "$stick" ] && [ $i -lt 1200 ]; do
	for d in /sys/bus/usb/devices/*; do
		[ "$(cat "$d/serial" 2>/dev/null)" = HPSTICK ] && stick=$d
	done
	i=$((i + 1))
	[ -n "$stick" ] || sleep 0.1
done
[ -n "$stick" ] || { echo "L2: no hot-plugged stick (HPSTICK) in sysfs after 120 s"; exit 1; }
echo "L2-USB $(cat "$stick/idVendor"):$(cat "$stick/idProduct") $(cat "$stick/serial")"
wait_dev /dev/sda || exit 1
mount -t ext4 -o ro /dev/sda /mnt || { echo "L2: mount /dev/sda failed"; exit 1; }
echo "L2-READ $(cat /mnt/token.txt)"
umount /mnt
i=0
while [ -d "$stick" ]; do
	i=$((i + 1))
	[ $i -gt 600 ] && { echo "L2: the stick is still there 60 s after reading"; exit 1; }
	sleep 0.1
done
echo "L2-REMOVED"
exit 0
