# Rig self-test, meant to FAIL on the host only: L1 passes, and
# host/selftest-host-fail.sh's check refuses.
. /rig/lib.sh
echo "nothing to do in L1"
