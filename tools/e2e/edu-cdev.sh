#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The VM's edu devices through their VFIO cdevs (/dev/vfio/devices/vfioX)
# and iommufd: the parked descriptor, DMA, replace, detach, the mock
# driver's HWPT refused, and the group-ownership rules of the two-function
# slot (see tools/guest/edu-cdev.c). Prints TAP.

single=
pair=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor):$(cat $d/device)" = 0x1234:0x11e8 ] || continue
	case $(ls $d/iommu_group/devices | wc -l) in
	1) single=${d##*/} ;;
	2) pair="$pair ${d##*/}" ;;
	esac
done
set -- $pair
if [ -z "$single" ] || [ $# -ne 2 ]; then
	echo "TAP version 13"
	echo "not ok 1 a single edu and a two-function pair (found '$single' and '$pair')"
	echo "1..1"
	exit 1
fi
exec /tests/bin/edu-cdev "$single" "$1" "$2"
