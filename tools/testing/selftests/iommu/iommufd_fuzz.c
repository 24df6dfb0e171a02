// SPDX-License-Identifier: GPL-2.0-only
/*
 * A seeded random-ioctl fuzzer. Each call picks a command from a table
 * that describes every field of its argument by kind (an object ID, an
 * IOVA, a length, a user pointer, flags, a reserved field, ...). Half the
 * calls are meant to be right: IDs of the right type and file, known
 * flags, zero reserved fields, and the IOVA, user address and IOAS of a
 * mapping that succeeded lately, so that unmaps, copies, pins and rw go
 * deep. The other half fill each field with a plausible value or an edge
 * case: sizes around the
 * minimum and past the end (zero or not), unknown flags, IDs of the wrong
 * type or of the other file, huge lengths, IOVAs near U64_MAX, unaligned,
 * NULL, kernel, read-only, PROT_NONE and munmap'd user pointers, zero
 * lengths; the argument itself is sometimes placed against an unmapped
 * page. IDs and access fds the kernel hands out go into pools that later
 * calls draw from, and now and then a file is closed with all it holds, or
 * memory that is mapped in an IOAS is munmap'd and mapped anew.
 *
 * Test iommufd: both files of /dev/iommu, every command, and all the
 * IOMMU_TEST_CMD operations of the mock. Test vfio: the edu alone in its
 * iommu_group (skipped without one bound to vfio-pci), through its cdev,
 * its group and /dev/vfio/vfio, with the /dev/iommu commands mixed in.
 *
 * Every call must succeed or fail with one of the errnos the uAPI defines
 * for bad input; every few thousand calls each file must still do a
 * plain map and unmap; after the close, nothing may be left pinned or
 * charged. Splats fail make check by themselves.
 *
 * Reproducible: the PRNG is seeded from IOMMUFD_FUZZ_SEED, else from the
 * clock, and the seed is printed; a run with that seed issues the same
 * calls. IOMMUFD_FUZZ_CALLS sets the number of calls (80000 for the
 * iommufd test, a quarter of it for vfio: 100000 in all in make check),
 * IOMMUFD_FUZZ_TRACE=1 prints each.
 *
 * Needs a kernel built with CONFIG_IOMMUFD_TEST, and root.
 */
#include <dirent.h>
#include <execinfo.h>
#include <limits.h>
#include <signal.h>
#include <time.h>
#include <sys/eventfd.h>
#include <linux/vfio.h>

#include "iommufd_utils.h"

#define FZ_FILES 2
#define FZ_POOL 16
/* the memfd IOMMU_IOAS_MAP_FILE maps from: lengths often run past it */
#define FZ_MEMFD_PAGES 64
#define FZ_ACCESSES 6
#define FZ_DEVFDS 3

/* the arena: what user pointers point into */
#define FZ_PAGES 64
#define FZ_RO_FIRST 40		/* pages 40..47 read-only */
#define FZ_NONE_FIRST 48	/* 48..55 PROT_NONE */
#define FZ_REMAP_FIRST 56	/* 56..63 munmap'd and mapped anew */
#define FZ_BLOCK 8

/* the argument buffer: two pages and a PROT_NONE one behind them */
#define FZ_ARG_SIZE (2 * 4096)

enum fz_kind {
	K_END,
	K_CONST,	/* @mask is the value */
	K_SIZE,		/* the size or argsz field */
	K_IOAS, K_HWPT, K_IDEV, K_STDEV, K_PT, K_ANYID,
	K_ACCESS,	/* an access fd of the mock */
	K_PAGES,	/* an ACCESS_PAGES ID */
	K_FLAGS,	/* @mask: the known flags */
	K_LEN, K_IOVA, K_UPTR, K_NUM, K_RSV, K_U16, K_U64, K_FD,
	K_MEMFD,	/* a file for IOMMU_IOAS_MAP_FILE: mostly the memfd */
	K_OUT,		/* an output: garbage in */
	K_OUT_IOAS, K_OUT_HWPT, K_OUT_IDEV, K_OUT_STDEV, K_OUT_ACCESS,
	K_OUT_PAGES,
};

struct fz_field {
	unsigned short off;
	unsigned char kind;
	unsigned char width;	/* bytes: 2, 4 or 8 */
	__u32 mask;
};

enum fz_target { T_IOMMUFD, T_CDEV, T_GROUP, T_CONTAINER };

enum fz_arg {
	A_STRUCT,	/* a pointer to the fields below */
	A_NONE,		/* no argument */
	A_VALUE,	/* the argument is a number */
	A_INTPTR,	/* a pointer to an fd */
	A_STRING,	/* a pointer to a device name */
};

struct fz_cmd {
	const char *name;
	unsigned long nr;
	unsigned char target;
	unsigned char arg;
	unsigned short weight;
	unsigned short size;	/* sizeof the structure */
	unsigned short min;	/* the smallest size the kernel takes */
	struct fz_field f[12];
};

#define F4(s, m, k, ...) { offsetof(s, m), k, 4, __VA_ARGS__ }
#define F8(s, m, k, ...) { offsetof(s, m), k, 8, __VA_ARGS__ }
#define F2(s, m, k, ...) { offsetof(s, m), k, 2, __VA_ARGS__ }
#define SZ(s, last) sizeof(s), offsetofend(s, last)
#ifndef offsetofend
#define offsetofend(s, m) (offsetof(s, m) + sizeof(((s *)0)->m))
#endif

/* IOMMU_TEST_CMD: one entry per operation; U4/U8 are union members */
#define TC struct iommu_test_cmd
#define TEST_OP(name_, op_, w_, ...)					\
	{ "test:" name_, IOMMU_TEST_CMD, T_IOMMUFD, A_STRUCT, w_,	\
	  sizeof(TC), offsetofend(TC, last),				\
	  { F4(TC, size, K_SIZE), F4(TC, op, K_CONST, op_),		\
	    F4(TC, __reserved, K_RSV), __VA_ARGS__ } }
#define U4(m, k, ...) F4(TC, m, k, __VA_ARGS__)
#define U8(m, k, ...) F8(TC, m, k, __VA_ARGS__)

#define VIOAS struct iommu_vfio_ioas
#define HA struct iommu_hwpt_alloc
#define HI struct iommu_hw_info
#define MAPF (IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE |	\
	      IOMMU_IOAS_MAP_READABLE)
#define DEVF (MOCK_FLAGS_DEVICE_NO_DIRTY | MOCK_FLAGS_DEVICE_HUGE_IOVA |	\
	      MOCK_FLAGS_DEVICE_NO_COHERENCY | MOCK_FLAGS_DEVICE_RESV)

