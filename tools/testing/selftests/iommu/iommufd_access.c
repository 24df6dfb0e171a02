// SPDX-License-Identifier: GPL-2.0-only
/*
 * kselftests for the software accesses of /dev/iommu (what an emulated
 * device uses instead of a domain), driven through the mock access of
 * IOMMU_TEST_CMD: CREATE_ACCESS and the lifetime of the access fd,
 * ACCESS_PAGES and DESTROY_ACCESS_PAGES with their pin counting, pins that
 * outlive domains, the unmap notification (and an access that won't let
 * go), ACCESS_RW on both of its paths, and ACCESS_REPLACE_IOAS.
 *
 * Needs a kernel built with CONFIG_IOMMUFD_TEST, and root.
 */
#include <time.h>

#include "iommufd_utils.h"

/* map @npages pages of buf from page @pg at base + @pg pages, read-write */
#define MAP_PAGES(pg, npages)						\
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas,			\
				self->buf + (pg) * PS, (npages) * PS,	\
				self->base + (pg) * PS))

/* the same, but the mapping is only IOMMU_IOAS_MAP_READABLE */
#define MAP_PAGES_RO(pg, npages)					\
	do {								\
		__u64 __iova = self->base + (pg) * PS;			\
									\
		ASSERT_EQ(0, _ioas_map(self->fd, self->ioas,		\
				       IOMMU_IOAS_MAP_FIXED_IOVA |	\
				       IOMMU_IOAS_MAP_READABLE,		\
				       self->buf + (pg) * PS,		\
				       (npages) * PS, &__iova));	\
	} while (0)

/* close the fixture's access */
#define CLOSE_ACCESS()							\
	do {								\
		close(self->access);					\
		self->access = -1;					\
	} while (0)

/* close the access and unmap all: back to the stats after setup */
#define END_ACCESS()							\
	do {								\
		CLOSE_ACCESS();						\
		ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, \
					 NULL));			\
		BACK_TO_START();					\
	} while (0)

#define CREATE_ACCESS(flags)						\
	ASSERT_EQ(0, _create_access(self->fd, self->ioas, flags,	\
				    &self->access))

/* the IOVA of page @pg of buf, and the memory behind it */
#define IOVA(pg) (self->base + (pg) * PS)
#define VA(pg) (self->buf + (pg) * PS)

/* ACCESS_PAGES through the fixture's access of @n pages from page @pg */
#define PIN(flags, pg, n, id)						\
	_access_pages(self->fd, self->access, flags, IOVA(pg), (n) * PS, \
		      VA(pg), id)
#define UNPIN(id) _destroy_access_pages(self->fd, self->access, id)
#define RW(iova, len, va, flags)					\
	_access_rw(self->fd, self->access, iova, len, va, flags)

/* each of @n pages of buf from page @pg is pinned @refs times */
#define REFS(pg, n, refs)						\
	EXPECT_EQ(0, _md_check_refs(self->fd, VA(pg), (n) * PS, refs))

/* how often a page mapped in the IOAS is pinned without any access */
#define DOM_REFS (self->nr_hwpts ? 1 : 0)

/* long enough for any honest EBUSY, far below the harness' timeout */
#define QUICK_NS (10ULL * 1000 * 1000 * 1000)

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* ====================================================================== */
/* One IOAS, with no domain or with one mock domain */

#define ACC_PAGES_NR 32

FIXTURE(access) {
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

FIXTURE_DOMAINS(access);
DOMAINS_VARIANT(access, no_domain, 0);
DOMAINS_VARIANT(access, mock_domain, 1);

FIXTURE_SETUP(access)
{
	self->access = -1;
	SETUP_IOAS(variant->domains, self->stdev, ACC_PAGES_NR, 41);
	self->base = APERTURE_START;
	STATS(&self->start);
}

FIXTURE_TEARDOWN(access)
{
	if (self->access >= 0)
		close(self->access);
	close(self->fd);
	munmap(self->buf, self->buf_size);
}

/* ---- CREATE_ACCESS and the lifetime of an access ---- */

TEST_F(access, create)
{
	static const __u32 good_flags[] = {
		0,
		MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
		MOCK_FLAGS_ACCESS_CREATE_NO_UNMAP,
		MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES |
			MOCK_FLAGS_ACCESS_CREATE_NO_UNMAP,
	};
	static const __u32 bad_flags[] = {
		1U << 1, 1U << 23, 1U << 31,
		~(__u32)(MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES |
			 MOCK_FLAGS_ACCESS_CREATE_NO_UNMAP),
	};
	int fds[ARRAY_SIZE(good_flags)];
	struct ioas_state st;
	__u32 ioas2, id;
	unsigned int i;
	int access;

	MAP_PAGES(0, 4);
	ASSERT_EQ(0, _ioas_alloc(self->fd, &ioas2));
	SNAPSHOT(&st);

	/* refused: unknown flags, then IDs that name no IOAS */
	for (i = 0; i < ARRAY_SIZE(bad_flags); i++) {
		EXPECT_EQ(EOPNOTSUPP, _create_access(self->fd, ioas2,
						     bad_flags[i], &access)) {
			TH_LOG("flags %#x", bad_flags[i]);
		}
	}
	EXPECT_EQ(ENOENT, _create_access(self->fd, 0, 0, &access));
	EXPECT_EQ(ENOENT, _create_access(self->fd, GONE_ID(self->fd), 0,
					 &access));
	if (self->nr_hwpts) {
		EXPECT_EQ(ENOENT, _create_access(self->fd, self->hwpt[0], 0,
						 &access));
		EXPECT_EQ(ENOENT, _create_access(self->fd, self->stdev[0], 0,
						 &access));
	}
	UNCHANGED(&st);
	/* nothing holds ioas2 after the refusals */
	EXPECT_EQ(0, _destroy(self->fd, ioas2));

	/* every known flag: a new, working descriptor each */
	for (i = 0; i < ARRAY_SIZE(good_flags); i++) {
		ASSERT_EQ(0, _create_access(self->fd, self->ioas,
					    good_flags[i], &fds[i])) {
			TH_LOG("flags %#x", good_flags[i]);
		}
		ASSERT_LE(0, fds[i]);
		ASSERT_LE(0, fcntl(fds[i], F_GETFD));
		ASSERT_NE(self->fd, fds[i]);
		ASSERT_EQ(0, _access_pages(self->fd, fds[i], 0, IOVA(0), PS,
					   VA(0), &id));
		REFS(0, 1, 1);
		ASSERT_EQ(0, _destroy_access_pages(self->fd, fds[i], id));
		REFS(0, 1, DOM_REFS);
	}
	for (i = 0; i < ARRAY_SIZE(good_flags); i++)
		close(fds[i]);
	UNCHANGED(&st);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));
	BACK_TO_START();
}

