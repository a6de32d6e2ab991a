# rig-bin: hv/tandem-vmm
# rig-bin: tests/usb/vmmctl
# Benchmark (bench/net/net-bench.sh), not a test: guest-to-guest TCP
# throughput (busybox wget of an N MiB file from busybox httpd) and ping
# round-trip time between two L2 guests on one L1 bridge, under tandem-vmm
# and under QEMU (-M microvm, virtio-net-pci on a TAP, vhost off: both VMMs
# move every frame in userspace), in the same L1 boot. For tandem-vmm also
# the userspace exits per packet, from both VMMs' stats ("exits" and "net")
# around the transfer. Report lines:
#   BENCH <vmm> mbps <MB/s> rtt_ms <avg> [exits_per_pkt <n>]
. /rig/lib.sh
cd "$RIG_WORK" || rig_fail "no work dir"
size=${RIG_BENCH_NET_MB:-16}
for word in $(cat /proc/cmdline); do
	case $word in rig.bench_net_mb=*) size=${word#rig.bench_net_mb=} ;; esac
done
brctl addbr tbbr0 || rig_fail "brctl addbr failed"
echo 0 >/sys/class/net/tbbr0/bridge/forward_delay 2>/dev/null
ip link set tbbr0 up
for t in tbts tbtc tbqs tbqc; do
	tunctl -t "$t" >/dev/null || rig_fail "tunctl -t $t failed"
	brctl addif tbbr0 "$t"
	ip link set "$t" up
done

append_for() { # SCENARIO ARG
	echo "console=ttyS0 quiet panic=-1 tandem.scenario=$1 tandem.arg=$2"
}

# boot VMM NAME TAP MAC SCENARIO ARG: one L2 in the background.
boot() {
	vmm=$1 name=$2 tap=$3 mac=$4
	app=$(append_for "$5" "$6")
	if [ "$vmm" = tandem ]; then
		set -- /rig/bin/tandem-vmm --kernel "$RIG_L2_KERNEL" --initrd "$RIG_L2_INITRD" \
			--cpus 1 --mem 192M "$(rig_tandem_cmdline_opt)" "$app" \
			--control "$RIG_WORK/$name.sock" --net "tap=$tap,mac=$mac"
	else
		set -- /rig/qemu/qemu-system-x86_64 -enable-kvm -M microvm,rtc=on,pcie=on \
			-cpu host -m 192M -smp 1 -nodefaults -no-user-config \
			-display none -no-reboot -serial stdio -L /rig/qemu/share \
			-kernel "$RIG_L2_KERNEL" -initrd "$RIG_L2_INITRD" -append "$app" \
			-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
			-device "virtio-net-pci,netdev=n0,mac=$mac,romfile="
	fi
	(timeout -s KILL 240 "$@" </dev/null 2>&1 | tr -d '\r' >"$RIG_WORK/$name.console") &
}

wait_line() { # FILE TEXT SECONDS
	i=0
	until grep -qF -- "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt $(($3 * 10)) ] || return 1
		sleep 0.1
	done
}

# exits.total and the NIC's packets (rx + tx) of one tandem-vmm.
snapshot() { # NAME
	/rig/bin/vmmctl "$RIG_WORK/$1.sock" '{"id":1,"cmd":"stats"}' | tr -d ' \n' | awk '{
		e = $0; sub(/.*"exits":\{"total":/, "", e); sub(/[^0-9].*/, "", e)
		r = $0; sub(/.*"rx_packets":/, "", r); sub(/[^0-9].*/, "", r)
		t = $0; sub(/.*"tx_packets":/, "", t); sub(/[^0-9].*/, "", t)
		print e, r + t }'
}

failed=""
for vmm in tandem qemu; do
	case $vmm in tandem) s=tbts c=tbtc ;; *) s=tbqs c=tbqc ;; esac
	boot $vmm "$vmm-server" $s 06:54:00:00:08:01 net-bench-serve "10.0.8.1:$size"
	wait_line "$RIG_WORK/$vmm-server.console" L2-SERVING 120 || { failed="$failed $vmm"; continue; }
	boot $vmm "$vmm-client" $c 06:54:00:00:08:02 net-bench-fetch 10.0.8.2:10.0.8.1
	extra=""
	if [ $vmm = tandem ]; then
		wait_line "$RIG_WORK/$vmm-client.console" L2-READY 120
		a1=$(snapshot tandem-server) b1=$(snapshot tandem-client)
	fi
	wait_line "$RIG_WORK/$vmm-client.console" L2-BENCH 200 || { failed="$failed $vmm"; wait; continue; }
	if [ $vmm = tandem ]; then
		a2=$(snapshot tandem-server) b2=$(snapshot tandem-client)
		extra=$(echo "$a1 $b1 $a2 $b2" | awk '{
			x = ($5 - $1) + ($7 - $3); p = ($6 - $2) + ($8 - $4)
			if (p > 0) printf "exits_per_pkt %.2f pkts %d", x / p, p }')
	fi
	wait
	line=$(sed -n 's/^L2-BENCH //p' "$RIG_WORK/$vmm-client.console")
	rig_report "BENCH $vmm $line $extra"
done
[ -z "$failed" ] || rig_fail "no result from:$failed"
