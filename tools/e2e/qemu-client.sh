#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# QEMU as a real client: Debian's QEMU 7.2 runs inside the VM (TCG) and
# passes the edu that is alone in its iommu_group through with
# -device vfio-pci, and its VFIO container /dev/vfio/vfio is served by
# iommufd: the misc device of IOMMUFD_VFIO_CONTAINER, or on a kernel with
# VFIO's own container a symlink to /dev/iommu. Its guest is
# tools/l2guest/edu-guest.c, which DMAs a pattern through its own RAM and
# reports on its serial port. Prints TAP.

. "$(dirname "$0")/tap.inc"
x86_only "Debian's QEMU 7.2 and the edu guest are packaged for the x86 host only (tools/build-tests.sh)"
X=/tests/qemu
echo "TAP version 13"
bdf=$(lone_edu)
[ -n "$bdf" ]; ok $? "an edu alone in its iommu_group: $bdf"

if dmesg | grep -q 'iommufd: serving /dev/vfio/vfio'; then
	link=
	[ -c /dev/vfio/vfio ] && [ "$(stat -c %t:%T /dev/vfio/vfio)" = a:c4 ]
	ok $? "/dev/vfio/vfio is iommufd's misc device 10:196"
else
	link=1
	mv /dev/vfio/vfio /dev/vfio/vfio.type1
	ln -s /dev/iommu /dev/vfio/vfio
	[ "$(readlink /dev/vfio/vfio)" = /dev/iommu ]
	ok $? "/dev/vfio/vfio is a symlink to /dev/iommu"
fi

t0=$(cut -d. -f1 /proc/uptime)
# isa-debug-exit: the guest's exit code 0 makes QEMU exit with 1
QEMU_MODULE_DIR=$X/mod LD_LIBRARY_PATH=$X/lib timeout 1200 \
	$X/lib/ld-linux-x86-64.so.2 $X/bin/qemu-system-x86_64 \
	-machine q35 -accel tcg -m 64M -nodefaults -display none -no-reboot \
	-L $X/fw -kernel $X/edu-guest.elf -device vfio-pci,host=$bdf \
	-device isa-debug-exit,iobase=0xf4,iosize=4 \
	-serial file:/tmp/qemu-client.serial >/tmp/qemu-client.log 2>&1
rc=$?
secs=$(( $(cut -d. -f1 /proc/uptime) - t0 ))
sed 's/^/# qemu: /' /tmp/qemu-client.log
sed 's/^/# guest: /' /tmp/qemu-client.serial
[ $rc -eq 1 ]
ok $? "QEMU with -device vfio-pci,host=$bdf ran its guest to the end ($secs s, status $rc)"
grep -q '^EDU-GUEST: DMA OK 2048 bytes' /tmp/qemu-client.serial
ok $? "its guest's edu DMA through guest RAM worked"

if [ -n "$link" ]; then
	rm /dev/vfio/vfio
	mv /dev/vfio/vfio.type1 /dev/vfio/vfio
fi
echo "1..$n"
exit $fail
