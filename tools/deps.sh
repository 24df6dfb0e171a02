#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install what the build and the VM need from Debian's archive, and nothing
# when it is already there; packages named as arguments too (make
# conformance adds linux-source-6.12). This is the only step that uses the
# network.
source "$(dirname "$0")/lib.sh"

PKGS=(linux-source-6.1 gcc make flex bison bc libelf-dev libssl-dev libc6-dev
      cpio gzip xz-utils patch perl python3 busybox-static qemu-system-x86
      sparse util-linux coreutils qemu-utils meson ninja-build pkg-config
      libnvme-dev libjson-c-dev strace "$@")
# ARCH=arm64: the cross compilers with their static libc, QEMU's virt, and
# qemu-user, which runs what libvfn's cross build runs at build time
if [ "$ARCH" = arm64 ]; then
	PKGS+=(gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross
	      qemu-system-arm qemu-user)
fi

# QEMU 10 with its own iommufd backend, for e2e:qemu10: Debian 12's
# qemu-system-x86 from bookworm-backports, fetched once and unpacked into
# the cache (dpkg -x), with apt reading a sources list and package lists
# of its own there, so the system's apt sources stay as they are. Its
# libraries are bookworm's, which qemu-system-x86 (7.2) above installed.
QEMU10_DIR=$CACHE/qemu10
qemu10() {
	[ -x "$QEMU10_DIR/root/usr/bin/qemu-system-x86_64" ] && return 0
	local d=$CACHE/qemu10.tmp v p
	local -a apt_opts
	rm -rf "$d"
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/debs"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
		"http://deb.debian.org/debian bookworm-backports main" \
		>"$d/sources.list"
	apt_opts=(-q -o "Dir::Etc::sourcelist=$d/sources.list"
		  -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$d/lists"
		  -o "Dir::Cache=$d/cache" -o APT::Sandbox::User=root)
	msg "fetching QEMU 10 from bookworm-backports (once)"
	apt-get "${apt_opts[@]}" update >"$d/apt.log" 2>&1 ||
		{ cat "$d/apt.log" >&2; die "apt-get update of bookworm-backports failed"; }
	v=$(apt-cache "${apt_opts[@]}" madison qemu-system-x86 |
		awk '$3 ~ /^1:10\./ { print $3; exit }')
	[ -n "$v" ] || die "bookworm-backports has no qemu-system-x86 10.x"
	(cd "$d/debs" && apt-get "${apt_opts[@]}" download \
		"qemu-system-x86=$v" "qemu-system-common=$v" \
		"qemu-system-data=$v") >>"$d/apt.log" 2>&1 ||
		{ cat "$d/apt.log" >&2; die "downloading QEMU $v failed"; }
	for p in "$d"/debs/*.deb; do
		dpkg -x "$p" "$d/root"
	done
	echo "$v" >"$d/version"
	rm -rf "$QEMU10_DIR"
	mv "$d" "$QEMU10_DIR"
}

# ARCH=arm64: Debian's arm64 busybox-static for the VM's initramfs, and the
# static libraries libvfn links (libnvme, json-c, OpenSSL), fetched once
# into the cache the same way (an apt configuration of its own, for arm64
# only) and unpacked to $CACHE/arm64-root/root, a sysroot for the cross
# build. busybox is the host's busybox-static version, whose applet list
# mkinitramfs.sh uses.
ARM64_ROOT=$CACHE/arm64-root
ARM64_LIBS=(libnvme-dev libjson-c-dev libssl-dev)
arm64_root() {
	local d=$CACHE/arm64-root.tmp v p key stamp
	local -a apt_opts
	v=$(dpkg-query -W -f='${Version}' busybox-static)
	stamp="$v ${ARM64_LIBS[*]}"
	[ "$(cat "$ARM64_ROOT/version" 2>/dev/null)" = "$stamp" ] && return 0
	rm -rf "$d"
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/debs"
	key=/usr/share/keyrings/debian-archive-keyring.gpg
	{
		echo "deb [arch=arm64 signed-by=$key] http://deb.debian.org/debian bookworm bookworm-updates main"
		echo "deb [arch=arm64 signed-by=$key] http://deb.debian.org/debian-security bookworm-security main"
	} >"$d/sources.list"
	apt_opts=(-q -o "Dir::Etc::sourcelist=$d/sources.list"
		  -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$d/lists"
		  -o "Dir::Cache=$d/cache" -o APT::Sandbox::User=root
		  -o APT::Architecture=arm64 -o APT::Architectures::=arm64)
	msg "fetching Debian's arm64 busybox-static $v and ${ARM64_LIBS[*]} (once)"
	apt-get "${apt_opts[@]}" update >"$d/apt.log" 2>&1 ||
		{ cat "$d/apt.log" >&2; die "apt-get update for arm64 failed"; }
	(cd "$d/debs" && apt-get "${apt_opts[@]}" download \
		"busybox-static:arm64=$v" "${ARM64_LIBS[@]/%/:arm64}") \
		>>"$d/apt.log" 2>&1 ||
		{ cat "$d/apt.log" >&2; die "downloading the arm64 packages failed"; }
	for p in "$d"/debs/*.deb; do
		dpkg -x "$p" "$d/root"
	done
	[ -x "$d/root/bin/busybox" ] || die "no bin/busybox in the arm64 busybox-static"
	echo "$stamp" >"$d/version"
	rm -rf "$ARM64_ROOT"
	mv "$d" "$ARM64_ROOT"
}

# what each architecture fetches besides packages
extras() {
	qemu10
	[ "$ARCH" != arm64 ] || arm64_root
}

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	extras
	exit 0
fi

msg "installing: ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || die "need root or sudo to install ${missing[*]}"
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
extras
