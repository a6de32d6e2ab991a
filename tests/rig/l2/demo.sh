# L2 scenario "demo": a banner on the framebuffer console, then idle for
# tandem.arg seconds (default 8) so dom0 can show it; then the init powers off.
{
	printf '\033[2J\033[H'
	echo "  Tandem domU linux1: unmodified Debian $(uname -r)"
	echo "  $(grep -c '^processor' /proc/cpuinfo) vCPUs, $(sed -n 's/^MemTotal: *//p' /proc/meminfo) RAM"
	echo "  framebuffer: $(cat /sys/class/graphics/fb0/name 2>/dev/null) $(cat /sys/class/graphics/fb0/virtual_size 2>/dev/null)"
	echo
	echo "  This is the new Linux terminal that takes over from the legacy guest."
} >/dev/tty0
echo "L2-DEMO-READY"
sleep "${1:-8}"
exit 0
