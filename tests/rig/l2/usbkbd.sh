# L2 scenario "usbkbd" (benchmark usb-bench-kbd): copies kbdlat-echo ($1
# bytes) from the raw disk /dev/vda and runs it; it answers key presses from
# the emulated USB keyboard on the serial console.
. /scenarios/lib.sh
wait_dev /dev/vda || exit 1
dd if=/dev/vda of=/tmp/kbdlat-echo bs=512 count=$((($1 + 511) / 512)) 2>/dev/null
chmod +x /tmp/kbdlat-echo
/tmp/kbdlat-echo
