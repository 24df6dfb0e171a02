#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Device models other than edu, which make check adds with QEMU_ARGS (two
# e1000 NICs on a hub, an NVMe controller): each is moved to vfio-pci and
# driven through its VFIO cdev and iommufd by vfio-cdev-probe (the NVMe
# one does real DMA). Prints TAP; the probes' own TAP is indented as
# comments.

. "$(dirname "$0")/tap.inc"
echo "TAP version 13"
found=
for d in /sys/bus/pci/devices/*; do
	id=$(cat $d/vendor):$(cat $d/device)
	case $id in
	0x8086:0x100e) what=e1000 ;;
	0x1b36:0x0010) what=nvme ;;
	*) continue ;;
	esac
	bdf=${d##*/}
	found="$found $what"
	[ -e $d/driver ] && echo "$bdf" >$d/driver/unbind
	echo vfio-pci >$d/driver_override
	echo "$bdf" >/sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink $d/driver)")" = vfio-pci ]
	ok $? "$what $bdf is bound to vfio-pci"
	/tests/bin/vfio-cdev-probe "$bdf" >/tmp/probe.out 2>&1
	rc=$?
	sed 's/^/#   /' /tmp/probe.out
	ok $rc "$what $bdf driven through its cdev and iommufd ($(grep -c '^ok' /tmp/probe.out) checks)"
done
[ "$found" = " e1000 e1000 nvme" ]
ok $? "two e1000 and one NVMe controller were found:$found"
echo "1..$n"
exit $fail
