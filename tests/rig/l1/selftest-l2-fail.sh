# Rig self-test (tests/rig/selftest.sh), meant to FAIL: the L2 guest, under
# QEMU, prints the host's token and fails its scenario; the verdict must be
# FAIL and the report must show that console.
. /rig/lib.sh
rig_boot_l2 qemu l2 --scenario fail --arg "$(rig_data token)" --timeout 120
rig_expect l2 "L2-RESULT fail PASS"
