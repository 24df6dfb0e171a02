// SPDX-License-Identifier: GPL-2.0-only
/*
 * kselftests for VFIO's type1 container ioctls on a /dev/iommu file:
 * IOMMU_VFIO_IOAS (which IOAS they act on, and what happens when it goes
 * away), GET_API_VERSION and CHECK_EXTENSION, SET_IOMMU for TYPE1 and
 * TYPE1v2, IOMMU_GET_INFO with its capability chain, MAP_DMA and
 * UNMAP_DMA with their errors, and the two unmap semantics: v1 takes any
 * page-aligned part of a mapping, v2 whole mappings only. Every refused
 * call is checked to leave pins, pages and areas as they were. The
 * container's page size with and without a domain, and ranges that wrap
 * past the top of the address space. Then the same on /dev/vfio/vfio when
 * iommufd serves it (IOMMUFD_VFIO_CONTAINER), how such a file charges
 * pinned memory, and that IOMMU_TEST_CMD is not there for just anyone
 * who opens it.
 *
 * Needs a kernel built with CONFIG_IOMMUFD_TEST, and root.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/vfio.h>

#include "iommufd_utils.h"

/* the offset of the byte after @member of @type */
#define END_OF(type, member)						\
	(offsetof(type, member) + sizeof(((type *)0)->member))

/* pages of memory the fixture maps */
#define COMPAT_PAGES 8

/* ---------------------------------------------------------------------- */
/* the VFIO ioctls, errno-returning like the others */

static int _vfio_ioas(int fd, __u16 op, __u32 *ioas)
{
	struct iommu_vfio_ioas cmd = {
		.size = sizeof(cmd),
		.op = op,
		.ioas_id = *ioas,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_VFIO_IOAS, &cmd);
	if (!rc)
		*ioas = cmd.ioas_id;
	return rc;
}

static int _vfio_set_ioas(int fd, __u32 ioas)
{
	return _vfio_ioas(fd, IOMMU_VFIO_IOAS_SET, &ioas);
}

/* the number an ioctl with an integer argument returns, or -errno */
static int vfio_int_ioctl(int fd, unsigned long nr, unsigned long arg)
{
	int rc = ioctl(fd, nr, arg);

	return rc < 0 ? -errno : rc;
}

static int _vfio_map(int fd, __u32 flags, const void *va, __u64 iova,
		     __u64 size)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = flags,
		.vaddr = (uintptr_t)va,
		.iova = iova,
		.size = size,
	};

	return iommufd_ioctl(fd, VFIO_IOMMU_MAP_DMA, &map);
}

#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

/* *@size: in, the size to unmap; out, the size unmapped */
static int _vfio_unmap(int fd, __u32 flags, __u64 iova, __u64 *size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.flags = flags,
		.iova = iova,
		.size = *size,
	};
	int rc;

	rc = iommufd_ioctl(fd, VFIO_IOMMU_UNMAP_DMA, &unmap);
	if (!rc)
		*size = unmap.size;
	return rc;
}

/* UNMAP_DMA of exactly @size at @iova, which must all be unmapped */
#define UNMAP_OK(iova, size)						\
	do {								\
		__u64 __size = (size);					\
									\
		ASSERT_EQ(0, _vfio_unmap(self->fd, 0, iova, &__size));	\
		ASSERT_EQ((__u64)(size), __size);			\
	} while (0)

/* ---------------------------------------------------------------------- */
/* without a fixture */

/* IOMMU_VFIO_IOAS: GET, SET, CLEAR and their errors */
TEST(vfio_ioas_ops)
{
	struct iommu_vfio_ioas cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_VFIO_IOAS_GET,
	};
	__u32 ioas, ioas2, stdev, hwpt, id;
	int fd = OPEN_IOMMUFD();

	id = 0;
	EXPECT_EQ(ENODEV, _vfio_ioas(fd, IOMMU_VFIO_IOAS_GET, &id));
	EXPECT_EQ(ENOENT, _vfio_set_ioas(fd, 0));
	EXPECT_EQ(ENOENT, _vfio_set_ioas(fd, 12345));
	ASSERT_EQ(0, _ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, _ioas_alloc(fd, &ioas2));
	ASSERT_EQ(0, _mock_domain(fd, ioas, &stdev, &hwpt, NULL));
	/* a HWPT or a device is no IOAS */
	EXPECT_EQ(ENOENT, _vfio_set_ioas(fd, hwpt));
	EXPECT_EQ(ENOENT, _vfio_set_ioas(fd, stdev));
	id = 0;
	EXPECT_EQ(ENODEV, _vfio_ioas(fd, IOMMU_VFIO_IOAS_GET, &id));

	/* reserved bits and unknown operations */
	cmd.op = IOMMU_VFIO_IOAS_SET;
	cmd.ioas_id = ioas;
	cmd.__reserved = 1;
	EXPECT_EQ(EOPNOTSUPP, iommufd_ioctl(fd, IOMMU_VFIO_IOAS, &cmd));
	cmd.__reserved = 0;
	cmd.op = IOMMU_VFIO_IOAS_CLEAR + 1;
	EXPECT_EQ(EOPNOTSUPP, iommufd_ioctl(fd, IOMMU_VFIO_IOAS, &cmd));
	cmd.op = 0xffff;
	EXPECT_EQ(EOPNOTSUPP, iommufd_ioctl(fd, IOMMU_VFIO_IOAS, &cmd));
	id = 0;
	EXPECT_EQ(ENODEV, _vfio_ioas(fd, IOMMU_VFIO_IOAS_GET, &id));

	ASSERT_EQ(0, _vfio_set_ioas(fd, ioas));
	id = 0;
	ASSERT_EQ(0, _vfio_ioas(fd, IOMMU_VFIO_IOAS_GET, &id));
	EXPECT_EQ(ioas, id);
	/* SET again moves it; a failed SET leaves it */
	ASSERT_EQ(0, _vfio_set_ioas(fd, ioas2));
	EXPECT_EQ(ENOENT, _vfio_set_ioas(fd, hwpt));
	ASSERT_EQ(0, _vfio_ioas(fd, IOMMU_VFIO_IOAS_GET, &id));
	EXPECT_EQ(ioas2, id);
	/* it holds no user: the IOAS is destroyed as usual */
	ASSERT_EQ(0, _vfio_ioas(fd, IOMMU_VFIO_IOAS_CLEAR, &id));
	EXPECT_EQ(ENODEV, _vfio_ioas(fd, IOMMU_VFIO_IOAS_GET, &id));
	ASSERT_EQ(0, _vfio_ioas(fd, IOMMU_VFIO_IOAS_CLEAR, &id));
	/* CLEAR destroyed nothing */
	ASSERT_EQ(0, _vfio_set_ioas(fd, ioas2));
	ASSERT_EQ(0, _destroy(fd, stdev));
	close(fd);
}

