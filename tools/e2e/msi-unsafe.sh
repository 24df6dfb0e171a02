#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Binding on a platform that can't isolate MSIs, refused unless
# iommufd.allow_unsafe_interrupts (tools/guest/edu-msi.c --unsafe). Runs
# in the second boot of make check, which has no interrupt remapping
# (x86_64) or no ITS (arm64): IOMMUFD_PLAN=unsafe-msi. In the main boot,
# whose MSIs are isolated, it is one skipped check. Prints TAP.

. "$(dirname "$0")/tap.inc"
if [ "${IOMMUFD_PLAN:-all}" != unsafe-msi ]; then
	echo "TAP version 13"
	echo "ok 1 # SKIP MSIs are isolated in this boot; make check's second boot (VM_MSI_ISOLATION=0) runs this suite"
	echo "1..1"
	exit 0
fi
need_lone_edu
exec /tests/bin/edu-msi --unsafe "$bdf"
