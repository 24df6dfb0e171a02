#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The PCI hot reset of a device bound through its VFIO cdev, proven by
# its iommufd (see tools/guest/hot-reset.c), on the two functions of the
# e1000e slot behind a PCIe root port that make check adds. Prints TAP.

set --
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor):$(cat $d/device)" = 0x8086:0x10d3 ] || continue
	case ${d##*/} in *.0 | *.1) set -- "$@" "${d##*/}" ;; esac
done
if [ $# -ne 2 ]; then
	echo "TAP version 13"
	echo "not ok 1 two e1000e functions behind a root port (found: $*)"
	echo "1..1"
	exit 1
fi
exec /tests/bin/hot-reset "$1" "$2"