static const struct fz_cmd fz_cmds[] = {
	{ "destroy", IOMMU_DESTROY, T_IOMMUFD, A_STRUCT, 8,
	  SZ(struct iommu_destroy, id),
	  { F4(struct iommu_destroy, size, K_SIZE),
	    F4(struct iommu_destroy, id, K_ANYID) } },
	{ "ioas_alloc", IOMMU_IOAS_ALLOC, T_IOMMUFD, A_STRUCT, 6,
	  SZ(struct iommu_ioas_alloc, out_ioas_id),
	  { F4(struct iommu_ioas_alloc, size, K_SIZE),
	    F4(struct iommu_ioas_alloc, flags, K_FLAGS, 0),
	    F4(struct iommu_ioas_alloc, out_ioas_id, K_OUT_IOAS) } },
	{ "ioas_allow_iovas", IOMMU_IOAS_ALLOW_IOVAS, T_IOMMUFD, A_STRUCT, 4,
	  SZ(struct iommu_ioas_allow_iovas, allowed_iovas),
	  { F4(struct iommu_ioas_allow_iovas, size, K_SIZE),
	    F4(struct iommu_ioas_allow_iovas, ioas_id, K_IOAS),
	    F4(struct iommu_ioas_allow_iovas, num_iovas, K_NUM),
	    F4(struct iommu_ioas_allow_iovas, __reserved, K_RSV),
	    F8(struct iommu_ioas_allow_iovas, allowed_iovas, K_UPTR) } },
	{ "ioas_copy", IOMMU_IOAS_COPY, T_IOMMUFD, A_STRUCT, 10,
	  SZ(struct iommu_ioas_copy, src_iova),
	  { F4(struct iommu_ioas_copy, size, K_SIZE),
	    F4(struct iommu_ioas_copy, flags, K_FLAGS, MAPF),
	    F4(struct iommu_ioas_copy, dst_ioas_id, K_IOAS),
	    F4(struct iommu_ioas_copy, src_ioas_id, K_IOAS),
	    F8(struct iommu_ioas_copy, length, K_LEN),
	    F8(struct iommu_ioas_copy, dst_iova, K_IOVA),
	    F8(struct iommu_ioas_copy, src_iova, K_IOVA) } },
	{ "ioas_iova_ranges", IOMMU_IOAS_IOVA_RANGES, T_IOMMUFD, A_STRUCT, 4,
	  SZ(struct iommu_ioas_iova_ranges, out_iova_alignment),
	  { F4(struct iommu_ioas_iova_ranges, size, K_SIZE),
	    F4(struct iommu_ioas_iova_ranges, ioas_id, K_IOAS),
	    F4(struct iommu_ioas_iova_ranges, num_iovas, K_NUM),
	    F4(struct iommu_ioas_iova_ranges, __reserved, K_RSV),
	    F8(struct iommu_ioas_iova_ranges, allowed_iovas, K_UPTR),
	    F8(struct iommu_ioas_iova_ranges, out_iova_alignment, K_OUT) } },
	{ "ioas_map", IOMMU_IOAS_MAP, T_IOMMUFD, A_STRUCT, 24,
	  SZ(struct iommu_ioas_map, iova),
	  { F4(struct iommu_ioas_map, size, K_SIZE),
	    F4(struct iommu_ioas_map, flags, K_FLAGS, MAPF),
	    F4(struct iommu_ioas_map, ioas_id, K_IOAS),
	    F4(struct iommu_ioas_map, __reserved, K_RSV),
	    F8(struct iommu_ioas_map, user_va, K_UPTR),
	    F8(struct iommu_ioas_map, length, K_LEN),
	    F8(struct iommu_ioas_map, iova, K_IOVA) } },
	{ "ioas_map_file", IOMMU_IOAS_MAP_FILE, T_IOMMUFD, A_STRUCT, 8,
	  SZ(struct iommu_ioas_map_file, iova),
	  { F4(struct iommu_ioas_map_file, size, K_SIZE),
	    F4(struct iommu_ioas_map_file, flags, K_FLAGS, MAPF),
	    F4(struct iommu_ioas_map_file, ioas_id, K_IOAS),
	    F4(struct iommu_ioas_map_file, fd, K_MEMFD),
	    F8(struct iommu_ioas_map_file, start, K_LEN),
	    F8(struct iommu_ioas_map_file, length, K_LEN),
	    F8(struct iommu_ioas_map_file, iova, K_IOVA) } },
	{ "ioas_change_process", IOMMU_IOAS_CHANGE_PROCESS, T_IOMMUFD,
	  A_STRUCT, 2, SZ(struct iommu_ioas_change_process, __reserved),
	  { F4(struct iommu_ioas_change_process, size, K_SIZE),
	    F4(struct iommu_ioas_change_process, __reserved, K_RSV) } },
	{ "ioas_unmap", IOMMU_IOAS_UNMAP, T_IOMMUFD, A_STRUCT, 14,
	  SZ(struct iommu_ioas_unmap, length),
	  { F4(struct iommu_ioas_unmap, size, K_SIZE),
	    F4(struct iommu_ioas_unmap, ioas_id, K_IOAS),
	    F8(struct iommu_ioas_unmap, iova, K_IOVA),
	    F8(struct iommu_ioas_unmap, length, K_LEN) } },
	{ "option", IOMMU_OPTION, T_IOMMUFD, A_STRUCT, 4,
	  SZ(struct iommu_option, val64),
	  { F4(struct iommu_option, size, K_SIZE),
	    F4(struct iommu_option, option_id, K_NUM),
	    F2(struct iommu_option, op, K_U16),
	    F2(struct iommu_option, __reserved, K_RSV),
	    F4(struct iommu_option, object_id, K_ANYID),
	    F8(struct iommu_option, val64, K_U64) } },
	{ "vfio_ioas", IOMMU_VFIO_IOAS, T_IOMMUFD, A_STRUCT, 3,
	  SZ(VIOAS, __reserved),
	  { F4(VIOAS, size, K_SIZE), F4(VIOAS, ioas_id, K_IOAS),
	    F2(VIOAS, op, K_U16), F2(VIOAS, __reserved, K_RSV) } },
	{ "hwpt_alloc", IOMMU_HWPT_ALLOC, T_IOMMUFD, A_STRUCT, 5,
	  SZ(HA, __reserved),
	  { F4(HA, size, K_SIZE), F4(HA, flags, K_FLAGS, 0x7),
	    F4(HA, dev_id, K_IDEV), F4(HA, pt_id, K_PT),
	    F4(HA, out_hwpt_id, K_OUT_HWPT), F4(HA, __reserved, K_RSV),
	    F4(HA, data_type, K_NUM), F4(HA, data_len, K_NUM),
	    F8(HA, data_uptr, K_UPTR), F4(HA, fault_id, K_ANYID),
	    F4(HA, __reserved2, K_RSV) } },
	{ "get_hw_info", IOMMU_GET_HW_INFO, T_IOMMUFD, A_STRUCT, 4,
	  SZ(HI, __reserved),
	  { F4(HI, size, K_SIZE), F4(HI, flags, K_FLAGS, 0),
	    F4(HI, dev_id, K_IDEV), F4(HI, data_len, K_NUM),
	    F8(HI, data_uptr, K_UPTR), F4(HI, out_data_type, K_OUT),
	    F8(HI, out_capabilities, K_OUT) } },
	{ "unknown", _IO(IOMMUFD_TYPE, 0x8b), T_IOMMUFD, A_STRUCT, 1,
	  8, 8, { F4(struct iommu_destroy, size, K_SIZE) } },

	TEST_OP("add_reserved", IOMMU_TEST_OP_ADD_RESERVED, 2,
		U4(id, K_IOAS), U8(add_reserved.start, K_IOVA),
		U8(add_reserved.length, K_LEN)),
	TEST_OP("mock_domain", IOMMU_TEST_OP_MOCK_DOMAIN, 3,
		U4(id, K_PT), U4(mock_domain.out_stdev_id, K_OUT_STDEV),
		U4(mock_domain.out_hwpt_id, K_OUT_HWPT),
		U4(mock_domain.out_idev_id, K_OUT_IDEV)),
	TEST_OP("md_check_map", IOMMU_TEST_OP_MD_CHECK_MAP, 3,
		U4(id, K_HWPT), U8(check_map.iova, K_IOVA),
		U8(check_map.length, K_LEN), U8(check_map.uptr, K_UPTR)),
	TEST_OP("md_check_refs", IOMMU_TEST_OP_MD_CHECK_REFS, 3,
		U8(check_refs.length, K_LEN), U8(check_refs.uptr, K_UPTR),
		U4(check_refs.refs, K_NUM)),
	TEST_OP("create_access", IOMMU_TEST_OP_CREATE_ACCESS, 3,
		U4(id, K_IOAS), U4(create_access.out_access_fd, K_OUT_ACCESS),
		U4(create_access.flags, K_FLAGS,
		   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES |
		   MOCK_FLAGS_ACCESS_CREATE_NO_UNMAP)),
	TEST_OP("destroy_access_pages", IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, 6,
		U4(id, K_ACCESS),
		U4(destroy_access_pages.access_pages_id, K_PAGES)),
	TEST_OP("access_pages", IOMMU_TEST_OP_ACCESS_PAGES, 8,
		U4(id, K_ACCESS),
		U4(access_pages.flags, K_FLAGS, MOCK_FLAGS_ACCESS_WRITE),
		U4(access_pages.out_access_pages_id, K_OUT_PAGES),
		U8(access_pages.iova, K_IOVA), U8(access_pages.length, K_LEN),
		U8(access_pages.uptr, K_UPTR)),
	TEST_OP("access_rw", IOMMU_TEST_OP_ACCESS_RW, 8,
		U4(id, K_ACCESS), U8(access_rw.iova, K_IOVA),
		U8(access_rw.length, K_LEN), U8(access_rw.uptr, K_UPTR),
		U4(access_rw.flags, K_FLAGS,
		   MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH)),
	TEST_OP("set_temp_memory_limit", IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT, 1,
		U4(memory_limit.limit, K_NUM)),
	TEST_OP("mock_domain_replace", IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, 4,
		U4(id, K_STDEV), U4(mock_domain_replace.pt_id, K_PT)),
	TEST_OP("access_replace_ioas", IOMMU_TEST_OP_ACCESS_REPLACE_IOAS, 4,
		U4(id, K_ACCESS), U4(access_replace_ioas.ioas_id, K_IOAS)),
	TEST_OP("mock_domain_flags", IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, 2,
		U4(id, K_PT), U4(mock_domain_flags.out_stdev_id, K_OUT_STDEV),
		U4(mock_domain_flags.out_hwpt_id, K_OUT_HWPT),
		U4(mock_domain_flags.out_idev_id, K_OUT_IDEV),
		U4(mock_domain_flags.dev_flags, K_FLAGS, DEVF)),
	TEST_OP("stats", IOMMU_TEST_OP_STATS, 1,
		U8(stats.out_pinned_pages, K_OUT)),
	TEST_OP("md_iopte", IOMMU_TEST_OP_MD_IOPTE, 2,
		U4(id, K_HWPT), U8(iopte.iova, K_IOVA)),
	TEST_OP("mock_group_device", IOMMU_TEST_OP_MOCK_GROUP_DEVICE, 2,
		U4(mock_group_device.group_key, K_NUM),
		U4(mock_group_device.dev_flags, K_FLAGS, DEVF),
		U4(mock_group_device.out_stdev_id, K_OUT_STDEV),
		U4(mock_group_device.out_idev_id, K_OUT_IDEV)),
	TEST_OP("device_attach", IOMMU_TEST_OP_DEVICE_ATTACH, 5,
		U4(id, K_STDEV), U4(device_attach.pt_id, K_PT)),
	TEST_OP("device_detach", IOMMU_TEST_OP_DEVICE_DETACH, 4,
		U4(id, K_STDEV)),
	TEST_OP("device_info", IOMMU_TEST_OP_DEVICE_INFO, 2,
		U4(id, K_STDEV)),
	TEST_OP("mock_kernel_device", IOMMU_TEST_OP_MOCK_KERNEL_DEVICE, 1,
		U4(mock_kernel_device.group_key, K_NUM),
		U4(mock_kernel_device.out_stdev_id, K_OUT_STDEV)),
	TEST_OP("mock_domain_new", IOMMU_TEST_OP_MOCK_DOMAIN_NEW, 3,
		U4(id, K_IOAS), U4(mock_domain.out_stdev_id, K_OUT_STDEV),
		U4(mock_domain.out_hwpt_id, K_OUT_HWPT),
		U4(mock_domain.out_idev_id, K_OUT_IDEV)),
	TEST_OP("readback_stats", IOMMU_TEST_OP_READBACK_STATS, 1,
		U8(readback.out_read_cpu, K_OUT)),
	/* no delay: the fuzzer would crawl */
	TEST_OP("mock_writers", IOMMU_TEST_OP_MOCK_WRITERS, 1,
		U4(mock_writers.delay_us, K_CONST, 0),
		U4(mock_writers.__reserved, K_RSV)),
	TEST_OP("unknown_op", 999, 1, U4(id, K_ANYID)),
};