/*
 * Destroying the compatibility IOAS leaves the file without one, even
 * when a new IOAS gets the old ID; the container ioctls then fail with
 * ENODEV and do nothing.
 */
TEST(vfio_ioas_destroyed)
{
	struct iommufd_stats before, now;
	__u32 ioas, ioas2, id;
	__u64 size = PS;
	void *buf;
	int fd;

	fd = OPEN_IOMMUFD();
	buf = alloc_buffer(PS, 3);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, _get_stats(fd, &before));
	ASSERT_EQ(0, _ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, _vfio_set_ioas(fd, ioas));
	ASSERT_EQ(0, vfio_int_ioctl(fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, _vfio_map(fd, RW, buf, APERTURE_START, PS));
	/* the mapping is the IOAS's own */
	ASSERT_EQ(0, _get_stats(fd, &now));
	EXPECT_EQ(before.areas + 1, now.areas);
	EXPECT_EQ(ENOENT, _ioas_unmap(fd, ioas, APERTURE_START, PS / 2,
				      NULL));
	ASSERT_EQ(0, _destroy(fd, ioas));
	ASSERT_EQ(0, _get_stats(fd, &now));
	ASSERT_STATS_EQUAL(&before, &now);

	id = 0;
	EXPECT_EQ(ENODEV, _vfio_ioas(fd, IOMMU_VFIO_IOAS_GET, &id));
	ASSERT_EQ(0, _ioas_alloc(fd, &ioas2));
	TH_LOG("old ID %u, new ID %u", ioas, ioas2);
	EXPECT_EQ(ENODEV, _vfio_ioas(fd, IOMMU_VFIO_IOAS_GET, &id));
	EXPECT_EQ(-ENODEV, vfio_int_ioctl(fd, VFIO_SET_IOMMU,
					  VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(ENODEV, _vfio_map(fd, RW, buf, APERTURE_START, PS));
	EXPECT_EQ(ENODEV, _vfio_unmap(fd, 0, APERTURE_START, &size));
	EXPECT_EQ(ENODEV, _vfio_unmap(fd, VFIO_DMA_UNMAP_FLAG_ALL, 0,
				      &(__u64){ 0 }));
	ASSERT_EQ(0, _get_stats(fd, &now));
	ASSERT_STATS_EQUAL(&before, &now);
	close(fd);
	munmap(buf, PS);
}

/* what is and isn't offered, without any IOAS */
TEST(vfio_extensions)
{
	static const struct {
		unsigned long ext;
		int has;
	} exts[] = {
		{ VFIO_TYPE1_IOMMU, 1 },
		{ VFIO_TYPE1v2_IOMMU, 1 },
		{ VFIO_UNMAP_ALL, 1 },
		{ VFIO_DMA_CC_IOMMU, 1 },
		{ VFIO_SPAPR_TCE_IOMMU, 0 },
		{ VFIO_EEH, 0 },
		{ VFIO_TYPE1_NESTING_IOMMU, 0 },
		{ VFIO_SPAPR_TCE_v2_IOMMU, 0 },
		{ VFIO_NOIOMMU_IOMMU, 0 },
		{ VFIO_UPDATE_VADDR, 0 },
		{ 0, 0 },
		{ 1000, 0 },
		{ ~0UL, 0 },
	};
	int fd = OPEN_IOMMUFD();
	unsigned int i;

	EXPECT_EQ(VFIO_API_VERSION, vfio_int_ioctl(fd, VFIO_GET_API_VERSION,
						   0));
	for (i = 0; i < ARRAY_SIZE(exts); i++) {
		EXPECT_EQ(exts[i].has, vfio_int_ioctl(fd, VFIO_CHECK_EXTENSION,
						      exts[i].ext)) {
			TH_LOG("extension %lu", exts[i].ext);
		}
	}
	/* the group and device ioctls are not a container's */
	EXPECT_EQ(-ENOTTY, vfio_int_ioctl(fd, VFIO_GROUP_GET_STATUS, 0));
	EXPECT_EQ(-ENOTTY, vfio_int_ioctl(fd, VFIO_DEVICE_GET_INFO, 0));
	EXPECT_EQ(-ENOTTY, vfio_int_ioctl(fd, _IO(VFIO_TYPE, VFIO_BASE + 27),
					  0));
	/* no compatibility IOAS: nothing to set or report */
	EXPECT_EQ(-ENODEV, vfio_int_ioctl(fd, VFIO_SET_IOMMU,
					  VFIO_TYPE1_IOMMU));
	close(fd);
}

/*
 * /dev/vfio/vfio served by iommufd (IOMMUFD_VFIO_CONTAINER): VFIO's node,
 * but its files are iommufds that charge pinned pages to the mm's
 * locked_vm (VmLck), as type1 does; a /dev/iommu file charges the user's.
 * Both raise pinned_vm. Skipped where /dev/vfio/vfio is VFIO's container.
 */
TEST(vfio_container_node)
{
	const size_t len = 4 * PS;
	struct iommufd_stats s0, s1;
	__u64 val, size;
	struct stat st;
	long vmlck;
	__u32 ioas;
	void *buf;
	int fd, ifd;

	fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		SKIP(return, "no /dev/vfio/vfio");
	if (_ioas_alloc(fd, &ioas)) {
		close(fd);
		SKIP(return, "/dev/vfio/vfio is VFIO's own container");
	}
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(10U, major(st.st_rdev));	/* MISC_MAJOR */
	EXPECT_EQ(196U, minor(st.st_rdev));	/* VFIO_MINOR */
	EXPECT_EQ(0666U, st.st_mode & 0777);
	EXPECT_EQ(VFIO_API_VERSION, vfio_int_ioctl(fd, VFIO_GET_API_VERSION,
						   0));

	/* the account mode each kind of file starts with */
	ASSERT_EQ(0, _option_get(fd, IOMMU_OPTION_RLIMIT_MODE, 0, &val));
	EXPECT_EQ(1U, val);
	ifd = OPEN_IOMMUFD();
	ASSERT_EQ(0, _option_get(ifd, IOMMU_OPTION_RLIMIT_MODE, 0, &val));
	EXPECT_EQ(0U, val);

	/* a type1 container's session on the mock domain */
	ASSERT_EQ(0, _mock_domain(fd, ioas, NULL, NULL, NULL));
	ASSERT_EQ(0, _vfio_set_ioas(fd, ioas));
	ASSERT_EQ(0, vfio_int_ioctl(fd, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU));
	buf = alloc_buffer(len, 41);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, _get_stats(ifd, &s0));
	vmlck = proc_status_kb("VmLck");
	ASSERT_EQ(0, _vfio_map(fd, RW, buf, APERTURE_START, len));
	ASSERT_EQ(0, _get_stats(ifd, &s1));
	EXPECT_EQ(s0.mm_locked_vm + 4, s1.mm_locked_vm);
	EXPECT_EQ(s0.user_locked_vm, s1.user_locked_vm);
	EXPECT_EQ(s0.mm_pinned_vm + 4, s1.mm_pinned_vm);
	EXPECT_EQ(vmlck + (long)(len / 1024), proc_status_kb("VmLck"));

	/* v1: a page out of the middle, and its charge with it */
	size = PS;
	ASSERT_EQ(0, _vfio_unmap(fd, 0, APERTURE_START + PS, &size));
	EXPECT_EQ(PS, size);
	ASSERT_EQ(0, _get_stats(ifd, &s1));
	EXPECT_EQ(s0.mm_locked_vm + 3, s1.mm_locked_vm);

	/* closing the container gives back the rest */
	close(fd);
	ASSERT_EQ(0, _get_stats(ifd, &s1));
	ASSERT_STATS_EQUAL(&s0, &s1);
	EXPECT_EQ(vmlck, proc_status_kb("VmLck"));
	close(ifd);
	munmap(buf, len);
}

/* a /dev/vfio/vfio file opened by the parent, inherited by the children */
static int vfio_node_fd = -1;

/*
 * What a caller without CAP_SYS_ADMIN finds on a file of /dev/vfio/vfio:
 * no IOMMU_TEST_CMD (ENOTTY, as from a kernel without it, before the
 * argument is read), so no mock device; the rest of the file works.
 */
static void vfio_node_unprivileged(int fd)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_STATS };
	struct iommu_iova_range range;
	__u32 num = 1, ioas, stdev;
	__u64 align;
	int rc;

	errno = 0;
	rc = ioctl(fd, IOMMU_TEST_CMD, NULL);
	CHILD_ASSERT(rc == -1 && errno == ENOTTY);
	CHILD_ASSERT(_test_cmd(fd, &cmd) == ENOTTY);
	CHILD_ASSERT(_ioas_alloc(fd, &ioas) == 0);
	CHILD_ASSERT(_mock_domain(fd, ioas, &stdev, NULL, NULL) == ENOTTY);
	/* no device came: no domain, nothing reserved, byte alignment */
	CHILD_ASSERT(_iova_ranges(fd, ioas, &range, &num, &align) == 0);
	CHILD_ASSERT(num == 1 && range.start == 0 && range.last == U64_MAX);
	CHILD_ASSERT(align == 1);

	CHILD_ASSERT(vfio_int_ioctl(fd, VFIO_GET_API_VERSION, 0) ==
		     VFIO_API_VERSION);
	CHILD_ASSERT(_vfio_set_ioas(fd, ioas) == 0);
	CHILD_ASSERT(vfio_int_ioctl(fd, VFIO_SET_IOMMU,
				    VFIO_TYPE1v2_IOMMU) == 0);
	CHILD_ASSERT(_destroy(fd, ioas) == 0);
}

