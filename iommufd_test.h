/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IOMMU_TEST_CMD: the test-only ioctl of iommufd, built with
 * CONFIG_IOMMUFD_TEST. It drives a mock IOMMU driver and lets tests look at
 * kernel state (IOPTEs of mock domains, page pins, accounting).
 *
 * The operation numbers and the layout of struct iommu_test_cmd are those of
 * mainline Linux, so tests written for mainline run here. Operations of our
 * own are numbered from IOMMU_TEST_OP_LOCAL_BASE (1000) up and never collide
 * with mainline's.
 */
#ifndef _UAPI_IOMMUFD_TEST_H
#define _UAPI_IOMMUFD_TEST_H

#include <linux/types.h>
#include <linux/iommufd.h>

enum {
	IOMMU_TEST_OP_ADD_RESERVED = 1,
	IOMMU_TEST_OP_MOCK_DOMAIN = 2,
	IOMMU_TEST_OP_MD_CHECK_MAP = 3,
	IOMMU_TEST_OP_MD_CHECK_REFS = 4,
	IOMMU_TEST_OP_CREATE_ACCESS = 5,
	IOMMU_TEST_OP_DESTROY_ACCESS_PAGES = 6,
	IOMMU_TEST_OP_ACCESS_PAGES = 7,
	IOMMU_TEST_OP_ACCESS_RW = 8,
	IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT = 9,
	IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE = 10,
	IOMMU_TEST_OP_ACCESS_REPLACE_IOAS = 11,
	IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS = 12,

	/* our own operations */
	IOMMU_TEST_OP_LOCAL_BASE = 1000,
	/* counters of pinned memory and live objects, see stats below */
	IOMMU_TEST_OP_STATS = IOMMU_TEST_OP_LOCAL_BASE,
	/* what the mock domain @id has at one IOVA, see iopte below */
	IOMMU_TEST_OP_MD_IOPTE = 1001,
};

/* The IOVA window of a mock domain; the IOAS reserves everything else. */
enum {
	MOCK_APERTURE_START = 1UL << 24,
	MOCK_APERTURE_LAST = (1UL << 31) - 1,
};

/*
 * The smallest mock IOPTE maps MOCK_IOPTE_SIZE bytes: half a CPU page, so
 * that tests exercise sub-page IOVA alignment. A mock domain also has
 * 2 MiB IOPTEs, used for suitably aligned contiguous memory.
 */
#define MOCK_IOPTE_SIZE 2048
#define MOCK_IOPTE_HUGE_SIZE (2UL * 1024 * 1024)

/**
 * struct iommu_test_cmd - ioctl(IOMMU_TEST_CMD)
 * @size: sizeof(struct iommu_test_cmd)
 * @op: one of the IOMMU_TEST_OP_* values
 * @id: the object the operation works on (an IOAS, a mock domain's HWPT, ...)
 * @__reserved: must be 0
 * @add_reserved: ADD_RESERVED: reserve IOVA [@start, @start + @length) in
 *	the IOAS @id, as a device's reserved region would
 * @mock_domain: MOCK_DOMAIN: create a mock device with a mock domain on the
 *	IOAS @id; returns the device's and the page table's object IDs
 * @check_map: MD_CHECK_MAP: check that the mock domain @id maps
 *	[@iova, @iova + @length) to the memory at @uptr (EINVAL if not)
 * @check_refs: MD_CHECK_REFS: check that each page of [@uptr, @uptr +
 *	@length) is pinned exactly @refs times (EIO if not)
 * @memory_limit: SET_TEMP_MEMORY_LIMIT: limit the temporary buffers used
 *	while pinning to @limit bytes, 0 for the default; makes tests cross
 *	batch boundaries with small mappings
 * @stats: STATS (ours): counters, each global to the kernel except the
 *	accounting ones which are those of the calling process and its user
 * @iopte: MD_IOPTE (ours): the IOPTE of mock domain @id that covers @iova
 * @__union_size: keeps the union the size mainline's has
 * @last: marks the end of the structure, must be 0
 */
struct iommu_test_cmd {
	__u32 size;
	__u32 op;
	__u32 id;
	__u32 __reserved;
	union {
		struct {
			__aligned_u64 start;
			__aligned_u64 length;
		} add_reserved;
		struct {
			__u32 out_stdev_id;
			__u32 out_hwpt_id;
			__u32 out_idev_id;
		} mock_domain;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} check_map;
		struct {
			__aligned_u64 length;
			__aligned_u64 uptr;
			__u32 refs;
		} check_refs;
		struct {
			__u32 limit;
		} memory_limit;
		struct {
			/* pages pinned by iommufd, all files together */
			__aligned_u64 out_pinned_pages;
			/* pages objects and IOVA areas that exist */
			__aligned_u64 out_pages_objects;
			__aligned_u64 out_areas;
			/* the caller's user_struct locked_vm, mm locked/pinned_vm */
			__aligned_u64 out_user_locked_vm;
			__aligned_u64 out_mm_locked_vm;
			__aligned_u64 out_mm_pinned_vm;
		} stats;
		struct {
			__aligned_u64 iova;
			/* physical address mapped at @iova, 0 if nothing is */
			__aligned_u64 out_phys;
			/* size of the IOPTE that maps @iova */
			__aligned_u64 out_size;
			/* IOMMU_READ | IOMMU_WRITE as given to the domain */
			__u32 out_prot;
		} iopte;
		__aligned_u64 __union_size[6];
	};
	__u32 last;
};

#define IOMMU_TEST_CMD _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32)

#endif
