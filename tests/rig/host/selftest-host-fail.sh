host_check() { echo "host check refused on purpose"; return 1; }
