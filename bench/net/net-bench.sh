#!/bin/bash
# Guest-to-guest networking in the rig: two L2 Linux guests on one L1
# bridge, under tandem-vmm and then under QEMU (virtio-net-pci on a TAP,
# vhost off) in the same L1 boot. Prints each VMM's TCP throughput (busybox
# wget of an N MiB file from busybox httpd), ping round-trip time, the
# ratios tandem/qemu, and tandem-vmm's userspace exits per packet (both
# VMMs' stats around the transfer). See tests/rig/l1/bench-net.sh.
#
# usage: bench/net/net-bench.sh [--build-dir DIR] [--mib N]
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=$REPO/build
MIB=16
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) BUILD=$2; shift 2 ;;
	--mib) MIB=$2; shift 2 ;;
	*) echo "net-bench: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
[[ $MIB =~ ^[1-9][0-9]?$ ]] || { echo "net-bench: --mib must be 1..99" >&2; exit 2; }

OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
RIG_EXTRA_APPEND="rig.bench_net_mb=$MIB" "$REPO/tests/rig/run.sh" --build-dir "$BUILD" \
	--timeout 600 bench-net | tee "$OUT"
rc=${PIPESTATUS[0]}
field() { # VMM NAME
	awk -v vmm="$1" -v k="$2" '$1 == "BENCH" && $2 == vmm {
		for (i = 3; i < NF; i++) if ($i == k) print $(i + 1) }' "$OUT" | head -n 1
}
tm=$(field tandem mbps) qm=$(field qemu mbps)
tr=$(field tandem rtt_ms) qr=$(field qemu rtt_ms)
xp=$(field tandem exits_per_pkt)
echo
echo "net-bench: $MIB MiB over TCP, guest to guest on one bridge"
echo "  tandem-vmm: ${tm:-n/a} MB/s, ping ${tr:-n/a} ms, ${xp:-n/a} userspace exits per packet"
echo "  qemu:       ${qm:-n/a} MB/s, ping ${qr:-n/a} ms"
awk -v t="$tm" -v q="$qm" -v a="$tr" -v b="$qr" 'BEGIN {
	if (t != "" && q + 0 > 0) printf "  throughput ratio tandem/qemu: %.2f\n", t / q
	if (a != "" && b + 0 > 0) printf "  latency ratio tandem/qemu:    %.2f\n", a / b }'
exit "$rc"
