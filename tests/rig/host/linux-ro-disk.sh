# Host side of linux-ro-disk: an ext4 image with a random token; after the
# run its SHA-256 must be the one it had before.
host_prepare() {
	rig_random >"$RIG_DATA/token"
	mkdir -p "$RIG_HOST_WORK/root"
	cp "$RIG_DATA/token" "$RIG_HOST_WORK/root/token.txt"
	mkfs.ext4 -q -F -L rig-ro -d "$RIG_HOST_WORK/root" "$RIG_HOST_WORK/disk.img" 32M
	sha256sum <"$RIG_HOST_WORK/disk.img" >"$RIG_HOST_WORK/disk.sha256"
	rig_attach_disk "$RIG_HOST_WORK/disk.img"
}

host_check() {
	sha256sum <"$RIG_HOST_WORK/disk.img" | cmp -s - "$RIG_HOST_WORK/disk.sha256" ||
		{ echo "the read-only image changed"; return 1; }
}
