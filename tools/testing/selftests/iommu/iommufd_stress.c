// SPDX-License-Identifier: GPL-2.0-only
/*
 * Concurrent stress of the mock paths: for a fixed time, worker threads
 * pick operations at random and issue them against shared objects, with
 * no coordination between them at all:
 *	MAP / UNMAP (one slot or everything) / COPY between two IOASes,
 *	ACCESS_PAGES (kept pinned a while, then DESTROY_ACCESS_PAGES),
 *	ACCESS_RW both ways, ACCESS_REPLACE_IOAS,
 *	DEVICE_ATTACH / DEVICE_DETACH / MOCK_DOMAIN_REPLACE of mock devices,
 *	HWPT_ALLOC and IOMMU_DESTROY of HWPTs,
 *	closing an access and creating a new one,
 *	and whole files opened, filled (IOAS, map, device, access, pins) and
 *	closed with everything still bound.
 * The one_fd test runs all of them on one iommufd; across_fds gives the
 * threads two, each operation picks one, IDs of one are also tried on the
 * other, and both map the same memory (so its pages are pinned by two
 * pages objects at once).
 *
 * Any errno is accepted that a serial order of the same calls could give
 * (ENOENT, EEXIST, EBUSY, EINVAL, EBADF, ...); any other fails the test.
 * At the end, with the threads joined: every mock domain must map exactly
 * what its IOAS maps, and once everything is closed, nothing may be left
 * pinned, no pages object or area may be left, and locked_vm and
 * pinned_vm must be back at their baseline. The operations per second are
 * printed, never checked.
 *
 * The time each test runs is IOMMUFD_STRESS_SECONDS (20 by default, what
 * make check uses; make stress SECONDS=N gives each a third of N).
 *
 * Needs a kernel built with CONFIG_IOMMUFD_TEST, and root.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "iommufd_utils.h"

#define ST_THREADS 6
#define ST_FDS 2
#define ST_IOAS 2
#define ST_DEVS 2
#define ST_SLOTS 8
#define ST_SLOT_PAGES 4
#define ST_SLOT_SIZE ((__u64)ST_SLOT_PAGES * PS)
/* slot s of the buffer is mapped at ST_IOVA(s), in any IOAS */
#define ST_IOVA(s) (APERTURE_START + 0x100000 + (__u64)(s) * 0x10000)
/* pins a thread holds at once through ACCESS_PAGES */
#define ST_HELD 4
/* HWPTs a thread has allocated and not yet destroyed */
#define ST_HWPTS 4
#define ST_DEFAULT_SECONDS 20

enum st_op {
	OP_MAP, OP_UNMAP, OP_UNMAP_ALL, OP_COPY, OP_PIN, OP_UNPIN, OP_RW,
	OP_ACCESS_REPLACE, OP_ACCESS_RENEW, OP_ATTACH, OP_DETACH, OP_REPLACE,
	OP_HWPT_ALLOC, OP_HWPT_DESTROY, OP_WRONG_FD, OP_CHURN, OP_NR
};

static const char *const st_op_name[OP_NR] = {
	"map", "unmap", "unmap_all", "copy", "pin", "unpin", "rw",
	"access_replace", "access_renew", "attach", "detach", "replace",
	"hwpt_alloc", "hwpt_destroy", "wrong_fd", "churn",
};

/* the errnos a serial order of the racing calls can give */
static bool st_errno_expected(int err)
{
	switch (err) {
	case 0:
	case ENOENT:	/* an object or mapping another thread removed */
	case EEXIST:	/* an IOVA another thread mapped first */
	case EBUSY:	/* destroying an object in use, attaching twice */
	case EINVAL:	/* an ID that now names an object of another type */
	case EBADF:	/* an access fd another thread closed */
	case ENOSPC:	/* no free IOVA for an automatic one */
	case EDEADLK:	/* unmap of an area an access is unmapping */
		return true;
	}
	return false;
}

struct st_file {
	int fd;
	__u32 ioas[ST_IOAS];
	__u32 stdev[ST_DEVS];
	__u32 idev[ST_DEVS];
	/* the access fd, swapped in and out by OP_ACCESS_RENEW */
	atomic_int access;
};

