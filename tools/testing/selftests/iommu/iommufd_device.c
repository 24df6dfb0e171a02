// SPDX-License-Identifier: GPL-2.0-only
/*
 * kselftests for the devices of /dev/iommu: the device object MOCK_DOMAIN
 * binds, MOCK_DOMAIN_FLAGS, attach, detach and replace (between HWPTs of one
 * IOAS and between IOASes), automatic HWPTs and their reuse, IOMMU_HWPT_ALLOC
 * and the lifetime of user HWPTs, enforced cache coherency, the reserved IOVA
 * of a device, iommu_group rules (within a file and across files) and
 * IOMMU_GET_HW_INFO. After a refused call the tests check that nothing
 * changed: accounting, IOVA ranges, the mock domains' IOPTEs and where each
 * device is attached.
 *
 * Needs a kernel built with CONFIG_IOMMUFD_TEST (the mock IOMMU).
 */
#include <sys/klog.h>

#include "iommufd_utils.h"

#define DEV_PAGES 32
/*
 * The mapping window the snapshots read: 16 pages, but no more granules
 * than two mock domains' worth fit in a snapshot.
 */
#define WINDOW_MAX (MAX_SNAPSHOT_SLOTS / 2 * MOCK_GRAN)
#define WINDOW (16 * PS < WINDOW_MAX ? 16 * PS : WINDOW_MAX)

#define RESV_START ((__u64)MOCK_RESV_START)
#define RESV_LAST ((__u64)MOCK_RESV_LAST)

/* offsetofend() of the fields that end the first version of a command */
#define HWPT_ALLOC_MIN_SIZE \
	(offsetof(struct iommu_hwpt_alloc, __reserved) + sizeof(__u32))
#define HW_INFO_MIN_SIZE					\
	(offsetof(struct iommu_hw_info, __reserved) +		\
	 sizeof(((struct iommu_hw_info *)0)->__reserved))

/* the dev_flags bits MOCK_DOMAIN_FLAGS and MOCK_GROUP_DEVICE know */
#define KNOWN_DEV_FLAGS							\
	(MOCK_FLAGS_DEVICE_NO_DIRTY | MOCK_FLAGS_DEVICE_HUGE_IOVA |	\
	 MOCK_FLAGS_DEVICE_PASID |					\
	 MOCK_FLAGS_DEVICE_NO_COHERENCY | MOCK_FLAGS_DEVICE_RESV |	\
	 MOCK_FLAGS_DEVICE_ENFORCE_FAILS | MOCK_FLAGS_DEVICE_LATE_IOMMU |	\
	 MOCK_FLAGS_DEVICE_UNSAFE_MSI | MOCK_FLAGS_DEVICE_WIDE_APERTURE |	\
	 MOCK_FLAGS_DEVICE_NARROW)

static const struct iommu_iova_range full_range = { 0, U64_MAX };
static const struct iommu_iova_range aperture = {
	APERTURE_START, APERTURE_LAST
};

/* the IOVA ranges of an IOAS with a RESV device attached */
static const struct iommu_iova_range resv_split[2] = {
	{ APERTURE_START, RESV_START - 1 },
	{ RESV_LAST + 1, APERTURE_LAST },
};

/*
 * Mock group keys are global to the kernel: make them unique to this
 * process (each test runs in its own), non-zero, one per @n.
 */
static __u32 group_key(unsigned int n)
{
	return ((__u32)getpid() << 8) | (n & 0xff);
}

/* how many of the bytes [from, to) of @p are not @val */
static unsigned int bytes_not(const void *p, size_t from, size_t to,
			      unsigned char val)
{
	const unsigned char *c = p;
	unsigned int n = 0;
	size_t i;

	for (i = from; i < to; i++)
		n += c[i] != val;
	return n;
}

/* the device of @stdev is attached to @hwpt, which enforces @coherent */
static void __expect_attached(struct __test_metadata *_metadata, int fd,
			      __u32 stdev, __u32 hwpt, __u32 coherent)
{
	struct mock_dev_info info;

	ASSERT_EQ(0, _device_info(fd, stdev, &info));
	EXPECT_EQ(hwpt, info.hwpt);
	EXPECT_EQ(coherent, info.coherent);
}

static void __expect_detached(struct __test_metadata *_metadata, int fd,
			      __u32 stdev)
{
	struct mock_dev_info info;

	ASSERT_EQ(0, _device_info(fd, stdev, &info));
	EXPECT_EQ(0, info.hwpt);
}

static __u32 __group_of(struct __test_metadata *_metadata, int fd,
			__u32 stdev)
{
	struct mock_dev_info info;

	memset(&info, 0, sizeof(info));
	EXPECT_EQ(0, _device_info(fd, stdev, &info));
	return info.group;
}

#define ATTACHED(stdev, hwpt, coherent) \
	__expect_attached(_metadata, self->fd, stdev, hwpt, coherent)
#define DETACHED(stdev) __expect_detached(_metadata, self->fd, stdev)
#define GROUP_OF(stdev) __group_of(_metadata, self->fd, stdev)

/*
 * Snapshot of @ioas: stats, IOVA ranges, option and the WINDOW bytes at
 * @start, read through up to two mock domains (0 for none; without any
 * the window is probed in the IOAS itself).
 */
static void __snap(struct __test_metadata *_metadata, int fd, __u32 ioas,
		   __u64 start, __u32 h0, __u32 h1, struct ioas_state *st)
{
	unsigned int n = 0;
	__u32 hwpts[2];

	if (h0)
		hwpts[n++] = h0;
	if (h1)
		hwpts[n++] = h1;
	ASSERT_EQ(0, ioas_state_get_window(fd, ioas, hwpts, n, start, WINDOW,
					   st));
}

#define SNAP(st, ioas, start, h0, h1) \
	__snap(_metadata, self->fd, ioas, start, h0, h1, st)
#define SAME(st, ioas) ASSERT_IOAS_UNCHANGED(self->fd, ioas, st)
#define RANGES(ioas, exp, n, align) EXPECT_RANGES(self->fd, ioas, exp, n, align)

/* map the first @length bytes of buf at base, in the fixture's IOAS */
#define MAP_BASE(length)						\
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, length, \
				self->base))

/* the end of a test that left nothing on its IOAS: the IOAS goes too */
#define END_CLEAN()							\
	do {								\
		EXPECT_EQ(0, _destroy(self->fd, self->ioas));		\
		BACK_TO_START();					\
	} while (0)

/* ====================================================================== */
/* One IOAS, nothing on it */

FIXTURE(dev) {
	int fd;
	__u32 ioas;
	unsigned char *buf;
	size_t buf_size;
	__u64 base;
	struct iommufd_stats start;
};

FIXTURE_SETUP(dev)
{
	self->buf = __setup_ioas(_metadata, &self->fd, &self->ioas, 0, NULL,
				 NULL, DEV_PAGES, 41);
	self->buf_size = DEV_PAGES * PS;
	self->base = APERTURE_START;
	ASSERT_EQ(0, _get_stats(self->fd, &self->start));
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
	munmap(self->buf, self->buf_size);
}

/* ---- MOCK_DOMAIN and its device object ---- */

TEST_F(dev, mock_domain_idev)
{
	__u32 stdev, hwpt, idev, stdev2, hwpt2, idev2;
	struct iommu_test_hw_info data;
	struct ioas_state st;

	MAP_BASE(4 * PS);
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, &hwpt, &idev));
	EXPECT_NE(0, stdev);
	EXPECT_NE(0, hwpt);
	EXPECT_NE(0, idev);
	EXPECT_NE(stdev, hwpt);
	EXPECT_NE(stdev, idev);
	EXPECT_NE(hwpt, idev);
	EXPECT_NE(self->ioas, stdev);
	EXPECT_NE(self->ioas, hwpt);
	EXPECT_NE(self->ioas, idev);

	/* a second device on the same IOAS gets a HWPT of its own */
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev2, &hwpt2,
				  &idev2));
	EXPECT_NE(0, idev2);
	EXPECT_NE(hwpt, hwpt2);
	EXPECT_NE(idev, idev2);
	EXPECT_NE(stdev, stdev2);
	EXPECT_NE(hwpt, idev2);
	EXPECT_NE(idev, hwpt2);
	ATTACHED(stdev, hwpt, 1);
	ATTACHED(stdev2, hwpt2, 1);
	EXPECT_NE(GROUP_OF(stdev), GROUP_OF(stdev2));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->base, self->buf,
				   4 * PS));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt2, self->base, self->buf,
				   4 * PS));

	/* the driver holds the device, the device holds the HWPT */
	SNAP(&st, self->ioas, self->base, hwpt, hwpt2);
	EXPECT_EQ(EBUSY, _destroy(self->fd, idev));
	EXPECT_EQ(EBUSY, _destroy(self->fd, hwpt));
	EXPECT_EQ(EBUSY, _destroy(self->fd, self->ioas));
	SAME(&st, self->ioas);
	ATTACHED(stdev, hwpt, 1);
	/* the idev is a device ID: GET_HW_INFO takes it */
	EXPECT_EQ(0, _get_hw_info(self->fd, idev, &data, sizeof(data), NULL));

	/* destroying the stdev unbinds the device and frees its HWPT */
	ASSERT_EQ(0, _destroy(self->fd, stdev));
	EXPECT_EQ(ENOENT, _destroy(self->fd, hwpt));
	EXPECT_EQ(ENOENT, _destroy(self->fd, idev));
	EXPECT_EQ(ENOENT, _destroy(self->fd, stdev));
	EXPECT_EQ(ENOENT, _md_check_map(self->fd, hwpt, self->base, self->buf,
					4 * PS));
	EXPECT_EQ(ENOENT, _get_hw_info(self->fd, idev, &data, sizeof(data),
				       NULL));
	EXPECT_EQ(ENOENT, _device_info(self->fd, stdev, NULL));

	/* the other device is untouched */
	ATTACHED(stdev2, hwpt2, 1);
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt2, self->base, self->buf,
				   4 * PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 1));
	EXPECT_RANGES(self->fd, self->ioas, &aperture, 1, MOCK_GRAN);

	ASSERT_EQ(0, _destroy(self->fd, stdev2));
	EXPECT_EQ(ENOENT, _destroy(self->fd, hwpt2));
	EXPECT_EQ(ENOENT, _destroy(self->fd, idev2));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	EXPECT_RANGES(self->fd, self->ioas, &full_range, 1, 1);
	EXPECT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));
	BACK_TO_START();
	EXPECT_EQ(0, _destroy(self->fd, self->ioas));
}

/* A user HWPT is not the device's: destroying the stdev only detaches */
TEST_F(dev, destroy_stdev_detaches)
{
	__u32 stdev, idev, hwpt, out;

	MAP_BASE(4 * PS);
	ASSERT_EQ(0, _mock_group_device(self->fd, 0, 0, &stdev, &idev));
	ASSERT_EQ(0, _hwpt_alloc(self->fd, idev, self->ioas, &hwpt));
	ASSERT_EQ(0, _device_attach(self->fd, stdev, hwpt, &out));
	EXPECT_EQ(hwpt, out);
	EXPECT_EQ(EBUSY, _destroy(self->fd, hwpt));
	EXPECT_EQ(EBUSY, _destroy(self->fd, idev));

	ASSERT_EQ(0, _destroy(self->fd, stdev));
	EXPECT_EQ(ENOENT, _destroy(self->fd, idev));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->base, self->buf,
				   4 * PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 1));
	EXPECT_EQ(0, _destroy(self->fd, hwpt));
	EXPECT_EQ(ENOENT, _destroy(self->fd, hwpt));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	END_CLEAN();
}

/* ---- MOCK_DOMAIN_FLAGS ---- */

TEST_F(dev, mock_domain_flags)
{
	static const __u32 bad[] = {
		1 << 3, 1 << 5, 1 << 23, 1 << 29, 1U << 31,
		~(__u32)KNOWN_DEV_FLAGS,
		MOCK_FLAGS_DEVICE_NO_COHERENCY | 1 << 4,
		MOCK_FLAGS_DEVICE_RESV | 1 << 22,
	};
	static const __u32 good[] = {
		0,
		MOCK_FLAGS_DEVICE_NO_DIRTY,
		MOCK_FLAGS_DEVICE_HUGE_IOVA,
		MOCK_FLAGS_DEVICE_NO_DIRTY | MOCK_FLAGS_DEVICE_HUGE_IOVA,
		MOCK_FLAGS_DEVICE_PASID,
	};
	__u32 stdev, hwpt, idev, gone;
	struct ioas_state st;
	unsigned int i;

	MAP_BASE(4 * PS);
	SNAP(&st, self->ioas, self->base, 0, 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(EINVAL, _mock_domain_flags(self->fd, self->ioas,
						     bad[i], &stdev, &hwpt,
						     &idev)) {
			TH_LOG("dev_flags %#x", bad[i]);
		}
	}
	gone = GONE_ID(self->fd);
	EXPECT_EQ(ENOENT, _mock_domain_flags(self->fd, gone, 0, NULL, NULL,
					     NULL));
	EXPECT_EQ(ENOENT, _mock_domain_flags(self->fd, 0, 0, NULL, NULL,
					     NULL));
	SAME(&st, self->ioas);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));

	/* NO_DIRTY, HUGE_IOVA and PASID change nothing we can see */
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		stdev = 0;
		hwpt = 0;
		idev = 0;
		ASSERT_EQ(0, _mock_domain_flags(self->fd, self->ioas, good[i],
						&stdev, &hwpt, &idev));
		EXPECT_NE(0, stdev);
		EXPECT_NE(0, hwpt);
		EXPECT_NE(0, idev);
		EXPECT_NE(hwpt, idev);
		ATTACHED(stdev, hwpt, 1);
		EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->base,
					   self->buf, 4 * PS));
		EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 1));
		EXPECT_RANGES(self->fd, self->ioas, &aperture, 1, MOCK_GRAN);
		EXPECT_EQ(EBUSY, _destroy(self->fd, idev));
		EXPECT_EQ(EBUSY, _destroy(self->fd, hwpt));
		ASSERT_EQ(0, _destroy(self->fd, stdev));
		EXPECT_EQ(ENOENT, _destroy(self->fd, hwpt));
		EXPECT_RANGES(self->fd, self->ioas, &full_range, 1, 1);
	}
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	/* nothing was left on the IOAS */
	END_CLEAN();
}

