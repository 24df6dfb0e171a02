// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stress tests for the object lifetime rules of /dev/iommu: two threads
 * issue conflicting ioctls at the same moment, over and over, and every
 * round must end in one of the outcomes a serial order of the two calls
 * could give:
 *  - IOMMU_DESTROY of a user HWPT against DEVICE_ATTACH to it,
 *  - the concurrent DEVICE_DETACH of the last two devices of an automatic
 *    HWPT, which must then be gone with its pins,
 *  - IOMMU_DESTROY of an IOAS against IOMMU_HWPT_ALLOC on it,
 *  - IOMMU_IOAS_UNMAP against ACCESS_PAGES / DESTROY_ACCESS_PAGES of a
 *    software access on the same IOVA.
 * Each test runs a fixed number of rounds and never looks at timing; which
 * thread wins a round is up to the scheduler, the tests only check that
 * each round is consistent and that nothing is left pinned afterwards.
 *
 * Needs a kernel built with CONFIG_IOMMUFD_TEST, and root.
 */
#include <pthread.h>

#include "iommufd_utils.h"

/* rounds per test: enough to hit the windows, quick under TCG and KASAN */
#define RACE_ROUNDS 200
#define RACE_UNMAP_ROUNDS 300
#define RACE_TIMEOUT 60

/* pages of memory mapped in the IOAS under test */
#define RACE_PAGES 4

#define STATS(s) ASSERT_EQ(0, _get_stats(self->fd, s))

/* the counters an iommufd object's life shows: pins, pages, areas */
#define EXPECT_OBJECT_STATS(a, b)					\
	do {								\
		EXPECT_EQ((a)->pinned_pages, (b)->pinned_pages);	\
		EXPECT_EQ((a)->pages_objects, (b)->pages_objects);	\
		EXPECT_EQ((a)->areas, (b)->areas);			\
	} while (0)

/* map the whole buffer at base in @ioas */
#define MAP_BUF(ioas)							\
	ASSERT_EQ(0, _map_fixed(self->fd, ioas, self->buf,		\
				self->buf_size, self->base))

/* no page of the buffer is pinned by anybody */
#define BUF_UNPINNED()							\
	ASSERT_EQ(0, _md_check_refs(self->fd, self->buf, self->buf_size, 0))

/*
 * Close the access (if any) and the iommufd under test; the STATS read
 * through the second file must then be back where they were before the
 * test opened anything.
 */
#define CLOSE_ALL()							\
	do {								\
		if (self->access >= 0)					\
			close(self->access);				\
		self->access = -1;					\
		CLOSE_TO_BASELINE(self->fd, self->fd_stats, &self->s0); \
		self->fd = -1;						\
	} while (0)

/* ---------------------------------------------------------------------- */
/* two calls released at once */

/*
 * One side of a race: @fn issues the call with the arguments below and
 * returns its errno (0 on success), which lands in @rc. Threads never
 * assert: the main thread checks @rc and the outputs after the round.
 */
struct race_op {
	int (*fn)(struct race_op *op);
	int fd;
	int access;
	__u32 id;
	__u32 id2;
	__u64 iova;
	__u64 length;
	void *va;
	/* outputs */
	int rc;
	int rc2;
	__u32 out;
	__u64 out_length;
	pthread_barrier_t *barrier;
};

static void *race_thread(void *arg)
{
	struct race_op *op = arg;

	pthread_barrier_wait(op->barrier);
	op->rc = op->fn(op);
	return NULL;
}

/*
 * Run @a and @b at the same time, one in a new thread and one in this
 * one, both waiting on @barrier (of count 2) first. Which side gets the
 * new thread alternates with @round. Returns 0, or the error of
 * pthread_create() / pthread_join().
 */
static int race(pthread_barrier_t *barrier, unsigned int round,
		struct race_op *a, struct race_op *b)
{
	struct race_op *other = (round & 1) ? a : b;
	struct race_op *mine = (round & 1) ? b : a;
	pthread_t thread;
	int rc;

	a->barrier = barrier;
	b->barrier = barrier;
	rc = pthread_create(&thread, NULL, race_thread, other);
	if (rc)
		return rc;
	race_thread(mine);
	return pthread_join(thread, NULL);
}

static int op_destroy(struct race_op *op)
{
	return _destroy(op->fd, op->id);
}

/* DEVICE_ATTACH of stdev @id to @id2 */
static int op_attach(struct race_op *op)
{
	return _device_attach(op->fd, op->id, op->id2, &op->out);
}

static int op_detach(struct race_op *op)
{
	return _device_detach(op->fd, op->id);
}

