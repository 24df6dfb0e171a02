/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the iommufd selftests.
 *
 * Every _xxx() wrapper below issues one ioctl and returns 0 on success or
 * the errno it failed with, so that a test reads
 *	ASSERT_EQ(EINVAL, _ioas_map(...));
 * Wrappers never assert themselves; the __assert_*() helpers do, and take
 * the harness' _metadata so that they can be called from a test body.
 */
#ifndef __SELFTEST_IOMMUFD_UTILS_H
#define __SELFTEST_IOMMUFD_UTILS_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "../kselftest_harness.h"

/*
 * The harness kills a test after 30 s by default. Under TCG with KASAN on a
 * busy host a test can take several times as long as on an idle one, and
 * no test may fail because the host is slow: every test of ours gets a
 * limit far above its running time instead. (TEST_F() expands the name
 * where it is used, so this applies to all of them.)
 */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300
/* for the tests that loop a few hundred rounds */
#define LOOP_TEST_TIMEOUT 600
#include "../../../../drivers/iommu/iommufd/iommufd_test.h"

#define IOMMU_DEV "/dev/iommu"

#ifndef U64_MAX
#define U64_MAX ((__u64)~0ULL)
#endif

#define SZ_64K (64UL * 1024)
#define SZ_1M (1024UL * 1024)
#define SZ_2M (2UL * 1024 * 1024)

/* the mock aperture as 64 bit values, so that arithmetic on it can't wrap */
#define APERTURE_START ((__u64)MOCK_APERTURE_START)
#define APERTURE_LAST ((__u64)MOCK_APERTURE_LAST)

/* The prot bits MD_IOPTE reports, as the kernel's IOMMU_READ/IOMMU_WRITE. */
#define MOCK_PROT_READ 0x1
#define MOCK_PROT_WRITE 0x2
#define MOCK_PROT_RW (MOCK_PROT_READ | MOCK_PROT_WRITE)
/* IOMMU_CACHE: the IOPTE is cache coherent */
#define MOCK_PROT_CACHE 0x4

#define MAP_RW (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)
#define MAP_FIXED_RW (MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA)

/* uid/gid of "nobody", used to run without any capability */
#define NOBODY_ID 65534

static unsigned long page_size;

#define PS ((__u64)page_size)
/* the mock IOPTE granule: the IOVA alignment of an IOAS with a mock domain */
#define MOCK_GRAN ((__u64)MOCK_IOPTE_SIZE)

static void __attribute__((constructor)) iommufd_utils_init(void)
{
	page_size = sysconf(_SC_PAGESIZE);
}

/* ---------------------------------------------------------------------- */
/* raw ioctl plumbing */

static inline int iommufd_ioctl(int fd, unsigned long nr, void *arg)
{
	int rc;

	errno = 0;
	rc = ioctl(fd, nr, arg);
	if (rc == 0)
		return 0;
	if (rc == -1 && errno)
		return errno;
	return -1;	/* never an errno value */
}

static inline int iommufd_open(void)
{
	return open(IOMMU_DEV, O_RDWR | O_CLOEXEC);
}

/*
 * Issue @nr with a copy of the command @cmd (@len bytes, its own size
 * field ignored) in a zeroed 256 byte buffer whose size field says @size.
 * With @dirty, the last byte the size covers (offset @size - 1, which must
 * be past @len) is made non-zero. What the kernel wrote back is copied into
 * @cmd, except its size field.
 */
static inline int sized_ioctl(int fd, unsigned long nr, void *cmd, size_t len,
			      __u32 size, bool dirty)
{
	union {
		__u8 raw[256];
		__u64 align;
	} buf;
	__u32 saved_size;
	int rc;

	if (len > sizeof(buf.raw))
		return -1;
	memset(&buf, 0, sizeof(buf));
	memcpy(buf.raw, cmd, len);
	memcpy(buf.raw, &size, sizeof(size));
	if (dirty && size > len && size <= sizeof(buf.raw))
		buf.raw[size - 1] = 0x5a;
	rc = iommufd_ioctl(fd, nr, buf.raw);
	memcpy(&saved_size, cmd, sizeof(saved_size));
	memcpy(cmd, buf.raw, len);
	memcpy(cmd, &saved_size, sizeof(saved_size));
	return rc;
}

/*
 * The refusals every command shares, for a @cmd of @len bytes that would
 * otherwise be accepted: sizes below @min are EINVAL, and a non-zero byte
 * @over[i] bytes past the end of the structure is E2BIG.
 */
static inline void __expect_size_refused(struct __test_metadata *_metadata,
					 int fd, unsigned long nr, void *cmd,
					 size_t len, __u32 min,
					 const __u32 *over, unsigned int n)
{
	unsigned int i;

	EXPECT_EQ(EINVAL, sized_ioctl(fd, nr, cmd, len, 0, false));
	EXPECT_EQ(EINVAL, sized_ioctl(fd, nr, cmd, len, sizeof(__u32), false));
	EXPECT_EQ(EINVAL, sized_ioctl(fd, nr, cmd, len, min - 1, false));
	for (i = 0; i < n; i++) {
		EXPECT_EQ(E2BIG, sized_ioctl(fd, nr, cmd, len, len + over[i],
					     true)) {
			TH_LOG("size %zu", len + over[i]);
		}
	}
}

/* the E2BIG sizes are sizeof(cmd) + each of the trailing arguments */
#define EXPECT_SIZE_REFUSED_OVER(fd, nr, cmd, min, ...)		\
	do {								\
		static const __u32 __over[] = { __VA_ARGS__ };		\
		__expect_size_refused(_metadata, fd, nr, &(cmd),	\
				      sizeof(cmd), min, __over,		\
				      ARRAY_SIZE(__over));		\
	} while (0)

