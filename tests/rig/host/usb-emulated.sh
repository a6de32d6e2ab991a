# Host side of usb-emulated (sourced by run.sh): an ext4 image with a random
# token, attached to L1 as a raw virtio disk that L1 gives to L2 as a USB
# stick; afterwards the token L2 wrote must be in the image and the file
# system must be clean.
host_prepare() {
	rig_random >"$RIG_DATA/token"
	rig_random >"$RIG_DATA/write-token"
	mkdir -p "$RIG_HOST_WORK/root"
	cp "$RIG_DATA/token" "$RIG_HOST_WORK/root/token.txt"
	mkfs.ext4 -q -F -L usb -d "$RIG_HOST_WORK/root" "$RIG_HOST_WORK/stick.img" 32M
	rig_attach_disk "$RIG_HOST_WORK/stick.img"
}

host_check() {
	local got want
	want=$(cat "$RIG_DATA/write-token")
	got=$(debugfs -R 'cat /written.txt' "$RIG_HOST_WORK/stick.img" 2>/dev/null)
	[ "$got" = "$want" ] || { echo "/written.txt in the USB image is '$got', expected '$want'"; return 1; }
	e2fsck -fn "$RIG_HOST_WORK/stick.img" >"$RIG_HOST_WORK/e2fsck.log" 2>&1 ||
		{ echo "e2fsck -fn found problems: $(tail -n 1 "$RIG_HOST_WORK/e2fsck.log")"; return 1; }
}
