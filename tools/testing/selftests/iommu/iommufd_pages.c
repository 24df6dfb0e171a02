// SPDX-License-Identifier: GPL-2.0-only
/*
 * kselftests for pinning and the mock domain of /dev/iommu: what the mock
 * domains map after MAP, COPY and domain attach/detach, one pin per page,
 * locked memory accounting and RLIMIT_MEMLOCK (user and process mode), fork,
 * the pinning batch limit, PFNs read back from the CPU page table or the
 * domain, hugetlbfs pages, automatic IOVA allocation, a
 * map/unmap race regression and the mock IOMMU beside a real one.
 *
 * Needs a kernel built with CONFIG_IOMMUFD_TEST (the mock domain), root,
 * and /proc/self/pagemap.
 */
#include <dirent.h>
#include <glob.h>
#include <limits.h>
#include <sys/stat.h>
#include <linux/vfio.h>

#include "iommufd_utils.h"

/* ====================================================================== */
/* One IOAS with one or two mock domains */

#define PAGES_NR 64

FIXTURE(pages) {
	int fd;
	__u32 ioas;
	unsigned int nr_hwpts;
	__u32 stdev[2];
	__u32 hwpt[2];
	unsigned char *buf;
	size_t buf_size;
	__u64 base;
	struct iommufd_stats start;	/* after setup, nothing mapped */
};

FIXTURE_DOMAINS(pages);
DOMAINS_VARIANT(pages, one_domain, 1);
DOMAINS_VARIANT(pages, two_domains, 2);

FIXTURE_SETUP(pages)
{
	SETUP_IOAS(variant->domains, self->stdev, PAGES_NR, 11);
	self->base = APERTURE_START;
	ASSERT_EQ(0, _get_stats(self->fd, &self->start));
}

FIXTURE_TEARDOWN(pages)
{
	if (self->fd >= 0) {
		/* the batch limit is global: never leave it set */
		_set_temp_memory_limit(self->fd, 0);
		close(self->fd);
	}
	munmap(self->buf, self->buf_size);
}

TEST_F(pages, map_pins_once)
{
	unsigned char *buf = self->buf;
	struct iommufd_stats st;
	__u64 iova = 0, len = 0;

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, buf, 16 * PS,
				self->base));
	ASSERT_EQ(0, _map_auto(self->fd, self->ioas, buf + 16 * PS, 8 * PS,
			       &iova));
	MAPPED(self->base, 16 * PS, buf);
	MAPPED(iova, 8 * PS, buf + 16 * PS);

	/* one pin per page, however many domains */
	EXPECT_EQ(0, _md_check_refs(self->fd, buf, 24 * PS, 1));
	EXPECT_EQ(0, _md_check_refs(self->fd, buf + 24 * PS, 8 * PS, 0));
	/* and CHECK_REFS does notice a wrong count */
	EXPECT_EQ(EIO, _md_check_refs(self->fd, buf, 24 * PS, 2));
	EXPECT_EQ(EIO, _md_check_refs(self->fd, buf, 24 * PS, 0));
	EXPECT_EQ(EIO, _md_check_refs(self->fd, buf + 16 * PS, 16 * PS, 1));
	STATS(&st);
	EXPECT_EQ(self->start.pinned_pages + 24, st.pinned_pages);
	EXPECT_EQ(self->start.areas + 2, st.areas);
	EXPECT_LT(self->start.pages_objects, st.pages_objects);

	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, self->base, 16 * PS,
				 &len));
	EXPECT_EQ(16 * PS, len);
	EXPECT_EQ(0, _md_check_refs(self->fd, buf, 16 * PS, 0));
	EXPECT_EQ(0, _md_check_refs(self->fd, buf + 16 * PS, 8 * PS, 1));
	STATS(&st);
	EXPECT_EQ(self->start.pinned_pages + 8, st.pinned_pages);

	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, &len));
	EXPECT_EQ(8 * PS, len);
	EXPECT_EQ(0, _md_check_refs(self->fd, buf, 24 * PS, 0));
	STATS(&st);
	ASSERT_STATS_EQUAL(&self->start, &st);
}

/* The same memory mapped twice by two MAPs is still pinned once per MAP. */
TEST_F(pages, map_same_memory_twice)
{
	struct iommufd_stats st;

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 4 * PS,
				self->base));
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 4 * PS,
				self->base + 16 * PS));
	MAPPED(self->base, 4 * PS, self->buf);
	MAPPED(self->base + 16 * PS, 4 * PS, self->buf);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 2));
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, self->base, 4 * PS,
				 NULL));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 1));
	MAPPED(self->base + 16 * PS, 4 * PS, self->buf);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	STATS(&st);
	ASSERT_STATS_EQUAL(&self->start, &st);
}

TEST_F(pages, copy_shares_pins)
{
	const __u64 b = self->base;
	struct iommufd_stats st;
	__u32 ioas2, stdev2, hwpt2;
	__u64 iova = 0;

	ASSERT_EQ(0, _ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, _mock_domain(self->fd, ioas2, &stdev2, &hwpt2, NULL));
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 8 * PS, b));

	iova = b + 32 * PS;
	ASSERT_EQ(0, _ioas_copy(self->fd, MAP_FIXED_RW, self->ioas, &iova,
				self->ioas, b, 8 * PS));
	iova = b;
	ASSERT_EQ(0, _ioas_copy(self->fd, MAP_FIXED_RW, ioas2, &iova,
				self->ioas, b, 8 * PS));
	MAPPED(b, 8 * PS, self->buf);
	MAPPED(b + 32 * PS, 8 * PS, self->buf);
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt2, b, self->buf, 8 * PS));

	/* three mappings, up to three domains, one pin and one charge */
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 1));
	STATS(&st);
	EXPECT_EQ(self->start.pinned_pages + 8, st.pinned_pages);
	EXPECT_EQ(self->start.user_locked_vm + 8, st.user_locked_vm);
	EXPECT_EQ(self->start.mm_pinned_vm + 8, st.mm_pinned_vm);

	/* the source goes: the copies keep the pages pinned */
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, b, 8 * PS, NULL));
	MAPPED(b + 32 * PS, 8 * PS, self->buf);
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt2, b, self->buf, 8 * PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 1));

	/* the copy in ioas2 alone still keeps them, through hwpt2 */
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, b + 32 * PS, 8 * PS,
				 NULL));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 1));
	STATS(&st);
	EXPECT_EQ(self->start.pinned_pages + 8, st.pinned_pages);

	/* without a domain on ioas2 nothing is pinned, the mapping stays */
	ASSERT_EQ(0, _destroy(self->fd, stdev2));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 0));
	EXPECT_EQ(0, _probe_mapped(self->fd, ioas2, b, 8 * PS));
	STATS(&st);
	EXPECT_EQ(self->start.pinned_pages, st.pinned_pages);
	EXPECT_EQ(self->start.user_locked_vm, st.user_locked_vm);

	ASSERT_EQ(0, _destroy(self->fd, ioas2));
	STATS(&st);
	ASSERT_STATS_EQUAL(&self->start, &st);
}

TEST_F(pages, domain_attach_after_map)
{
	const __u64 b = self->base;
	__u32 ioas2, stdev2[2], hwpt2[2];
	struct iommufd_stats st;
	unsigned int i;
	__u64 iova;

	/* a second IOAS with mappings and no domain: nothing pinned */
	ASSERT_EQ(0, _ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, _map_fixed(self->fd, ioas2, self->buf, 16 * PS, b));
	iova = b + 64 * PS;
	ASSERT_EQ(0, _ioas_copy(self->fd, MAP_FIXED_RW, ioas2, &iova, ioas2,
				b + 4 * PS, 4 * PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 16 * PS, 0));
	STATS(&st);
	EXPECT_EQ(self->start.pinned_pages, st.pinned_pages);
	EXPECT_EQ(self->start.user_locked_vm, st.user_locked_vm);

	/* attaching pins and fills the domains */
	for (i = 0; i < self->nr_hwpts; i++) {
		ASSERT_EQ(0, _mock_domain(self->fd, ioas2, &stdev2[i],
					  &hwpt2[i], NULL));
		EXPECT_EQ(0, _md_check_map(self->fd, hwpt2[i], b, self->buf,
					   16 * PS));
		EXPECT_EQ(0, _md_check_map(self->fd, hwpt2[i], b + 64 * PS,
					   self->buf + 4 * PS, 4 * PS));
		EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 16 * PS, 1));
		STATS(&st);
		EXPECT_EQ(self->start.pinned_pages + 16, st.pinned_pages);
		EXPECT_EQ(self->start.user_locked_vm + 16, st.user_locked_vm);
	}

	/* detaching the last one unpins, the mappings stay */
	for (i = 0; i < self->nr_hwpts; i++) {
		EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 16 * PS, 1));
		ASSERT_EQ(0, _destroy(self->fd, stdev2[i]));
	}
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 16 * PS, 0));
	STATS(&st);
	EXPECT_EQ(self->start.pinned_pages, st.pinned_pages);
	EXPECT_EQ(self->start.user_locked_vm, st.user_locked_vm);
	EXPECT_EQ(self->start.mm_pinned_vm, st.mm_pinned_vm);
	EXPECT_EQ(0, _probe_mapped(self->fd, ioas2, b, 16 * PS));
	EXPECT_EQ(0, _probe_mapped(self->fd, ioas2, b + 64 * PS, 4 * PS));

	/* and attaching again works the same */
	ASSERT_EQ(0, _mock_domain(self->fd, ioas2, &stdev2[0], &hwpt2[0],
				  NULL));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt2[0], b, self->buf, 16 * PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 16 * PS, 1));
	ASSERT_EQ(0, _destroy(self->fd, stdev2[0]));
	ASSERT_EQ(0, _destroy(self->fd, ioas2));
	STATS(&st);
	ASSERT_STATS_EQUAL(&self->start, &st);
}

