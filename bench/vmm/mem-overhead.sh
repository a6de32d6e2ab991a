#!/usr/bin/env bash
# VMM memory overhead: tandem-vmm's RSS minus the guest RAM it has touched,
# with a parked 1-vCPU guest and with every device a Linux guest gets.
# Usage: bench/vmm/mem-overhead.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
gcc -m32 -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,"$here/../../tests/vmm/idle-guest.ld" \
    -o "$tmp/idle.elf" "$here/../../tests/vmm/idle-guest.S"
truncate -s 64M "$tmp/disk.img"
measure() {
        local label=$1
        shift
        "$build/hv/tandem-vmm" --kernel "$tmp/idle.elf" --console none "$@" 2>/dev/null </dev/null &
        local pid=$!
        sleep 2
        # smaps: the guest RAM mapping is the memfd named tandem-guest-ram
        awk -v label="$label" '
            /^[0-9a-f]+-[0-9a-f]+ / { ram = ($0 ~ /tandem-guest-ram/) }
            /^Rss:/ { total += $2; if (ram) guest += $2 }
            END { printf "%-28s RSS %6d KiB  guest RAM touched %6d KiB  overhead %6d KiB (%.2f MiB)\n",
                         label, total, guest, total - guest, (total - guest) / 1024 }' "/proc/$pid/smaps"
        kill "$pid"
        wait "$pid" 2>/dev/null || true
}
measure "1 vCPU, 64 MiB, no disk" --mem 64M
measure "4 vCPUs, 256 MiB, 1 disk" --mem 256M --cpus 4 --disk "$tmp/disk.img"