/* An IOAS with an access on it can't be destroyed; it's fine again after. */
TEST_F(access, ioas_busy_while_access)
{
	__u32 ioas2, ioas3;
	int access2 = -1;
	__u64 len = 0;

	ASSERT_EQ(0, _ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, _ioas_alloc(self->fd, &ioas3));
	ASSERT_EQ(0, _map_fixed(self->fd, ioas2, VA(0), 4 * PS, IOVA(0)));
	ASSERT_EQ(0, _create_access(self->fd, ioas2, 0, &access2));
	ASSERT_EQ(0, _create_access(self->fd, ioas3, 0, &self->access));

	EXPECT_EQ(EBUSY, _destroy(self->fd, ioas2));
	EXPECT_EQ(EBUSY, _destroy(self->fd, ioas3));
	/* still usable after the refusal */
	ASSERT_EQ(0, _map_fixed(self->fd, ioas2, VA(8), 4 * PS, IOVA(8)));
	EXPECT_EQ(0, _probe_mapped(self->fd, ioas2, IOVA(0), 4 * PS));
	ASSERT_EQ(0, _ioas_unmap(self->fd, ioas2, IOVA(8), 4 * PS, &len));
	EXPECT_EQ(4 * PS, len);

	/* an access on one IOAS doesn't hold another */
	CLOSE_ACCESS();
	EXPECT_EQ(EBUSY, _destroy(self->fd, ioas2));
	EXPECT_EQ(0, _destroy(self->fd, ioas3));

	close(access2);
	EXPECT_EQ(0, _destroy(self->fd, ioas2));
	BACK_TO_START();
}

/* Closing the access fd unpins whatever its ACCESS_PAGES left pinned. */
TEST_F(access, close_access_unpins)
{
	struct iommufd_stats mapped, st;
	__u32 id;

	MAP_PAGES(0, 16);
	STATS(&mapped);

	CREATE_ACCESS(0);
	ASSERT_EQ(0, PIN(0, 0, 4, &id));
	ASSERT_EQ(0, PIN(MOCK_FLAGS_ACCESS_WRITE, 2, 8, &id));
	REFS(0, 10, 1);
	CLOSE_ACCESS();
	REFS(0, 16, DOM_REFS);
	STATS(&st);
	ASSERT_STATS_EQUAL(&mapped, &st);

	/* the same for an access that ignores unmap notifications */
	CREATE_ACCESS(MOCK_FLAGS_ACCESS_CREATE_NO_UNMAP);
	ASSERT_EQ(0, PIN(0, 4, 4, &id));
	REFS(4, 4, 1);
	CLOSE_ACCESS();
	REFS(0, 16, DOM_REFS);
	STATS(&st);
	ASSERT_STATS_EQUAL(&mapped, &st);

	/* and nothing is left to stop the unmap */
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, IOVA(0), 16 * PS,
				 NULL));
	BACK_TO_START();
}

/* ---- ACCESS_PAGES and DESTROY_ACCESS_PAGES ---- */

TEST_F(access, pages_pin_counting)
{
	struct iommufd_stats mapped, st;
	__u32 id1, id2, id3, id4;

	MAP_PAGES(0, 16);
	STATS(&mapped);
	REFS(0, 16, DOM_REFS);
	CREATE_ACCESS(0);

	ASSERT_EQ(0, PIN(0, 2, 4, &id1));
	REFS(2, 4, 1);
	REFS(0, 2, DOM_REFS);
	REFS(6, 10, DOM_REFS);
	STATS(&st);
	/* pinned by the access without a domain, once with one */
	EXPECT_EQ(mapped.pinned_pages + (self->nr_hwpts ? 0 : 4),
		  st.pinned_pages);

	/* the same range again: another item, still one pin per page */
	ASSERT_EQ(0, PIN(0, 2, 4, &id2));
	EXPECT_NE(id1, id2);
	REFS(2, 4, 1);
	STATS(&st);
	EXPECT_EQ(mapped.pinned_pages + (self->nr_hwpts ? 0 : 4),
		  st.pinned_pages);

	/* overlapping, writable */
	ASSERT_EQ(0, PIN(MOCK_FLAGS_ACCESS_WRITE, 0, 8, &id3));
	EXPECT_NE(id1, id3);
	EXPECT_NE(id2, id3);
	REFS(0, 8, 1);
	REFS(8, 8, DOM_REFS);
	STATS(&st);
	EXPECT_EQ(mapped.pinned_pages + (self->nr_hwpts ? 0 : 8),
		  st.pinned_pages);

	/* unpinning one item leaves the pages the others hold */
	ASSERT_EQ(0, UNPIN(id1));
	REFS(0, 8, 1);
	ASSERT_EQ(0, UNPIN(id3));
	REFS(0, 2, DOM_REFS);
	REFS(2, 4, 1);
	REFS(6, 10, DOM_REFS);
	STATS(&st);
	EXPECT_EQ(mapped.pinned_pages + (self->nr_hwpts ? 0 : 4),
		  st.pinned_pages);
	ASSERT_EQ(0, UNPIN(id2));
	REFS(0, 16, DOM_REFS);
	STATS(&st);
	ASSERT_STATS_EQUAL(&mapped, &st);

	/* the whole mapping, the last page alone */
	ASSERT_EQ(0, PIN(0, 0, 16, &id4));
	REFS(0, 16, 1);
	ASSERT_EQ(0, PIN(0, 15, 1, &id1));
	REFS(15, 1, 1);
	ASSERT_EQ(0, UNPIN(id4));
	REFS(0, 15, DOM_REFS);
	REFS(15, 1, 1);
	ASSERT_EQ(0, UNPIN(id1));
	REFS(0, 16, DOM_REFS);
	STATS(&st);
	ASSERT_STATS_EQUAL(&mapped, &st);

	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, IOVA(0), 16 * PS,
				 NULL));
	REFS(0, 16, 0);
	BACK_TO_START();
}

/*
 * The pages are checked against the memory at uptr: a mismatch anywhere is
 * EINVAL and leaves nothing pinned. A range over two adjacent mappings of
 * contiguous memory is fine.
 */
