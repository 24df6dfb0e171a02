#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# MSIs of the edu alone in its iommu_group, on iommufd: through its cdev
# (and after a replace) and through /dev/vfio/vfio; behind an SMMUv3 they
# need the MSI cookie iommufd gives each domain (tools/guest/edu-msi.c).
# Prints TAP.

. "$(dirname "$0")/tap.inc"
need_lone_edu
exec /tests/bin/edu-msi "$bdf"