/* root without CAP_SYS_ADMIN */
static void vfio_node_no_admin_child(void)
{
	struct iommufd_stats s;
	int fd;

	CHILD_ASSERT(drop_capability(CAP_SYS_ADMIN) == 0);
	CHILD_ASSERT(!have_capability(CAP_SYS_ADMIN));
	/* opened with the capability, used without it */
	vfio_node_unprivileged(vfio_node_fd);
	fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	CHILD_ASSERT(fd >= 0);
	vfio_node_unprivileged(fd);
	close(fd);
	/* /dev/iommu is only for those its mode lets in: it has the command */
	fd = iommufd_open();
	CHILD_ASSERT(fd >= 0);
	CHILD_ASSERT(_get_stats(fd, &s) == 0);
	close(fd);
}

/* any user: the node is 0666 */
static void vfio_node_nobody_child(void)
{
	int fd;

	CHILD_ASSERT(become_user(NOBODY_ID) == 0);
	CHILD_ASSERT(!have_capability(CAP_SYS_ADMIN));
	fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	CHILD_ASSERT(fd >= 0);
	vfio_node_unprivileged(fd);
	close(fd);
}

/*
 * IOMMU_TEST_CMD (the mock IOMMU: devices, fault injection, kernel state)
 * through /dev/vfio/vfio, which every user may open, is there for
 * CAP_SYS_ADMIN only: checked at each call, whoever opened the file.
 * Skipped where /dev/vfio/vfio is not iommufd's.
 */
TEST(vfio_node_test_cmd)
{
	struct iommufd_stats s;
	__u32 ioas;

	if (!have_capability(CAP_SYS_ADMIN))
		SKIP(return, "needs CAP_SYS_ADMIN");
	vfio_node_fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (vfio_node_fd < 0)
		SKIP(return, "no /dev/vfio/vfio");
	if (_ioas_alloc(vfio_node_fd, &ioas)) {
		close(vfio_node_fd);
		SKIP(return, "/dev/vfio/vfio is VFIO's own container");
	}
	ASSERT_EQ(0, _get_stats(vfio_node_fd, &s));
	/* a bad argument gets as far as being read */
	EXPECT_EQ(EFAULT, iommufd_ioctl(vfio_node_fd, IOMMU_TEST_CMD, NULL));

	RUN_IN_CHILD(vfio_node_no_admin_child);
	RUN_IN_CHILD(vfio_node_nobody_child);

	/* the same file still has it for the parent */
	ASSERT_EQ(0, _get_stats(vfio_node_fd, &s));
	ASSERT_EQ(0, _destroy(vfio_node_fd, ioas));
	close(vfio_node_fd);
	vfio_node_fd = -1;
}

/* ---------------------------------------------------------------------- */
/* a compatibility IOAS with a mock domain, as VFIO type1 or type1v2 */

