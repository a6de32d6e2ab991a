#!/bin/bash
# bench/ui: what a guest display costs dom0.
#   bench/ui/bench.sh BUILD_DIR
# 1. callgrind instruction counts of the render library drawing a full 80x25
#    legacy screen and a one-cell update (render_bench.c);
# 2. CPU time of tandem-shell and tandem-kiosk over 10 s each, both guests
#    idle (a legacy domain and an fbguest framebuffer domain, run
#    by tandemd; Xvfb; idle_shell.py);
# 3. key-to-pixels latency in the shell (latency.py, key_to_pixels.c: XTest
#    key, first XDamage frame that changes the legacy pane).
set -euo pipefail
BUILD=$(realpath "${1:?usage: bench.sh BUILD_DIR}")
SRC=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -I"$SRC/dom0-ui/render" -I"$SRC/hv/include" \
	"$SRC/bench/ui/render_bench.c" "$BUILD/dom0-ui/libtandemrender.a" \
	$(pkg-config --cflags --libs freetype2 libpng json-c) -lm -o "$WORK/render_bench"
cc -O2 -std=c11 -D_GNU_SOURCE "$SRC/bench/ui/key_to_pixels.c" \
	$(pkg-config --cflags --libs x11 xtst xdamage) -o "$WORK/key_to_pixels"
for mode in full cell; do
	valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$WORK/cg.$mode" \
		"$WORK/render_bench" "$mode" >/dev/null 2>"$WORK/vg.$mode"
	n=$(sed -n 's/^summary: *//p;s/^totals: *//p' "$WORK/cg.$mode" | head -n 1)
	echo "render $mode: $n instructions"
done
TANDEMD=$BUILD/hv/control/tandemd TANDEM_CLI=$BUILD/hv/control/tandem \
	TANDEM_VMM=$BUILD/hv/tandem-vmm LEGACY_ELF=$BUILD/legacy/legacy.elf \
	LEGACY_MKDISK=$BUILD/legacy/legacy-mkdisk TANDEM_SHELL=$BUILD/dom0-ui/shell/tandem-shell \
	FIND_SCREEN=$BUILD/tests/ui/find_screen FBGUEST=$BUILD/tests/ui/fbguest.elf \
	TANDEM_KIOSK=$BUILD/dom0-ui/kiosk/tandem-kiosk python3 "$SRC/bench/ui/idle_shell.py"
TANDEMD=$BUILD/hv/control/tandemd TANDEM_CLI=$BUILD/hv/control/tandem \
	TANDEM_VMM=$BUILD/hv/tandem-vmm LEGACY_ELF=$BUILD/legacy/legacy.elf \
	LEGACY_MKDISK=$BUILD/legacy/legacy-mkdisk TANDEM_SHELL=$BUILD/dom0-ui/shell/tandem-shell \
	FIND_SCREEN=$BUILD/tests/ui/find_screen KEY_TO_PIXELS=$WORK/key_to_pixels \
	python3 "$SRC/bench/ui/latency.py"
