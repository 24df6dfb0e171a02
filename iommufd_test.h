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
	/* a mock device in a shared mock group, bound but not attached */
	IOMMU_TEST_OP_MOCK_GROUP_DEVICE = 1002,
	/* attach (or replace) / detach the device of stdev @id */
	IOMMU_TEST_OP_DEVICE_ATTACH = 1003,
	IOMMU_TEST_OP_DEVICE_DETACH = 1004,
	/* what the device of stdev @id is attached to */
	IOMMU_TEST_OP_DEVICE_INFO = 1005,
	/* a mock device in a shared group, driven by a kernel driver */
	IOMMU_TEST_OP_MOCK_KERNEL_DEVICE = 1006,
	/*
	 * MOCK_DOMAIN_FLAGS with a HWPT of its own: never reuses one of the
	 * IOAS's automatic HWPTs, as MOCK_DOMAIN does
	 */
	IOMMU_TEST_OP_MOCK_DOMAIN_NEW = 1007,
	/* access_rw and memcpy() looped and timed in the kernel (make bench) */
	IOMMU_TEST_OP_ACCESS_RW_BENCH = 1008,
	/* where pinned PFNs were read back from, see readback below */
	IOMMU_TEST_OP_READBACK_STATS = 1009,
	/* mock page-table writes widened, and overlapping ones counted */
	IOMMU_TEST_OP_MOCK_WRITERS = 1010,
	/* the next attaches of a mock device to another domain fail */
	IOMMU_TEST_OP_MOCK_FAIL_ATTACH = 1011,
};

/* dev_flags of MOCK_DOMAIN_FLAGS and MOCK_GROUP_DEVICE */
enum {
	MOCK_FLAGS_DEVICE_NO_DIRTY = 1 << 0,
	MOCK_FLAGS_DEVICE_HUGE_IOVA = 1 << 1,
	/* mainline's PASID-capable device; accepted, PASIDs are not modelled */
	MOCK_FLAGS_DEVICE_PASID = 1 << 2,
	/* ours: its IOMMU can't make cache-coherent IOPTEs; bind refuses it */
	MOCK_FLAGS_DEVICE_NO_COHERENCY = 1 << 24,
	/* ours: the device reports [MOCK_RESV_START, MOCK_RESV_LAST] reserved */
	MOCK_FLAGS_DEVICE_RESV = 1 << 25,
	/*
	 * ours: the IOMMU claims cache coherency but refuses to attach the
	 * device to an enforcing domain, as 6.1's VT-d does without snoop
	 * control
	 */
	MOCK_FLAGS_DEVICE_ENFORCE_FAILS = 1 << 26,
	/*
	 * ours: the device is behind the mock's second IOMMU driver, whose
	 * domains (like arm-smmu-v3's in 6.1) get their aperture and page
	 * sizes only when the first device attaches, and refuse to map
	 * before. Its domains and the first driver's don't mix.
	 */
	MOCK_FLAGS_DEVICE_LATE_IOMMU = 1 << 27,
	/* ours: its MSIs are not isolated (no interrupt remapping) */
	MOCK_FLAGS_DEVICE_UNSAFE_MSI = 1 << 28,
	/*
	 * ours, with MOCK_FLAGS_DEVICE_LATE_IOMMU only: the domain it
	 * finalises has the aperture [MOCK_APERTURE_START,
	 * MOCK_WIDE_APERTURE_LAST], room for benchmarks of several GiB
	 */
	MOCK_FLAGS_DEVICE_WIDE_APERTURE = 1 << 29,
	/*
	 * ours: its IOMMU's addresses end below MOCK_NARROW_TOP, and it is
	 * refused a domain that maps anything above, with -EFAULT as 6.1's
	 * VT-d refuses a domain that maps above a unit's address width
	 */
	MOCK_FLAGS_DEVICE_NARROW = 1 << 30,
};

enum {
	MOCK_NARROW_TOP = 0x10000000,
	MOCK_RESV_START = 0x40000000,
	MOCK_RESV_LAST = 0x400fffff,
};

