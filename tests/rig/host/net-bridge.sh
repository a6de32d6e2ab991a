# Host side of net-bridge (sourced by run.sh): one MiB of random bytes that
# the serving L2 guest publishes over HTTP; the disk carries it to L1 and on
# to that guest, and its SHA-256 is what the fetching guest must report.
host_prepare() {
	head -c 1048576 /dev/urandom >"$RIG_HOST_WORK/file.bin"
	sha256sum "$RIG_HOST_WORK/file.bin" | cut -d' ' -f1 >"$RIG_DATA/sha256"
	rig_attach_disk "$RIG_HOST_WORK/file.bin"
}
