# L2 scenario "blkread": N single-page reads from /dev/vda (readahead off, so
# each is one 4 KiB virtio-blk request); N = tandem.arg (default 0, the baseline).
n=${1:-0}
echo 0 >/sys/block/vda/queue/read_ahead_kb
dd if=/dev/vda of=/dev/null bs=4096 count="$n" 2>/dev/null
echo "L2-BLKREAD $n"
grep -h virtio /proc/interrupts | head -n 4
