/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iommufd kernel API, for drivers that give userspace control over the DMA
 * of their devices (VFIO first).
 *
 * A driver never programs an iommu_domain on behalf of userspace itself. It
 * hands its device to an iommufd context chosen by the user, and the context
 * decides which I/O page table the device uses. The functions follow as the
 * device API is implemented; for now only the context type is public.
 */
#ifndef __LINUX_IOMMUFD_H
#define __LINUX_IOMMUFD_H

struct iommufd_ctx;

#endif