TEST_F(access, pages_verified_against_uptr)
{
	struct ioas_state st;
	__u32 id, id2;

	/* pages 0-1 and 4-5 of buf, at IOVA pages 0-3 */
	MAP_PAGES(0, 2);
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, VA(4), 2 * PS, IOVA(2)));
	/* pages 8-11 of buf as two mappings */
	MAP_PAGES(8, 2);
	MAP_PAGES(10, 2);
	CREATE_ACCESS(0);
	SNAPSHOT(&st);

	/* wrong from the first page */
	EXPECT_EQ(EINVAL, _access_pages(self->fd, self->access, 0, IOVA(0),
					2 * PS, VA(1), &id));
	EXPECT_EQ(EINVAL, _access_pages(self->fd, self->access, 0, IOVA(8),
					4 * PS, VA(16), &id));
	/* right for the first two pages, wrong for the last two */
	EXPECT_EQ(EINVAL, _access_pages(self->fd, self->access, 0, IOVA(0),
					4 * PS, VA(0), &id));
	/* wrong for the last page only */
	EXPECT_EQ(EINVAL, _access_pages(self->fd, self->access, 0, IOVA(0),
					3 * PS, VA(0), &id));
	UNCHANGED(&st);
	REFS(0, 2, DOM_REFS);
	REFS(4, 2, DOM_REFS);
	REFS(8, 4, DOM_REFS);

	/* right */
	ASSERT_EQ(0, _access_pages(self->fd, self->access, 0, IOVA(2),
				   2 * PS, VA(4), &id));
	REFS(4, 2, 1);
	REFS(2, 2, 0);
	ASSERT_EQ(0, _access_pages(self->fd, self->access, 0, IOVA(8),
				   4 * PS, VA(8), &id2));
	REFS(8, 4, 1);
	ASSERT_EQ(0, UNPIN(id));
	ASSERT_EQ(0, UNPIN(id2));
	UNCHANGED(&st);

	END_ACCESS();
}

TEST_F(access, pages_errnos)
{
	static const __u32 bad_flags[] = {
		1U << 1, 1U << 16, 1U << 31, ~(__u32)MOCK_FLAGS_ACCESS_WRITE,
	};
	struct ioas_state st;
	unsigned int i;
	__u32 id;

	/* pages 0-7 rw, a hole at 8-9, pages 10-13 rw, 16-19 read-only */
	MAP_PAGES(0, 8);
	MAP_PAGES(10, 4);
	MAP_PAGES_RO(16, 4);
	CREATE_ACCESS(0);
	SNAPSHOT(&st);

	/* iova and length must be PAGE_SIZE multiples, length not 0 */
	EXPECT_EQ(EINVAL, _access_pages(self->fd, self->access, 0,
					IOVA(0) + PS / 2, PS, VA(0), &id));
	EXPECT_EQ(EINVAL, _access_pages(self->fd, self->access, 0,
					IOVA(0) + 1, PS, VA(0), &id));
	EXPECT_EQ(EINVAL, _access_pages(self->fd, self->access, 0, IOVA(0),
					PS / 2, VA(0), &id));
	EXPECT_EQ(EINVAL, _access_pages(self->fd, self->access, 0, IOVA(0),
					PS + 1, VA(0), &id));
	EXPECT_EQ(EINVAL, _access_pages(self->fd, self->access, 0, IOVA(0),
					0, VA(0), &id));
	/* its page array is sized by the length: bounded, before anything */
	EXPECT_EQ(EINVAL, _access_pages(self->fd, self->access, 0, IOVA(0),
					MOCK_ACCESS_PAGES_MAX + PS, VA(0),
					&id));
	EXPECT_EQ(EINVAL, _access_pages(self->fd, self->access, 0, IOVA(0),
					1ULL << 46, VA(0), &id));
	UNCHANGED(&st);

	/* the range must be fully mapped */
	EXPECT_EQ(ENOENT, PIN(0, 6, 4, &id));	/* runs into the hole */
	EXPECT_EQ(ENOENT, PIN(0, 8, 2, &id));	/* the hole itself */
	EXPECT_EQ(ENOENT, PIN(0, 7, 4, &id));	/* across the hole */
	EXPECT_EQ(ENOENT, PIN(0, 12, 4, &id));	/* past the end */
	EXPECT_EQ(ENOENT, PIN(0, 24, 2, &id));	/* nothing mapped */
	EXPECT_EQ(ENOENT, _access_pages(self->fd, self->access, 0, 0, PS,
					VA(0), &id));
	UNCHANGED(&st);

	/* writing needs a writeable mapping */
	EXPECT_EQ(EPERM, PIN(MOCK_FLAGS_ACCESS_WRITE, 16, 4, &id));
	EXPECT_EQ(EPERM, PIN(MOCK_FLAGS_ACCESS_WRITE, 19, 1, &id));
	UNCHANGED(&st);

	for (i = 0; i < ARRAY_SIZE(bad_flags); i++) {
		EXPECT_EQ(EOPNOTSUPP, PIN(bad_flags[i], 0, 1, &id)) {
			TH_LOG("flags %#x", bad_flags[i]);
		}
	}
	UNCHANGED(&st);

	/* not an access fd: refused (the errno isn't part of the contract) */
	EXPECT_NE(0, _access_pages(self->fd, self->fd, 0, IOVA(0), PS, VA(0),
				   &id));
	EXPECT_NE(0, _access_pages(self->fd, -1, 0, IOVA(0), PS, VA(0),
				   &id));
	UNCHANGED(&st);

	/* reading a read-only mapping is fine */
	ASSERT_EQ(0, PIN(0, 16, 4, &id));
	REFS(16, 4, 1);
	ASSERT_EQ(0, UNPIN(id));
	UNCHANGED(&st);

	END_ACCESS();
}

TEST_F(access, destroy_pages_errnos)
{
	struct ioas_state st;
	__u32 id, gone;
	int rc;

	MAP_PAGES(0, 8);
	CREATE_ACCESS(0);
	/* with nothing pinned, no ID is valid */
	EXPECT_EQ(ENOENT, UNPIN(0));
	EXPECT_EQ(ENOENT, UNPIN(1));
	EXPECT_EQ(ENOENT, UNPIN(0xffffffff));

	ASSERT_EQ(0, PIN(0, 0, 2, &gone));
	ASSERT_EQ(0, UNPIN(gone));
	ASSERT_EQ(0, PIN(0, 4, 2, &id));
	SNAPSHOT(&st);

	EXPECT_EQ(ENOENT, UNPIN(id + 1000));
	EXPECT_EQ(ENOENT, UNPIN(0xffffffff));
	/* (an implementation may hand a freed ID out again) */
	rc = gone != id ? UNPIN(gone) : ENOENT;
	EXPECT_EQ(ENOENT, rc);
	UNCHANGED(&st);
	REFS(4, 2, 1);

	ASSERT_EQ(0, UNPIN(id));
	EXPECT_EQ(ENOENT, UNPIN(id));
	REFS(0, 8, DOM_REFS);

	END_ACCESS();
}

/*
 * An access' pins don't depend on the domains: they hold through a domain
 * coming and through every domain going, and they go with
 * DESTROY_ACCESS_PAGES.
 */