/* flags of CREATE_ACCESS */
enum {
	MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES = 1 << 0,
	/* ours: the access ignores unmap notifications, UNMAP gets EBUSY */
	MOCK_FLAGS_ACCESS_CREATE_NO_UNMAP = 1 << 24,
	/*
	 * ours: in its unmap callback the access pins each range again right
	 * after unpinning it, as a driver whose DMA races the unmap would
	 */
	MOCK_FLAGS_ACCESS_CREATE_REPIN = 1 << 25,
};

/* flags of ACCESS_PAGES */
enum {
	MOCK_FLAGS_ACCESS_WRITE = 1 << 0,
};

/* flags of ACCESS_RW */
enum {
	MOCK_ACCESS_RW_WRITE = 1 << 0,
	MOCK_ACCESS_RW_SLOW_PATH = 1 << 2,
};

/* GET_HW_INFO of a mock device */
#define IOMMU_HW_INFO_TYPE_SELFTEST 0xfeedbeef
#define IOMMU_HW_INFO_SELFTEST_REGVAL 0xdeadbeef

/**
 * struct iommu_test_hw_info - GET_HW_INFO data of the mock IOMMU
 * @flags: 0
 * @test_reg: IOMMU_HW_INFO_SELFTEST_REGVAL
 */
struct iommu_test_hw_info {
	__u32 flags;
	__u32 test_reg;
};

/*
 * The longest range one ACCESS_PAGES may pin (ours: mainline leaves it
 * unbounded); its page array is allocated before anything is checked.
 */
#define MOCK_ACCESS_PAGES_MAX 0x40000000ULL /* 1 GiB */

/* The IOVA window of a mock domain; the IOAS reserves everything else. */
enum {
	MOCK_APERTURE_START = 1UL << 24,
	MOCK_APERTURE_LAST = (1UL << 31) - 1,
};

#define MOCK_WIDE_APERTURE_LAST ((1ULL << 40) - 1)
/* the late driver's aperture before its first attach (57 bits, as VT-d's) */
#define MOCK_PROVISIONAL_LAST ((1ULL << 57) - 1)

