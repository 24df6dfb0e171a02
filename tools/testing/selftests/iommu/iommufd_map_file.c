// SPDX-License-Identifier: GPL-2.0-only
/*
 * kselftests for IOMMU_IOAS_MAP_FILE: a range of a memfd (shmem) or a
 * hugetlbfs memfd mapped by file offset. Its errnos leave nothing behind;
 * a mock domain maps the file's own pages (the test's MAP_SHARED view of
 * the file shows which), holes are filled when pinned, pins are charged
 * and given back as IOMMU_IOAS_MAP's, a software access writes into the
 * file, COPY shares the pages, and a file truncated under its pins is
 * unmapped cleanly. IOMMU_IOAS_CHANGE_PROCESS moves the pins' charge to
 * a process that took the file over, for file maps only.
 *
 * Needs a kernel built with CONFIG_IOMMUFD_TEST, and root.
 */
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "iommufd_utils.h"

#define NPAGES 16

static int _map_file(int fd, __u32 ioas, __u32 flags, int mfd, __u64 start,
		     __u64 length, __u64 *iova)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas,
		.fd = mfd,
		.start = start,
		.length = length,
		.iova = iova ? *iova : 0,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_MAP_FILE, &cmd);
	if (!rc && iova)
		*iova = cmd.iova;
	return rc;
}

#define RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define FIXED_RW (IOMMU_IOAS_MAP_FIXED_IOVA | RW)

/* a memfd of @len bytes, with @flags of memfd_create() */
static int new_memfd(unsigned int flags, size_t len)
{
	int mfd = memfd_create("iommufd-map-file", MFD_CLOEXEC | flags);

	if (mfd < 0)
		return -1;
	if (ftruncate(mfd, len)) {
		close(mfd);
		return -1;
	}
	return mfd;
}

/* the MAP_SHARED view of the whole file: the file's own pages */
static void *view(int mfd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);

	return p == MAP_FAILED ? NULL : p;
}

FIXTURE(map_file) {
	int fd;
	__u32 ioas;
	__u32 hwpt;
	int mfd;
	unsigned char *v;
	struct iommufd_stats start;
};

FIXTURE_SETUP(map_file)
{
	unsigned int i;

	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, _ioas_alloc(self->fd, &self->ioas));
	self->mfd = new_memfd(0, NPAGES * PS);
	ASSERT_LE(0, self->mfd);
	self->v = view(self->mfd, NPAGES * PS);
	ASSERT_NE(NULL, self->v);
	for (i = 0; i != NPAGES * PS; i++)
		self->v[i] = (unsigned char)(i * 13 + i / PS);
	ASSERT_EQ(0, _get_stats(self->fd, &self->start));
}

FIXTURE_TEARDOWN(map_file)
{
	munmap(self->v, NPAGES * PS);
	close(self->mfd);
	close(self->fd);
}