TEST_F(access, pins_survive_domain_attach_detach)
{
	__u32 stdev2, hwpt2, id;
	struct iommufd_stats st;

	MAP_PAGES(0, 8);
	CREATE_ACCESS(0);
	ASSERT_EQ(0, PIN(MOCK_FLAGS_ACCESS_WRITE, 0, 4, &id));
	REFS(0, 4, 1);

	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev2, &hwpt2,
				  NULL));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt2, IOVA(0), VA(0), 8 * PS));
	REFS(0, 8, 1);
	STATS(&st);
	EXPECT_EQ(self->start.pinned_pages + 8, st.pinned_pages);

	/* every domain goes: the access still holds its pages */
	ASSERT_EQ(0, _destroy(self->fd, stdev2));
	if (self->nr_hwpts) {
		ASSERT_EQ(0, _destroy(self->fd, self->stdev[0]));
		self->nr_hwpts = 0;
	}
	REFS(0, 4, 1);
	REFS(4, 4, 0);
	STATS(&st);
	EXPECT_EQ(self->start.pinned_pages + 4, st.pinned_pages);
	MAPPED(IOVA(0), 8 * PS, VA(0));

	ASSERT_EQ(0, UNPIN(id));
	REFS(0, 8, 0);
	STATS(&st);
	EXPECT_EQ(self->start.pinned_pages, st.pinned_pages);

	END_ACCESS();
}

/* ---- unmap notification ---- */

/*
 * UNMAP over pinned IOVA: the access drops the items that overlap the
 * unmapped range, and only those, and UNMAP succeeds.
 */
TEST_F(access, unmap_notifies_access)
{
	__u32 id_a, id_a2, id_b, id_c;
	__u64 len = 0;

	/* A: pages 0-3, B: pages 8-11, C: pages 16-17 */
	MAP_PAGES(0, 4);
	MAP_PAGES(8, 4);
	MAP_PAGES(16, 2);
	CREATE_ACCESS(0);
	ASSERT_EQ(0, PIN(0, 0, 4, &id_a));
	ASSERT_EQ(0, PIN(MOCK_FLAGS_ACCESS_WRITE, 1, 2, &id_a2));
	ASSERT_EQ(0, PIN(0, 8, 4, &id_b));
	ASSERT_EQ(0, PIN(0, 16, 2, &id_c));

	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, IOVA(0), 4 * PS, &len));
	EXPECT_EQ(4 * PS, len);
	UNMAPPED(IOVA(0), 4 * PS);
	REFS(0, 4, 0);
	EXPECT_EQ(ENOENT, UNPIN(id_a));
	EXPECT_EQ(ENOENT, UNPIN(id_a2));
	/* B and C are untouched */
	MAPPED(IOVA(8), 4 * PS, VA(8));
	REFS(8, 4, 1);
	REFS(16, 2, 1);
	ASSERT_EQ(0, UNPIN(id_b));
	REFS(8, 4, DOM_REFS);

	/* unmap everything: C's item goes too */
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, &len));
	EXPECT_EQ(6 * PS, len);
	EXPECT_EQ(ENOENT, UNPIN(id_c));
	REFS(0, ACC_PAGES_NR, 0);
	BACK_TO_START();

	/* the access still works on what gets mapped next */
	MAP_PAGES(0, 4);
	ASSERT_EQ(0, PIN(0, 0, 4, &id_a));
	REFS(0, 4, 1);
	ASSERT_EQ(0, UNPIN(id_a));
	END_ACCESS();
}

/*
 * An access that ignores the notification: UNMAP fails with EBUSY, quickly,
 * and the mapping and the pins stay; after DESTROY_ACCESS_PAGES it works.
 */
TEST_F(access, unmap_no_unmap_ebusy)
{
	unsigned char *data;
	struct ioas_state st;
	__u64 t0, len = 0;
	__u32 id, id2;

	data = malloc(4 * PS);
	ASSERT_NE(NULL, data);
	/* A: pages 0-3, pinned; B: pages 8-11, not pinned */
	MAP_PAGES(0, 4);
	MAP_PAGES(8, 4);
	CREATE_ACCESS(MOCK_FLAGS_ACCESS_CREATE_NO_UNMAP);
	ASSERT_EQ(0, PIN(0, 1, 2, &id));
	SNAPSHOT(&st);

	t0 = now_ns();
	EXPECT_EQ(EBUSY, _ioas_unmap(self->fd, self->ioas, IOVA(0), 4 * PS,
				     NULL));
	EXPECT_GT(QUICK_NS, now_ns() - t0);
	UNCHANGED(&st);
	MAPPED(IOVA(0), 4 * PS, VA(0));
	REFS(1, 2, 1);
	/* the access still reads A */
	ASSERT_EQ(0, RW(IOVA(0), 4 * PS, data, 0));
	EXPECT_EQ(0, memcmp(data, VA(0), 4 * PS));

	/* a larger range that holds A (and nothing else): the same */
	t0 = now_ns();
	EXPECT_EQ(EBUSY, _ioas_unmap(self->fd, self->ioas, 0, IOVA(6), NULL));
	EXPECT_GT(QUICK_NS, now_ns() - t0);
	UNCHANGED(&st);
	REFS(1, 2, 1);

	/* the item is still valid: a second one on top, then both go */
	ASSERT_EQ(0, PIN(0, 0, 4, &id2));
	ASSERT_EQ(0, UNPIN(id));
	t0 = now_ns();
	EXPECT_EQ(EBUSY, _ioas_unmap(self->fd, self->ioas, IOVA(0), 4 * PS,
				     NULL));
	EXPECT_GT(QUICK_NS, now_ns() - t0);
	MAPPED(IOVA(0), 4 * PS, VA(0));
	REFS(0, 4, 1);
	ASSERT_EQ(0, UNPIN(id2));
	REFS(0, 4, DOM_REFS);

	/* unpinned: the unmap works, B (never pinned) with it */
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, IOVA(0), 4 * PS, &len));
	EXPECT_EQ(4 * PS, len);
	UNMAPPED(IOVA(0), 4 * PS);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, IOVA(8), 4 * PS, &len));
	EXPECT_EQ(4 * PS, len);
	REFS(0, 12, 0);
	free(data);
	CLOSE_ACCESS();
	BACK_TO_START();
}

/*
 * Pins at both ends of the address space, and UNMAP of everything: the
 * pinned areas span [0, U64_MAX], a range whose length does not fit in 64
 * bits. The access is told about all of it anyway (a notification of
 * length 0, which names nothing, would leave the pins and fail the UNMAP
 * with EBUSY; the mock warns if it gets one).
 */
