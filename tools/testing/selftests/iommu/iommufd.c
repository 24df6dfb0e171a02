// SPDX-License-Identifier: GPL-2.0-only
/*
 * kselftests for /dev/iommu.
 *
 * These run against the uAPI header of this tree and need a kernel built
 * with the options in ./config.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/iommufd.h>

#include "iommufd_utils.h"

#define MISC_MAJOR_NR 10

/* Numbers that are not iommufd commands, and never will be. */
static const unsigned long not_commands[] = {
	_IO(IOMMUFD_TYPE, 0),			/* below the command range */
	_IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE - 1),
	_IO(IOMMUFD_TYPE, 0xff),		/* far above it */
	_IOR(IOMMUFD_TYPE, IOMMUFD_CMD_BASE, uint32_t),	/* size/dir bits */
	_IOW(IOMMUFD_TYPE, IOMMUFD_CMD_BASE, uint64_t),
	_IOWR(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 1, uint64_t),
	_IO('V', IOMMUFD_CMD_BASE),		/* another driver's type */
	0,
	0xffffffff,
};

FIXTURE(iommufd) {
	int fd;
};

FIXTURE_SETUP(iommufd)
{
	self->fd = open(IOMMU_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(iommufd)
{
	ASSERT_EQ(0, close(self->fd));
}

/* The node is the misc device our Kconfig promises, root-only rw. */
TEST(device_node)
{
	struct stat st;

	ASSERT_EQ(0, stat(IOMMU_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(MISC_MAJOR_NR, major(st.st_rdev));
	EXPECT_EQ(0660, st.st_mode & 07777);
}

TEST_F(iommufd, unknown_ioctl_is_enotty)
{
	uint64_t buf[8];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(not_commands); i++) {
		memset(buf, 0, sizeof(buf));
		buf[0] = sizeof(buf);
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, not_commands[i], buf)) {
			TH_LOG("ioctl 0x%lx did not fail", not_commands[i]);
		}
		EXPECT_EQ(ENOTTY, errno) {
			TH_LOG("ioctl 0x%lx: errno %d", not_commands[i], errno);
		}
	}
}

/* Even a NULL or wild argument must be refused by number, not by fault. */
TEST_F(iommufd, unknown_ioctl_bad_pointer)
{
	EXPECT_EQ(-1, ioctl(self->fd, _IO(IOMMUFD_TYPE, 0xff), NULL));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO(IOMMUFD_TYPE, 0xff), (void *)16));
	EXPECT_EQ(ENOTTY, errno);
}

/* The file has no read/write interface; everything is an ioctl. */
TEST_F(iommufd, no_read_write)
{
	char c = 0;

	EXPECT_EQ(-1, read(self->fd, &c, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->fd, &c, 1));
	EXPECT_EQ(EINVAL, errno);
}

/* A failed command leaves the context usable. */
TEST_F(iommufd, usable_after_failure)
{
	int i;

	for (i = 0; i < 3; i++) {
		EXPECT_EQ(-1, ioctl(self->fd, _IO(IOMMUFD_TYPE, 0xff), NULL));
		EXPECT_EQ(ENOTTY, errno);
	}
	EXPECT_LE(0, fcntl(self->fd, F_GETFD));
}

TEST(close_and_reopen)
{
	int fd, i;

	for (i = 0; i < 1000; i++) {
		fd = open(IOMMU_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, close(fd));
	}
	/* the fd is really gone after close */
	EXPECT_EQ(-1, fcntl(fd, F_GETFD));
	EXPECT_EQ(EBADF, errno);
}

/* Many contexts at once; closing some leaves the others working. */
TEST(independent_contexts)
{
	int fds[16];
	int i;

	for (i = 0; i < 16; i++) {
		fds[i] = open(IOMMU_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fds[i]);
	}
	for (i = 0; i < 16; i += 2)
		ASSERT_EQ(0, close(fds[i]));
	for (i = 1; i < 16; i += 2) {
		EXPECT_EQ(-1, ioctl(fds[i], _IO(IOMMUFD_TYPE, 0xff), NULL));
		EXPECT_EQ(ENOTTY, errno);
		ASSERT_EQ(0, close(fds[i]));
	}
}

/* A duplicated fd shares the context; it stays alive until the last close. */
TEST(dup_keeps_context)
{
	int fd, fd2;

	fd = open(IOMMU_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	fd2 = dup(fd);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(-1, ioctl(fd2, _IO(IOMMUFD_TYPE, 0xff), NULL));
	EXPECT_EQ(ENOTTY, errno);
	ASSERT_EQ(0, close(fd2));
}

TEST_HARNESS_MAIN
