# L2 scenario "fail" (rig self-test): prints $1 and fails.
echo "L2-SELFTEST $1"
exit 3
