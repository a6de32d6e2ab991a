# Host side of net-slirp: two random tokens, one served by L1 to the guest,
# one sent by L1 into the guest through a slirp port forward.
host_prepare() {
	rig_random >"$RIG_DATA/token"
	rig_random >"$RIG_DATA/fwd-token"
}