/*
 * Issue @nr with copies of the command @good (@len bytes) in which the
 * __u32 field @name at offset @off holds each of @vals[0..@n) in turn, and
 * expect each to fail with @err.
 */
static inline void __expect_u32_refused(struct __test_metadata *_metadata,
					int err, int fd, unsigned long nr,
					const void *good, size_t len,
					size_t off, const char *name,
					const __u32 *vals, unsigned int n)
{
	union {
		__u8 raw[256];
		__u64 align;
	} buf;
	unsigned int i;

	for (i = 0; i < n; i++) {
		memcpy(buf.raw, good, len);
		memcpy(buf.raw + off, &vals[i], sizeof(vals[i]));
		EXPECT_EQ(err, iommufd_ioctl(fd, nr, buf.raw)) {
			TH_LOG("%s %#x", name, vals[i]);
		}
	}
}

/* the @n values at @vals in the __u32 @field of the struct @good: @err */
#define EXPECT_U32_REFUSED_N(err, fd, nr, good, field, vals, n)	\
	do {								\
		static_assert(sizeof((good).field) == sizeof(__u32) &&	\
			       sizeof(good) <= 256, #field);		\
		__expect_u32_refused(_metadata, err, fd, nr, &(good),	\
				     sizeof(good),			\
				     offsetof(typeof(good), field),	\
				     #field, vals, n);			\
	} while (0)

/* the same for each of the values that follow @field */
#define EXPECT_U32_REFUSED(err, fd, nr, good, field, ...)		\
	do {								\
		const __u32 __vals[] = { __VA_ARGS__ };			\
		EXPECT_U32_REFUSED_N(err, fd, nr, good, field, __vals,	\
				     ARRAY_SIZE(__vals));		\
	} while (0)

/* ---------------------------------------------------------------------- */
/* the iommufd ioctls */

static inline int _destroy(int fd, __u32 id)
{
	struct iommu_destroy cmd = {
		.size = sizeof(cmd),
		.id = id,
	};

	return iommufd_ioctl(fd, IOMMU_DESTROY, &cmd);
}

static inline int _ioas_alloc(int fd, __u32 *id)
{
	struct iommu_ioas_alloc cmd = {
		.size = sizeof(cmd),
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_ALLOC, &cmd);
	if (!rc && id)
		*id = cmd.out_ioas_id;
	return rc;
}

/* @iova: in, the IOVA for IOMMU_IOAS_MAP_FIXED_IOVA; out, the IOVA used */
static inline int _ioas_map(int fd, __u32 ioas, __u32 flags, const void *va,
			    __u64 length, __u64 *iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = length,
		.iova = iova ? *iova : 0,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_MAP, &cmd);
	if (!rc && iova)
		*iova = cmd.iova;
	return rc;
}

static inline int _map_fixed(int fd, __u32 ioas, const void *va, __u64 length,
			     __u64 iova)
{
	return _ioas_map(fd, ioas, MAP_FIXED_RW, va, length, &iova);
}

static inline int _map_auto(int fd, __u32 ioas, const void *va, __u64 length,
			    __u64 *iova)
{
	return _ioas_map(fd, ioas, MAP_RW, va, length, iova);
}

/* @dst_iova: in, the IOVA for IOMMU_IOAS_MAP_FIXED_IOVA; out, the IOVA used */
static inline int _ioas_copy(int fd, __u32 flags, __u32 dst_ioas,
			     __u64 *dst_iova, __u32 src_ioas, __u64 src_iova,
			     __u64 length)
{
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dst_ioas_id = dst_ioas,
		.src_ioas_id = src_ioas,
		.length = length,
		.dst_iova = dst_iova ? *dst_iova : 0,
		.src_iova = src_iova,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_COPY, &cmd);
	if (!rc && dst_iova)
		*dst_iova = cmd.dst_iova;
	return rc;
}

static inline int _ioas_unmap(int fd, __u32 ioas, __u64 iova, __u64 length,
			      __u64 *out_length)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.iova = iova,
		.length = length,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_UNMAP, &cmd);
	if (!rc && out_length)
		*out_length = cmd.length;
	return rc;
}

/*
 * @num: in, the room in @ranges; out (on success and on EMSGSIZE), the
 * number of ranges the IOAS has.
 */
static inline int _iova_ranges(int fd, __u32 ioas,
			       struct iommu_iova_range *ranges, __u32 *num,
			       __u64 *align)
{
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.num_iovas = *num,
		.allowed_iovas = (uintptr_t)ranges,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &cmd);
	if (!rc || rc == EMSGSIZE)
		*num = cmd.num_iovas;
	if (!rc && align)
		*align = cmd.out_iova_alignment;
	return rc;
}

static inline int _allow_iovas(int fd, __u32 ioas,
			       const struct iommu_iova_range *ranges,
			       __u32 num)
{
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.num_iovas = num,
		.allowed_iovas = (uintptr_t)ranges,
	};

	return iommufd_ioctl(fd, IOMMU_IOAS_ALLOW_IOVAS, &cmd);
}

static inline int _option(int fd, __u32 option, __u16 op, __u32 object,
			  __u64 *val)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = option,
		.op = op,
		.object_id = object,
		.val64 = *val,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_OPTION, &cmd);
	if (!rc)
		*val = cmd.val64;
	return rc;
}

static inline int _option_get(int fd, __u32 option, __u32 object, __u64 *val)
{
	*val = 0xdead;
	return _option(fd, option, IOMMU_OPTION_OP_GET, object, val);
}

static inline int _option_set(int fd, __u32 option, __u32 object, __u64 val)
{
	return _option(fd, option, IOMMU_OPTION_OP_SET, object, &val);
}

/* ---------------------------------------------------------------------- */
/* IOMMU_TEST_CMD */

static inline int _test_cmd(int fd, struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return iommufd_ioctl(fd, IOMMU_TEST_CMD, cmd);
}

