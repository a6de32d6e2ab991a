#!/usr/bin/env bash
# The main job: the legacy guest and a Linux guest side by side.
# - The legacy guest runs under tandemd on this machine's /dev/kvm (it is
#   built to run even on a software KVM).
# - The Linux guest, an unmodified Debian kernel with a framebuffer, runs
#   under tandemd here when /dev/kvm is hardware-assisted; otherwise it runs
#   under tandem-vmm inside the rig (QEMU TCG with nested SVM) and its screen
#   comes back as a tandem-screenshot PNG.
# - tandem-shell shows the domains on $DISPLAY (without a display, the
#   guests' screens are saved as PNGs when there is no display).
# usage: tools/demo.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$build/demo
mkdir -p "$work"
rm -rf "$work/run"
pids=()
cleanup() {
        [ -n "${TANDEM_SOCKET:-}" ] && [ -S "$TANDEM_SOCKET" ] &&
                "$build/hv/control/tandem" destroy linux1 >/dev/null 2>&1 || true
        [ -n "${TANDEM_SOCKET:-}" ] && [ -S "$TANDEM_SOCKET" ] &&
                "$build/hv/control/tandem" shutdown -w legacy >/dev/null 2>&1 || true
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

hw=1
if [ -e /sys/module/kvm_pvm ] || ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
        hw=0
fi

export TANDEM_SOCKET=$work/tandemd.sock
"$build/hv/control/tandemd" --socket "$TANDEM_SOCKET" --db "$work/tandem.db" \
        --run-dir "$work/run" --vmm "$build/hv/tandem-vmm" >"$work/tandemd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$TANDEM_SOCKET" ] && break; sleep 0.1; done

[ -f "$work/legacy-data.img" ] || "$build/legacy/legacy-mkdisk" "$work/legacy-data.img" >/dev/null
cat >"$work/legacy.cfg" <<CFG
name = "legacy"
type = "tandem-legacy"
kernel = "$build/legacy/legacy.elf"
memory = 16
disk = [ '$work/legacy-data.img,raw,xvda,rw' ]
printer = "$work/receipts.txt"
CFG
"$build/hv/control/tandem" create "$work/legacy.cfg"

linux_png=""
if [ "$hw" = 1 ]; then
        "$repo/tests/rig/build-images.sh" "$build/rig-cache" >/dev/null
        kernel=$(ls /boot/vmlinuz-* | sort -V | tail -n1)
        cat >"$work/linux1.cfg" <<CFG
name = "linux1"
kernel = "$kernel"
ramdisk = "$build/rig-cache/l2.cpio.gz"
extra = "console=tty0 console=ttyS0 quiet tandem.scenario=demo tandem.arg=86400"
memory = 512
vcpus = 2
vfb = [ 'resolution=1024x768' ]
CFG
        "$build/hv/control/tandem" create "$work/linux1.cfg"
else
        echo "tandem: /dev/kvm here is a software KVM (no VT-x/AMD-V), so the Linux guest runs inside the hardware-virtualization rig (tests/rig) and the legacy guest runs directly"
        linux_png=$work/linux1-in-rig.png
        RIG_DEMO_PNG=$linux_png "$repo/tests/rig/run.sh" --build-dir "$build" demo-linux
        echo "tandem: the Linux guest's screen, captured in the rig by tandem-screenshot: $linux_png"
fi

"$build/hv/control/tandem" list

shell_args=(--socket "$TANDEM_SOCKET" --attach "legacy=$work/run/legacy/control.sock")
[ "$hw" = 1 ] && shell_args+=(--attach "linux1=$work/run/linux1/control.sock")
if [ -n "${DISPLAY:-}" ]; then
        exec "$build/dom0-ui/shell/tandem-shell" "${shell_args[@]}"
fi
# Headless: the legacy guest's screen as rendered by dom0's renderer.
"$build/dom0-ui/tandem-screenshot" --control "$work/run/legacy/control.sock" "$work/legacy.png"
echo "tandem: no \$DISPLAY for tandem-shell; legacy guest screen: $work/legacy.png"
[ -z "$linux_png" ] || echo "tandem: Linux guest screen: $linux_png"
"$build/hv/control/tandem" list
echo "tandem: demo done; set DISPLAY to see both in tandem-shell; logs in $work"
