# rig-bin: hv/tandem-vmm
. /rig/lib.sh
timeout -s KILL 60 /rig/bin/tandem-vmm --kernel "$RIG_L2_KERNEL" --initrd "$RIG_L2_INITRD" --cpus 2 --mem 512M --cmdline "console=ttyS0 earlyprintk=serial,ttyS0,115200 loglevel=8 panic=-1 tandem.scenario=boot" </dev/null > $RIG_WORK/dbg.console 2>&1
echo "rc=$?" >> $RIG_WORK/dbg.console
rig_fail "debug"