/*
 * Every IOPTE is cache coherent, so a device whose IOMMU can't make such
 * IOPTEs is refused at bind (EINVAL), with nothing left behind: not the
 * device, not a HWPT, not a pin.
 */
TEST_F(dev, mock_domain_flags_no_coherency)
{
	__u32 stdev = 0, hwpt = 0, idev = 0;
	struct ioas_state st;
	int fd2;

	MAP_BASE(4 * PS);
	SNAP(&st, self->ioas, self->base, 0, 0);
	EXPECT_EQ(EINVAL, _mock_domain_flags(self->fd, self->ioas,
					     MOCK_FLAGS_DEVICE_NO_COHERENCY,
					     &stdev, &hwpt, &idev));
	EXPECT_EQ(EINVAL, _mock_group_device(self->fd, 0,
					     MOCK_FLAGS_DEVICE_NO_COHERENCY,
					     &stdev, &idev));
	EXPECT_EQ(EINVAL, _mock_group_device(self->fd, 77,
					     MOCK_FLAGS_DEVICE_NO_COHERENCY,
					     &stdev, &idev));
	SAME(&st, self->ioas);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	/* the refused group 77 was not claimed: another file can have it */
	fd2 = iommufd_open();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, _mock_group_device(fd2, 77, 0, NULL, NULL));
	close(fd2);
	END_CLEAN();
}

/*
 * The IOMMU claims coherency but refuses an enforcing domain for the device
 * (6.1's VT-d without snoop control): attach falls back to a plain HWPT,
 * and a HWPT the user allocates for it is plain too, and takes it.
 */
TEST_F(dev, coherency_claimed_but_refused)
{
	struct ioas_state st;
	__u32 stdev, hwpt, idev, user_hwpt;

	MAP_BASE(4 * PS);
	ASSERT_EQ(0, _mock_domain_flags(self->fd, self->ioas,
					MOCK_FLAGS_DEVICE_ENFORCE_FAILS, &stdev,
					&hwpt, &idev));
	ATTACHED(stdev, hwpt, 0);
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->base, self->buf,
				   4 * PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 1));

	/* attaching to the IOAS again keeps the plain HWPT */
	EXPECT_EQ(0, _device_attach(self->fd, stdev, self->ioas, NULL));
	ATTACHED(stdev, hwpt, 0);

	ASSERT_EQ(0, _hwpt_alloc(self->fd, idev, self->ioas, &user_hwpt));
	SNAP(&st, self->ioas, self->base, hwpt, user_hwpt);
	EXPECT_EQ(0, _device_attach(self->fd, stdev, user_hwpt, NULL));
	ATTACHED(stdev, user_hwpt, 0);
	EXPECT_EQ(0, _md_check_map(self->fd, user_hwpt, self->base, self->buf,
				   4 * PS));
	/* the automatic HWPT went with its last device */
	EXPECT_EQ(ENOENT, _destroy(self->fd, hwpt));

	ASSERT_EQ(0, _destroy(self->fd, stdev));
	ASSERT_EQ(0, _destroy(self->fd, user_hwpt));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
}

/*
 * A group that can't be moved to its blocking domain (6.1's VT-d allocates
 * on every attach, the blocking domain's too) stays on the domain it is on
 * and takes it over: detaching its last device gives up after a while, the
 * HWPT that is then destroyed unmaps the IOAS from the domain (nothing is
 * left pinned, the device reaches nothing) but does not free it, and no
 * attach can move the group any more, to a HWPT or an IOAS, even once the
 * failures stop (EIO). Unbinding the device releases the group and frees
 * the domain. Before, the detach warned and the HWPT freed the domain the
 * group was still attached to.
 */
TEST_F(dev, group_that_cannot_block_keeps_its_domain)
{
	struct mock_dev_info info;
	__u32 stdev, hwpt, idev, user;
	struct ioas_state st;

	MAP_BASE(4 * PS);
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, &hwpt, &idev));
	ASSERT_EQ(0, _hwpt_alloc(self->fd, idev, self->ioas, &user));
	ASSERT_EQ(0, _device_attach(self->fd, stdev, user, NULL));
	ATTACHED(stdev, user, 1);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 1));

	ASSERT_EQ(0, _mock_fail_attach(self->fd, stdev, 1000));
	ASSERT_EQ(0, _device_detach(self->fd, stdev));
	ASSERT_EQ(0, _device_info(self->fd, stdev, &info));
	EXPECT_EQ(0U, info.hwpt);
	EXPECT_EQ(1U, info.stuck);
	SNAP(&st, self->ioas, self->base, user, 0);
	EXPECT_EQ(EIO, _device_attach(self->fd, stdev, user, NULL));
	EXPECT_EQ(EIO, _device_attach(self->fd, stdev, self->ioas, NULL));
	SAME(&st, self->ioas);
	/* the HWPT is free to go: the group holds its domain, not it */
	ASSERT_EQ(0, _destroy(self->fd, user));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));

	ASSERT_EQ(0, _mock_fail_attach(self->fd, stdev, 0));
	EXPECT_EQ(EIO, _device_attach(self->fd, stdev, self->ioas, NULL));
	ASSERT_EQ(0, _device_info(self->fd, stdev, &info));
	EXPECT_EQ(1U, info.stuck);
	ASSERT_EQ(0, _destroy(self->fd, stdev));

	/* a new device, a new group: attaches as usual */
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, &hwpt, NULL));
	ASSERT_EQ(0, _device_info(self->fd, stdev, &info));
	EXPECT_EQ(0U, info.stuck);
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->base, self->buf,
				   4 * PS));
	ASSERT_EQ(0, _destroy(self->fd, stdev));
}

/*
 * A kernel driver using the DMA API on one device of a group keeps the
 * whole group out of iommufd: binding another device of it is EBUSY until
 * that device goes away.
 */
TEST_F(dev, group_kernel_driver_ebusy)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_MOCK_KERNEL_DEVICE,
	};
	struct iommufd_stats before, after;
	__u32 key = 0x10000 + (getpid() & 0xffff);
	__u32 kstdev, stdev, idev;

	cmd.mock_kernel_device.group_key = key;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_TEST_CMD, &cmd));
	kstdev = cmd.mock_kernel_device.out_stdev_id;
	EXPECT_NE(0, kstdev);
	/* not bound: no device operations on it */
	EXPECT_EQ(EINVAL, _device_attach(self->fd, kstdev, self->ioas, NULL));

	ASSERT_EQ(0, _get_stats(self->fd, &before));
	EXPECT_EQ(EBUSY, _mock_group_device(self->fd, key, 0, &stdev, &idev));
	ASSERT_EQ(0, _get_stats(self->fd, &after));
	EXPECT_EQ(before.pages_objects, after.pages_objects);
	EXPECT_EQ(before.pinned_pages, after.pinned_pages);

	/* key 0 is refused: a kernel device must share a group */
	cmd.mock_kernel_device.group_key = 0;
	EXPECT_EQ(-1, ioctl(self->fd, IOMMU_TEST_CMD, &cmd));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, _destroy(self->fd, kstdev));
	ASSERT_EQ(0, _mock_group_device(self->fd, key, 0, &stdev, &idev));
	EXPECT_EQ(0, _device_attach(self->fd, stdev, self->ioas, NULL));
	ASSERT_EQ(0, _destroy(self->fd, stdev));
}

TEST_F(dev, mock_domain_flags_resv)
{
	__u64 iova;
	__u32 stdev, hwpt, stdev2;

	ASSERT_EQ(0, _mock_domain_flags(self->fd, self->ioas,
					MOCK_FLAGS_DEVICE_RESV, &stdev, &hwpt,
					NULL));
	ATTACHED(stdev, hwpt, 1);
	RANGES(self->ioas, resv_split, 2, MOCK_GRAN);

	/* MAP stays out of it */
	EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, self->buf, PS,
				     RESV_START));
	EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, self->buf, 2 * PS,
				     RESV_START - PS));
	EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, self->buf, PS,
				     RESV_LAST + 1 - PS));
	EXPECT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, PS,
				RESV_START - PS));
	EXPECT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, PS,
				RESV_LAST + 1));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, RESV_START - PS, self->buf,
				   PS));
	iova = 0;
	EXPECT_EQ(0, _map_auto(self->fd, self->ioas, self->buf, 4 * PS,
			       &iova));
	EXPECT_TRUE(iova + 4 * PS - 1 < RESV_START || iova > RESV_LAST);

	/* a device without reserved IOVA changes nothing */
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev2, NULL, NULL));
	RANGES(self->ioas, resv_split, 2, MOCK_GRAN);
	ASSERT_EQ(0, _destroy(self->fd, stdev));
	EXPECT_EQ(ENOENT, _destroy(self->fd, hwpt));
	RANGES(self->ioas, &aperture, 1, MOCK_GRAN);
	ASSERT_EQ(0, _destroy(self->fd, stdev2));
	RANGES(self->ioas, &full_range, 1, 1);
	EXPECT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));
	EXPECT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, PS,
				RESV_START));
}

/* ---- DEVICE_ATTACH, DEVICE_DETACH, DEVICE_INFO ---- */

TEST_F(dev, attach_detach)
{
	__u32 stdev, idev, hwpt, hwpt2;
	struct iommu_test_hw_info data;
	struct ioas_state st;

	MAP_BASE(4 * PS);
	stdev = 0;
	idev = 0;
	ASSERT_EQ(0, _mock_group_device(self->fd, 0, 0, &stdev, &idev));
	EXPECT_NE(0, stdev);
	EXPECT_NE(0, idev);
	EXPECT_NE(stdev, idev);
	EXPECT_NE(self->ioas, stdev);
	EXPECT_NE(self->ioas, idev);
	/* bound, not attached: nothing on the IOAS changed */
	DETACHED(stdev);
	EXPECT_RANGES(self->fd, self->ioas, &full_range, 1, 1);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	EXPECT_EQ(0, _get_hw_info(self->fd, idev, &data, sizeof(data), NULL));
	EXPECT_EQ(EBUSY, _destroy(self->fd, idev));

	SNAP(&st, self->ioas, self->base, 0, 0);
	EXPECT_EQ(EINVAL, _device_detach(self->fd, stdev));
	EXPECT_EQ(EINVAL, _mock_domain_replace(self->fd, stdev, self->ioas,
					       NULL));
	SAME(&st, self->ioas);
	DETACHED(stdev);

	hwpt = 0;
	ASSERT_EQ(0, _device_attach(self->fd, stdev, self->ioas, &hwpt));
	EXPECT_NE(0, hwpt);
	EXPECT_NE(self->ioas, hwpt);
	EXPECT_NE(stdev, hwpt);
	EXPECT_NE(idev, hwpt);
	ATTACHED(stdev, hwpt, 1);
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->base, self->buf,
				   4 * PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 1));
	EXPECT_RANGES(self->fd, self->ioas, &aperture, 1, MOCK_GRAN);
	EXPECT_EQ(EBUSY, _destroy(self->fd, hwpt));
	EXPECT_EQ(EBUSY, _destroy(self->fd, self->ioas));
	EXPECT_EQ(EBUSY, _destroy(self->fd, idev));
	ATTACHED(stdev, hwpt, 1);

	/* the automatic HWPT goes with its last device */
	ASSERT_EQ(0, _device_detach(self->fd, stdev));
	EXPECT_EQ(ENOENT, _destroy(self->fd, hwpt));
	EXPECT_EQ(ENOENT, _md_check_map(self->fd, hwpt, self->base, self->buf,
					4 * PS));
	DETACHED(stdev);
	EXPECT_RANGES(self->fd, self->ioas, &full_range, 1, 1);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	EXPECT_EQ(0, _probe_mapped(self->fd, self->ioas, self->base, 4 * PS));
	EXPECT_EQ(EINVAL, _device_detach(self->fd, stdev));

	/* again; then destroying the attached device frees the HWPT too */
	ASSERT_EQ(0, _device_attach(self->fd, stdev, self->ioas, &hwpt2));
	ATTACHED(stdev, hwpt2, 1);
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt2, self->base, self->buf,
				   4 * PS));
	ASSERT_EQ(0, _destroy(self->fd, stdev));
	EXPECT_EQ(ENOENT, _destroy(self->fd, hwpt2));
	EXPECT_EQ(ENOENT, _destroy(self->fd, idev));
	EXPECT_EQ(ENOENT, _device_detach(self->fd, stdev));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	EXPECT_RANGES(self->fd, self->ioas, &full_range, 1, 1);
	END_CLEAN();
}

/*
 * Attaching the attached device of @stdev and the detached one of @dstdev,
 * and replacing the HWPT of @stdev, to each pt_id of @ids[0..@n) fail with
 * @err.
 */
static void __expect_pt_refused(struct __test_metadata *_metadata, int fd,
				int err, __u32 stdev, __u32 dstdev,
				const __u32 *ids, unsigned int n)
{
	unsigned int i;
	__u32 out;

	for (i = 0; i < n; i++) {
		EXPECT_EQ(err, _device_attach(fd, stdev, ids[i], &out));
		EXPECT_EQ(err, _device_attach(fd, dstdev, ids[i], &out));
		EXPECT_EQ(err, _mock_domain_replace(fd, stdev, ids[i], &out));
	}
}

TEST_F(dev, device_ops_bad_ids)
{
	__u32 stdev, hwpt, idev, dstdev, didev, gone, out;
	__u32 not_stdev[6], not_pt[3], other_kind[4];
	struct ioas_state st;
	unsigned int i;

	MAP_BASE(4 * PS);
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, &hwpt, &idev));
	ASSERT_EQ(0, _mock_group_device(self->fd, 0, 0, &dstdev, &didev));
	gone = GONE_ID(self->fd);
	SET_IDS(not_stdev, 0, gone, 0xffffffff, self->ioas, hwpt, idev);
	SET_IDS(not_pt, 0, gone, 0xffffffff);
	SET_IDS(other_kind, stdev, idev, dstdev, didev);

	SNAP(&st, self->ioas, self->base, hwpt, 0);
	for (i = 0; i < ARRAY_SIZE(not_stdev); i++) {
		__u32 id = not_stdev[i];

		EXPECT_EQ(ENOENT, _device_attach(self->fd, id, self->ioas,
						 &out));
		EXPECT_EQ(ENOENT, _device_attach(self->fd, id, hwpt, &out));
		EXPECT_EQ(ENOENT, _mock_domain_replace(self->fd, id,
						       self->ioas, &out));
		EXPECT_EQ(ENOENT, _device_detach(self->fd, id));
		EXPECT_EQ(ENOENT, _device_info(self->fd, id, NULL));
	}
	__expect_pt_refused(_metadata, self->fd, ENOENT, stdev, dstdev,
			    not_pt, ARRAY_SIZE(not_pt));
	__expect_pt_refused(_metadata, self->fd, EINVAL, stdev, dstdev,
			    other_kind, ARRAY_SIZE(other_kind));
	SAME(&st, self->ioas);
	ATTACHED(stdev, hwpt, 1);
	DETACHED(dstdev);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 1));
	EXPECT_EQ(EBUSY, _destroy(self->fd, hwpt));

	ASSERT_EQ(0, _destroy(self->fd, stdev));
	ASSERT_EQ(0, _destroy(self->fd, dstdev));
	END_CLEAN();
}