static inline int _add_reserved(int fd, __u32 ioas, __u64 start, __u64 length)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ADD_RESERVED,
		.id = ioas,
		.add_reserved = { .start = start, .length = length },
	};

	return _test_cmd(fd, &cmd);
}

/*
 * MOCK_DOMAIN (@op IOMMU_TEST_OP_MOCK_DOMAIN, @dev_flags 0) or
 * MOCK_DOMAIN_FLAGS: both return the stdev, HWPT and idev IDs at the same
 * offsets, and a zero dev_flags leaves the MOCK_DOMAIN command as it was.
 */
static inline int __mock_domain_op(int fd, __u32 op, __u32 ioas,
				   __u32 dev_flags, __u32 *stdev, __u32 *hwpt,
				   __u32 *idev)
{
	struct iommu_test_cmd cmd = {
		.op = op,
		.id = ioas,
		.mock_domain_flags = { .dev_flags = dev_flags },
	};
	int rc;

	rc = _test_cmd(fd, &cmd);
	if (rc)
		return rc;
	if (stdev)
		*stdev = cmd.mock_domain_flags.out_stdev_id;
	if (hwpt)
		*hwpt = cmd.mock_domain_flags.out_hwpt_id;
	if (idev)
		*idev = cmd.mock_domain_flags.out_idev_id;
	return 0;
}

/*
 * A new mock device on a new automatic HWPT of @ioas (our MOCK_DOMAIN_NEW),
 * which the tests use to get as many domains as they want: mainline's
 * MOCK_DOMAIN reuses a compatible automatic HWPT, see _mock_domain_attach().
 */
static inline int _mock_domain(int fd, __u32 ioas, __u32 *stdev, __u32 *hwpt,
			       __u32 *idev)
{
	return __mock_domain_op(fd, IOMMU_TEST_OP_MOCK_DOMAIN_NEW, ioas, 0,
				stdev, hwpt, idev);
}

/* MOCK_DOMAIN: a new mock device attached to @pt (IOAS or HWPT) */
static inline int _mock_domain_attach(int fd, __u32 pt, __u32 *stdev,
				      __u32 *hwpt, __u32 *idev)
{
	return __mock_domain_op(fd, IOMMU_TEST_OP_MOCK_DOMAIN, pt, 0, stdev,
				hwpt, idev);
}

static inline int _md_check_map(int fd, __u32 hwpt, __u64 iova,
				const void *va, __u64 length)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_MAP,
		.id = hwpt,
		.check_map = {
			.iova = iova,
			.length = length,
			.uptr = (uintptr_t)va,
		},
	};

	return _test_cmd(fd, &cmd);
}

static inline int _md_check_refs(int fd, const void *va, __u64 length,
				 __u32 refs)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_REFS,
		.check_refs = {
			.length = length,
			.uptr = (uintptr_t)va,
			.refs = refs,
		},
	};

	return _test_cmd(fd, &cmd);
}

static inline int _set_temp_memory_limit(int fd, __u32 limit)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT,
		.memory_limit = { .limit = limit },
	};

	return _test_cmd(fd, &cmd);
}

struct iommufd_stats {
	__u64 pinned_pages;
	__u64 pages_objects;
	__u64 areas;
	__u64 user_locked_vm;
	__u64 mm_locked_vm;
	__u64 mm_pinned_vm;
};

static inline int _get_stats(int fd, struct iommufd_stats *s)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_STATS,
	};
	int rc;

	rc = _test_cmd(fd, &cmd);
	if (rc)
		return rc;
	s->pinned_pages = cmd.stats.out_pinned_pages;
	s->pages_objects = cmd.stats.out_pages_objects;
	s->areas = cmd.stats.out_areas;
	s->user_locked_vm = cmd.stats.out_user_locked_vm;
	s->mm_locked_vm = cmd.stats.out_mm_locked_vm;
	s->mm_pinned_vm = cmd.stats.out_mm_pinned_vm;
	return 0;
}

/* PFNs read back from the CPU page table and from domains, all files */
struct readback_stats {
	__u64 cpu;
	__u64 domain;
	__u64 cpu_busy;	/* snapshots not taken: the mmap lock was busy */
};

static inline int _get_readback(int fd, struct readback_stats *r)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_READBACK_STATS,
	};
	int rc;

	rc = _test_cmd(fd, &cmd);
	if (rc)
		return rc;
	r->cpu = cmd.readback.out_read_cpu;
	r->domain = cmd.readback.out_read_domain;
	r->cpu_busy = cmd.readback.out_cpu_busy;
	return 0;
}

/*
 * MOCK_WRITERS: sleep @delay_us inside every mock map and unmap from now
 * on; *@overlaps: how often one began while another ran on its domain.
 */
static inline int _mock_writers(int fd, __u32 delay_us, __u64 *overlaps)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_WRITERS,
		.mock_writers = { .delay_us = delay_us },
	};
	int rc;

	rc = _test_cmd(fd, &cmd);
	if (!rc && overlaps)
		*overlaps = cmd.mock_writers.out_overlaps;
	return rc;
}

struct mock_iopte {
	__u64 phys;
	__u64 size;
	__u32 prot;
};

static inline int _md_iopte(int fd, __u32 hwpt, __u64 iova,
			    struct mock_iopte *pte)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_IOPTE,
		.id = hwpt,
		.iopte = { .iova = iova },
	};
	int rc;

	rc = _test_cmd(fd, &cmd);
	if (!rc && pte) {
		pte->phys = cmd.iopte.out_phys;
		pte->size = cmd.iopte.out_size;
		pte->prot = cmd.iopte.out_prot;
	}
	return rc;
}

/* ---------------------------------------------------------------------- */
/* devices: MOCK_DOMAIN_FLAGS, replace, our device ops, HWPT_ALLOC, HW_INFO */

