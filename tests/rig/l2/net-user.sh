# net-slirp guest: static address in slirp's network, fetches token.txt from
# the L1 host (10.0.2.2:$1) and then prints what arrives on port 80 (sent by
# L1 through hostfwd).
ip link set eth0 up || { echo "L2: no eth0"; exit 1; }
ip addr add 10.0.2.15/24 dev eth0 || exit 1
ip route add default via 10.0.2.2 || exit 1
got=$(wget -q -O - "http://10.0.2.2:$1/token.txt") || { echo "L2: wget from 10.0.2.2:$1 failed"; exit 1; }
echo "L2-GOT $got"
timeout 60 nc -l -p 80 </dev/null >/tmp/fwd
echo "L2-FWD $(cat /tmp/fwd)"
[ -s /tmp/fwd ]
