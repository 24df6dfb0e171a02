#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# KVM's VFIO pseudo device given VFIO device cdevs, as QEMU's iommufd
# backend gives them (see tools/guest/kvm-vfio.c), on the edu alone in its
# iommu_group. Prints TAP.

single=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor):$(cat $d/device)" = 0x1234:0x11e8 ] || continue
	[ "$(ls $d/iommu_group/devices | wc -l)" -eq 1 ] && single=${d##*/}
done
if [ -z "$single" ] || [ ! -c /dev/kvm ]; then
	echo "TAP version 13"
	echo "not ok 1 an edu alone in its group ('$single') and /dev/kvm"
	echo "1..1"
	exit 1
fi
exec /tests/bin/kvm-vfio "$single"