TEST_F(pages, domain_detach_keeps_others)
{
	__u32 extra_stdev, extra_hwpt;
	struct iommufd_stats st;
	unsigned int i;

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 8 * PS,
				self->base));
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &extra_stdev,
				  &extra_hwpt, NULL));
	EXPECT_EQ(0, _md_check_map(self->fd, extra_hwpt, self->base, self->buf,
				   8 * PS));

	ASSERT_EQ(0, _destroy(self->fd, self->stdev[0]));
	EXPECT_EQ(ENOENT, _md_iopte(self->fd, self->hwpt[0], self->base,
				    NULL));
	for (i = 1; i < self->nr_hwpts; i++) {
		EXPECT_EQ(0, _md_check_map(self->fd, self->hwpt[i], self->base,
					   self->buf, 8 * PS));
	}
	EXPECT_EQ(0, _md_check_map(self->fd, extra_hwpt, self->base, self->buf,
				   8 * PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 1));
	STATS(&st);
	EXPECT_EQ(self->start.pinned_pages + 8, st.pinned_pages);

	ASSERT_EQ(0, _destroy(self->fd, extra_stdev));
	for (i = 1; i < self->nr_hwpts; i++) {
		int rc = _destroy(self->fd, self->stdev[i]);

		ASSERT_EQ(0, rc);
	}
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS, 0));
	EXPECT_EQ(0, _probe_mapped(self->fd, self->ioas, self->base, 8 * PS));
	STATS(&st);
	EXPECT_EQ(self->start.pinned_pages, st.pinned_pages);
	EXPECT_EQ(self->start.user_locked_vm, st.user_locked_vm);
}

/* ---- accounting ---- */

TEST_F(pages, accounting_user_mode)
{
	const long kb = PS / 1024;
	struct iommufd_stats st;
	unsigned char *buf2;
	__u64 iova = 0;
	long vmpin0;
	int fd2;

	buf2 = alloc_buffer(8 * PS, 12);
	ASSERT_NE(NULL, buf2);
	vmpin0 = proc_status_kb("VmPin");
	ASSERT_LE(0, vmpin0);
	EXPECT_EQ(self->start.mm_pinned_vm * kb, vmpin0);

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 16 * PS,
				self->base));
	STATS(&st);
	EXPECT_EQ(self->start.user_locked_vm + 16, st.user_locked_vm);
	EXPECT_EQ(self->start.mm_pinned_vm + 16, st.mm_pinned_vm);
	EXPECT_EQ(self->start.mm_locked_vm, st.mm_locked_vm);
	EXPECT_EQ(vmpin0 + 16 * kb, proc_status_kb("VmPin"));

	/* a copy costs nothing */
	iova = self->base + 64 * PS;
	ASSERT_EQ(0, _ioas_copy(self->fd, MAP_FIXED_RW, self->ioas, &iova,
				self->ioas, self->base, 16 * PS));
	STATS(&st);
	EXPECT_EQ(self->start.user_locked_vm + 16, st.user_locked_vm);
	EXPECT_EQ(self->start.mm_pinned_vm + 16, st.mm_pinned_vm);

	/* other memory does */
	ASSERT_EQ(0, _map_auto(self->fd, self->ioas, buf2, 8 * PS, &iova));
	STATS(&st);
	EXPECT_EQ(self->start.user_locked_vm + 24, st.user_locked_vm);
	EXPECT_EQ(self->start.mm_pinned_vm + 24, st.mm_pinned_vm);
	EXPECT_EQ(self->start.mm_locked_vm, st.mm_locked_vm);
	EXPECT_EQ(vmpin0 + 24 * kb, proc_status_kb("VmPin"));

	/* back to the baseline after unmap */
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));
	STATS(&st);
	ASSERT_STATS_EQUAL(&self->start, &st);
	EXPECT_EQ(vmpin0, proc_status_kb("VmPin"));

	/* and after close */
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 16 * PS,
				self->base));
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, buf2, 8 * PS,
				self->base + 32 * PS));
	fd2 = iommufd_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, _get_stats(fd2, &st));
	EXPECT_EQ(self->start.user_locked_vm + 24, st.user_locked_vm);
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, _get_stats(fd2, &st));
	ASSERT_STATS_EQUAL(&self->start, &st);
	EXPECT_EQ(vmpin0, proc_status_kb("VmPin"));
	EXPECT_EQ(0, _md_check_refs(fd2, self->buf, 16 * PS, 0));
	close(fd2);
	munmap(buf2, 8 * PS);
}

TEST(accounting_no_domain)
{
	struct iommufd_stats s0, st;
	__u32 ioas, stdev1, stdev2;
	unsigned char *buf;
	int fd, fd2;

	buf = alloc_buffer(16 * PS, 13);
	ASSERT_NE(NULL, buf);
	fd = iommufd_open();
	ASSERT_LE(0, fd);
	fd2 = iommufd_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, _get_stats(fd, &s0));
	ASSERT_EQ(0, _ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, _map_fixed(fd, ioas, buf, 16 * PS, APERTURE_START));

	/* mapped, but nothing pins it yet */
	ASSERT_EQ(0, _get_stats(fd, &st));
	EXPECT_EQ(s0.pinned_pages, st.pinned_pages);
	EXPECT_EQ(s0.user_locked_vm, st.user_locked_vm);
	EXPECT_EQ(s0.mm_pinned_vm, st.mm_pinned_vm);
	EXPECT_EQ(s0.mm_locked_vm, st.mm_locked_vm);
	EXPECT_EQ(s0.areas + 1, st.areas);

	ASSERT_EQ(0, _mock_domain(fd, ioas, &stdev1, NULL, NULL));
	ASSERT_EQ(0, _get_stats(fd, &st));
	EXPECT_EQ(s0.pinned_pages + 16, st.pinned_pages);
	EXPECT_EQ(s0.user_locked_vm + 16, st.user_locked_vm);
	EXPECT_EQ(s0.mm_pinned_vm + 16, st.mm_pinned_vm);

	/* a second domain pins and charges nothing more */
	ASSERT_EQ(0, _mock_domain(fd, ioas, &stdev2, NULL, NULL));
	ASSERT_EQ(0, _get_stats(fd, &st));
	EXPECT_EQ(s0.pinned_pages + 16, st.pinned_pages);
	EXPECT_EQ(s0.user_locked_vm + 16, st.user_locked_vm);
	EXPECT_EQ(s0.mm_pinned_vm + 16, st.mm_pinned_vm);

	ASSERT_EQ(0, _destroy(fd, stdev1));
	ASSERT_EQ(0, _get_stats(fd, &st));
	EXPECT_EQ(s0.pinned_pages + 16, st.pinned_pages);
	ASSERT_EQ(0, _destroy(fd, stdev2));
	ASSERT_EQ(0, _get_stats(fd, &st));
	EXPECT_EQ(s0.pinned_pages, st.pinned_pages);
	EXPECT_EQ(s0.user_locked_vm, st.user_locked_vm);
	EXPECT_EQ(s0.mm_pinned_vm, st.mm_pinned_vm);
	EXPECT_EQ(s0.areas + 1, st.areas);

	CLOSE_TO_BASELINE(fd, fd2, &s0);
	close(fd2);
	munmap(buf, 16 * PS);
}

TEST(accounting_process_mode)
{
	const long kb = PS / 1024;
	struct iommufd_stats s0, st;
	unsigned char *buf;
	long vmlck0, vmpin0;
	__u32 ioas;
	int fd, fd2;

	buf = alloc_buffer(16 * PS, 14);
	ASSERT_NE(NULL, buf);
	fd = iommufd_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, _option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 0, 1));
	ASSERT_EQ(0, _ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, _mock_domain(fd, ioas, NULL, NULL, NULL));
	ASSERT_EQ(0, _get_stats(fd, &s0));
	vmlck0 = proc_status_kb("VmLck");
	vmpin0 = proc_status_kb("VmPin");
	ASSERT_LE(0, vmlck0);
	ASSERT_LE(0, vmpin0);

	ASSERT_EQ(0, _map_fixed(fd, ioas, buf, 16 * PS, APERTURE_START));
	ASSERT_EQ(0, _get_stats(fd, &st));
	EXPECT_EQ(s0.mm_locked_vm + 16, st.mm_locked_vm);
	EXPECT_EQ(s0.mm_pinned_vm + 16, st.mm_pinned_vm);
	EXPECT_EQ(s0.user_locked_vm, st.user_locked_vm);
	EXPECT_EQ(s0.pinned_pages + 16, st.pinned_pages);
	EXPECT_EQ(vmlck0 + 16 * kb, proc_status_kb("VmLck"));
	EXPECT_EQ(vmpin0 + 16 * kb, proc_status_kb("VmPin"));

	ASSERT_EQ(0, _ioas_unmap(fd, ioas, 0, U64_MAX, NULL));
	ASSERT_EQ(0, _get_stats(fd, &st));
	ASSERT_STATS_EQUAL(&s0, &st);
	EXPECT_EQ(vmlck0, proc_status_kb("VmLck"));

	ASSERT_EQ(0, _map_fixed(fd, ioas, buf, 16 * PS, APERTURE_START));
	fd2 = iommufd_open();
	ASSERT_LE(0, fd2);
	CLOSE_TO_BASELINE(fd, fd2, &s0);
	EXPECT_EQ(vmlck0, proc_status_kb("VmLck"));
	EXPECT_EQ(vmpin0, proc_status_kb("VmPin"));
	close(fd2);
	munmap(buf, 16 * PS);
}

TEST(close_releases_everything)
{
	struct iommufd_stats s0, st;
	unsigned char *buf, *buf2;
	__u32 ioas1, ioas2;
	__u64 iova = 0;
	int fd, fd2;

	buf = alloc_buffer(32 * PS, 15);
	ASSERT_NE(NULL, buf);
	buf2 = alloc_buffer(8 * PS, 16);
	ASSERT_NE(NULL, buf2);
	fd2 = OPEN_STATS_BASELINE(&s0);

	fd = OPEN_TWO_IOAS(&ioas1, &ioas2);
	ASSERT_EQ(0, _mock_domain(fd, ioas1, NULL, NULL, NULL));
	ASSERT_EQ(0, _mock_domain(fd, ioas1, NULL, NULL, NULL));
	ASSERT_EQ(0, _mock_domain(fd, ioas2, NULL, NULL, NULL));
	ASSERT_EQ(0, _map_fixed(fd, ioas1, buf, 32 * PS, APERTURE_START));
	ASSERT_EQ(0, _ioas_copy(fd, MAP_RW, ioas2, &iova, ioas1,
				APERTURE_START + 8 * PS, 16 * PS));
	ASSERT_EQ(0, _map_auto(fd, ioas2, buf2, 8 * PS, &iova));
	ASSERT_EQ(0, _add_reserved(fd, ioas1, APERTURE_START + SZ_1M, PS));
	ASSERT_EQ(0, _get_stats(fd2, &st));
	EXPECT_EQ(s0.pinned_pages + 40, st.pinned_pages);
	EXPECT_EQ(s0.user_locked_vm + 40, st.user_locked_vm);
	EXPECT_EQ(s0.areas + 3, st.areas);

	/* no DESTROY, no UNMAP: close alone cleans up */
	CLOSE_TO_BASELINE(fd, fd2, &s0);
	EXPECT_EQ(0, _md_check_refs(fd2, buf, 32 * PS, 0));
	EXPECT_EQ(0, _md_check_refs(fd2, buf2, 8 * PS, 0));
	close(fd2);
	munmap(buf, 32 * PS);
	munmap(buf2, 8 * PS);
}

