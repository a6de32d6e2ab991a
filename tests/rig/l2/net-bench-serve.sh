# bench-net server ($1 = ADDR:MIB): serves an MIB MiB file with busybox
# httpd until the client says it is done.
addr=${1%%:*}
mib=${1#*:}
mkdir -p /tmp/www
dd if=/dev/zero of=/tmp/www/big.bin bs=1M count="$mib" 2>/dev/null || exit 1
ip link set eth0 up || exit 1
ip addr add "$addr/24" dev eth0 || exit 1
httpd -p 80 -h /tmp/www || exit 1
echo L2-SERVING
timeout 220 nc -l -p 5000 </dev/null >/dev/null
