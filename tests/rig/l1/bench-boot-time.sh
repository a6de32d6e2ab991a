# rig-bin: hv/tandem-vmm
# Benchmark (bench/rig/boot-time.sh), not a test: boots the L2 kernel to its
# init's first line, 1 vCPU and 256 MiB, no disk, under tandem-vmm and under
# QEMU -M microvm, alternately, RIG_BENCH_RUNS times each (default 5). One
# report line per boot:
#   BENCH <vmm> <run> <seconds from VMM start to L2 userspace | fail> <L2 uptime then | ->
# The verdict is PASS only if every boot under both VMMs got there.
. /rig/lib.sh
runs=5
for word in $(cat /proc/cmdline); do
	case $word in rig.bench_runs=*) runs=${word#rig.bench_runs=} ;; esac
done
failed=""
i=1
while [ $i -le "$runs" ]; do
	for vmm in qemu tandem; do
		if [ $vmm = tandem ] && [ ! -x /rig/bin/tandem-vmm ]; then
			rig_report "BENCH tandem $i fail -"
			failed="$failed tandem"
			continue
		fi
		rig_boot_l2 $vmm "$vmm-$i" --cpus 1 --mem 256M --scenario boot --timeout 90
		up=$(sed -n 's/^L2-UPTIME //p' "$RIG_WORK/$vmm-$i.console")
		if [ "$RIG_RC" = 0 ] && [ -n "$RIG_BOOT_S" ]; then
			rig_report "BENCH $vmm $i $RIG_BOOT_S ${up:--}"
		else
			rig_report "BENCH $vmm $i fail -"
			failed="$failed $vmm"
		fi
	done
	i=$((i + 1))
done
[ -z "$failed" ] || rig_fail "boots that did not reach L2 userspace:$failed"