/* ---- RLIMIT_MEMLOCK ---- */

/*
 * The limit tests run in a child that drops to "nobody" (no CAP_IPC_LOCK,
 * and a user whose locked_vm is its own). /dev/iommu is root only, so the
 * child opens it, and creates its objects, before dropping privileges.
 */
#define LIMIT_PAGES 16

static void child_stats(int fd, struct iommufd_stats *st)
{
	CHILD_ASSERT(_get_stats(fd, st) == 0);
}

/*
 * The start of a child: open /dev/iommu (in process mode with
 * @process_mode), allocate an IOAS into *@ioas and, with @domain, create a
 * mock domain on it (its hwpt id into *@hwpt unless NULL). Returns the fd.
 */
static int child_open_ioas(bool process_mode, __u32 *ioas, bool domain,
			   __u32 *hwpt)
{
	int fd;

	fd = iommufd_open();
	CHILD_ASSERT(fd >= 0);
	if (process_mode)
		CHILD_ASSERT(_option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 0,
					 1) == 0);
	CHILD_ASSERT(_ioas_alloc(fd, ioas) == 0);
	if (domain)
		CHILD_ASSERT(_mock_domain(fd, *ioas, NULL, hwpt, NULL) == 0);
	return fd;
}

/* Become "nobody", with a RLIMIT_MEMLOCK of LIMIT_PAGES */
static void child_become_limited_nobody(void)
{
	CHILD_ASSERT(set_memlock_limit(LIMIT_PAGES * PS) == 0);
	CHILD_ASSERT(become_user(NOBODY_ID) == 0);
}

static unsigned char *child_buffer(unsigned int pages, unsigned int seed)
{
	unsigned char *buf = alloc_buffer(pages * PS, seed);

	CHILD_ASSERT(buf);
	return buf;
}

static bool stats_same(const struct iommufd_stats *a,
		       const struct iommufd_stats *b)
{
	return a->pinned_pages == b->pinned_pages &&
	       a->pages_objects == b->pages_objects &&
	       a->areas == b->areas &&
	       a->user_locked_vm == b->user_locked_vm &&
	       a->mm_locked_vm == b->mm_locked_vm &&
	       a->mm_pinned_vm == b->mm_pinned_vm;
}

static void rlimit_user_mode_enomem_child(void)
{
	const __u64 b = APERTURE_START;
	struct iommufd_stats s0, s1, st;
	__u32 ioas, hwpt;
	unsigned char *buf;
	__u64 iova = 0;
	int fd;

	fd = child_open_ioas(false, &ioas, true, &hwpt);
	child_become_limited_nobody();
	CHILD_ASSERT(!have_capability(CAP_IPC_LOCK));
	buf = child_buffer(64, 17);
	child_stats(fd, &s0);
	/* nobody has nothing locked, or the arithmetic below is off */
	CHILD_ASSERT(s0.user_locked_vm == 0);

	CHILD_ASSERT(_map_fixed(fd, ioas, buf, 8 * PS, b) == 0);
	child_stats(fd, &s1);
	CHILD_ASSERT(s1.user_locked_vm == 8);
	CHILD_ASSERT(s1.mm_pinned_vm == s0.mm_pinned_vm + 8);
	CHILD_ASSERT(s1.pinned_pages == s0.pinned_pages + 8);

	/* 8 + 16 > 16: refused, and nothing stays behind */
	CHILD_ASSERT(_map_fixed(fd, ioas, buf + 16 * PS, 16 * PS,
				b + 16 * PS) == ENOMEM);
	child_stats(fd, &st);
	CHILD_ASSERT(stats_same(&s1, &st));
	CHILD_ASSERT(_probe_mapped(fd, ioas, b + 16 * PS, PS) == ENOENT);
	CHILD_ASSERT(_md_iopte(fd, hwpt, b + 16 * PS, NULL) == ENOENT);
	CHILD_ASSERT(_md_check_refs(fd, buf + 16 * PS, 16 * PS, 0) == 0);
	CHILD_ASSERT(_map_auto(fd, ioas, buf + 16 * PS, 9 * PS,
			       &iova) == ENOMEM);
	child_stats(fd, &st);
	CHILD_ASSERT(stats_same(&s1, &st));

	/* exactly up to the limit is fine */
	CHILD_ASSERT(_map_fixed(fd, ioas, buf + 8 * PS, 8 * PS,
				b + 8 * PS) == 0);
	child_stats(fd, &st);
	CHILD_ASSERT(st.user_locked_vm == LIMIT_PAGES);
	CHILD_ASSERT(_map_fixed(fd, ioas, buf + 32 * PS, PS,
				b + 32 * PS) == ENOMEM);
	/* copies share the pins, so they cost nothing */
	iova = b + 64 * PS;
	CHILD_ASSERT(_ioas_copy(fd, MAP_FIXED_RW, ioas, &iova, ioas, b,
				16 * PS) == 0);
	child_stats(fd, &st);
	CHILD_ASSERT(st.user_locked_vm == LIMIT_PAGES);
	CHILD_ASSERT(_md_check_map(fd, hwpt, b + 64 * PS, buf,
				   16 * PS) == 0);

	CHILD_ASSERT(_ioas_unmap(fd, ioas, 0, U64_MAX, NULL) == 0);
	child_stats(fd, &st);
	CHILD_ASSERT(st.user_locked_vm == 0);
	CHILD_ASSERT(st.mm_pinned_vm == s0.mm_pinned_vm);
	CHILD_ASSERT(st.pinned_pages == s0.pinned_pages);

	/* too big on its own */
	CHILD_ASSERT(_map_fixed(fd, ioas, buf, (LIMIT_PAGES + 1) * PS,
				b) == ENOMEM);
	child_stats(fd, &st);
	CHILD_ASSERT(stats_same(&s0, &st));
	CHILD_ASSERT(_md_check_refs(fd, buf, 64 * PS, 0) == 0);
	close(fd);
}

TEST(rlimit_user_mode_enomem)
{
	RUN_IN_CHILD(rlimit_user_mode_enomem_child);
}

static void rlimit_domain_attach_enomem_child(void)
{
	const struct iommu_iova_range full = { 0, U64_MAX };
	const __u64 b = APERTURE_START;
	struct iommufd_stats s0, st;
	struct iommu_iova_range r[2];
	__u32 ioas, hwpt, num;
	unsigned char *buf;
	__u64 align;
	int fd;

	fd = child_open_ioas(false, &ioas, false, NULL);
	child_become_limited_nobody();
	buf = child_buffer(32, 18);

	/* no domain: mapping more than the limit pins nothing */
	CHILD_ASSERT(_map_fixed(fd, ioas, buf, 32 * PS, b) == 0);
	child_stats(fd, &s0);
	CHILD_ASSERT(s0.user_locked_vm == 0);

	/* the domain would need to pin all of it */
	CHILD_ASSERT(_mock_domain(fd, ioas, NULL, NULL, NULL) == ENOMEM);
	child_stats(fd, &st);
	CHILD_ASSERT(stats_same(&s0, &st));
	CHILD_ASSERT(_md_check_refs(fd, buf, 32 * PS, 0) == 0);
	num = 2;
	CHILD_ASSERT(_iova_ranges(fd, ioas, r, &num, &align) == 0);
	CHILD_ASSERT(num == 1 && align == 1);
	CHILD_ASSERT(r[0].start == full.start && r[0].last == full.last);

	/* within the limit it attaches */
	CHILD_ASSERT(_ioas_unmap(fd, ioas, 0, U64_MAX, NULL) == 0);
	CHILD_ASSERT(_map_fixed(fd, ioas, buf, 8 * PS, b) == 0);
	CHILD_ASSERT(_mock_domain(fd, ioas, NULL, &hwpt, NULL) == 0);
	child_stats(fd, &st);
	CHILD_ASSERT(st.user_locked_vm == 8);
	CHILD_ASSERT(_md_check_map(fd, hwpt, b, buf, 8 * PS) == 0);
	close(fd);
}

TEST(rlimit_domain_attach_enomem)
{
	RUN_IN_CHILD(rlimit_domain_attach_enomem_child);
}

static void rlimit_cap_ipc_lock_child(void)
{
	const __u64 b = APERTURE_START;
	struct iommufd_stats s0, st;
	unsigned char *buf;
	__u32 ioas;
	int fd;

	/* process mode: the limit applies to this mm only */
	fd = child_open_ioas(true, &ioas, true, NULL);
	buf = child_buffer(32, 19);
	child_stats(fd, &s0);
	CHILD_ASSERT(set_memlock_limit((s0.mm_locked_vm + 8) * PS) == 0);

	/* root with CAP_IPC_LOCK isn't limited */
	CHILD_ASSERT(have_capability(CAP_IPC_LOCK));
	CHILD_ASSERT(_map_fixed(fd, ioas, buf, 16 * PS, b) == 0);
	CHILD_ASSERT(_ioas_unmap(fd, ioas, 0, U64_MAX, NULL) == 0);
	child_stats(fd, &st);
	CHILD_ASSERT(stats_same(&s0, &st));

	/* without it, root is */
	CHILD_ASSERT(drop_capability(CAP_IPC_LOCK) == 0);
	CHILD_ASSERT(!have_capability(CAP_IPC_LOCK));
	CHILD_ASSERT(_map_fixed(fd, ioas, buf, 16 * PS, b) == ENOMEM);
	child_stats(fd, &st);
	CHILD_ASSERT(stats_same(&s0, &st));
	CHILD_ASSERT(_map_fixed(fd, ioas, buf, 8 * PS, b) == 0);
	child_stats(fd, &st);
	CHILD_ASSERT(st.mm_locked_vm == s0.mm_locked_vm + 8);
	CHILD_ASSERT(_map_fixed(fd, ioas, buf + 8 * PS, PS,
				b + 8 * PS) == ENOMEM);
	close(fd);
}

