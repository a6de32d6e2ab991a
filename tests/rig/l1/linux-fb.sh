# rig-bin: hv/tandem-vmm
# rig-bin: dom0-ui/tandem-screenshot
# An unmodified Linux guest writes stripes derived from a host-chosen token
# to /dev/fb0 (l2/fbpattern.sh); tandem-screenshot captures the display
# through the VMM control socket and the PNG leaves L1 on a raw disk, where
# host/linux-fb.sh checks the stripes' pixels.
. /rig/lib.sh
token=$(rig_data token)
out=$(rig_disk) || rig_fail "no output disk"
[ -x /rig/bin/tandem-screenshot ] || rig_fail "tandem-screenshot is not in the L1 image"
console=$RIG_WORK/linux-fb.console
/rig/bin/tandem-vmm --name linux-fb --kernel "$RIG_L2_KERNEL" --initrd "$RIG_L2_INITRD" \
	--cpus 1 --mem 256M --fb 800x600 --control "$RIG_WORK/ctl.sock" \
	--console "file:$console" \
	--cmdline "console=ttyS0 quiet panic=-1 tandem.scenario=fbpattern tandem.arg=$token" \
	</dev/null 2>"$RIG_WORK/vmm.console" &
pid=$!
i=0
until grep -q L2-FB-READY "$console" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 1200 ] || { kill $pid; rig_fail "the Linux guest never drew its pattern"; }
	kill -0 $pid 2>/dev/null || rig_fail "tandem-vmm exited before the pattern was drawn"
	sleep 0.1
done
sleep 1
/rig/bin/tandem-screenshot --control "$RIG_WORK/ctl.sock" "$RIG_WORK/fb.png" ||
	rig_fail "tandem-screenshot failed"
size=$(wc -c <"$RIG_WORK/fb.png")
{ printf '%016d' "$size"; cat "$RIG_WORK/fb.png"; } | dd of="$out" conv=notrunc 2>/dev/null
sync
wait $pid
rc=$?
[ "$rc" = 0 ] || rig_fail "tandem-vmm exited with status $rc"
rig_expect linux-fb "L2-RESULT fbpattern PASS"
rig_report "linux-fb screenshot $size bytes"
