/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Force-included (-include) into mainline's iommufd kselftests by
 * tools/conformance.sh.
 *
 * Debian's 6.12 stable tree carries test changes backported from later
 * mainline kernels that use uAPI and mock-driver names its own 6.12 headers
 * do not define. These are those names, with the values later mainline gave
 * them (the ABI), so the unmodified tests build; whether our kernel
 * implements what they ask for is then for the tests to find out.
 */
#ifndef CONFORMANCE_SHIM_H
#define CONFORMANCE_SHIM_H

/*
 * IOMMU_GET_HW_INFO with a requested type: a flag, and the type travels in
 * the field that carries out_data_type back (mainline makes the two names a
 * union of one __u32). "Default" asks for whatever the driver reports, which
 * is all a kernel without the flag can do.
 */
#define in_data_type out_data_type
#define IOMMU_HW_INFO_FLAG_INPUT_TYPE	(1 << 0)
#define IOMMU_HW_INFO_TYPE_DEFAULT	0

/*
 * The mock driver's PASID support: a device flag for IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS
 * and the PASID width such a device reports.
 */
#define MOCK_FLAGS_DEVICE_PASID		(1 << 2)
#define MOCK_PASID_WIDTH		20

#endif
