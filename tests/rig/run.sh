#!/bin/bash
# Runs rig scenarios: builds the images if needed, prepares each scenario on
# the host (host/<scenario>.sh), boots L1 once (QEMU TCG, -cpu EPYC,+svm,+npt)
# with all of them, prints each verdict, and for a failure the L1 log and
# the L2 console of that scenario. Exits 0 only if every scenario passed.
#
# usage: run.sh [--build-dir DIR] [--timeout SECONDS] [--verbose] SCENARIO...
#   --build-dir  meson build dir (binaries, image cache in rig-cache/, run
#                logs in rig-runs/); default: <repo>/build
#   --timeout    limit for each scenario inside L1 (default 300)
#   --verbose    stream the whole L1 serial console, not only verdicts, and
#                show every scenario's logs, not only those that failed
# Environment: RIG_L1_SMP (default 2), RIG_L1_MEM (default 2560, MiB),
# RIG_EXTRA_APPEND (more words for the L1 kernel command line, e.g. a
# scenario's rig.* parameters).
set -uo pipefail

RIG_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$RIG_DIR/../.." && pwd)
BUILD=$REPO/build
SCENARIO_TIMEOUT=300
VERBOSE=""
SCENARIOS=()

die() {
	echo "rig: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--build-dir)
		BUILD=$2
		shift 2
		;;
	--timeout)
		SCENARIO_TIMEOUT=$2
		shift 2
		;;
	--verbose | -v)
		VERBOSE=1
		shift
		;;
	-*) die "unknown option $1" ;;
	*)
		SCENARIOS+=("$1")
		shift
		;;
	esac