struct st_shared {
	struct st_file file[ST_FDS];
	unsigned int nfiles;
	void *buf;
	struct timespec end;
	time_t hard_end;
	atomic_ulong count[OP_NR];
	atomic_ulong errors[OP_NR];
	atomic_ulong unexpected;
	atomic_int first_err;
	atomic_int first_op;
};

struct st_thread {
	struct st_shared *sh;
	pthread_t tid;
	__u64 rnd;
	struct {
		int access;	/* 0: this slot holds no pin */
		unsigned int file;
		__u32 id;
	} held[ST_HELD];
	__u32 hwpt[ST_HWPTS];
	__u32 hwpt_fd[ST_HWPTS];
	unsigned char scratch[2 * 4096];
};

static unsigned int st_seconds(void)
{
	const char *s = getenv("IOMMUFD_STRESS_SECONDS");
	long v = s ? strtol(s, NULL, 0) : 0;

	return v > 0 ? (unsigned int)v : ST_DEFAULT_SECONDS;
}

static unsigned int st_rand(struct st_thread *t, unsigned int n)
{
	/* xorshift64* */
	t->rnd ^= t->rnd >> 12;
	t->rnd ^= t->rnd << 25;
	t->rnd ^= t->rnd >> 27;
	return (unsigned int)((t->rnd * 0x2545f4914f6cdd1dULL) >> 33) % n;
}

/*
 * The run is over once its time has passed and every kind of operation
 * has succeeded at least once (which a slow host may take longer to get
 * to), or at ten times its time, when the checks then fail.
 */
static bool st_over(struct st_shared *sh)
{
	struct timespec now;
	unsigned int i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec < sh->end.tv_sec ||
	    (now.tv_sec == sh->end.tv_sec && now.tv_nsec < sh->end.tv_nsec))
		return false;
	if (now.tv_sec >= sh->hard_end)
		return true;
	for (i = 0; i < OP_NR; i++)
		if (i != OP_WRONG_FD && sh->errors[i] >= sh->count[i])
			return false;
	return true;
}

static void *st_slot(struct st_shared *sh, unsigned int s)
{
	return (char *)sh->buf + s * ST_SLOT_SIZE;
}

/*
 * A file opened, given an IOAS with the buffer's first slots mapped, a
 * mock device on it, an access with a pin and a user HWPT, and closed
 * with all of that still in place: the close must take it all down.
 */
static int st_churn(struct st_thread *t)
{
	struct st_shared *sh = t->sh;
	__u32 ioas, stdev, idev, hwpt, pages;
	int fd, access = -1, rc;

	fd = iommufd_open();
	if (fd < 0)
		return errno;
	rc = _ioas_alloc(fd, &ioas);
	if (!rc)
		rc = _map_fixed(fd, ioas, st_slot(sh, 0), 2 * ST_SLOT_SIZE,
				ST_IOVA(0));
	if (!rc)
		rc = _mock_domain(fd, ioas, &stdev, NULL, &idev);
	if (!rc)
		rc = _create_access(fd, ioas, 0, &access);
	if (!rc)
		rc = _access_pages(fd, access, 0, ST_IOVA(0), PS,
				   st_slot(sh, 0), &pages);
	if (!rc && st_rand(t, 2))
		rc = _hwpt_alloc(fd, idev, ioas, &hwpt);
	if (access >= 0)
		close(access);
	close(fd);
	return rc;
}

static int st_access(struct st_file *f)
{
	return atomic_load(&f->access);
}