/* _mock_domain() of a device with MOCK_FLAGS_DEVICE_* @dev_flags */
static inline int _mock_domain_flags(int fd, __u32 ioas, __u32 dev_flags,
				     __u32 *stdev, __u32 *hwpt, __u32 *idev)
{
	return __mock_domain_op(fd, IOMMU_TEST_OP_MOCK_DOMAIN_NEW, ioas,
				dev_flags, stdev, hwpt, idev);
}

/* mainline's MOCK_DOMAIN_FLAGS: _mock_domain_attach() with @dev_flags */
static inline int _mock_domain_flags_attach(int fd, __u32 pt,
					    __u32 dev_flags, __u32 *stdev,
					    __u32 *hwpt, __u32 *idev)
{
	return __mock_domain_op(fd, IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, pt,
				dev_flags, stdev, hwpt, idev);
}

/*
 * MOCK_DOMAIN_REPLACE or DEVICE_ATTACH (@op) of the device of @stdev to
 * @pt_id; both take and return pt_id at the same offset. @out_hwpt (may be
 * NULL) gets the HWPT now used.
 */
static inline int _stdev_pt_op(int fd, __u32 op, __u32 stdev, __u32 pt_id,
			       __u32 *out_hwpt)
{
	struct iommu_test_cmd cmd = {
		.op = op,
		.id = stdev,
		.device_attach = { .pt_id = pt_id },
	};
	int rc;

	rc = _test_cmd(fd, &cmd);
	if (!rc && out_hwpt)
		*out_hwpt = cmd.device_attach.pt_id;
	return rc;
}

static inline int _mock_domain_replace(int fd, __u32 stdev, __u32 pt_id,
				       __u32 *out_hwpt)
{
	return _stdev_pt_op(fd, IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, stdev,
			    pt_id, out_hwpt);
}

/* DEVICE_ATTACH (ours) */
static inline int _device_attach(int fd, __u32 stdev, __u32 pt_id,
				 __u32 *out_hwpt)
{
	return _stdev_pt_op(fd, IOMMU_TEST_OP_DEVICE_ATTACH, stdev, pt_id,
			    out_hwpt);
}

static inline int _device_detach(int fd, __u32 stdev)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DEVICE_DETACH,
		.id = stdev,
	};

	return _test_cmd(fd, &cmd);
}

struct mock_dev_info {
	__u32 hwpt;
	__u32 coherent;
	__u32 group;
	__u32 stuck;
};

/*
 * DEVICE_INFO (ours). The output fields are sent holding garbage, so that
 * a kernel that leaves one unwritten can't pass for one reporting 0.
 */
static inline int _device_info(int fd, __u32 stdev, struct mock_dev_info *info)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DEVICE_INFO,
		.id = stdev,
		.device_info = {
			.out_hwpt_id = 0xdeadbeef,
			.out_coherent = 0xdeadbeef,
			.out_group_id = 0xdeadbeef,
			.out_stuck = 0xdeadbeef,
		},
	};
	int rc;

	rc = _test_cmd(fd, &cmd);
	if (!rc && info) {
		info->hwpt = cmd.device_info.out_hwpt_id;
		info->coherent = cmd.device_info.out_coherent;
		info->group = cmd.device_info.out_group_id;
		info->stuck = cmd.device_info.out_stuck;
	}
	return rc;
}

/* MOCK_FAIL_ATTACH (ours): the device's next @count moves fail, ENOMEM */
static inline int _mock_fail_attach(int fd, __u32 stdev, __u32 count)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_FAIL_ATTACH,
		.id = stdev,
		.mock_fail_attach = { .count = count },
	};

	return _test_cmd(fd, &cmd);
}

/* MOCK_GROUP_DEVICE (ours): a bound, unattached device in group @key */
static inline int _mock_group_device(int fd, __u32 key, __u32 dev_flags,
				     __u32 *stdev, __u32 *idev)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_GROUP_DEVICE,
		.mock_group_device = {
			.group_key = key,
			.dev_flags = dev_flags,
		},
	};
	int rc;

	rc = _test_cmd(fd, &cmd);
	if (rc)
		return rc;
	if (stdev)
		*stdev = cmd.mock_group_device.out_stdev_id;
	if (idev)
		*idev = cmd.mock_group_device.out_idev_id;
	return 0;
}

static inline int _hwpt_alloc(int fd, __u32 idev, __u32 pt_id, __u32 *hwpt)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.dev_id = idev,
		.pt_id = pt_id,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_HWPT_ALLOC, &cmd);
	if (!rc && hwpt)
		*hwpt = cmd.out_hwpt_id;
	return rc;
}

/*
 * GET_HW_INFO of @idev into the @data_len bytes at @data; the whole command
 * as the kernel returned it goes to *@out (may be NULL). The output fields
 * are sent holding garbage, so that each must be written to read back right.
 */
static inline int _get_hw_info(int fd, __u32 idev, void *data, __u32 data_len,
			       struct iommu_hw_info *out)
{
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.dev_id = idev,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
		.out_data_type = 0x5a5a5a5a,
		.out_max_pasid_log2 = 0x5a,
		.out_capabilities = ~0ULL,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_GET_HW_INFO, &cmd);
	if (out)
		*out = cmd;
	return rc;
}

/* ---------------------------------------------------------------------- */
/* fixture helpers shared by the test files */

/* the STATS of the fixture's file */
#define STATS(s) ASSERT_EQ(0, _get_stats(self->fd, s))

/* the stats are back at self->start, taken by the fixture's setup */
#define BACK_TO_START()							\
	do {								\
		struct iommufd_stats __now;				\
									\
		STATS(&__now);						\
		ASSERT_STATS_EQUAL(&self->start, &__now);		\
	} while (0)

/*
 * A fixture whose variants differ in the number of mock domains on its
 * IOAS (variant->domains); DOMAINS_VARIANT() adds one.
 */