TEST(rlimit_cap_ipc_lock)
{
	RUN_IN_CHILD(rlimit_cap_ipc_lock_child);
}

/*
 * Two processes of the same (unprivileged) user each map 12 pages with a
 * 16 page RLIMIT_MEMLOCK, the second while the first still holds its pages.
 */
struct memlock_report {
	int rc;
	__u64 user_locked_vm;
	__u64 mm_locked_vm;
	__u64 mm_pinned_vm;
};

#define SHARED_PAGES 12

static void memlock_child(int process_mode, int report_fd, int go_fd)
{
	struct memlock_report rep = {};
	struct iommufd_stats st;
	unsigned char *buf;
	__u32 ioas;
	char c;
	int fd;

	fd = child_open_ioas(process_mode, &ioas, true, NULL);
	child_become_limited_nobody();
	buf = child_buffer(SHARED_PAGES, 20);

	rep.rc = _map_fixed(fd, ioas, buf, SHARED_PAGES * PS, APERTURE_START);
	child_stats(fd, &st);
	rep.user_locked_vm = st.user_locked_vm;
	rep.mm_locked_vm = st.mm_locked_vm;
	rep.mm_pinned_vm = st.mm_pinned_vm;
	CHILD_ASSERT(write(report_fd, &rep, sizeof(rep)) == sizeof(rep));
	/* hold on to the pages until the parent is done */
	CHILD_ASSERT(read(go_fd, &c, 1) == 0);
	close(fd);
	_exit(0);
}

static void run_two_memlock_children(struct __test_metadata *_metadata,
				     int process_mode,
				     struct memlock_report rep[2])
{
	int report[2][2], go[2];
	pid_t pid[2];
	unsigned int i;

	ASSERT_EQ(0, pipe(go));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pipe(report[i]));
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0) {
			close(go[1]);
			close(report[i][0]);
			memlock_child(process_mode, report[i][1], go[0]);
		}
		close(report[i][1]);
		/* the first child has mapped before the second starts */
		ASSERT_EQ(sizeof(rep[i]), read(report[i][0], &rep[i],
					       sizeof(rep[i])));
		close(report[i][0]);
	}
	/* let both go */
	close(go[1]);
	close(go[0]);
	ASSERT_EQ(0, wait_child(pid[0]));
	ASSERT_EQ(0, wait_child(pid[1]));
}

TEST(rlimit_process_mode_per_process)
{
	struct memlock_report rep[2];
	unsigned int i;

	run_two_memlock_children(_metadata, 1, rep);
	/* 12 + 12 > 16, but each process only counts its own */
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, rep[i].rc);
		EXPECT_EQ(SHARED_PAGES, rep[i].mm_locked_vm);
		EXPECT_EQ(SHARED_PAGES, rep[i].mm_pinned_vm);
		EXPECT_EQ(0, rep[i].user_locked_vm);
	}
}

TEST(rlimit_user_mode_shared)
{
	struct memlock_report rep[2];

	run_two_memlock_children(_metadata, 0, rep);
	/* the same processes in user mode share one account */
	EXPECT_EQ(0, rep[0].rc);
	EXPECT_EQ(SHARED_PAGES, rep[0].user_locked_vm);
	EXPECT_EQ(SHARED_PAGES, rep[0].mm_pinned_vm);
	EXPECT_EQ(ENOMEM, rep[1].rc);
	EXPECT_EQ(SHARED_PAGES, rep[1].user_locked_vm);
	EXPECT_EQ(0, rep[1].mm_pinned_vm);
}

/* ---- fork ---- */

/*
 * The start of the fork tests: returns a copy of the @len bytes at @buf,
 * which are then mapped at @iova; *@pfn is the PFN of @buf, 0 if unknown.
 */
static unsigned char *__map_for_fork(struct __test_metadata *_metadata,
				     int fd, __u32 ioas, unsigned char *buf,
				     __u64 iova, size_t len, __u64 *pfn)
{
	unsigned char *expect;

	expect = malloc(len);
	ASSERT_NE(NULL, expect);
	memcpy(expect, buf, len);
	ASSERT_EQ(0, _map_fixed(fd, ioas, buf, len, iova));
	*pfn = virt_to_pfn(buf);
	return expect;
}

TEST_F(pages, fork_child_writes_its_copy)
{
	const size_t len = 8 * PS;
	struct mock_iopte pte;
	unsigned char *expect;
	unsigned int i;
	__u64 pfn;
	pid_t pid;

	expect = __map_for_fork(_metadata, self->fd, self->ioas, self->buf,
				self->base, len, &pfn);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		memset(self->buf, 0xee, len);
		CHILD_ASSERT(self->buf[0] == 0xee && self->buf[len - 1] == 0xee);
		_exit(0);
	}
	ASSERT_EQ(0, wait_child(pid));

	/* the parent's memory and what the domains map are untouched */
	EXPECT_EQ(0, memcmp(expect, self->buf, len));
	MAPPED(self->base, len, self->buf);
	EXPECT_EQ(pfn, virt_to_pfn(self->buf));
	for (i = 0; i < self->nr_hwpts; i++) {
		ASSERT_EQ(0, _md_iopte(self->fd, self->hwpt[i], self->base,
				       &pte));
		if (pfn)
			EXPECT_EQ(pfn, pte.phys / PS);
	}

	/* and a write by the parent lands in the pinned pages */
	memset(self->buf, 0x22, len);
	MAPPED(self->base, len, self->buf);
	EXPECT_EQ(pfn, virt_to_pfn(self->buf));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, len, 1));
	free(expect);
}

TEST_F(pages, fork_parent_writes_while_child_lives)
{
	const size_t len = 8 * PS;
	unsigned char *expect;
	int sync[2];
	__u64 pfn;
	pid_t pid;
	char c = 0;

	expect = __map_for_fork(_metadata, self->fd, self->ioas, self->buf,
				self->base, len, &pfn);
	ASSERT_EQ(0, pipe(sync));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sync[1]);
		CHILD_ASSERT(read(sync[0], &c, 1) == 1);
		/* the child's copy never saw the parent's write */
		CHILD_ASSERT(memcmp(expect, self->buf, len) == 0);
		memset(self->buf, 0x33, len);
		_exit(0);
	}
	close(sync[0]);

	/* the parent writes while the child still shares the mm's pages */
	memset(self->buf, 0x22, len);
	MAPPED(self->base, len, self->buf);
	EXPECT_EQ(pfn, virt_to_pfn(self->buf));
	ASSERT_EQ(1, write(sync[1], &c, 1));
	close(sync[1]);
	ASSERT_EQ(0, wait_child(pid));

	MAPPED(self->base, len, self->buf);
	EXPECT_EQ(pfn, virt_to_pfn(self->buf));
	EXPECT_EQ(0x22, self->buf[0]);
	EXPECT_EQ(0x22, self->buf[len - 1]);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, len, 1));
	free(expect);
}

/* ---- the pinning batch limit ---- */

#define BIG_PAGES 1024

TEST_F(pages, temp_memory_limit)
{
	static const __u32 limits[] = { 20, 4096, 16384, 0 };
	const __u64 b = self->base;
	const __u64 len = BIG_PAGES * PS;
	__u32 ioas2, stdev2, hwpt2;
	struct iommufd_stats st;
	unsigned char *big;
	unsigned int i;
	__u64 iova;

	big = alloc_buffer(len, 21);
	ASSERT_NE(NULL, big);
	for (i = 0; i < ARRAY_SIZE(limits); i++) {
		ASSERT_EQ(0, _set_temp_memory_limit(self->fd, limits[i]));

		/* pinned at MAP time */
		ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, big, len, b));
		MAPPED(b, len, big);
		EXPECT_EQ(0, _md_check_refs(self->fd, big, len, 1));
		iova = b + 2 * len;
		ASSERT_EQ(0, _ioas_copy(self->fd, MAP_FIXED_RW, self->ioas,
					&iova, self->ioas, b + PS,
					len - 2 * PS));
		MAPPED(b + 2 * len, len - 2 * PS, big + PS);

		/* pinned when a domain is attached */
		ASSERT_EQ(0, _ioas_alloc(self->fd, &ioas2));
		iova = b;
		ASSERT_EQ(0, _ioas_copy(self->fd, MAP_FIXED_RW, ioas2, &iova,
					self->ioas, b, len));
		ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX,
					 NULL));
		EXPECT_EQ(0, _md_check_refs(self->fd, big, len, 0));
		ASSERT_EQ(0, _mock_domain(self->fd, ioas2, &stdev2, &hwpt2,
					  NULL));
		EXPECT_EQ(0, _md_check_map(self->fd, hwpt2, b, big, len));
		EXPECT_EQ(0, _md_check_refs(self->fd, big, len, 1));
		ASSERT_EQ(0, _destroy(self->fd, stdev2));
		ASSERT_EQ(0, _destroy(self->fd, ioas2));

		EXPECT_EQ(0, _md_check_refs(self->fd, big, len, 0));
		STATS(&st);
		ASSERT_STATS_EQUAL(&self->start, &st);
	}
	munmap(big, len);
}

/* ---- reading pinned PFNs back ---- */

/* fewer pages than a noted run (64): PFNs are read back page by page */
#define RB_PAGES 32

static void expect_readback(struct __test_metadata *_metadata, int fd,
			    const struct readback_stats *r0, __u64 cpu,
			    __u64 domain)
{
	struct readback_stats r;

	ASSERT_EQ(0, _get_readback(fd, &r));
	EXPECT_EQ(r0->cpu + cpu, r.cpu);
	EXPECT_EQ(r0->domain + domain, r.domain);
}

#define EXPECT_READBACK(r0, cpu, domain)				\
	expect_readback(_metadata, self->fd, r0, cpu, domain)

/*
 * Unmap [iova, iova + len), the memory at @va: its PFNs must be read back
 * @cpu times from the CPU page table and @domain times from a domain, and
 * none of its pages stay pinned.
 */