/* ---- automatic HWPTs ---- */

TEST_F(dev, auto_domain_reuse)
{
	__u32 d1, d2, n1, n2, m, h1, h2, out, mh;

	MAP_BASE(4 * PS);
	ASSERT_EQ(0, _mock_group_device(self->fd, 0, 0, &d1, NULL));
	ASSERT_EQ(0, _mock_group_device(self->fd, 0, 0, &d2, NULL));
	ASSERT_EQ(0, _mock_group_device(self->fd, 0,
					MOCK_FLAGS_DEVICE_ENFORCE_FAILS, &n1,
					NULL));
	ASSERT_EQ(0, _mock_group_device(self->fd, 0,
					MOCK_FLAGS_DEVICE_ENFORCE_FAILS, &n2,
					NULL));
	/* key 0: a group each */
	EXPECT_NE(GROUP_OF(d1), GROUP_OF(d2));
	EXPECT_NE(GROUP_OF(d1), GROUP_OF(n1));
	EXPECT_NE(GROUP_OF(n1), GROUP_OF(n2));

	ASSERT_EQ(0, _device_attach(self->fd, d1, self->ioas, &h1));
	ATTACHED(d1, h1, 1);
	out = 0;
	ASSERT_EQ(0, _device_attach(self->fd, d2, self->ioas, &out));
	EXPECT_EQ(h1, out);
	ATTACHED(d2, h1, 1);

	/* a device refused by enforcing HWPTs needs one that doesn't */
	ASSERT_EQ(0, _device_attach(self->fd, n1, self->ioas, &h2));
	EXPECT_NE(h1, h2);
	EXPECT_NE(0, h2);
	ATTACHED(n1, h2, 0);
	out = 0;
	ASSERT_EQ(0, _device_attach(self->fd, n2, self->ioas, &out));
	EXPECT_EQ(h2, out);
	ATTACHED(n2, h2, 0);
	EXPECT_EQ(0, _md_check_map(self->fd, h1, self->base, self->buf,
				   4 * PS));
	EXPECT_EQ(0, _md_check_map(self->fd, h2, self->base, self->buf,
				   4 * PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 1));

	/* _mock_domain() (our MOCK_DOMAIN_NEW) never reuses one */
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &m, &mh, NULL));
	EXPECT_NE(h1, mh);
	EXPECT_NE(h2, mh);
	ATTACHED(d1, h1, 1);
	ATTACHED(n1, h2, 0);

	/* an automatic HWPT lives as long as a device is attached to it */
	ASSERT_EQ(0, _device_detach(self->fd, d1));
	EXPECT_EQ(0, _md_check_map(self->fd, h1, self->base, self->buf,
				   4 * PS));
	ATTACHED(d2, h1, 1);
	ASSERT_EQ(0, _device_detach(self->fd, d2));
	EXPECT_EQ(ENOENT, _destroy(self->fd, h1));
	EXPECT_EQ(ENOENT, _md_check_map(self->fd, h1, self->base, self->buf,
					4 * PS));
	ASSERT_EQ(0, _destroy(self->fd, n1));
	EXPECT_EQ(0, _md_check_map(self->fd, h2, self->base, self->buf,
				   4 * PS));
	ATTACHED(n2, h2, 0);
	ASSERT_EQ(0, _device_detach(self->fd, n2));
	EXPECT_EQ(ENOENT, _destroy(self->fd, h2));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 1));
	ASSERT_EQ(0, _destroy(self->fd, m));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	EXPECT_RANGES(self->fd, self->ioas, &full_range, 1, 1);
	ASSERT_EQ(0, _destroy(self->fd, d1));
	ASSERT_EQ(0, _destroy(self->fd, d2));
	ASSERT_EQ(0, _destroy(self->fd, n2));
	END_CLEAN();
}

/* DEVICE_ATTACH to an IOAS reuses the HWPT MOCK_DOMAIN made there */
TEST_F(dev, auto_domain_from_mock_domain)
{
	__u32 stdev, hwpt, d, out;

	MAP_BASE(4 * PS);
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, &hwpt, NULL));
	ASSERT_EQ(0, _mock_group_device(self->fd, 0, 0, &d, NULL));
	out = 0;
	ASSERT_EQ(0, _device_attach(self->fd, d, self->ioas, &out));
	EXPECT_EQ(hwpt, out);
	ATTACHED(d, hwpt, 1);
	EXPECT_EQ(EBUSY, _destroy(self->fd, hwpt));

	/* the HWPT outlives the device MOCK_DOMAIN made it for */
	ASSERT_EQ(0, _destroy(self->fd, stdev));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->base, self->buf,
				   4 * PS));
	EXPECT_EQ(EBUSY, _destroy(self->fd, hwpt));
	ATTACHED(d, hwpt, 1);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 1));

	ASSERT_EQ(0, _device_detach(self->fd, d));
	EXPECT_EQ(ENOENT, _destroy(self->fd, hwpt));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	ASSERT_EQ(0, _destroy(self->fd, d));
	END_CLEAN();
}

/* ---- IOMMU_HWPT_ALLOC ---- */

TEST_F(dev, hwpt_alloc_errors)
{
	static const __u32 bad_flags[] = {
		IOMMU_HWPT_ALLOC_NEST_PARENT, IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
		IOMMU_HWPT_FAULT_ID_VALID, 1 << 3, 1U << 31,
	};
	static const __u32 bad_types[] = {
		IOMMU_HWPT_DATA_VTD_S1, 2, 0xffffffff,
	};
	struct iommu_hwpt_alloc good;
	__u32 stdev, idev, ioas2, other, gone;
	__u32 bad_pt[5], bad_dev[6];
	struct ioas_state st;

	MAP_BASE(4 * PS);
	/* bound, not attached: a HWPT left behind would pin the mapping */
	ASSERT_EQ(0, _mock_group_device(self->fd, 0, 0, &stdev, &idev));
	ASSERT_EQ(0, _ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, _hwpt_alloc(self->fd, idev, ioas2, &other));
	gone = GONE_ID(self->fd);
	/* bad_pt[3..4] exist but are not an IOAS: EINVAL, like a HWPT */
	SET_IDS(bad_pt, 0, gone, 0xffffffff, stdev, idev);
	SET_IDS(bad_dev, 0, gone, 0xffffffff, self->ioas, stdev, other);
	memset(&good, 0, sizeof(good));
	good.size = sizeof(good);
	good.dev_id = idev;
	good.pt_id = self->ioas;

	SNAP(&st, self->ioas, self->base, 0, 0);
	EXPECT_U32_REFUSED_N(EOPNOTSUPP, self->fd, IOMMU_HWPT_ALLOC, good,
			     flags, bad_flags, ARRAY_SIZE(bad_flags));
	EXPECT_U32_REFUSED_N(EOPNOTSUPP, self->fd, IOMMU_HWPT_ALLOC, good,
			     data_type, bad_types, ARRAY_SIZE(bad_types));
	EXPECT_U32_REFUSED(EINVAL, self->fd, IOMMU_HWPT_ALLOC, good,
			   __reserved, 1, 0x80000000);
	EXPECT_U32_REFUSED(EINVAL, self->fd, IOMMU_HWPT_ALLOC, good,
			   __reserved2, 1);
	/* no nesting: a HWPT is not something to allocate on */
	EXPECT_U32_REFUSED(EINVAL, self->fd, IOMMU_HWPT_ALLOC, good, pt_id,
			   other);
	EXPECT_U32_REFUSED_N(ENOENT, self->fd, IOMMU_HWPT_ALLOC, good, pt_id,
			     bad_pt, 3);
	EXPECT_U32_REFUSED_N(EINVAL, self->fd, IOMMU_HWPT_ALLOC, good, pt_id,
			     bad_pt + 3, ARRAY_SIZE(bad_pt) - 3);
	EXPECT_U32_REFUSED_N(ENOENT, self->fd, IOMMU_HWPT_ALLOC, good, dev_id,
			     bad_dev, ARRAY_SIZE(bad_dev));
	SAME(&st, self->ioas);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	DETACHED(stdev);
	/* only one HWPT was ever made: with it gone, both IOASes are free */
	ASSERT_EQ(0, _destroy(self->fd, other));
	EXPECT_EQ(0, _destroy(self->fd, ioas2));
	EXPECT_EQ(0, _destroy(self->fd, self->ioas));
	ASSERT_EQ(0, _destroy(self->fd, stdev));
	BACK_TO_START();
}

TEST_F(dev, hwpt_alloc_size)
{
	struct iommu_hwpt_alloc cmd;
	__u32 stdev, idev;
	struct ioas_state st;

	MAP_BASE(4 * PS);
	ASSERT_EQ(0, _mock_group_device(self->fd, 0, 0, &stdev, &idev));
	memset(&cmd, 0, sizeof(cmd));
	cmd.dev_id = idev;
	cmd.pt_id = self->ioas;

	SNAP(&st, self->ioas, self->base, 0, 0);
	EXPECT_SIZE_REFUSED_OVER(self->fd, IOMMU_HWPT_ALLOC, cmd,
				 HWPT_ALLOC_MIN_SIZE, 1, 8, 64);
	SAME(&st, self->ioas);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));

	/* the first version, and zeros past the end, are fine */
	cmd.out_hwpt_id = 0;
	ASSERT_EQ(0, sized_ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd, sizeof(cmd),
				 HWPT_ALLOC_MIN_SIZE, false));
	EXPECT_NE(0, cmd.out_hwpt_id);
	EXPECT_EQ(0, _md_check_map(self->fd, cmd.out_hwpt_id, self->base,
				   self->buf, 4 * PS));
	EXPECT_EQ(0, _destroy(self->fd, cmd.out_hwpt_id));
	cmd.out_hwpt_id = 0;
	ASSERT_EQ(0, sized_ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd, sizeof(cmd),
				 sizeof(cmd) + 16, false));
	EXPECT_NE(0, cmd.out_hwpt_id);
	EXPECT_EQ(0, _md_check_map(self->fd, cmd.out_hwpt_id, self->base,
				   self->buf, 4 * PS));
	EXPECT_EQ(0, _destroy(self->fd, cmd.out_hwpt_id));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	ASSERT_EQ(0, _destroy(self->fd, stdev));
	END_CLEAN();
}

/* A second HWPT on an IOAS maps everything at once, and pins nothing more */
TEST_F(dev, hwpt_alloc_shares_pins)
{
	struct iommufd_stats s1, s2;
	__u32 stdev, hwpt, idev, user;

	MAP_BASE(8 * PS);
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, &hwpt, &idev));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 1));
	ASSERT_EQ(0, _get_stats(self->fd, &s1));
	EXPECT_EQ(self->start.pinned_pages + 8, s1.pinned_pages);

	user = 0;
	ASSERT_EQ(0, _hwpt_alloc(self->fd, idev, self->ioas, &user));
	EXPECT_NE(0, user);
	EXPECT_NE(hwpt, user);
	EXPECT_NE(stdev, user);
	EXPECT_NE(idev, user);
	EXPECT_NE(self->ioas, user);
	EXPECT_EQ(0, _md_check_map(self->fd, user, self->base, self->buf,
				   8 * PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 1));
	ASSERT_EQ(0, _get_stats(self->fd, &s2));
	ASSERT_STATS_EQUAL(&s1, &s2);
	EXPECT_RANGES(self->fd, self->ioas, &aperture, 1, MOCK_GRAN);
	/* allocating it attached nothing */
	ATTACHED(stdev, hwpt, 1);

	/* it follows the IOAS from now on */
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf + 16 * PS,
				4 * PS, self->base + 16 * PS));
	EXPECT_EQ(0, _md_check_map(self->fd, user, self->base + 16 * PS,
				   self->buf + 16 * PS, 4 * PS));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->base + 16 * PS,
				   self->buf + 16 * PS, 4 * PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf + 16 * PS, 4 * PS, 1));
	ASSERT_EQ(0, _get_stats(self->fd, &s2));
	EXPECT_EQ(s1.pinned_pages + 4, s2.pinned_pages);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, self->base + 16 * PS,
				 4 * PS, NULL));
	EXPECT_EQ(ENOENT, _md_iopte(self->fd, user, self->base + 16 * PS,
				    NULL));
	EXPECT_EQ(ENOENT, _md_iopte(self->fd, hwpt, self->base + 16 * PS,
				    NULL));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf + 16 * PS, 4 * PS, 0));
	ASSERT_EQ(0, _get_stats(self->fd, &s2));
	ASSERT_STATS_EQUAL(&s1, &s2);

	/* never attached: it can go, and the pins stay for the other one */
	ASSERT_EQ(0, _destroy(self->fd, user));
	EXPECT_EQ(ENOENT, _destroy(self->fd, user));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 1));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->base, self->buf,
				   8 * PS));
	ASSERT_EQ(0, _get_stats(self->fd, &s2));
	ASSERT_STATS_EQUAL(&s1, &s2);

	ASSERT_EQ(0, _destroy(self->fd, stdev));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 0));
	END_CLEAN();
}

