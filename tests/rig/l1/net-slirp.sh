# rig-bin: hv/tandem-vmm
# An unmodified Linux guest with tandem-vmm --net user (libslirp): it
# fetches a token from busybox httpd on L1's 127.0.0.1 through slirp's host
# address 10.0.2.2, and receives another one that L1 sends to 127.0.0.1:8081,
# which hostfwd carries to the guest's port 80.
. /rig/lib.sh
cd "$RIG_WORK" || rig_fail "no work dir"
token=$(rig_data token)
fwd=$(rig_data fwd-token)
ip link set lo up
mkdir -p www
echo "$token" >www/token.txt
httpd -p 127.0.0.1:8080 -h "$RIG_WORK/www" || rig_fail "httpd did not start in L1"
# Until the guest listens, slirp accepts and closes at once; keep sending.
(for i in $(seq 120); do
	echo "$fwd" | nc -w 2 127.0.0.1 8081 >/dev/null 2>&1
	sleep 1
done) &
pusher=$!
rig_boot_l2 tandem l2 --mem 160M --scenario net-user --arg 8080 --timeout 150 \
	--vmm-arg --net --vmm-arg "user,hostfwd=tcp::8081-:80"
kill $pusher 2>/dev/null
[ "$RIG_RC" = 0 ] || rig_fail "tandem-vmm exited with status $RIG_RC"
rig_expect l2 "L2-GOT $token"
rig_expect l2 "L2-FWD $fwd"
rig_expect l2 "L2-RESULT net-user PASS"