static void __unmap_read_back(struct __test_metadata *_metadata, int fd,
			      __u32 ioas, __u64 iova, void *va, __u64 len,
			      __u64 cpu, __u64 domain)
{
	struct readback_stats r0;

	ASSERT_EQ(0, _get_readback(fd, &r0));
	ASSERT_EQ(0, _ioas_unmap(fd, ioas, iova, len, NULL));
	expect_readback(_metadata, fd, &r0, cpu, domain);
	EXPECT_EQ(0, _md_check_refs(fd, va, len, 0));
}

#define UNMAP_READ_BACK(len, cpu, domain)				\
	__unmap_read_back(_metadata, self->fd, self->ioas, self->base,	\
			  self->buf, len, cpu, domain)

/*
 * While nothing changed how the memory is mapped since it was pinned, the
 * PFNs of scattered pages come from the CPU page table: to map a new
 * domain, and to unmap and unpin. One page per batch, then the default.
 */
TEST_F(pages, readback_from_cpu_page_table)
{
	static const __u32 limits[] = { 20, 0 };
	const __u64 len = RB_PAGES * PS;
	__u32 extra_stdev, extra_hwpt;
	struct readback_stats r0;
	struct iommufd_stats st;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(limits); i++) {
		ASSERT_EQ(0, _set_temp_memory_limit(self->fd, limits[i]));
		ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, len,
					self->base));
		ASSERT_EQ(0, _get_readback(self->fd, &r0));
		ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &extra_stdev,
					  &extra_hwpt, NULL));
		EXPECT_READBACK(&r0, RB_PAGES, 0);
		EXPECT_EQ(0, _md_check_map(self->fd, extra_hwpt, self->base,
					   self->buf, len));
		MAPPED(self->base, len, self->buf);
		EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, len, 1));

		/* once, from the storage domain's area, however many domains */
		UNMAP_READ_BACK(len, RB_PAGES, 0);
		ASSERT_EQ(0, _destroy(self->fd, extra_stdev));
		STATS(&st);
		ASSERT_STATS_EQUAL(&self->start, &st);
	}
}

/*
 * The memory was unmapped and other memory mapped at its address: the CPU
 * page table has other pages now, so the pinned ones are read back from
 * the domain, and only they are unpinned.
 */
TEST_F(pages, readback_after_remap_uses_domain)
{
	const __u64 len = RB_PAGES * PS;
	struct iommufd_stats st;
	void *va;

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, len,
				self->base));
	ASSERT_EQ(0, munmap(self->buf, len));
	va = mmap(self->buf, len, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ((void *)self->buf, va);
	memset(va, 0x5a, len);
	/* and the new pages, never pinned, still aren't */
	UNMAP_READ_BACK(len, 0, RB_PAGES);
	STATS(&st);
	ASSERT_STATS_EQUAL(&self->start, &st);
}

/*
 * mprotect() invalidates the range: read back from the domain from then on,
 * until nothing of the memory is pinned. Pinning it again (a domain
 * attached to the IOAS that has none left) makes the CPU page table
 * trusted again.
 */
TEST_F(pages, readback_trusted_again_after_unpin)
{
	const __u64 len = RB_PAGES * PS;
	struct readback_stats r0;
	struct iommufd_stats st;
	__u32 stdev, hwpt;
	unsigned int i;

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, len,
				self->base));
	ASSERT_EQ(0, mprotect(self->buf, len, PROT_READ));
	ASSERT_EQ(0, mprotect(self->buf, len, PROT_READ | PROT_WRITE));

	ASSERT_EQ(0, _get_readback(self->fd, &r0));
	for (i = 0; i < self->nr_hwpts; i++)
		ASSERT_EQ(0, _destroy(self->fd, self->stdev[i]));
	EXPECT_READBACK(&r0, 0, RB_PAGES);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, len, 0));

	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, &hwpt, NULL));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->base, self->buf, len));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, len, 1));
	UNMAP_READ_BACK(len, RB_PAGES, 0);
	ASSERT_EQ(0, _destroy(self->fd, stdev));
	STATS(&st);
	ASSERT_STATS_EQUAL(&self->start, &st);
}

/* fork() write-protects the parent's pages for COW: an invalidation too */
TEST_F(pages, readback_after_fork_uses_domain)
{
	const __u64 len = RB_PAGES * PS;
	struct iommufd_stats st;
	int status;
	pid_t pid;

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, len,
				self->base));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	UNMAP_READ_BACK(len, 0, RB_PAGES);
	STATS(&st);
	ASSERT_STATS_EQUAL(&self->start, &st);
}

/* whether the kernel has warned (taint flag W, bit 9) since boot */
static bool kernel_warned(void)
{
	char buf[32] = {};
	int fd;

	fd = open("/proc/sys/kernel/tainted", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (read(fd, buf, sizeof(buf) - 1) <= 0)
		buf[0] = 0;
	close(fd);
	return strtoul(buf, NULL, 10) & (1UL << 9);
}

/*
 * A read-only map of memory nobody has written yet: pinning it without
 * FOLL_WRITE finds the shared zero page in every PTE, and 6.1's GUP takes
 * no pin on the zero page (it is never freed, and unpinning it does
 * nothing). The domains map it, the IOAS counts the pages as pinned as
 * usual, and unmapping gives everything back; neither the mock domain
 * nor IOMMUFD_DEBUG may take the unpinned zero page for a page a domain
 * maps after it was freed (both warned before: issue 21's "page unpinned
 * while mapped").
 */
TEST_F(pages, read_only_map_of_untouched_memory)
{
	const __u64 len = 8 * PS;
	bool warned = kernel_warned();
	struct iommufd_stats st;
	unsigned char *mem;
	__u64 iova = self->base, unmapped;

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	/* the small zero page, not a huge one */
	ASSERT_EQ(0, madvise(mem, len, MADV_NOHUGEPAGE));
	/* a read fault maps the zero page: its PFN is what GUP then finds */
	EXPECT_EQ(0, mem[0]);
	ASSERT_EQ(0, _ioas_map(self->fd, self->ioas,
			       IOMMU_IOAS_MAP_FIXED_IOVA |
			       IOMMU_IOAS_MAP_READABLE, mem, len, &iova));
	STATS(&st);
	EXPECT_EQ(self->start.pinned_pages + 8, st.pinned_pages);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, self->base, len,
				 &unmapped));
	EXPECT_EQ(len, unmapped);
	STATS(&st);
	ASSERT_STATS_EQUAL(&self->start, &st);
	if (warned)
		TH_LOG("the kernel had warned before: can't tell about this test");
	else
		EXPECT_FALSE(kernel_warned());
	munmap(mem, len);
}

/* ====================================================================== */
/* hugetlbfs */

#define NR_HUGEPAGES "/proc/sys/vm/nr_hugepages"

static long read_long(const char *path)
{
	char buf[64] = {};
	long val = -1;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) > 0)
		val = strtol(buf, NULL, 10);
	close(fd);
	return val;
}

static int write_long(const char *path, long val)
{
	char buf[64];
	int fd, len, rc = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	len = snprintf(buf, sizeof(buf), "%ld\n", val);
	if (write(fd, buf, len) != len)
		rc = -1;
	close(fd);
	return rc;
}

/* a "Key:   123 ..." line of /proc/meminfo; -1 if not found */
static long meminfo_val(const char *key)
{
	return proc_key_val("/proc/meminfo", key);
}

FIXTURE(hugetlb) {
	int fd;
	__u32 ioas;
	__u32 hwpt[2];
	unsigned int nr_hwpts;
	long saved_nr;
	bool restore_nr;
	unsigned char *huge;
	const char *skip;
	__u64 iova;		/* 2 MiB aligned, inside the aperture */
};

FIXTURE_SETUP(hugetlb)
{
	self->huge = MAP_FAILED;
	self->nr_hwpts = 0;
	self->iova = APERTURE_START + 4 * SZ_2M;
	/* first what can fail with ASSERT, before anything needs undoing */
	__setup_ioas(_metadata, &self->fd, &self->ioas, 0, NULL, NULL, 0, 0);

	if (meminfo_val("Hugepagesize") != 2048) {
		self->skip = "the default hugepage size isn't 2 MiB";
		return;
	}
	self->saved_nr = read_long(NR_HUGEPAGES);
	if (self->saved_nr < 0) {
		self->skip = "no " NR_HUGEPAGES;
		return;
	}
	if (meminfo_val("HugePages_Free") < 1) {
		if (write_long(NR_HUGEPAGES, self->saved_nr + 1)) {
			self->skip = "can't write " NR_HUGEPAGES;
			return;
		}
		self->restore_nr = true;
	}
	self->huge = mmap(NULL, SZ_2M, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (self->huge == MAP_FAILED) {
		self->skip = "can't get a 2 MiB hugepage";
		return;
	}
	fill_pattern(self->huge, SZ_2M, 22);
}

FIXTURE_TEARDOWN(hugetlb)
{
	/* unpin, unmap, then give the hugepage back */
	close(self->fd);
	if (self->huge != MAP_FAILED)
		munmap(self->huge, SZ_2M);
	if (self->restore_nr)
		write_long(NR_HUGEPAGES, self->saved_nr);
}

static void __check_huge_iopte(struct __test_metadata *_metadata, int fd,
			       __u32 hwpt, __u64 iova, const void *va,
			       __u64 want_size)
{
	struct mock_iopte pte;
	__u64 pfn, unit;

	ASSERT_EQ(0, _md_iopte(fd, hwpt, iova, &pte));
	EXPECT_EQ(want_size, pte.size);
	pfn = virt_to_pfn(va);
	if (pfn) {
		/*
		 * The same page (2 MiB page for a huge IOPTE), whether out_phys
		 * is the address at @iova or where the IOPTE starts.
		 */
		unit = want_size > PS ? want_size : PS;
		EXPECT_EQ(pfn * PS / unit, pte.phys / unit);
	}
}

#define CHECK_HUGE_IOPTE(hwpt, iova, va, size) \
	__check_huge_iopte(_metadata, self->fd, hwpt, iova, va, size)

TEST_F(hugetlb, huge_iopte_domain_first)
{
	struct iommufd_stats s0, st;
	__u32 hwpt;

	if (self->skip)
		SKIP(return, "%s", self->skip);
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, NULL, &hwpt, NULL));
	ASSERT_EQ(0, _get_stats(self->fd, &s0));
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->huge, SZ_2M,
				self->iova));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->iova, self->huge,
				   SZ_2M));
	CHECK_HUGE_IOPTE(hwpt, self->iova, self->huge, MOCK_IOPTE_HUGE_SIZE);
	CHECK_HUGE_IOPTE(hwpt, self->iova + 3 * PS + MOCK_GRAN,
			 self->huge + 3 * PS, MOCK_IOPTE_HUGE_SIZE);
	CHECK_HUGE_IOPTE(hwpt, self->iova + SZ_2M - PS,
			 self->huge + SZ_2M - PS, MOCK_IOPTE_HUGE_SIZE);
	/* accounted as base pages */
	ASSERT_EQ(0, _get_stats(self->fd, &st));
	EXPECT_EQ(s0.user_locked_vm + SZ_2M / PS, st.user_locked_vm);
	EXPECT_EQ(s0.pinned_pages + SZ_2M / PS, st.pinned_pages);

	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, self->iova, SZ_2M,
				 NULL));
	EXPECT_EQ(ENOENT, _md_iopte(self->fd, hwpt, self->iova, NULL));
	ASSERT_EQ(0, _get_stats(self->fd, &st));
	ASSERT_STATS_EQUAL(&s0, &st);
}

