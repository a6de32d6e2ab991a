# bench-net client ($1 = MYADDR:SERVERADDR): after one warm-up request,
# times a wget of the server's big.bin (TCP throughput) and pings it
# (latency); prints "L2-BENCH mbps X rtt_ms Y".
me=${1%%:*}
srv=${1#*:}
ip link set eth0 up || exit 1
ip addr add "$me/24" dev eth0 || exit 1
i=0
until ping -c 1 -W 1 "$srv" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 60 ] || { echo "L2: $srv unreachable"; exit 1; }
done
echo L2-READY
sleep 1
t0=$(cut -d' ' -f1 /proc/uptime)
wget -q -O /tmp/big.bin "http://$srv/big.bin" || exit 1
t1=$(cut -d' ' -f1 /proc/uptime)
bytes=$(wc -c </tmp/big.bin)
rm -f /tmp/big.bin
rtt=$(ping -c 20 -i 0.2 "$srv" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')
echo "L2-BENCH $(awk -v b="$bytes" -v a="$t0" -v z="$t1" 'BEGIN { d = z - a; if (d <= 0) d = 0.01; printf "mbps %.2f", b / d / 1048576 }') rtt_ms ${rtt:-fail} bytes $bytes"
# L1 reads both VMMs' stats once it sees L2-BENCH: stay up meanwhile.
sleep 2
echo done | nc -w 2 "$srv" 5000
