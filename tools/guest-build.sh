#!/bin/sh
# Builds a freestanding guest ELF: guest-build.sh OUT LDSCRIPT BITS CFLAGS... -- SOURCES...
# Meson's sanitizer/PIE options must never reach guest code, so guests are
# compiled here with a fixed flag set.
set -eu
out=$1 lds=$2 bits=$3
shift 3
flags=""
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do flags="$flags $1"; shift; done
[ "$#" -gt 0 ] && shift
${GUEST_CC:-gcc} -m$bits -ffreestanding -fno-pic -fno-pie -no-pie -nostdlib -nostdinc \
  -fno-stack-protector -fno-asynchronous-unwind-tables -fno-builtin -O2 -g0 \
  -Wall -Wextra -Werror -std=gnu11 -static -Wl,--build-id=none -Wl,-T,"$lds" \
  $flags -o "$out" "$@"