#define BI struct vfio_device_bind_iommufd
#define AT struct vfio_device_attach_iommufd_pt
#define DT struct vfio_device_detach_iommufd_pt
#define DI struct vfio_device_info
#define RI struct vfio_region_info
#define II struct vfio_irq_info
#define SI struct vfio_irq_set
#define HR struct vfio_pci_hot_reset_info
#define HT struct vfio_pci_hot_reset
#define DF struct vfio_device_feature
#define IE struct vfio_device_ioeventfd
#define GS struct vfio_group_status
#define CI struct vfio_iommu_type1_info
#define MD struct vfio_iommu_type1_dma_map
#define UD struct vfio_iommu_type1_dma_unmap

static const struct fz_cmd fz_vfio_cmds[] = {
	{ "bind_iommufd", VFIO_DEVICE_BIND_IOMMUFD, T_CDEV, A_STRUCT, 8,
	  SZ(BI, out_devid),
	  { F4(BI, argsz, K_SIZE), F4(BI, flags, K_FLAGS, 0),
	    F4(BI, iommufd, K_FD), F4(BI, out_devid, K_OUT_IDEV) } },
	{ "attach_pt", VFIO_DEVICE_ATTACH_IOMMUFD_PT, T_CDEV, A_STRUCT, 12,
	  SZ(AT, pt_id),
	  { F4(AT, argsz, K_SIZE), F4(AT, flags, K_FLAGS, 0),
	    F4(AT, pt_id, K_PT) } },
	{ "detach_pt", VFIO_DEVICE_DETACH_IOMMUFD_PT, T_CDEV, A_STRUCT, 6,
	  SZ(DT, flags),
	  { F4(DT, argsz, K_SIZE), F4(DT, flags, K_FLAGS, 0) } },
	{ "device_get_info", VFIO_DEVICE_GET_INFO, T_CDEV, A_STRUCT, 3,
	  SZ(DI, num_irqs),
	  { F4(DI, argsz, K_SIZE), F4(DI, flags, K_OUT),
	    F4(DI, cap_offset, K_OUT) } },
	{ "get_region_info", VFIO_DEVICE_GET_REGION_INFO, T_CDEV, A_STRUCT, 3,
	  SZ(RI, offset),
	  { F4(RI, argsz, K_SIZE), F4(RI, index, K_NUM) } },
	{ "get_irq_info", VFIO_DEVICE_GET_IRQ_INFO, T_CDEV, A_STRUCT, 2,
	  SZ(II, count),
	  { F4(II, argsz, K_SIZE), F4(II, index, K_NUM) } },
	{ "set_irqs", VFIO_DEVICE_SET_IRQS, T_CDEV, A_STRUCT, 3,
	  sizeof(SI) + 8, offsetofend(SI, count),
	  { F4(SI, argsz, K_SIZE), F4(SI, flags, K_FLAGS, 0x3f),
	    F4(SI, index, K_NUM), F4(SI, start, K_NUM),
	    F4(SI, count, K_NUM), { sizeof(SI), K_FD, 4 },
	    { sizeof(SI) + 4, K_FD, 4 } } },
	{ "reset", VFIO_DEVICE_RESET, T_CDEV, A_NONE, 1, 0, 0, { } },
	{ "hot_reset_info", VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, T_CDEV,
	  A_STRUCT, 2, SZ(HR, count),
	  { F4(HR, argsz, K_SIZE), F4(HR, flags, K_OUT),
	    F4(HR, count, K_NUM) } },
	{ "hot_reset", VFIO_DEVICE_PCI_HOT_RESET, T_CDEV, A_STRUCT, 1,
	  sizeof(HT) + 8, offsetofend(HT, count),
	  { F4(HT, argsz, K_SIZE), F4(HT, flags, K_FLAGS, 0),
	    F4(HT, count, K_NUM), { sizeof(HT), K_FD, 4 },
	    { sizeof(HT) + 4, K_FD, 4 } } },
	{ "device_feature", VFIO_DEVICE_FEATURE, T_CDEV, A_STRUCT, 2,
	  sizeof(DF) + 16, offsetofend(DF, flags),
	  { F4(DF, argsz, K_SIZE), F4(DF, flags, K_U64) } },
	{ "ioeventfd", VFIO_DEVICE_IOEVENTFD, T_CDEV, A_STRUCT, 1,
	  SZ(IE, fd),
	  { F4(IE, argsz, K_SIZE), F4(IE, flags, K_FLAGS, 0xf),
	    F8(IE, offset, K_IOVA), F8(IE, data, K_U64),
	    F4(IE, fd, K_FD) } },
	{ "device_unknown", _IO(VFIO_TYPE, VFIO_BASE + 40), T_CDEV, A_STRUCT,
	  1, 8, 8, { F4(DT, argsz, K_SIZE) } },

	{ "group_status", VFIO_GROUP_GET_STATUS, T_GROUP, A_STRUCT, 2,
	  SZ(GS, flags), { F4(GS, argsz, K_SIZE), F4(GS, flags, K_OUT) } },
	{ "set_container", VFIO_GROUP_SET_CONTAINER, T_GROUP, A_INTPTR, 6,
	  0, 0, { } },
	{ "unset_container", VFIO_GROUP_UNSET_CONTAINER, T_GROUP, A_NONE, 4,
	  0, 0, { } },
	{ "get_device_fd", VFIO_GROUP_GET_DEVICE_FD, T_GROUP, A_STRING, 3,
	  0, 0, { } },

	{ "api_version", VFIO_GET_API_VERSION, T_CONTAINER, A_NONE, 1,
	  0, 0, { } },
	{ "check_extension", VFIO_CHECK_EXTENSION, T_CONTAINER, A_VALUE, 2,
	  0, 0, { } },
	{ "set_iommu", VFIO_SET_IOMMU, T_CONTAINER, A_VALUE, 5, 0, 0, { } },
	{ "iommu_get_info", VFIO_IOMMU_GET_INFO, T_CONTAINER, A_STRUCT, 3,
	  SZ(CI, iova_pgsizes),
	  { F4(CI, argsz, K_SIZE), F4(CI, flags, K_OUT),
	    F4(CI, cap_offset, K_OUT) } },
	{ "map_dma", VFIO_IOMMU_MAP_DMA, T_CONTAINER, A_STRUCT, 12,
	  SZ(MD, size),
	  { F4(MD, argsz, K_SIZE), F4(MD, flags, K_FLAGS, 0x7),
	    F8(MD, vaddr, K_UPTR), F8(MD, iova, K_IOVA),
	    F8(MD, size, K_LEN) } },
	{ "unmap_dma", VFIO_IOMMU_UNMAP_DMA, T_CONTAINER, A_STRUCT, 10,
	  SZ(UD, size),
	  { F4(UD, argsz, K_SIZE), F4(UD, flags, K_FLAGS, 0x7),
	    F8(UD, iova, K_IOVA), F8(UD, size, K_LEN) } },
	{ "container_unknown", _IO(VFIO_TYPE, VFIO_BASE + 17), T_CONTAINER,
	  A_NONE, 1, 0, 0, { } },
};

