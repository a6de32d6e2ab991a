# Host side of demo-linux: a raw disk receives the PNG; it is copied to
# $RIG_DEMO_PNG (default: the run directory) and must be a PNG.
host_prepare() {
	truncate -s 16M "$RIG_HOST_WORK/out.img"
	rig_attach_disk "$RIG_HOST_WORK/out.img"
}

host_check() {
	local size dest=${RIG_DEMO_PNG:-$RIG_HOST_WORK/linux1.png}
	size=$(head -c 16 "$RIG_HOST_WORK/out.img" | tr -d '\0')
	[[ $size =~ ^[0-9]+$ ]] && [ "$size" -gt 8 ] || { echo "no screenshot on the output disk"; return 1; }
	tail -c +17 "$RIG_HOST_WORK/out.img" | head -c "$((10#$size))" >"$dest"
	[ "$(head -c 8 "$dest" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
		{ echo "the screenshot is not a PNG"; return 1; }
	echo "screenshot: $dest"
}
