#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# An emulated VFIO device (tools/modules/vfio_emu_test.ko) on iommufd:
# vfio_dma_rw(), vfio_pin_pages() and the dma_unmap callback through the
# group with /dev/iommu or /dev/vfio/vfio as its container, and through
# the device's cdev. Loads the module, runs the program (which prints
# TAP), then unloads the module: that must work too once every file is
# closed.
insmod /tests/modules/vfio_emu_test.ko || {
	echo "TAP version 13"
	echo "not ok 1 insmod vfio_emu_test.ko"
	echo "1..1"
	exit 1
}
/tests/bin/vfio-emu
rc=$?
rmmod vfio_emu_test || { echo "# rmmod vfio_emu_test failed"; rc=1; }
exit $rc
