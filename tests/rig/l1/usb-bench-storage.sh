# rig-bin: hv/tandem-vmm
# Benchmark (bench/usb/usb-bench.sh), not a CI test: sequential read of the
# same raw image through the emulated xHCI + USB mass storage (/dev/sda in
# L2) and through virtio-blk (/dev/vda), in separate boots, plus a baseline
# boot that reads nothing. Report lines:
#   BENCH usb-read <dev> <MiB> <seconds>
#   BENCH usb-exits <dev> <exits to userspace - baseline> <MiB>
. /rig/lib.sh
mib=16
for word in $(cat /proc/cmdline); do
	case $word in rig.bench_mib=*) mib=${word#rig.bench_mib=} ;; esac
done
dd if=/dev/zero of="$RIG_WORK/usb.img" bs=1M count=$((mib + 1)) 2>/dev/null
cp "$RIG_WORK/usb.img" "$RIG_WORK/blk.img"
total() { sed -n 's/.*exits to userspace: total \([0-9]*\).*/\1/p' "$RIG_WORK/$1.console" | tail -n 1; }
for run in sda:0 sda:$mib vda:$mib; do
	name=usbbench-${run%%:*}-${run#*:}
	rig_boot_l2 tandem "$name" --mem 256M --scenario usbbench --arg "$run" --timeout 600 \
		--disk "$RIG_WORK/blk.img,ro" --vmm-arg --usb --vmm-arg "storage:$RIG_WORK/usb.img"
	[ "$RIG_RC" = 0 ] || rig_fail "$name: tandem-vmm exited with status $RIG_RC"
	rig_expect "$name" "L2-RESULT usbbench PASS"
	line=$(grep '^L2-USBBENCH' "$RIG_WORK/$name.console")
	set -- $line
	rig_report "BENCH usb-read $2 $3 $(awk -v a="$4" -v b="$5" 'BEGIN { printf "%.2f", b - a }')"
	t=$(total "$name")
	[ -n "$t" ] || rig_fail "$name: no exit counters in the tandem-vmm output"
	[ "$run" = sda:0 ] && base=$t
	[ "$run" != sda:0 ] && rig_report "BENCH usb-exits ${run%%:*} $((t - base)) $mib"
done