FIXTURE(compat) {
	int fd;
	__u32 ioas;
	unsigned int nr_hwpts;
	__u32 stdev[1];
	__u32 hwpt[1];
	unsigned char *buf;
	size_t buf_size;
	__u64 base;
	int access;
	struct iommufd_stats start;
};

FIXTURE_VARIANT(compat) {
	unsigned long type;
};

FIXTURE_VARIANT_ADD(compat, type1) {
	.type = VFIO_TYPE1_IOMMU,
};

FIXTURE_VARIANT_ADD(compat, type1v2) {
	.type = VFIO_TYPE1v2_IOMMU,
};

FIXTURE_SETUP(compat)
{
	self->access = -1;
	SETUP_IOAS(1, self->stdev, COMPAT_PAGES, 29);
	self->base = APERTURE_START;
	ASSERT_EQ(0, _vfio_set_ioas(self->fd, self->ioas));
	ASSERT_EQ(0, vfio_int_ioctl(self->fd, VFIO_SET_IOMMU, variant->type));
	STATS(&self->start);
}

FIXTURE_TEARDOWN(compat)
{
	if (self->access >= 0)
		close(self->access);
	close(self->fd);
	munmap(self->buf, self->buf_size);
}

#define V1 (variant->type == VFIO_TYPE1_IOMMU)
#define IOVA(pg) (self->base + (pg) * PS)
#define VA(pg) (self->buf + (pg) * PS)

/* the whole buffer, mapped by one MAP_DMA at base */
#define MAP_ALL() ASSERT_EQ(0, _vfio_map(self->fd, RW, self->buf,	\
					 self->base, self->buf_size))

/* STATS now equal *@s */
#define STATS_ARE(s)							\
	do {								\
		struct iommufd_stats __now;				\
									\
		STATS(&__now);						\
		ASSERT_STATS_EQUAL(s, &__now);				\
	} while (0)

/*
 * SET_IOMMU: v1 turns large pages off, v2 on; other types are EINVAL; once
 * the domain holds mappings the type can't change (EBUSY), and stays.
 */
TEST_F(compat, set_iommu)
{
	static const unsigned long bad[] = {
		0, VFIO_SPAPR_TCE_IOMMU, VFIO_TYPE1_NESTING_IOMMU,
		VFIO_SPAPR_TCE_v2_IOMMU, VFIO_NOIOMMU_IOMMU, 1000,
	};
	unsigned long other = V1 ? VFIO_TYPE1v2_IOMMU : VFIO_TYPE1_IOMMU;
	struct iommufd_stats s;
	unsigned int i;
	__u64 val;

	ASSERT_EQ(0, _option_get(self->fd, IOMMU_OPTION_HUGE_PAGES,
				 self->ioas, &val));
	EXPECT_EQ(V1 ? 0U : 1U, val);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, vfio_int_ioctl(self->fd, VFIO_SET_IOMMU,
						  bad[i]));
	ASSERT_EQ(0, _option_get(self->fd, IOMMU_OPTION_HUGE_PAGES,
				 self->ioas, &val));
	EXPECT_EQ(V1 ? 0U : 1U, val);

	/* the same type again is fine */
	ASSERT_EQ(0, vfio_int_ioctl(self->fd, VFIO_SET_IOMMU, variant->type));
	MAP_ALL();
	STATS(&s);
	EXPECT_EQ(-EBUSY, vfio_int_ioctl(self->fd, VFIO_SET_IOMMU, other));
	ASSERT_EQ(0, _option_get(self->fd, IOMMU_OPTION_HUGE_PAGES,
				 self->ioas, &val));
	EXPECT_EQ(V1 ? 0U : 1U, val);
	STATS_ARE(&s);
	ASSERT_EQ(0, vfio_int_ioctl(self->fd, VFIO_SET_IOMMU, variant->type));
	UNMAP_OK(self->base, self->buf_size);
	/* with no mappings left it may change again */
	ASSERT_EQ(0, vfio_int_ioctl(self->fd, VFIO_SET_IOMMU, other));
	ASSERT_EQ(0, _option_get(self->fd, IOMMU_OPTION_HUGE_PAGES,
				 self->ioas, &val));
	EXPECT_EQ(V1 ? 1U : 0U, val);
	BACK_TO_START();
}

#define INFO_BUF_SIZE 4096
#define INFO_FILL 0xa5

/*
 * GET_INFO into a buffer of @argsz bytes (of INFO_BUF_SIZE, the rest
 * filled with INFO_FILL), which must succeed and write nothing past
 * @argsz.
 */
static void get_info(struct __test_metadata *_metadata, int fd, void *buf,
		     __u32 argsz)
{
	struct vfio_iommu_type1_info *info = buf;
	const unsigned char *p = buf;
	unsigned int i;

	memset(buf, INFO_FILL, INFO_BUF_SIZE);
	memset(buf, 0, argsz);
	info->argsz = argsz;
	ASSERT_EQ(0, iommufd_ioctl(fd, VFIO_IOMMU_GET_INFO, info));
	for (i = argsz; i < INFO_BUF_SIZE; i++) {
		ASSERT_EQ(INFO_FILL, p[i]) {
			TH_LOG("byte %u written, argsz %u", i, argsz);
		}
	}
	ASSERT_EQ(VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS, info->flags);
}

/*
 * Walk the capability chain of @info: both capabilities exactly once,
 * inside argsz, and the IOVA ranges equal to @ranges (@nr of them).
 */
static void check_caps(struct __test_metadata *_metadata,
		       struct vfio_iommu_type1_info *info,
		       const struct iommu_iova_range *ranges, __u32 nr)
{
	const struct vfio_iommu_type1_info_cap_iova_range *iovas = NULL;
	const struct vfio_iommu_type1_info_dma_avail *avail = NULL;
	__u32 off = info->cap_offset;
	unsigned int i, n = 0;

	ASSERT_EQ(sizeof(*info), off);
	while (off) {
		const struct vfio_info_cap_header *hdr = (void *)info + off;

		ASSERT_GE(info->argsz, off + sizeof(*hdr));
		ASSERT_EQ(0U, off % 4);
		ASSERT_GT(8U, ++n);
		if (hdr->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			ASSERT_EQ(NULL, iovas);
			iovas = (const void *)hdr;
			ASSERT_GE(info->argsz, off + sizeof(*iovas) +
					       iovas->nr_iovas *
					       sizeof(iovas->iova_ranges[0]));
		} else if (hdr->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
			ASSERT_EQ(NULL, avail);
			avail = (const void *)hdr;
			ASSERT_GE(info->argsz, off + sizeof(*avail));
		} else {
			ASSERT_EQ(0, hdr->id);
		}
		ASSERT_EQ(1, hdr->version);
		/* forward only */
		if (hdr->next)
			ASSERT_LT(off, hdr->next);
		off = hdr->next;
	}
	ASSERT_NE(NULL, iovas);
	ASSERT_NE(NULL, avail);
	EXPECT_LT(0U, avail->avail);
	ASSERT_EQ(nr, iovas->nr_iovas);
	for (i = 0; i < nr; i++) {
		EXPECT_EQ(ranges[i].start, iovas->iova_ranges[i].start);
		EXPECT_EQ(ranges[i].last, iovas->iova_ranges[i].end);
	}
}

