# Helpers for L2 scenarios (sourced: . /scenarios/lib.sh).

# Waits up to 10 s for a block device node to appear (devtmpfs creates it
# asynchronously after the driver probes).
wait_dev() {
	local i=0
	while [ ! -b "$1" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && { echo "L2: $1 did not appear"; return 1; }
		sleep 0.1
	done
}