#define FIXTURE_DOMAINS(fixture)					\
	FIXTURE_VARIANT(fixture) {					\
		unsigned int domains;					\
	}
#define DOMAINS_VARIANT(fixture, name, n)				\
	FIXTURE_VARIANT_ADD(fixture, name) {				\
		.domains = (n),						\
	}

/* ---------------------------------------------------------------------- */
/* software accesses: CREATE_ACCESS, ACCESS_PAGES, ACCESS_RW, ... */

/*
 * CREATE_ACCESS on @ioas; *@access_fd gets the file descriptor that stands
 * for the access. The output is sent holding garbage, so that a kernel
 * that leaves it unwritten hands back no usable descriptor.
 */
static inline int _create_access(int fd, __u32 ioas, __u32 flags,
				 int *access_fd)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = ioas,
		.create_access = {
			.out_access_fd = 0xdeadbeef,
			.flags = flags,
		},
	};
	int rc;

	rc = _test_cmd(fd, &cmd);
	if (!rc && access_fd)
		*access_fd = (int)cmd.create_access.out_access_fd;
	return rc;
}

/*
 * ACCESS_PAGES: pin [@iova, @iova + @length) through the access @access_fd
 * and have the pages checked against the memory at @va; *@pages_id (may be
 * NULL) gets the ID for DESTROY_ACCESS_PAGES.
 */
static inline int _access_pages(int fd, int access_fd, __u32 flags,
				__u64 iova, __u64 length, const void *va,
				__u32 *pages_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_PAGES,
		.id = (__u32)access_fd,
		.access_pages = {
			.flags = flags,
			.out_access_pages_id = 0xdeadbeef,
			.iova = iova,
			.length = length,
			.uptr = (uintptr_t)va,
		},
	};
	int rc;

	rc = _test_cmd(fd, &cmd);
	if (!rc && pages_id)
		*pages_id = cmd.access_pages.out_access_pages_id;
	return rc;
}

static inline int _destroy_access_pages(int fd, int access_fd, __u32 pages_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DESTROY_ACCESS_PAGES,
		.id = (__u32)access_fd,
		.destroy_access_pages = { .access_pages_id = pages_id },
	};

	return _test_cmd(fd, &cmd);
}

/* ACCESS_RW: @length bytes between IOVA @iova and @va (MOCK_ACCESS_RW_*) */
static inline int _access_rw(int fd, int access_fd, __u64 iova, __u64 length,
			     void *va, __u32 flags)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_RW,
		.id = (__u32)access_fd,
		.access_rw = {
			.iova = iova,
			.length = length,
			.uptr = (uintptr_t)va,
			.flags = flags,
		},
	};

	return _test_cmd(fd, &cmd);
}

static inline int _access_replace_ioas(int fd, int access_fd, __u32 ioas)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_REPLACE_IOAS,
		.id = (__u32)access_fd,
		.access_replace_ioas = { .ioas_id = ioas },
	};

	return _test_cmd(fd, &cmd);
}

/* ---------------------------------------------------------------------- */
/* IDs for the bad-ID tests */

/* the ID of an object that existed and is gone: a destroyed IOAS' */
static inline __u32 __gone_id(struct __test_metadata *_metadata, int fd)
{
	__u32 id = 0;

	ASSERT_EQ(0, _ioas_alloc(fd, &id));
	ASSERT_EQ(0, _destroy(fd, id));
	return id;
}

#define GONE_ID(fd) __gone_id(_metadata, fd)

/* fill the __u32 array @ids with the IDs given, exactly as many as fit */
#define SET_IDS(ids, ...)						\
	do {								\
		const __u32 __ids[] = { __VA_ARGS__ };			\
		static_assert(sizeof(__ids) == sizeof(ids),		\
			       "SET_IDS: wrong number of IDs");		\
		memcpy(ids, __ids, sizeof(__ids));			\
	} while (0)

/* ---------------------------------------------------------------------- */
/* read-only probes of kernel state */

/*
 * Whether [iova, iova + length) of @ioas is fully mapped, without touching
 * @ioas: COPY the range into a scratch IOAS (which has no domain, so nothing
 * gets pinned or charged), then destroy the scratch IOAS again.
 * Returns 0 when fully mapped, ENOENT when some byte of it isn't.
 */
static inline int _probe_mapped(int fd, __u32 ioas, __u64 iova, __u64 length)
{
	__u64 dst = 0;
	__u32 scratch;
	int rc, rc2;

	rc = _ioas_alloc(fd, &scratch);
	if (rc)
		return rc;
	rc = _ioas_copy(fd, IOMMU_IOAS_MAP_READABLE, scratch, &dst, ioas, iova,
			length);
	rc2 = _destroy(fd, scratch);
	return rc ? rc : rc2;
}

/* PFN backing @va, from /proc/self/pagemap (needs root), 0 if unknown */
static inline __u64 virt_to_pfn(const void *va)
{
	__u64 ent = 0;
	off_t off;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	off = ((uintptr_t)va / page_size) * sizeof(ent);
	if (pread(fd, &ent, sizeof(ent), off) != sizeof(ent))
		ent = 0;
	close(fd);
	if (!(ent & (1ULL << 63)))
		return 0;
	return ent & ((1ULL << 55) - 1);
}

