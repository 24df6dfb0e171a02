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
 *    software access on the same IOVA,
 *  - two ACCESS_REPLACE_IOAS of one access to different IOASes, and one
 *    against IOMMU_DESTROY of its target.
 * And an ioctl stuck in a page fault (userfaultfd memory that nobody fills,
 * or a FUSE file whose server holds its READs back): IOMMU_DESTROY of its
 * object gives up with EBUSY instead of waiting for it, and a driver's
 * detach and unbind of a device the ioctl was given don't wait at all.
 * Each test runs a fixed number of rounds and never looks at timing; which
 * thread wins a round is up to the scheduler, the tests only check that
 * each round is consistent and that nothing is left pinned afterwards.
 *
 * Needs a kernel built with CONFIG_IOMMUFD_TEST, and root.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/fuse.h>
#include <linux/userfaultfd.h>

#include "iommufd_utils.h"

/* rounds per test: enough to hit the windows, quick under TCG and KASAN */
#define RACE_ROUNDS 200
#define RACE_UNMAP_ROUNDS 300
/* a round takes well under 50 ms on an idle 2-core TCG guest with KASAN */
#define RACE_TIMEOUT LOOP_TEST_TIMEOUT

/* pages of memory mapped in the IOAS under test */
#define RACE_PAGES 4

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

/* ACCESS_REPLACE_IOAS of the access to IOAS @id2 */
static int op_access_replace(struct race_op *op)
{
	return _access_replace_ioas(op->fd, op->access, op->id2);
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

/*
 * Two ACCESS_REPLACE_IOAS of one access at once, from IOAS A to B and to C.
 * In any serial order both succeed and the access ends on one of B and C:
 * that one is busy, the other can be destroyed at once, and once the
 * access is back on A both can. An access left on the list of an IOAS
 * whose user it does not hold would let that IOAS be destroyed under it.
 * Then every round races a replace to a fresh IOAS against its DESTROY.
 */
TEST_F_TIMEOUT(race, access_replace_vs_replace, RACE_TIMEOUT)
{
	struct iommufd_stats before;
	unsigned int i, on_b = 0, replaced = 0;

	ASSERT_EQ(0, _create_access(self->fd, self->ioas, 0, &self->access));
	STATS(&before);

	for (i = 0; i < RACE_ROUNDS; i++) {
		struct race_op to_b = {
			.fn = op_access_replace,
			.fd = self->fd,
			.access = self->access,
		};
		struct race_op to_c = to_b;
		__u32 ioas_b, ioas_c, on, other;

		ASSERT_EQ(0, _ioas_alloc(self->fd, &ioas_b));
		ASSERT_EQ(0, _ioas_alloc(self->fd, &ioas_c));
		to_b.id2 = ioas_b;
		to_c.id2 = ioas_c;
		ASSERT_EQ(0, race(&self->barrier, i, &to_b, &to_c));
		ASSERT_EQ(0, to_b.rc) {
			TH_LOG("round %u: replace to B %d", i, to_b.rc);
		}
		ASSERT_EQ(0, to_c.rc) {
			TH_LOG("round %u: replace to C %d", i, to_c.rc);
		}
		/* exactly one of them holds the access */
		if (_destroy(self->fd, ioas_b) == 0) {
			on = ioas_c;
			other = ioas_b;
		} else {
			on = ioas_b;
			other = ioas_c;
			on_b++;
			ASSERT_EQ(0, _destroy(self->fd, other)) {
				TH_LOG("round %u: neither IOAS is free", i);
			}
		}
		ASSERT_EQ(EBUSY, _destroy(self->fd, on));
		ASSERT_EQ(ENOENT, _access_replace_ioas(self->fd, self->access,
						       other));
		ASSERT_EQ(0, _access_replace_ioas(self->fd, self->access,
						  self->ioas));
		ASSERT_EQ(0, _destroy(self->fd, on));
	}
	TH_LOG("the access ended on B in %u of %u rounds", on_b, RACE_ROUNDS);

	for (i = 0; i < RACE_ROUNDS; i++) {
		struct race_op replace = {
			.fn = op_access_replace,
			.fd = self->fd,
			.access = self->access,
		};
		__u32 target;

		ASSERT_EQ(0, _ioas_alloc(self->fd, &target));
		if (race_destroy(_metadata, &self->barrier, i, target,
				 &replace, "ACCESS_REPLACE_IOAS")) {
			replaced++;
			ASSERT_EQ(0, _access_replace_ioas(self->fd,
							  self->access,
							  self->ioas));
			ASSERT_EQ(0, _destroy(self->fd, target));
		}
		/* the access is back on the fixture's IOAS either way */
		ASSERT_EQ(EBUSY, _destroy(self->fd, self->ioas));
	}
	TH_LOG("the replace won %u of %u rounds", replaced, RACE_ROUNDS);
	race_end(_metadata, self->fd, &before, NULL, 0);
	CLOSE_ALL();
}

/* ---------------------------------------------------------------------- */
/* an ioctl stuck in a page fault */

/* How long to wait for the stuck ioctl's fault to reach userfaultfd. */
#define UFFD_FAULT_WAIT_MS (120 * 1000)

/*
 * @len bytes of anonymous memory registered with a new userfaultfd for
 * missing pages: any fault on them sleeps until uffd_fill() fills them.
 * Returns the userfaultfd, or -1; *@mem gets the memory.
 */
static int uffd_region(size_t len, void **mem)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	int uffd;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		return -1;
	*mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	reg.range.start = (uintptr_t)*mem;
	reg.range.len = len;
	if (*mem == MAP_FAILED || ioctl(uffd, UFFDIO_API, &api) ||
	    ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		close(uffd);
		return -1;
	}
	return uffd;
}

