#!/bin/bash
# Builds tests/storage/fuzz_image.c with clang -fsanitize=fuzzer,address and
# runs it FUZZ_SECONDS (default 15) per format on a seed corpus made by
# qemu-img. Any crash, leak or sanitizer report fails. Exit 77 (skip) without
# clang's libFuzzer. Usage: fuzz.sh SRCDIR
set -euo pipefail
src=$1
secs=${FUZZ_SECONDS:-15}
work=$(mktemp -d /tmp/storage-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
cc=${CLANG:-clang}
command -v "$cc" >/dev/null || { echo "SKIP: no clang"; exit 77; }
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$work/probe.c"
"$cc" -fsanitize=fuzzer "$work/probe.c" -o "$work/probe" 2>/dev/null ||
	{ echo "SKIP: clang has no libFuzzer"; exit 77; }
st=$src/pvdrivers/storage
"$cc" -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -I"$st" -I"$src/pvdrivers/virtio" \
	"$src/tests/storage/fuzz_image.c" "$st"/image.c "$st"/qcow2.c "$st"/qcow2_meta.c \
	"$st"/vhd.c "$st"/vmdk.c "$src/pvdrivers/virtio/blk_raw.c" -lz -lzstd -o "$work/fuzz"

# Seeds: small images of each kind, with data, made by qemu-img/qemu-io.
mk() { # FORMAT NAME qemu-img-create-args...
	local fmt=$1 name=$2
	shift 2
	mkdir -p "$work/seed-$fmt"
	qemu-img create -q "$@" "$work/$name" 1M
	qemu-io -f "${fmt/vpc/vpc}" -c "write -P 0x5a 0 64k" -c "write -P 0xa5 512k 4k" \
		"$work/$name" >/dev/null
	cp "$work/$name" "$work/seed-$fmt/$name"
}
mk qcow2 v3.qcow2 -f qcow2 -o cluster_size=4096
mk qcow2 v2.qcow2 -f qcow2 -o compat=0.10,cluster_size=4096
qemu-img convert -c -O qcow2 -o cluster_size=4096 "$work/v3.qcow2" "$work/seed-qcow2/zlib.qcow2"
qemu-img convert -c -O qcow2 -o cluster_size=4096,compression_type=zstd "$work/v3.qcow2" \
	"$work/seed-qcow2/zstd.qcow2"
qemu-img snapshot -c snap "$work/seed-qcow2/v2.qcow2"
mk vpc dyn.vhd -f vpc
mk vpc fixed.vhd -f vpc -o subformat=fixed
mk vmdk sparse.vmdk -f vmdk
qemu-img convert -O vmdk -o subformat=streamOptimized "$work/sparse.vmdk" \
	"$work/seed-vmdk/stream.vmdk"

rc=0
for fmt in qcow2 vpc vmdk; do
	mkdir -p "$work/corpus-$fmt"
	echo "fuzz: $fmt for ${secs}s on $(ls "$work/seed-$fmt" | tr '\n' ' ')"
	if ! FUZZ_FORMAT=$fmt "$work/fuzz" -max_total_time="$secs" -max_len=262144 \
		-rss_limit_mb=1024 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$work/" "$work/corpus-$fmt" "$work/seed-$fmt" >"$work/log-$fmt" 2>&1; then
		echo "FAIL: $fmt"
		grep -E "ERROR|SUMMARY|panic|==[0-9]+==| #[0-9]+ " "$work/log-$fmt" | head -30
		ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null | while read -r a; do
			echo "artifact $a: $(od -An -tx1 -N64 "$a" | tr -d '\n')"
		done
		rc=1
	else
		grep -E "stat::number_of_executed_units|cov:" "$work/log-$fmt" | tail -2
	fi
done
exit $rc