/* every errno the uAPI gives for bad input or a busy object */
static bool fz_errno_ok(int err)
{
	switch (err) {
	case EINVAL: case ENOENT: case EOPNOTSUPP: case ENOTTY: case EFAULT:
	case ENOMEM: case EBUSY: case EEXIST: case ENOSPC: case ERANGE:
	case EOVERFLOW: case E2BIG: case EMSGSIZE: case EDEADLK: case EBADF:
	case EPERM: case ENODEV: case ENXIO: case EIO: case EAGAIN:
	case EBADFD: case EADDRINUSE: case EACCES:
		return true;
	}
	return false;
}

struct fz_pool {
	__u32 id[FZ_POOL];
	unsigned int n;
};

struct fz_file {
	int fd;
	struct fz_pool ioas, hwpt, idev, stdev;
};

struct fz {
	__u64 rnd;
	unsigned long call;
	bool trace;
	struct fz_file file[FZ_FILES];
	struct {
		int fd;
		unsigned int file;
		struct fz_pool pages;
	} access[FZ_ACCESSES];
	/* the VFIO side, -1 when not open */
	int cdev, group, container;
	int devfd[FZ_DEVFDS];
	int eventfd;
	int memfd;	/* FZ_MEMFD_PAGES pages, for IOMMU_IOAS_MAP_FILE */
	char bdf[NAME_MAX + 1];
	char cdev_path[PATH_MAX], group_path[PATH_MAX];
	unsigned char *arena;
	size_t arena_size;
	bool remapped_away;
	unsigned char *argbuf;	/* FZ_ARG_SIZE + a PROT_NONE page */
	unsigned long calls[64], refused[64];
	unsigned long errnos[256];
	unsigned long unexpected;
	char first_bad[256];
	/* the file the current call goes to */
	unsigned int cur;
	/* this call's arguments are meant to be right, but for the odd one */
	bool good;
	/* mappings that succeeded lately, for calls that use a mapped IOVA */
	struct fz_map {
		unsigned int file;
		__u32 ioas;
		__u64 iova, uptr, len;
	} maps[FZ_POOL];
	unsigned int nmaps;
	/* the mapping this call uses, if any */
	const struct fz_map *m;
};