static int st_one(struct st_thread *t, enum st_op op)
{
	struct st_shared *sh = t->sh;
	struct st_file *f = &sh->file[st_rand(t, sh->nfiles)];
	unsigned int s = st_rand(t, ST_SLOTS);
	__u32 ioas = f->ioas[st_rand(t, ST_IOAS)];
	__u32 other = f->ioas[st_rand(t, ST_IOAS)];
	unsigned int d = st_rand(t, ST_DEVS);
	unsigned int h = st_rand(t, ST_HWPTS);
	unsigned int k = st_rand(t, ST_HELD);
	__u64 len = (1 + st_rand(t, ST_SLOT_PAGES)) * PS;
	__u32 pt, id;
	int rc, access, nfd;

	/* half the attaches and replaces go to a HWPT this thread made */
	pt = ioas;
	if (t->hwpt[h] && t->hwpt_fd[h] == (__u32)(f - sh->file) &&
	    st_rand(t, 2))
		pt = t->hwpt[h];

	switch (op) {
	case OP_MAP:
		return _map_fixed(f->fd, ioas, st_slot(sh, s), ST_SLOT_SIZE,
				  ST_IOVA(s));
	case OP_UNMAP:
		return _ioas_unmap(f->fd, ioas, ST_IOVA(s), ST_SLOT_SIZE, NULL);
	case OP_UNMAP_ALL:
		return _ioas_unmap(f->fd, ioas, 0, U64_MAX, NULL);
	case OP_COPY: {
		__u64 dst = ST_IOVA(s);

		return _ioas_copy(f->fd, MAP_FIXED_RW, other, &dst, ioas,
				  ST_IOVA(s), ST_SLOT_SIZE);
	}
	case OP_PIN:
		if (t->held[k].access)
			return 0;
		access = st_access(f);
		rc = _access_pages(f->fd, access, st_rand(t, 2) ?
				   MOCK_FLAGS_ACCESS_WRITE : 0, ST_IOVA(s),
				   len, st_slot(sh, s), &id);
		if (!rc) {
			t->held[k].access = access;
			t->held[k].file = f - sh->file;
			t->held[k].id = id;
		}
		return rc;
	case OP_UNPIN:
		if (!t->held[k].access)
			return 0;
		/*
		 * The access may be gone (renewed; its pins went with it) or
		 * the area unmapped (the unmap callback dropped the pin):
		 * ENOENT, EBADF or EINVAL are all right then.
		 */
		rc = _destroy_access_pages(sh->file[t->held[k].file].fd,
					   t->held[k].access, t->held[k].id);
		t->held[k].access = 0;
		return rc;
	case OP_RW:
		return _access_rw(f->fd, st_access(f), ST_IOVA(s) + 100,
				  1 + st_rand(t, sizeof(t->scratch) - 200),
				  t->scratch, st_rand(t, 2) ?
				  MOCK_ACCESS_RW_WRITE : 0);
	case OP_ACCESS_REPLACE:
		return _access_replace_ioas(f->fd, st_access(f), ioas);
	case OP_ACCESS_RENEW:
		rc = _create_access(f->fd, ioas, 0, &nfd);
		if (rc)
			return rc;
		close(atomic_exchange(&f->access, nfd));
		return 0;
	case OP_ATTACH:
		return _device_attach(f->fd, f->stdev[d], pt, NULL);
	case OP_DETACH:
		return _device_detach(f->fd, f->stdev[d]);
	case OP_REPLACE:
		return _mock_domain_replace(f->fd, f->stdev[d], pt, NULL);
	case OP_HWPT_ALLOC:
		if (t->hwpt[h])
			return 0;
		rc = _hwpt_alloc(f->fd, f->idev[d], ioas, &id);
		if (!rc) {
			t->hwpt[h] = id;
			t->hwpt_fd[h] = f - sh->file;
		}
		return rc;
	case OP_HWPT_DESTROY:
		if (!t->hwpt[h])
			return 0;
		rc = _destroy(sh->file[t->hwpt_fd[h]].fd, t->hwpt[h]);
		/* EBUSY: attached; try again later */
		if (rc != EBUSY)
			t->hwpt[h] = 0;
		return rc;
	case OP_WRONG_FD: {
		/* an ID and an access of one file, used on the other */
		struct st_file *g = &sh->file[(f - sh->file + 1) % sh->nfiles];

		if (st_rand(t, 2))
			return _map_fixed(g->fd, f->ioas[0], st_slot(sh, s),
					  PS, ST_IOVA(s));
		return _access_rw(g->fd, st_access(f), ST_IOVA(s), 16,
				  t->scratch, 0);
	}
	case OP_CHURN:
		return st_churn(t);
	default:
		return 0;
	}
}