/* A user HWPT alone on an IOAS holds the pins and restricts the IOVA */
TEST_F(dev, hwpt_alloc_alone)
{
	struct iommufd_stats s0, s1;
	__u32 stdev, idev, u1, u2;

	MAP_BASE(8 * PS);
	ASSERT_EQ(0, _mock_group_device(self->fd, 0, 0, &stdev, &idev));
	ASSERT_EQ(0, _get_stats(self->fd, &s0));

	ASSERT_EQ(0, _hwpt_alloc(self->fd, idev, self->ioas, &u1));
	EXPECT_EQ(0, _md_check_map(self->fd, u1, self->base, self->buf,
				   8 * PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 1));
	ASSERT_EQ(0, _get_stats(self->fd, &s1));
	EXPECT_EQ(s0.pinned_pages + 8, s1.pinned_pages);
	EXPECT_EQ(s0.user_locked_vm + 8, s1.user_locked_vm);
	EXPECT_RANGES(self->fd, self->ioas, &aperture, 1, MOCK_GRAN);
	EXPECT_EQ(EBUSY, _destroy(self->fd, self->ioas));
	DETACHED(stdev);

	ASSERT_EQ(0, _hwpt_alloc(self->fd, idev, self->ioas, &u2));
	EXPECT_NE(u1, u2);
	EXPECT_EQ(0, _md_check_map(self->fd, u2, self->base, self->buf,
				   8 * PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 1));
	ASSERT_EQ(0, _get_stats(self->fd, &s0));
	ASSERT_STATS_EQUAL(&s1, &s0);

	ASSERT_EQ(0, _destroy(self->fd, u1));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 1));
	EXPECT_EQ(0, _md_check_map(self->fd, u2, self->base, self->buf,
				   8 * PS));
	ASSERT_EQ(0, _destroy(self->fd, u2));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 0));
	EXPECT_RANGES(self->fd, self->ioas, &full_range, 1, 1);
	ASSERT_EQ(0, _destroy(self->fd, stdev));
	END_CLEAN();
}

/* user-owned: EBUSY while attached, kept after the last detach */
TEST_F(dev, hwpt_alloc_lifetime)
{
	__u32 stdev, hwpt, idev, user, out;
	struct ioas_state st;

	MAP_BASE(4 * PS);
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, &hwpt, &idev));
	ASSERT_EQ(0, _hwpt_alloc(self->fd, idev, self->ioas, &user));

	out = 0;
	ASSERT_EQ(0, _device_attach(self->fd, stdev, user, &out));
	EXPECT_EQ(user, out);
	/* the automatic HWPT lost its only device */
	EXPECT_EQ(ENOENT, _destroy(self->fd, hwpt));
	ATTACHED(stdev, user, 1);

	SNAP(&st, self->ioas, self->base, user, 0);
	EXPECT_EQ(EBUSY, _destroy(self->fd, user));
	EXPECT_EQ(EBUSY, _destroy(self->fd, self->ioas));
	SAME(&st, self->ioas);
	ATTACHED(stdev, user, 1);

	ASSERT_EQ(0, _device_detach(self->fd, stdev));
	DETACHED(stdev);
	EXPECT_EQ(0, _md_check_map(self->fd, user, self->base, self->buf,
				   4 * PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 1));
	EXPECT_RANGES(self->fd, self->ioas, &aperture, 1, MOCK_GRAN);

	/* and again, attached and detached: still there */
	ASSERT_EQ(0, _device_attach(self->fd, stdev, user, &out));
	EXPECT_EQ(user, out);
	EXPECT_EQ(EBUSY, _destroy(self->fd, user));
	ASSERT_EQ(0, _device_detach(self->fd, stdev));
	EXPECT_EQ(0, _md_check_map(self->fd, user, self->base, self->buf,
				   4 * PS));

	ASSERT_EQ(0, _destroy(self->fd, user));
	EXPECT_EQ(ENOENT, _destroy(self->fd, user));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	EXPECT_RANGES(self->fd, self->ioas, &full_range, 1, 1);
	DETACHED(stdev);
	EXPECT_EQ(0, _destroy(self->fd, self->ioas));
	ASSERT_EQ(0, _destroy(self->fd, stdev));
	BACK_TO_START();
}

/* ---- enforced cache coherency ---- */

TEST_F(dev, coherency)
{
	__u32 stdev, hwpt, idev, s2, ns, ni, ms, mh, user, auto_nc, nc_user;
	__u32 n2, n2i, c3, c3i, h2, h3, out;
	struct ioas_state st;

	MAP_BASE(4 * PS);
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, &hwpt, &idev));
	ATTACHED(stdev, hwpt, 1);
	/* made for a device that can enforce: it does */
	ASSERT_EQ(0, _hwpt_alloc(self->fd, idev, self->ioas, &user));
	ASSERT_EQ(0, _device_attach(self->fd, stdev, user, &out));
	ATTACHED(stdev, user, 1);
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &s2, &hwpt, NULL));
	ATTACHED(s2, hwpt, 1);
	/* its IOMMU claims coherency, but refuses enforcing domains for it */
	ASSERT_EQ(0, _mock_group_device(self->fd, 0,
					MOCK_FLAGS_DEVICE_ENFORCE_FAILS, &ns,
					&ni));

	/* such a device stays out of enforcing HWPTs */
	SNAP(&st, self->ioas, self->base, hwpt, user);
	EXPECT_EQ(EINVAL, _device_attach(self->fd, ns, user, &out));
	EXPECT_EQ(EINVAL, _device_attach(self->fd, ns, hwpt, &out));
	SAME(&st, self->ioas);
	DETACHED(ns);

	/* given the IOAS, it gets a new HWPT that doesn't enforce */
	auto_nc = 0;
	ASSERT_EQ(0, _device_attach(self->fd, ns, self->ioas, &auto_nc));
	EXPECT_NE(0, auto_nc);
	EXPECT_NE(hwpt, auto_nc);
	EXPECT_NE(user, auto_nc);
	ATTACHED(ns, auto_nc, 0);
	EXPECT_EQ(0, _md_check_map(self->fd, auto_nc, self->base, self->buf,
				   4 * PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 1));

	/* moving it to an enforcing HWPT fails and leaves it where it was */
	SNAP(&st, self->ioas, self->base, auto_nc, user);
	EXPECT_EQ(EINVAL, _device_attach(self->fd, ns, user, &out));
	EXPECT_EQ(EINVAL, _device_attach(self->fd, ns, hwpt, &out));
	EXPECT_EQ(EINVAL, _mock_domain_replace(self->fd, ns, user, &out));
	EXPECT_EQ(EINVAL, _mock_domain_replace(self->fd, ns, hwpt, &out));
	SAME(&st, self->ioas);
	ATTACHED(ns, auto_nc, 0);
	ATTACHED(stdev, user, 1);

	/*
	 * A HWPT allocated for it is plain, as its attach taught: a device
	 * that can enforce takes it too, without enforcement.
	 */
	ASSERT_EQ(0, _hwpt_alloc(self->fd, ni, self->ioas, &nc_user));
	ASSERT_EQ(0, _device_attach(self->fd, s2, nc_user, &out));
	ATTACHED(s2, nc_user, 0);

	/*
	 * Devices never attached: HWPT_ALLOC finds out (while their group is
	 * blocked) and makes a HWPT each takes, enforcing where it can.
	 */
	ASSERT_EQ(0, _mock_group_device(self->fd, 0,
					MOCK_FLAGS_DEVICE_ENFORCE_FAILS, &n2,
					&n2i));
	ASSERT_EQ(0, _hwpt_alloc(self->fd, n2i, self->ioas, &h2));
	ASSERT_EQ(0, _device_attach(self->fd, n2, h2, &out));
	ATTACHED(n2, h2, 0);
	ASSERT_EQ(0, _mock_group_device(self->fd, 0, 0, &c3, &c3i));
	ASSERT_EQ(0, _hwpt_alloc(self->fd, c3i, self->ioas, &h3));
	ASSERT_EQ(0, _device_attach(self->fd, c3, h3, &out));
	ATTACHED(c3, h3, 1);
	ASSERT_EQ(0, _destroy(self->fd, n2));
	ASSERT_EQ(0, _destroy(self->fd, c3));
	EXPECT_EQ(0, _destroy(self->fd, h2));
	EXPECT_EQ(0, _destroy(self->fd, h3));

	/* MOCK_DOMAIN_FLAGS with ENFORCE_FAILS: the same rules */
	ASSERT_EQ(0, _mock_domain_flags(self->fd, self->ioas,
					MOCK_FLAGS_DEVICE_ENFORCE_FAILS, &ms,
					&mh, NULL));
	ATTACHED(ms, mh, 0);
	SNAP(&st, self->ioas, self->base, mh, user);
	EXPECT_EQ(EINVAL, _device_attach(self->fd, ms, user, &out));
	EXPECT_EQ(EINVAL, _mock_domain_replace(self->fd, ms, user, &out));
	SAME(&st, self->ioas);
	ATTACHED(ms, mh, 0);
	ASSERT_EQ(0, _mock_domain_replace(self->fd, ms, auto_nc, &out));
	EXPECT_EQ(auto_nc, out);
	ATTACHED(ms, auto_nc, 0);
	EXPECT_EQ(ENOENT, _destroy(self->fd, mh));

	ASSERT_EQ(0, _destroy(self->fd, ms));
	ASSERT_EQ(0, _destroy(self->fd, ns));
	EXPECT_EQ(ENOENT, _destroy(self->fd, auto_nc));
	ASSERT_EQ(0, _destroy(self->fd, stdev));
	ASSERT_EQ(0, _destroy(self->fd, s2));
	EXPECT_EQ(0, _destroy(self->fd, nc_user));
	EXPECT_EQ(0, _destroy(self->fd, user));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	END_CLEAN();
}

/* ---- what bind and attach refuse ---- */

#define UNSAFE_PARAM "/sys/module/iommufd/parameters/allow_unsafe_interrupts"

/* 'Y' or 'N' from the parameter, 0 if it can't be read */
static char read_param(const char *path)
{
	char c = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return 0;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c;
}

static int write_param(const char *path, char c)
{
	int fd = open(path, O_WRONLY);
	int rc;

	if (fd < 0)
		return -1;
	rc = write(fd, &c, 1) == 1 ? 0 : -1;
	close(fd);
	return rc;
}

/* does the kernel log contain @what */
static bool kernel_log_has(const char *what)
{
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	bool found = false;
	char *buf;

	if (len <= 0)
		return false;
	buf = calloc(1, len + 1);
	if (!buf)
		return false;
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	if (len > 0)
		found = strstr(buf, what);
	free(buf);
	return found;
}

/*
 * A device whose MSIs the platform can't isolate (no interrupt remapping)
 * could raise other devices' interrupts by DMA: bind refuses it with EPERM,
 * and says once which module parameter would allow it; with the parameter
 * set it binds. The check is the group's: a device joining a group that
 * has such a device is refused too.
 */
TEST_F(dev, unsafe_msi_eperm)
{
	const __u32 key = 31;
	__u32 stdev, hwpt = 0, d1, d2;
	struct ioas_state st;
	char saved;

	saved = read_param(UNSAFE_PARAM);
	ASSERT_TRUE(saved == 'Y' || saved == 'N');
	ASSERT_EQ(0, write_param(UNSAFE_PARAM, 'N'));
	MAP_BASE(4 * PS);
	SNAP(&st, self->ioas, self->base, 0, 0);
	EXPECT_EQ(EPERM, _mock_domain_flags(self->fd, self->ioas,
					    MOCK_FLAGS_DEVICE_UNSAFE_MSI,
					    &stdev, &hwpt, NULL));
	EXPECT_EQ(EPERM, _mock_group_device(self->fd, 0,
					    MOCK_FLAGS_DEVICE_UNSAFE_MSI,
					    &stdev, NULL));
	SAME(&st, self->ioas);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	EXPECT_TRUE(kernel_log_has("allow_unsafe_interrupts"));

	/* a safe device in the group first: the unsafe one still can't join */
	ASSERT_EQ(0, _mock_group_device(self->fd, key, 0, &d1, NULL));
	EXPECT_EQ(EPERM, _mock_group_device(self->fd, key,
					    MOCK_FLAGS_DEVICE_UNSAFE_MSI,
					    &d2, NULL));
	/* the refused device left the group: a safe one can join */
	ASSERT_EQ(0, _mock_group_device(self->fd, key, 0, &d2, NULL));
	EXPECT_EQ(GROUP_OF(d1), GROUP_OF(d2));
	ASSERT_EQ(0, _destroy(self->fd, d2));
	ASSERT_EQ(0, _destroy(self->fd, d1));

	/* the administrator may allow it */
	ASSERT_EQ(0, write_param(UNSAFE_PARAM, 'Y'));
	stdev = 0;
	EXPECT_EQ(0, _mock_domain_flags(self->fd, self->ioas,
					MOCK_FLAGS_DEVICE_UNSAFE_MSI, &stdev,
					&hwpt, NULL));
	ASSERT_EQ(0, write_param(UNSAFE_PARAM, saved));
	ASSERT_NE(0, stdev);
	ATTACHED(stdev, hwpt, 1);
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->base, self->buf,
				   4 * PS));
	ASSERT_EQ(0, _destroy(self->fd, stdev));
	END_CLEAN();
}

/*
 * Devices of two IOMMU drivers (the mock's two) on one IOAS get a HWPT of
 * their own driver each: a domain is never attached to a device of another
 * driver (EINVAL), whether given as a HWPT or found by automatic attach,
 * and nothing changes on the refusal.
 */
