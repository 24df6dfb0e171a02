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
 * pages objects at once). memory_churn runs them on two files over memory
 * that changes under the mappings: the buffer is THP-backed where the
 * kernel has THP, and threads also zap slots (MADV_DONTNEED), make them
 * read-only for a moment (mprotect), replace them with new private or
 * shared (shmem) memory (mmap MAP_FIXED), fork (which write-protects the
 * buffer), and change IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT, which shrinks
 * the batches pinning and unpinning work in. Each of those invalidates
 * the CPU page table that unmaps read PFNs back from, so the fast read-back
 * and its fallback both race everything else.
 *
 * Any errno is accepted that a serial order of the same calls could give
 * (ENOENT, EEXIST, EBUSY, EINVAL, EBADF, ...); any other fails the test.
 * At the end, with the threads joined: every mock domain must map exactly
 * what its IOAS maps (after memory_churn, once the buffer is mapped anew:
 * the old mappings rightly keep the replaced pages), and once everything
 * is closed, nothing may be left
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
	OP_HWPT_ALLOC, OP_HWPT_DESTROY, OP_WRONG_FD, OP_CHURN,
	/* memory_churn only */
	OP_ZAP, OP_PROTECT, OP_REPLACE_MEM, OP_FORK, OP_TEMP_LIMIT, OP_NR
};

static const char *const st_op_name[OP_NR] = {
	"map", "unmap", "unmap_all", "copy", "pin", "unpin", "rw",
	"access_replace", "access_renew", "attach", "detach", "replace",
	"hwpt_alloc", "hwpt_destroy", "wrong_fd", "churn",
	"zap", "protect", "replace_mem", "fork", "temp_limit",
};

/* the memory operations, in memory_churn only */
static bool st_is_memory_op(unsigned int op)
{
	return op >= OP_ZAP && op < OP_NR;
}

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

/*
 * With memory changing under them: pinning or copying through a slot
 * that is read-only for the moment.
 */
