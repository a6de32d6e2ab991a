# Host side of usb-hotplug (sourced by run.sh): L1 gets an empty qemu-xhci
# and a second serial port whose output is a file here. When L1 writes
# PLUG-ON to it, a QEMU usb-storage stick (ext4 with a random token) is
# hot-added to L1 through the QEMU monitor; PLUG-OFF removes it again.
hotplug_monitor() { # HMP-COMMAND
	python3 - "$RIG_QEMU_MONITOR" "$1" <<'PY'
import re, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
time.sleep(0.3)
s.recv(65536)  # banner and prompt
s.sendall(sys.argv[2].encode() + b"\n")
time.sleep(1)
# HMP echoes the command with terminal escapes; keep its answer only.
out = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", s.recv(65536).decode(errors="replace"))
lines = [ln.strip() for ln in out.splitlines()]
print(sys.argv[2].split()[0] + ": " + " / ".join(
    ln for ln in lines if ln and ln != "(qemu)" and sys.argv[2][:20] not in ln))
PY
}

# Runs in the background for the whole L1 boot.
hotplug_driver() {
	local marks=$RIG_HOST_WORK/marks plugged="" i=0
	while [ $i -lt 4000 ]; do
		if [ -z "$plugged" ] && grep -q PLUG-ON "$marks" 2>/dev/null; then
			hotplug_monitor "drive_add 0 if=none,id=hpdrive,format=raw,file=$RIG_HOST_WORK/stick.img"
			hotplug_monitor "device_add usb-storage,bus=hpxhci.0,drive=hpdrive,id=hpstick,serial=HPSTICK"
			plugged=1
		fi
		if [ -n "$plugged" ] && grep -q PLUG-OFF "$marks" 2>/dev/null; then
			hotplug_monitor "device_del hpstick"
			return 0
		fi
		i=$((i + 1))
		sleep 0.2
	done
}

host_prepare() {
	rig_random >"$RIG_DATA/token"
	mkdir -p "$RIG_HOST_WORK/root"
	cp "$RIG_DATA/token" "$RIG_HOST_WORK/root/token.txt"
	mkfs.ext4 -q -F -L hpstick -d "$RIG_HOST_WORK/root" "$RIG_HOST_WORK/stick.img" 16M
	: >"$RIG_HOST_WORK/marks"
	rig_qemu_args -device qemu-xhci,id=hpxhci \
		-chardev "file,id=hpmarks,path=$RIG_HOST_WORK/marks" \
		-device isa-serial,chardev=hpmarks,index=1
	hotplug_driver >"$RIG_HOST_WORK/driver.log" 2>&1 &
	echo $! >"$RIG_HOST_WORK/driver.pid"
}

host_check() {
	local pid
	pid=$(cat "$RIG_HOST_WORK/driver.pid" 2>/dev/null)
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	grep -q PLUG-OFF "$RIG_HOST_WORK/marks" || { echo "L1 never asked for the unplug"; return 1; }
	grep -qi "error\|could not" "$RIG_HOST_WORK/driver.log" &&
		{ echo "QEMU monitor: $(grep -i -m1 "error\|could not" "$RIG_HOST_WORK/driver.log")"; return 1; }
	return 0
}