/* the errnos of bad calls, each leaving nothing mapped or pinned */
TEST_F(map_file, errors)
{
	int efd = eventfd(0, EFD_CLOEXEC), ro, sealed, closed;
	__u64 base = APERTURE_START, iova;
	char path[64];

	ASSERT_LE(0, efd);
	iova = base;
	EXPECT_EQ(EOPNOTSUPP, _map_file(self->fd, self->ioas,
					FIXED_RW | 1 << 3, self->mfd, 0,
					PS, &iova));
	EXPECT_EQ(EINVAL, _map_file(self->fd, self->ioas,
				    IOMMU_IOAS_MAP_FIXED_IOVA, self->mfd, 0,
				    PS, &iova));
	EXPECT_EQ(EINVAL, _map_file(self->fd, self->ioas, FIXED_RW,
				    self->mfd, 0, 0, &iova));
	EXPECT_EQ(ENOENT, _map_file(self->fd, 0xdead, FIXED_RW, self->mfd,
				    0, PS, &iova));
	closed = dup(efd);
	close(closed);
	EXPECT_EQ(EBADF, _map_file(self->fd, self->ioas, FIXED_RW, closed,
				   0, PS, &iova));
	EXPECT_EQ(EBADF, _map_file(self->fd, self->ioas, FIXED_RW, -1, 0,
				   PS, &iova));
	/* files that are neither shmem nor hugetlbfs */
	EXPECT_EQ(EINVAL, _map_file(self->fd, self->ioas, FIXED_RW, efd, 0,
				    PS, &iova));
	EXPECT_EQ(EINVAL, _map_file(self->fd, self->ioas, FIXED_RW,
				    self->fd, 0, PS, &iova));
	/* past the file's end, and a range whose end wraps */
	EXPECT_EQ(EINVAL, _map_file(self->fd, self->ioas, FIXED_RW,
				    self->mfd, PS, NPAGES * PS, &iova));
	EXPECT_EQ(EOVERFLOW, _map_file(self->fd, self->ioas, FIXED_RW,
				       self->mfd, UINT64_MAX - PS + 1,
				       2 * PS, &iova));
	/* read-only descriptor: writeable mapping refused, readable works */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", self->mfd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	EXPECT_EQ(EACCES, _map_file(self->fd, self->ioas, FIXED_RW, ro, 0,
				    PS, &iova));
	/* a memfd sealed against writes */
	sealed = memfd_create("sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ASSERT_LE(0, sealed);
	ASSERT_EQ(0, ftruncate(sealed, PS));
	ASSERT_EQ(0, fcntl(sealed, F_ADD_SEALS, F_SEAL_WRITE));
	EXPECT_EQ(EPERM, _map_file(self->fd, self->ioas, FIXED_RW, sealed,
				   0, PS, &iova));
	BACK_TO_START();

	ASSERT_EQ(0, _map_file(self->fd, self->ioas,
			       IOMMU_IOAS_MAP_FIXED_IOVA |
			       IOMMU_IOAS_MAP_READABLE, ro, 0, PS, &iova));
	ASSERT_EQ(0, _map_file(self->fd, self->ioas,
			       IOMMU_IOAS_MAP_READABLE, sealed, 0, PS, NULL));
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));
	close(sealed);
	close(ro);
	close(efd);
	BACK_TO_START();
}

/* a domain maps the file's own pages, charged once, given back at unmap */
TEST_F(map_file, domain_maps_file_pages)
{
	__u64 iova = APERTURE_START;
	struct iommufd_stats now;

	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, NULL, &self->hwpt,
				  NULL));
	ASSERT_EQ(0, _map_file(self->fd, self->ioas, FIXED_RW, self->mfd, 0,
			       NPAGES * PS, &iova));
	EXPECT_EQ(0, _md_check_map(self->fd, self->hwpt, iova, self->v,
				   NPAGES * PS));
	ASSERT_EQ(0, _get_stats(self->fd, &now));
	EXPECT_EQ(self->start.pinned_pages + NPAGES, now.pinned_pages);
	EXPECT_EQ(self->start.mm_pinned_vm + NPAGES, now.mm_pinned_vm);
	EXPECT_EQ(1, now.pages_objects - self->start.pages_objects);

	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, iova, NPAGES * PS,
				 NULL));
	EXPECT_EQ(ENOENT, _ioas_unmap(self->fd, self->ioas, iova, PS, NULL));
	BACK_TO_START();
}

/* mapped before the domain: the domain's fill pins from the file then */
TEST_F(map_file, fill_later_and_copy)
{
	__u64 iova = APERTURE_START + 8 * PS, dst = 0;
	__u32 ioas2, hwpt2;

	ASSERT_EQ(0, _map_file(self->fd, self->ioas, FIXED_RW, self->mfd,
			       2 * PS, 4 * PS, &iova));
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, NULL, &self->hwpt,
				  NULL));
	EXPECT_EQ(0, _md_check_map(self->fd, self->hwpt, iova,
				   self->v + 2 * PS, 4 * PS));

	/* COPY shares the pages: no second pin */
	ASSERT_EQ(0, _ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, _mock_domain(self->fd, ioas2, NULL, &hwpt2, NULL));
	ASSERT_EQ(0, _ioas_copy(self->fd, RW, ioas2, &dst, self->ioas, iova,
				4 * PS));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt2, dst, self->v + 2 * PS,
				   4 * PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->v + 2 * PS, 4 * PS, 1));

	ASSERT_EQ(0, _ioas_unmap(self->fd, ioas2, 0, U64_MAX, NULL));
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));
	BACK_TO_START();
}