/*
 * GET_INFO: the pre-capability size, the size query, the full chain (the
 * same ranges as IOMMU_IOAS_IOVA_RANGES, before and after a reserved hole
 * splits the aperture), every size in between, and nothing ever written
 * past argsz.
 */
TEST_F(compat, get_info)
{
	const __u32 pre_cap = END_OF(struct vfio_iommu_type1_info,
					  iova_pgsizes);
	struct iommu_iova_range ranges[4];
	struct vfio_iommu_type1_info *info;
	__u32 nr, full, argsz, round;
	__u64 align;
	void *buf;

	buf = malloc(INFO_BUF_SIZE);
	ASSERT_NE(NULL, buf);
	info = buf;
	memset(buf, 0, sizeof(*info));
	info->argsz = pre_cap - 1;
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, VFIO_IOMMU_GET_INFO, info));
	info->argsz = 0;
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, VFIO_IOMMU_GET_INFO, info));

	for (round = 0; round < 2; round++) {
		nr = ARRAY_SIZE(ranges);
		ASSERT_EQ(0, _iova_ranges(self->fd, self->ioas, ranges, &nr,
					  &align));
		ASSERT_EQ(round + 1, nr);

		get_info(_metadata, self->fd, buf, pre_cap);
		/*
		 * The mock domain's sizes, its 2K granule shown as PAGE_SIZE
		 * as type1 shows it, whatever the IOVA alignment (2K for v2)
		 */
		EXPECT_EQ(PS | MOCK_IOPTE_HUGE_SIZE, info->iova_pgsizes);
		EXPECT_EQ(V1 ? PS : MOCK_GRAN, align);
		EXPECT_EQ(pre_cap, info->argsz);

		get_info(_metadata, self->fd, buf, sizeof(*info));
		EXPECT_EQ(0U, info->cap_offset);
		full = info->argsz;
		ASSERT_EQ(sizeof(*info) +
			  sizeof(struct vfio_iommu_type1_info_cap_iova_range) +
			  nr * sizeof(struct vfio_iova_range) +
			  sizeof(struct vfio_iommu_type1_info_dma_avail),
			  full);

		get_info(_metadata, self->fd, buf, full);
		EXPECT_EQ(full, info->argsz);
		check_caps(_metadata, info, ranges, nr);

		/* short of the chain: no chain, and the size it needs */
		for (argsz = sizeof(*info); argsz < full; argsz++) {
			get_info(_metadata, self->fd, buf, argsz);
			ASSERT_EQ(0U, info->cap_offset);
			ASSERT_EQ(full, info->argsz);
		}
		/* more room than needed: the same chain */
		get_info(_metadata, self->fd, buf, full + 100);
		EXPECT_EQ(full + 100, info->argsz);
		check_caps(_metadata, info, ranges, nr);

		/* a hole in the middle of the aperture for round 2 */
		ASSERT_EQ(0, _add_reserved(self->fd, self->ioas,
					   self->base + 64 * PS, 16 * PS));
	}
	free(buf);
	BACK_TO_START();
}

/* MAP_DMA and UNMAP_DMA: what they refuse leaves no trace */
TEST_F(compat, map_unmap_errors)
{
	const __u32 map_min = END_OF(struct vfio_iommu_type1_dma_map,
					  size);
	const __u32 unmap_min = END_OF(struct vfio_iommu_type1_dma_unmap,
					    size);
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = self->base,
		.size = PS,
	};
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = RW,
		.vaddr = (uintptr_t)self->buf,
		.iova = self->base,
		.size = PS,
	};
	struct iommufd_stats s;
	__u64 size;

	map.argsz = map_min - 1;
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, VFIO_IOMMU_MAP_DMA, &map));
	map.argsz = map_min;
	map.flags = 1U << 31;
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, VFIO_IOMMU_MAP_DMA, &map));
	map.flags = RW | VFIO_DMA_MAP_FLAG_VADDR;
	EXPECT_EQ(EOPNOTSUPP, iommufd_ioctl(self->fd, VFIO_IOMMU_MAP_DMA,
					    &map));
	/* neither readable nor writeable */
	map.flags = 0;
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, VFIO_IOMMU_MAP_DMA, &map));
	map.flags = RW;
	map.size = 0;
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, VFIO_IOMMU_MAP_DMA, &map));
	/* misaligned for the IOAS */
	map.size = PS;
	map.iova = self->base + 512;
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, VFIO_IOMMU_MAP_DMA, &map));
	/* outside the aperture */
	map.iova = 0;
	EXPECT_NE(0, iommufd_ioctl(self->fd, VFIO_IOMMU_MAP_DMA, &map));
	BACK_TO_START();

	/* a minimal argsz (no trailing fields) is enough */
	map.iova = self->base;
	ASSERT_EQ(0, iommufd_ioctl(self->fd, VFIO_IOMMU_MAP_DMA, &map));
	STATS(&s);
	EXPECT_EQ(self->start.pinned_pages + PS / page_size, s.pinned_pages);
	/* mapped already */
	EXPECT_EQ(EEXIST, _vfio_map(self->fd, RW, self->buf, self->base,
				    2 * PS));
	STATS_ARE(&s);

	unmap.argsz = unmap_min - 1;
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, VFIO_IOMMU_UNMAP_DMA,
					&unmap));
	unmap.argsz = unmap_min;
	unmap.flags = 1U << 31;
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, VFIO_IOMMU_UNMAP_DMA,
					&unmap));
	unmap.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	EXPECT_EQ(EOPNOTSUPP, iommufd_ioctl(self->fd, VFIO_IOMMU_UNMAP_DMA,
					    &unmap));
	unmap.flags = VFIO_DMA_UNMAP_FLAG_VADDR;
	EXPECT_EQ(EOPNOTSUPP, iommufd_ioctl(self->fd, VFIO_IOMMU_UNMAP_DMA,
					    &unmap));
	/* ALL takes no range */
	unmap.flags = VFIO_DMA_UNMAP_FLAG_ALL;
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, VFIO_IOMMU_UNMAP_DMA,
					&unmap));
	unmap.iova = 0;
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, VFIO_IOMMU_UNMAP_DMA,
					&unmap));
	unmap.iova = self->base;
	unmap.size = 0;
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, VFIO_IOMMU_UNMAP_DMA,
					&unmap));
	/* and a plain unmap takes one */
	unmap.flags = 0;
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, VFIO_IOMMU_UNMAP_DMA,
					&unmap));
	/* misaligned, mapped or not */
	size = PS;
	EXPECT_EQ(EINVAL, _vfio_unmap(self->fd, 0, self->base + 512, &size));
	EXPECT_EQ(EINVAL, _vfio_unmap(self->fd, 0, self->base + 64 * PS + 512,
				      &size));
	size = 512;
	EXPECT_EQ(EINVAL, _vfio_unmap(self->fd, 0, self->base, &size));
	STATS_ARE(&s);

	/* nothing there: success, size 0, as type1 */
	size = 4 * PS;
	ASSERT_EQ(0, _vfio_unmap(self->fd, 0, self->base + 16 * PS, &size));
	EXPECT_EQ(0U, size);
	STATS_ARE(&s);

	UNMAP_OK(self->base, PS);
	BACK_TO_START();
	/* and again: nothing left */
	size = PS;
	ASSERT_EQ(0, _vfio_unmap(self->fd, 0, self->base, &size));
	EXPECT_EQ(0U, size);
	size = 0;
	ASSERT_EQ(0, _vfio_unmap(self->fd, VFIO_DMA_UNMAP_FLAG_ALL, 0, &size));
	EXPECT_EQ(0U, size);
	BACK_TO_START();
}