TEST_F(dev, other_iommu_driver_einval)
{
	__u32 a, ha, ia, b, hb, ib, c, hc, d, hd, ua, ub, out;
	struct ioas_state st;

	MAP_BASE(4 * PS);
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &a, &ha, &ia));
	ASSERT_EQ(0, _mock_domain_flags(self->fd, self->ioas,
					MOCK_FLAGS_DEVICE_LATE_IOMMU, &b, &hb,
					&ib));
	EXPECT_NE(ha, hb);
	ASSERT_EQ(0, _hwpt_alloc(self->fd, ia, self->ioas, &ua));
	ASSERT_EQ(0, _hwpt_alloc(self->fd, ib, self->ioas, &ub));

	SNAP(&st, self->ioas, self->base, ha, hb);
	EXPECT_EQ(EINVAL, _device_attach(self->fd, a, hb, &out));
	EXPECT_EQ(EINVAL, _device_attach(self->fd, a, ub, &out));
	EXPECT_EQ(EINVAL, _mock_domain_replace(self->fd, a, hb, &out));
	EXPECT_EQ(EINVAL, _device_attach(self->fd, b, ha, &out));
	EXPECT_EQ(EINVAL, _device_attach(self->fd, b, ua, &out));
	EXPECT_EQ(EINVAL, _mock_domain_replace(self->fd, b, ha, &out));
	SAME(&st, self->ioas);
	ATTACHED(a, ha, 1);
	ATTACHED(b, hb, 1);

	/* a device not attached yet is refused the same way */
	ASSERT_EQ(0, _mock_group_device(self->fd, 0, 0, &c, NULL));
	ASSERT_EQ(0, _mock_group_device(self->fd, 0,
					MOCK_FLAGS_DEVICE_LATE_IOMMU, &d,
					NULL));
	EXPECT_EQ(EINVAL, _device_attach(self->fd, c, ub, &out));
	EXPECT_EQ(EINVAL, _device_attach(self->fd, d, ua, &out));
	DETACHED(c);
	DETACHED(d);

	/* given the IOAS, each reuses the automatic HWPT of its own driver */
	ASSERT_EQ(0, _device_attach(self->fd, c, self->ioas, &hc));
	EXPECT_EQ(ha, hc);
	ASSERT_EQ(0, _device_attach(self->fd, d, self->ioas, &hd));
	EXPECT_EQ(hb, hd);
	/* and the HWPTs of its own driver take it */
	ASSERT_EQ(0, _device_attach(self->fd, c, ua, &out));
	ASSERT_EQ(0, _device_attach(self->fd, d, ub, &out));
	EXPECT_EQ(0, _md_check_map(self->fd, ub, self->base, self->buf,
				   4 * PS));

	ASSERT_EQ(0, _destroy(self->fd, c));
	ASSERT_EQ(0, _destroy(self->fd, d));
	ASSERT_EQ(0, _destroy(self->fd, a));
	ASSERT_EQ(0, _destroy(self->fd, b));
	ASSERT_EQ(0, _destroy(self->fd, ua));
	ASSERT_EQ(0, _destroy(self->fd, ub));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	END_CLEAN();
}

/*
 * A domain that does not suit a device is EINVAL whatever errno the IOMMU
 * driver gives: QEMU tries its next HWPT on EINVAL only. A NARROW device's
 * IOMMU refuses a domain mapping above MOCK_NARROW_TOP with -EFAULT, as
 * 6.1's VT-d does for a unit narrower than the domain's mappings; an
 * ENFORCE_FAILS device's refuses enforcing domains with -EOPNOTSUPP (see
 * coherency). Nothing changes, and given the IOAS the device gets an
 * automatic HWPT past the one that refused it.
 */
TEST_F(dev, incompatible_domain_einval)
{
	__u64 high = MOCK_NARROW_TOP;
	struct ioas_state st;
	__u32 a, ha, n, hn, out;

	MAP_BASE(4 * PS);
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &a, &ha, NULL));
	ASSERT_EQ(0, _mock_group_device(self->fd, 0, MOCK_FLAGS_DEVICE_NARROW,
					&n, NULL));
	/* below the top the narrow device shares the HWPT */
	ASSERT_EQ(0, _device_attach(self->fd, n, ha, &out));
	ATTACHED(n, ha, 1);
	ASSERT_EQ(0, _device_detach(self->fd, n));
	DETACHED(n);

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf + 8 * PS, PS,
				high));
	EXPECT_EQ(0, _md_check_map(self->fd, ha, high, self->buf + 8 * PS, PS));
	SNAP(&st, self->ioas, self->base, ha, 0);
	EXPECT_EQ(EINVAL, _device_attach(self->fd, n, ha, &out));
	EXPECT_EQ(EINVAL, _mock_domain_replace(self->fd, n, ha, &out));
	SAME(&st, self->ioas);
	DETACHED(n);
	ATTACHED(a, ha, 1);

	/* the IOAS: past the refusing HWPT to a new one, of the same maps */
	hn = 0;
	ASSERT_EQ(0, _device_attach(self->fd, n, self->ioas, &hn));
	EXPECT_NE(0, hn);
	EXPECT_NE(ha, hn);
	ATTACHED(n, hn, 1);
	EXPECT_EQ(0, _md_check_map(self->fd, hn, self->base, self->buf,
				   4 * PS));
	EXPECT_EQ(0, _md_check_map(self->fd, hn, high, self->buf + 8 * PS, PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 1));

	ASSERT_EQ(0, _destroy(self->fd, n));
	ASSERT_EQ(0, _destroy(self->fd, a));
	EXPECT_EQ(0, _ioas_unmap(self->fd, self->ioas, high, PS, NULL));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	END_CLEAN();
}

/*
 * MOCK_FLAGS_DEVICE_WIDE_APERTURE (for make bench): only a domain of the
 * second driver, finalised by that device's attach, gets the wide
 * aperture; the flag alone is EINVAL and leaves nothing behind. Above the
 * usual aperture the wide domain maps what the IOAS maps.
 */
TEST_F(dev, wide_aperture)
{
	const struct iommu_iova_range wide = {
		APERTURE_START, (__u64)MOCK_WIDE_APERTURE_LAST
	};
	const __u64 high = 1ULL << 36;
	struct iommufd_stats s0, s1;
	__u32 stdev, hwpt, idev;
	struct mock_iopte pte;

	ASSERT_EQ(0, _get_stats(self->fd, &s0));
	EXPECT_EQ(EINVAL, _mock_domain_flags(self->fd, self->ioas,
					     MOCK_FLAGS_DEVICE_WIDE_APERTURE,
					     &stdev, &hwpt, &idev));
	ASSERT_EQ(0, _get_stats(self->fd, &s1));
	EXPECT_EQ(s0.pages_objects, s1.pages_objects);
	RANGES(self->ioas, &full_range, 1, 1);

	ASSERT_EQ(0, _mock_domain_flags(self->fd, self->ioas,
					MOCK_FLAGS_DEVICE_LATE_IOMMU |
					MOCK_FLAGS_DEVICE_WIDE_APERTURE,
					&stdev, &hwpt, &idev));
	RANGES(self->ioas, &wide, 1, MOCK_GRAN);
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 4 * PS, high));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, high, self->buf, 4 * PS));
	ASSERT_EQ(0, _md_iopte(self->fd, hwpt, high + PS, &pte));
	EXPECT_NE(0, pte.phys);
	EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, self->buf, PS,
				     (__u64)MOCK_WIDE_APERTURE_LAST + 1));
	EXPECT_EQ(0, _ioas_unmap(self->fd, self->ioas, high, 4 * PS, NULL));
	EXPECT_EQ(ENOENT, _md_iopte(self->fd, hwpt, high, NULL));
	ASSERT_EQ(0, _destroy(self->fd, stdev));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	END_CLEAN();
}

/*
 * The second mock driver finalises a domain (aperture, page sizes) only
 * when the first device attaches, and refuses to map before, like 6.1's
 * arm-smmu-v3; and like 6.1's VT-d its new domain reports a provisional,
 * wider aperture, so no geometry tells that it is not final yet.
 * Attaching such a device to an IOAS that has mappings already works: the
 * domain is attached empty, then filled, and the IOAS reports the
 * domain's aperture. A HWPT_ALLOC for it joins the IOAS at its
 * first attach; before, it changes nothing of the IOAS. Replacing into a
 * new such domain works the same way.
 */
TEST_F(dev, late_iommu_attach_mapped)
{
	__u32 stdev, hwpt, idev, user, d, out, ioas2;
	struct iommufd_stats s0, s1;

	MAP_BASE(4 * PS);
	RANGES(self->ioas, &full_range, 1, 1);
	ASSERT_EQ(0, _mock_domain_flags(self->fd, self->ioas,
					MOCK_FLAGS_DEVICE_LATE_IOMMU, &stdev,
					&hwpt, &idev));
	ATTACHED(stdev, hwpt, 1);
	RANGES(self->ioas, &aperture, 1, MOCK_GRAN);
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->base, self->buf,
				   4 * PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 1));

	/* a HWPT for it on a second IOAS: nothing happens until an attach */
	ASSERT_EQ(0, _ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, _map_fixed(self->fd, ioas2, self->buf + 4 * PS, 4 * PS,
				self->base));
	ASSERT_EQ(0, _get_stats(self->fd, &s0));
	ASSERT_EQ(0, _hwpt_alloc(self->fd, idev, ioas2, &user));
	ASSERT_EQ(0, _get_stats(self->fd, &s1));
	EXPECT_EQ(s0.pinned_pages, s1.pinned_pages);
	RANGES(ioas2, &full_range, 1, 1);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf + 4 * PS, 4 * PS, 0));

	/* the first attach finalises, then fills it */
	ASSERT_EQ(0, _mock_group_device(self->fd, 0,
					MOCK_FLAGS_DEVICE_LATE_IOMMU, &d,
					NULL));
	ASSERT_EQ(0, _device_attach(self->fd, d, user, &out));
	EXPECT_EQ(user, out);
	ATTACHED(d, user, 1);
	RANGES(ioas2, &aperture, 1, MOCK_GRAN);
	EXPECT_EQ(0, _md_check_map(self->fd, user, self->base,
				   self->buf + 4 * PS, 4 * PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf + 4 * PS, 4 * PS, 1));

	/* replace into a new automatic one of ioas2: attached, then filled */
	ASSERT_EQ(0, _device_attach(self->fd, stdev, ioas2, &out));
	EXPECT_NE(hwpt, out);
	EXPECT_NE(user, out);
	EXPECT_EQ(0, _md_check_map(self->fd, out, self->base,
				   self->buf + 4 * PS, 4 * PS));
	EXPECT_EQ(ENOENT, _destroy(self->fd, hwpt));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	/* the first IOAS has no domain left */
	RANGES(self->ioas, &full_range, 1, 1);
	RANGES(ioas2, &aperture, 1, MOCK_GRAN);

	ASSERT_EQ(0, _destroy(self->fd, stdev));
	ASSERT_EQ(0, _destroy(self->fd, d));
	ASSERT_EQ(0, _destroy(self->fd, user));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 0));
	ASSERT_EQ(0, _destroy(self->fd, ioas2));
	END_CLEAN();
}

/* ---- reserved IOVA of a device ---- */

TEST_F(dev, resv_ranges)
{
	const struct iommu_iova_range over = {
		RESV_START - PS, RESV_START + PS - 1
	};
	__u32 rs, hwpt, stdev, out;

	ASSERT_EQ(0, _mock_group_device(self->fd, 0, MOCK_FLAGS_DEVICE_RESV,
					&rs, NULL));
	/* bound only: nothing reserved yet */
	RANGES(self->ioas, &full_range, 1, 1);

	ASSERT_EQ(0, _device_attach(self->fd, rs, self->ioas, &hwpt));
	ATTACHED(rs, hwpt, 1);
	RANGES(self->ioas, resv_split, 2, MOCK_GRAN);
	EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, self->buf, PS,
				     RESV_START));
	EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, self->buf, PS,
				     RESV_LAST + 1 - PS));
	/* ALLOW_IOVAS can't claim it either */
	EXPECT_EQ(EADDRINUSE, _allow_iovas(self->fd, self->ioas, &over, 1));
	EXPECT_EQ(0, _allow_iovas(self->fd, self->ioas, &resv_split[1], 1));
	EXPECT_EQ(0, _allow_iovas(self->fd, self->ioas, NULL, 0));

	ASSERT_EQ(0, _device_detach(self->fd, rs));
	RANGES(self->ioas, &full_range, 1, 1);
	/* the region is usable again */
	EXPECT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, PS,
				RESV_START));
	EXPECT_EQ(0, _ioas_unmap(self->fd, self->ioas, RESV_START, PS, NULL));
	EXPECT_EQ(0, _allow_iovas(self->fd, self->ioas, &over, 1));
	EXPECT_EQ(0, _allow_iovas(self->fd, self->ioas, NULL, 0));

	/* beside a device without reserved IOVA, on the same IOAS */
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, NULL, NULL));
	RANGES(self->ioas, &aperture, 1, MOCK_GRAN);
	ASSERT_EQ(0, _device_attach(self->fd, rs, self->ioas, &out));
	RANGES(self->ioas, resv_split, 2, MOCK_GRAN);
	ASSERT_EQ(0, _device_detach(self->fd, rs));
	RANGES(self->ioas, &aperture, 1, MOCK_GRAN);
	ASSERT_EQ(0, _device_attach(self->fd, rs, self->ioas, &out));
	RANGES(self->ioas, resv_split, 2, MOCK_GRAN);
	/* destroying the device drops its reservation too */
	ASSERT_EQ(0, _destroy(self->fd, rs));
	RANGES(self->ioas, &aperture, 1, MOCK_GRAN);
	ASSERT_EQ(0, _destroy(self->fd, stdev));
	RANGES(self->ioas, &full_range, 1, 1);
	END_CLEAN();
}

/* no RESV mock domain can go on the IOAS: its region is in use */
#define RESV_DOMAIN_REFUSED()						\
	EXPECT_EQ(EADDRINUSE, _mock_domain_flags(self->fd, self->ioas,	\
						 MOCK_FLAGS_DEVICE_RESV, \
						 NULL, NULL, NULL))

