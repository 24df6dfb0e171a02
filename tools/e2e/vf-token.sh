#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The SR-IOV VF token at VFIO_DEVICE_BIND_IOMMUFD and at the group's
# VFIO_GROUP_GET_DEVICE_FD (tools/guest/vf-token.c). make check adds an
# NVMe controller with SR-IOV for it: Intel's ID (8086:5845), so that
# other-devices.sh leaves it alone, in slot 8, two VFs. The program also
# gets the lone edu and, when its module loads, vfio_emu_test's device as
# devices that keep no token. It moves the PF between drivers and creates
# and removes the VFs itself; whatever it leaves is undone here. Prints
# TAP.

. "$(dirname "$0")/tap.inc"

pf=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d"/vendor):$(cat "$d"/device)" = 0x8086:0x5845 ] || continue
	[ -e "$d"/sriov_totalvfs ] && [ "$(cat "$d"/sriov_totalvfs)" -ge 2 ] ||
		continue
	pf=${d##*/}
done
if [ -z "$pf" ]; then
	echo "TAP version 13"
	echo "not ok 1 an SR-IOV PF with 2 VFs (QEMU nvme, use-intel-id, sriov_max_vfs=2; CONFIG_PCI_IOV)"
	echo "1..1"
	exit 1
fi

set --
edu=$(lone_edu)
[ -n "$edu" ] && set -- -o "/sys/bus/pci/devices/$edu"
emu=
if insmod /tests/modules/vfio_emu_test.ko 2>/dev/null; then
	emu=1
	set -- "$@" -o /sys/devices/platform/vfio_emu_test
fi

/tests/bin/vf-token "$@" "$pf"
rc=$?

# After a failure: no VFs, the PF on no driver (as at boot).
d=/sys/bus/pci/devices/$pf
if [ "$(cat "$d"/sriov_numvfs)" != 0 ]; then
	echo "# cleaning up: $(cat "$d"/sriov_numvfs) VFs left"
	echo 0 >"$d"/sriov_numvfs || rc=1
fi
echo 1 >"$d"/sriov_drivers_autoprobe
[ -e "$d"/driver ] && echo "$pf" >"$d"/driver/unbind
echo >"$d"/driver_override
if [ -n "$emu" ]; then
	rmmod vfio_emu_test || { echo "# rmmod vfio_emu_test failed"; rc=1; }
fi
exit $rc
