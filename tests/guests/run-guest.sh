#!/bin/bash
# Runs one tiny test guest under tandem-vmm and checks its verdict.
# usage: run-guest.sh VMM GUEST_ELF NAME KIND [extra tandem-vmm args...]
#   KIND: pass   the guest prints "TEST NAME: PASS" and powers off (status 0)
#         reset  the guest resets the machine (status 3) and prints no FAIL
#         disk   like pass, with a 1 MiB disk whose sector 0 holds byte i = i*7+3
#         blkio  like disk; afterwards sector 1 must hold byte i = i^0x5A
# In extra arguments, @HOSTTIME@ becomes the host's clock in Unix seconds.
set -u
vmm=$1 elf=$2 name=$3 kind=$4
shift 4
[ -e /dev/kvm ] || { echo "SKIP: no /dev/kvm"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(--kernel "$elf" --mem 16M --console stdio --no-rng "${@//@HOSTTIME@/$(date +%s)}")
if [ "$kind" = disk ] || [ "$kind" = blkio ]; then
        python3 - "$work/disk.img" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(bytes((i * 7 + 3) & 0xFF for i in range(512)))
    f.truncate(1 << 20)
PY
        args+=(--disk "$work/disk.img")
fi
timeout 120 "$vmm" "${args[@]}" </dev/null >"$work/out" 2>"$work/err"
status=$?
cat "$work/out"
[ -s "$work/err" ] && sed 's/^/vmm: /' "$work/err"
fail() { echo "FAIL: $*"; exit 1; }
[ $status -eq 124 ] && fail "timed out (guest hung or S5 did not stop the VMM)"
grep -aq "TEST $name: FAIL" "$work/out" && fail "the guest reported a failure"
case $kind in
pass | disk | blkio)
        grep -aq "^TEST $name: PASS" "$work/out" || fail "no PASS verdict"
        [ $status -eq 0 ] || fail "exit status $status, want 0 (ACPI S5 power-off)"
        ;;
reset)
        grep -aq "pulsing the reset line" "$work/out" || fail "the guest never got to the reset"
        [ $status -eq 3 ] || fail "exit status $status, want 3 (reboot)"
        ;;
esac
if [ "$kind" = blkio ]; then
        python3 - "$work/disk.img" <<'PY' || fail "sector 1 of the disk does not hold the guest's data"
import sys
with open(sys.argv[1], "rb") as f:
    d = f.read(1024)
sys.exit(0 if d[512:1024] == bytes((i ^ 0x5A) & 0xFF for i in range(512)) else 1)
PY
fi
echo "ok: $name (exit status $status)"