/* Wait for a fault on the region; 0 once one has arrived. */
static int uffd_wait_fault(int uffd)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (poll(&pfd, 1, UFFD_FAULT_WAIT_MS) != 1)
		return -1;
	if (read(uffd, &msg, sizeof(msg)) != sizeof(msg))
		return -1;
	return msg.event == UFFD_EVENT_PAGEFAULT ? 0 : -1;
}

/* Fill the whole region with zeroes, which wakes every faulting thread. */
static int uffd_fill(int uffd, void *mem, size_t len)
{
	struct uffdio_zeropage zp = {
		.range = { .start = (uintptr_t)mem, .len = len },
	};

	return ioctl(uffd, UFFDIO_ZEROPAGE, &zp);
}

struct stuck_op {
	struct race_op op;
	pthread_t thread;
};

static void *stuck_thread(void *arg)
{
	struct race_op *op = arg;

	op->rc = op->fn(op);
	return NULL;
}

/* MD_CHECK_MAP of hwpt @id at @iova against @va: faults on @va */
static int op_check_map(struct race_op *op)
{
	return _md_check_map(op->fd, op->id, op->iova, op->va, op->length);
}

/*
 * IOMMU_DESTROY of a HWPT while an ioctl that looked it up sleeps in a
 * page fault: the DESTROY waits for a bounded time only, then fails with
 * EBUSY and leaves the HWPT as it was; once the fault is served the ioctl
 * finishes and the HWPT can be destroyed.
 */
TEST_F(race, destroy_gives_up_behind_fault)
{
	struct stuck_op stuck = {
		.op = {
			.fn = op_check_map,
			.fd = self->fd,
			.iova = self->base,
			.length = MOCK_IOPTE_SIZE,
		},
	};
	struct iommufd_stats before;
	__u32 stdev, idev, hwpt, out;
	void *mem;
	int uffd;

	uffd = uffd_region(page_size, &mem);
	if (uffd < 0)
		SKIP(return, "no userfaultfd");
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, NULL, &idev));
	ASSERT_EQ(0, _hwpt_alloc(self->fd, idev, self->ioas, &hwpt));
	STATS(&before);
	stuck.op.id = hwpt;
	stuck.op.va = mem;
	ASSERT_EQ(0, pthread_create(&stuck.thread, NULL, stuck_thread,
				    &stuck.op));
	ASSERT_EQ(0, uffd_wait_fault(uffd));

	/* the check holds the HWPT and can't go on */
	EXPECT_EQ(EBUSY, _destroy(self->fd, hwpt));
	/* the HWPT is still there, and works */
	ASSERT_EQ(0, _device_attach(self->fd, stdev, hwpt, &out));
	EXPECT_EQ(hwpt, out);
	EXPECT_EQ(EBUSY, _destroy(self->fd, hwpt));
	ASSERT_EQ(0, _device_detach(self->fd, stdev));

	ASSERT_EQ(0, uffd_fill(uffd, mem, page_size));
	ASSERT_EQ(0, pthread_join(stuck.thread, NULL));
	/* nothing is mapped at base: the check could only disagree */
	EXPECT_EQ(EINVAL, stuck.op.rc);
	ASSERT_EQ(0, _destroy(self->fd, hwpt));
	race_end(_metadata, self->fd, &before, &stdev, 1);
	close(uffd);
	munmap(mem, page_size);
	CLOSE_ALL();
}

/*
 * Long-term pins don't wait for userfaultfd in 6.1 (FOLL_LONGTERM faults
 * can't be retried): IOMMU_HWPT_ALLOC of an IOAS whose memory is missing
 * userfaultfd pages fails at once with EFAULT, without waiting for the
 * userfaultfd, and leaves nothing behind; the device unbinds as usual.
 * Filled in, the same memory maps.
 */
