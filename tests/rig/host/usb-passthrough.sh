# Host side of usb-passthrough (sourced by run.sh): QEMU gives L1 a real
# (emulated) USB stick on its own xHCI, holding an ext4 file system with a
# random token. L2 writes another token through libusb passthrough; it must
# be in the image afterwards and the file system must be clean.
host_prepare() {
	rig_random >"$RIG_DATA/token"
	rig_random >"$RIG_DATA/write-token"
	mkdir -p "$RIG_HOST_WORK/root"
	cp "$RIG_DATA/token" "$RIG_HOST_WORK/root/token.txt"
	mkfs.ext4 -q -F -L stick -d "$RIG_HOST_WORK/root" "$RIG_HOST_WORK/stick.img" 16M
	rig_qemu_args -device qemu-xhci,id=rigxhci \
		-drive "id=rigstick,file=$RIG_HOST_WORK/stick.img,if=none,format=raw" \
		-device usb-storage,drive=rigstick,bus=rigxhci.0,serial=RIGSTICK
}

host_check() {
	local got want
	want=$(cat "$RIG_DATA/write-token")
	got=$(debugfs -R 'cat /written.txt' "$RIG_HOST_WORK/stick.img" 2>/dev/null)
	[ "$got" = "$want" ] || { echo "/written.txt on the stick is '$got', expected '$want'"; return 1; }
	e2fsck -fn "$RIG_HOST_WORK/stick.img" >"$RIG_HOST_WORK/e2fsck.log" 2>&1 ||
		{ echo "e2fsck -fn found problems: $(tail -n 1 "$RIG_HOST_WORK/e2fsck.log")"; return 1; }
}