/* A mapping in the device's reserved IOVA keeps the device out */
TEST_F(dev, resv_mapping_eaddrinuse)
{
	const __u64 straddle = RESV_LAST + 1 - PS;
	__u32 rs, stdev, hwpt, idev, user, out;
	struct ioas_state st;

	ASSERT_EQ(0, _mock_group_device(self->fd, 0, MOCK_FLAGS_DEVICE_RESV,
					&rs, NULL));
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 2 * PS,
				RESV_START));

	/* no HWPT on the IOAS yet */
	SNAP(&st, self->ioas, RESV_START, 0, 0);
	EXPECT_EQ(EADDRINUSE, _device_attach(self->fd, rs, self->ioas, &out));
	RESV_DOMAIN_REFUSED();
	SAME(&st, self->ioas);
	DETACHED(rs);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 2 * PS, 0));

	/* with HWPTs there, whichever the device is given */
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, &hwpt, &idev));
	ASSERT_EQ(0, _hwpt_alloc(self->fd, idev, self->ioas, &user));
	SNAP(&st, self->ioas, RESV_START, hwpt, user);
	EXPECT_EQ(EADDRINUSE, _device_attach(self->fd, rs, self->ioas, &out));
	EXPECT_EQ(EADDRINUSE, _device_attach(self->fd, rs, hwpt, &out));
	EXPECT_EQ(EADDRINUSE, _device_attach(self->fd, rs, user, &out));
	RESV_DOMAIN_REFUSED();
	SAME(&st, self->ioas);
	DETACHED(rs);
	ATTACHED(stdev, hwpt, 1);
	EXPECT_EQ(0, _md_check_map(self->fd, user, RESV_START, self->buf,
				   2 * PS));

	/* only the last page of the region */
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 2 * PS,
				straddle));
	SNAP(&st, self->ioas, straddle, hwpt, user);
	EXPECT_EQ(EADDRINUSE, _device_attach(self->fd, rs, self->ioas, &out));
	EXPECT_EQ(EADDRINUSE, _device_attach(self->fd, rs, user, &out));
	SAME(&st, self->ioas);
	DETACHED(rs);

	/* with the region empty it goes in */
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));
	ASSERT_EQ(0, _device_attach(self->fd, rs, user, &out));
	EXPECT_EQ(user, out);
	ATTACHED(rs, user, 1);
	RANGES(self->ioas, resv_split, 2, MOCK_GRAN);
	ASSERT_EQ(0, _destroy(self->fd, rs));
	RANGES(self->ioas, &aperture, 1, MOCK_GRAN);
	ASSERT_EQ(0, _destroy(self->fd, stdev));
	ASSERT_EQ(0, _destroy(self->fd, user));
	END_CLEAN();
}

/* An allowed range over the reserved IOVA keeps the device out, and back */
TEST_F(dev, resv_allowed_eaddrinuse)
{
	const struct iommu_iova_range over_start = {
		RESV_START - PS, RESV_START + PS - 1
	};
	const struct iommu_iova_range over_end = {
		RESV_LAST + 1 - PS, RESV_LAST + PS
	};
	const struct iommu_iova_range beside = {
		RESV_LAST + 1, RESV_LAST + 16 * PS
	};
	__u32 rs, out;
	struct ioas_state st;

	ASSERT_EQ(0, _mock_group_device(self->fd, 0, MOCK_FLAGS_DEVICE_RESV,
					&rs, NULL));
	MAP_BASE(4 * PS);

	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, &over_start, 1));
	SNAP(&st, self->ioas, self->base, 0, 0);
	EXPECT_EQ(EADDRINUSE, _device_attach(self->fd, rs, self->ioas, &out));
	RESV_DOMAIN_REFUSED();
	SAME(&st, self->ioas);
	DETACHED(rs);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	/* the allowed list is still in force */
	EXPECT_EQ(EADDRINUSE, _add_reserved(self->fd, self->ioas, RESV_START,
					    PS));

	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, &over_end, 1));
	SNAP(&st, self->ioas, self->base, 0, 0);
	EXPECT_EQ(EADDRINUSE, _device_attach(self->fd, rs, self->ioas, &out));
	SAME(&st, self->ioas);
	DETACHED(rs);

	/* next to the region is fine */
	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, &beside, 1));
	ASSERT_EQ(0, _device_attach(self->fd, rs, self->ioas, &out));
	RANGES(self->ioas, resv_split, 2, MOCK_GRAN);
	EXPECT_EQ(0, _md_check_map(self->fd, out, self->base, self->buf,
				   4 * PS));

	/* and the other way round: the attached device's region is taken */
	SNAP(&st, self->ioas, self->base, out, 0);
	EXPECT_EQ(EADDRINUSE, _allow_iovas(self->fd, self->ioas, &over_start,
					   1));
	EXPECT_EQ(EADDRINUSE, _allow_iovas(self->fd, self->ioas, &over_end,
					   1));
	SAME(&st, self->ioas);
	/* the old list stayed */
	EXPECT_EQ(EADDRINUSE, _add_reserved(self->fd, self->ioas,
					    RESV_LAST + 1, PS));

	ASSERT_EQ(0, _device_detach(self->fd, rs));
	EXPECT_EQ(0, _allow_iovas(self->fd, self->ioas, &over_start, 1));
	EXPECT_EQ(0, _allow_iovas(self->fd, self->ioas, NULL, 0));
	ASSERT_EQ(0, _destroy(self->fd, rs));
	END_CLEAN();
}

/* ---- iommu_groups ---- */

TEST_F(dev, group_ids)
{
	__u32 a1, a2, a3, b1, z1, z2, m;

	ASSERT_EQ(0, _mock_group_device(self->fd, group_key(1), 0, &a1, NULL));
	ASSERT_EQ(0, _mock_group_device(self->fd, group_key(1), 0, &a2, NULL));
	ASSERT_EQ(0, _mock_group_device(self->fd, group_key(1),
					MOCK_FLAGS_DEVICE_NO_DIRTY, &a3, NULL));
	ASSERT_EQ(0, _mock_group_device(self->fd, group_key(2), 0, &b1, NULL));
	ASSERT_EQ(0, _mock_group_device(self->fd, 0, 0, &z1, NULL));
	ASSERT_EQ(0, _mock_group_device(self->fd, 0, 0, &z2, NULL));
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &m, NULL, NULL));
	EXPECT_NE(a1, a2);
	EXPECT_EQ(GROUP_OF(a1), GROUP_OF(a2));
	EXPECT_EQ(GROUP_OF(a1), GROUP_OF(a3));
	EXPECT_NE(GROUP_OF(a1), GROUP_OF(b1));
	EXPECT_NE(GROUP_OF(a1), GROUP_OF(z1));
	EXPECT_NE(GROUP_OF(b1), GROUP_OF(z1));
	EXPECT_NE(GROUP_OF(z1), GROUP_OF(z2));
	EXPECT_NE(GROUP_OF(m), GROUP_OF(a1));
	EXPECT_NE(GROUP_OF(m), GROUP_OF(b1));
	EXPECT_NE(GROUP_OF(m), GROUP_OF(z1));
	EXPECT_NE(GROUP_OF(m), GROUP_OF(z2));
	DETACHED(a1);
	DETACHED(b1);

	/* one device gone: the rest of its group stays together */
	ASSERT_EQ(0, _destroy(self->fd, a2));
	EXPECT_EQ(GROUP_OF(a1), GROUP_OF(a3));
	EXPECT_NE(GROUP_OF(a1), GROUP_OF(b1));

	ASSERT_EQ(0, _destroy(self->fd, a1));
	ASSERT_EQ(0, _destroy(self->fd, a3));
	ASSERT_EQ(0, _destroy(self->fd, b1));
	ASSERT_EQ(0, _destroy(self->fd, z1));
	ASSERT_EQ(0, _destroy(self->fd, z2));
	ASSERT_EQ(0, _destroy(self->fd, m));
	EXPECT_EQ(0, _destroy(self->fd, self->ioas));
	/* the file holds nothing any more */
	EXPECT_EQ(0, _option_set(self->fd, IOMMU_OPTION_RLIMIT_MODE, 0, 0));
}

/* The attached devices of one group share one HWPT */
TEST_F(dev, group_same_hwpt)
{
	__u32 a1, a2, ia1, ioas2, h, user, out;
	struct ioas_state st, st2;

	MAP_BASE(4 * PS);
	ASSERT_EQ(0, _ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, _map_fixed(self->fd, ioas2, self->buf + 8 * PS, 4 * PS,
				self->base));
	ASSERT_EQ(0, _mock_group_device(self->fd, group_key(1), 0, &a1,
					&ia1));
	ASSERT_EQ(0, _mock_group_device(self->fd, group_key(1), 0, &a2, NULL));
	ASSERT_EQ(GROUP_OF(a1), GROUP_OF(a2));

	ASSERT_EQ(0, _device_attach(self->fd, a1, self->ioas, &h));
	out = 0;
	ASSERT_EQ(0, _device_attach(self->fd, a2, self->ioas, &out));
	EXPECT_EQ(h, out);
	ATTACHED(a1, h, 1);
	ATTACHED(a2, h, 1);
	ASSERT_EQ(0, _hwpt_alloc(self->fd, ia1, self->ioas, &user));

	/* neither can move on its own */
	SNAP(&st, self->ioas, self->base, h, user);
	SNAP(&st2, ioas2, self->base, 0, 0);
	EXPECT_EQ(EINVAL, _device_attach(self->fd, a2, user, &out));
	EXPECT_EQ(EINVAL, _device_attach(self->fd, a2, ioas2, &out));
	EXPECT_EQ(EINVAL, _mock_domain_replace(self->fd, a2, user, &out));
	EXPECT_EQ(EINVAL, _mock_domain_replace(self->fd, a2, ioas2, &out));
	EXPECT_EQ(EINVAL, _device_attach(self->fd, a1, user, &out));
	EXPECT_EQ(EINVAL, _device_attach(self->fd, a1, ioas2, &out));
	SAME(&st, self->ioas);
	SAME(&st2, ioas2);
	ATTACHED(a1, h, 1);
	ATTACHED(a2, h, 1);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf + 8 * PS, 4 * PS, 0));

	/* a detached member can only join the HWPT the group uses */
	ASSERT_EQ(0, _device_detach(self->fd, a2));
	ATTACHED(a1, h, 1);
	SNAP(&st, self->ioas, self->base, h, user);
	SNAP(&st2, ioas2, self->base, 0, 0);
	EXPECT_EQ(EINVAL, _device_attach(self->fd, a2, user, &out));
	EXPECT_EQ(EINVAL, _device_attach(self->fd, a2, ioas2, &out));
	SAME(&st, self->ioas);
	SAME(&st2, ioas2);
	DETACHED(a2);
	out = 0;
	ASSERT_EQ(0, _device_attach(self->fd, a2, h, &out));
	EXPECT_EQ(h, out);
	ATTACHED(a2, h, 1);

	/* alone in the group's attachments, a device may move */
	ASSERT_EQ(0, _device_detach(self->fd, a2));
	ASSERT_EQ(0, _device_attach(self->fd, a1, user, &out));
	EXPECT_EQ(user, out);
	EXPECT_EQ(ENOENT, _destroy(self->fd, h));
	ASSERT_EQ(0, _device_attach(self->fd, a2, user, &out));
	EXPECT_EQ(user, out);
	ATTACHED(a1, user, 1);
	ATTACHED(a2, user, 1);

	/* and all of them together, one after the other */
	ASSERT_EQ(0, _device_detach(self->fd, a1));
	ASSERT_EQ(0, _device_detach(self->fd, a2));
	ASSERT_EQ(0, _device_attach(self->fd, a1, ioas2, &h));
	ASSERT_EQ(0, _device_attach(self->fd, a2, ioas2, &out));
	EXPECT_EQ(h, out);
	EXPECT_EQ(0, _md_check_map(self->fd, h, self->base, self->buf + 8 * PS,
				   4 * PS));

	ASSERT_EQ(0, _destroy(self->fd, a1));
	ATTACHED(a2, h, 1);
	ASSERT_EQ(0, _destroy(self->fd, a2));
	EXPECT_EQ(ENOENT, _destroy(self->fd, h));
	EXPECT_EQ(0, _destroy(self->fd, user));
	EXPECT_EQ(0, _destroy(self->fd, ioas2));
	END_CLEAN();
}

/* A group bound to one file can't be bound to another */
TEST_F(dev, group_other_file_ebusy)
{
	const __u32 key = group_key(1);
	struct iommufd_stats s0, s1;
	__u32 a1, a2, h, t1, t2, t3, x, g1, g2;
	struct ioas_state st;
	int fd2;

	MAP_BASE(4 * PS);
	ASSERT_EQ(0, _mock_group_device(self->fd, key, 0, &a1, NULL));
	ASSERT_EQ(0, _mock_group_device(self->fd, key, 0, &a2, NULL));
	ASSERT_EQ(0, _device_attach(self->fd, a1, self->ioas, &h));
	fd2 = iommufd_open();
	ASSERT_LE(0, fd2);

	SNAP(&st, self->ioas, self->base, h, 0);
	ASSERT_EQ(0, _get_stats(fd2, &s0));
	EXPECT_EQ(EBUSY, _mock_group_device(fd2, key, 0, &x, NULL));
	EXPECT_EQ(EBUSY, _mock_group_device(fd2, key,
					    MOCK_FLAGS_DEVICE_NO_DIRTY,
					    &x, NULL));
	EXPECT_EQ(EBUSY, _mock_group_device(fd2, key, MOCK_FLAGS_DEVICE_RESV,
					    &x, NULL));
	ASSERT_EQ(0, _get_stats(fd2, &s1));
	ASSERT_STATS_EQUAL(&s0, &s1);
	/* nothing was left in fd2: it has no object at all */
	EXPECT_EQ(0, _option_set(fd2, IOMMU_OPTION_RLIMIT_MODE, 0, 0));
	SAME(&st, self->ioas);
	ATTACHED(a1, h, 1);
	DETACHED(a2);
	EXPECT_EQ(GROUP_OF(a1), GROUP_OF(a2));

	/* one device of the group left in this file is enough */
	ASSERT_EQ(0, _destroy(self->fd, a2));
	EXPECT_EQ(EBUSY, _mock_group_device(fd2, key, 0, &x, NULL));
	EXPECT_EQ(0, _option_set(fd2, IOMMU_OPTION_RLIMIT_MODE, 0, 0));
	ATTACHED(a1, h, 1);

	/* unbound everywhere here: fd2 may have it, several devices even */
	ASSERT_EQ(0, _destroy(self->fd, a1));
	EXPECT_EQ(ENOENT, _destroy(self->fd, h));
	ASSERT_EQ(0, _mock_group_device(fd2, key, 0, &t1, NULL));
	ASSERT_EQ(0, _mock_group_device(fd2, key, 0, &t2, NULL));
	g1 = __group_of(_metadata, fd2, t1);
	g2 = __group_of(_metadata, fd2, t2);
	EXPECT_EQ(g1, g2);
	/* and now this file is the other one */
	SNAP(&st, self->ioas, self->base, 0, 0);
	EXPECT_EQ(EBUSY, _mock_group_device(self->fd, key, 0, &x, NULL));
	SAME(&st, self->ioas);

	/* closing fd2 releases the group */
	close(fd2);
	ASSERT_EQ(0, _mock_group_device(self->fd, key, 0, &t3, NULL));
	DETACHED(t3);
	ASSERT_EQ(0, _destroy(self->fd, t3));
	END_CLEAN();
}

