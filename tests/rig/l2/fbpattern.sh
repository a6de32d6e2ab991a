# L2 scenario "fbpattern": draws stripes derived from the token in $1 (16 hex
# digits, chosen by the host) on /dev/fb0, rows 96..127, with the text console
# detached so that nothing draws over them; then idles for dom0 to capture.
token=$1
case $token in
[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;;
*)
	echo "L2: fbpattern: token '$token' is not 16 hex digits"
	exit 2
	;;
esac
[ -c /dev/fb0 ] || { echo "L2: no /dev/fb0"; exit 3; }
# fbcon would redraw the cursor and text over the pattern: unbind it
for v in /sys/class/vtconsole/vtcon*; do
	grep -q "frame buffer" "$v/name" 2>/dev/null && echo 0 >"$v/bind"
done
echo 0 >/sys/class/graphics/fbcon/cursor_blink 2>/dev/null
printf '\033[?25l' >/dev/tty0 2>/dev/null
width=$(cut -d, -f1 /sys/class/graphics/fb0/virtual_size)
stride=$(cat /sys/class/graphics/fb0/stride)
bpp=$(cat /sys/class/graphics/fb0/bits_per_pixel)
[ "$bpp" = 32 ] || { echo "L2: fbpattern: fb0 has $bpp bits per pixel, want 32"; exit 4; }
# Eight stripes across the width; stripe i has blue = (token byte i) | 1,
# green = (255 - that byte) | 1, red = 32*i + 16 (XRGB8888, little-endian;
# no component is zero, so printf never has to write a NUL byte).
sw=$((width / 8))
: >/tmp/row
i=0
while [ $i -lt 8 ]; do
	hex=$(echo "$token" | cut -c$((2 * i + 1))-$((2 * i + 2)))
	b=$((0x$hex))
	px=$(printf '\\%03o\\%03o\\%03o\\377' $((b | 1)) $(((255 - b) | 1)) $((32 * i + 16)))
	# shellcheck disable=SC2059 # the octal escapes are the format
	printf "$px" >/tmp/px
	n=0
	: >/tmp/stripe
	while [ $n -lt $sw ]; do
		cat /tmp/px >>/tmp/stripe
		n=$((n + 1))
	done
	cat /tmp/stripe >>/tmp/row
	i=$((i + 1))
done
row=96
while [ $row -lt 128 ]; do
	dd if=/tmp/row of=/dev/fb0 bs="$stride" seek=$row count=1 conv=notrunc 2>/dev/null ||
		{ echo "L2: fbpattern: writing row $row failed"; exit 5; }
	row=$((row + 1))
done
echo "L2-FB-READY ${width}x stride $stride"
sleep 6
exit 0