static __u64 fz_next(struct fz *z)
{
	/* splitmix64: every seed, 0 included, gives a full sequence */
	__u64 x = (z->rnd += 0x9e3779b97f4a7c15ULL);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static unsigned int fz_rand(struct fz *z, unsigned int n)
{
	return (unsigned int)(fz_next(z) % n);
}

static bool fz_chance(struct fz *z, unsigned int percent)
{
	return fz_rand(z, 100) < percent;
}

static void fz_pool_add(struct fz *z, struct fz_pool *p, __u32 id)
{
	if (p->n < FZ_POOL)
		p->id[p->n++] = id;
	else
		p->id[fz_rand(z, FZ_POOL)] = id;
}

static __u32 fz_pool_pick(struct fz *z, struct fz_pool *p)
{
	return p->n ? p->id[fz_rand(z, p->n)] : 0;
}

/* an ID: mostly of the kind asked for and from the current file */
static __u32 fz_id(struct fz *z, enum fz_kind kind)
{
	static const __u32 odd[] = { 0, 1, 2, 3, 0x7fffffff, 0xffffffff,
				     0x80000000, 1000 };
	unsigned int r = z->good ? 99 : fz_rand(z, 100);
	struct fz_file *f = &z->file[z->cur];

	if (kind == K_IOAS && z->m && z->m->file == z->cur &&
	    fz_chance(z, 80))
		return z->m->ioas;
	if (r < 8)
		return odd[fz_rand(z, ARRAY_SIZE(odd))];
	if (r < 16)	/* the other file's */
		f = &z->file[(z->cur + 1) % FZ_FILES];
	if (r < 24 || kind == K_ANYID) {	/* of any type */
		struct fz_pool *pools[] = { &f->ioas, &f->hwpt, &f->idev,
					    &f->stdev };

		return fz_pool_pick(z, pools[fz_rand(z, 4)]);
	}
	switch (kind) {
	case K_IOAS:
		return fz_pool_pick(z, &f->ioas);
	case K_HWPT:
		return fz_pool_pick(z, &f->hwpt);
	case K_IDEV:
		return fz_pool_pick(z, &f->idev);
	case K_STDEV:
		return fz_pool_pick(z, &f->stdev);
	default:	/* K_PT */
		return fz_pool_pick(z, fz_chance(z, 50) ? &f->ioas : &f->hwpt);
	}
}

static __u64 fz_len(struct fz *z)
{
	if (z->good) {
		if (z->m && fz_chance(z, 70))
			return fz_chance(z, 50) ? z->m->len : PS;
		return (1 + fz_rand(z, 4)) * PS;
	}
	static const __u64 edge[] = {
		0, 1, 2048, 4095, 4096, 4097, 8192, 2 * 1024 * 1024,
		1ULL << 30, 1ULL << 32, 1ULL << 63, U64_MAX, U64_MAX - 4095,
		FZ_PAGES * 4096ULL,
	};

	if (fz_chance(z, 70))
		return (1 + fz_rand(z, 16)) * PS;
	if (fz_chance(z, 80))
		return edge[fz_rand(z, ARRAY_SIZE(edge))];
	return fz_next(z);
}

static __u64 fz_iova(struct fz *z)
{
	static const __u64 edge[] = {
		0, APERTURE_START, APERTURE_LAST, APERTURE_LAST - 4095,
		APERTURE_LAST + 1, 1ULL << 32, 1ULL << 47, 1ULL << 48,
		1ULL << 63, U64_MAX, U64_MAX - 4095, U64_MAX - 1, 0xfee00000,
		0x10000000,
	};
	/* IOVAs that a mock domain and VT-d both take */
	__u64 base = fz_chance(z, 50) ? APERTURE_START : 0x10000000;

	if (z->good) {
		if (z->m && fz_chance(z, 80))
			return z->m->iova;
		return base + fz_rand(z, 16) * PS;
	}
	if (fz_chance(z, 65))
		return base + fz_rand(z, 32) * PS;
	if (fz_chance(z, 30))
		return base + fz_rand(z, 64) * 2048 + fz_rand(z, 2);
	if (fz_chance(z, 80))
		return edge[fz_rand(z, ARRAY_SIZE(edge))];
	return fz_next(z);
}

/* a user pointer: into the arena (any part of it), or something odd */
static __u64 fz_uptr(struct fz *z)
{
	static const __u64 odd[] = {
		0, 1, 4096, 0xffff888000000000ULL, 0xffffffffff600000ULL,
		U64_MAX - 4095, 1ULL << 47,
	};
	__u64 a = (uintptr_t)z->arena;

	if (z->good) {
		if (z->m && fz_chance(z, 80))
			return z->m->uptr;
		return a + fz_rand(z, FZ_RO_FIRST) * PS;
	}
	if (fz_chance(z, 75))
		return a + fz_rand(z, FZ_PAGES) * PS;
	if (fz_chance(z, 50))
		return a + fz_rand(z, (unsigned int)z->arena_size);
	if (fz_chance(z, 50))
		return odd[fz_rand(z, ARRAY_SIZE(odd))];
	if (fz_chance(z, 50))
		return (uintptr_t)&fz_cmds;	/* read-only data */
	return fz_next(z);
}

static __u64 fz_num(struct fz *z)
{
	static const __u64 edge[] = {
		0, 1, 2, 3, 4, 8, 16, 255, 256, 0x10000, 0x7fffffff,
		0x80000000, 0xffffffff,
	};

	if (z->good)
		return fz_rand(z, 4);
	if (fz_chance(z, 85))
		return edge[fz_rand(z, ARRAY_SIZE(edge))];
	return fz_next(z) & 0xffffffff;
}

static __u64 fz_flags(struct fz *z, __u32 mask)
{
	unsigned int r = fz_rand(z, 100);

	if (z->good)
		return fz_next(z) & mask;
	if (r < 40)
		return 0;
	if (r < 70)
		return fz_next(z) & mask;
	if (r < 80)
		return mask;
	if (r < 90)
		return 1U << fz_rand(z, 32);
	return fz_next(z) & 0xffffffff;
}

static int fz_fd(struct fz *z)
{
	int fds[] = { z->file[0].fd, z->file[1].fd, z->container, z->group,
		      z->cdev, z->eventfd, -1, 0, 1000,
		      z->access[0].fd };
	unsigned int r = z->good ? 0 : fz_rand(z, 100);

	if (r < 60)
		return z->file[z->cur].fd;
	if (r < 95)
		return fds[fz_rand(z, ARRAY_SIZE(fds))];
	return (int)fz_next(z);
}

static unsigned int fz_access_slot(struct fz *z)
{
	unsigned int i, start = fz_rand(z, FZ_ACCESSES);

	/* the first open access from a random place, mostly of this file */
	for (i = 0; i < FZ_ACCESSES; i++) {
		unsigned int k = (start + i) % FZ_ACCESSES;

		if (z->access[k].fd >= 0 &&
		    (z->access[k].file == z->cur || fz_chance(z, 20)))
			return k;
	}
	return start;
}

/* the value for one field; *slot notes the access a K_ACCESS chose */
static __u64 fz_value(struct fz *z, const struct fz_field *fl, int *slot)
{
	switch (fl->kind) {
	case K_CONST:
		return fl->mask;
	case K_IOAS: case K_HWPT: case K_IDEV: case K_STDEV: case K_PT:
	case K_ANYID:
		return fz_id(z, fl->kind);
	case K_ACCESS: {
		unsigned int k = fz_access_slot(z);

		*slot = k;
		if (fz_chance(z, 5))
			return fz_fd(z);
		return (__u32)z->access[k].fd;
	}
	case K_PAGES:
		if (*slot >= 0 && fz_chance(z, 90))
			return fz_pool_pick(z, &z->access[*slot].pages);
		return fz_num(z);
	case K_FLAGS:
		return fz_flags(z, fl->mask);
	case K_LEN:
		return fz_len(z);
	case K_IOVA:
		return fz_iova(z);
	case K_UPTR:
		return fz_uptr(z);
	case K_NUM:
		return fz_num(z);
	case K_RSV:
		return z->good || fz_chance(z, 92) ? 0 : fz_next(z);
	case K_U16:
		return z->good || fz_chance(z, 80) ? fz_rand(z, 3) : fz_next(z);
	case K_U64:
		return fz_chance(z, 50) ? fz_num(z) : fz_next(z);
	case K_FD:
		return (__u32)fz_fd(z);
	case K_MEMFD:
		return (__u32)(z->good || fz_chance(z, 70) ? z->memfd :
			       fz_fd(z));
	default:	/* outputs: garbage */
		return fz_next(z);
	}
}

static void fz_put(unsigned char *p, const struct fz_field *fl, __u64 v)
{
	__u16 v16 = v;
	__u32 v32 = v;

	if (fl->width == 2)
		memcpy(p + fl->off, &v16, 2);
	else if (fl->width == 4)
		memcpy(p + fl->off, &v32, 4);
	else
		memcpy(p + fl->off, &v, 8);
}

static __u32 fz_get32(const unsigned char *p, unsigned int off)
{
	__u32 v;

	memcpy(&v, p + off, 4);
	return v;
}

/* the size field: mostly right, sometimes around the minimum or past */
static __u32 fz_size(struct fz *z, const struct fz_cmd *c, bool *dirty)
{
	unsigned int r = z->good ? 0 : fz_rand(z, 100);

	*dirty = false;
	if (r < 70)
		return c->size;
	if (r < 75)
		return c->min;
	if (r < 80)
		return c->min - 1 - fz_rand(z, c->min < 4 ? 1 : 4);
	if (r < 83)
		return 0;
	if (r < 90)
		return c->size + 8;
	if (r < 94) {
		*dirty = true;
		return c->size + 8;
	}
	if (r < 97)
		return FZ_ARG_SIZE - 64;
	return fz_next(z) & 0xffffffff;
}

/* the IDs and fds a call that succeeded handed out */
static void fz_note_map(struct fz *z, __u32 ioas, __u64 iova, __u64 uptr,
			__u64 len)
{
	struct fz_map *m = &z->maps[z->nmaps < FZ_POOL ? z->nmaps++ :
				    fz_rand(z, FZ_POOL)];

	m->file = z->cur;
	m->ioas = ioas;
	m->iova = iova;
	m->uptr = uptr;
	m->len = len;
}

static void fz_harvest(struct fz *z, const struct fz_cmd *c,
		       const unsigned char *arg, int slot)
{
	struct fz_file *f = &z->file[z->cur];
	const struct fz_field *fl;
	unsigned int i;

	if (c->nr == IOMMU_IOAS_MAP) {
		const struct iommu_ioas_map *m = (const void *)arg;

		fz_note_map(z, m->ioas_id, m->iova, m->user_va, m->length);
	} else if (c->nr == VFIO_IOMMU_MAP_DMA) {
		const struct vfio_iommu_type1_dma_map *m = (const void *)arg;

		/* the container's IOAS is not in the pools: ID 0 */
		fz_note_map(z, 0, m->iova, m->vaddr, m->size);
	}

	for (fl = c->f; fl->kind != K_END; fl++) {
		/* outputs are 4 bytes; other fields may be shorter */
		__u32 v = fl->kind >= K_OUT_IOAS ? fz_get32(arg, fl->off) : 0;

		switch (fl->kind) {
		case K_OUT_IOAS:
			fz_pool_add(z, &f->ioas, v);
			break;
		case K_OUT_HWPT:
			fz_pool_add(z, &f->hwpt, v);
			break;
		case K_OUT_IDEV:
			fz_pool_add(z, &f->idev, v);
			break;
		case K_OUT_STDEV:
			fz_pool_add(z, &f->stdev, v);
			break;
		case K_OUT_PAGES:
			if (slot >= 0)
				fz_pool_add(z, &z->access[slot].pages, v);
			break;
		case K_OUT_ACCESS:
			i = fz_rand(z, FZ_ACCESSES);
			if (z->access[i].fd >= 0)
				close(z->access[i].fd);
			z->access[i].fd = (int)v;
			z->access[i].file = z->cur;
			z->access[i].pages.n = 0;
			break;
		}
	}
}

static int fz_target_fd(struct fz *z, unsigned int target)
{
	switch (target) {
	case T_CDEV: {
		unsigned int i = fz_rand(z, FZ_DEVFDS + 2);

		return i < FZ_DEVFDS && z->devfd[i] >= 0 ? z->devfd[i] :
								z->cdev;
	}
	case T_GROUP:
		return z->group;
	case T_CONTAINER:
		return z->container;
	default:
		return z->file[z->cur].fd;
	}
}

/* a device name for GET_DEVICE_FD: the right one or not */
static void *fz_name(struct fz *z, unsigned char *buf)
{
	unsigned int r = fz_rand(z, 100);

	if (r < 60) {
		strcpy((char *)buf, z->bdf);
	} else if (r < 70) {
		buf[0] = 0;
	} else if (r < 80) {
		/* no terminating NUL before the guard page */
		memset(buf, 'a', FZ_ARG_SIZE);
		return buf;
	} else if (r < 90) {
		snprintf((char *)buf, FZ_ARG_SIZE, "%s ", z->bdf);
	} else {
		return (void *)(uintptr_t)fz_uptr(z);
	}
	return buf;
}

/* whether [@va, @va + @len) lies inside the arena */
static bool fz_in_arena(struct fz *z, __u64 va, __u64 len)
{
	__u64 a = (uintptr_t)z->arena;

	return va >= a && len <= z->arena_size &&
	       va - a <= z->arena_size - len;
}

/*
 * Only the arena may be mapped writable. Through a writable mapping the
 * kernel writes to the memory for software accesses (ACCESS_RW, pins for
 * writing); a mapping that reaches this process's own data, heap or stack
 * (a pointer to its read-only data with a long length did: glibc's state
 * was overwritten, and the fuzzer died of SIGSEGV) would let the run
 * corrupt itself. Such mappings stay, read-only: the kernel still checks
 * them, and nothing writes through them.
 */
static void fz_map_fixup(struct fz *z, const struct fz_cmd *c,
			 unsigned char *arg)
{
	if (c->nr == IOMMU_IOAS_MAP) {
		struct iommu_ioas_map *m = (void *)arg;

		if (!fz_in_arena(z, m->user_va, m->length))
			m->flags &= ~IOMMU_IOAS_MAP_WRITEABLE;
	} else if (c->nr == VFIO_IOMMU_MAP_DMA) {
		struct vfio_iommu_type1_dma_map *m = (void *)arg;

		if (!fz_in_arena(z, m->vaddr, m->size))
			m->flags &= ~VFIO_DMA_MAP_FLAG_WRITE;
	}
}

/* one call of @c; returns its errno, 0 on success */
static int fz_call(struct fz *z, const struct fz_cmd *c)
{
	unsigned char *arg = z->argbuf;
	const struct fz_field *fl;
	int fd = fz_target_fd(z, c->target);
	int slot = -1, rc, err;
	unsigned long a;
	bool dirty;
	__u32 size = 0;

	memset(arg, 0, FZ_ARG_SIZE);
	z->m = z->nmaps && fz_chance(z, 60) ?
	       &z->maps[fz_rand(z, z->nmaps)] : NULL;
	switch (c->arg) {
	case A_NONE:
		a = 0;
		break;
	case A_VALUE:
		a = fz_chance(z, 80) ? fz_rand(z, 12) : fz_next(z);
		break;
	case A_INTPTR: {
		int v = fz_fd(z);

		if (fz_chance(z, 70))
			v = z->container;
		memcpy(arg, &v, sizeof(v));
		a = fz_chance(z, 95) ? (uintptr_t)arg : fz_uptr(z);
		break;
	}
	case A_STRING:
		a = (uintptr_t)fz_name(z, arg);
		break;
	default:
		size = fz_size(z, c, &dirty);
		for (fl = c->f; fl->kind != K_END; fl++)
			if (fl->kind != K_SIZE)
				fz_put(arg, fl, fz_value(z, fl, &slot));
		fz_map_fixup(z, c, arg);
		memcpy(arg, &size, sizeof(size));
		if (dirty)
			arg[c->size + 7] = 0xa5;
		a = (uintptr_t)arg;
		/* the structure against the guard page, or no buffer */
		if (z->good) {
			break;
		} else if (fz_chance(z, 3)) {
			memmove(arg + FZ_ARG_SIZE - c->size, arg, c->size);
			a = (uintptr_t)arg + FZ_ARG_SIZE - c->size;
		} else if (fz_chance(z, 2)) {
			a = fz_uptr(z);
		}
		break;
	}

	errno = 0;
	rc = ioctl(fd, c->nr, a);
	err = rc < 0 ? errno : 0;
	if (rc < 0 && !err)
		err = -1;
	if (z->trace)
		printf("# %lu %s fd %d arg %#lx size %u%s: %d (%s)\n", z->call,
		       c->name, fd, a, c->arg == A_STRUCT ? size : 0,
		       z->good ? " good" : "", rc, err ? strerror(err) : "ok");

	/*
	 * What it handed out is wherever the structure was: in the buffer
	 * (perhaps against its guard page) or in the arena's writable part.
	 * An fd left unharvested would keep its file's objects alive.
	 */
	if (!err && c->arg == A_STRUCT &&
	    ((a >= (uintptr_t)arg && a < (uintptr_t)arg + FZ_ARG_SIZE) ||
	     (a >= (uintptr_t)z->arena &&
	      a + c->size <= (uintptr_t)z->arena + FZ_RO_FIRST * PS)))
		fz_harvest(z, c, (const unsigned char *)a, slot);
	if (rc >= 0 && c->nr == VFIO_GROUP_GET_DEVICE_FD) {
		unsigned int i = fz_rand(z, FZ_DEVFDS);

		if (z->devfd[i] >= 0)
			close(z->devfd[i]);
		z->devfd[i] = rc;
	}
	return err;
}

static void fz_account(struct fz *z, unsigned int idx, const char *name,
		       int err)
{
	z->calls[idx]++;
	if (!err)
		return;
	z->refused[idx]++;
	if (err > 0 && err < 256)
		z->errnos[err]++;
	if (fz_errno_ok(err))
		return;
	if (!z->unexpected++)
		snprintf(z->first_bad, sizeof(z->first_bad),
			 "call %lu: %s gave %d (%s)", z->call, name, err,
			 err > 0 ? strerror(err) : "no errno");
}

/* close file @i with everything in it, and open it anew */
static int fz_reopen(struct fz *z, unsigned int i)
{
	struct fz_file *f = &z->file[i];

	unsigned int k;

	if (f->fd >= 0)
		close(f->fd);
	memset(f, 0, sizeof(*f));
	for (k = 0; k < z->nmaps; k++)
		if (z->maps[k].file == i)
			z->maps[k].ioas = 0;
	f->fd = iommufd_open();
	if (f->fd < 0)
		return errno;
	return 0;
}

/* the part of the arena that gets munmap'd under its mappings */
static int fz_remap(struct fz *z)
{
	void *p = z->arena + FZ_REMAP_FIRST * PS;

	if (!z->remapped_away) {
		z->remapped_away = true;
		return munmap(p, FZ_BLOCK * PS) ? errno : 0;
	}
	z->remapped_away = false;
	if (mmap(p, FZ_BLOCK * PS, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		return errno;
	memset(p, 0x3c, FZ_BLOCK * PS);
	return 0;
}

/* each file still maps and unmaps a page of plain memory */
static int fz_sane(struct fz *z)
{
	unsigned int i;

	for (i = 0; i < FZ_FILES; i++) {
		__u64 iova = 0;
		__u32 ioas;
		int rc;

		rc = _ioas_alloc(z->file[i].fd, &ioas);
		if (!rc)
			rc = _map_auto(z->file[i].fd, ioas, z->arena, PS,
				       &iova);
		if (!rc)
			rc = _ioas_unmap(z->file[i].fd, ioas, iova, PS, NULL);
		if (!rc)
			rc = _destroy(z->file[i].fd, ioas);
		if (rc)
			return rc;
	}
	return 0;
}

static __u64 fz_seed(void)
{
	const char *s = getenv("IOMMUFD_FUZZ_SEED");
	struct timespec t;

	if (s && *s)
		return strtoull(s, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &t);
	return (__u64)t.tv_sec * 1000000007ULL ^ (__u64)t.tv_nsec;
}

static unsigned long fz_calls(unsigned long dflt)
{
	const char *s = getenv("IOMMUFD_FUZZ_CALLS");
	unsigned long v = s ? strtoul(s, NULL, 0) : 0;

	return v ? v : dflt;
}

/* the VFIO objects of the lone edu; false if there is none */
static bool fz_find_edu(struct fz *z)
{
	char path[PATH_MAX], link[PATH_MAX];
	struct dirent *de, *ve;
	bool found = false;
	DIR *d, *v;
	ssize_t n;

	d = opendir("/sys/bus/pci/devices");
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		unsigned int vendor = 0, device = 0, count = 0;
		FILE *fp;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor",
			 de->d_name);
		fp = fopen(path, "r");
		if (!fp)
			continue;
		if (fscanf(fp, "%x", &vendor) != 1)
			vendor = 0;
		fclose(fp);
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 de->d_name);
		fp = fopen(path, "r");
		if (fp) {
			if (fscanf(fp, "%x", &device) != 1)
				device = 0;
			fclose(fp);
		}
		if (vendor != 0x1234 || device != 0x11e8)
			continue;
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/iommu_group/devices",
			 de->d_name);
		v = opendir(path);
		if (!v)
			continue;
		while ((ve = readdir(v)))
			count += ve->d_name[0] != '.';
		closedir(v);
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver",
			 de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (count != 1 || n <= 0)
			continue;
		link[n] = 0;
		if (strcmp(strrchr(link, '/') + 1, "vfio-pci"))
			continue;
		snprintf(z->bdf, sizeof(z->bdf), "%s", de->d_name);
		found = true;
	}
	closedir(d);
	if (!found)
		return false;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 z->bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = 0;
	snprintf(z->group_path, sizeof(z->group_path), "/dev/vfio/%s",
		 strrchr(link, '/') + 1);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev",
		 z->bdf);
	v = opendir(path);
	if (!v)
		return false;
	found = false;
	while ((ve = readdir(v)))
		if (!strncmp(ve->d_name, "vfio", 4)) {
			snprintf(z->cdev_path, sizeof(z->cdev_path),
				 "/dev/vfio/devices/%s", ve->d_name);
			found = true;
		}
	closedir(v);
	return found;
}

