# rig-bin: hv/tandem-vmm
# rig-bin: tests/usb/kbdlat
# rig-bin: tests/usb/kbdlat-echo
# Benchmark (bench/usb/kbd-latency.sh), not a CI test: keys injected into
# tandem-vmm's emulated USB keyboard (usb-kbd-key) until L2 userspace reads
# them from /dev/input/eventN and answers on the serial console, against the
# serial console's own round trip; then userspace exits per xHCI transfer.
# The L2 side (kbdlat-echo, static) rides on a raw virtio disk. Report lines:
#   BENCH usb-kbd ... (see bench/usb/kbdlat.c)
. /rig/lib.sh
cd "$RIG_WORK" || rig_fail "no work dir"
keys=50
for word in $(cat /proc/cmdline); do
	case $word in rig.bench_keys=*) keys=${word#rig.bench_keys=} ;; esac
done
[ -x /rig/bin/kbdlat ] && [ -f /rig/bin/kbdlat-echo ] ||
	rig_fail "kbdlat or kbdlat-echo is not in the L1 image (run bench/usb/kbd-latency.sh)"
size=$(wc -c </rig/bin/kbdlat-echo)
dd if=/rig/bin/kbdlat-echo of=echo.img bs=512 conv=sync 2>/dev/null
append="console=ttyS0 quiet panic=-1 tandem.scenario=usbkbd tandem.arg=$size"
/rig/bin/kbdlat "$keys" "$RIG_WORK/vmm.sock" "$RIG_WORK/l2.console" -- /rig/bin/tandem-vmm \
	--kernel "$RIG_L2_KERNEL" --initrd "$RIG_L2_INITRD" --mem 256M \
	"$(rig_tandem_cmdline_opt)" "$append" --disk "$RIG_WORK/echo.img,ro" --usb kbd \
	--control "$RIG_WORK/vmm.sock" >result.txt 2>kbdlat.console ||
	rig_fail "kbdlat failed: $(tail -n 1 kbdlat.console)"
grep '^BENCH' result.txt | while read -r line; do rig_report "$line"; done
grep -q 'per_transfer' result.txt || rig_fail "no exit counts in the result"
