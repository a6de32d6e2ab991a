#!/bin/bash
# Builds the rig's boot images into OUTDIR:
#   vmlinuz      the Debian kernel used for both L1 and L2
#   l2.cpio.gz   L2 initramfs: busybox, virtio + ext4 modules, l2/*.sh
#   l1.cpio      L1 initramfs: busybox, kvm-amd + virtio modules, the
#                project binaries (--bin), QEMU as the reference VMM, the L2
#                kernel and initramfs, l1/*.sh
# The images are rebuilt only when the hash over every input (paths and
# contents) differs from the one stored with them, so calling this before
# every run costs a few hundred milliseconds.
#
# usage: build-images.sh OUTDIR [--bin PATH]... [--kernel VMLINUZ]
set -euo pipefail

RIG_DIR=$(cd "$(dirname "$0")" && pwd)

die() {
	echo "build-images: $*" >&2
	exit 1
}

[ $# -ge 1 ] || die "usage: build-images.sh OUTDIR [--bin PATH]... [--kernel VMLINUZ]"
OUT=$1
shift
BINS=()
KERNEL=""
while [ $# -gt 0 ]; do
	case $1 in
	--bin)
		[ $# -ge 2 ] || die "--bin needs a path"
		[ -f "$2" ] || die "--bin $2: no such file"
		BINS+=("$(realpath "$2")")
		shift 2
		;;
	--kernel)
		[ $# -ge 2 ] || die "--kernel needs a path"
		KERNEL=$2
		shift 2
		;;
	*) die "unknown argument '$1'" ;;
	esac
done

if [ -z "$KERNEL" ]; then
	KERNEL=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
	[ -n "$KERNEL" ] || die "no /boot/vmlinuz-*: apt-get install linux-image-amd64"
fi
[ -f "$KERNEL" ] || die "kernel $KERNEL: no such file"
KVER=${KERNEL##*/vmlinuz-}
[ -d "/lib/modules/$KVER/kernel" ] || die "no modules for $KVER in /lib/modules"
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1 ||
	die "$BUSYBOX is missing or not static: apt-get install busybox-static"
QEMU=$(command -v qemu-system-x86_64) || die "no qemu-system-x86_64: apt-get install qemu-system-x86"

# The manifest is "SOURCE DEST" per line; it is the list of inputs that is
# hashed and then the list of files that is copied.
L1_MANIFEST=()
L2_MANIFEST=()
l1() { L1_MANIFEST+=("$1 $2"); }
l2() { L2_MANIFEST+=("$1 $2"); }

# Module names in insmod order: each module after everything it depends on.
declare -A MOD_SEEN=()
MOD_ORDER=()
resolve_module() {
	local name=${1//-/_} dep
	[ -n "${MOD_SEEN[$name]:-}" ] && return 0
	MOD_SEEN[$name]=1
	for dep in $(modinfo -k "$KVER" -F depends "$name" | tr ',' ' '); do
		resolve_module "$dep"
	done
	MOD_ORDER+=("$name")
}
modules_for() { # LIST-FILE -> sets MOD_ORDER
	MOD_SEEN=()
	MOD_ORDER=()
	local name
	while read -r name; do
		case $name in '' | '#'*) continue ;; esac
		resolve_module "$name"
	done <"$1"
}
module_file() {
	local f
	f=$(modinfo -k "$KVER" -F filename "$1") || die "module $1 not found for $KVER"
	case $f in *.ko) ;; *) die "module $1 is $f: only uncompressed .ko is handled" ;; esac
	echo "$f"
}

# A dynamically linked program with the libraries ldd names, at their own
# paths, plus the loader.
with_libs_in() { # l1|l2 SRC DEST
	local tree=$1 lib
	"$tree" "$2" "$3"
	if ldd "$2" >/dev/null 2>&1; then
		for lib in $(ldd "$2" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'); do
			"$tree" "$lib" "$lib"
		done
		"$tree" /lib64/ld-linux-x86-64.so.2 /lib64/ld-linux-x86-64.so.2
	fi
}
with_libs() { with_libs_in l1 "$@"; }

# extra.l1 / extra.l2: host programs and files a scenario needs, one per
# line: "prog PATH" (copied with its libraries, same path) or
# "file SRC [DEST]" (DEST defaults to SRC). A missing one is an error that
# names the Debian package to install, given as "# from: pkg" comments.
add_extras() { # l1|l2 LIST-FILE
	local tree=$1 kind src dest
	[ -f "$2" ] || return 0
	while read -r kind src dest; do
		case $kind in '' | '#'*) continue ;; esac
		[ -e "$src" ] || die "${2##*/}: $src is missing (see the list for its Debian package)"
		case $kind in
		prog) with_libs_in "$tree" "$src" "$src" ;;
		file) "$tree" "$src" "${dest:-$src}" ;;
		*) die "${2##*/}: unknown kind '$kind' (prog or file)" ;;
		esac
	done <"$2"
}

