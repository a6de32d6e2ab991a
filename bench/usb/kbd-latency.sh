#!/bin/bash
# USB keyboard input latency in the rig: keys injected into tandem-vmm's
# emulated USB HID keyboard (control command usb-kbd-key) until a program in
# the unmodified Linux L2 reads them from /dev/input/eventN and answers on
# the serial console, timed in L1 (CLOCK_MONOTONIC); the serial console's
# own round trip is the baseline for the answer's path. Then userspace exits
# per xHCI transfer. Runs rig scenario usb-bench-kbd (not in the CI list).
#
# usage: bench/usb/kbd-latency.sh [--build-dir DIR] [--keys N]
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=$REPO/build
KEYS=50
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) BUILD=$2; shift 2 ;;
	--keys) KEYS=$2; shift 2 ;;
	*) echo "kbd-latency: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
[[ $KEYS =~ ^[1-9][0-9]{0,3}$ ]] || { echo "kbd-latency: --keys must be 1..9999" >&2; exit 2; }
ninja -C "$BUILD" hv/tandem-vmm tests/usb/kbdlat tests/usb/kbdlat-echo >/dev/null ||
	{ echo "kbd-latency: build failed (kbdlat-echo needs a static libc: libc6-dev)" >&2; exit 1; }

OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
RIG_EXTRA_APPEND="rig.bench_keys=$KEYS" "$REPO/tests/rig/run.sh" --build-dir "$BUILD" \
	--timeout 1800 usb-bench-kbd | tee "$OUT"
rc=${PIPESTATUS[0]}
echo
awk '$1 == "BENCH" && $2 == "usb-kbd" && $4 == "n" { m[$3] = $7; p[$3] = $9; n = $5 }
	$1 == "BENCH" && $2 == "usb-kbd" && $3 == "exits" { ex = $13; mm = $15; tds = $9 }
	END {
		u = "inject-to-guest-userspace-and-serial-answer"; s = "serial-round-trip"
		if (!(u in m)) exit
		printf "%d keys: USB key -> L2 userspace -> serial answer: median %.2f ms, p90 %.2f ms\n", n, m[u], p[u]
		printf "serial console round trip: median %.2f ms, p90 %.2f ms\n", m[s], p[s]
		printf "USB key to L2 userspace (minus half the serial round trip): median %.2f ms, p90 %.2f ms\n", m[u] - m[s] / 2, p[u] - p[s] / 2
		printf "userspace exits per xHCI transfer: %s, of them MMIO: %s (%s transfers)\n", ex, mm, tds
	}' "$OUT"
exit "$rc"
