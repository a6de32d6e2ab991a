# net-bridge client ($1 = MYADDR:SERVERADDR): downloads /file.bin from the
# server with busybox wget (retrying while the server boots; no -T: busybox
# 1.35's wget -T crashes with SIGSEGV), prints its
# SHA-256 and the round-trip time, and tells the server it is done.
me=${1%%:*}
srv=${1#*:}
ip link set eth0 up || { echo "L2: no eth0"; exit 1; }
ip addr add "$me/24" dev eth0 || exit 1
i=0
until wget -q -O /tmp/file.bin "http://$srv/file.bin" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 90 ] || { echo "L2: no answer from $srv"; exit 1; }
	sleep 1
done
echo "L2-SHA256 $(sha256sum /tmp/file.bin | cut -d' ' -f1)"
echo "L2-PING $(ping -c 5 -i 0.2 "$srv" | tail -n 1)"
echo fetched | nc -w 2 "$srv" 5000
