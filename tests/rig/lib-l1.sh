# Helpers for L1 scenario scripts (busybox sh; installed as /rig/lib.sh).
# A scenario script runs in $RIG_WORK (a fresh tmpfs directory) and passes
# by exiting 0. Environment set by /init:
#   RIG_SCENARIO  the scenario's name
#   RIG_WORK      its work directory; every *.console file there is shown
#                 when the scenario fails
#   RIG_DATA      /rig/data/<scenario>: files the host hook put there
#   RIG_L2_KERNEL, RIG_L2_INITRD  the unmodified L2 guest

# Ends the scenario with a verdict of FAIL and a one-line reason.
rig_fail() {
	echo "$*" >"$RIG_WORK/reason"
	echo "FAIL: $*"
	exit 1
}

# Adds a line to the scenario's report: /init prints it whatever the
# verdict (benchmarks use this for their numbers).
rig_report() {
	echo "$*" >>"$RIG_WORK/report"
}

# Prints the content of a file the host hook gave this scenario.
rig_data() {
	[ -f "$RIG_DATA/$1" ] || rig_fail "host data '$1' missing (is host/$RIG_SCENARIO.sh run?)"
	cat "$RIG_DATA/$1"
}

# Prints /dev/vdX of the disk that run.sh attached to L1 with this virtio
# serial (default: the scenario's name), waiting up to 5 s for the probe.
rig_disk() {
	serial=${1:-$RIG_SCENARIO}
	i=0
	while [ $i -lt 50 ]; do
		for d in /sys/block/vd*; do
			[ -f "$d/serial" ] || continue
			if [ "$(cat "$d/serial")" = "$serial" ]; then
				echo "/dev/${d##*/}"
				return 0
			fi
		done
		i=$((i + 1))
		sleep 0.1
	done
	return 1
}

# Seconds since L1 booted (CLOCK_BOOTTIME, 10 ms resolution).
rig_now() {
	cut -d' ' -f1 /proc/uptime
}

# The tandem-vmm option that takes the guest kernel command line.
rig_tandem_cmdline_opt() {
	help=$(/rig/bin/tandem-vmm --help 2>&1)
	for opt in --cmdline --append; do
		case $help in *"$opt"*)
			echo "$opt"
			return
			;;
		esac
	done
	echo --cmdline
}

# rig_boot_l2 VMM NAME [--cpus N] [--mem SIZE] [--disk PATH[,ro]]
#             [--scenario L2-SCENARIO] [--arg TEXT] [--timeout SECONDS]
#             [--vmm-arg ARG]...
# Boots the L2 kernel and initramfs under VMM ("tandem" for tandem-vmm,
# "qemu" for the reference QEMU -M microvm) and waits for it to exit.
# The guest console goes to $RIG_WORK/NAME.console. Sets RIG_RC (the VMM's
# exit status, 137 when it ran past the timeout) and RIG_BOOT_S (seconds
# from VMM start to the L2 init's first line, empty if it never came).
# --vmm-arg adds one argument to the tandem-vmm command line (e.g. --usb kbd).
rig_boot_l2() {
	vmm=$1
	name=$2
	shift 2
	cpus=1 mem=256M disk="" l2scenario=boot arg="" tmo=120 vmmargs=""
	while [ $# -gt 0 ]; do
		case $1 in
		--cpus) cpus=$2 ;;
		--mem) mem=$2 ;;
		--disk) disk=$2 ;;
		--scenario) l2scenario=$2 ;;
		--arg) arg=$2 ;;
		--timeout) tmo=$2 ;;
		--vmm-arg) vmmargs="$vmmargs
$2" ;;
		*) rig_fail "rig_boot_l2: unknown option $1" ;;
		esac
		shift 2
	done
	append="console=ttyS0 quiet panic=-1 tandem.scenario=$l2scenario"
	[ -n "$arg" ] && append="$append tandem.arg=$arg"
	[ -n "${RIG_L2_EXTRA:-}" ] && append="$append $RIG_L2_EXTRA"
	case $vmm in
	tandem)
		[ -x /rig/bin/tandem-vmm ] || rig_fail "tandem-vmm is not in the L1 image (not built?)"
		set -- /rig/bin/tandem-vmm --kernel "$RIG_L2_KERNEL" --initrd "$RIG_L2_INITRD" \
			--cpus "$cpus" --mem "$mem" "$(rig_tandem_cmdline_opt)" "$append"
		[ -n "$disk" ] && set -- "$@" --disk "$disk"
		# One argument per line, so arguments may contain spaces.
		oldifs=$IFS
		IFS='
'
		for a in $vmmargs; do set -- "$@" "$a"; done
		IFS=$oldifs
		;;
	qemu)
		set -- /rig/qemu/qemu-system-x86_64 -enable-kvm -M microvm,rtc=on,pcie=on \
			-cpu host -m "$mem" -smp "$cpus" -nodefaults -no-user-config \
			-display none -no-reboot -serial stdio -L /rig/qemu/share \
			-kernel "$RIG_L2_KERNEL" -initrd "$RIG_L2_INITRD" -append "$append"
		if [ -n "$disk" ]; then
			ro=""
			case $disk in *,ro)
				disk=${disk%,ro}
				ro=",readonly=on"
				;;
			esac
			set -- "$@" -drive "id=d0,file=$disk,format=raw,if=none$ro" \
				-device virtio-blk-pci,drive=d0
		fi
		;;
	*) rig_fail "rig_boot_l2: unknown VMM '$vmm'" ;;
	esac
	echo "L1: run $*"
	console=$RIG_WORK/$name.console
	rm -f "$RIG_WORK/$name.rc" "$RIG_WORK/$name.t"
	t0=$(rig_now)
	{
		# SIGKILL: QEMU would exit 0 on SIGTERM and hide the timeout.
		timeout -s KILL "$tmo" "$@" </dev/null 2>&1
		echo $? >"$RIG_WORK/$name.rc"
	} | awk -v out="$console" -v stamp="$RIG_WORK/$name.t" '
		BEGIN { printf "" > out }
		{ sub(/\r$/, ""); print > out }
		!seen && /L2-USERSPACE/ {
			seen = 1
			getline up < "/proc/uptime"
			split(up, f, " ")
			print f[1] > stamp
			close(stamp)
		}'
	RIG_RC=$(cat "$RIG_WORK/$name.rc" 2>/dev/null || echo 255)
	RIG_BOOT_S=""
	if [ -f "$RIG_WORK/$name.t" ]; then
		RIG_BOOT_S=$(awk -v a="$t0" -v b="$(cat "$RIG_WORK/$name.t")" 'BEGIN { printf "%.2f", b - a }')
	fi
	[ "$RIG_RC" = 137 ] && echo "L1: $vmm killed after $tmo s"
	echo "L1: $vmm exited $RIG_RC, L2 userspace after ${RIG_BOOT_S:-never} s"
}

# Fails the scenario unless the console of boot NAME has a line containing
# TEXT.
rig_expect() {
	grep -q L2-USERSPACE "$RIG_WORK/$1.console" ||
		rig_fail "$1: L2 never reached userspace ($(wc -l <"$RIG_WORK/$1.console") console lines)"
	grep -qF -- "$2" "$RIG_WORK/$1.console" || rig_fail "$1: no '$2' on the L2 console"
}