/* HWPT_ALLOC for idev @id on IOAS @id2 */
static int op_hwpt_alloc(struct race_op *op)
{
	return _hwpt_alloc(op->fd, op->id, op->id2, &op->out);
}

static int op_unmap(struct race_op *op)
{
	return _ioas_unmap(op->fd, op->id, op->iova, op->length,
			   &op->out_length);
}

/*
 * ACCESS_PAGES of [@iova, @iova + @length), and if that pinned anything
 * DESTROY_ACCESS_PAGES of it right away (its errno in @rc2).
 */
static int op_pin_unpin(struct race_op *op)
{
	int rc;

	rc = _access_pages(op->fd, op->access, 0, op->iova, op->length,
			   op->va, &op->out);
	if (rc)
		return rc;
	op->rc2 = _destroy_access_pages(op->fd, op->access, op->out);
	return 0;
}

/* DESTROY_ACCESS_PAGES of the item @id */
static int op_unpin(struct race_op *op)
{
	return _destroy_access_pages(op->fd, op->access, op->id);
}

/* ---------------------------------------------------------------------- */

FIXTURE(race) {
	int fd;
	/* a second file, to read STATS after fd is closed */
	int fd_stats;
	struct iommufd_stats s0;
	__u32 ioas;
	int access;
	void *buf;
	size_t buf_size;
	__u64 base;
	pthread_barrier_t barrier;
	bool have_barrier;
};

FIXTURE_SETUP(race)
{
	self->fd = -1;
	self->fd_stats = -1;
	self->access = -1;
	self->fd_stats = OPEN_STATS_BASELINE(&self->s0);
	self->fd = OPEN_IOMMUFD();
	ASSERT_EQ(0, _ioas_alloc(self->fd, &self->ioas));
	self->buf_size = RACE_PAGES * page_size;
	self->buf = alloc_buffer(self->buf_size, 73);
	ASSERT_NE(NULL, self->buf);
	self->base = APERTURE_START;
	ASSERT_EQ(0, pthread_barrier_init(&self->barrier, NULL, 2));
	self->have_barrier = true;
}

FIXTURE_TEARDOWN(race)
{
	if (self->access >= 0)
		close(self->access);
	if (self->fd >= 0)
		close(self->fd);
	if (self->fd_stats >= 0)
		close(self->fd_stats);
	if (self->buf)
		munmap(self->buf, self->buf_size);
	if (self->have_barrier)
		pthread_barrier_destroy(&self->barrier);
}

/*
 * Race IOMMU_DESTROY of @id against @op (on @op's fd), which gets @id as
 * its id2, both waiting on @barrier. A
 * serial order of the two allows only: @op succeeded and the DESTROY found
 * the object busy (returns true), or the DESTROY succeeded and @op found
 * no such object (returns false). @what names @op in the log.
 */
static bool race_destroy(struct __test_metadata *_metadata,
			 pthread_barrier_t *barrier, unsigned int round,
			 __u32 id, struct race_op *op, const char *what)
{
	struct race_op destroy = {
		.fn = op_destroy,
		.fd = op->fd,
		.id = id,
	};
	bool won, lost;

	op->id2 = id;
	ASSERT_EQ(0, race(barrier, round, &destroy, op));

	won = op->rc == 0 && destroy.rc == EBUSY;
	lost = op->rc == ENOENT && destroy.rc == 0;
	ASSERT_TRUE(won || lost) {
		TH_LOG("round %u: %s %d, DESTROY %d", round, what, op->rc,
		       destroy.rc);
	}
	return won;
}

/*
 * The end of a test, before CLOSE_ALL(): the object counters of @fd are
 * back at *@before, then the @n devices @stdevs are destroyed.
 */
static void race_end(struct __test_metadata *_metadata, int fd,
		     const struct iommufd_stats *before,
		     const __u32 *stdevs, unsigned int n)
{
	struct iommufd_stats now;
	unsigned int d;

	ASSERT_EQ(0, _get_stats(fd, &now));
	EXPECT_OBJECT_STATS(before, &now);
	for (d = 0; d < n; d++) {
		ASSERT_EQ(0, _destroy(fd,
				      stdevs[d]));
	}
}

/*
 * IOMMU_DESTROY of a HWPT from IOMMU_HWPT_ALLOC while a device attaches to
 * it. Either the attach got there first: it succeeded, the HWPT was busy,
 * and it can be destroyed once the device is detached; or the DESTROY did:
 * it succeeded and the attach found no such object. Destroying a HWPT that
 * a device is being attached to, or attaching to one that is being freed,
 * would show up as both succeeding.
 */
