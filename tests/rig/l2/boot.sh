# L2 scenario "boot": reaching userspace is the test; report what the guest
# sees so a log shows the machine shape.
echo "L2-CPUS $(grep -c '^processor' /proc/cpuinfo)"
echo "L2-MEM $(sed -n 's/^MemTotal: *//p' /proc/meminfo)"
exit 0