TEST_F(access, unmap_all_pinned_at_both_ends)
{
	const __u64 top = U64_MAX - PS + 1;
	__u64 len = 0;
	__u32 id0, id1;

	/* a domain's aperture keeps both ends out of reach */
	if (self->nr_hwpts)
		SKIP(return, "IOVA 0 and the top page are outside the aperture");
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, VA(0), PS, 0));
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, VA(1), PS, top));
	CREATE_ACCESS(0);
	ASSERT_EQ(0, _access_pages(self->fd, self->access, 0, 0, PS, VA(0),
				   &id0));
	ASSERT_EQ(0, _access_pages(self->fd, self->access, 0, top, PS, VA(1),
				   &id1));
	REFS(0, 2, 1);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, &len));
	EXPECT_EQ(2 * PS, len);
	EXPECT_EQ(ENOENT, UNPIN(id0));
	EXPECT_EQ(ENOENT, UNPIN(id1));
	REFS(0, 2, 0);
	CLOSE_ACCESS();
	BACK_TO_START();
}

/*
 * An access that pins a range again as soon as its unmap callback has
 * unpinned it, as a driver whose DMA races the UNMAP would: the area being
 * unmapped takes no new pin (EINVAL, as mainline) until the UNMAP is done,
 * so the UNMAP succeeds instead of giving up with EBUSY, and nothing stays
 * pinned. Without that, every retry found the range pinned again.
 */
TEST_F(access, unmap_not_starved_by_new_pins)
{
	__u64 len = 0;
	__u32 id, id2;

	MAP_PAGES(0, 4);
	MAP_PAGES(8, 4);
	CREATE_ACCESS(MOCK_FLAGS_ACCESS_CREATE_REPIN);
	ASSERT_EQ(0, PIN(0, 1, 2, &id));
	ASSERT_EQ(0, PIN(0, 8, 1, &id2));
	REFS(1, 2, 1);

	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, IOVA(0), 4 * PS, &len));
	EXPECT_EQ(4 * PS, len);
	UNMAPPED(IOVA(0), 4 * PS);
	REFS(0, 4, 0);
	EXPECT_EQ(ENOENT, UNPIN(id));
	/* the pin outside the range is untouched */
	REFS(8, 1, 1);
	ASSERT_EQ(0, UNPIN(id2));
	/* the area that remains takes pins as before */
	ASSERT_EQ(0, PIN(0, 9, 2, &id));
	ASSERT_EQ(0, UNPIN(id));
	CLOSE_ACCESS();
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, IOVA(8), 4 * PS, &len));
	BACK_TO_START();
}

/* ---- ACCESS_RW ---- */

static const __u32 rw_paths[] = { 0, MOCK_ACCESS_RW_SLOW_PATH };

/* map pages 0-15, create an access with no flags, snapshot into *@st */
#define RW_START(st)							\
	do {								\
		MAP_PAGES(0, 16);					\
		CREATE_ACCESS(0);					\
		SNAPSHOT(st);						\
	} while (0)

/* an offset or length given in units of 4 KiB pages of buf, in bytes */
static __u64 rw_bytes(__u64 v)
{
	return v / 4096 * PS + v % 4096;
}

TEST_F(access, rw_read)
{
	static const struct {
		__u64 off;
		__u64 len;
	} cases[] = {
		{ 0, 1 },
		{ 1, 1 },
		{ 4095, 2 },
		{ 77, 3 * 4096 + 123 },
		{ 5 * 4096, 4096 },
		{ 0, 16 * 4096 },
		{ 16 * 4096 - 1, 1 },
	};
	struct ioas_state st;
	unsigned char *dst;
	unsigned int i, p;
	__u64 off, len;
	__u32 id;

	dst = malloc(17 * PS);
	ASSERT_NE(NULL, dst);
	RW_START(&st);

	for (p = 0; p < ARRAY_SIZE(rw_paths); p++) {
		for (i = 0; i < ARRAY_SIZE(cases); i++) {
			off = rw_bytes(cases[i].off);
			len = rw_bytes(cases[i].len);
			memset(dst, 0xa5, len + 1);
			ASSERT_EQ(0, RW(IOVA(0) + off, len, dst, rw_paths[p])) {
				TH_LOG("case %u flags %#x", i, rw_paths[p]);
			}
			EXPECT_EQ(0, memcmp(dst, VA(0) + off, len)) {
				TH_LOG("case %u flags %#x", i, rw_paths[p]);
			}
			EXPECT_EQ(0xa5, dst[len]);
		}
		/* nothing pinned, nothing charged, nothing moved */
		UNCHANGED(&st);
		REFS(0, 16, DOM_REFS);
	}

	/* with pages pinned by the access, reading leaves them as they are */
	ASSERT_EQ(0, PIN(0, 2, 4, &id));
	SNAPSHOT(&st);
	for (p = 0; p < ARRAY_SIZE(rw_paths); p++) {
		ASSERT_EQ(0, RW(IOVA(1) + 5, 6 * PS, dst, rw_paths[p]));
		EXPECT_EQ(0, memcmp(dst, VA(1) + 5, 6 * PS));
	}
	UNCHANGED(&st);
	REFS(2, 4, 1);
	ASSERT_EQ(0, UNPIN(id));
	REFS(0, 16, DOM_REFS);

	free(dst);
	END_ACCESS();
}

TEST_F(access, rw_write)
{
	static const struct {
		__u64 off;
		__u64 len;
	} cases[] = {
		{ 3, 1 },
		{ 4096 - 2, 4 },
		{ 2 * 4096 + 100, 2 * 4096 + 7 },
		{ 8 * 4096, 4096 },
		{ 16 * 4096 - 3, 3 },
	};
	unsigned char *src, *expect, *dst;
	struct ioas_state st;
	unsigned int i, p;
	__u64 off, len;

	src = alloc_buffer(16 * PS, 97);
	ASSERT_NE(NULL, src);
	expect = malloc(16 * PS);
	ASSERT_NE(NULL, expect);
	dst = malloc(16 * PS);
	ASSERT_NE(NULL, dst);
	RW_START(&st);

	for (p = 0; p < ARRAY_SIZE(rw_paths); p++) {
		for (i = 0; i < ARRAY_SIZE(cases); i++) {
			off = rw_bytes(cases[i].off);
			len = rw_bytes(cases[i].len);
			/* a different source for each write */
			fill_pattern(src, len, 200 + p * 16 + i);
			memcpy(expect, VA(0), 16 * PS);
			memcpy(expect + off, src, len);
			ASSERT_EQ(0, RW(IOVA(0) + off, len, src,
					MOCK_ACCESS_RW_WRITE | rw_paths[p])) {
				TH_LOG("case %u flags %#x", i, rw_paths[p]);
			}
			/* exactly those bytes of the mapped memory changed */
			EXPECT_EQ(0, memcmp(expect, VA(0), 16 * PS)) {
				TH_LOG("case %u flags %#x", i, rw_paths[p]);
			}
			/* and reading them back through the access agrees */
			ASSERT_EQ(0, RW(IOVA(0) + off, len, dst, rw_paths[p]));
			EXPECT_EQ(0, memcmp(dst, src, len));
		}
		UNCHANGED(&st);
		REFS(0, 16, DOM_REFS);
	}
	/* the domain still maps the memory that was written */
	MAPPED(IOVA(0), 16 * PS, VA(0));

	free(dst);
	free(expect);
	munmap(src, 16 * PS);
	END_ACCESS();
}

