/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * The test ioctls of vfio_emu_test.ko, an emulated VFIO device (see
 * vfio_emu_test.c), on its VFIO device descriptor. Each argument starts
 * with argsz, the size userspace passes.
 */
#ifndef VFIO_EMU_TEST_H
#define VFIO_EMU_TEST_H

#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/vfio.h>

/* the most one call moves, pins or keeps */
#define VFIO_EMU_TEST_MAX_RW (64 * 1024)
#define VFIO_EMU_TEST_MAX_PIN 8
#define VFIO_EMU_TEST_MAX_HELD 64	/* vfio_pin_pages() calls */

/**
 * struct vfio_emu_test_rw - vfio_dma_rw() between an IOVA and user memory
 * @argsz: sizeof(struct vfio_emu_test_rw)
 * @write: 1: from @uptr to @iova; 0: from @iova to @uptr
 * @iova: the device's address
 * @uptr: the user buffer
 * @length: bytes, 1 to VFIO_EMU_TEST_MAX_RW
 */
struct vfio_emu_test_rw {
	__u32 argsz;
	__u32 write;
	__u64 iova;
	__u64 uptr;
	__u64 length;
};

/**
 * struct vfio_emu_test_pin - vfio_pin_pages() of pages the device keeps
 * @argsz: sizeof(struct vfio_emu_test_pin)
 * @npages: pages from @iova, 1 to VFIO_EMU_TEST_MAX_PIN
 * @iova: page-aligned IOVA of the first
 * @prot: IOMMU_READ (1) and/or IOMMU_WRITE (2)
 * @__reserved: 0
 * @first_byte: out: the first byte of each pinned page, read through it
 */
struct vfio_emu_test_pin {
	__u32 argsz;
	__u32 npages;
	__u64 iova;
	__u32 prot;
	__u32 __reserved;
	__u8 first_byte[VFIO_EMU_TEST_MAX_PIN];
};

/**
 * struct vfio_emu_test_state - what the device holds
 * @argsz: sizeof(struct vfio_emu_test_state)
 * @held: out: pages it has pinned and not given back
 * @unmaps: out: dma_unmap callbacks since the device was opened
 * @unpinned_by_unmap: out: pages those callbacks made it unpin
 */
struct vfio_emu_test_state {
	__u32 argsz;
	__u32 held;
	__u32 unmaps;
	__u32 unpinned_by_unmap;
};

#define VFIO_EMU_TEST_RW	_IO(VFIO_TYPE, VFIO_BASE + 90)
#define VFIO_EMU_TEST_PIN	_IO(VFIO_TYPE, VFIO_BASE + 91)
#define VFIO_EMU_TEST_STATE	_IO(VFIO_TYPE, VFIO_BASE + 92)

#endif
