#!/bin/bash
# Boot-to-userspace of an unmodified Debian kernel in the rig: tandem-vmm
# against QEMU (-enable-kvm -M microvm) in the same L1 boot, each VMM booting
# the same L2 kernel and initramfs RUNS times (alternately), timed in L1 from
# VMM start to the first line the L2 init prints (CLOCK_BOOTTIME, 10 ms).
# Prints the medians and the ratio tandem/qemu.
#
# usage: bench/rig/boot-time.sh [--build-dir DIR] [--runs N]
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=$REPO/build
RUNS=5
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) BUILD=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	*) echo "boot-time: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
[[ $RUNS =~ ^[1-9][0-9]?$ ]] || { echo "boot-time: --runs must be 1..99" >&2; exit 2; }

OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
RIG_EXTRA_APPEND="rig.bench_runs=$RUNS" "$REPO/tests/rig/run.sh" --build-dir "$BUILD" \
	--timeout $((RUNS * 200)) bench-boot-time | tee "$OUT"
rc=${PIPESTATUS[0]}

median() { # VMM COLUMN
	awk -v vmm="$1" -v col="$2" '$1 == "BENCH" && $2 == vmm && $col != "fail" && $col != "-" { print $col }' "$OUT" |
		sort -n | awk '{ v[NR] = $1 } END {
			if (NR == 0) { print "n/a"; exit }
			if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
count() { awk -v vmm="$1" '$1 == "BENCH" && $2 == vmm && $4 != "fail"' "$OUT" | wc -l; }
q=$(median qemu 4)
t=$(median tandem 4)
qu=$(median qemu 5)
tu=$(median tandem 5)
echo
echo "boot to L2 userspace, median of $RUNS (L1 wall clock, s): qemu-microvm $q ($(count qemu) ok), tandem-vmm $t ($(count tandem) ok)"
echo "L2 kernel uptime at its init, median (s): qemu-microvm $qu, tandem-vmm $tu"
if [ "$q" != n/a ] && [ "$t" != n/a ]; then
	awk -v t="$t" -v q="$q" 'BEGIN { printf "ratio tandem-vmm / qemu-microvm: %.2f\n", t / q }'
fi
exit "$rc"
