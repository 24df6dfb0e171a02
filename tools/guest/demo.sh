#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The demo of make run: /dev/iommu, the devices it manages, and then the
# story of one DMA through an IOAS of ours (tools/guest/edu-demo.c).

echo "== kernel"
uname -r
echo
echo "== /dev/iommu"
ls -l /dev/iommu || exit 1
echo
echo "== talking to it"
iommufd-probe || exit 1
echo
echo "== edu DMA devices and their iommu_groups"
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor):$(cat $d/device)" = 0x1234:0x11e8 ] || continue
	g=$(readlink $d/iommu_group)
	drv=$(readlink $d/driver)
	echo "${d##*/}  group ${g##*/}  driver ${drv##*/}"
done
echo
echo "== VFIO group nodes"
ls /dev/vfio
echo
echo "== a DMA through iommufd, step by step"
single=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor):$(cat $d/device)" = 0x1234:0x11e8 ] || continue
	[ "$(ls $d/iommu_group/devices | wc -l)" -eq 1 ] && single=${d##*/}
done
[ -n "$single" ] || { echo "no edu alone in its iommu_group"; exit 1; }
edu-demo "$single"
