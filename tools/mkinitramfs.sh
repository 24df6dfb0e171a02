#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the VM's initramfs: busybox, our init and plan, and the test programs.
#
#   mkinitramfs.sh base <out.cpio.gz>
#       everything that does not change from run to run
#   mkinitramfs.sh run <out.cpio.gz> <mode> [cmd] [extra-dir] [interactive]
#       a small archive with what this run is to do, appended to the base
#       one (the kernel unpacks concatenated archives in order)
#
# The archives are made with the kernel's own usr/gen_init_cpio from a file
# list, so device nodes need no root and ownership is always root.
source "$(dirname "$0")/lib.sh"

gen=$BUILD/usr/gen_init_cpio
[ -x "$gen" ] || die "$gen missing; build the kernel first"

list=$(mktemp)
trap 'rm -f "$list" "$list".*' EXIT

dirs() { for d in "$@"; do echo "dir $d 0755 0 0"; done >>"$list"; }
file() { echo "file $1 $2 $3 0 0" >>"$list"; }	# file <dst> <src> <mode>
tree() {	# tree <dst> <src dir>: every file below src, modes kept
	local f rel
	(cd "$2" && find . -mindepth 1 -type d | sort) | while read -r rel; do
		echo "dir $1/${rel#./} 0755 0 0"
	done >>"$list"
	(cd "$2" && find . -type f | sort) | while read -r rel; do
		f=$2/${rel#./}
		echo "file $1/${rel#./} $f $(stat -c %a "$f") 0 0"
	done >>"$list"
}

case "${1:-}" in
base)
	out=$2
	[ -x /bin/busybox ] || die "busybox-static is not installed"
	# the VM's busybox: the host's, or on arm64 Debian's arm64 build of
	# the same version (tools/deps.sh); its applets are the host's list
	bb=/bin/busybox
	[ "$ARCH" = x86_64 ] || bb=$CACHE/$ARCH-root/root/bin/busybox
	[ -x "$bb" ] || die "no $ARCH busybox at $bb (tools/deps.sh fetches it)"
	dirs /bin /sbin /dev /proc /sys /tmp /mnt /etc /etc/iommufd /guest \
		/tests /extra
	echo "nod /dev/console 0600 0 0 c 5 1" >>"$list"
	echo "nod /dev/null 0666 0 0 c 1 3" >>"$list"
	file /bin/busybox "$bb" 755
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || echo "slink /bin/$a busybox 0777 0 0" >>"$list"
	done
	file /init "$REPO/tools/guest/init" 755
	file /guest/plan.sh "$REPO/tools/guest/plan.sh" 644
	file /guest/demo.sh "$REPO/tools/guest/demo.sh" 644
	tree /tests "$BUILD/tests"
	;;
run)
	out=$2 mode=$3 cmd=${4:-} extra=${5:-} interactive=${6:-}
	dirs /etc /etc/iommufd
	printf '%s\n' "$mode" >"$list.mode"
	file /etc/iommufd/mode "$list.mode" 644
	if [ -n "$cmd" ]; then
		printf '%s\n' "$cmd" >"$list.cmd"
		file /etc/iommufd/cmd "$list.cmd" 755
	fi
	if [ -n "$interactive" ]; then
		: >"$list.tty"
		file /etc/iommufd/interactive "$list.tty" 644
	fi
	if [ -n "$extra" ]; then
		[ -d "$extra" ] || die "EXTRA=$extra is not a directory"
		dirs /extra
		tree /extra "$(cd "$extra" && pwd -P)"
	fi
	;;
*)
	die "usage: mkinitramfs.sh base|run <out> ..."
	;;
esac

"$gen" "$list" | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