TEST_F(access, rw_errnos)
{
	static const __u32 bad_flags[] = {
		1U << 1, 1U << 3, 1U << 31,
	};
	unsigned char *data, *saved;
	struct ioas_state st;
	unsigned int i, p;

	data = alloc_buffer(4 * PS, 5);
	ASSERT_NE(NULL, data);
	saved = malloc(4 * PS);
	ASSERT_NE(NULL, saved);
	/* pages 0-3 rw, a hole at 4-5, pages 6-7 rw, 16-19 read-only */
	MAP_PAGES(0, 4);
	MAP_PAGES(6, 2);
	MAP_PAGES_RO(16, 4);
	CREATE_ACCESS(0);
	SNAPSHOT(&st);

	for (p = 0; p < ARRAY_SIZE(rw_paths); p++) {
		__u32 f = rw_paths[p];

		EXPECT_EQ(EINVAL, RW(IOVA(0), 0, data, f));
		EXPECT_EQ(EINVAL, RW(IOVA(0), 0, data,
				     f | MOCK_ACCESS_RW_WRITE));
		/* reads that run into the hole, or land beside the mappings */
		EXPECT_EQ(ENOENT, RW(IOVA(4) - 1, 2, data, f));
		EXPECT_EQ(ENOENT, RW(IOVA(4), 1, data, f));
		EXPECT_EQ(ENOENT, RW(IOVA(6) - 1, 2, data, f));
		EXPECT_EQ(ENOENT, RW(IOVA(3), 3 * PS + 1, data, f));
		EXPECT_EQ(ENOENT, RW(IOVA(8) - 1, 2, data, f));
		EXPECT_EQ(ENOENT, RW(IOVA(24), PS, data, f));
		EXPECT_EQ(ENOENT, RW(0, 1, data, f));
		/* a write to nothing */
		EXPECT_EQ(ENOENT, RW(IOVA(4), PS, data,
				     f | MOCK_ACCESS_RW_WRITE));

		/* no writing through a read-only mapping */
		memcpy(saved, VA(16), 4 * PS);
		EXPECT_EQ(EPERM, RW(IOVA(16), 4 * PS, data,
				    f | MOCK_ACCESS_RW_WRITE));
		EXPECT_EQ(EPERM, RW(IOVA(17) + 9, 1, data,
				    f | MOCK_ACCESS_RW_WRITE));
		EXPECT_EQ(0, memcmp(saved, VA(16), 4 * PS));
		/* reading it is fine */
		ASSERT_EQ(0, RW(IOVA(17) + 9, PS, data, f));
		EXPECT_EQ(0, memcmp(data, VA(17) + 9, PS));

		/* unknown flags, as for every command */
		for (i = 0; i < ARRAY_SIZE(bad_flags); i++) {
			EXPECT_EQ(EOPNOTSUPP, RW(IOVA(0), 1, data,
						 f | bad_flags[i])) {
				TH_LOG("flags %#x", f | bad_flags[i]);
			}
		}
		UNCHANGED(&st);
		REFS(0, 4, DOM_REFS);
		REFS(16, 4, DOM_REFS);
	}

	free(saved);
	munmap(data, 4 * PS);
	END_ACCESS();
}

/*
 * What nothing pins is copied through this process's mapping (or, on the
 * slow path, pinned for the copy); what a domain pins is copied through
 * its PFNs. So with page 1 made PROT_NONE after the MAP, a copy there fails
 * with EFAULT when no domain holds it, on both paths, and changes nothing;
 * with a domain it reads and writes the pinned page as before.
 */
