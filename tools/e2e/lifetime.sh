#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Lifetime of iommufd's objects around the edu that is alone in its
# iommu_group: the iommufd closed before the device, a process killed with
# pins and DMA set up, a forked child mapping its memory through inherited
# fds, vfio-pci unbound and the device removed and rescanned while its
# cdev is open (tools/guest/edu-lifetime.c). Prints TAP.
. "$(dirname "$0")/tap.inc"
need_lone_edu
exec /tests/bin/edu-lifetime "$bdf"