static struct fz *fz_current;

/* a crash of the fuzzer itself: say where, and at which call */
static void fz_segv(int sig, siginfo_t *si, void *uc)
{
	void *bt[32];
	char msg[128];
	int n;

	(void)uc;
	n = snprintf(msg, sizeof(msg), "# signal %d at %p during call %lu\n",
		     sig, si->si_addr, fz_current ? fz_current->call : 0);
	if (write(2, msg, n) < 0)
		_exit(3);
	n = backtrace(bt, 32);
	backtrace_symbols_fd(bt, n, 2);
	_exit(3);
}

FIXTURE(fuzz) {
	int fd_stats;
	struct iommufd_stats s0;
	struct fz z;
};

FIXTURE_SETUP(fuzz)
{
	struct fz *z = &self->z;
	unsigned int i;

	self->fd_stats = iommufd_open();
	ASSERT_LE(0, self->fd_stats);
	ASSERT_EQ(0, _get_stats(self->fd_stats, &self->s0));
	memset(z, 0, sizeof(*z));
	z->trace = getenv("IOMMUFD_FUZZ_TRACE") &&
		   *getenv("IOMMUFD_FUZZ_TRACE") == '1';
	if (z->trace)	/* each line out before the next call */
		setvbuf(stdout, NULL, _IOLBF, 0);
	z->cdev = -1;
	z->group = -1;
	z->container = -1;
	z->eventfd = -1;
	z->memfd = -1;
	for (i = 0; i < FZ_DEVFDS; i++)
		z->devfd[i] = -1;
	for (i = 0; i < FZ_ACCESSES; i++)
		z->access[i].fd = -1;
	for (i = 0; i < FZ_FILES; i++)
		z->file[i].fd = -1;

	/*
	 * A PROT_NONE page behind the arena: a copy the kernel makes to an
	 * arena pointer with a length past its end (ACCESS_RW reads up to
	 * 4 MiB) faults there, instead of running over whatever mapping of
	 * this process comes next (its stack, once: a SIGSEGV with no
	 * handler able to run).
	 */
	z->arena_size = FZ_PAGES * PS;
	z->arena = mmap(NULL, z->arena_size + PS, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, z->arena);
	ASSERT_EQ(0, mprotect(z->arena + z->arena_size, PS, PROT_NONE));
	memset(z->arena, 0x5a, z->arena_size);
	ASSERT_EQ(0, mprotect(z->arena + FZ_RO_FIRST * PS, FZ_BLOCK * PS,
			      PROT_READ));
	ASSERT_EQ(0, mprotect(z->arena + FZ_NONE_FIRST * PS, FZ_BLOCK * PS,
			      PROT_NONE));
	z->argbuf = mmap(NULL, FZ_ARG_SIZE + PS, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, z->argbuf);
	ASSERT_EQ(0, mprotect(z->argbuf + FZ_ARG_SIZE, PS, PROT_NONE));
	z->eventfd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, z->eventfd);
	z->memfd = memfd_create("iommufd-fuzz", MFD_CLOEXEC);
	ASSERT_LE(0, z->memfd);
	ASSERT_EQ(0, ftruncate(z->memfd, FZ_MEMFD_PAGES * PS));
}