TEST_F_TIMEOUT(race, destroy_hwpt_vs_attach, RACE_TIMEOUT)
{
	struct iommufd_stats before;
	struct mock_dev_info info;
	unsigned int i, attached = 0;
	__u32 stdev, idev, hwpt;

	MAP_BUF(self->ioas);
	ASSERT_EQ(0, _mock_group_device(self->fd, 0, 0, &stdev, &idev));
	STATS(&before);

	for (i = 0; i < RACE_ROUNDS; i++) {
		struct race_op attach = {
			.fn = op_attach,
			.fd = self->fd,
			.id = stdev,
		};
		bool won;

		ASSERT_EQ(0, _hwpt_alloc(self->fd, idev, self->ioas, &hwpt));
		won = race_destroy(_metadata, &self->barrier, i, hwpt, &attach,
				   "DEVICE_ATTACH");
		ASSERT_EQ(0, _device_info(self->fd, stdev, &info));
		if (won) {
			attached++;
			ASSERT_EQ(hwpt, attach.out);
			ASSERT_EQ(hwpt, info.hwpt);
			ASSERT_EQ(0, _md_check_map(self->fd, hwpt, self->base,
						   self->buf, self->buf_size));
			ASSERT_EQ(EBUSY, _destroy(self->fd, hwpt));
			ASSERT_EQ(0, _device_detach(self->fd, stdev));
			ASSERT_EQ(0, _destroy(self->fd, hwpt));
		} else {
			ASSERT_EQ(0, info.hwpt);
			ASSERT_EQ(ENOENT, _destroy(self->fd, hwpt));
		}
		BUF_UNPINNED();
	}
	TH_LOG("the attach won %u of %u rounds", attached, RACE_ROUNDS);
	race_end(_metadata, self->fd, &before, &stdev, 1);
	CLOSE_ALL();
}

/*
 * Two devices attached to the same IOAS share its automatic HWPT; both
 * detach at the same time. Whichever is last must free the HWPT, exactly
 * once: afterwards its ID is gone and the pages it pinned are unpinned.
 */
TEST_F_TIMEOUT(race, detach_last_two_devices, RACE_TIMEOUT)
{
	struct iommufd_stats before, now;
	struct mock_dev_info info;
	__u32 stdev[2], hwpt[2];
	unsigned int i, d;

	MAP_BUF(self->ioas);
	for (d = 0; d < 2; d++) {
		ASSERT_EQ(0, _mock_group_device(self->fd, 0, 0, &stdev[d],
						NULL));
	}
	STATS(&before);
	BUF_UNPINNED();

	for (i = 0; i < RACE_ROUNDS; i++) {
		struct race_op detach[2] = {
			{ .fn = op_detach, .fd = self->fd, .id = stdev[0] },
			{ .fn = op_detach, .fd = self->fd, .id = stdev[1] },
		};

		for (d = 0; d < 2; d++) {
			ASSERT_EQ(0, _device_attach(self->fd, stdev[d],
						    self->ioas, &hwpt[d]));
		}
		ASSERT_EQ(hwpt[0], hwpt[1]);
		ASSERT_EQ(0, _md_check_refs(self->fd, self->buf,
					    self->buf_size, 1));
		STATS(&now);
		ASSERT_LT(before.pinned_pages, now.pinned_pages);

		ASSERT_EQ(0, race(&self->barrier, i, &detach[0], &detach[1]));
		for (d = 0; d < 2; d++) {
			ASSERT_EQ(0, detach[d].rc) {
				TH_LOG("round %u: DEVICE_DETACH of device %u: %d",
				       i, d, detach[d].rc);
			}
			ASSERT_EQ(0, _device_info(self->fd, stdev[d], &info));
			ASSERT_EQ(0, info.hwpt);
		}
		ASSERT_EQ(ENOENT, _destroy(self->fd, hwpt[0])) {
			TH_LOG("round %u: the automatic HWPT %u outlived its devices",
			       i, hwpt[0]);
		}
		STATS(&now);
		ASSERT_EQ(before.pinned_pages, now.pinned_pages) {
			TH_LOG("round %u", i);
		}
		BUF_UNPINNED();
	}

	race_end(_metadata, self->fd, &before, stdev, 2);
	CLOSE_ALL();
}

/*
 * IOMMU_DESTROY of an IOAS (with a mapping) while IOMMU_HWPT_ALLOC makes a
 * HWPT on it. Either the HWPT got made, on an IOAS that stays alive and
 * busy until the HWPT is destroyed, or the IOAS was destroyed first and
 * HWPT_ALLOC found no such object.
 */
