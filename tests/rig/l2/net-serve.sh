# net-bridge server: publishes /dev/vda (the host's random file) as
# /file.bin with busybox httpd on $1 and waits for the client's "fetched".
. /scenarios/lib.sh
addr=$1
wait_dev /dev/vda || exit 1
mkdir -p /tmp/www
cat /dev/vda >/tmp/www/file.bin || exit 1
ip link set eth0 up || { echo "L2: no eth0"; exit 1; }
ip addr add "$addr/24" dev eth0 || exit 1
httpd -p 80 -h /tmp/www || exit 1
echo "L2-SERVING $(sha256sum /tmp/www/file.bin | cut -d' ' -f1)"
timeout 170 nc -l -p 5000 </dev/null >/tmp/done
echo "L2-DONE $(cat /tmp/done)"
grep -q fetched /tmp/done
