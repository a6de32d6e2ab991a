# Host side of storage-overlay (sourced by run.sh): an ext4 base image and a
# qcow2 overlay on it made by qemu-img, handed to L1 as raw disks (L1 copies
# them into its RAM and back into a tar on a third disk). Afterwards the base
# must be unchanged, the overlay clean under qemu-img check, and the file L2
# wrote must be in the overlay's flattened image.
host_prepare() {
	rig_random >"$RIG_DATA/token"
	rig_random >"$RIG_DATA/write-token"
	mkdir -p "$RIG_HOST_WORK/root" "$RIG_HOST_WORK/out"
	cp "$RIG_DATA/token" "$RIG_HOST_WORK/root/token.txt"
	mkfs.ext4 -q -F -L rig -d "$RIG_HOST_WORK/root" "$RIG_HOST_WORK/base.img" 32M
	sha256sum <"$RIG_HOST_WORK/base.img" | cut -d' ' -f1 >"$RIG_HOST_WORK/base.sha256"
	(cd "$RIG_HOST_WORK" && qemu-img create -q -f qcow2 -b base.img -F raw overlay.qcow2)
	# a raw disk's size must be whole sectors
	truncate -s %512 "$RIG_HOST_WORK/overlay.qcow2"
	truncate -s 96M "$RIG_HOST_WORK/out.tar"
	rig_attach_disk "$RIG_HOST_WORK/base.img" storage-overlay-base
	rig_attach_disk "$RIG_HOST_WORK/overlay.qcow2" storage-overlay
	rig_attach_disk "$RIG_HOST_WORK/out.tar" storage-overlay-out
}

host_check() {
	local out=$RIG_HOST_WORK/out got want
	tar -xf "$RIG_HOST_WORK/out.tar" -C "$out" 2>"$RIG_HOST_WORK/tar.log" ||
		{ echo "no tar of the images from L1: $(head -n 1 "$RIG_HOST_WORK/tar.log")"; return 1; }
	want=$(cat "$RIG_HOST_WORK/base.sha256")
	for f in "$RIG_HOST_WORK/base.img" "$out/base.img"; do
		got=$(sha256sum <"$f" | cut -d' ' -f1)
		[ "$got" = "$want" ] || { echo "base image $f changed under its overlay"; return 1; }
	done
	qemu-img check "$out/overlay.qcow2" >"$RIG_HOST_WORK/check.log" 2>&1 ||
		{ echo "qemu-img check of the overlay: $(tail -n 1 "$RIG_HOST_WORK/check.log")"; return 1; }
	qemu-img convert -O raw "$out/overlay.qcow2" "$RIG_HOST_WORK/flat.img" ||
		{ echo "qemu-img convert of the overlay failed"; return 1; }
	want=$(cat "$RIG_DATA/write-token")
	got=$(debugfs -R 'cat /written.txt' "$RIG_HOST_WORK/flat.img" 2>/dev/null)
	[ "$got" = "$want" ] || { echo "/written.txt in the overlay is '$got', expected '$want'"; return 1; }
	got=$(debugfs -R 'cat /written.txt' "$out/base.img" 2>/dev/null)
	[ -z "$got" ] || { echo "/written.txt reached the base image"; return 1; }
}