TEST_F(race, pin_userfaultfd_memory_efault)
{
	const size_t len = RACE_PAGES * page_size;
	struct iommufd_stats s1, s2;
	__u32 stdev, idev, ioas2, hwpt;
	void *mem;
	int uffd;

	uffd = uffd_region(len, &mem);
	if (uffd < 0)
		SKIP(return, "no userfaultfd");
	ASSERT_EQ(0, _ioas_alloc(self->fd, &ioas2));
	/* no domain yet: nothing is pinned, nothing faults */
	ASSERT_EQ(0, _map_fixed(self->fd, ioas2, mem, len, self->base));
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, NULL, &idev));
	STATS(&s1);
	EXPECT_EQ(EFAULT, _hwpt_alloc(self->fd, idev, ioas2, &hwpt));
	STATS(&s2);
	EXPECT_OBJECT_STATS(&s1, &s2);
	EXPECT_EQ(0, _destroy(self->fd, stdev));

	/* (6.1 may still queue the fault it did not wait for) */
	ASSERT_EQ(0, uffd_fill(uffd, mem, len));
	ASSERT_EQ(0, _mock_domain(self->fd, ioas2, &stdev, &hwpt, NULL));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->base, mem, len));
	ASSERT_EQ(0, _destroy(self->fd, stdev));
	ASSERT_EQ(0, _destroy(self->fd, ioas2));
	close(uffd);
	munmap(mem, len);
	CLOSE_ALL();
}

/* ---------------------------------------------------------------------- */
/* memory whose page faults wait for a FUSE server */

/* the one file of the file system: its size, and the byte it is made of */
#define FUSE_STALL_SIZE (64 * 1024)
#define FUSE_STALL_BYTE 0x5a
#define FUSE_STALL_NODE 2
#define FUSE_STALL_NAME "f"
/* a held-back READ is answered anyway after this long */
#define FUSE_STALL_MAX_MS (90 * 1000)
/* the longest READ we let the kernel ask for (init reply's max_readahead) */
#define FUSE_STALL_READ_MAX (64 * 1024)

/*
 * A file system of one file, served by a thread of the test over the raw
 * /dev/fuse protocol. While @held is set, every FUSE_READ is held back:
 * whoever faults on the file's pages sleeps in the kernel until
 * fuse_stall_release(), or until FUSE_STALL_MAX_MS have passed (recorded in
 * @timed_out), so that a test whose call waits behind the READ fails
 * instead of hanging. The server allocates nothing once it runs: a thread
 * stuck in a long-term pin holds the mmap_lock, and mapping memory (as
 * malloc may) would queue behind it.
 */
struct fuse_stall {
	char dir[32];
	int dev;
	int file;
	pthread_t thread;
	bool have_thread;
	bool mounted;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool held;
	bool waiting;	/* a READ is being held back */
	bool timed_out;
	unsigned int reads;
	unsigned char req[FUSE_MIN_READ_BUFFER + FUSE_STALL_READ_MAX];
	unsigned char reply[sizeof(struct fuse_out_header) +
			    FUSE_STALL_READ_MAX];
};

static void *fuse_payload(struct fuse_stall *fs)
{
	return fs->reply + sizeof(struct fuse_out_header);
}

/* answer request @unique with @error and @len bytes of fuse_payload() */
static void fuse_reply(struct fuse_stall *fs, __u64 unique, int error,
		       size_t len)
{
	struct fuse_out_header *out = (void *)fs->reply;

	out->len = sizeof(*out) + len;
	out->error = error;
	out->unique = unique;
	/* an answer to an interrupted request is refused: nothing to do */
	if (write(fs->dev, fs->reply, out->len) < 0)
		return;
}

static void fuse_stall_attr(struct fuse_attr *attr, __u64 node)
{
	memset(attr, 0, sizeof(*attr));
	attr->ino = node;
	attr->blksize = 4096;
	if (node == FUSE_ROOT_ID) {
		attr->mode = S_IFDIR | 0755;
		attr->nlink = 2;
	} else {
		attr->mode = S_IFREG | 0600;
		attr->nlink = 1;
		attr->size = FUSE_STALL_SIZE;
		attr->blocks = FUSE_STALL_SIZE / 512;
	}
}

/* the time, @ms from now, for pthread_cond_timedwait() */
static struct timespec deadline_in(unsigned int ms)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* FUSE_READ: wait while reads are held, then fill with FUSE_STALL_BYTE */
static size_t fuse_stall_read(struct fuse_stall *fs,
			      const struct fuse_read_in *in)
{
	struct timespec until = deadline_in(FUSE_STALL_MAX_MS);
	size_t len = 0;

	pthread_mutex_lock(&fs->lock);
	fs->reads++;
	fs->waiting = fs->held;
	pthread_cond_broadcast(&fs->cond);
	while (fs->held) {
		if (pthread_cond_timedwait(&fs->cond, &fs->lock, &until)) {
			fs->timed_out = true;
			fs->held = false;
		}
	}
	fs->waiting = false;
	pthread_mutex_unlock(&fs->lock);

	if (in->offset < FUSE_STALL_SIZE)
		len = FUSE_STALL_SIZE - in->offset;
	if (len > in->size)
		len = in->size;
	if (len > FUSE_STALL_READ_MAX)
		len = FUSE_STALL_READ_MAX;
	memset(fuse_payload(fs), FUSE_STALL_BYTE, len);
	return len;
}

