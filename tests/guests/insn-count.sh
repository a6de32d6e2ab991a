#!/bin/bash
# tandem-vmm --count-instructions counts every guest instruction: the
# insncount guest runs a two-instruction loop loops= times with interrupts
# off, so the counts of two runs must differ by exactly 2 x the loop counts'
# difference, and the rest of the run (boot, verdict, power-off) must be the
# same both times.
# usage: insn-count.sh VMM GUEST_ELF
set -u
vmm=$1 elf=$2
[ -e /dev/kvm ] || { echo "SKIP: no /dev/kvm"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
count() { # LOOPS -> prints the count
	timeout 120 "$vmm" --kernel "$elf" --mem 16M --console stdio --no-rng \
		--count-instructions --cmdline "loops=$1" </dev/null >"$work/out.$1" 2>"$work/err.$1"
	local status=$?
	if [ $status -ne 0 ] || ! grep -aq "^TEST insncount: PASS" "$work/out.$1"; then
		echo "FAIL: loops=$1: exit status $status" >&2
		cat "$work/out.$1" "$work/err.$1" >&2
		return 1
	fi
	sed -n 's/.*guest instructions executed: \([0-9]*\)$/\1/p' "$work/err.$1"
}
base=$(count 10000) || exit 1
more=$(count 35000) || exit 1
echo "loops=10000: $base instructions; loops=35000: $more instructions"
[ -n "$base" ] && [ -n "$more" ] || { echo "FAIL: no instruction count printed"; exit 1; }
[ "$base" -gt 20100 ] || { echo "FAIL: $base instructions cannot be a whole boot"; exit 1; }
# Both loop counts have five digits, so parsing the command line costs the
# same; the difference is the loop alone.
diff=$((more - base))
[ "$diff" -eq 50000 ] || { echo "FAIL: the loop added $diff instructions, want 50000"; exit 1; }
echo "ok: the counter saw exactly the 50000 loop instructions"