/* how often each operation is picked, out of the sum */
static const unsigned int st_weight[OP_NR] = {
	[OP_MAP] = 12, [OP_UNMAP] = 8, [OP_UNMAP_ALL] = 1, [OP_COPY] = 6,
	[OP_PIN] = 8, [OP_UNPIN] = 8, [OP_RW] = 8, [OP_ACCESS_REPLACE] = 3,
	[OP_ACCESS_RENEW] = 1, [OP_ATTACH] = 4, [OP_DETACH] = 3,
	[OP_REPLACE] = 5, [OP_HWPT_ALLOC] = 3, [OP_HWPT_DESTROY] = 3,
	[OP_WRONG_FD] = 2, [OP_CHURN] = 1,
};

static enum st_op st_pick(struct st_thread *t)
{
	unsigned int total = 0, r, i;

	for (i = 0; i < OP_NR; i++)
		total += st_weight[i];
	r = st_rand(t, total);
	for (i = 0; i < OP_NR; i++) {
		if (r < st_weight[i])
			return i;
		r -= st_weight[i];
	}
	return OP_MAP;
}

static void *st_worker(void *arg)
{
	struct st_thread *t = arg;
	struct st_shared *sh = t->sh;

	while (!st_over(sh)) {
		enum st_op op = st_pick(t);
		int rc = st_one(t, op);

		atomic_fetch_add(&sh->count[op], 1);
		if (rc)
			atomic_fetch_add(&sh->errors[op], 1);
		if (!st_errno_expected(rc) &&
		    atomic_fetch_add(&sh->unexpected, 1) == 0) {
			atomic_store(&sh->first_err, rc);
			atomic_store(&sh->first_op, op);
		}
	}
	return NULL;
}

FIXTURE(stress) {
	int fd_stats;
	struct iommufd_stats s0;
	struct st_shared sh;
	struct st_thread th[ST_THREADS];
	size_t buf_size;
};

FIXTURE_SETUP(stress)
{
	self->fd_stats = iommufd_open();
	ASSERT_LE(0, self->fd_stats);
	ASSERT_EQ(0, _get_stats(self->fd_stats, &self->s0));
	self->buf_size = ST_SLOTS * ST_SLOT_SIZE;
	self->sh.buf = alloc_buffer(self->buf_size, 0x51);
	ASSERT_NE(NULL, self->sh.buf);
}

FIXTURE_TEARDOWN(stress)
{
	if (self->fd_stats >= 0)
		close(self->fd_stats);
}

static void st_open(struct __test_metadata *_metadata, struct st_file *f,
		    void *buf)
{
	unsigned int i;
	int access;

	f->fd = iommufd_open();
	ASSERT_LE(0, f->fd);
	for (i = 0; i < ST_IOAS; i++)
		ASSERT_EQ(0, _ioas_alloc(f->fd, &f->ioas[i]));
	for (i = 0; i < ST_SLOTS; i += 2)
		ASSERT_EQ(0, _map_fixed(f->fd, f->ioas[0],
					(char *)buf + i * ST_SLOT_SIZE,
					ST_SLOT_SIZE, ST_IOVA(i)));
	for (i = 0; i < ST_DEVS; i++)
		ASSERT_EQ(0, _mock_domain(f->fd, f->ioas[i % ST_IOAS],
					  &f->stdev[i], NULL, &f->idev[i]));
	ASSERT_EQ(0, _create_access(f->fd, f->ioas[0], 0, &access));
	atomic_store(&f->access, access);
}

/*
 * With the threads stopped: every device is moved to the first IOAS (its
 * domain is filled from the IOAS there), and each slot must then be
 * mapped in that domain to the buffer exactly when the IOAS maps it.
 */
static void st_check_domains(struct __test_metadata *_metadata,
			     struct st_shared *sh, struct st_file *f)
{
	struct mock_dev_info info;
	unsigned int d, s;

