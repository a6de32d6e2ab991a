# rig-bin: hv/tandem-vmm
# rig-bin: hv/control/tandemd
# rig-bin: hv/control/tandem
# rig-bin: legacy/legacy.elf
# rig-bin: legacy/legacy-mkdisk
# The legacy guest under hardware-assisted KVM, driven by the real toolstack:
# tandemd starts it from an xl.cfg, it boots to its terminal, and a clean
# shutdown through the PV event path ends it with power-off.
. /rig/lib.sh
cd "$RIG_WORK" || rig_fail "no work dir"
/rig/bin/legacy-mkdisk data.img >legacy.console 2>&1 || rig_fail "legacy-mkdisk failed"
cat >legacy.cfg <<CFG
name = "legacy"
type = "tandem-legacy"
kernel = "/rig/bin/legacy.elf"
memory = 16
disk = [ 'data.img,raw,xvda,rw' ]
on_poweroff = "preserve"
CFG
export TANDEM_SOCKET=$RIG_WORK/tandemd.sock
/rig/bin/tandemd --socket "$TANDEM_SOCKET" --db "$RIG_WORK/tandem.db" --run-dir "$RIG_WORK/run" \
	--vmm /rig/bin/tandem-vmm >tandemd.console 2>&1 &
daemon=$!
i=0
until [ -S "$TANDEM_SOCKET" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || rig_fail "tandemd did not start"
	sleep 0.1
done
t0=$(rig_now)
/rig/bin/tandem create legacy.cfg >>legacy.console 2>&1 || rig_fail "tandem create failed"
t1=$(rig_now)
/rig/bin/tandem list >>legacy.console 2>&1
/rig/bin/tandem list --json | grep -q '"state": *"running"' || rig_fail "legacy is not running"
sleep 1
/rig/bin/tandem shutdown -w legacy >>legacy.console 2>&1 || rig_fail "clean shutdown failed"
/rig/bin/tandem events >>legacy.console 2>&1
/rig/bin/tandem list >>legacy.console 2>&1
kill $daemon

# Time from VMM start to the login screen (the guest prints "legacy: ready"
# right after drawing it); a measurement, reported only. Guest instructions
# are counted on the dev machine (bench/legacy): single-stepping under the
# rig's nested SVM loses steps (327 counted against 26,257 executed).
login_run() { # NAME [tandem-vmm args]
	local name=$1 i=0
	shift
	/rig/bin/legacy-mkdisk "$name.img" >/dev/null 2>&1 || rig_fail "legacy-mkdisk failed"
	local t0
	t0=$(rig_now)
	/rig/bin/tandem-vmm --legacy /rig/bin/legacy.elf --mem 16M --disk "$name.img" \
		--console "file:$RIG_WORK/$name.console" "$@" 2>"$name.err" &
	local vmm=$!
	until grep -q "legacy: ready" "$name.console" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 1200 ] || { kill $vmm; rig_fail "$name: no login screen in 60 s"; }
		sleep 0.05
	done
	LOGIN_S=$(awk -v a="$t0" -v b="$(rig_now)" 'BEGIN { printf "%.2f", b - a }')
	kill -TERM $vmm
	wait $vmm
	cat "$name.err" >>legacy.console
}
login_run login
rig_report "legacy VMM-start-to-login-screen $LOGIN_S s under hardware KVM"
rig_report "legacy create-to-running $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s under hardware KVM"
