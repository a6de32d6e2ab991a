# rig-bin: hv/tandem-vmm
# Userspace exits per virtio-blk 4 KiB read and per completion interrupt:
# two boots of the same guest, one reading N pages, one reading none; the
# difference of tandem-vmm's exit counters, divided by N.
. /rig/lib.sh
dd if=/dev/zero of="$RIG_WORK/disk.img" bs=1M count=32 2>/dev/null
n=2000
for reads in 0 $n; do
	/rig/bin/tandem-vmm --kernel "$RIG_L2_KERNEL" --initrd "$RIG_L2_INITRD" --mem 256M \
		--disk "$RIG_WORK/disk.img,ro" --console "file:$RIG_WORK/blk$reads.console" \
		--cmdline "console=ttyS0 quiet panic=-1 tandem.scenario=blkread tandem.arg=$reads" \
		</dev/null 2>"$RIG_WORK/vmm$reads.console" || rig_fail "tandem-vmm failed ($reads reads)"
	grep -q "L2-BLKREAD $reads" "$RIG_WORK/blk$reads.console" || rig_fail "no L2-BLKREAD $reads"
done
field() { sed -n "s/.*exits to userspace: .*$1 \([0-9]*\).*/\1/p" "$RIG_WORK/vmm$2.console"; }
irq() { sed -n 's/.*interrupts raised from userspace \([0-9]*\).*/\1/p' "$RIG_WORK/vmm$1.console"; }
t0=$(field total 0) t1=$(field total $n)
[ -n "$t0" ] && [ -n "$t1" ] || rig_fail "no exit counters in the tandem-vmm output"
rig_report "blk exits: baseline total $t0, with $n reads total $t1"
rig_report "blk exits per 4 KiB read: $(awk -v a="$t0" -v b="$t1" -v n=$n 'BEGIN { printf "%.3f", (b - a) / n }')"
rig_report "blk userspace-raised interrupts per read: $(awk -v a="$(irq 0)" -v b="$(irq $n)" -v n=$n 'BEGIN { printf "%.3f", (b - a) / n }')"
