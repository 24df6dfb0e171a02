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

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	qemu10
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
qemu10
