#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Concurrent stress with the edu that is alone in its iommu_group: DMA
# checked byte by byte, with guard pages around its source and destination,
# while other threads replace, detach and re-attach its page table, make
# and destroy HWPTs, map and unmap, pin through an access, and open and
# close whole iommufds (tools/guest/edu-stress.c). Each round trip is done,
# blocked (allowed: VT-d faults DMA during a replace; also when torn, its
# head refused and its tail let through once the replace completed), timed
# out or reached a wrong page; the last two fail, with evidence as "#"
# lines: every changed run of bytes, the page table the device was on, the
# DMAR lines of /dev/kmsg.
# IOMMUFD_STRESS_SECONDS sets the time (20 s by default). Prints TAP.
. "$(dirname "$0")/tap.inc"
need_lone_edu
exec /tests/bin/edu-stress "$bdf"