/* the most loops one ACCESS_RW_BENCH runs */
#define MOCK_ACCESS_RW_BENCH_LOOPS 65536

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
 * @mock_domain: MOCK_DOMAIN: create a mock device, bind it, give it a new
 *	mock domain (a HWPT) on the IOAS @id and attach it there; returns the
 *	selftest object (destroying it unbinds the device and frees the HWPT),
 *	the HWPT and the bound device's IDs
 * @mock_domain_flags: MOCK_DOMAIN_FLAGS: the same, with MOCK_FLAGS_DEVICE_*
 * @mock_domain_replace: MOCK_DOMAIN_REPLACE: move the attached device of
 *	stdev @id to @pt_id (an IOAS or a HWPT); returns the HWPT used
 * @check_map: MD_CHECK_MAP: check that the mock domain @id maps
 *	[@iova, @iova + @length) to the memory at @uptr (EINVAL if not)
 * @check_refs: MD_CHECK_REFS: check that each page of [@uptr, @uptr +
 *	@length) is pinned exactly @refs times (EIO if not)
 * @create_access: CREATE_ACCESS: a software access (as an emulated device
 *	would use) attached to the IOAS @id; returns a file descriptor that
 *	stands for it, closing it destroys the access
 * @destroy_access_pages: DESTROY_ACCESS_PAGES: unpin the pages that
 *	ACCESS_PAGES pinned under @access_pages_id, through the access fd @id
 * @access_pages: ACCESS_PAGES: pin [@iova, @iova + @length) through the
 *	access fd @id and check the pages are those of the memory at @uptr;
 *	returns an ID for DESTROY_ACCESS_PAGES
 * @access_rw: ACCESS_RW: copy @length bytes between IOVA @iova and the
 *	memory at @uptr through the access fd @id (MOCK_ACCESS_RW_WRITE: to
 *	the IOVA)
 * @access_replace_ioas: ACCESS_REPLACE_IOAS: move the access fd @id to the
 *	IOAS @ioas_id
 * @memory_limit: SET_TEMP_MEMORY_LIMIT: limit the temporary buffers used
 *	while pinning to @limit bytes, 0 for the default; makes tests cross
 *	batch boundaries with small mappings
 * @stats: STATS (ours): counters, each global to the kernel except the
 *	accounting ones which are those of the calling process and its user
 * @iopte: MD_IOPTE (ours): the IOPTE of mock domain @id that covers @iova
 * @mock_group_device: MOCK_GROUP_DEVICE (ours): create a mock device in the
 *	mock iommu_group @group_key (devices with the same key share a group,
 *	whichever file made them; key 0 means a group of its own) and bind it
 *	to this file, without attaching it
 * @mock_kernel_device: MOCK_KERNEL_DEVICE (ours): create a mock device in
 *	the mock iommu_group @group_key that a kernel driver binds to and
 *	uses the DMA API with; the selftest object @out_stdev_id owns it
 * @device_attach: DEVICE_ATTACH (ours): iommufd_device_attach() of the
 *	device of stdev @id to @pt_id (IOAS or HWPT); returns the HWPT
 * @device_info: DEVICE_INFO (ours): the HWPT the device of stdev @id is
 *	attached to (0 if none), whether it enforces cache coherency, the
 *	device's iommu_group ID, and whether the group is stuck on a domain
 *	it could not leave
 * @mock_fail_attach: MOCK_FAIL_ATTACH (ours): the next @count attaches of
 *	the mock device of stdev @id to a domain other than its own fail
 *	with ENOMEM (0: none), the blocking domain's too
 * @access_rw_bench: ACCESS_RW_BENCH (ours): @loops times
 *	iommufd_access_rw() of @length bytes at @iova through the access fd
 *	@id (MOCK_ACCESS_RW_WRITE: to the IOVA) and @loops times memcpy() of
 *	as many bytes between two kernel buffers; the time each took in
 *	@out_rw_ns and @out_memcpy_ns
 * @readback: READBACK_STATS (ours): how many PFNs of pinned pages, all
 *	files together, were read back from the CPU page table and how many
 *	from a domain (iommu_iova_to_phys()), to unmap, unpin or copy them,
 *	and how many snapshots of the CPU page table were not taken because
 *	its mmap lock was busy (the PFNs then came from a domain)
 * @mock_writers: MOCK_WRITERS (ours): from now on every map and unmap of a
 *	mock domain sleeps @delay_us microseconds inside the driver (0: not
 *	at all); returns how many times, since boot, a map or unmap of a mock
 *	domain began while another one of the same domain was running
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
			__u32 out_stdev_id;
			__u32 out_hwpt_id;
			__u32 out_idev_id;
			__u32 dev_flags;
		} mock_domain_flags;
		struct {
			__u32 pt_id;
		} mock_domain_replace;
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
			__u32 out_access_fd;
			__u32 flags;
		} create_access;
		struct {
			__u32 access_pages_id;
		} destroy_access_pages;
		struct {
			__u32 flags;
			__u32 out_access_pages_id;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} access_pages;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
			__u32 flags;
		} access_rw;
		struct {
			__u32 limit;
		} memory_limit;
		struct {
			__u32 ioas_id;
		} access_replace_ioas;
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
			/* IOMMU_READ, IOMMU_WRITE, IOMMU_CACHE as given to the domain */
			__u32 out_prot;
		} iopte;
		struct {
			__u32 group_key;
			__u32 dev_flags;
			__u32 out_stdev_id;
			__u32 out_idev_id;
		} mock_group_device;
		struct {
			__u32 group_key;
			__u32 out_stdev_id;
		} mock_kernel_device;
		struct {
			__u32 pt_id;
		} device_attach;
		struct {
			__u32 out_hwpt_id;
			__u32 out_coherent;
			__u32 out_group_id;
			__u32 out_stuck;
		} device_info;
		struct {
			__u32 count;
		} mock_fail_attach;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__u32 flags;
			__u32 loops;
			__aligned_u64 out_rw_ns;
			__aligned_u64 out_memcpy_ns;
		} access_rw_bench;
		struct {
			__aligned_u64 out_read_cpu;
			__aligned_u64 out_read_domain;
			__aligned_u64 out_cpu_busy;
		} readback;
		struct {
			__u32 delay_us;
			__u32 __reserved;
			__aligned_u64 out_overlaps;
		} mock_writers;
		__aligned_u64 __union_size[6];
	};
	__u32 last;
};

#define IOMMU_TEST_CMD _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32)

#endif
