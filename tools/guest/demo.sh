#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The demo of make run: what the product does so far. Until the VFIO
# integration lands this shows /dev/iommu and the devices it will manage.

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