/*
 * An offset that is not page aligned sets the IOVA's offset in its page,
 * as a user address does for IOMMU_IOAS_MAP; with a mock domain it must be
 * a multiple of the domain's IOPTE size (half a page), else EINVAL.
 */
TEST_F(map_file, unaligned_start)
{
	__u64 off = MOCK_GRAN, iova = 0;

	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, NULL, &self->hwpt,
				  NULL));
	EXPECT_EQ(EINVAL, _map_file(self->fd, self->ioas, RW, self->mfd,
				    3 * PS + 100, 2 * PS, &iova));
	ASSERT_EQ(0, _map_file(self->fd, self->ioas, RW, self->mfd,
			       3 * PS + off, 2 * PS, &iova));
	EXPECT_EQ(off, iova % PS);
	EXPECT_EQ(0, _md_check_map(self->fd, self->hwpt, iova,
				   self->v + 3 * PS + off, 2 * PS));
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));
	BACK_TO_START();
}

/* a hole is filled when pinned, and an access writes into the file */
TEST_F(map_file, holes_and_access_rw)
{
	static const char msg[] = "written through the IOVA";
	int mfd = new_memfd(0, 8 * PS), access;
	__u64 iova = APERTURE_START;
	char back[sizeof(msg)] = {};
	unsigned char *v;

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, NULL, &self->hwpt,
				  NULL));
	/* nothing of the file was ever touched */
	ASSERT_EQ(0, _map_file(self->fd, self->ioas, FIXED_RW, mfd, 0, 8 * PS,
			       &iova));
	v = view(mfd, 8 * PS);
	ASSERT_NE(NULL, v);
	EXPECT_EQ(0, _md_check_map(self->fd, self->hwpt, iova, v, 8 * PS));
	EXPECT_EQ(0, v[5 * PS]);

	ASSERT_EQ(0, _create_access(self->fd, self->ioas, 0, &access));
	ASSERT_EQ(0, _access_rw(self->fd, access, iova + 5 * PS + 7,
				sizeof(msg), (void *)msg, MOCK_ACCESS_RW_WRITE));
	/* the file's page (read through the shared view: no CONFIG_TMPFS) */
	EXPECT_EQ(0, memcmp(v + 5 * PS + 7, msg, sizeof(msg)));
	ASSERT_EQ(0, _access_rw(self->fd, access, iova + 5 * PS + 7,
				sizeof(msg), back, MOCK_ACCESS_RW_SLOW_PATH));
	EXPECT_EQ(0, memcmp(back, msg, sizeof(msg)));
	close(access);

	munmap(v, 8 * PS);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));
	close(mfd);
	BACK_TO_START();
}

/*
 * Truncated under its pins: the pages the file dropped stay pinned until
 * the unmap, which is clean (the mock checks that every page it stops
 * mapping is still pinned), and a new map can't reach past the new end.
 */
TEST_F(map_file, truncate_under_pins)
{
	__u64 iova = APERTURE_START;

	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, NULL, &self->hwpt,
				  NULL));
	ASSERT_EQ(0, _map_file(self->fd, self->ioas, FIXED_RW, self->mfd, 0,
			       NPAGES * PS, &iova));
	ASSERT_EQ(0, ftruncate(self->mfd, 8 * PS));
	EXPECT_EQ(0, _md_check_map(self->fd, self->hwpt, iova, self->v,
				   8 * PS));
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, iova, NPAGES * PS,
				 NULL));
	BACK_TO_START();
	/* the file's own range ends at its new size now */
	EXPECT_EQ(EINVAL, _map_file(self->fd, self->ioas, FIXED_RW,
				    self->mfd, 0, NPAGES * PS, &iova));
	BACK_TO_START();
}

