# Same disk set-up and check as linux-smp-blk.
. "$RIG_DIR/host/linux-smp-blk.sh"