/* Closing a file with bound and attached group devices releases the group */
TEST_F(dev, group_close_releases)
{
	const __u32 key = group_key(1);
	__u32 ioas, a1, a2, a3, ia1, h, user, t;
	struct iommufd_stats s0, s1;
	int fd2;

	ASSERT_EQ(0, _get_stats(self->fd, &s0));
	fd2 = iommufd_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, _ioas_alloc(fd2, &ioas));
	ASSERT_EQ(0, _map_fixed(fd2, ioas, self->buf, 8 * PS, self->base));
	ASSERT_EQ(0, _mock_group_device(fd2, key, 0, &a1, &ia1));
	ASSERT_EQ(0, _mock_group_device(fd2, key, 0, &a2, NULL));
	ASSERT_EQ(0, _mock_group_device(fd2, key, 0, &a3, NULL));
	ASSERT_EQ(0, _device_attach(fd2, a1, ioas, &h));
	ASSERT_EQ(0, _device_attach(fd2, a2, ioas, &h));
	ASSERT_EQ(0, _hwpt_alloc(fd2, ia1, ioas, &user));
	ASSERT_EQ(0, _mock_domain(fd2, ioas, NULL, NULL, NULL));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 1));
	EXPECT_EQ(EBUSY, _mock_group_device(self->fd, key, 0, &t, NULL));

	/* no DESTROY, no DETACH: close alone */
	close(fd2);
	ASSERT_EQ(0, _get_stats(self->fd, &s1));
	ASSERT_STATS_EQUAL(&s0, &s1);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 0));
	ASSERT_EQ(0, _mock_group_device(self->fd, key, 0, &t, NULL));
	ASSERT_EQ(0, _device_attach(self->fd, t, self->ioas, &h));
	ATTACHED(t, h, 1);
	ASSERT_EQ(0, _destroy(self->fd, t));
	END_CLEAN();
}

/* ---- IOMMU_GET_HW_INFO ---- */

#define HW_INFO_LEN ((__u32)sizeof(struct iommu_test_hw_info))

TEST_F(dev, hw_info_data_len)
{
	struct iommu_test_hw_info expect = {
		.flags = 0,
		.test_reg = IOMMU_HW_INFO_SELFTEST_REGVAL,
	};
	union {
		unsigned char c[128];
		__u64 align;
	} buf;
	static const __u32 bigger[] = { 9, 12, 16, 64, 100 };
	struct iommu_hw_info out;
	__u32 stdev, idev, gstdev, gidev;
	unsigned int i;

	ASSERT_EQ(8, HW_INFO_LEN);
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, NULL, &idev));
	ASSERT_EQ(0, _mock_group_device(self->fd, 0, 0, &gstdev, &gidev));

	/* exactly the size of the data */
	memset(&buf, 0x5a, sizeof(buf));
	ASSERT_EQ(0, _get_hw_info(self->fd, idev, buf.c, HW_INFO_LEN, &out));
	EXPECT_EQ(HW_INFO_LEN, out.data_len);
	EXPECT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, out.out_data_type);
	EXPECT_EQ(0, out.out_capabilities);
	EXPECT_EQ(0, out.out_max_pasid_log2);
	EXPECT_EQ(0, memcmp(buf.c, &expect, sizeof(expect)));
	EXPECT_EQ(0, bytes_not(buf.c, HW_INFO_LEN, sizeof(buf), 0x5a));

	/* a device that isn't attached has the same IOMMU */
	memset(&buf, 0x5a, sizeof(buf));
	ASSERT_EQ(0, _get_hw_info(self->fd, gidev, buf.c, HW_INFO_LEN, &out));
	EXPECT_EQ(HW_INFO_LEN, out.data_len);
	EXPECT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, out.out_data_type);
	EXPECT_EQ(0, memcmp(buf.c, &expect, sizeof(expect)));
	EXPECT_EQ(0, bytes_not(buf.c, HW_INFO_LEN, sizeof(buf), 0x5a));

	/* 0: only the type and the length come back */
	memset(&buf, 0x5a, sizeof(buf));
	ASSERT_EQ(0, _get_hw_info(self->fd, idev, buf.c, 0, &out));
	EXPECT_EQ(HW_INFO_LEN, out.data_len);
	EXPECT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, out.out_data_type);
	EXPECT_EQ(0, out.out_capabilities);
	EXPECT_EQ(0, out.out_max_pasid_log2);
	EXPECT_EQ(0, bytes_not(buf.c, 0, sizeof(buf), 0x5a));
	/* so no buffer is needed */
	ASSERT_EQ(0, _get_hw_info(self->fd, idev, NULL, 0, &out));
	EXPECT_EQ(HW_INFO_LEN, out.data_len);
	EXPECT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, out.out_data_type);

	/* shorter: truncated, nothing written past it */
	memset(&buf, 0x5a, sizeof(buf));
	ASSERT_EQ(0, _get_hw_info(self->fd, idev, buf.c, 4, &out));
	EXPECT_EQ(HW_INFO_LEN, out.data_len);
	EXPECT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, out.out_data_type);
	EXPECT_EQ(0, memcmp(buf.c, &expect, 4));
	EXPECT_EQ(0, bytes_not(buf.c, 4, sizeof(buf), 0x5a));
	memset(&buf, 0x5a, sizeof(buf));
	ASSERT_EQ(0, _get_hw_info(self->fd, idev, buf.c, 6, &out));
	EXPECT_EQ(HW_INFO_LEN, out.data_len);
	EXPECT_EQ(0, memcmp(buf.c, &expect, 6));
	EXPECT_EQ(0, bytes_not(buf.c, 6, sizeof(buf), 0x5a));

	/* longer: the data, then zeros up to data_len, and nothing past it */
	for (i = 0; i < ARRAY_SIZE(bigger); i++) {
		memset(&buf, 0x5a, sizeof(buf));
		ASSERT_EQ(0, _get_hw_info(self->fd, idev, buf.c, bigger[i],
					  &out));
		EXPECT_EQ(HW_INFO_LEN, out.data_len);
		EXPECT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, out.out_data_type);
		EXPECT_EQ(0, memcmp(buf.c, &expect, sizeof(expect)));
		EXPECT_EQ(0, bytes_not(buf.c, HW_INFO_LEN, bigger[i], 0));
		EXPECT_EQ(0, bytes_not(buf.c, bigger[i], sizeof(buf), 0x5a)) {
			TH_LOG("data_len %u", bigger[i]);
		}
	}

	ASSERT_EQ(0, _destroy(self->fd, stdev));
	ASSERT_EQ(0, _destroy(self->fd, gstdev));
	EXPECT_EQ(ENOENT, _get_hw_info(self->fd, gidev, buf.c, HW_INFO_LEN,
				       NULL));
}

TEST_F(dev, hw_info_errors)
{
	static const __u32 bad_flags[] = { 1, 2, 1U << 31 };
	union {
		unsigned char c[64];
		__u64 align;
	} buf;
	__u32 stdev, hwpt, idev, gone, bad_dev[6];
	struct iommu_hw_info good, cmd;
	unsigned int i;

	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, &hwpt, &idev));
	gone = GONE_ID(self->fd);
	SET_IDS(bad_dev, 0, gone, 0xffffffff, self->ioas, stdev, hwpt);
	memset(&good, 0, sizeof(good));
	good.size = sizeof(good);
	good.dev_id = idev;
	good.data_len = sizeof(buf);
	good.data_uptr = (uintptr_t)buf.c;

	memset(&buf, 0x5a, sizeof(buf));
	EXPECT_U32_REFUSED_N(EOPNOTSUPP, self->fd, IOMMU_GET_HW_INFO, good,
			     flags, bad_flags, ARRAY_SIZE(bad_flags));
	for (i = 0; i < ARRAY_SIZE(cmd.__reserved); i++) {
		cmd = good;
		cmd.__reserved[i] = 1;
		EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, IOMMU_GET_HW_INFO,
						&cmd));
		cmd.__reserved[i] = 0x80;
		EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, IOMMU_GET_HW_INFO,
						&cmd));
	}
	EXPECT_U32_REFUSED_N(ENOENT, self->fd, IOMMU_GET_HW_INFO, good,
			     dev_id, bad_dev, ARRAY_SIZE(bad_dev));
	/* nothing was written by any of them */
	EXPECT_EQ(0, bytes_not(buf.c, 0, sizeof(buf), 0x5a));

	cmd = good;
	ASSERT_EQ(0, iommufd_ioctl(self->fd, IOMMU_GET_HW_INFO, &cmd));
	EXPECT_EQ(IOMMU_HW_INFO_SELFTEST_REGVAL,
		  ((struct iommu_test_hw_info *)buf.c)->test_reg);
	ASSERT_EQ(0, _destroy(self->fd, stdev));
}

TEST_F(dev, hw_info_size)
{
	struct iommu_test_hw_info expect = {
		.test_reg = IOMMU_HW_INFO_SELFTEST_REGVAL,
	};
	union {
		unsigned char c[32];
		__u64 align;
	} buf;
	struct iommu_hw_info cmd;
	__u32 stdev, idev;

	ASSERT_EQ(32, HW_INFO_MIN_SIZE);
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, NULL, &idev));
	memset(&cmd, 0, sizeof(cmd));
	cmd.dev_id = idev;
	cmd.data_len = HW_INFO_LEN;
	cmd.data_uptr = (uintptr_t)buf.c;

	memset(&buf, 0x5a, sizeof(buf));
	EXPECT_SIZE_REFUSED_OVER(self->fd, IOMMU_GET_HW_INFO, cmd,
				 HW_INFO_MIN_SIZE, 1, 8, 64);
	EXPECT_EQ(0, bytes_not(buf.c, 0, sizeof(buf), 0x5a));

	/* the first version, without out_capabilities */
	cmd.out_data_type = 0;
	ASSERT_EQ(0, sized_ioctl(self->fd, IOMMU_GET_HW_INFO, &cmd,
				 sizeof(cmd), HW_INFO_MIN_SIZE, false));
	EXPECT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, cmd.out_data_type);
	EXPECT_EQ(HW_INFO_LEN, cmd.data_len);
	EXPECT_EQ(0, memcmp(buf.c, &expect, sizeof(expect)));
	EXPECT_EQ(0, bytes_not(buf.c, HW_INFO_LEN, sizeof(buf), 0x5a));

	/* zeros past the end are fine */
	memset(&buf, 0x5a, sizeof(buf));
	cmd.data_len = HW_INFO_LEN;
	cmd.out_data_type = 0;
	ASSERT_EQ(0, sized_ioctl(self->fd, IOMMU_GET_HW_INFO, &cmd,
				 sizeof(cmd), sizeof(cmd) + 16, false));
	EXPECT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, cmd.out_data_type);
	EXPECT_EQ(HW_INFO_LEN, cmd.data_len);
	EXPECT_EQ(0, cmd.out_capabilities);
	EXPECT_EQ(0, memcmp(buf.c, &expect, sizeof(expect)));
	EXPECT_EQ(0, bytes_not(buf.c, HW_INFO_LEN, sizeof(buf), 0x5a));
	ASSERT_EQ(0, _destroy(self->fd, stdev));
}

/* ---- closing the file ---- */

TEST(close_releases_devices)
{
	const __u32 key = group_key(3);
	struct iommufd_stats s0, st;
	__u32 ioas, ioas2, idev, a1, h, user, t;
	unsigned char *buf;
	int fd, fd2;

	buf = alloc_buffer(16 * PS, 43);
	ASSERT_NE(NULL, buf);
	fd2 = OPEN_STATS_BASELINE(&s0);

	fd = OPEN_TWO_IOAS(&ioas, &ioas2);
	ASSERT_EQ(0, _map_fixed(fd, ioas, buf, 8 * PS, APERTURE_START));
	ASSERT_EQ(0, _map_fixed(fd, ioas2, buf + 8 * PS, 8 * PS,
				APERTURE_START));
	ASSERT_EQ(0, _mock_domain(fd, ioas, NULL, NULL, &idev));
	ASSERT_EQ(0, _mock_domain_flags(fd, ioas,
					MOCK_FLAGS_DEVICE_ENFORCE_FAILS |
					MOCK_FLAGS_DEVICE_RESV, NULL, NULL,
					NULL));
	ASSERT_EQ(0, _hwpt_alloc(fd, idev, ioas2, &user));
	ASSERT_EQ(0, _mock_group_device(fd, key, 0, &a1, NULL));
	ASSERT_EQ(0, _mock_group_device(fd, key, 0, NULL, NULL));
	ASSERT_EQ(0, _device_attach(fd, a1, user, &h));
	ASSERT_EQ(0, _mock_group_device(fd, 0, MOCK_FLAGS_DEVICE_RESV, &t,
					NULL));
	ASSERT_EQ(0, _device_attach(fd, t, ioas2, &h));
	ASSERT_EQ(0, _get_stats(fd2, &st));
	EXPECT_EQ(s0.pinned_pages + 16, st.pinned_pages);

	CLOSE_TO_BASELINE(fd, fd2, &s0);
	EXPECT_EQ(0, _md_check_refs(fd2, buf, 16 * PS, 0));
	/* the group is free for another file */
	ASSERT_EQ(0, _mock_group_device(fd2, key, 0, &t, NULL));
	ASSERT_EQ(0, _destroy(fd2, t));
	close(fd2);
	munmap(buf, 16 * PS);
}

/* ====================================================================== */
/*
 * Replacing the HWPT of an attached device, by MOCK_DOMAIN_REPLACE or by
 * DEVICE_ATTACH (which replaces when the device is attached): two IOASes,
 * with the same IOVA mapped to different memory in each.
 */

FIXTURE(replace) {
	int fd;
	__u32 ioas;
	__u32 ioas2;
	unsigned char *buf;
	size_t buf_size;
	unsigned char *buf2;	/* what ioas2 maps, inside buf */
	__u64 base;
	struct iommufd_stats start;
};

FIXTURE_VARIANT(replace) {
	__u32 op;
};

FIXTURE_VARIANT_ADD(replace, mock_domain_replace) {
	.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
};

FIXTURE_VARIANT_ADD(replace, device_attach) {
	.op = IOMMU_TEST_OP_DEVICE_ATTACH,
};

