# Host side of linux-fb: picks the token the L2 guest turns into stripes,
# gives L1 a raw disk for the screenshot, and checks the PNG's pixels: rows
# 96..127 hold eight stripes, stripe i red 32*i+16, green (255-b)|1, blue b|1
# with b the token's byte i (see l2/fbpattern.sh). PNG decoded with zlib only.
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
	linux_fb_check "$png" "$(cat "$RIG_DATA/token")"
}

linux_fb_check() { # PNG TOKEN
	python3 - "$@" <<'PY'
import struct
import sys
import zlib


def decode(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("the screenshot is not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        sys.exit(f"unsupported PNG: depth {depth} colour type {ctype} interlace {interlace}")
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    rows, prev, stride = [], bytearray(w * bpp), w * bpp
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows


png, token = sys.argv[1], sys.argv[2]
w, h, bpp, rows = decode(png)
if h < 128:
    sys.exit(f"screenshot is {w}x{h}, too small for the pattern")
sw = w // 8
for i in range(8):
    b = int(token[2 * i:2 * i + 2], 16)
    want = (32 * i + 16, (255 - b) | 1, b | 1)
    for y in range(96, 128):
        for x in range(i * sw, (i + 1) * sw):
            got = tuple(rows[y][x * bpp:x * bpp + 3])
            if got != want:
                sys.exit(f"pixel ({x},{y}) is {got}, want {want} (stripe {i} of token {token})")
print(f"linux-fb: {w}x{h} screenshot shows the 8 stripes of token {token}")
PY
}
