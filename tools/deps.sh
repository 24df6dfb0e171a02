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
      libnvme-dev libjson-c-dev "$@")

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

msg "installing: ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || die "need root or sudo to install ${missing[*]}"
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
