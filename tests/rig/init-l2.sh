#!/bin/busybox sh
# /init of the L2 initramfs: the unmodified guest's userspace. It prints a
# boot marker, loads the virtio and ext4 modules, runs the scenario named by
# tandem.scenario= on the kernel command line (l2/<name>.sh, with the value
# of tandem.arg= as $1), prints one result line and powers off (or reboots,
# with tandem.exit=reboot), so that the VMM exits.
/bin/busybox echo "L2-USERSPACE"
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
echo "L2-UPTIME $(cut -d' ' -f1 /proc/uptime)"

for m in $(cat /lib/modules/order); do
	insmod "/lib/modules/$m.ko" || echo "L2-WARN insmod $m failed"
done

scenario=boot
arg=""
exit_how=poweroff
for word in $(cat /proc/cmdline); do
	case $word in
	tandem.scenario=*) scenario=${word#tandem.scenario=} ;;
	tandem.arg=*) arg=${word#tandem.arg=} ;;
	tandem.exit=*) exit_how=${word#tandem.exit=} ;;
	esac
done

if [ -f "/scenarios/$scenario.sh" ]; then
	sh "/scenarios/$scenario.sh" "$arg"
	rc=$?
else
	echo "L2: no scenario '$scenario'"
	rc=127
fi
if [ $rc -eq 0 ]; then
	echo "L2-RESULT $scenario PASS"
else
	echo "L2-RESULT $scenario FAIL rc=$rc"
fi
sync
# Without a power-off method the kernel returns from poweroff -f and init
# exits; with panic=-1 on the command line that becomes a reset, which a VMM
# sees as well.
if [ "$exit_how" = reboot ]; then
	reboot -f
else
	poweroff -f
fi
sleep 5
exit 1