/*
 * A MAP_DMA is mapped in the mock domain page for page, and UNMAP_DMA of
 * all of it, or FLAG_ALL over several mappings, reports the size.
 */
TEST_F(compat, map_check_unmap_all)
{
	struct iommufd_stats s;
	__u64 size;

	MAP_ALL();
	STATS(&s);
	EXPECT_EQ(self->start.pinned_pages + COMPAT_PAGES, s.pinned_pages);
	EXPECT_EQ(0, _md_check_map(self->fd, self->hwpt[0], self->base,
				   self->buf, self->buf_size));
	UNMAP_OK(self->base, self->buf_size);
	BACK_TO_START();

	/* three mappings, out of order, with gaps */
	ASSERT_EQ(0, _vfio_map(self->fd, RW, VA(4), IOVA(40), 4 * PS));
	ASSERT_EQ(0, _vfio_map(self->fd, VFIO_DMA_MAP_FLAG_READ, VA(0),
			       IOVA(0), PS));
	ASSERT_EQ(0, _vfio_map(self->fd, RW, VA(1), IOVA(20), 3 * PS));
	EXPECT_EQ(0, _md_check_map(self->fd, self->hwpt[0], IOVA(40), VA(4),
				   4 * PS));
	size = 0;
	ASSERT_EQ(0, _vfio_unmap(self->fd, VFIO_DMA_UNMAP_FLAG_ALL, 0, &size));
	EXPECT_EQ(8 * PS, size);
	BACK_TO_START();
}

/*
 * UNMAP_DMA of a part of a mapping: v1 cuts the mapping and unmaps just
 * that part, unpinning exactly its pages; v2 refuses with ENOENT and
 * changes nothing. A range over several whole mappings works in both.
 */
TEST_F(compat, unmap_part)
{
	struct iommufd_stats s, s2;
	__u64 size;

	MAP_ALL();
	STATS(&s);
	EXPECT_EQ(self->start.areas + 1, s.areas);

	size = PS;
	if (!V1) {
		EXPECT_EQ(ENOENT, _vfio_unmap(self->fd, 0, IOVA(3), &size));
		/* the first pages, and the tail */
		EXPECT_EQ(ENOENT, _vfio_unmap(self->fd, 0, IOVA(0), &size));
		size = 2 * PS;
		EXPECT_EQ(ENOENT, _vfio_unmap(self->fd, 0, IOVA(6), &size));
		STATS_ARE(&s);
		EXPECT_EQ(0, _md_check_map(self->fd, self->hwpt[0],
					   self->base, self->buf,
					   self->buf_size));
		/* a range covering it whole, and more */
		size = (COMPAT_PAGES + 4) * PS;
		ASSERT_EQ(0, _vfio_unmap(self->fd, 0, IOVA(-2), &size));
		EXPECT_EQ(self->buf_size, size);
		BACK_TO_START();
		return;
	}

	/* page 3 of 8: three areas for a moment, two are left */
	UNMAP_OK(IOVA(3), PS);
	STATS(&s2);
	EXPECT_EQ(s.pinned_pages - 1, s2.pinned_pages);
	EXPECT_EQ(s.areas + 1, s2.areas);
	EXPECT_EQ(s.user_locked_vm - 1, s2.user_locked_vm);
	EXPECT_EQ(0, _md_check_map(self->fd, self->hwpt[0], IOVA(0), VA(0),
				   3 * PS));
	EXPECT_EQ(0, _md_check_map(self->fd, self->hwpt[0], IOVA(4), VA(4),
				   4 * PS));
	/* nothing is mapped at page 3 any more */
	size = PS;
	ASSERT_EQ(0, _vfio_unmap(self->fd, 0, IOVA(3), &size));
	EXPECT_EQ(0U, size);
	EXPECT_EQ(ENOENT, _ioas_unmap(self->fd, self->ioas, IOVA(3), PS,
				      NULL));
	/* and it can be mapped again, to other memory */
	ASSERT_EQ(0, _vfio_map(self->fd, RW, VA(7), IOVA(3), PS));
	EXPECT_EQ(0, _md_check_map(self->fd, self->hwpt[0], IOVA(3), VA(7),
				   PS));

	/* the first page, then across two areas: pages 2..4 */
	UNMAP_OK(IOVA(0), PS);
	UNMAP_OK(IOVA(2), 3 * PS);
	EXPECT_EQ(0, _md_check_map(self->fd, self->hwpt[0], IOVA(1), VA(1),
				   PS));
	EXPECT_EQ(0, _md_check_map(self->fd, self->hwpt[0], IOVA(5), VA(5),
				   3 * PS));
	/* a misaligned cut is refused before anything is cut */
	STATS(&s2);
	size = PS / 2;
	EXPECT_EQ(EINVAL, _vfio_unmap(self->fd, 0, IOVA(6), &size));
	STATS_ARE(&s2);

	size = 0;
	ASSERT_EQ(0, _vfio_unmap(self->fd, VFIO_DMA_UNMAP_FLAG_ALL, 0, &size));
	EXPECT_EQ(4 * PS, size);
	BACK_TO_START();
}

