/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * iommufd user API: the ioctls of /dev/iommu.
 *
 * The numbering and structure layouts are those of mainline Linux, so that
 * programs written for mainline's iommufd run unchanged on this kernel.
 */
#ifndef _UAPI_IOMMUFD_H
#define _UAPI_IOMMUFD_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* ioctl "magic" shared by every iommufd command */
#define IOMMUFD_TYPE (';')

/**
 * DOC: Calling convention
 *
 * Every command is issued as ioctl(fd, IOMMU_xxx, arg), where arg points to
 * the command's structure and the number is _IO(IOMMUFD_TYPE, nr): the
 * direction and size bits of the number are always zero. Instead, the first
 * __u32 of every command structure is its size, as userspace compiled it.
 * This lets a structure grow at its end over time:
 *
 *  - a size smaller than the first version of the structure is refused with
 *    EINVAL;
 *  - bytes past the end of what the running kernel knows are accepted only if
 *    they are all zero, otherwise the command fails with E2BIG;
 *  - a structure shorter than the kernel's is treated as if the missing tail
 *    were zero.
 *
 * The errno values have a fixed meaning shared by all commands:
 *
 *  - ENOTTY: the ioctl number is not a command this kernel implements;
 *  - E2BIG: the command is known, but non-zero bytes follow the part of the
 *    structure the kernel understands;
 *  - EOPNOTSUPP: the structure is understood, but a flag or a field's value
 *    asks for something this kernel does not support;
 *  - EINVAL: everything was understood, but a value is wrong (reserved
 *    fields not zero, bad alignment, inconsistent lengths, ...);
 *  - ENOENT: an object ID or IOVA named in the command does not exist;
 *  - ENOMEM: memory, or the caller's locked-memory limit, ran out;
 *  - EOVERFLOW: an address or length calculation overflowed.
 *
 * A command may document further errno values of its own.
 */

/* Command numbers: nr field of the ioctl number, starting at the base. */
enum {
	IOMMUFD_CMD_BASE = 0x80,
};

#endif
