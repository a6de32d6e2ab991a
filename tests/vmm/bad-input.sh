#!/usr/bin/env bash
# tandem-vmm refuses bad input with one line naming the problem and exit 2.
set -u
vmm=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | head -n1)

# expect NAME EXPECTED_SUBSTRING -- ARGS...
expect() {
        local name=$1 want=$2
        shift 3
        "$vmm" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
        local rc=$?
        # the software-KVM warning is not part of the error
        grep -v 'software KVM' "$tmp/err" >"$tmp/err.1"
        local lines
        lines=$(wc -l <"$tmp/err.1")
        if [ "$rc" -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -qF -- "$want" "$tmp/err.1"; then
                echo "FAIL $name: rc=$rc lines=$lines stderr: $(cat "$tmp/err.1")"
                fail=1
        else
                echo "ok   $name: $(cat "$tmp/err.1")"
        fi
}

head -c 100000 /dev/urandom >"$tmp/garbage"
printf '\x7fELF' >"$tmp/tiny-elf"
cp /bin/true "$tmp/host-elf"
dd if=/dev/zero of="$tmp/disk.img" bs=1M count=1 status=none

expect missing-kernel "no such file" -- --kernel "$tmp/nope"
expect no-guest "no guest" --
expect conflicting-guests "conflict" -- --kernel "$tmp/garbage" --legacy "$tmp/garbage"
expect initrd-with-legacy "--initrd" -- --legacy "$tmp/garbage" --initrd "$tmp/garbage"
expect non-linux-kernel "not a Linux bzImage" -- --kernel "$tmp/garbage" --mem 16M
expect truncated-elf "ELF file is truncated" -- --kernel "$tmp/tiny-elf" --mem 16M
expect host-elf "not a PVH kernel" -- --kernel "$tmp/host-elf" --mem 16M
expect missing-disk "--disk $tmp/nodisk: no such file" -- --kernel "$tmp/garbage" --disk "$tmp/nodisk"
expect bad-disk-option "unknown option 'rx'" -- --kernel "$tmp/garbage" --disk "$tmp/disk.img,rx"
expect bad-mem "--mem 12Q" -- --kernel "$tmp/garbage" --mem 12Q
expect tiny-mem "outside 4M..1T" -- --kernel "$tmp/garbage" --mem 1M
expect bad-cpus "--cpus 0" -- --kernel "$tmp/garbage" --cpus 0
expect bad-console "--console tty9" -- --kernel "$tmp/garbage" --console tty9
expect bad-fb "--fb 10x10" -- --kernel "$tmp/garbage" --fb 10x10
expect unknown-option "unknown or incomplete option '--frobnicate'" -- --kernel "$tmp/garbage" --frobnicate
expect stray-argument "unexpected argument" -- --kernel "$tmp/garbage" extra
if [ -n "$kernel" ] && [ -r "$kernel" ]; then
        head -c 4096 "$kernel" >"$tmp/truncated-bzimage"
        expect truncated-bzimage "is truncated" -- --kernel "$tmp/truncated-bzimage" --mem 64M
        head -c 64000000 /dev/zero >"$tmp/big-initrd"
        expect initrd-too-big "guest memory too small for the initrd" -- \
                --kernel "$kernel" --initrd "$tmp/big-initrd" --mem 128M
        expect kernel-too-big "guest memory too small: the kernel needs" -- --kernel "$kernel" --mem 8M
else
        echo "FAIL: no readable /boot/vmlinuz-* (install linux-image-amd64; run as root)"
        fail=1
fi
exit $fail