TEST_F_TIMEOUT(race, destroy_ioas_vs_hwpt_alloc, RACE_TIMEOUT)
{
	struct iommufd_stats before;
	unsigned int i, allocated = 0;
	__u32 idev, stdev, ioas;

	ASSERT_EQ(0, _mock_group_device(self->fd, 0, 0, &stdev, &idev));
	STATS(&before);

	for (i = 0; i < RACE_ROUNDS; i++) {
		struct race_op alloc = {
			.fn = op_hwpt_alloc,
			.fd = self->fd,
			.id = idev,
		};

		ASSERT_EQ(0, _ioas_alloc(self->fd, &ioas));
		MAP_BUF(ioas);
		if (race_destroy(_metadata, &self->barrier, i, ioas, &alloc,
				 "HWPT_ALLOC")) {
			allocated++;
			ASSERT_EQ(0, _md_check_map(self->fd, alloc.out,
						   self->base, self->buf,
						   self->buf_size));
			ASSERT_EQ(EBUSY, _destroy(self->fd, ioas));
			ASSERT_EQ(0, _destroy(self->fd, alloc.out));
			ASSERT_EQ(0, _destroy(self->fd, ioas));
		} else {
			ASSERT_EQ(ENOENT, _destroy(self->fd, ioas));
		}
		BUF_UNPINNED();
	}
	TH_LOG("HWPT_ALLOC won %u of %u rounds", allocated, RACE_ROUNDS);
	race_end(_metadata, self->fd, &before, &stdev, 1);
	CLOSE_ALL();
}

/*
 * IOMMU_IOAS_UNMAP of a mapping while a software access (default flags:
 * the mock unpins when notified) pins and unpins the same IOVA. Every
 * round maps afresh, then races UNMAP against ACCESS_PAGES followed by
 * DESTROY_ACCESS_PAGES (even rounds), or against DESTROY_ACCESS_PAGES of
 * pages pinned before the round (odd rounds). The UNMAP always removes the
 * whole mapping, never EBUSY; a pin either fails because the IOVA is
 * (being) unmapped or succeeds and is then unpinned by whichever of the
 * notification and DESTROY_ACCESS_PAGES comes first, the other finding the
 * item gone. Nothing stays pinned.
 */
TEST_F_TIMEOUT(race, unmap_vs_access_pages, RACE_TIMEOUT)
{
	struct iommufd_stats before;
	unsigned int i, pinned = 0;
	__u32 pages_id;

	ASSERT_EQ(0, _create_access(self->fd, self->ioas, 0, &self->access));
	STATS(&before);

	for (i = 0; i < RACE_UNMAP_ROUNDS; i++) {
		struct race_op unmap = {
			.fn = op_unmap,
			.fd = self->fd,
			.id = self->ioas,
			.iova = self->base,
			.length = self->buf_size,
		};
		struct race_op pin = {
			.fn = op_pin_unpin,
			.fd = self->fd,
			.access = self->access,
			.iova = self->base,
			.length = self->buf_size,
			.va = self->buf,
		};
		bool pre_pinned = i & 1;

		MAP_BUF(self->ioas);
		if (pre_pinned) {
			ASSERT_EQ(0, _access_pages(self->fd, self->access, 0,
						   self->base, self->buf_size,
						   self->buf, &pages_id));
			pin.fn = op_unpin;
			pin.id = pages_id;
		}
		ASSERT_EQ(0, race(&self->barrier, i / 2, &unmap, &pin));

		ASSERT_EQ(0, unmap.rc) {
			TH_LOG("round %u: UNMAP %d", i, unmap.rc);
		}
		ASSERT_EQ(self->buf_size, unmap.out_length);
		if (pre_pinned) {
			ASSERT_TRUE(pin.rc == 0 || pin.rc == ENOENT) {
				TH_LOG("round %u: DESTROY_ACCESS_PAGES %d", i,
				       pin.rc);
			}
		} else {
			/* ENOENT: unmapped; EBUSY/EINVAL: being unmapped */
			ASSERT_TRUE(pin.rc == 0 || pin.rc == ENOENT ||
				    pin.rc == EBUSY || pin.rc == EINVAL) {
				TH_LOG("round %u: ACCESS_PAGES %d", i, pin.rc);
			}
			if (!pin.rc) {
				pinned++;
				ASSERT_TRUE(pin.rc2 == 0 || pin.rc2 == ENOENT) {
					TH_LOG("round %u: DESTROY_ACCESS_PAGES %d",
					       i, pin.rc2);
				}
			}
		}
		ASSERT_EQ(ENOENT, _probe_mapped(self->fd, self->ioas,
						self->base, self->buf_size));
		BUF_UNPINNED();
	}
	TH_LOG("ACCESS_PAGES pinned in %u of %u rounds", pinned,
	       RACE_UNMAP_ROUNDS / 2);
	race_end(_metadata, self->fd, &before, NULL, 0);
	CLOSE_ALL();
}

TEST_HARNESS_MAIN
