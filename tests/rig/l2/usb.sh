# L2 scenario "usb": the emulated xHCI with Tandem's keyboard, disk and
# printer. $1 is the token to write to /written.txt on the USB disk and to
# print. Linux's xhci_hcd must enumerate all three (sysfs IDs and bound
# drivers); the host checks the disk image, the L1 script the spool file.
. /scenarios/lib.sh
token=$1

# Prints the sysfs directory of the USB device with vendor 1209 and product
# $1 once it appears (up to 10 s).
find_usb() {
	i=0
	while [ $i -lt 100 ]; do
		for d in /sys/bus/usb/devices/*; do
			[ -f "$d/idVendor" ] || continue
			if [ "$(cat "$d/idVendor")" = 1209 ] && [ "$(cat "$d/idProduct")" = "$1" ]; then
				echo "$d"
				return 0
			fi
		done
		i=$((i + 1))
		sleep 0.1
	done
	echo "L2: no USB device 1209:$1 in sysfs" >&2
	return 1
}

# Waits until interface 0 of device $1 is bound to driver $2.
bound() {
	i=0
	while [ $i -lt 100 ]; do
		drv=$(readlink "$1:1.0/driver" 2>/dev/null)
		[ "${drv##*/}" = "$2" ] && return 0
		i=$((i + 1))
		sleep 0.1
	done
	echo "L2: ${1##*/}:1.0 is bound to '${drv##*/}', expected $2"
	return 1
}

for p in 0001 0002 0003; do
	d=$(find_usb $p) || exit 1
	echo "L2-USB 1209:$p $(cat "$d/product") speed=$(cat "$d/speed")"
done
kbd=$(find_usb 0001) && bound "$kbd" usbhid || exit 1
disk=$(find_usb 0002) && bound "$disk" usb-storage || exit 1
lp=$(find_usb 0003) && bound "$lp" usblp || exit 1
echo "L2-BOUND usbhid usb-storage usblp"

wait_dev /dev/sda || exit 1
mount -t ext4 /dev/sda /mnt || { echo "L2: mount /dev/sda failed"; exit 1; }
echo "L2-READ $(cat /mnt/token.txt)"
echo "$token" >/mnt/written.txt || { echo "L2: write failed"; exit 1; }
# A write larger than one TD (4 MiB) in several commands.
dd if=/dev/zero of=/mnt/big bs=1M count=6 2>/dev/null || { echo "L2: big write failed"; exit 1; }
sync
umount /mnt || { echo "L2: umount failed"; exit 1; }
echo "L2-WROTE $token"

i=0
while [ ! -c /dev/usb/lp0 ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "L2: /dev/usb/lp0 did not appear"; exit 1; }
	sleep 0.1
done
echo "RECEIPT $token" >/dev/usb/lp0 || { echo "L2: printing failed"; exit 1; }
echo "L2-PRINTED $token"
exit 0
