# L2 scenario "usbbench" (bench/usb): $1 = DEV:MIB. Reads MIB MiB in 64 KiB
# blocks from /dev/DEV (sda: the emulated USB disk behind xHCI and
# usb-storage; vda: the same image on virtio-blk), page cache dropped first,
# timed with /proc/uptime. MIB 0 is the baseline boot for exit counts.
. /scenarios/lib.sh
dev=${1%%:*}
mib=${1#*:}
wait_dev /dev/vda || exit 1
wait_dev /dev/sda || exit 1
echo 3 >/proc/sys/vm/drop_caches
a=$(cut -d' ' -f1 /proc/uptime)
dd if=/dev/$dev of=/dev/null bs=65536 count=$((mib * 16)) 2>/dev/null || { echo "L2: dd failed"; exit 1; }
b=$(cut -d' ' -f1 /proc/uptime)
echo "L2-USBBENCH $dev $mib $a $b"