TEST_F(access, rw_user_mapping_gone)
{
	unsigned char *data, *saved;
	struct ioas_state st;
	unsigned int p;

	data = alloc_buffer(2 * PS, 9);
	ASSERT_NE(NULL, data);
	saved = malloc(PS);
	ASSERT_NE(NULL, saved);
	MAP_PAGES(0, 4);
	CREATE_ACCESS(0);
	memcpy(saved, VA(1), PS);
	SNAPSHOT(&st);
	ASSERT_EQ(0, mprotect(VA(1), PS, PROT_NONE));

	for (p = 0; p < ARRAY_SIZE(rw_paths); p++) {
		__u32 f = rw_paths[p];

		if (!self->nr_hwpts) {
			EXPECT_EQ(EFAULT, RW(IOVA(1) + 8, 16, data, f));
			EXPECT_EQ(EFAULT, RW(IOVA(1), PS, data,
					     f | MOCK_ACCESS_RW_WRITE));
		} else {
			ASSERT_EQ(0, RW(IOVA(1) + 8, 16, data, f));
			EXPECT_EQ(0, memcmp(data, saved + 8, 16));
			ASSERT_EQ(0, RW(IOVA(1), PS, saved,
					f | MOCK_ACCESS_RW_WRITE));
		}
		/* the pages beside it are readable on either path */
		ASSERT_EQ(0, RW(IOVA(2), 2 * PS, data, f));
		EXPECT_EQ(0, memcmp(data, VA(2), 2 * PS));
		UNCHANGED(&st);
		REFS(0, 1, DOM_REFS);
		REFS(2, 2, DOM_REFS);
	}
	ASSERT_EQ(0, mprotect(VA(1), PS, PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, memcmp(VA(1), saved, PS));

	free(saved);
	munmap(data, 2 * PS);
	END_ACCESS();
}

/*
 * A software access may do only what the area allows, whatever the memory
 * behind it allows: pages 16-19 are a read-only COPY of the writable
 * mapping of pages 0-3, so they can't be written or pinned for writing,
 * although the memory is writable; pages 8-9 are mapped write-only, so
 * they can't be read or pinned for reading. Refusals are EPERM and leave
 * the memory, the pins and the IOAS as they were.
 */
TEST_F(access, area_permissions_eperm)
{
	unsigned char *data, *saved;
	struct ioas_state st;
	unsigned int p;
	__u32 id;
	__u64 iova;

	data = alloc_buffer(2 * PS, 6);
	ASSERT_NE(NULL, data);
	saved = malloc(4 * PS);
	ASSERT_NE(NULL, saved);
	MAP_PAGES(0, 4);
	iova = IOVA(16);
	ASSERT_EQ(0, _ioas_copy(self->fd, IOMMU_IOAS_MAP_FIXED_IOVA |
				IOMMU_IOAS_MAP_READABLE, self->ioas, &iova,
				self->ioas, IOVA(0), 4 * PS));
	iova = IOVA(8);
	ASSERT_EQ(0, _ioas_map(self->fd, self->ioas,
			       IOMMU_IOAS_MAP_FIXED_IOVA |
			       IOMMU_IOAS_MAP_WRITEABLE, VA(8), 2 * PS, &iova));
	CREATE_ACCESS(0);
	SNAPSHOT(&st);
	memcpy(saved, VA(0), 4 * PS);

	for (p = 0; p < ARRAY_SIZE(rw_paths); p++) {
		__u32 f = rw_paths[p];

		EXPECT_EQ(EPERM, RW(IOVA(16), PS, data,
				    f | MOCK_ACCESS_RW_WRITE));
		EXPECT_EQ(EPERM, RW(IOVA(18) + 7, 3, data,
				    f | MOCK_ACCESS_RW_WRITE));
		EXPECT_EQ(EPERM, RW(IOVA(8), PS, data, f));
		EXPECT_EQ(EPERM, RW(IOVA(9) + 100, 1, data, f));
	}
	EXPECT_EQ(EPERM, _access_pages(self->fd, self->access,
				       MOCK_FLAGS_ACCESS_WRITE, IOVA(16),
				       2 * PS, VA(0), &id));
	EXPECT_EQ(EPERM, _access_pages(self->fd, self->access, 0, IOVA(8),
				       2 * PS, VA(8), &id));
	UNCHANGED(&st);
	EXPECT_EQ(0, memcmp(saved, VA(0), 4 * PS));
	REFS(0, 4, DOM_REFS);
	REFS(8, 2, DOM_REFS);

	/* what the areas do allow works */
	ASSERT_EQ(0, RW(IOVA(17) + 5, PS, data, 0));
	EXPECT_EQ(0, memcmp(data, VA(1) + 5, PS));
	ASSERT_EQ(0, RW(IOVA(8) + 3, PS, data, MOCK_ACCESS_RW_WRITE));
	EXPECT_EQ(0, memcmp(data, VA(8) + 3, PS));
	ASSERT_EQ(0, _access_pages(self->fd, self->access, 0, IOVA(16),
				   2 * PS, VA(0), &id));
	ASSERT_EQ(0, UNPIN(id));
	ASSERT_EQ(0, _access_pages(self->fd, self->access,
				   MOCK_FLAGS_ACCESS_WRITE, IOVA(8), 2 * PS,
				   VA(8), &id));
	ASSERT_EQ(0, UNPIN(id));
	/* and the writable mapping of the same memory is writable */
	ASSERT_EQ(0, RW(IOVA(0), PS, data, MOCK_ACCESS_RW_WRITE));
	EXPECT_EQ(0, memcmp(data, VA(0), PS));

	free(saved);
	munmap(data, 2 * PS);
	END_ACCESS();
}

/* A read or a write over two adjacent mappings of unrelated memory. */
TEST_F(access, rw_two_mappings)
{
	unsigned char *buf2, *data, *exp1, *exp2;
	const __u64 edge = IOVA(4);
	struct ioas_state st;
	unsigned int p;

	buf2 = alloc_buffer(4 * PS, 77);
	ASSERT_NE(NULL, buf2);
	data = malloc(3 * PS);
	ASSERT_NE(NULL, data);
	exp1 = malloc(4 * PS);
	ASSERT_NE(NULL, exp1);
	exp2 = malloc(4 * PS);
	ASSERT_NE(NULL, exp2);
	/* buf pages 0-3 at IOVA pages 0-3, buf2 at IOVA pages 4-7 */
	MAP_PAGES(0, 4);
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, buf2, 4 * PS, edge));
	CREATE_ACCESS(0);
	SNAPSHOT(&st);

	for (p = 0; p < ARRAY_SIZE(rw_paths); p++) {
		memset(data, 0, 3 * PS);
		ASSERT_EQ(0, RW(edge - 100, 300, data, rw_paths[p]));
		EXPECT_EQ(0, memcmp(data, VA(4) - 100, 100));
		EXPECT_EQ(0, memcmp(data + 100, buf2, 200));

		ASSERT_EQ(0, RW(edge - PS - 1, 2 * PS + 2, data, rw_paths[p]));
		EXPECT_EQ(0, memcmp(data, VA(3) - 1, PS + 1));
		EXPECT_EQ(0, memcmp(data + PS + 1, buf2, PS + 1));

		fill_pattern(data, 2 * PS, 60 + p);
		memcpy(exp1, VA(0), 4 * PS);
		memcpy(exp2, buf2, 4 * PS);
		memcpy(exp1 + 4 * PS - 333, data, 333);
		memcpy(exp2, data + 333, PS);
		ASSERT_EQ(0, RW(edge - 333, 333 + PS, data,
				MOCK_ACCESS_RW_WRITE | rw_paths[p]));
		EXPECT_EQ(0, memcmp(exp1, VA(0), 4 * PS));
		EXPECT_EQ(0, memcmp(exp2, buf2, 4 * PS));
		UNCHANGED(&st);
	}
	REFS(0, 4, DOM_REFS);
	EXPECT_EQ(0, _md_check_refs(self->fd, buf2, 4 * PS, DOM_REFS));

	free(exp2);
	free(exp1);
	free(data);
	CLOSE_ACCESS();
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));
	munmap(buf2, 4 * PS);
	BACK_TO_START();
}

/* ---- ACCESS_REPLACE_IOAS ---- */