TEST_F(hugetlb, huge_iopte_domain_after_map)
{
	__u32 hwpt;

	if (self->skip)
		SKIP(return, "%s", self->skip);
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->huge, SZ_2M,
				self->iova));
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, NULL, &hwpt, NULL));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->iova, self->huge,
				   SZ_2M));
	CHECK_HUGE_IOPTE(hwpt, self->iova, self->huge, MOCK_IOPTE_HUGE_SIZE);
	CHECK_HUGE_IOPTE(hwpt, self->iova + SZ_1M, self->huge + SZ_1M,
			 MOCK_IOPTE_HUGE_SIZE);
}

TEST_F(hugetlb, huge_pages_option_off)
{
	__u32 hwpt;
	__u64 off;

	if (self->skip)
		SKIP(return, "%s", self->skip);
	ASSERT_EQ(0, _option_set(self->fd, IOMMU_OPTION_HUGE_PAGES, self->ioas,
				 0));
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, NULL, &hwpt, NULL));
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->huge, SZ_2M,
				self->iova));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->iova, self->huge,
				   SZ_2M));
	for (off = 0; off < SZ_2M; off += SZ_2M / 8) {
		CHECK_HUGE_IOPTE(hwpt, self->iova + off, self->huge + off,
				 MOCK_IOPTE_SIZE);
	}
	CHECK_HUGE_IOPTE(hwpt, self->iova + SZ_2M - MOCK_GRAN,
			 self->huge + SZ_2M - MOCK_GRAN, MOCK_IOPTE_SIZE);
}

TEST_F(hugetlb, huge_page_unsuitable_iova)
{
	__u32 hwpt;

	if (self->skip)
		SKIP(return, "%s", self->skip);
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, NULL, &hwpt, NULL));

	/* an IOVA that isn't 2 MiB aligned can't take a 2 MiB IOPTE */
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->huge, SZ_2M,
				self->iova + PS));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->iova + PS, self->huge,
				   SZ_2M));
	CHECK_HUGE_IOPTE(hwpt, self->iova + PS, self->huge, MOCK_IOPTE_SIZE);
	CHECK_HUGE_IOPTE(hwpt, self->iova + SZ_1M, self->huge + SZ_1M - PS,
			 MOCK_IOPTE_SIZE);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));

	/* nor can half of the page at an aligned IOVA */
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->huge, SZ_1M,
				self->iova));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->iova, self->huge,
				   SZ_1M));
	CHECK_HUGE_IOPTE(hwpt, self->iova, self->huge, MOCK_IOPTE_SIZE);
	EXPECT_EQ(ENOENT, _md_iopte(self->fd, hwpt, self->iova + SZ_1M, NULL));
}

/*
 * A 2 MiB page is one physically contiguous run: the fill notes it, and
 * reading its PFNs back (a second domain, an access copying through the
 * PFNs, the unmap) uses the note. Everything must read the same pages as
 * the first domain maps, whether the note covers the whole area, or only
 * part of a COPY of it into another IOAS, and nothing stays pinned.
 */
TEST_F(hugetlb, contiguous_run_read_back)
{
	unsigned char *data, *pattern;
	struct iommufd_stats s0, st;
	__u32 hwpt, hwpt2, hwpt3, ioas2;
	__u64 dst = self->iova;
	int access;

	if (self->skip)
		SKIP(return, "%s", self->skip);
	data = malloc(SZ_2M);
	pattern = malloc(SZ_2M);
	ASSERT_NE(NULL, data);
	ASSERT_NE(NULL, pattern);
	ASSERT_EQ(0, _get_stats(self->fd, &s0));
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, NULL, &hwpt, NULL));
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->huge, SZ_2M,
				self->iova));
	/* a second domain is filled from the first */
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, NULL, &hwpt2, NULL));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt2, self->iova, self->huge,
				   SZ_2M));
	CHECK_HUGE_IOPTE(hwpt2, self->iova + SZ_1M, self->huge + SZ_1M,
			 MOCK_IOPTE_HUGE_SIZE);

	/* an access reads and writes through the PFNs, across pages */
	ASSERT_EQ(0, _create_access(self->fd, self->ioas, 0, &access));
	ASSERT_EQ(0, _access_rw(self->fd, access, self->iova + 5,
				SZ_2M - 9, data, 0));
	EXPECT_EQ(0, memcmp(data, self->huge + 5, SZ_2M - 9));
	fill_pattern(pattern, SZ_2M, 77);
	ASSERT_EQ(0, _access_rw(self->fd, access, self->iova + 3 * PS - 1,
				5 * PS + 2, pattern,
				MOCK_ACCESS_RW_WRITE));
	EXPECT_EQ(0, memcmp(self->huge + 3 * PS - 1, pattern, 5 * PS + 2));

	/* part of it in another IOAS with its own domain: borrowed PFNs */
	ASSERT_EQ(0, _ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, _mock_domain(self->fd, ioas2, NULL, &hwpt3, NULL));
	ASSERT_EQ(0, _ioas_copy(self->fd, MAP_FIXED_RW, ioas2, &dst,
				self->ioas, self->iova + SZ_1M - 64 * PS,
				128 * PS));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt3, self->iova,
				   self->huge + SZ_1M - 64 * PS, 128 * PS));
	ASSERT_EQ(0, _get_stats(self->fd, &st));
	EXPECT_EQ(s0.pinned_pages + SZ_2M / PS, st.pinned_pages);

	/* the source goes first: the copy keeps its 128 pages pinned */
	close(access);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, self->iova, SZ_2M,
				 NULL));
	ASSERT_EQ(0, _get_stats(self->fd, &st));
	EXPECT_EQ(s0.pinned_pages + 128, st.pinned_pages);
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt3, self->iova,
				   self->huge + SZ_1M - 64 * PS, 128 * PS));
	ASSERT_EQ(0, _ioas_unmap(self->fd, ioas2, self->iova, 128 * PS, NULL));
	ASSERT_EQ(0, _get_stats(self->fd, &st));
	ASSERT_STATS_EQUAL(&s0, &st);
	free(pattern);
	free(data);
}

/*
 * One MAP over a 2 MiB page and 4K pages right after it: the 2 MiB page
 * is a noted run, read back with one domain walk; the 4K pages after it
 * come from the CPU page table. Both when a domain is added and at unmap.
 */
TEST_F(hugetlb, readback_between_runs)
{
	const __u64 len = SZ_2M + RB_PAGES * PS;
	struct readback_stats r0;
	struct iommufd_stats s0, st;
	unsigned char *tail;
	__u32 hwpt, hwpt2;

	if (self->skip)
		SKIP(return, "%s", self->skip);
	tail = mmap(self->huge + SZ_2M, RB_PAGES * PS, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (tail != self->huge + SZ_2M) {
		if (tail != MAP_FAILED)
			munmap(tail, RB_PAGES * PS);
		SKIP(return, "the address after the 2 MiB page is taken");
	}
	fill_pattern(tail, RB_PAGES * PS, 23);
	ASSERT_EQ(0, _get_stats(self->fd, &s0));
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, NULL, &hwpt, NULL));
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->huge, len,
				self->iova));

	ASSERT_EQ(0, _get_readback(self->fd, &r0));
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, NULL, &hwpt2, NULL));
	EXPECT_READBACK(&r0, RB_PAGES, SZ_2M / PS);
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt2, self->iova, self->huge,
				   len));
	CHECK_HUGE_IOPTE(hwpt2, self->iova, self->huge, MOCK_IOPTE_HUGE_SIZE);

	ASSERT_EQ(0, _get_readback(self->fd, &r0));
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, self->iova, len, NULL));
	EXPECT_READBACK(&r0, RB_PAGES, SZ_2M / PS);
	/* (CHECK_REFS counts 4K pages: only the tail) */
	EXPECT_EQ(0, _md_check_refs(self->fd, tail, RB_PAGES * PS, 0));
	ASSERT_EQ(0, _get_stats(self->fd, &st));
	ASSERT_STATS_EQUAL(&s0, &st);
	munmap(tail, RB_PAGES * PS);
}

/*
 * VFIO type1 v1 through /dev/iommu cuts areas (large pages are off then):
 * cutting pages out of the middle of a 2 MiB page splits the area and its
 * noted run. Each part must still map its own pages, be read back right
 * into a domain added afterwards, and unpin exactly its own pages.
 */