static bool st_errno_expected_churn(int err)
{
	return st_errno_expected(err) || err == EFAULT;
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
	/* memory_churn: the memory operations run too */
	bool churn;
	/* one memory operation on a slot at a time: no write to a R/O slot */
	pthread_mutex_t slot_lock[ST_SLOTS];
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

static bool st_op_runs(struct st_shared *sh, unsigned int op)
{
	return sh->churn || !st_is_memory_op(op);
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
		if (st_op_runs(sh, i) && i != OP_WRONG_FD &&
		    sh->errors[i] >= sh->count[i])
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

/* a slot's memory, replaced: private or shared, filled anew */
static int st_replace_mem(struct st_thread *t, unsigned int s)
{
	int flags = MAP_FIXED | MAP_ANONYMOUS |
		    (st_rand(t, 2) ? MAP_SHARED : MAP_PRIVATE);
	void *p = st_slot(t->sh, s);

	if (mmap(p, ST_SLOT_SIZE, PROT_READ | PROT_WRITE, flags, -1, 0) ==
	    MAP_FAILED)
		return errno;
	memset(p, 0x40 + s, ST_SLOT_SIZE);
	return 0;
}

/* a child that exits at once: the buffer is write-protected for COW */
static int st_fork(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return errno;
	if (!pid)
		_exit(0);
	if (waitpid(pid, &status, 0) != pid)
		return errno;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : ECHILD;
}

static int st_temp_limit(struct st_thread *t)
{
	/* off, one batch entry, or a few; all the same to correctness */
	static const __u32 limits[] = { 0, 1, 64, 512, 4096 };

	return _set_temp_memory_limit(t->sh->file[0].fd,
				      limits[st_rand(t, 5)]);
}

static int __st_memory_op(struct st_thread *t, enum st_op op, unsigned int s)
{
	void *p = st_slot(t->sh, s);

	switch (op) {
	case OP_ZAP:
		return madvise(p, ST_SLOT_SIZE, MADV_DONTNEED) ? errno : 0;
	case OP_PROTECT:
		if (mprotect(p, ST_SLOT_SIZE, PROT_READ))
			return errno;
		sched_yield();
		return mprotect(p, ST_SLOT_SIZE, PROT_READ | PROT_WRITE) ?
		       errno : 0;
	case OP_REPLACE_MEM:
		return st_replace_mem(t, s);
	case OP_FORK:
		return st_fork();
	case OP_TEMP_LIMIT:
		return st_temp_limit(t);
	default:
		return 0;
	}
}

static int st_memory_op(struct st_thread *t, enum st_op op, unsigned int s)
{
	int rc;

	pthread_mutex_lock(&t->sh->slot_lock[s]);
	rc = __st_memory_op(t, op, s);
	pthread_mutex_unlock(&t->sh->slot_lock[s]);
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
		return st_memory_op(t, op, s);
	}
}

/* how often each operation is picked, out of the sum */
static const unsigned int st_weight[OP_NR] = {
	[OP_MAP] = 12, [OP_UNMAP] = 8, [OP_UNMAP_ALL] = 1, [OP_COPY] = 6,
	[OP_PIN] = 8, [OP_UNPIN] = 8, [OP_RW] = 8, [OP_ACCESS_REPLACE] = 3,
	[OP_ACCESS_RENEW] = 1, [OP_ATTACH] = 4, [OP_DETACH] = 3,
	[OP_REPLACE] = 5, [OP_HWPT_ALLOC] = 3, [OP_HWPT_DESTROY] = 3,
	[OP_WRONG_FD] = 2, [OP_CHURN] = 1,
	[OP_ZAP] = 3, [OP_PROTECT] = 2, [OP_REPLACE_MEM] = 3, [OP_FORK] = 1,
	[OP_TEMP_LIMIT] = 2,
};

static enum st_op st_pick(struct st_thread *t)
{
	unsigned int total = 0, r, i;

	for (i = 0; i < OP_NR; i++)
		if (st_op_runs(t->sh, i))
			total += st_weight[i];
	r = st_rand(t, total);
	for (i = 0; i < OP_NR; i++) {
		if (!st_op_runs(t->sh, i))
			continue;
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
		if (!(sh->churn ? st_errno_expected_churn(rc) :
		      st_errno_expected(rc)) &&
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

/*
 * memory_churn's buffer: inside a 2 MiB aligned stretch that asked for
 * THP before it was first touched, so that it starts as one huge page
 * where the kernel has THP (the zaps and replacements then split it).
 */
static void *st_thp_buffer(struct __test_metadata *_metadata,
			   struct _test_data_stress *self)
{
	const size_t huge = 2UL << 20;
	char *p, *aligned;

	p = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	aligned = (char *)(((uintptr_t)p + huge - 1) & ~(huge - 1));
	/* EINVAL without THP: then it is plain memory */
	madvise(aligned, huge, MADV_HUGEPAGE);
	fill_pattern(aligned, self->buf_size, 0x52);
	munmap(self->sh.buf, self->buf_size);
	return aligned;
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
 * After memory_churn, with the threads stopped: the old mappings keep the
 * pages they pinned, which the buffer may no longer have. Unmap all in
 * every file, make every slot plain memory again, once (a second
 * MAP_FIXED would leave the first file's new mappings stale in turn), and
 * map the slots anew in each file's first IOAS.
 */
static void st_map_anew(struct __test_metadata *_metadata,
			struct st_shared *sh)
{
	unsigned int f, i, s;

	for (f = 0; f < sh->nfiles; f++)
		for (i = 0; i < ST_IOAS; i++)
			ASSERT_EQ(0, _ioas_unmap(sh->file[f].fd,
						 sh->file[f].ioas[i], 0,
						 U64_MAX, NULL));
	for (s = 0; s < ST_SLOTS; s++) {
		ASSERT_NE(MAP_FAILED, mmap(st_slot(sh, s), ST_SLOT_SIZE,
					   PROT_READ | PROT_WRITE,
					   MAP_FIXED | MAP_PRIVATE |
					   MAP_ANONYMOUS, -1, 0));
		memset(st_slot(sh, s), 0x60 + s, ST_SLOT_SIZE);
	}
	for (f = 0; f < sh->nfiles; f++)
		for (s = 0; s < ST_SLOTS; s += 2)
			ASSERT_EQ(0, _map_fixed(sh->file[f].fd,
						sh->file[f].ioas[0],
						st_slot(sh, s), ST_SLOT_SIZE,
						ST_IOVA(s)));
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
		   struct _test_data_stress *self, unsigned int nfiles,
		   bool churn)
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
	sh->churn = churn;
	for (i = 0; i < ST_SLOTS; i++)
		pthread_mutex_init(&sh->slot_lock[i], NULL);
	if (churn) {
		sh->buf = st_thp_buffer(_metadata, self);
		ASSERT_NE(NULL, sh->buf);
	}
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
		if (!st_op_runs(sh, i))
			continue;
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
		if (!st_op_runs(sh, i))
			continue;
		EXPECT_LT(0, sh->count[i]);
		if (i != OP_WRONG_FD)
			EXPECT_LT(sh->errors[i], sh->count[i]);
	}

	if (churn) {
		ASSERT_EQ(0, _set_temp_memory_limit(sh->file[0].fd, 0));
		st_map_anew(_metadata, sh);
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
	st_run(_metadata, self, 1, false);
}

TEST_F_TIMEOUT(stress, across_fds, ST_TIMEOUT)
{
	st_run(_metadata, self, 2, false);
}

TEST_F_TIMEOUT(stress, memory_churn, ST_TIMEOUT)
{
	st_run(_metadata, self, 2, true);
}

TEST_HARNESS_MAIN