FIXTURE_TEARDOWN(fuzz)
{
	if (self->fd_stats >= 0)
		close(self->fd_stats);
}

static void fz_close_all(struct fz *z)
{
	unsigned int i;

	for (i = 0; i < FZ_ACCESSES; i++)
		if (z->access[i].fd >= 0)
			close(z->access[i].fd);
	for (i = 0; i < FZ_DEVFDS; i++)
		if (z->devfd[i] >= 0)
			close(z->devfd[i]);
	if (z->cdev >= 0)
		close(z->cdev);
	if (z->group >= 0)
		close(z->group);
	if (z->container >= 0)
		close(z->container);
	for (i = 0; i < FZ_FILES; i++)
		if (z->file[i].fd >= 0)
			close(z->file[i].fd);
	close(z->eventfd);
	close(z->memfd);
}

/* reopen a VFIO object: @which 0 the cdev, 1 the group, 2 the container */
static int fz_vfio_reopen(struct fz *z, unsigned int which)
{
	int *fd = which == 0 ? &z->cdev : which == 1 ? &z->group :
			       &z->container;
	const char *path = which == 0 ? z->cdev_path :
			   which == 1 ? z->group_path : "/dev/vfio/vfio";

	if (*fd >= 0)
		close(*fd);
	*fd = open(path, O_RDWR | O_CLOEXEC);
	/* the cdev and the group exclude each other: EBUSY is fine */
	return *fd < 0 ? errno : 0;
}