static void fuse_stall_serve(struct fuse_stall *fs,
			     const struct fuse_in_header *in)
{
	const void *arg = in + 1;
	void *out = fuse_payload(fs);
	size_t len = 0;
	int error = 0;

	switch (in->opcode) {
	case FUSE_INIT: {
		const struct fuse_init_in *init = arg;
		struct fuse_init_out *reply = out;

		memset(reply, 0, sizeof(*reply));
		reply->major = FUSE_KERNEL_VERSION;
		reply->minor = init->minor < FUSE_KERNEL_MINOR_VERSION ?
			       init->minor : FUSE_KERNEL_MINOR_VERSION;
		reply->max_readahead = FUSE_STALL_READ_MAX;
		reply->max_write = 4096;
		reply->time_gran = 1;
		len = sizeof(*reply);
		break;
	}
	case FUSE_LOOKUP: {
		struct fuse_entry_out *reply = out;

		if (in->nodeid != FUSE_ROOT_ID ||
		    strcmp(arg, FUSE_STALL_NAME)) {
			error = -ENOENT;
			break;
		}
		memset(reply, 0, sizeof(*reply));
		reply->nodeid = FUSE_STALL_NODE;
		reply->generation = 1;
		reply->entry_valid = 3600;
		reply->attr_valid = 3600;
		fuse_stall_attr(&reply->attr, FUSE_STALL_NODE);
		len = sizeof(*reply);
		break;
	}
	case FUSE_GETATTR: {
		struct fuse_attr_out *reply = out;

		memset(reply, 0, sizeof(*reply));
		reply->attr_valid = 3600;
		fuse_stall_attr(&reply->attr, in->nodeid);
		len = sizeof(*reply);
		break;
	}
	case FUSE_OPEN: {
		struct fuse_open_out *reply = out;

		memset(reply, 0, sizeof(*reply));
		reply->fh = 1;
		len = sizeof(*reply);
		break;
	}
	case FUSE_READ:
		len = fuse_stall_read(fs, arg);
		break;
	case FUSE_FLUSH:
	case FUSE_RELEASE:
		break;
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
	case FUSE_INTERRUPT:
		return;		/* no answer expected */
	default:
		error = -ENOSYS;
		break;
	}
	fuse_reply(fs, in->unique, error, len);
}

static void *fuse_stall_thread(void *arg)
{
	struct fuse_stall *fs = arg;

	for (;;) {
		ssize_t n = read(fs->dev, fs->req, sizeof(fs->req));

		if (n < 0 && (errno == EINTR || errno == EAGAIN ||
			      errno == ENOENT))
			continue;
		/* ENODEV: the file system is gone */
		if (n < (ssize_t)sizeof(struct fuse_in_header))
			break;
		fuse_stall_serve(fs, (const void *)fs->req);
	}
	return NULL;
}

static void fuse_stall_stop(struct fuse_stall *fs)
{
	pthread_mutex_lock(&fs->lock);
	fs->held = false;
	pthread_cond_broadcast(&fs->cond);
	pthread_mutex_unlock(&fs->lock);
	if (fs->file >= 0)
		close(fs->file);
	if (fs->mounted)
		umount2(fs->dir, MNT_DETACH);
	if (fs->have_thread) {
		/* it may be blocked in read(), a cancellation point */
		pthread_cancel(fs->thread);
		pthread_join(fs->thread, NULL);
	}
	if (fs->dev >= 0)
		close(fs->dev);
	rmdir(fs->dir);
	pthread_cond_destroy(&fs->cond);
	pthread_mutex_destroy(&fs->lock);
	munmap(fs, sizeof(*fs));
}

/*
 * Mount the file system (READs held from the start) and open its file.
 * Returns NULL with errno set if that can't be done.
 */
static struct fuse_stall *fuse_stall_start(void)
{
	struct fuse_stall *fs;
	char opts[96], path[48];
	int err;

