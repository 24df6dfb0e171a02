#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Concurrent stress with the edu that is alone in its iommu_group: DMA
# checked byte by byte while other threads replace, detach and re-attach
# its page table, make and destroy HWPTs, map and unmap, pin through an
# access, and open and close whole iommufds (tools/guest/edu-stress.c).
# IOMMUFD_STRESS_SECONDS sets the time (20 s by default). Prints TAP.
. "$(dirname "$0")/tap.inc"
need_lone_edu
exec /tests/bin/edu-stress "$bdf"
