#!/bin/bash
# tandem-vmm runs its guest under the seccomp allow-list: once the guest
# runs, every thread of the VMM (vCPUs, the event loop, backend threads) is
# in seccomp filter mode with no_new_privs; --no-sandbox leaves them free.
# usage: sandbox.sh VMM IDLE_GUEST
set -u
vmm=$1 guest=$2
[ -e /dev/kvm ] || { echo "SKIP: no /dev/kvm"; exit 77; }
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# start ARGS... -> sets pid once the control socket is up (guest running)
start() {
	rm -f "$work/ctl.sock"
	"$vmm" --kernel "$guest" --mem 16M --console none --cpus 2 \
		--control "$work/ctl.sock" "$@" </dev/null 2>"$work/err" &
	pid=$!
	for _ in $(seq 1 200); do
		[ -S "$work/ctl.sock" ] && [ "$(ls /proc/$pid/task | wc -l)" -ge 3 ] && return 0
		kill -0 $pid 2>/dev/null || fail "the VMM exited: $(cat "$work/err")"
		sleep 0.05
	done
	fail "the VMM did not come up"
}
# field VALUE: every thread's status has "field: VALUE"
all_threads() {
	local n=0 t
	for t in /proc/$pid/task/*; do
		grep -q "^$1:[[:space:]]*$2\$" "$t/status" ||
			fail "thread $(cat "$t/comm") has $(grep "^$1:" "$t/status")"
		n=$((n + 1))
	done
	echo "ok: $n threads with $1 $2 $3"
}

start
all_threads Seccomp 2 "(filter)"
all_threads NoNewPrivs 1 ""
kill -TERM $pid
wait $pid
status=$?
[ $status -eq 1 ] || fail "exit status $status after SIGTERM, want 1"
grep -q "sandbox: blocked" "$work/err" && fail "a call was blocked: $(cat "$work/err")"

start --no-sandbox
all_threads Seccomp 0 "(--no-sandbox)"
kill -TERM $pid
wait $pid
pid=""
echo "ok: the allow-list covers every VMM thread, and only when asked"