	fs = mmap(NULL, sizeof(*fs), PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fs == MAP_FAILED)
		return NULL;
	fs->dev = -1;
	fs->file = -1;
	fs->held = true;
	pthread_mutex_init(&fs->lock, NULL);
	pthread_cond_init(&fs->cond, NULL);
	strcpy(fs->dir, "/tmp/iommufd-fuse-XXXXXX");
	if (!mkdtemp(fs->dir))
		goto fail;
	fs->dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fs->dev < 0)
		goto fail;
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=%u,group_id=%u", fs->dev,
		 getuid(), getgid());
	if (mount("iommufd_test", fs->dir, "fuse", MS_NOSUID | MS_NODEV,
		  opts))
		goto fail;
	fs->mounted = true;
	err = pthread_create(&fs->thread, NULL, fuse_stall_thread, fs);
	if (err) {
		errno = err;
		goto fail;
	}
	fs->have_thread = true;
	snprintf(path, sizeof(path), "%s/%s", fs->dir, FUSE_STALL_NAME);
	fs->file = open(path, O_RDONLY | O_CLOEXEC);
	if (fs->file < 0)
		goto fail;
	return fs;
fail:
	err = errno;
	fuse_stall_stop(fs);
	errno = err;
	return NULL;
}

/* Wait for a READ to be held back; 0 once one is. */
static int fuse_stall_wait(struct fuse_stall *fs)
{
	struct timespec until = deadline_in(FUSE_STALL_MAX_MS);
	int rc = 0;

	pthread_mutex_lock(&fs->lock);
	while (!fs->waiting && !rc)
		rc = pthread_cond_timedwait(&fs->cond, &fs->lock, &until);
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

/* whether a READ is still held back, unanswered */
static bool fuse_stall_waiting(struct fuse_stall *fs)
{
	bool waiting;

	pthread_mutex_lock(&fs->lock);
	waiting = fs->waiting;
	pthread_mutex_unlock(&fs->lock);
	return waiting;
}

static void fuse_stall_release(struct fuse_stall *fs)
{
	pthread_mutex_lock(&fs->lock);
	fs->held = false;
	pthread_cond_broadcast(&fs->cond);
	pthread_mutex_unlock(&fs->lock);
}

/* map the file of a started FUSE server privately */
#define FUSE_STALL_MAP(fs, mem)						\
	do {								\
		(mem) = mmap(NULL, FUSE_STALL_SIZE,			\
			     PROT_READ | PROT_WRITE, MAP_PRIVATE,	\
			     (fs)->file, 0);				\
		ASSERT_NE(MAP_FAILED, (mem));				\
	} while (0)

/* let the held READs go; the stuck ioctl finishes, and must succeed */
#define STUCK_FINISH(fs, stuck)						\
	do {								\
		fuse_stall_release(fs);					\
		ASSERT_EQ(0, pthread_join((stuck)->thread, NULL));	\
		EXPECT_FALSE((fs)->timed_out);				\
		ASSERT_EQ(0, (stuck)->op.rc);				\
	} while (0)

/*
 * IOMMU_HWPT_ALLOC for a device, on an IOAS whose memory is a FUSE file
 * that its server does not answer READs of: the HWPT_ALLOC sleeps while
 * pinning, in the page fault. Meanwhile the device's driver replaces its
 * domain, detaches and unbinds it, none of which waits for the stuck
 * ioctl (HWPT_ALLOC lets the device go before it pins), and IOMMU_DESTROY
 * of the IOAS it holds gives up with EBUSY. Once the server answers, the
 * HWPT_ALLOC succeeds with the file's data mapped, and everything frees.
 */
TEST_F_TIMEOUT(race, unbind_not_behind_fuse_fault, RACE_TIMEOUT)
{
	struct stuck_op stuck = {
		.op = {
			.fn = op_hwpt_alloc,
			.fd = self->fd,
		},
	};
	struct iommufd_stats before;
	__u32 stdev, idev, ioas2, hwpt2, out;
	struct fuse_stall *fs;
	unsigned char *mem;

	fs = fuse_stall_start();
	if (!fs)
		SKIP(return, "no FUSE: %s", strerror(errno));
	FUSE_STALL_MAP(fs, mem);
	ASSERT_EQ(0, _ioas_alloc(self->fd, &ioas2));
	/* no domain yet: nothing is pinned, nothing faults */
	ASSERT_EQ(0, _map_fixed(self->fd, ioas2, mem, FUSE_STALL_SIZE,
				self->base));
	EXPECT_EQ(0U, fs->reads);
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, NULL, &idev));
	ASSERT_EQ(0, _hwpt_alloc(self->fd, idev, self->ioas, &hwpt2));
	STATS(&before);

	stuck.op.id = idev;
	stuck.op.id2 = ioas2;
	ASSERT_EQ(0, pthread_create(&stuck.thread, NULL, stuck_thread,
				    &stuck.op));
	ASSERT_EQ(0, fuse_stall_wait(fs));

	/* the driver's side, while the READ is held */
	ASSERT_EQ(0, _device_attach(self->fd, stdev, hwpt2, &out));
	EXPECT_EQ(hwpt2, out);
	ASSERT_EQ(0, _device_detach(self->fd, stdev));
	ASSERT_EQ(0, _destroy(self->fd, stdev));
	EXPECT_TRUE(fuse_stall_waiting(fs));
	/* the stuck HWPT_ALLOC holds the IOAS */
	EXPECT_EQ(EBUSY, _destroy(self->fd, ioas2));
	EXPECT_TRUE(fuse_stall_waiting(fs));

	STUCK_FINISH(fs, &stuck);
	/* the pin wrote-faulted its own copy of the file's pages */
	EXPECT_EQ(FUSE_STALL_BYTE, mem[0]);
	EXPECT_EQ(FUSE_STALL_BYTE, mem[FUSE_STALL_SIZE - 1]);
	EXPECT_EQ(0, _md_check_map(self->fd, stuck.op.out, self->base, mem,
				   FUSE_STALL_SIZE));
	ASSERT_EQ(0, _destroy(self->fd, stuck.op.out));
	race_end(_metadata, self->fd, &before, NULL, 0);
	ASSERT_EQ(0, _destroy(self->fd, hwpt2));
	ASSERT_EQ(0, _destroy(self->fd, ioas2));
	munmap(mem, FUSE_STALL_SIZE);
	fuse_stall_stop(fs);
	CLOSE_ALL();
}