# ---- L2 inputs
l2 "$BUSYBOX" /bin/busybox
l2 "$RIG_DIR/init-l2.sh" /init
modules_for "$RIG_DIR/modules.l2"
L2_MODS=("${MOD_ORDER[@]}")
for m in "${L2_MODS[@]}"; do l2 "$(module_file "$m")" "/lib/modules/$m.ko"; done
for f in "$RIG_DIR"/l2/*.sh; do l2 "$f" "/scenarios/${f##*/}"; done
add_extras l2 "$RIG_DIR/extra.l2"

# ---- L1 inputs
l1 "$BUSYBOX" /bin/busybox
l1 "$RIG_DIR/init-l1.sh" /init
l1 "$RIG_DIR/lib-l1.sh" /rig/lib.sh
modules_for "$RIG_DIR/modules.l1"
L1_MODS=("${MOD_ORDER[@]}")
for m in "${L1_MODS[@]}"; do l1 "$(module_file "$m")" "/rig/modules/$m.ko"; done
for f in "$RIG_DIR"/l1/*.sh; do l1 "$f" "/rig/l1/${f##*/}"; done
for b in "${BINS[@]}"; do with_libs "$b" "/rig/bin/${b##*/}"; done
add_extras l1 "$RIG_DIR/extra.l1"
with_libs "$QEMU" /rig/qemu/qemu-system-x86_64
# The firmware QEMU needs for -M microvm (qboot) and for -kernel loading.
for f in bios-microvm.bin qboot.rom linuxboot_dma.bin kvmvapic.bin pvh.bin; do
	[ -f "/usr/share/qemu/$f" ] && l1 "/usr/share/qemu/$f" "/rig/qemu/share/$f"
done
l1 "$KERNEL" /rig/l2/vmlinuz

# ---- Cache check
list_inputs() {
	{
		echo "kver $KVER"
		echo "l2-modules ${L2_MODS[*]}"
		echo "l1-modules ${L1_MODS[*]}"
		local e
		for e in "${L2_MANIFEST[@]}"; do echo "l2 $e $(sha256sum <"${e%% *}" | cut -c1-64)"; done
		for e in "${L1_MANIFEST[@]}"; do echo "l1 $e $(sha256sum <"${e%% *}" | cut -c1-64)"; done
		echo "script $(sha256sum <"$0" | cut -c1-64)"
	}
}
mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock 9
list_inputs >"$OUT/inputs.new"
HASH=$(sha256sum <"$OUT/inputs.new" | cut -c1-64)
if [ -f "$OUT/inputs.sha256" ] && [ "$(cat "$OUT/inputs.sha256")" = "$HASH" ] &&
	[ -f "$OUT/l1.cpio" ] && [ -f "$OUT/l2.cpio.gz" ] && [ -f "$OUT/vmlinuz" ]; then
	echo "build-images: up to date ($OUT)"
	rm -f "$OUT/inputs.new"
	exit 0
fi
if [ -f "$OUT/inputs.list" ]; then
	echo "build-images: inputs changed: $(diff "$OUT/inputs.list" "$OUT/inputs.new" |
		sed -n 's/^> [^ ]* [^ ]* \([^ ]*\) .*/\1/p; s/^> \([a-z0-9-]*\) .*/\1/p' | sort -u | tr '\n' ' ')"
fi

# ---- Build
STAGE=$(mktemp -d "$OUT/stage.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
stage_tree() { # ROOT MANIFEST-ENTRIES...
	local root=$1 e src dest
	shift
	for e in "$@"; do
		src=${e%% *}
		dest=$root${e#* }
		mkdir -p "$(dirname "$dest")"
		cp -L "$src" "$dest"
	done
	mkdir -p "$root"/{proc,sys,dev,tmp,mnt,bin,sbin,etc}
	chmod 0755 "$root/init"
}
pack() { # ROOT -> newc cpio on stdout
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet)
}

stage_tree "$STAGE/l2" "${L2_MANIFEST[@]}"
printf '%s\n' "${L2_MODS[@]}" >"$STAGE/l2/lib/modules/order"
pack "$STAGE/l2" | gzip -6 >"$STAGE/l2.cpio.gz"

stage_tree "$STAGE/l1" "${L1_MANIFEST[@]}"
printf '%s\n' "${L1_MODS[@]}" >"$STAGE/l1/rig/modules/order"
cp "$STAGE/l2.cpio.gz" "$STAGE/l1/rig/l2/initrd.gz"
# Uncompressed: under TCG, L1 would spend seconds inflating a gzip archive.
pack "$STAGE/l1" >"$STAGE/l1.cpio"

cp "$KERNEL" "$STAGE/vmlinuz"
mv -f "$STAGE/vmlinuz" "$STAGE/l1.cpio" "$STAGE/l2.cpio.gz" "$OUT/"
echo "$HASH" >"$OUT/inputs.sha256"
mv -f "$OUT/inputs.new" "$OUT/inputs.list"
echo "build-images: built $OUT (kernel $KVER; L1 modules: ${L1_MODS[*]}; L2 modules: ${L2_MODS[*]})"