done
[ ${#SCENARIOS[@]} -gt 0 ] || die "usage: run.sh [--build-dir DIR] [--timeout S] [--verbose] SCENARIO..."
[[ $SCENARIO_TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout '$SCENARIO_TIMEOUT' is not a number of seconds"
for s in "${SCENARIOS[@]}"; do
	[[ $s =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "scenario name '$s' is not [a-z0-9-]+"
	[ -f "$RIG_DIR/l1/$s.sh" ] || die "no scenario $s (tests/rig/l1/$s.sh)"
done
for tool in qemu-system-x86_64 cpio mkfs.ext4 debugfs timeout; do
	command -v "$tool" >/dev/null || die "$tool is missing (see docs/rig.md for the packages)"
done
BUILD=$(realpath "$BUILD")

# Project binaries named by "# rig-bin: <path in build dir>" lines of any L1
# scenario; one image serves all scenarios. A scenario whose binary was not
# built fails inside L1 with a clear reason.
BIN_ARGS=()
while read -r rel; do
	[ -f "$BUILD/$rel" ] && BIN_ARGS+=(--bin "$BUILD/$rel")
done < <(sed -n 's/^# rig-bin: *//p' "$RIG_DIR"/l1/*.sh | sort -u)

CACHE=$BUILD/rig-cache
"$RIG_DIR/build-images.sh" "$CACHE" "${BIN_ARGS[@]}" || die "building the images failed"

mkdir -p "$BUILD/rig-runs"
RUN=$(mktemp -d "$BUILD/rig-runs/$(date +%Y%m%d-%H%M%S)-XXXX")
# Keep the logs of the last 10 runs.
ls -1d "$BUILD"/rig-runs/*/ 2>/dev/null | head -n -10 | xargs -r rm -rf
echo "rig: run directory $RUN"

# ---- Host side: helpers for host/<scenario>.sh
QEMU_EXTRA=()
rig_random() { od -An -N8 -tx8 /dev/urandom | tr -d ' \n'; echo; }
# rig_attach_disk FILE [SERIAL]: a raw virtio disk for L1; the L1 script
# finds it with rig_disk SERIAL (default: the scenario's name).
rig_attach_disk() {
	local id=d${#QEMU_EXTRA[@]} serial=${2:-$RIG_SCENARIO}
	QEMU_EXTRA+=(-drive "id=$id,file=$1,format=raw,if=none"
		-device "virtio-blk-pci,drive=$id,serial=$serial")
}
# rig_qemu_args ARG...: extra QEMU arguments for L1 (USB devices, ...).
rig_qemu_args() { QEMU_EXTRA+=("$@"); }

declare -A HOST_FAIL=()
host_hook() { # SCENARIO PHASE
	local hook=$RIG_DIR/host/$1.sh out rc
	[ -f "$hook" ] || return 0
	export RIG_SCENARIO=$1 RIG_HOST_WORK=$RUN/host/$1 RIG_DATA=$RUN/overlay/rig/data/$1 RIG_DIR
	mkdir -p "$RIG_HOST_WORK" "$RIG_DATA"
	unset -f host_prepare host_check
	# shellcheck disable=SC1090
	. "$hook"
	if declare -F "host_$2" >/dev/null; then
		# Output goes to a file so that the function may still add QEMU
		# arguments in this shell.
		"host_$2" >"$RIG_HOST_WORK/$2.log" 2>&1
		rc=$?
		if [ $rc -ne 0 ]; then
			out=$(tail -n 1 "$RIG_HOST_WORK/$2.log")
			[ -n "${HOST_FAIL[$1]:-}" ] || HOST_FAIL[$1]="host $2: ${out:-exit status $rc}"
		fi
	fi
	unset -f host_prepare host_check
}

# L1's QEMU monitor (HMP) for host hooks that act while L1 runs (USB
# hotplug with device_add/device_del). UNIX socket paths are short.
RIG_QEMU_MONITOR=$RUN/monitor.sock
[ ${#RIG_QEMU_MONITOR} -lt 100 ] || RIG_QEMU_MONITOR=$(mktemp -u /tmp/rig-monitor.XXXXXX)
export RIG_QEMU_MONITOR

mkdir -p "$RUN/overlay/rig/data"
for s in "${SCENARIOS[@]}"; do host_hook "$s" prepare; done

# Per-run data rides in a second cpio archive appended to the cached one;
# the kernel unpacks both.
(cd "$RUN/overlay" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$RUN/overlay.cpio"
cat "$CACHE/l1.cpio" "$RUN/overlay.cpio" >"$RUN/initrd.cpio"

# ---- Boot L1
LIST=$(IFS=,; echo "${SCENARIOS[*]}")
TOTAL=$((SCENARIO_TIMEOUT * ${#SCENARIOS[@]} + 120))
echo "rig: booting L1 with $LIST (limit ${TOTAL}s)"
LOG=$RUN/serial.log
filter() {
	if [ -n "$VERBOSE" ]; then
		cat
	else
		grep --line-buffered -E '^(RIG [^ ]+: |RIG-L1 )'
	fi
}
timeout "$TOTAL" qemu-system-x86_64 -M pc -cpu EPYC,+svm,+npt \
	-smp "${RIG_L1_SMP:-2}" -m "${RIG_L1_MEM:-2560}" \
	-display none -vga none -nic none -no-reboot -serial stdio -monitor "unix:$RIG_QEMU_MONITOR,server=on,wait=off" \
	-kernel "$CACHE/vmlinuz" -initrd "$RUN/initrd.cpio" \
	-append "console=ttyS0 quiet panic=-1 rig.scenarios=$LIST rig.timeout=$SCENARIO_TIMEOUT${VERBOSE:+ rig.show=all} ${RIG_EXTRA_APPEND:-}" \
	"${QEMU_EXTRA[@]}" </dev/null 2>&1 | tr -d '\r' | tee "$LOG" | filter
QEMU_RC=${PIPESTATUS[0]}
rm -f "$RUN/initrd.cpio" "$RIG_QEMU_MONITOR"
[ "$QEMU_RC" -eq 0 ] || echo "rig: L1 QEMU exited with status $QEMU_RC$([ "$QEMU_RC" -eq 124 ] && echo " (timed out)")"

# ---- Verdicts
for s in "${SCENARIOS[@]}"; do host_hook "$s" check; done
section() { # KIND SCENARIO
	sed -n "/^RIG-$1-BEGIN $2\$/,/^RIG-$1-END $2\$/p" "$LOG" | sed '1d;$d'
}
FAILED=0
echo "rig: ---- results (serial log: $LOG)"
for s in "${SCENARIOS[@]}"; do
	report=$(section REPORT "$s")
	[ -n "$report" ] && echo "$report"
	line=$(grep -m1 -E "^RIG $s: (PASS|FAIL)" "$LOG")
	if [ -z "$line" ]; then
		FAILED=1
		echo "RIG $s: FAIL no verdict from L1 (crashed or timed out); last lines of the serial log:"
		tail -n 40 "$LOG" | sed 's/^/  | /'
	elif [ "$line" != "RIG $s: PASS" ]; then
		FAILED=1
		echo "$line"
		section LOG "$s" | sed 's/^/  | /'
	elif [ -n "${HOST_FAIL[$s]:-}" ]; then
		FAILED=1
		echo "RIG $s: FAIL ${HOST_FAIL[$s]}"
	else
		echo "RIG $s: PASS"
	fi
done
# Disk images are large; the logs stay.
find "$RUN/host" -name '*.img' -delete 2>/dev/null
exit $FAILED
