# Host side of linux-fb: picks the token the L2 guest turns into stripes,
# gives L1 a raw disk for the screenshot, and checks the PNG's pixels.
host_prepare() {
	rig_random >"$RIG_DATA/token"
	truncate -s 16M "$RIG_HOST_WORK/out.img"
	rig_attach_disk "$RIG_HOST_WORK/out.img"
}

host_check() {
	local size png=$RIG_HOST_WORK/fb.png
	size=$(head -c 16 "$RIG_HOST_WORK/out.img" | tr -d '\0')
	[[ $size =~ ^[0-9]+$ ]] && [ "$size" -gt 8 ] || { echo "no screenshot on the output disk"; return 1; }
	tail -c +17 "$RIG_HOST_WORK/out.img" | head -c "$((10#$size))" >"$png"
	python3 "$RIG_DIR/host/fbcheck.py" "$png" "$(cat "$RIG_DATA/token")"
}