static int op_map(struct race_op *op)
{
	return _map_fixed(op->fd, op->id, op->va, op->length, op->iova);
}

/*
 * IOMMU_IOAS_MAP of a FUSE file whose READs its server holds back, into an
 * IOAS with a domain: the MAP sleeps while it pins, without the IOVA lock.
 * Meanwhile IOVA_RANGES, another MAP and its UNMAP, and software accesses
 * go on; the pending mapping holds its IOVA (EEXIST), is not mapped yet for
 * an access (ENOENT), and can't be unmapped (EBUSY), nothing changed by the
 * refusals. Once the server answers, the MAP completes and unmaps as usual.
 */
TEST_F_TIMEOUT(race, map_in_fault_blocks_nothing, RACE_TIMEOUT)
{
	const __u64 far = self->base + 64 * page_size;
	struct stuck_op stuck = {
		.op = {
			.fn = op_map,
			.fd = self->fd,
			.id = self->ioas,
			.iova = self->base,
			.length = FUSE_STALL_SIZE,
		},
	};
	struct iommufd_stats before, during, now;
	struct iommu_iova_range ranges[4];
	__u32 stdev, hwpt, num = 4, id;
	struct fuse_stall *fs;
	unsigned char *mem;
	__u64 unmapped;
	int access;

	fs = fuse_stall_start();
	if (!fs)
		SKIP(return, "no FUSE: %s", strerror(errno));
	FUSE_STALL_MAP(fs, mem);
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, &hwpt, NULL));
	ASSERT_EQ(0, _create_access(self->fd, self->ioas, 0, &access));
	STATS(&before);
	stuck.op.va = mem;
	ASSERT_EQ(0, pthread_create(&stuck.thread, NULL, stuck_thread,
				    &stuck.op));
	ASSERT_EQ(0, fuse_stall_wait(fs));
	STATS(&during);

	/* the IOAS is not locked behind the sleeping MAP */
	EXPECT_EQ(0, _iova_ranges(self->fd, self->ioas, ranges, &num, NULL));
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf,
				self->buf_size, far));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, far, self->buf,
				   self->buf_size));
	EXPECT_EQ(0, _access_rw(self->fd, access, far + 1, 8, ranges, 0));
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, far, self->buf_size,
				 &unmapped));
	EXPECT_EQ(self->buf_size, unmapped);

	/* the pending mapping: its IOVA is taken, nothing is mapped there */
	EXPECT_EQ(EEXIST, _map_fixed(self->fd, self->ioas, self->buf,
				     page_size, self->base + page_size));
	EXPECT_EQ(ENOENT, _access_rw(self->fd, access, self->base, 8, ranges,
				     0));
	EXPECT_EQ(ENOENT, _access_pages(self->fd, access, 0, self->base,
					page_size, mem, &id));
	EXPECT_EQ(EBUSY, _ioas_unmap(self->fd, self->ioas, self->base,
				     FUSE_STALL_SIZE, NULL));
	EXPECT_EQ(EBUSY, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));
	ASSERT_EQ(0, _get_stats(self->fd, &now));
	EXPECT_OBJECT_STATS(&during, &now);
	EXPECT_TRUE(fuse_stall_waiting(fs));

	STUCK_FINISH(fs, &stuck);
	EXPECT_EQ(FUSE_STALL_BYTE, mem[0]);
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->base, mem,
				   FUSE_STALL_SIZE));
	ASSERT_EQ(0, _access_rw(self->fd, access, self->base, 8, ranges, 0));
	EXPECT_EQ(FUSE_STALL_BYTE, ((unsigned char *)ranges)[7]);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, self->base,
				 FUSE_STALL_SIZE, &unmapped));
	EXPECT_EQ(FUSE_STALL_SIZE, unmapped);
	close(access);
	race_end(_metadata, self->fd, &before, &stdev, 1);
	munmap(mem, FUSE_STALL_SIZE);
	fuse_stall_stop(fs);
	CLOSE_ALL();
}