FIXTURE_SETUP(replace)
{
	self->buf = __setup_ioas(_metadata, &self->fd, &self->ioas, 0, NULL,
				 NULL, DEV_PAGES, 47);
	self->buf_size = DEV_PAGES * PS;
	self->buf2 = self->buf + DEV_PAGES / 2 * PS;
	self->base = APERTURE_START;
	ASSERT_EQ(0, _get_stats(self->fd, &self->start));
	ASSERT_EQ(0, _ioas_alloc(self->fd, &self->ioas2));
	MAP_BASE(8 * PS);
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas2, self->buf2, 8 * PS,
				self->base));
}

FIXTURE_TEARDOWN(replace)
{
	close(self->fd);
	munmap(self->buf, self->buf_size);
}

/* move the attached device of @stdev to @pt_id the variant's way */
#define MOVE(stdev, pt_id, out) \
	_stdev_pt_op(self->fd, variant->op, stdev, pt_id, out)

/* [base, base + 8 pages) of @hwpt maps ioas' memory (1) or ioas2's (2) */
#define MAPS_IOAS1(hwpt) \
	_md_check_map(self->fd, hwpt, self->base, self->buf, 8 * PS)
#define MAPS_IOAS2(hwpt) \
	_md_check_map(self->fd, hwpt, self->base, self->buf2, 8 * PS)

/* the two IOASes hold all the state there is: no HWPT, nothing pinned */
#define IDLE_AGAIN()							\
	do {								\
		EXPECT_EQ(0, _md_check_refs(self->fd, self->buf,	\
					    self->buf_size, 0));	\
		EXPECT_EQ(0, _destroy(self->fd, self->ioas2));		\
		EXPECT_EQ(0, _destroy(self->fd, self->ioas));		\
		BACK_TO_START();					\
	} while (0)

TEST_F(replace, same_ioas)
{
	__u32 stdev, hwpt, idev, user, again, out;

	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, &hwpt, &idev));
	ASSERT_EQ(0, _hwpt_alloc(self->fd, idev, self->ioas, &user));
	EXPECT_NE(hwpt, user);

	/* automatic -> user: the automatic one goes */
	out = 0;
	ASSERT_EQ(0, MOVE(stdev, user, &out));
	EXPECT_EQ(user, out);
	EXPECT_EQ(ENOENT, _destroy(self->fd, hwpt));
	ATTACHED(stdev, user, 1);
	EXPECT_EQ(0, MAPS_IOAS1(user));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 1));
	EXPECT_EQ(EBUSY, _destroy(self->fd, user));
	RANGES(self->ioas, &aperture, 1, MOCK_GRAN);

	/* to where it is already: nothing happens */
	out = 0;
	ASSERT_EQ(0, MOVE(stdev, user, &out));
	EXPECT_EQ(user, out);
	ATTACHED(stdev, user, 1);
	EXPECT_EQ(0, MAPS_IOAS1(user));

	/* user -> the IOAS: a new automatic HWPT, the user one stays */
	again = 0;
	ASSERT_EQ(0, MOVE(stdev, self->ioas, &again));
	EXPECT_NE(0, again);
	EXPECT_NE(user, again);
	EXPECT_NE(self->ioas, again);
	ATTACHED(stdev, again, 1);
	EXPECT_EQ(0, MAPS_IOAS1(again));
	EXPECT_EQ(0, MAPS_IOAS1(user));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 1));

	/* the IOAS again: the automatic HWPT it is on is the one to use */
	out = 0;
	ASSERT_EQ(0, MOVE(stdev, self->ioas, &out));
	EXPECT_EQ(again, out);
	ATTACHED(stdev, again, 1);

	EXPECT_EQ(0, _destroy(self->fd, user));
	EXPECT_EQ(ENOENT, _md_check_map(self->fd, user, self->base, self->buf,
					8 * PS));
	EXPECT_EQ(0, MAPS_IOAS1(again));
	ASSERT_EQ(0, _destroy(self->fd, stdev));
	EXPECT_EQ(ENOENT, _destroy(self->fd, again));
	IDLE_AGAIN();
}

TEST_F(replace, two_ioas)
{
	__u32 stdev, hwpt, idev, b, user, out;

	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, &hwpt, &idev));
	EXPECT_EQ(0, MAPS_IOAS1(hwpt));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 1));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf2, 8 * PS, 0));

	/* to the other IOAS: a new HWPT mapping its memory at once */
	b = 0;
	ASSERT_EQ(0, MOVE(stdev, self->ioas2, &b));
	EXPECT_EQ(ENOENT, _destroy(self->fd, hwpt));
	EXPECT_NE(0, b);
	EXPECT_NE(hwpt, b);
	EXPECT_NE(self->ioas2, b);
	ATTACHED(stdev, b, 1);
	EXPECT_EQ(0, MAPS_IOAS2(b));
	EXPECT_EQ(EINVAL, MAPS_IOAS1(b));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf2, 8 * PS, 1));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 0));
	/* the old IOAS kept its mapping, and nothing restricts it any more */
	EXPECT_EQ(0, _probe_mapped(self->fd, self->ioas, self->base, 8 * PS));
	RANGES(self->ioas, &full_range, 1, 1);
	RANGES(self->ioas2, &aperture, 1, MOCK_GRAN);
	EXPECT_EQ(EBUSY, _destroy(self->fd, self->ioas2));

	/* back, to a user HWPT of the first IOAS */
	ASSERT_EQ(0, _hwpt_alloc(self->fd, idev, self->ioas, &user));
	EXPECT_EQ(0, MAPS_IOAS1(user));
	out = 0;
	ASSERT_EQ(0, MOVE(stdev, user, &out));
	EXPECT_EQ(user, out);
	EXPECT_EQ(ENOENT, _destroy(self->fd, b));
	ATTACHED(stdev, user, 1);
	EXPECT_EQ(0, MAPS_IOAS1(user));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf2, 8 * PS, 0));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 1));
	EXPECT_EQ(0, _probe_mapped(self->fd, self->ioas2, self->base, 8 * PS));
	RANGES(self->ioas2, &full_range, 1, 1);

	/* the new HWPT follows its IOAS, the other IOAS is not involved */
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf + 8 * PS,
				2 * PS, self->base + 8 * PS));
	EXPECT_EQ(0, _md_check_map(self->fd, user, self->base + 8 * PS,
				   self->buf + 8 * PS, 2 * PS));
	EXPECT_EQ(ENOENT, _probe_mapped(self->fd, self->ioas2,
					self->base + 8 * PS, 2 * PS));

	ASSERT_EQ(0, _destroy(self->fd, stdev));
	EXPECT_EQ(0, _destroy(self->fd, user));
	IDLE_AGAIN();
}

TEST_F(replace, failures_keep_old)
{
	__u32 stdev, hwpt, idev, stdev2, gone, out;
	__u32 bad_pt[3], other_kind[3], bad_dev[5];
	struct ioas_state st, st2;
	unsigned int i;

	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, &hwpt, &idev));
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas2, &stdev2, NULL, NULL));
	gone = GONE_ID(self->fd);
	SET_IDS(bad_pt, 0, gone, 0xffffffff);
	SET_IDS(other_kind, stdev, idev, stdev2);
	SET_IDS(bad_dev, 0, gone, self->ioas, hwpt, idev);

	SNAP(&st, self->ioas, self->base, hwpt, 0);
	for (i = 0; i < ARRAY_SIZE(bad_pt); i++) {
		EXPECT_EQ(ENOENT, MOVE(stdev, bad_pt[i], &out)) {
			TH_LOG("pt_id %u", bad_pt[i]);
		}
	}
	for (i = 0; i < ARRAY_SIZE(other_kind); i++) {
		EXPECT_EQ(EINVAL, MOVE(stdev, other_kind[i], &out)) {
			TH_LOG("pt_id %u", other_kind[i]);
		}
	}
	for (i = 0; i < ARRAY_SIZE(bad_dev); i++) {
		EXPECT_EQ(ENOENT, MOVE(bad_dev[i], self->ioas2, &out)) {
			TH_LOG("id %u", bad_dev[i]);
		}
	}
	SAME(&st, self->ioas);
	ATTACHED(stdev, hwpt, 1);
	EXPECT_EQ(0, MAPS_IOAS1(hwpt));
	EXPECT_EQ(EBUSY, _destroy(self->fd, hwpt));

	/* a detached device: only DEVICE_ATTACH attaches it */
	ASSERT_EQ(0, _device_detach(self->fd, stdev));
	EXPECT_EQ(ENOENT, _destroy(self->fd, hwpt));
	SNAP(&st, self->ioas, self->base, 0, 0);
	SNAP(&st2, self->ioas2, self->base, 0, 0);
	if (variant->op == IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE) {
		EXPECT_EQ(EINVAL, MOVE(stdev, self->ioas, &out));
		EXPECT_EQ(EINVAL, MOVE(stdev, self->ioas2, &out));
		SAME(&st, self->ioas);
		SAME(&st2, self->ioas2);
		DETACHED(stdev);
		ASSERT_EQ(0, _device_attach(self->fd, stdev, self->ioas,
					    &hwpt));
	} else {
		ASSERT_EQ(0, MOVE(stdev, self->ioas, &hwpt));
	}
	ATTACHED(stdev, hwpt, 1);
	EXPECT_EQ(0, MAPS_IOAS1(hwpt));

	ASSERT_EQ(0, _destroy(self->fd, stdev));
	ASSERT_EQ(0, _destroy(self->fd, stdev2));
	IDLE_AGAIN();
}

/* The reserved IOVA of a device moves with it */
TEST_F(replace, resv_moves)
{
	__u32 stdev, hwpt, idev, b, ns, ni, user, out;
	struct ioas_state st, st2;

	ASSERT_EQ(0, _mock_domain_flags(self->fd, self->ioas,
					MOCK_FLAGS_DEVICE_RESV, &stdev, &hwpt,
					&idev));
	RANGES(self->ioas, resv_split, 2, MOCK_GRAN);
	RANGES(self->ioas2, &full_range, 1, 1);

	ASSERT_EQ(0, MOVE(stdev, self->ioas2, &b));
	EXPECT_EQ(ENOENT, _destroy(self->fd, hwpt));
	ATTACHED(stdev, b, 1);
	EXPECT_EQ(0, MAPS_IOAS2(b));
	RANGES(self->ioas, &full_range, 1, 1);
	RANGES(self->ioas2, resv_split, 2, MOCK_GRAN);

	/* a mapping where it would go keeps it where it is */
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, PS,
				RESV_START + 4 * PS));
	ASSERT_EQ(0, _mock_group_device(self->fd, 0, 0, &ns, &ni));
	ASSERT_EQ(0, _hwpt_alloc(self->fd, ni, self->ioas, &user));
	SNAP(&st, self->ioas, RESV_START, user, 0);
	SNAP(&st2, self->ioas2, self->base, b, 0);
	EXPECT_EQ(EADDRINUSE, MOVE(stdev, self->ioas, &out));
	EXPECT_EQ(EADDRINUSE, MOVE(stdev, user, &out));
	SAME(&st, self->ioas);
	SAME(&st2, self->ioas2);
	ATTACHED(stdev, b, 1);
	EXPECT_EQ(0, MAPS_IOAS2(b));

	/* with it gone, the device moves, and its reservation with it */
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, RESV_START + 4 * PS,
				 PS, NULL));
	out = 0;
	ASSERT_EQ(0, MOVE(stdev, user, &out));
	EXPECT_EQ(user, out);
	EXPECT_EQ(ENOENT, _destroy(self->fd, b));
	ATTACHED(stdev, user, 1);
	RANGES(self->ioas, resv_split, 2, MOCK_GRAN);
	RANGES(self->ioas2, &full_range, 1, 1);
	EXPECT_EQ(0, MAPS_IOAS1(user));

	/* between two HWPTs of one IOAS it stays reserved */
	ASSERT_EQ(0, MOVE(stdev, self->ioas, &out));
	EXPECT_NE(user, out);
	ATTACHED(stdev, out, 1);
	RANGES(self->ioas, resv_split, 2, MOCK_GRAN);
	EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, self->buf, PS,
				     RESV_START));

	ASSERT_EQ(0, _destroy(self->fd, stdev));
	RANGES(self->ioas, &aperture, 1, MOCK_GRAN);
	EXPECT_EQ(0, _destroy(self->fd, user));
	RANGES(self->ioas, &full_range, 1, 1);
	ASSERT_EQ(0, _destroy(self->fd, ns));
	IDLE_AGAIN();
}

/* A group's attached devices move together or not at all */
TEST_F(replace, group_rules)
{
	__u32 a1, a2, ia1, h, user, out;
	struct ioas_state st, st2;

	ASSERT_EQ(0, _mock_group_device(self->fd, group_key(1), 0, &a1,
					&ia1));
	ASSERT_EQ(0, _mock_group_device(self->fd, group_key(1), 0, &a2, NULL));
	ASSERT_EQ(0, _device_attach(self->fd, a1, self->ioas, &h));
	ASSERT_EQ(0, _device_attach(self->fd, a2, self->ioas, &out));
	ASSERT_EQ(h, out);
	ASSERT_EQ(0, _hwpt_alloc(self->fd, ia1, self->ioas, &user));

	SNAP(&st, self->ioas, self->base, h, user);
	SNAP(&st2, self->ioas2, self->base, 0, 0);
	EXPECT_EQ(EINVAL, MOVE(a1, user, &out));
	EXPECT_EQ(EINVAL, MOVE(a2, user, &out));
	EXPECT_EQ(EINVAL, MOVE(a1, self->ioas2, &out));
	EXPECT_EQ(EINVAL, MOVE(a2, self->ioas2, &out));
	SAME(&st, self->ioas);
	SAME(&st2, self->ioas2);
	ATTACHED(a1, h, 1);
	ATTACHED(a2, h, 1);
	EXPECT_EQ(0, MAPS_IOAS1(h));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf2, 8 * PS, 0));

	/* the HWPT they are on is fine */
	out = 0;
	ASSERT_EQ(0, MOVE(a2, h, &out));
	EXPECT_EQ(h, out);
	ATTACHED(a1, h, 1);
	ATTACHED(a2, h, 1);

	ASSERT_EQ(0, _destroy(self->fd, a1));
	ATTACHED(a2, h, 1);
	ASSERT_EQ(0, _destroy(self->fd, a2));
	EXPECT_EQ(ENOENT, _destroy(self->fd, h));
	EXPECT_EQ(0, _destroy(self->fd, user));
	IDLE_AGAIN();
}

TEST_HARNESS_MAIN