/* the number of a "Key:   123 ..." line of the /proc file @path; -1 if none */
static inline long proc_key_val(const char *path, const char *key)
{
	size_t klen = strlen(key);
	char line[256];
	long val = -1;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			val = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

/* a "Key:   123 kB" line of /proc/self/status, in kB; -1 if not found */
static inline long proc_status_kb(const char *key)
{
	return proc_key_val("/proc/self/status", key);
}

/* ---------------------------------------------------------------------- */
/* "nothing changed" snapshots */

#define MAX_SNAPSHOT_RANGES 16
#define MAX_SNAPSHOT_SLOTS 512
#define MAX_SNAPSHOT_HWPTS 4

/* what one probe of a mapping window saw */
struct map_slot {
	int rc;
	__u64 phys;
	__u64 size;
	__u32 prot;
};

struct ioas_state {
	struct iommufd_stats stats;
	__u32 num_ranges;
	__u64 align;
	__u64 huge_pages;
	struct iommu_iova_range ranges[MAX_SNAPSHOT_RANGES];
	/* the mapping window, and what was mapped in it */
	__u64 win_start;
	__u64 win_length;
	unsigned int nr_hwpts;
	__u32 hwpts[MAX_SNAPSHOT_HWPTS];
	unsigned int nr_slots;
	struct map_slot slots[MAX_SNAPSHOT_SLOTS];
};

/*
 * Read the mappings of [win_start, win_start + win_length) without changing
 * them: with mock domains, the IOPTE (or ENOENT) of every MOCK_IOPTE_SIZE
 * granule of every domain; without, whether each page is fully mapped in
 * the IOAS (a COPY into a scratch IOAS).
 */
static inline int __read_window(int fd, __u32 ioas, struct ioas_state *s)
{
	struct mock_iopte pte;
	struct map_slot *slot;
	unsigned int h;
	__u64 off;

	s->nr_slots = 0;
	for (h = 0; h < s->nr_hwpts; h++) {
		for (off = 0; off < s->win_length; off += MOCK_IOPTE_SIZE) {
			if (s->nr_slots == MAX_SNAPSHOT_SLOTS)
				return -1;
			slot = &s->slots[s->nr_slots++];
			memset(slot, 0, sizeof(*slot));
			slot->rc = _md_iopte(fd, s->hwpts[h], s->win_start + off,
					     &pte);
			if (!slot->rc) {
				slot->phys = pte.phys;
				slot->size = pte.size;
				slot->prot = pte.prot;
			}
		}
	}
	if (s->nr_hwpts)
		return 0;
	for (off = 0; off < s->win_length; off += page_size) {
		if (s->nr_slots == MAX_SNAPSHOT_SLOTS)
			return -1;
		slot = &s->slots[s->nr_slots++];
		memset(slot, 0, sizeof(*slot));
		slot->rc = _probe_mapped(fd, ioas, s->win_start + off,
					 page_size);
	}
	return 0;
}

/*
 * Everything the tests can read about @ioas and the accounting without
 * changing it: the STATS counters, IOVA_RANGES and the HUGE_PAGES option,
 * and what is mapped in [win_start, win_start + win_length) (nothing is
 * read for a zero length).
 */
static inline int ioas_state_get_window(int fd, __u32 ioas,
					const __u32 *hwpts,
					unsigned int nr_hwpts, __u64 win_start,
					__u64 win_length, struct ioas_state *s)
{
	unsigned int i;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = _get_stats(fd, &s->stats);
	if (rc)
		return rc;
	s->num_ranges = MAX_SNAPSHOT_RANGES;
	rc = _iova_ranges(fd, ioas, s->ranges, &s->num_ranges, &s->align);
	if (rc)
		return rc;
	rc = _option_get(fd, IOMMU_OPTION_HUGE_PAGES, ioas, &s->huge_pages);
	if (rc)
		return rc;
	if (nr_hwpts > MAX_SNAPSHOT_HWPTS)
		return -1;
	s->win_start = win_start;
	s->win_length = win_length;
	s->nr_hwpts = nr_hwpts;
	for (i = 0; i < nr_hwpts; i++)
		s->hwpts[i] = hwpts[i];
	return __read_window(fd, ioas, s);
}

static inline int ioas_state_get(int fd, __u32 ioas, struct ioas_state *s)
{
	return ioas_state_get_window(fd, ioas, NULL, 0, 0, 0, s);
}

static inline void __assert_ioas_state(struct __test_metadata *_metadata,
				       int fd, __u32 ioas,
				       const struct ioas_state *before)
{
	struct ioas_state *now;
	unsigned int i;

	now = malloc(sizeof(*now));
	ASSERT_NE(NULL, now);
	if (ioas_state_get_window(fd, ioas, before->hwpts, before->nr_hwpts,
				  before->win_start, before->win_length, now)) {
		free(now);
		ASSERT_TRUE(false);
	}
	EXPECT_EQ(before->stats.pinned_pages, now->stats.pinned_pages);
	EXPECT_EQ(before->stats.pages_objects, now->stats.pages_objects);
	EXPECT_EQ(before->stats.areas, now->stats.areas);
	EXPECT_EQ(before->stats.user_locked_vm, now->stats.user_locked_vm);
	EXPECT_EQ(before->stats.mm_locked_vm, now->stats.mm_locked_vm);
	EXPECT_EQ(before->stats.mm_pinned_vm, now->stats.mm_pinned_vm);
	EXPECT_EQ(before->align, now->align);
	EXPECT_EQ(before->huge_pages, now->huge_pages);
	EXPECT_EQ(before->num_ranges, now->num_ranges);
	for (i = 0; i < now->num_ranges && i < before->num_ranges; i++) {
		EXPECT_EQ(before->ranges[i].start, now->ranges[i].start);
		EXPECT_EQ(before->ranges[i].last, now->ranges[i].last);
	}
	EXPECT_EQ(before->nr_slots, now->nr_slots);
	for (i = 0; i < now->nr_slots && i < before->nr_slots; i++) {
		const struct map_slot *a = &before->slots[i], *b = &now->slots[i];

		if (a->rc == b->rc && a->phys == b->phys &&
		    a->size == b->size && a->prot == b->prot)
			continue;
		EXPECT_TRUE(false) {
			TH_LOG("slot %u: rc %d->%d phys %#llx->%#llx size %#llx->%#llx prot %u->%u",
			       i, a->rc, b->rc,
			       (unsigned long long)a->phys,
			       (unsigned long long)b->phys,
			       (unsigned long long)a->size,
			       (unsigned long long)b->size, a->prot, b->prot);
		}
		break;
	}
	free(now);
}

#define ASSERT_IOAS_UNCHANGED(fd, ioas, before) \
	__assert_ioas_state(_metadata, fd, ioas, before)

/* the stats counters only, e.g. to compare against a baseline after close */
static inline void __assert_stats_equal(struct __test_metadata *_metadata,
					const struct iommufd_stats *a,
					const struct iommufd_stats *b)
{
	EXPECT_EQ(a->pinned_pages, b->pinned_pages);
	EXPECT_EQ(a->pages_objects, b->pages_objects);
	EXPECT_EQ(a->areas, b->areas);
	EXPECT_EQ(a->user_locked_vm, b->user_locked_vm);
	EXPECT_EQ(a->mm_locked_vm, b->mm_locked_vm);
	EXPECT_EQ(a->mm_pinned_vm, b->mm_pinned_vm);
}

#define ASSERT_STATS_EQUAL(a, b) __assert_stats_equal(_metadata, a, b)

/*
 * [iova, iova + length) is fully mapped in @ioas and each of the @nr_hwpts
 * mock domains maps it to the memory at @va.
 */
static inline void __assert_mapped(struct __test_metadata *_metadata, int fd,
				   __u32 ioas, const __u32 *hwpts,
				   unsigned int nr_hwpts, __u64 iova,
				   __u64 length, const void *va)
{
	unsigned int i;

	ASSERT_EQ(0, _probe_mapped(fd, ioas, iova, length));
	for (i = 0; i < nr_hwpts; i++) {
		int rc = _md_check_map(fd, hwpts[i], iova, va, length);

		ASSERT_EQ(0, rc);
	}
}

/*
 * No byte of [iova, iova + length) is mapped in @ioas, and the mock domains
 * have no IOPTE there. Probes each page and the end of the range, in
 * granules of the IOAS' IOVA alignment.
 */
static inline void __assert_unmapped(struct __test_metadata *_metadata, int fd,
				     __u32 ioas, const __u32 *hwpts,
				     unsigned int nr_hwpts, __u64 iova,
				     __u64 length)
{
	struct iommu_iova_range ranges[MAX_SNAPSHOT_RANGES];
	__u32 num = MAX_SNAPSHOT_RANGES;
	__u64 align, off, last;
	unsigned int i;

	ASSERT_EQ(0, _iova_ranges(fd, ioas, ranges, &num, &align));
	ASSERT_NE(0, align);
	last = (iova + length - 1) & ~(align - 1);
	for (off = 0; off < length; off += page_size) {
		ASSERT_EQ(ENOENT, _probe_mapped(fd, ioas, iova + off, align));
		for (i = 0; i < nr_hwpts; i++) {
			ASSERT_EQ(ENOENT, _md_iopte(fd, hwpts[i], iova + off,
						    NULL));
		}
	}
	ASSERT_EQ(ENOENT, _probe_mapped(fd, ioas, last, align));
	for (i = 0; i < nr_hwpts; i++) {
		int rc = _md_iopte(fd, hwpts[i], last, NULL);

		ASSERT_EQ(ENOENT, rc);
	}
}

/* IOVA_RANGES of @ioas is exactly @exp[0..@n) with alignment @align */
static inline void __expect_ranges(struct __test_metadata *_metadata, int fd,
				   __u32 ioas,
				   const struct iommu_iova_range *exp, __u32 n,
				   __u64 align)
{
	struct iommu_iova_range r[MAX_SNAPSHOT_RANGES];
	__u32 num = MAX_SNAPSHOT_RANGES;
	__u64 got_align = 0;
	__u32 i;

	ASSERT_EQ(0, _iova_ranges(fd, ioas, r, &num, &got_align));
	EXPECT_EQ(align, got_align);
	ASSERT_EQ(n, num);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(exp[i].start, r[i].start);
		EXPECT_EQ(exp[i].last, r[i].last);
	}
}

