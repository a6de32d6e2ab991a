#!/bin/bash
# USB in the rig: sequential read throughput of the emulated USB mass
# storage (xHCI + usb-storage in an unmodified Linux L2) against the same
# image on virtio-blk, and userspace exits per MiB for each, from the
# usb-bench-storage scenario (not in the CI list). Prints MB/s and exits.
#
# usage: bench/usb/usb-bench.sh [--build-dir DIR] [--mib N]
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=$REPO/build
MIB=16
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) BUILD=$2; shift 2 ;;
	--mib) MIB=$2; shift 2 ;;
	*) echo "usb-bench: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
[[ $MIB =~ ^[1-9][0-9]{0,2}$ ]] || { echo "usb-bench: --mib must be 1..999" >&2; exit 2; }

OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
RIG_EXTRA_APPEND="rig.bench_mib=$MIB" "$REPO/tests/rig/run.sh" --build-dir "$BUILD" \
	--timeout 2400 usb-bench-storage | tee "$OUT"
rc=${PIPESTATUS[0]}
echo
awk '$1 == "BENCH" && $2 == "usb-read" && $5 > 0 {
	printf "read %s MiB from %s: %.2f s, %.2f MiB/s\n", $4, ($3 == "sda" ? "USB mass storage (sda)" : "virtio-blk (vda)"), $5, $4 / $5 }' "$OUT"
awk '$1 == "BENCH" && $2 == "usb-exits" {
	printf "userspace exits per MiB, %s: %.1f\n", ($3 == "sda" ? "USB mass storage" : "virtio-blk"), $4 / $5 }' "$OUT"
exit "$rc"
