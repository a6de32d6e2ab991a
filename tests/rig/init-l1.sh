#!/bin/busybox sh
# /init of the L1 initramfs: the rig's "host". It loads kvm-amd (so /dev/kvm
# is hardware-assisted, nested SVM under QEMU TCG), runs the scenarios named
# by rig.scenarios=a,b,... on the kernel command line one after another,
# prints one verdict line per scenario and powers off.
#   RIG <scenario>: PASS
#   RIG <scenario>: FAIL <reason>
# A failing scenario's logs come first, between RIG-LOG-BEGIN <scenario> and
# RIG-LOG-END <scenario> (for every scenario with rig.show=all); report lines (numbers) between RIG-REPORT-BEGIN and
# RIG-REPORT-END.
/bin/busybox --install -s /bin
export PATH=/rig/bin:/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
# The host tuning docs/ARCHITECTURE.md asks for (tandemd applies it too):
# guest RAM is a memfd, and shmem gets huge pages only when asked.
echo advise >/sys/kernel/mm/transparent_hugepage/shmem_enabled 2>/dev/null
export HOME=/tmp
echo "RIG-L1 userspace at $(cut -d' ' -f1 /proc/uptime) s"

for m in $(cat /rig/modules/order); do
	insmod "/rig/modules/$m.ko" || echo "RIG-L1 insmod $m failed"
done

scenarios=""
timeout_s=300
show_all=""
for word in $(cat /proc/cmdline); do
	case $word in
	rig.scenarios=*) scenarios=$(echo "${word#rig.scenarios=}" | tr ',' ' ') ;;
	rig.timeout=*) timeout_s=${word#rig.timeout=} ;;
	rig.show=all) show_all=1 ;;
	# More words for every L2 command line, comma-separated (debugging:
	# rig.l2_extra=loglevel=7 shows the L2 kernel's boot messages).
	rig.l2_extra=*)
		RIG_L2_EXTRA=$(echo "${word#rig.l2_extra=}" | tr ',' ' ')
		export RIG_L2_EXTRA
		;;
	esac
done
[ -n "$scenarios" ] || echo "RIG-L1 no rig.scenarios= on the command line"

kvm_ok=""
if [ -c /dev/kvm ] && grep -qw svm /proc/cpuinfo; then
	kvm_ok=1
	echo "RIG-L1 /dev/kvm ready"
else
	echo "RIG-L1 /dev/kvm missing or no svm"
fi

for s in $scenarios; do
	work=/tmp/rig/$s
	mkdir -p "$work"
	echo "RIG-BEGIN $s"
	if [ ! -f "/rig/l1/$s.sh" ]; then
		echo "no scenario l1/$s.sh in the image" >"$work/reason"
		rc=1
	elif [ -z "$kvm_ok" ]; then
		echo "L1 has no hardware-assisted /dev/kvm" >"$work/reason"
		rc=1
	else
		(
			cd "$work" || exit 1
			export RIG_SCENARIO=$s RIG_WORK=$work RIG_DATA=/rig/data/$s
			export RIG_L2_KERNEL=/rig/l2/vmlinuz RIG_L2_INITRD=/rig/l2/initrd.gz
			exec timeout "$timeout_s" sh "/rig/l1/$s.sh"
		) >"$work/l1.log" 2>&1
		rc=$?
		# busybox timeout exits 143 (SIGTERM) where coreutils says 124.
		if [ $rc -eq 143 ] || [ $rc -eq 124 ]; then
			echo "timed out after $timeout_s s" >"$work/reason"
		fi
	fi
	# A scenario killed by its time limit may leave a VMM behind; as PID 1
	# this shell survives kill -1, everything else started here does not.
	kill -9 -1 2>/dev/null
	# The VMMs write guest disks through L1's page cache.
	sync
	if [ -f "$work/report" ]; then
		echo "RIG-REPORT-BEGIN $s"
		cat "$work/report"
		echo "RIG-REPORT-END $s"
	fi
	if [ $rc -ne 0 ] || [ -n "$show_all" ]; then
		echo "RIG-LOG-BEGIN $s"
		echo "--- L1 script log"
		cat "$work/l1.log"
		for c in "$work"/*.console; do
			[ -f "$c" ] || continue
			echo "--- L2 console ${c##*/}"
			cat "$c"
		done
		echo "RIG-LOG-END $s"
	fi
	if [ $rc -eq 0 ]; then
		echo "RIG $s: PASS"
	else
		reason=$(head -n 1 "$work/reason" 2>/dev/null)
		echo "RIG $s: FAIL ${reason:-exit status $rc}"
	fi
done
echo "RIG-L1 done"
sync
poweroff -f