/*
 * Pages per area the owner maps: enough for a pages object to be watched
 * (the kernel's IOPT_CPU_READ_MIN_PAGES, 16), so that its PFNs would be
 * read from the CPU page table, and fewer than a noted run (64), so that
 * they are read page by page otherwise.
 */
#define OWNER_AREA_PAGES 16

/*
 * The owner of the memory, a child: it maps its memory into the IOAS @ioas
 * as areas of OWNER_AREA_PAGES and the FUSE file into @ioas2, says so on
 * @ready, and once told to on @go takes its own mmap lock for writing (one
 * mmap()).
 * It only sleeps from then on, so it never faults behind its own lock.
 */
struct owner {
	int fd;
	__u32 ioas;
	__u32 ioas2;
	__u64 iova;
	unsigned int npages;
	int ready[2];
	int go[2];
};

/* the child's side; its exit code says which step failed */
static int owner_run(struct owner *o, struct fuse_stall *fs)
{
	unsigned char *buf, *mem;
	unsigned int i;
	char c = 0;

	close(o->ready[0]);
	close(o->go[1]);
	/* the server is the parent's: its connection must end with it */
	close(fs->dev);
	mem = mmap(NULL, FUSE_STALL_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		   fs->file, 0);
	buf = mmap(NULL, o->npages * page_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || buf == MAP_FAILED)
		return 1;
	/* 4 KiB pages, faulted one by one */
	if (madvise(buf, o->npages * page_size, MADV_NOHUGEPAGE))
		return 2;
	for (i = 0; i < o->npages; i++)
		buf[i * page_size] = i;
	for (i = 0; i < o->npages; i += OWNER_AREA_PAGES)
		if (_map_fixed(o->fd, o->ioas, buf + i * page_size,
			       OWNER_AREA_PAGES * page_size,
			       o->iova + i * page_size))
			return 3;
	/* nothing is pinned yet: the IOAS has no domain */
	if (_map_fixed(o->fd, o->ioas2, mem, FUSE_STALL_SIZE, o->iova))
		return 4;
	if (write(o->ready[1], &c, 1) != 1 || read(o->go[0], &c, 1) != 1)
		return 5;
	if (mmap(NULL, page_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
		return 6;
	return 0;
}

/* the state letter of task @pid from /proc/<pid>/stat, 0 if unknown */
static char task_state(pid_t pid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* "pid (comm) S ...": comm may hold anything but the last ')' */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

static int op_mock_domain(struct race_op *op)
{
	return _mock_domain(op->fd, op->id, &op->out, NULL, NULL);
}

/*
 * The owner of mapped memory (a child) has its mmap lock held for reading
 * by a GUP that sleeps in a FUSE read (a MOCK_DOMAIN of the parent's
 * pinning the owner's FUSE-backed mapping: a remote pin keeps the lock
 * while it faults), and a writer queued behind it (the owner's own
 * mmap()). Any new reader of that lock now sleeps until the READ is
 * answered. UNMAP of the owner's other mappings, with a domain, reads
 * the PFNs it unpins back; the CPU page table is only a fast path, taken
 * with a trylock, so each UNMAP finishes from the domain while the READ
 * is still held, and the read-back counters say so. Without the trylock
 * the first UNMAP sleeps until the READ is answered (after
 * FUSE_STALL_MAX_MS at the latest), and the READ is no longer held when
 * it returns. The parent's own memory is never behind that lock, so
 * nothing here depends on what the test itself touches meanwhile.
 */
TEST_F_TIMEOUT(race, unmap_not_behind_owner_mmap_lock, RACE_TIMEOUT)
{
	struct owner o = {
		.fd = self->fd,
		.iova = self->base,
		.npages = 64,
	};
	struct stuck_op stuck = {
		.op = {
			.fn = op_mock_domain,
			.fd = self->fd,
		},
	};
	struct readback_stats rb0, rb1;
	struct fuse_stall *fs;
	unsigned int i;
	__u64 unmapped;
	__u32 stdev;
	int status;
	pid_t child;
	char c = 0;

	fs = fuse_stall_start();
	if (!fs)
		SKIP(return, "no FUSE: %s", strerror(errno));
	o.ioas = self->ioas;
	ASSERT_EQ(0, _ioas_alloc(self->fd, &o.ioas2));
	/* the owner's pages are pinned as it maps them */
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, NULL, NULL));
	ASSERT_EQ(0, pipe(o.ready));
	ASSERT_EQ(0, pipe(o.go));

	child = fork();
	ASSERT_LE(0, child);
	if (!child)
		_exit(owner_run(&o, fs));
	close(o.ready[1]);
	close(o.go[0]);
	ASSERT_EQ(1, read(o.ready[0], &c, 1));

	/* the parent pins the owner's FUSE pages: the READ is held */
	stuck.op.id = o.ioas2;
	ASSERT_EQ(0, pthread_create(&stuck.thread, NULL, stuck_thread,
				    &stuck.op));
	ASSERT_EQ(0, fuse_stall_wait(fs));
	ASSERT_EQ(1, write(o.go[1], &c, 1));
	/* the writer is queued once it sleeps; a wide bound, not a timing */
	for (i = 0; i < 60000 && task_state(child) != 'D'; i++)
		usleep(1000);
	ASSERT_EQ('D', task_state(child));
	ASSERT_TRUE(fuse_stall_waiting(fs));

	ASSERT_EQ(0, _get_readback(self->fd, &rb0));
	for (i = 0; i < o.npages; i += OWNER_AREA_PAGES) {
		ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas,
					 self->base + i * page_size,
					 OWNER_AREA_PAGES * page_size,
					 &unmapped));
		EXPECT_EQ(OWNER_AREA_PAGES * page_size, unmapped);
	}
	/* all of it while the READ was held: nothing waited for it */
	EXPECT_TRUE(fuse_stall_waiting(fs));
	ASSERT_EQ(0, _get_readback(self->fd, &rb1));
	EXPECT_EQ(rb0.cpu, rb1.cpu);
	EXPECT_LE(rb0.domain + o.npages, rb1.domain);
	EXPECT_LE(rb0.cpu_busy + o.npages / OWNER_AREA_PAGES, rb1.cpu_busy);

	STUCK_FINISH(fs, &stuck);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(o.ready[0]);
	close(o.go[1]);
	CLOSE_ALL();
	fuse_stall_stop(fs);
}

