# rig-bin: hv/tandem-vmm
# rig-bin: hv/control/tandemd
# rig-bin: hv/control/tandem
# tandemd in L1 applies a sticky rule to a USB stick that is hot-plugged
# into L1 (QEMU device_add, see host/usb-hotplug.sh): it attaches it to the
# running L2 domain by itself; L2 reads the host's token from it. Then the
# stick is unplugged from L1: L2 sees it go and tandemd records the detach.
. /rig/lib.sh
cd "$RIG_WORK" || rig_fail "no work dir"
token=$(rig_data token)
[ -c /dev/ttyS1 ] || rig_fail "no /dev/ttyS1 to ask the host for the hotplug"
mark() { echo "$1" >/dev/ttyS1; }

export TANDEM_SOCKET=$RIG_WORK/tandemd.sock
/rig/bin/tandemd --socket "$TANDEM_SOCKET" --db "$RIG_WORK/tandem.db" --run-dir "$RIG_WORK/run" \
	--vmm /rig/bin/tandem-vmm >tandemd.console 2>&1 &
daemon=$!
i=0
until [ -S "$TANDEM_SOCKET" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || rig_fail "tandemd did not start"
	sleep 0.1
done
finish() {
	/rig/bin/tandem events >events.console 2>&1
	tail -n 40 "$RIG_WORK/run/l2a/vmm.log" >vmm.console 2>&1
	{ ls /sys/bus/usb/devices; ls -lR /dev/bus/usb; } >usbdiag.console 2>&1
	/rig/bin/tandem destroy l2a >/dev/null 2>&1
	kill $daemon 2>/dev/null
}
echo '{"rules": [{"match": "46f4:0001", "action": "sticky:l2a"}]}' >policy.json
/rig/bin/tandem usb policy policy.json >>tandemd.console 2>&1 || rig_fail "tandem usb policy failed"
cat >l2a.cfg <<CFG
name = "l2a"
kernel = "$RIG_L2_KERNEL"
ramdisk = "$RIG_L2_INITRD"
memory = 256
extra = "console=ttyS0 quiet panic=-1 tandem.scenario=usbhp"
usbdev = [ "vendorid=0x46f4,productid=0x0001" ]
on_poweroff = "preserve"
CFG
/rig/bin/tandem create l2a.cfg >>tandemd.console 2>&1 || { finish; rig_fail "tandem create failed"; }
mkfifo console.in
exec 3<>console.in
/rig/bin/tandem console l2a <console.in >l2.console 2>&1 &

# Plug the stick into L1; tandemd must give it to l2a by itself.
mark PLUG-ON
i=0
until /rig/bin/tandem usb list 2>/dev/null | grep "46f4:0001" | grep -q l2a; do
	i=$((i + 1))
	[ $i -gt 600 ] && { finish; rig_fail "tandemd did not attach the hot-plugged stick to l2a in 60 s"; }
	sleep 0.1
done
echo "L1: $(/rig/bin/tandem usb list | grep 46f4:0001)"
i=0
until grep -q "L2-READ" l2.console; do
	i=$((i + 1))
	[ $i -gt 1800 ] && { finish; rig_fail "L2 did not read the stick within 180 s"; }
	sleep 0.1
done
rig_expect_file() { grep -q "$2" "$1" || { finish; rig_fail "$3"; }; }
rig_expect_file l2.console "L2-READ $token" "L2 read '$(grep L2-READ l2.console)', want $token"

# Unplug it from L1: L2 sees it go, tandemd records the detach.
mark PLUG-OFF
i=0
until grep -q "L2-REMOVED" l2.console; do
	i=$((i + 1))
	[ $i -gt 600 ] && { finish; rig_fail "L2 did not see the stick go within 60 s"; }
	sleep 0.1
done
i=0
until /rig/bin/tandem events 2>/dev/null | grep -q "usb-unplug"; do
	i=$((i + 1))
	[ $i -gt 100 ] && { finish; rig_fail "tandemd recorded no usb-unplug"; }
	sleep 0.1
done
finish
for kind in usb-hotplug usb-attach usb-unplug usb-detach; do
	grep "$kind" events.console | grep -q l2a || rig_fail "no $kind event for l2a"
done
/rig/bin/tandem usb list 2>/dev/null | grep "46f4:0001" | grep -q l2a &&
	rig_fail "tandem usb list still shows the unplugged stick on l2a"
grep -E "usb-" events.console
exit 0