/*
 * v1 can't cut a mapping that a software access (an emulated device)
 * pinned pages through: EBUSY, and nothing changes. Whole mappings still
 * unmap, with the access asked to let go first.
 */
TEST_F(compat, unmap_part_pinned)
{
	struct iommufd_stats s;
	__u32 pages_id;
	__u64 size;

	MAP_ALL();
	ASSERT_EQ(0, _create_access(self->fd, self->ioas, 0, &self->access));
	ASSERT_EQ(0, _access_pages(self->fd, self->access, 0, IOVA(1), PS,
				   VA(1), &pages_id));
	STATS(&s);
	size = PS;
	EXPECT_EQ(V1 ? EBUSY : ENOENT,
		  _vfio_unmap(self->fd, 0, IOVA(5), &size));
	STATS_ARE(&s);
	EXPECT_EQ(0, _md_check_map(self->fd, self->hwpt[0], self->base,
				   self->buf, self->buf_size));
	/* the mock access unpins when told of the unmap */
	UNMAP_OK(self->base, self->buf_size);
	close(self->access);
	self->access = -1;
	BACK_TO_START();
}

/*
 * UNMAP_DMA of a range that wraps past the top of the address space is
 * EOVERFLOW (mainline's errno; type1 says EINVAL), and v1 cuts nothing
 * before refusing it: the mapping stays one area, with its IOPTEs, pins
 * and charges. A range that ends exactly at the top does not wrap.
 */
TEST_F(compat, unmap_overflow)
{
	const struct {
		__u64 iova;
		__u64 size;
	} bad[] = {
		/* from page 3, wrapping round to end at IOVA PS */
		{ IOVA(3), PS - IOVA(3) },
		/* from page 3, wrapping round to end inside: at page 2 */
		{ IOVA(3), -PS },
		/* the largest page-aligned size */
		{ IOVA(5), -PS },
		/* from the last page of the address space */
		{ -PS, 2 * PS },
	};
	struct ioas_state st;
	unsigned int i, pg;
	__u64 size;

	MAP_ALL();
	SNAPSHOT(&st);
	EXPECT_EQ(self->start.areas + 1, st.stats.areas);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		size = bad[i].size;
		EXPECT_EQ(EOVERFLOW, _vfio_unmap(self->fd, 0, bad[i].iova,
						 &size)) {
			TH_LOG("iova %#llx size %#llx",
			       (unsigned long long)bad[i].iova,
			       (unsigned long long)bad[i].size);
		}
		UNCHANGED(&st);
		/*
		 * Still one area: had it been cut at a page, IOMMU_IOAS_UNMAP
		 * (whole areas only) could take the tail from there.
		 */
		for (pg = 1; pg < COMPAT_PAGES; pg++)
			ASSERT_EQ(ENOENT, _ioas_unmap(self->fd, self->ioas,
						      IOVA(pg),
						      IOVA(COMPAT_PAGES) -
						      IOVA(pg), NULL));
	}
	MAPPED(self->base, self->buf_size, self->buf);

	/* up to the top: nothing there */
	size = -IOVA(COMPAT_PAGES);
	ASSERT_EQ(0, _vfio_unmap(self->fd, 0, IOVA(COMPAT_PAGES), &size));
	EXPECT_EQ(0U, size);
	UNCHANGED(&st);
	/* from page 4 to the top: v1 cuts there, v2 can't */
	size = -IOVA(4);
	if (V1) {
		ASSERT_EQ(0, _vfio_unmap(self->fd, 0, IOVA(4), &size));
		EXPECT_EQ(4 * PS, size);
		MAPPED(IOVA(0), 4 * PS, VA(0));
		UNMAPPED(IOVA(4), 4 * PS);
		UNMAP_OK(IOVA(0), 4 * PS);
	} else {
		EXPECT_EQ(ENOENT, _vfio_unmap(self->fd, 0, IOVA(4), &size));
		UNCHANGED(&st);
		UNMAP_OK(self->base, self->buf_size);
	}
	BACK_TO_START();
}

/* ---------------------------------------------------------------------- */
/* a compatibility IOAS without a domain: no device attached yet */

FIXTURE(compat_nodev) {
	int fd;
	__u32 ioas;
	unsigned int nr_hwpts;
	__u32 hwpt[1];
	unsigned char *buf;
	size_t buf_size;
	__u64 base;
	struct iommufd_stats start;
};

FIXTURE_VARIANT(compat_nodev) {
	unsigned long type;
};

FIXTURE_VARIANT_ADD(compat_nodev, type1) {
	.type = VFIO_TYPE1_IOMMU,
};

FIXTURE_VARIANT_ADD(compat_nodev, type1v2) {
	.type = VFIO_TYPE1v2_IOMMU,
};

FIXTURE_SETUP(compat_nodev)
{
	SETUP_IOAS(0, NULL, COMPAT_PAGES, 37);
	self->base = APERTURE_START;
	ASSERT_EQ(0, _vfio_set_ioas(self->fd, self->ioas));
	ASSERT_EQ(0, vfio_int_ioctl(self->fd, VFIO_SET_IOMMU, variant->type));
	STATS(&self->start);
}

FIXTURE_TEARDOWN(compat_nodev)
{
	close(self->fd);
	munmap(self->buf, self->buf_size);
}

/* iova_pgsizes of GET_INFO */
static void get_pgsizes(struct __test_metadata *_metadata, int fd,
			__u64 *pgsizes)
{
	struct vfio_iommu_type1_info info = {
		.argsz = sizeof(info),
	};

	ASSERT_EQ(0, iommufd_ioctl(fd, VFIO_IOMMU_GET_INFO, &info));
	ASSERT_EQ(VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS, info.flags);
	*pgsizes = info.iova_pgsizes;
}