TEST_F(access, replace_ioas)
{
	unsigned char *buf2, *data;
	struct ioas_state st;
	__u32 ioas2, id;
	int keeper;

	buf2 = alloc_buffer(8 * PS, 13);
	ASSERT_NE(NULL, buf2);
	data = malloc(8 * PS);
	ASSERT_NE(NULL, data);
	/* the same IOVA holds buf in the IOAS and buf2 in ioas2 */
	MAP_PAGES(0, 8);
	ASSERT_EQ(0, _ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, _map_fixed(self->fd, ioas2, buf2, 8 * PS, IOVA(0)));
	CREATE_ACCESS(0);
	ASSERT_EQ(0, RW(IOVA(0), 8 * PS, data, 0));
	ASSERT_EQ(0, memcmp(data, VA(0), 8 * PS));

	/*
	 * Refused while a driver keeps pages pinned through the old IOAS
	 * (this one ignores the unmap callback), and nothing moves.
	 */
	ASSERT_EQ(0, _create_access(self->fd, self->ioas,
				    MOCK_FLAGS_ACCESS_CREATE_NO_UNMAP, &keeper));
	ASSERT_EQ(0, _access_pages(self->fd, keeper, 0, IOVA(2), 2 * PS,
				   VA(2), &id));
	SNAPSHOT(&st);
	EXPECT_EQ(EBUSY, _access_replace_ioas(self->fd, keeper, ioas2));
	UNCHANGED(&st);
	REFS(2, 2, 1);
	ASSERT_EQ(0, _access_rw(self->fd, keeper, IOVA(0), 8 * PS, data, 0));
	EXPECT_EQ(0, memcmp(data, VA(0), 8 * PS));
	close(keeper);
	REFS(2, 2, DOM_REFS);

	/* not an IOAS */
	SNAPSHOT(&st);
	EXPECT_EQ(ENOENT, _access_replace_ioas(self->fd, self->access, 0));
	EXPECT_EQ(ENOENT, _access_replace_ioas(self->fd, self->access,
					       GONE_ID(self->fd)));
	if (self->nr_hwpts) {
		EXPECT_EQ(ENOENT, _access_replace_ioas(self->fd, self->access,
						       self->hwpt[0]));
		EXPECT_EQ(ENOENT, _access_replace_ioas(self->fd, self->access,
						       self->stdev[0]));
	}
	UNCHANGED(&st);
	ASSERT_EQ(0, RW(IOVA(0), 8 * PS, data, 0));
	EXPECT_EQ(0, memcmp(data, VA(0), 8 * PS));
	/* still on the first IOAS, which can't go */
	EXPECT_EQ(EBUSY, _destroy(self->fd, self->ioas));

	/*
	 * The move: pages pinned through the old IOAS are unpinned through
	 * the unmap callback first; reads and pins go to ioas2's memory then.
	 */
	ASSERT_EQ(0, PIN(0, 2, 2, &id));
	REFS(2, 2, 1);
	ASSERT_EQ(0, _access_replace_ioas(self->fd, self->access, ioas2));
	REFS(2, 2, DOM_REFS);
	EXPECT_EQ(ENOENT, UNPIN(id));
	memset(data, 0, 8 * PS);
	ASSERT_EQ(0, RW(IOVA(0), 8 * PS, data, 0));
	EXPECT_EQ(0, memcmp(data, buf2, 8 * PS));
	ASSERT_EQ(0, RW(IOVA(1) + 3, 100, data, MOCK_ACCESS_RW_SLOW_PATH));
	EXPECT_EQ(0, memcmp(data, buf2 + PS + 3, 100));
	EXPECT_EQ(EINVAL, PIN(0, 2, 2, &id));
	ASSERT_EQ(0, _access_pages(self->fd, self->access, 0, IOVA(2), 2 * PS,
				   buf2 + 2 * PS, &id));
	EXPECT_EQ(0, _md_check_refs(self->fd, buf2 + 2 * PS, 2 * PS, 1));
	REFS(2, 2, DOM_REFS);
	ASSERT_EQ(0, UNPIN(id));
	EXPECT_EQ(0, _md_check_refs(self->fd, buf2, 8 * PS, 0));

	/* the old IOAS is free to go (after its domain), the new one is held */
	if (self->nr_hwpts) {
		ASSERT_EQ(0, _destroy(self->fd, self->stdev[0]));
		self->nr_hwpts = 0;
	}
	EXPECT_EQ(0, _destroy(self->fd, self->ioas));
	EXPECT_EQ(EBUSY, _destroy(self->fd, ioas2));
	/* and unmapping in ioas2 reaches the access */
	ASSERT_EQ(0, _access_pages(self->fd, self->access, 0, IOVA(0), PS,
				   buf2, &id));
	ASSERT_EQ(0, _ioas_unmap(self->fd, ioas2, 0, U64_MAX, NULL));
	EXPECT_EQ(ENOENT, UNPIN(id));

	CLOSE_ACCESS();
	EXPECT_EQ(0, _destroy(self->fd, ioas2));
	free(data);
	munmap(buf2, 8 * PS);
	BACK_TO_START();
}

/* ====================================================================== */
/* Without a fixture: whole files */

#define ID_SCAN_MAX 64

/*
 * The access is an object of the iommufd that IOMMU_DESTROY can't destroy.
 * Its ID isn't reported, so every ID of a fresh file is tried: only the
 * IOAS and the access may exist, and both must be busy.
 */
TEST(access_object_not_destroyable)
{
	__u32 ioas, id, busy[ID_SCAN_MAX];
	unsigned int nbusy = 0, i;
	int fd, access, rc;

	fd = OPEN_IOMMUFD();
	ASSERT_EQ(0, _ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, _create_access(fd, ioas, 0, &access));

	for (id = 1; id <= ID_SCAN_MAX; id++) {
		rc = _destroy(fd, id);
		if (rc == ENOENT)
			continue;
		ASSERT_EQ(EBUSY, rc) {
			TH_LOG("ID %u", id);
		}
		if (id != ioas)
			busy[nbusy++] = id;
	}
	/* the IOAS is held by the access, and the access exists */
	ASSERT_EQ(EBUSY, _destroy(fd, ioas));
	ASSERT_LT(0, nbusy);

	/* closing the access fd removes the object and frees the IOAS */
	close(access);
	for (i = 0; i < nbusy; i++) {
		EXPECT_EQ(ENOENT, _destroy(fd, busy[i])) {
			TH_LOG("ID %u", busy[i]);
		}
	}
	EXPECT_EQ(0, _destroy(fd, ioas));
	close(fd);
}

/*
 * Either file may be closed first, with or without a domain, while the
 * access holds pins: once both are closed everything is released.
 */
TEST(close_order)
{
	struct iommufd_stats s0, st;
	unsigned int domains, round;
	unsigned char *buf, *data;
	int fd, fd2, access;
	__u32 ioas, id;

	fd2 = OPEN_STATS_BASELINE(&s0);
	data = malloc(PS);
	ASSERT_NE(NULL, data);
	for (round = 0; round < 4; round++) {
		bool iommufd_first = round & 1;

		domains = round >> 1;
		buf = __setup_ioas(_metadata, &fd, &ioas, domains, NULL, NULL,
				   8, 50 + round);
		ASSERT_EQ(0, _map_fixed(fd, ioas, buf, 8 * PS,
					APERTURE_START));
		ASSERT_EQ(0, _create_access(fd, ioas, 0, &access));
		ASSERT_EQ(0, _access_pages(fd, access, 0, APERTURE_START + PS,
					   4 * PS, buf + PS, &id));
		ASSERT_EQ(0, _md_check_refs(fd2, buf + PS, 4 * PS, 1));
		ASSERT_EQ(0, _access_rw(fd, access, APERTURE_START + 7, PS,
					data, 0));
		ASSERT_EQ(0, memcmp(data, buf + 7, PS));

		if (iommufd_first) {
			close(fd);
			close(access);
		} else {
			close(access);
			close(fd);
		}
		ASSERT_EQ(0, _get_stats(fd2, &st));
		ASSERT_STATS_EQUAL(&s0, &st);
		EXPECT_EQ(0, _md_check_refs(fd2, buf, 8 * PS, 0)) {
			TH_LOG("round %u", round);
		}
		munmap(buf, 8 * PS);
	}
	free(data);
	close(fd2);
}

TEST_HARNESS_MAIN