TEST_F(hugetlb, v1_cut_contiguous_run)
{
	struct iommu_vfio_ioas vioas = {
		.size = sizeof(vioas),
		.ioas_id = self->ioas,
		.op = IOMMU_VFIO_IOAS_SET,
	};
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)self->huge,
		.iova = self->iova,
		.size = SZ_2M,
	};
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	const __u64 pages = SZ_2M / PS;
	struct iommufd_stats s0, st;
	__u32 hwpt[2];
	unsigned int h;

	if (self->skip)
		SKIP(return, "%s", self->skip);
	ASSERT_EQ(0, _get_stats(self->fd, &s0));
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, NULL, &hwpt[0], NULL));
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_VFIO_IOAS, &vioas));
	ASSERT_EQ(0, ioctl(self->fd, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU));
	ASSERT_EQ(0, ioctl(self->fd, VFIO_IOMMU_MAP_DMA, &map));

	/* page 100 out: [0, 99] and [101, last] are left */
	unmap.iova = self->iova + 100 * PS;
	unmap.size = PS;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_IOMMU_UNMAP_DMA, &unmap));
	EXPECT_EQ(PS, unmap.size);
	/* a second domain is filled from the parts */
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, NULL, &hwpt[1], NULL));
	/* pages 300-309 out of the tail: it splits again */
	unmap.iova = self->iova + 300 * PS;
	unmap.size = 10 * PS;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_IOMMU_UNMAP_DMA, &unmap));
	EXPECT_EQ(10 * PS, unmap.size);

	for (h = 0; h < 2; h++) {
		EXPECT_EQ(0, _md_check_map(self->fd, hwpt[h], self->iova,
					   self->huge, 100 * PS));
		EXPECT_EQ(0, _md_check_map(self->fd, hwpt[h],
					   self->iova + 101 * PS,
					   self->huge + 101 * PS, 199 * PS));
		EXPECT_EQ(0, _md_check_map(self->fd, hwpt[h],
					   self->iova + 310 * PS,
					   self->huge + 310 * PS,
					   SZ_2M - 310 * PS));
		EXPECT_EQ(ENOENT, _md_iopte(self->fd, hwpt[h],
					    self->iova + 305 * PS, NULL));
	}
	ASSERT_EQ(0, _get_stats(self->fd, &st));
	EXPECT_EQ(s0.pinned_pages + pages - 11, st.pinned_pages);
	EXPECT_EQ(s0.areas + 3, st.areas);

	/* the middle part alone, then the rest */
	unmap.iova = self->iova + 101 * PS;
	unmap.size = 199 * PS;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_IOMMU_UNMAP_DMA, &unmap));
	ASSERT_EQ(0, _get_stats(self->fd, &st));
	EXPECT_EQ(s0.pinned_pages + pages - 210, st.pinned_pages);
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt[1], self->iova + 310 * PS,
				   self->huge + 310 * PS, SZ_2M - 310 * PS));
	unmap.flags = VFIO_DMA_UNMAP_FLAG_ALL;
	unmap.iova = 0;
	unmap.size = 0;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_IOMMU_UNMAP_DMA, &unmap));
	EXPECT_EQ(SZ_2M - 210 * PS, unmap.size);
	ASSERT_EQ(0, _get_stats(self->fd, &st));
	EXPECT_EQ(s0.pinned_pages, st.pinned_pages);
	EXPECT_EQ(s0.user_locked_vm, st.user_locked_vm);
	EXPECT_EQ(s0.areas, st.areas);
}

/* ====================================================================== */
/* automatic IOVA allocation */

#define MAX_IVALS 256

/* sorted, disjoint, inclusive ranges */
struct ivals {
	unsigned int n;
	struct iommu_iova_range v[MAX_IVALS];
};

static void ivals_sub(struct ivals *f, __u64 start, __u64 last)
{
	struct ivals out = {};
	unsigned int i;

	for (i = 0; i < f->n; i++) {
		struct iommu_iova_range r = f->v[i];

		if (r.last < start || r.start > last) {
			out.v[out.n++] = r;
			continue;
		}
		if (r.start < start) {
			out.v[out.n].start = r.start;
			out.v[out.n++].last = start - 1;
		}
		if (r.last > last) {
			out.v[out.n].start = last + 1;
			out.v[out.n++].last = r.last;
		}
	}
	*f = out;
}

/* Is there an @align aligned run of @len bytes in @f? */
static bool ivals_fit(const struct ivals *f, __u64 len, __u64 align)
{
	unsigned int i;

	for (i = 0; i < f->n; i++) {
		__u64 a = f->v[i].start;

		if (a % align) {
			if (a + (align - a % align) < a)
				continue;
			a += align - a % align;
		}
		if (a > f->v[i].last)
			continue;
		if (f->v[i].last - a >= len - 1)
			return true;
	}
	return false;
}

static bool ivals_contain(const struct ivals *f, __u64 start, __u64 len)
{
	unsigned int i;

	for (i = 0; i < f->n; i++) {
		if (start >= f->v[i].start && start <= f->v[i].last &&
		    f->v[i].last - start >= len - 1)
			return true;
	}
	return false;
}

#define MAX_ALLOCS 128

/* what automatic allocation may use, as the tests set the IOAS up */
struct alloc_model {
	bool aperture;
	unsigned int nr_allowed, nr_reserved, nr_mapped;
	struct iommu_iova_range allowed[4];
	struct iommu_iova_range reserved[8];
	struct iommu_iova_range mapped[MAX_ALLOCS];
};

static void model_free(const struct alloc_model *m, struct ivals *f)
{
	unsigned int i;

	memset(f, 0, sizeof(*f));
	if (m->nr_allowed) {
		/* the test gives them sorted */
		for (i = 0; i < m->nr_allowed; i++)
			f->v[f->n++] = m->allowed[i];
	} else {
		f->v[f->n].start = 0;
		f->v[f->n++].last = U64_MAX;
	}
	if (m->aperture) {
		ivals_sub(f, 0, APERTURE_START - 1);
		ivals_sub(f, APERTURE_LAST + 1, U64_MAX);
	}
	for (i = 0; i < m->nr_reserved; i++)
		ivals_sub(f, m->reserved[i].start, m->reserved[i].last);
	for (i = 0; i < m->nr_mapped; i++)
		ivals_sub(f, m->mapped[i].start, m->mapped[i].last);
}

FIXTURE(alloc) {
	int fd;
	__u32 ioas;
	unsigned int nr_hwpts;
	__u32 hwpt[2];
	unsigned char *buf;
	size_t buf_size;
	struct alloc_model m;
};

FIXTURE_DOMAINS(alloc);
DOMAINS_VARIANT(alloc, no_domain, 0);
DOMAINS_VARIANT(alloc, mock_domain, 1);
DOMAINS_VARIANT(alloc, two_mock_domains, 2);

FIXTURE_SETUP(alloc)
{
	SETUP_IOAS(variant->domains, NULL, 16, 23);
	memset(&self->m, 0, sizeof(self->m));
	self->m.aperture = variant->domains;
}

FIXTURE_TEARDOWN(alloc)
{
	close(self->fd);
	munmap(self->buf, self->buf_size);
}

/*
 * Map @pages pages automatically and check the IOVA against the model:
 * free before the call, page offset of user_va kept, aligned to the largest
 * power of two dividing the length (up to 64 KiB) unless no such place was
 * free; ENOSPC only when no page aligned place was free at all.
 * Returns the errno of the MAP.
 */
static int __alloc_one(struct __test_metadata *_metadata, int fd, __u32 ioas,
		       struct alloc_model *m, const void *va,
		       unsigned int pages)
{
	const __u64 len = pages * PS;
	struct ivals *free_iova;
	__u64 iova = 0, want;
	int rc;

	free_iova = malloc(sizeof(*free_iova));
	if (!free_iova) {
		rc = ENOMEM;
		return rc;
	}
	model_free(m, free_iova);
	rc = _map_auto(fd, ioas, va, len, &iova);
	if (rc) {
		EXPECT_EQ(ENOSPC, rc);
		EXPECT_FALSE(ivals_fit(free_iova, len, PS)) {
			TH_LOG("ENOSPC for %u pages with room left", pages);
		}
		free(free_iova);
		return rc;
	}
	EXPECT_TRUE(ivals_contain(free_iova, iova, len)) {
		TH_LOG("%u pages at 0x%llx: not free", pages,
		       (unsigned long long)iova);
	}
	EXPECT_EQ((uintptr_t)va % PS, iova % PS);
	want = len & -len;
	if (want > SZ_64K)
		want = SZ_64K;
	if (iova % want) {
		EXPECT_FALSE(ivals_fit(free_iova, len, want)) {
			TH_LOG("%u pages at 0x%llx: could have been aligned",
			       pages, (unsigned long long)iova);
		}
	}
	if (m->nr_mapped < MAX_ALLOCS) {
		m->mapped[m->nr_mapped].start = iova;
		m->mapped[m->nr_mapped++].last = iova + len - 1;
	}
	free(free_iova);
	return 0;
}

#define ALLOC_ONE(pages) \
	__alloc_one(_metadata, self->fd, self->ioas, &self->m, self->buf, pages)

TEST_F(alloc, stays_inside_allowed)
{
	static const unsigned int lens[] = { 1, 2, 4, 3, 8, 1, 16, 5, 2, 1 };
	const __u64 b = APERTURE_START;
	struct alloc_model *m = &self->m;
	unsigned int i, nr_ok = 0, nr_nospc = 0;
	struct ivals *left;
	int rc;

	/* reserved around the allowed ranges, which start at odd places */
	m->reserved[0].start = b;
	m->reserved[0].last = b + SZ_1M - 1;
	m->reserved[1].start = b + 3 * SZ_1M;
	m->reserved[1].last = b + 4 * SZ_1M - 1;
	m->nr_reserved = 2;
	m->allowed[0].start = b + SZ_1M;			/* 16 pages */
	m->allowed[0].last = b + SZ_1M + 16 * PS - 1;
	m->allowed[1].start = b + 2 * SZ_1M + PS;		/* 32 pages */
	m->allowed[1].last = b + 2 * SZ_1M + 33 * PS - 1;
	m->allowed[2].start = b + 4 * SZ_1M;			/* 5 pages */
	m->allowed[2].last = b + 4 * SZ_1M + 5 * PS - 1;
	m->nr_allowed = 3;
	for (i = 0; i < m->nr_reserved; i++) {
		ASSERT_EQ(0, _add_reserved(self->fd, self->ioas,
					   m->reserved[i].start,
					   m->reserved[i].last -
					   m->reserved[i].start + 1));
	}
	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, m->allowed,
				  m->nr_allowed));

	for (i = 0; i < 200; i++) {
		unsigned int pages = lens[i % ARRAY_SIZE(lens)];

		rc = ALLOC_ONE(pages);
		ASSERT_TRUE(rc == 0 || rc == ENOSPC);
		if (rc == ENOSPC) {
			nr_nospc++;
			if (pages == 1)
				break;
			continue;
		}
		nr_ok++;
		/* now and then free one again, to leave holes */
		if (nr_ok % 5 == 0 && m->nr_mapped > 2) {
			struct iommu_iova_range r = m->mapped[1];

			ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, r.start,
						 r.last - r.start + 1, NULL));
			m->mapped[1] = m->mapped[--m->nr_mapped];
		}
	}
	EXPECT_LT(0, nr_nospc);
	EXPECT_LT(10, nr_ok);

	/* the allowed ranges are full, page by page */
	left = malloc(sizeof(*left));
	ASSERT_NE(NULL, left);
	model_free(m, left);
	EXPECT_FALSE(ivals_fit(left, PS, PS));
	free(left);

	/* and every mapping is where the kernel said */
	for (i = 0; i < m->nr_mapped; i++) {
		MAPPED(m->mapped[i].start,
		       m->mapped[i].last - m->mapped[i].start + 1, self->buf);
	}
}