	for (d = 0; d < ST_DEVS; d++) {
		int rc = _device_detach(f->fd, f->stdev[d]);

		/* ENOENT or EINVAL: it was detached already */
		if (rc != ENOENT && rc != EINVAL)
			ASSERT_EQ(0, rc);
		ASSERT_EQ(0, _device_attach(f->fd, f->stdev[d], f->ioas[0],
					    NULL));
		ASSERT_EQ(0, _device_info(f->fd, f->stdev[d], &info));
		for (s = 0; s < ST_SLOTS; s++) {
			bool mapped = !_probe_mapped(f->fd, f->ioas[0],
						     ST_IOVA(s), ST_SLOT_SIZE);
			int chk = _md_check_map(f->fd, info.hwpt, ST_IOVA(s),
						st_slot(sh, s), ST_SLOT_SIZE);

			/* mapped exactly where the IOAS maps the slot */
			EXPECT_EQ(mapped, chk == 0);
		}
	}
}

static void st_run(struct __test_metadata *_metadata,
		   struct _test_data_stress *self, unsigned int nfiles)
{
	struct st_shared *sh = &self->sh;
	struct iommufd_stats now;
	unsigned int secs = st_seconds();
	unsigned long total = 0, errs = 0;
	struct timespec t0, t1;
	double elapsed;
	unsigned int i;

	/* a hang is a failure too: SIGALRM ends this test's process */
	alarm(secs * 20 + 600);
	sh->nfiles = nfiles;
	for (i = 0; i < nfiles; i++)
		st_open(_metadata, &sh->file[i], sh->buf);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	sh->end = t0;
	sh->end.tv_sec += secs;
	sh->hard_end = t0.tv_sec + 10 * secs;
	for (i = 0; i < ST_THREADS; i++) {
		self->th[i].sh = sh;
		self->th[i].rnd = 0x9e3779b97f4a7c15ULL * (i + 1) ^
				  (__u64)t0.tv_nsec;
		ASSERT_EQ(0, pthread_create(&self->th[i].tid, NULL, st_worker,
					    &self->th[i]));
	}
	for (i = 0; i < ST_THREADS; i++)
		ASSERT_EQ(0, pthread_join(self->th[i].tid, NULL));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	elapsed = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;

	for (i = 0; i < OP_NR; i++) {
		total += sh->count[i];
		errs += sh->errors[i];
		printf("#   %-15s %8lu calls, %8lu refused\n", st_op_name[i],
		       (unsigned long)sh->count[i],
		       (unsigned long)sh->errors[i]);
	}
	printf("# %u threads on %u file(s): %lu operations in %.1f s, %.0f ops/s, %lu refused\n",
	       ST_THREADS, nfiles, total, elapsed, total / elapsed, errs);
	if (sh->unexpected)
		TH_LOG("%lu unexpected errnos; the first: %s gave %d (%s)",
		       (unsigned long)sh->unexpected,
		       st_op_name[sh->first_op], sh->first_err,
		       strerror(sh->first_err));
	EXPECT_EQ(0, sh->unexpected);
	/* every kind of operation ran, and some of each succeeded */
	for (i = 0; i < OP_NR; i++) {
		EXPECT_LT(0, sh->count[i]);
		if (i != OP_WRONG_FD)
			EXPECT_LT(sh->errors[i], sh->count[i]);
	}

	for (i = 0; i < nfiles; i++)
		st_check_domains(_metadata, sh, &sh->file[i]);
	/* the pins, HWPTs and accesses still held go with the files */
	for (i = 0; i < nfiles; i++) {
		close(atomic_load(&sh->file[i].access));
		close(sh->file[i].fd);
	}
	ASSERT_EQ(0, _get_stats(self->fd_stats, &now));
	ASSERT_STATS_EQUAL(&self->s0, &now);
	ASSERT_EQ(0, _md_check_refs(self->fd_stats, sh->buf, self->buf_size,
				    0));
}

/*
 * The harness' own limit must allow any IOMMUFD_STRESS_SECONDS; st_run()
 * sets an alarm sized to the one chosen.
 */
#define ST_TIMEOUT 86400

TEST_F_TIMEOUT(stress, one_fd, ST_TIMEOUT)
{
	st_run(_metadata, self, 1);
}

TEST_F_TIMEOUT(stress, across_fds, ST_TIMEOUT)
{
	st_run(_metadata, self, 2);
}

TEST_HARNESS_MAIN