#define EXPECT_PGSIZES(exp)						\
	do {								\
		__u64 __pgsizes;					\
									\
		get_pgsizes(_metadata, self->fd, &__pgsizes);		\
		EXPECT_EQ((__u64)(exp), __pgsizes);			\
	} while (0)

/*
 * Without a domain the container's page is PAGE_SIZE, as type1's: GET_INFO
 * reports every size from PAGE_SIZE up (PAGE_MASK), and MAP_DMA and
 * UNMAP_DMA refuse an IOVA, user address or size that is not in whole
 * pages with EINVAL, changing nothing; although the IOAS itself, when its
 * large pages are on (v2), still takes single bytes through IOMMU_IOAS_MAP.
 * A mock domain's sizes show while it is attached, and the container's
 * page stays PAGE_SIZE below its 2K granule.
 */
TEST_F(compat_nodev, page_size)
{
	struct iommu_iova_range ranges[2];
	struct ioas_state st;
	__u32 num = 2, stdev;
	__u64 align, size;

	EXPECT_PGSIZES(~(PS - 1));
	ASSERT_EQ(0, _iova_ranges(self->fd, self->ioas, ranges, &num, &align));
	EXPECT_EQ(1U, num);
	EXPECT_EQ(V1 ? PS : 1U, align);
	if (!V1) {
		ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, VA(0) + 5, 3,
					self->base + 5));
		ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, self->base + 5,
					 3, NULL));
		BACK_TO_START();
	}

	SNAPSHOT(&st);
	EXPECT_EQ(EINVAL, _vfio_map(self->fd, RW, VA(0), self->base + 1, PS));
	EXPECT_EQ(EINVAL, _vfio_map(self->fd, RW, VA(0), self->base + PS / 2,
				    PS));
	EXPECT_EQ(EINVAL, _vfio_map(self->fd, RW, VA(0) + 512, self->base,
				    PS));
	EXPECT_EQ(EINVAL, _vfio_map(self->fd, RW, VA(0), self->base,
				    PS + 512));
	EXPECT_EQ(EINVAL, _vfio_map(self->fd, RW, VA(0), self->base, 512));
	UNCHANGED(&st);

	MAP_ALL();
	MAPPED(self->base, self->buf_size, self->buf);
	SNAPSHOT(&st);
	/* no domain and no access: nothing needs the pages pinned yet */
	EXPECT_EQ(self->start.pinned_pages, st.stats.pinned_pages);
	size = PS;
	EXPECT_EQ(EINVAL, _vfio_unmap(self->fd, 0, self->base + 512, &size));
	EXPECT_EQ(EINVAL, _vfio_unmap(self->fd, 0, IOVA(3) + 1, &size));
	size = PS / 2;
	EXPECT_EQ(EINVAL, _vfio_unmap(self->fd, 0, self->base, &size));
	size = self->buf_size - 1;
	EXPECT_EQ(EINVAL, _vfio_unmap(self->fd, 0, self->base, &size));
	UNCHANGED(&st);
	UNMAP_OK(self->base, self->buf_size);
	BACK_TO_START();

	/* a mock domain: 2K and 2M, the 2K shown as PAGE_SIZE */
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, NULL, NULL));
	EXPECT_PGSIZES(PS | MOCK_IOPTE_HUGE_SIZE);
	num = 2;
	ASSERT_EQ(0, _iova_ranges(self->fd, self->ioas, ranges, &num, &align));
	EXPECT_EQ(V1 ? PS : MOCK_GRAN, align);
	EXPECT_EQ(EINVAL, _vfio_map(self->fd, RW, VA(0),
				    self->base + MOCK_GRAN, PS));
	EXPECT_EQ(EINVAL, _vfio_map(self->fd, RW, VA(0), self->base,
				    PS + MOCK_GRAN));
	BACK_TO_START();
	ASSERT_EQ(0, _destroy(self->fd, stdev));
	EXPECT_PGSIZES(~(PS - 1));
	BACK_TO_START();
}

/*
 * Nothing bounds the IOVA of a compatibility IOAS without a domain (nor a
 * VFIO group's claim): GET_INFO then leaves the IOVA range capability out,
 * as type1 does while it knows no IOMMU, rather than report a range that
 * ends at U64_MAX, whose size wraps to 0 in its users' arithmetic; the
 * chain keeps DMA_AVAIL. A mock domain bounds the IOAS and the ranges are
 * back, as IOMMU_IOAS_IOVA_RANGES reports them; without it they go again.
 */
TEST_F(compat_nodev, get_info_unbounded)
{
	struct iommu_iova_range ranges[2];
	struct vfio_iommu_type1_info *info;
	__u32 num, stdev = 0, round;
	__u64 align;
	void *buf;

	buf = malloc(INFO_BUF_SIZE);
	ASSERT_NE(NULL, buf);
	info = buf;
	for (round = 0; round < 3; round++) {
		const struct vfio_info_cap_header *hdr;
		bool iovas = false, avail = false;
		__u32 off;

		if (round == 1)
			ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev,
						  NULL, NULL));
		if (round == 2)
			ASSERT_EQ(0, _destroy(self->fd, stdev));
		get_info(_metadata, self->fd, buf, sizeof(*info));
		get_info(_metadata, self->fd, buf, info->argsz);
		ASSERT_EQ(sizeof(*info), info->cap_offset);
		for (off = info->cap_offset; off; off = hdr->next) {
			hdr = (const void *)info + off;
			ASSERT_GE(info->argsz, off + sizeof(*hdr));
			if (hdr->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
				const struct vfio_iommu_type1_info_cap_iova_range
					*c = (const void *)hdr;

				iovas = true;
				num = ARRAY_SIZE(ranges);
				ASSERT_EQ(0, _iova_ranges(self->fd, self->ioas,
							  ranges, &num,
							  &align));
				ASSERT_EQ(num, c->nr_iovas);
				EXPECT_EQ(ranges[0].start,
					  c->iova_ranges[0].start);
				EXPECT_EQ(ranges[num - 1].last,
					  c->iova_ranges[num - 1].end);
				EXPECT_NE(UINT64_MAX,
					  c->iova_ranges[num - 1].end);
			} else if (hdr->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
				avail = true;
			}
			/* forward only */
			if (hdr->next)
				ASSERT_LT(off, hdr->next);
		}
		EXPECT_EQ(round == 1, iovas);
		EXPECT_TRUE(avail);
	}
	free(buf);
	BACK_TO_START();
}

TEST_HARNESS_MAIN
