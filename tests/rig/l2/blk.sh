# L2 scenario "blk": SMP and a writable ext4 virtio disk.
# $1 is "NCPUS:TOKEN": the CPU count to expect and the text to write into
# /written.txt. The L1 script checks the L2-READ line against the content it
# put in /token.txt; the host checks /written.txt in the image afterwards.
. /scenarios/lib.sh
want_cpus=${1%%:*}
token=${1#*:}
cpus=$(grep -c '^processor' /proc/cpuinfo)
echo "L2-CPUS $cpus"
[ "$cpus" = "$want_cpus" ] || { echo "L2: expected $want_cpus CPUs, found $cpus"; exit 1; }
wait_dev /dev/vda || exit 1
mount -t ext4 /dev/vda /mnt || { echo "L2: mount /dev/vda failed"; exit 1; }
echo "L2-READ $(cat /mnt/token.txt)"
echo "$token" >/mnt/written.txt || { echo "L2: write failed"; exit 1; }
sync
umount /mnt || { echo "L2: umount failed"; exit 1; }
echo "L2-WROTE $token"
exit 0
