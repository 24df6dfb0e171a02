#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# End-to-end DMA by QEMU's edu through emulated VT-d, the device bound to
# vfio-pci and its VFIO group's container an iommufd: first a /dev/iommu
# file with memory mapped by IOMMU_IOAS_MAP (the group path), then the
# same file used as a type1v2 container (VFIO_SET_IOMMU,
# VFIO_IOMMU_MAP_DMA), last /dev/vfio/vfio served by iommufd as type1.
# Uses the edu that is alone in its iommu_group. Prints TAP.

. "$(dirname "$0")/tap.inc"
need_lone_edu
exec /tests/bin/edu-dma "$bdf"
