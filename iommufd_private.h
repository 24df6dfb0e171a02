/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Definitions shared by the files of the iommufd subsystem. Nothing here is
 * visible outside drivers/iommu/iommufd.
 */
#ifndef __IOMMUFD_PRIVATE_H
#define __IOMMUFD_PRIVATE_H

#include <linux/types.h>

struct file;

/**
 * struct iommufd_ctx - state of one open file of /dev/iommu
 * @file: the file this context belongs to; the context lives exactly as
 *        long as the file and is freed by its release
 *
 * The context is the unit of ownership: everything created through a file
 * belongs to it, and holding the file descriptor is what grants access.
 */
struct iommufd_ctx {
	struct file *file;
};

int iommufd_cmd_index(unsigned int cmd, unsigned int ncmds);

#endif