#define WRITERS 2
#define WRITER_PAGES 16

struct domain_writer {
	int fd;
	__u32 ioas;
	__u64 iova;
	void *buf;
	atomic_int *inside;
	atomic_int *both;
	int rc;
};

/* MAP and UNMAP one page at a time, counting calls made beside another */
static void *domain_writer_thread(void *arg)
{
	struct domain_writer *w = arg;
	unsigned int i;

	for (i = 0; i < WRITER_PAGES && !w->rc; i++) {
		__u64 iova = w->iova + i * page_size;

		if (atomic_fetch_add(w->inside, 1))
			atomic_fetch_add(w->both, 1);
		w->rc = _map_fixed(w->fd, w->ioas,
				   (char *)w->buf + (i % RACE_PAGES) * page_size,
				   page_size, iova);
		if (!w->rc)
			w->rc = _ioas_unmap(w->fd, w->ioas, iova, page_size,
					    NULL);
		atomic_fetch_sub(w->inside, 1);
	}
	return NULL;
}

/*
 * MAPs fill and UNMAPs unmap without excluding each other (the pinning
 * is what must run in parallel), but a domain's page table takes one
 * writer at a time: 6.1's VT-d keeps its highest mapped address without a
 * lock. The mock counts a map or unmap that begins while another runs on
 * the same domain; each one sleeps a millisecond inside the driver, so two
 * threads mapping and unmapping pages of one IOAS would overlap there
 * every time without the lock. They do overlap in their ioctls (counted
 * here, so the test is known to have raced), and never in the driver.
 */
TEST_F_TIMEOUT(race, domain_written_by_one_at_a_time, RACE_TIMEOUT)
{
	struct domain_writer w[WRITERS];
	atomic_int inside = 0, both = 0;
	__u64 overlaps0, overlaps1;
	struct iommufd_stats before;
	pthread_t t[WRITERS];
	__u32 stdev;
	unsigned int i;

	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, NULL, NULL));
	STATS(&before);
	ASSERT_EQ(0, _mock_writers(self->fd, 1000, &overlaps0));
	for (i = 0; i < WRITERS; i++) {
		w[i] = (struct domain_writer){
			.fd = self->fd,
			.ioas = self->ioas,
			.iova = self->base + i * WRITER_PAGES * page_size,
			.buf = self->buf,
			.inside = &inside,
			.both = &both,
		};
		ASSERT_EQ(0, pthread_create(&t[i], NULL, domain_writer_thread,
					    &w[i]));
	}
	for (i = 0; i < WRITERS; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	ASSERT_EQ(0, _mock_writers(self->fd, 0, &overlaps1));
	for (i = 0; i < WRITERS; i++)
		EXPECT_EQ(0, w[i].rc);
	TH_LOG("%d of %d calls began while the other thread was in one",
	       (int)both, WRITERS * WRITER_PAGES);
	EXPECT_LT(0, both);
	EXPECT_EQ(overlaps0, overlaps1);
	race_end(_metadata, self->fd, &before, &stdev, 1);
	CLOSE_ALL();
}

TEST_HARNESS_MAIN
