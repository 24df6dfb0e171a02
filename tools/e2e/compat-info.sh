#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# VFIO_IOMMU_GET_INFO of /dev/vfio/vfio (iommufd's on the debug kernel)
# right after SET_CONTAINER and SET_IOMMU(TYPE1), before any device is
# opened: IOVA ranges bounded by the VT-d unit's width and without the
# MSI window, as type1 reports them, and the same once the device is
# open. Uses the edu that is alone in its iommu_group. Prints TAP.

. "$(dirname "$0")/tap.inc"
need_lone_edu
exec /tests/bin/compat-info "$bdf"
