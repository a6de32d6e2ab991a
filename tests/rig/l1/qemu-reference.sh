# The rig's self-test and the benchmark baseline: linux-smp-blk with QEMU
# (-M microvm, -enable-kvm) as the L2 VMM instead of tandem-vmm.
RIG_VMM=qemu
. /rig/l1/linux-smp-blk.sh