#define EXPECT_RANGES(fd, ioas, exp, n, align) \
	__expect_ranges(_metadata, fd, ioas, exp, n, align)

/*
 * Shorthands for test bodies whose fixture has fd, ioas, hwpt[] and
 * nr_hwpts members.
 */
#define MAPPED(iova, length, va)					\
	__assert_mapped(_metadata, self->fd, self->ioas, self->hwpt,	\
			self->nr_hwpts, iova, length, va)
#define UNMAPPED(iova, length)						\
	__assert_unmapped(_metadata, self->fd, self->ioas, self->hwpt,	\
			  self->nr_hwpts, iova, length)
#define SNAPSHOT_WINDOW (96 * PS)
#define SNAPSHOT(st)							\
	ASSERT_EQ(0, ioas_state_get_window(self->fd, self->ioas, self->hwpt, \
					   self->nr_hwpts, self->base,	\
					   SNAPSHOT_WINDOW, st))
#define UNCHANGED(st) ASSERT_IOAS_UNCHANGED(self->fd, self->ioas, st)

/* ---------------------------------------------------------------------- */
/* memory */

/* anonymous memory with a different byte pattern on every page */
static inline void fill_pattern(void *buf, size_t length, unsigned int seed)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < length; i++)
		p[i] = (unsigned char)(seed * 31 + i / page_size * 7 + i);
}

