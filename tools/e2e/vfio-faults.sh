#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Fault injection over the VFIO paths of the edu that is alone in its
# iommu_group: its cdev, its group with /dev/iommu, and /dev/vfio/vfio as
# a type1 container, each with the Nth allocation failing for every N
# (tools/guest/vfio-faults.c). Prints TAP.
#
# The device is kept enabled (sysfs "enable", while no driver has it) for
# the run, so that vfio-pci's open finds it enabled and does not evaluate
# the ACPI _PRT method for its INTx routing: 6.1's ACPICA has a
# use-after-free when an allocation fails in that method
# (acpi_ns_get_attached_object, found by this test), which is not ours to
# test here.
. "$(dirname "$0")/tap.inc"
need_lone_edu
d=/sys/bus/pci/devices/$bdf
rebind() {	# rebind <0|1>: vfio-pci lets go, enable is set, it binds again
	echo "$bdf" >$d/driver/unbind &&
		echo "$1" >$d/enable &&
		echo "$bdf" >/sys/bus/pci/drivers/vfio-pci/bind
}
rebind 1 || echo "# could not keep $bdf enabled"
/tests/bin/vfio-faults "$bdf"
rc=$?
rebind 0 || { echo "# could not give $bdf back to vfio-pci disabled"; rc=1; }
exit $rc