/* a hugetlbfs memfd: holes filled by whole huge pages, each page mapped */
TEST_F(map_file, hugetlb)
{
	const size_t huge = 2 * 1024 * 1024;
	__u64 iova = APERTURE_START + huge;
	unsigned char *v;
	int mfd, nr;
	FILE *f;

	f = fopen("/proc/sys/vm/nr_hugepages", "r+");
	if (!f || fscanf(f, "%d", &nr) != 1)
		SKIP(return, "no /proc/sys/vm/nr_hugepages");
	if (nr < 4) {
		rewind(f);
		fprintf(f, "4\n");
	}
	fclose(f);
	mfd = new_memfd(MFD_HUGETLB, 2 * huge);
	if (mfd < 0)
		SKIP(return, "no 2 MiB hugetlb memfd: %s", strerror(errno));
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, NULL, &self->hwpt,
				  NULL));
	/* no page of the file exists yet */
	ASSERT_EQ(0, _map_file(self->fd, self->ioas, FIXED_RW, mfd, huge / 2,
			       huge, &iova));
	v = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, v);
	EXPECT_EQ(0, _md_check_map(self->fd, self->hwpt, iova, v + huge / 2,
				   huge));
	munmap(v, 2 * huge);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));
	close(mfd);
	BACK_TO_START();
}

static int change_process(int fd, __u32 reserved)
{
	struct iommu_ioas_change_process cmd = {
		.size = sizeof(cmd),
		.__reserved = reserved,
	};

	return iommufd_ioctl(fd, IOMMU_IOAS_CHANGE_PROCESS, &cmd);
}

/*
 * In a child that shares the file: its mm's pinned_vm before, the
 * CHANGE_PROCESS errno, and its pinned_vm after, as the exit status bits
 * of what differs from @want_pinned_before, @want_rc, @want_pinned_after.
 */
static int child_change(int fd, __u64 want_pinned_before, int want_rc,
			__u64 want_pinned_after)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (!pid) {
		struct iommufd_stats c;
		int bad = 0;

		if (_get_stats(fd, &c) || c.mm_pinned_vm != want_pinned_before)
			bad |= 1;
		if (change_process(fd, 0) != want_rc)
			bad |= 2;
		if (_get_stats(fd, &c) || c.mm_pinned_vm != want_pinned_after)
			bad |= 4;
		_exit(bad);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * IOMMU_IOAS_CHANGE_PROCESS: a process that took the file over gets the
 * file maps' pins charged (its mm's pinned_vm), the old one is relieved;
 * with a map of user memory present it is EINVAL and nothing moves.
 */
TEST_F(map_file, change_process)
{
	__u64 iova = APERTURE_START, uva_iova = 0;
	struct iommufd_stats now;
	void *buf;

	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, NULL, &self->hwpt,
				  NULL));
	ASSERT_EQ(0, _map_file(self->fd, self->ioas, FIXED_RW, self->mfd, 0,
			       NPAGES * PS, &iova));
	EXPECT_EQ(EOPNOTSUPP, change_process(self->fd, 1));
	/* to the process that has them: nothing changes */
	EXPECT_EQ(0, change_process(self->fd, 0));
	ASSERT_EQ(0, _get_stats(self->fd, &now));
	EXPECT_EQ(self->start.mm_pinned_vm + NPAGES, now.mm_pinned_vm);

	/* to a child: its mm is charged, ours is not any more */
	EXPECT_EQ(0, child_change(self->fd, 0, 0, NPAGES));
	ASSERT_EQ(0, _get_stats(self->fd, &now));
	EXPECT_EQ(self->start.mm_pinned_vm, now.mm_pinned_vm);
	EXPECT_EQ(self->start.pinned_pages + NPAGES, now.pinned_pages);
	EXPECT_EQ(0, _md_check_map(self->fd, self->hwpt, iova, self->v,
				   NPAGES * PS));
	/* and back to us */
	EXPECT_EQ(0, change_process(self->fd, 0));
	ASSERT_EQ(0, _get_stats(self->fd, &now));
	EXPECT_EQ(self->start.mm_pinned_vm + NPAGES, now.mm_pinned_vm);

	/* a map of user memory can't move: EINVAL, nothing moves */
	buf = alloc_buffer(PS, 3);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, _ioas_map(self->fd, self->ioas, RW, buf, PS, &uva_iova));
	EXPECT_EQ(0, child_change(self->fd, 0, EINVAL, 0));
	ASSERT_EQ(0, _get_stats(self->fd, &now));
	EXPECT_EQ(self->start.mm_pinned_vm + NPAGES + 1, now.mm_pinned_vm);

	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));
	munmap(buf, PS);
	BACK_TO_START();
}

TEST_HARNESS_MAIN