TEST_F(alloc, avoids_reserved)
{
	static const unsigned int lens[] = { 1, 16, 2, 4, 3, 8, 5 };
	struct alloc_model *m = &self->m;
	unsigned int i;

	if (self->nr_hwpts) {
		/* the bottom, a sliver, and the top of the aperture */
		m->reserved[0].start = APERTURE_START;
		m->reserved[0].last = APERTURE_START + SZ_1M - 1;
		m->reserved[1].start = APERTURE_START + SZ_1M + 3 * PS;
		m->reserved[1].last = APERTURE_START + 2 * SZ_1M - 1;
		m->reserved[2].start = APERTURE_LAST - SZ_1M + 1;
		m->reserved[2].last = APERTURE_LAST;
		m->nr_reserved = 3;
	} else {
		m->reserved[0].start = 0;
		m->reserved[0].last = SZ_1M * 16 - 1;
		m->reserved[1].start = SZ_1M * 16 + 3 * PS;
		m->reserved[1].last = SZ_1M * 32 - 1;
		/* near the top, but not touching U64_MAX (start + length) */
		m->reserved[2].start = U64_MAX - (1ULL << 30) + 1;
		m->reserved[2].last = U64_MAX - SZ_1M;
		m->reserved[3].start = 1ULL << 63;
		m->reserved[3].last = (1ULL << 63) + (1ULL << 30) - 1;
		m->nr_reserved = 4;
	}
	for (i = 0; i < m->nr_reserved; i++) {
		ASSERT_EQ(0, _add_reserved(self->fd, self->ioas,
					   m->reserved[i].start,
					   m->reserved[i].last -
					   m->reserved[i].start + 1));
	}
	for (i = 0; i < 40; i++) {
		int rc = ALLOC_ONE(lens[i % ARRAY_SIZE(lens)]);

		ASSERT_EQ(0, rc);
	}
	for (i = 0; i < m->nr_mapped; i++) {
		MAPPED(m->mapped[i].start,
		       m->mapped[i].last - m->mapped[i].start + 1, self->buf);
	}
}

/* ====================================================================== */
/* Regression: MAP at one IOVA, UNMAP, munmap, again, with fresh memory
 * each time; the domain must always map the current page, never a stale one.
 */

#define RACE_LOOPS 300

TEST_F_TIMEOUT(pages, map_unmap_munmap_loop, LOOP_TEST_TIMEOUT)
{
	const size_t len = 2 * PS;
	struct iommufd_stats st;
	struct mock_iopte pte;
	unsigned char *slot, *park, *p;
	__u64 pfn[2], out_len;
	unsigned int i, j;

	if (!virt_to_pfn(self->buf))
		SKIP(return, "no PFNs in /proc/self/pagemap");
	slot = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, slot);
	park = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, park);

	for (i = 0; i < RACE_LOOPS; i++) {
		/* new memory at the same address every time */
		p = mmap(slot, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		ASSERT_EQ(slot, p);
		memset(p, i, len);
		pfn[0] = virt_to_pfn(p);
		pfn[1] = virt_to_pfn(p + PS);
		ASSERT_NE(0, pfn[0]);
		ASSERT_NE(0, pfn[1]);

		ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, p, len,
					self->base));
		for (j = 0; j < self->nr_hwpts; j++) {
			ASSERT_EQ(0, _md_check_map(self->fd, self->hwpt[j],
						   self->base, p, len));
			ASSERT_EQ(0, _md_iopte(self->fd, self->hwpt[j],
					       self->base, &pte));
			ASSERT_EQ(pfn[0], pte.phys / PS) {
				TH_LOG("iteration %u: stale page", i);
			}
			ASSERT_EQ(0, _md_iopte(self->fd, self->hwpt[j],
					       self->base + PS + MOCK_GRAN,
					       &pte));
			ASSERT_EQ(pfn[1], pte.phys / PS) {
				TH_LOG("iteration %u: stale page", i);
			}
		}
		ASSERT_EQ(0, _md_check_refs(self->fd, p, len, 1));
		ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, self->base, len,
					 &out_len));
		ASSERT_EQ(len, out_len);
		ASSERT_EQ(0, _md_check_refs(self->fd, p, len, 0));

		/*
		 * Every other time keep the old pages alive elsewhere, so the
		 * next ones are certainly different pages at the same address.
		 */
		if (i & 1) {
			p = mremap(slot, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
				   park);
			ASSERT_EQ(park, p);
		} else {
			ASSERT_EQ(0, munmap(slot, len));
		}
	}
	munmap(slot, len);
	munmap(park, len);
	STATS(&st);
	ASSERT_STATS_EQUAL(&self->start, &st);
}

/* ====================================================================== */
/* The mock IOMMU beside a real one */

#define SYS_CLASS_IOMMU "/sys/class/iommu"
#define MOCK_IOMMU_NAME "iommufd_mock"
#define MOCK_IOMMU_DEVICES SYS_CLASS_IOMMU "/" MOCK_IOMMU_NAME "/devices"
#define MAX_DIR_NAMES 64

struct dir_names {
	unsigned int total;	/* entries but "." and ".." */
	unsigned int n;		/* the first of them, in name[] */
	char name[MAX_DIR_NAMES][NAME_MAX + 1];
};

/* Read the entries of the directory @path; 0 or the errno of opendir() */
static int read_dir_names(const char *path, struct dir_names *names)
{
	struct dirent *de;
	DIR *dir;

	names->total = 0;
	names->n = 0;
	dir = opendir(path);
	if (!dir)
		return errno;
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		names->total++;
		if (names->n < MAX_DIR_NAMES)
			snprintf(names->name[names->n++], NAME_MAX + 1, "%s",
				 de->d_name);
	}
	closedir(dir);
	return 0;
}

static bool has_dir_name(const struct dir_names *names, const char *name)
{
	unsigned int i;

	for (i = 0; i < names->n; i++) {
		if (!strcmp(names->name[i], name))
			return true;
	}
	return false;
}

/*
 * The mock IOMMU serves its own bus, so it works while a real IOMMU (VT-d:
 * "dmar0" and so on) owns the PCI bus: both are in /sys/class/iommu, a mock
 * domain maps, and iommu_device_link() lists the mock device under the mock
 * IOMMU for as long as it exists.
 */
TEST(mock_beside_real_iommu)
{
	struct dir_names *iommus, *before, *during;
	const char *mdev = NULL;
	char link[PATH_MAX];
	__u32 ioas, stdev, hwpt;
	unsigned char *buf;
	unsigned int i;
	__u64 iova = 0;
	struct stat st;
	glob_t groups;
	int fd;

	iommus = malloc(sizeof(*iommus));
	before = malloc(sizeof(*before));
	during = malloc(sizeof(*during));
	ASSERT_NE(NULL, iommus);
	ASSERT_NE(NULL, before);
	ASSERT_NE(NULL, during);

	ASSERT_EQ(0, stat(SYS_CLASS_IOMMU "/" MOCK_IOMMU_NAME, &st));
	ASSERT_EQ(0, read_dir_names(SYS_CLASS_IOMMU, iommus));
	if (iommus->total < 2)
		SKIP(return, "no real IOMMU is active: " SYS_CLASS_IOMMU
		     " has only " MOCK_IOMMU_NAME);
	ASSERT_EQ(0, glob("/sys/bus/pci/devices/*/iommu_group", 0, NULL,
			  &groups)) {
		TH_LOG("a real IOMMU, but no PCI device in an iommu_group");
	}
	globfree(&groups);

	ASSERT_EQ(0, read_dir_names(MOCK_IOMMU_DEVICES, before));
	buf = __setup_ioas(_metadata, &fd, &ioas, 1, &stdev, &hwpt, 16, 41);
	ASSERT_EQ(0, _map_auto(fd, ioas, buf, 16 * PS, &iova));
	ASSERT_EQ(0, _md_check_map(fd, hwpt, iova, buf, 16 * PS));

	/* the mock device is linked under the mock IOMMU while it exists */
	ASSERT_EQ(0, read_dir_names(MOCK_IOMMU_DEVICES, during));
	ASSERT_EQ(before->total + 1, during->total);
	ASSERT_GE(MAX_DIR_NAMES, during->total);
	for (i = 0; i < during->n; i++) {
		if (!has_dir_name(before, during->name[i]))
			mdev = during->name[i];
	}
	ASSERT_NE(NULL, mdev);
	EXPECT_EQ(0, strncmp(mdev, MOCK_IOMMU_NAME, strlen(MOCK_IOMMU_NAME)));
	snprintf(link, sizeof(link), MOCK_IOMMU_DEVICES "/%s", mdev);
	ASSERT_EQ(0, lstat(link, &st));
	EXPECT_TRUE(S_ISLNK(st.st_mode));
	/* and the link leads to the device */
	EXPECT_EQ(0, stat(link, &st));

	/* destroying the stdev object removes the device, and the link */
	ASSERT_EQ(0, _destroy(fd, stdev));
	EXPECT_EQ(-1, lstat(link, &st));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(0, read_dir_names(MOCK_IOMMU_DEVICES, during));
	EXPECT_EQ(before->total, during->total);

	ASSERT_EQ(0, _ioas_unmap(fd, ioas, 0, U64_MAX, NULL));
	close(fd);
	munmap(buf, 16 * PS);
	free(iommus);
	free(before);
	free(during);
}

TEST_HARNESS_MAIN
