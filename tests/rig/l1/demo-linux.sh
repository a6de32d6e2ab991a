# rig-bin: hv/tandem-vmm
# rig-bin: dom0-ui/tandem-screenshot
# The main job's Linux half (tools/demo.sh): an unmodified Debian kernel with
# a framebuffer, its console drawn by fbcon; tandem-screenshot captures the
# display through the VMM control socket and the PNG leaves L1 on a raw disk.
. /rig/lib.sh
out=$(rig_disk) || rig_fail "no output disk"
console=$RIG_WORK/linux1.console
/rig/bin/tandem-vmm --name linux1 --kernel "$RIG_L2_KERNEL" --initrd "$RIG_L2_INITRD" \
	--cpus 2 --mem 512M --fb 800x600 --control "$RIG_WORK/ctl.sock" \
	--console "file:$console" \
	--cmdline "console=tty0 console=ttyS0 panic=-1 tandem.scenario=demo" </dev/null \
	2>"$RIG_WORK/vmm.console" &
pid=$!
i=0
until grep -q L2-DEMO-READY "$console" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 1200 ] || { kill $pid; rig_fail "the Linux guest never became ready"; }
	kill -0 $pid 2>/dev/null || rig_fail "tandem-vmm exited before the guest was ready"
	sleep 0.1
done
sleep 1
/rig/bin/tandem-screenshot --control "$RIG_WORK/ctl.sock" "$RIG_WORK/linux1.png" ||
	rig_fail "tandem-screenshot failed"
size=$(wc -c <"$RIG_WORK/linux1.png")
{ printf '%016d' "$size"; cat "$RIG_WORK/linux1.png"; } | dd of="$out" conv=notrunc 2>/dev/null
sync
wait $pid
rc=$?
[ "$rc" = 0 ] || rig_fail "tandem-vmm exited with status $rc"
rig_report "demo-linux screenshot $size bytes"
