# L2 scenario "boot": reaching userspace is the test; report what the guest
# sees so a log shows the machine shape.
echo "L2-CPUS $(grep -c '^processor' /proc/cpuinfo)"
echo "L2-MEM $(sed -n 's/^MemTotal: *//p' /proc/meminfo)"
# tandem.dmesg=1 (e.g. via rig.l2_extra): the kernel's log with timestamps,
# which quiet kept off the slow serial console, for comparing boots.
if grep -qw tandem.dmesg=1 /proc/cmdline; then
	dmesg | sed 's/^/L2-DMESG /'
fi
exit 0