static inline void *alloc_buffer(size_t length, unsigned int seed)
{
	void *buf;

	buf = mmap(NULL, length, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return NULL;
	fill_pattern(buf, length, seed);
	return buf;
}

/* ---------------------------------------------------------------------- */
/* fixtures */

/*
 * What every fixture's setup starts with: open /dev/iommu into *@fd,
 * allocate an IOAS into *@ioas and create @domains mock domains on it, their
 * ids stored in @stdev[] and @hwpt[] (either may be NULL, else it has room
 * for @domains ids). Returns @pages pages of memory filled by
 * alloc_buffer() with @seed, NULL for 0 pages. Asserts on any failure.
 */
static inline void *__setup_ioas(struct __test_metadata *_metadata, int *fd,
				 __u32 *ioas, unsigned int domains,
				 __u32 *stdev, __u32 *hwpt, size_t pages,
				 unsigned int seed)
{
	unsigned int i;
	void *buf;

	*fd = iommufd_open();
	ASSERT_LE(0, *fd);
	ASSERT_EQ(0, _ioas_alloc(*fd, ioas));
	for (i = 0; i < domains; i++) {
		ASSERT_EQ(0, _mock_domain(*fd, *ioas, stdev ? &stdev[i] : NULL,
					  hwpt ? &hwpt[i] : NULL, NULL));
	}
	if (!pages)
		return NULL;
	buf = alloc_buffer(pages * page_size, seed);
	ASSERT_NE(NULL, buf);
	return buf;
}

/*
 * __setup_ioas() for a fixture with fd, ioas, hwpt[], nr_hwpts, buf and
 * buf_size members; @stdev is where the stdev ids go, or NULL.
 */
#define SETUP_IOAS(domains, stdev, pages, seed)				\
	do {								\
		self->buf = __setup_ioas(_metadata, &self->fd, &self->ioas, \
					 domains, stdev, self->hwpt,	\
					 pages, seed);			\
		self->nr_hwpts = domains;				\
		self->buf_size = (pages) * page_size;			\
	} while (0)

/* open /dev/iommu for a test without a fixture; asserts that it opened */
static inline int __open_iommufd(struct __test_metadata *_metadata)
{
	int fd;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	return fd;
}

#define OPEN_IOMMUFD() __open_iommufd(_metadata)

/*
 * Open a second file, for reading STATS while another file comes and goes;
 * *@s0 gets what they read now, the baseline for after the other's close.
 */
static inline int __open_stats_baseline(struct __test_metadata *_metadata,
					struct iommufd_stats *s0)
{
	int fd;

	fd = __open_iommufd(_metadata);
	ASSERT_EQ(0, _get_stats(fd, s0));
	return fd;
}

#define OPEN_STATS_BASELINE(s0) __open_stats_baseline(_metadata, s0)

/* open /dev/iommu and allocate two IOASes in it; returns the fd */
static inline int __open_two_ioas(struct __test_metadata *_metadata,
				  __u32 *ioas1, __u32 *ioas2)
{
	int fd;

	fd = __open_iommufd(_metadata);
	ASSERT_EQ(0, _ioas_alloc(fd, ioas1));
	ASSERT_EQ(0, _ioas_alloc(fd, ioas2));
	return fd;
}

#define OPEN_TWO_IOAS(ioas1, ioas2) __open_two_ioas(_metadata, ioas1, ioas2)

/*
 * Close @fd, after which the STATS that @fd2 reads are back at the
 * baseline *@s0 (from OPEN_STATS_BASELINE()).
 */
static inline void __close_to_baseline(struct __test_metadata *_metadata,
				       int fd, int fd2,
				       const struct iommufd_stats *s0)
{
	struct iommufd_stats st;

	close(fd);
	ASSERT_EQ(0, _get_stats(fd2, &st));
	__assert_stats_equal(_metadata, s0, &st);
}

#define CLOSE_TO_BASELINE(fd, fd2, s0) __close_to_baseline(_metadata, fd, fd2, s0)

/* ---------------------------------------------------------------------- */
/* child processes and privileges */

/*
 * A child can't use ASSERT_*: it would run the fixture's teardown and the
 * harness' bookkeeping in the child. CHILD_ASSERT reports and exits 1.
 */
#define CHILD_ASSERT(cond)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "# child %s:%d: failed: %s (errno %d)\n", \
				__FILE__, __LINE__, #cond, errno);	\
			fflush(stderr);					\
			_exit(1);					\
		}							\
	} while (0)

/* exit status of @pid, 128 + signal if it was killed, -1 on error */
static inline int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/*
 * Run @fn in a child process, which exits 0 when @fn returns (@fn fails
 * with CHILD_ASSERT), and assert that the child exited 0.
 */
static inline void __run_in_child(struct __test_metadata *_metadata,
				  void (*fn)(void))
{
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		fn();
		_exit(0);
	}
	ASSERT_EQ(0, wait_child(pid));
}

#define RUN_IN_CHILD(fn) __run_in_child(_metadata, fn)

static inline int capget_data(struct __user_cap_data_struct *data)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return syscall(SYS_capget, &hdr, data) ? errno : 0;
}

static inline bool have_capability(int cap)
{
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (capget_data(data))
		return false;
	return data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap);
}

/* Drop @cap from the effective, permitted and inheritable sets. */
static inline int drop_capability(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	int rc;

	rc = capget_data(data);
	if (rc)
		return rc;
	data[CAP_TO_INDEX(cap)].effective &= ~CAP_TO_MASK(cap);
	data[CAP_TO_INDEX(cap)].permitted &= ~CAP_TO_MASK(cap);
	data[CAP_TO_INDEX(cap)].inheritable &= ~CAP_TO_MASK(cap);
	return syscall(SYS_capset, &hdr, data) ? errno : 0;
}

/* Become @id (uid and gid); from root this drops every capability. */
static inline int become_user(unsigned int id)
{
	if (setgroups(0, NULL))
		return errno;
	if (setresgid(id, id, id))
		return errno;
	if (setresuid(id, id, id))
		return errno;
	return 0;
}

static inline int set_memlock_limit(__u64 bytes)
{
	struct rlimit rl = {
		.rlim_cur = bytes,
		.rlim_max = bytes,
	};

	return setrlimit(RLIMIT_MEMLOCK, &rl) ? errno : 0;
}

#endif
