#!/bin/bash
# Self-test of the rig's failure reporting: two scenarios that must fail,
# one in L2 and one in the host check, next to qemu-reference, which must
# pass. run.sh must exit 1, give each the right verdict, and show the
# failing L2 console (with the random token the guest printed).
# usage: selftest.sh [--build-dir DIR]
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
"$HERE/run.sh" "$@" --timeout 200 selftest-l2-fail selftest-host-fail qemu-reference >"$OUT" 2>&1
rc=$?
fail() {
	echo "rig selftest: $*"
	echo "---- run.sh output"
	cat "$OUT"
	exit 1
}
[ $rc -eq 1 ] || fail "run.sh exited $rc, expected 1"
run=$(sed -n 's/^rig: run directory //p' "$OUT")
token=$(cat "$run/overlay/rig/data/selftest-l2-fail/token" 2>/dev/null)
[ -n "$token" ] || fail "no token in $run"
grep -qx "RIG qemu-reference: PASS" "$OUT" || fail "qemu-reference did not pass"
grep -qx "RIG selftest-l2-fail: FAIL l2: no 'L2-RESULT fail PASS' on the L2 console" "$OUT" ||
	fail "wrong verdict for selftest-l2-fail"
grep -qx "  | L2-SELFTEST $token" "$OUT" || fail "the failing L2 console was not shown"
grep -qx "  | L2-RESULT fail FAIL rc=3" "$OUT" || fail "the L2 result line was not shown"
grep -qx "RIG selftest-host-fail: FAIL host check: host check refused on purpose" "$OUT" ||
	fail "wrong verdict for selftest-host-fail"
echo "rig selftest: PASS"