static void fz_report(struct fz *z, const struct fz_cmd *cmds,
		      unsigned int ncmds, double secs)
{
	unsigned long total = 0, refused = 0;
	unsigned int i;

	for (i = 0; i < ncmds; i++) {
		total += z->calls[i];
		refused += z->refused[i];
		printf("#   %-24s %7lu calls, %7lu refused\n", cmds[i].name,
		       z->calls[i], z->refused[i]);
	}
	printf("#   errnos:");
	for (i = 0; i < 256; i++)
		if (z->errnos[i])
			printf(" %s %lu", strerrorname_np(i) ?: "?",
			       z->errnos[i]);
	printf("\n# %lu calls in %.1f s (%.0f/s), %lu refused, %lu succeeded\n",
	       total, secs, total / secs, refused, total - refused);
}

/*
 * The run: @ncalls calls drawn from @cmds with their weights; now and then
 * a file or VFIO object is reopened or the arena remapped (not counted as
 * calls), and every 5000 calls each file must still work.
 */
static void fz_run(struct __test_metadata *_metadata,
		   struct _test_data_fuzz *self,
		   const struct fz_cmd *cmds, unsigned int ncmds,
		   unsigned long ncalls, bool vfio)
{
	struct fz *z = &self->z;
	unsigned int i, total = 0;
	struct iommufd_stats now;
	struct timespec t0, t1;
	__u64 seed = fz_seed();
	int rc;

	printf("# seed 0x%llx (IOMMUFD_FUZZ_SEED=0x%llx replays the run)\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	fflush(stdout);
	z->rnd = seed;
	fz_current = z;
	{
		/* on a stack of its own: the fault may be a broken stack */
		stack_t ss = {
			.ss_size = 16 * PS,
			.ss_sp = mmap(NULL, 16 * PS, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
		};
		struct sigaction sa = {
			.sa_sigaction = fz_segv,
			.sa_flags = SA_SIGINFO | SA_ONSTACK,
		};

		ASSERT_NE(MAP_FAILED, ss.ss_sp);
		ASSERT_EQ(0, sigaltstack(&ss, NULL));
		sigaction(SIGSEGV, &sa, NULL);
		sigaction(SIGBUS, &sa, NULL);
	}
	for (i = 0; i < FZ_FILES; i++)
		ASSERT_EQ(0, fz_reopen(z, i));
	for (i = 0; i < ncmds; i++)
		total += cmds[i].weight;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (z->call = 0; z->call < ncalls; z->call++) {
		unsigned int r, k;

		z->cur = fz_rand(z, FZ_FILES);
		z->good = fz_chance(z, 50);
		r = fz_rand(z, 1000);
		rc = 0;
		if (r == 0)
			rc = fz_reopen(z, z->cur);
		else if (r == 1)
			rc = fz_remap(z);
		else if (vfio && r < 8)
			fz_vfio_reopen(z, fz_rand(z, 3));
		ASSERT_EQ(0, rc);
		r = fz_rand(z, total);
		for (k = 0; k < ncmds - 1 && r >= cmds[k].weight; k++)
			r -= cmds[k].weight;
		rc = fz_call(z, &cmds[k]);
		fz_account(z, k, cmds[k].name, rc);
		if (z->call % 5000 == 4999) {
			rc = fz_sane(z);
			if (rc)
				TH_LOG("seed 0x%llx, after call %lu: a file no longer maps: %s",
				       (unsigned long long)seed, z->call,
				       strerror(rc));
			ASSERT_EQ(0, rc);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fz_report(z, cmds, ncmds, (t1.tv_sec - t0.tv_sec) +
		  (t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (z->unexpected)
		TH_LOG("seed 0x%llx: %lu calls gave an errno bad input can't; first %s",
		       (unsigned long long)seed, z->unexpected, z->first_bad);
	EXPECT_EQ(0, z->unexpected);

	/* a temporary memory limit is global: put the default back */
	ASSERT_EQ(0, _set_temp_memory_limit(self->fd_stats, 0));
	fz_close_all(z);
	ASSERT_EQ(0, _get_stats(self->fd_stats, &now));
	ASSERT_STATS_EQUAL(&self->s0, &now);
	if (!z->remapped_away)
		ASSERT_EQ(0, _md_check_refs(self->fd_stats, z->arena,
					    FZ_RO_FIRST * PS, 0));
}

/* a lone run's limit; make check's 100000 calls take about four minutes */
#define FZ_TIMEOUT 3600

/* calls[] and refused[] have room for both tables together */
static_assert(ARRAY_SIZE(fz_cmds) + ARRAY_SIZE(fz_vfio_cmds) <= 64,
	      "more commands than struct fz counts");

TEST_F_TIMEOUT(fuzz, iommufd, FZ_TIMEOUT)
{
	fz_run(_metadata, self, fz_cmds, ARRAY_SIZE(fz_cmds),
	       fz_calls(80000), false);
}

TEST_F_TIMEOUT(fuzz, vfio, FZ_TIMEOUT)
{
	struct fz_cmd all[ARRAY_SIZE(fz_cmds) + ARRAY_SIZE(fz_vfio_cmds)];
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct fz *z = &self->z;
	int fd;

	if (!fz_find_edu(z))
		SKIP(return, "no edu alone in its iommu_group bound to vfio-pci");
	/* the device must be free now, and be so again after the run */
	fd = open(z->cdev_path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	close(fd);

	memcpy(all, fz_cmds, sizeof(fz_cmds));
	memcpy(all + ARRAY_SIZE(fz_cmds), fz_vfio_cmds, sizeof(fz_vfio_cmds));
	z->cdev = open(z->cdev_path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, z->cdev);
	z->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, z->container);
	fz_run(_metadata, self, all, ARRAY_SIZE(all),
	       fz_calls(80000) / 4, true);

	/* and the device binds again */
	fd = open(z->cdev_path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	bind.iommufd = self->fd_stats;
	EXPECT_EQ(0, ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	close(fd);
}

TEST_HARNESS_MAIN
