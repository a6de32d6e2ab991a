# rig-bin: hv/tandem-vmm
# rig-bin: tests/usb/vmmctl
# A real USB stick in L1 (QEMU's usb-storage on qemu-xhci, driven by L1's
# xhci_hcd and usb-storage) is passed to L2 with tandem-vmm --usb host:PATH
# (libusb). L2 mounts it, reads the host's token and writes another; then
# usb-detach on the control socket unplugs it: L2 must see it go, and L1's
# usb-storage must bind it again.
. /rig/lib.sh
token=$(rig_data token)
write=$(rig_data write-token)

# The stick in L1's sysfs: QEMU's usb-storage is 46f4:0001.
stick=""
i=0
while [ -z "$stick" ] && [ $i -lt 100 ]; do
	for d in /sys/bus/usb/devices/*; do
		[ "$(cat "$d/idVendor" 2>/dev/null)" = 46f4 ] && stick=${d##*/}
	done
	i=$((i + 1))
	[ -n "$stick" ] || sleep 0.1
done
[ -n "$stick" ] || rig_fail "no QEMU USB stick (46f4) in L1's sysfs"
bound_to() {
	drv=$(readlink "/sys/bus/usb/devices/$stick:1.0/driver" 2>/dev/null)
	echo "${drv##*/}"
}
echo "L1: the stick is $stick, bound to '$(bound_to)'"

ctl=$RIG_WORK/vmm.sock
console=$RIG_WORK/l2.console
append="console=ttyS0 quiet panic=-1 tandem.scenario=usbpt tandem.arg=$write"
/rig/bin/tandem-vmm --kernel "$RIG_L2_KERNEL" --initrd "$RIG_L2_INITRD" --mem 256M \
	"$(rig_tandem_cmdline_opt)" "$append" --control "$ctl" --usb "host:$stick" \
	</dev/null >"$console" 2>&1 &
vmm=$!
# L2 says when it is done with the disk; then unplug the stick.
i=0
until grep -q "L2-WROTE" "$console"; do
	i=$((i + 1))
	kill -0 $vmm 2>/dev/null || break
	[ $i -gt 1500 ] && { kill -9 $vmm; rig_fail "L2 did not write to the stick within 150 s"; }
	sleep 0.1
done
kill -0 $vmm 2>/dev/null || rig_fail "tandem-vmm exited before L2 wrote to the stick"
/rig/bin/vmmctl "$ctl" '{"id":1,"cmd":"usb-list"}' | grep -q '"id": *"46f4:0001"' ||
	rig_fail "usb-list does not show the stick: $(/rig/bin/vmmctl "$ctl" '{"id":1,"cmd":"usb-list"}')"
/rig/bin/vmmctl "$ctl" '{"id":2,"cmd":"usb-detach","port":1}' || rig_fail "usb-detach failed"
i=0
while kill -0 $vmm 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 600 ] && { kill -9 $vmm; rig_fail "L2 did not finish within 60 s of the detach"; }
	sleep 0.1
done
wait $vmm
rc=$?
[ "$rc" = 0 ] || rig_fail "tandem-vmm exited with status $rc"
rig_expect l2 "L2-READ $token"
rig_expect l2 "L2-WROTE $write"
rig_expect l2 "L2-REMOVED"
rig_expect l2 "L2-RESULT usbpt PASS"
# L1 gets the stick back: usb-storage binds it again.
i=0
until [ "$(bound_to)" = usb-storage ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && rig_fail "the stick is bound to '$(bound_to)' in L1 after the detach, not usb-storage"
	sleep 0.1
done
echo "L1: the stick is back with usb-storage"
