// SPDX-License-Identifier: GPL-2.0-only
/*
 * edu-stress: concurrent stress with a real device. The edu alone in its
 * iommu_group is bound through its cdev; two IOASes map the same source
 * and destination buffers at the same IOVAs, and HWPTs come and go on
 * both. For a fixed time, with no coordination beyond what is said here:
 *   - one thread has the edu copy a new pattern from the source IOVA into
 *     its buffer and back to the destination IOVA, and checks every byte:
 *     whatever page table the device is on, it must reach those pages;
 *   - one replaces the device's page table (ATTACH_IOMMUFD_PT) among the
 *     IOASes and the HWPTs, and now and then detaches it and attaches it
 *     again (while no DMA runs: a detached device's DMA is blocked);
 *   - one allocates HWPTs on either IOAS and destroys them, attached or not;
 *   - two map, copy and unmap other memory at other IOVAs in both IOASes;
 *   - one pins and reads that memory through a mock access, and replaces
 *     the access' IOAS;
 *   - one opens a second iommufd, maps, pins through an access, and closes
 *     it with everything in place.
 * Any errno other than those a serial order gives fails the run; at the
 * end the DMA must still work, and once everything is closed nothing may
 * stay pinned (IOMMU_TEST_CMD STATS: needs CONFIG_IOMMUFD_TEST) and
 * VmPin/VmLck must be 0. Operations per second are printed, never
 * checked. The time is the second argument, else IOMMUFD_STRESS_SECONDS,
 * else 20 s. Prints TAP.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "edu.h"
#include "../../iommufd_test.h"

#define PG 4096
#define SLOTS 16
#define SLOT_IOVA(s) (0x20000000ULL + (__u64)(s) * 0x10000)
#define HWPTS 4

enum { T_DMA, T_REPLACE, T_HWPT, T_MAP1, T_MAP2, T_ACCESS, T_CHURN, T_NR };
static const char *const t_name[T_NR] = {
	"dma", "replace/detach", "hwpt alloc/destroy", "map/copy/unmap",
	"map/copy/unmap", "access pin/rw", "open/fill/close",
};

static struct {
	int iommufd, dev, fd_stats;
	__u32 ioas[2], devid;
	atomic_uint hwpt[HWPTS];
	struct edu e;
	unsigned char *src, *dst, *mem;
	pthread_rwlock_t dma_lock;	/* held for reading by each DMA */
	struct timespec end;
	time_t hard_end;
	atomic_ulong ops[T_NR];
	atomic_ulong refused[T_NR];
	atomic_ulong bad_dma;
	atomic_ulong blocked_dma;
	atomic_ulong unexpected;
	atomic_int first_err;
	atomic_int first_thread;
} g;

/*
 * Over once the time has passed and each thread has had a call succeed
 * and a DMA come back whole (a slow host may take longer to get there),
 * or at ten times the time, when the checks then fail.
 */
static int over(void)
{
	struct timespec now;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec < g.end.tv_sec ||
	    (now.tv_sec == g.end.tv_sec && now.tv_nsec < g.end.tv_nsec))
		return 0;
	if (now.tv_sec >= g.hard_end)
		return 1;
	if (g.blocked_dma + g.bad_dma >= g.ops[T_DMA])
		return 0;
	for (i = 1; i < T_NR; i++)
		if (g.refused[i] >= g.ops[i])
			return 0;
	return 1;
}

static unsigned int rnd(__u64 *r, unsigned int n)
{
	*r ^= *r << 13;
	*r ^= *r >> 7;
	*r ^= *r << 17;
	return (unsigned int)(*r % n);
}

static int err_of(int rc)
{
	return rc ? errno : 0;
}

static void count(int t, int err)
{
	g.ops[t]++;
	if (!err)
		return;
	g.refused[t]++;
	switch (err) {
	case ENOENT: case EEXIST: case EBUSY: case EINVAL: case EBADF:
	case ENOSPC: case EDEADLK:
		return;
	}
	if (g.unexpected++ == 0) {
		g.first_err = err;
		g.first_thread = t;
	}
}

static int test_cmd(int fd, struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioctl(fd, IOMMU_TEST_CMD, cmd);
}

static int attach(__u32 pt)
{
	struct vfio_device_attach_iommufd_pt at = {
		.argsz = sizeof(at),
		.pt_id = pt,
	};

	return ioctl(g.dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at);
}

static int detach(void)
{
	struct vfio_device_detach_iommufd_pt dt = { .argsz = sizeof(dt) };

	return ioctl(g.dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt);
}

static __u32 any_pt(__u64 *r)
{
	unsigned int i = rnd(r, 2 + HWPTS);
	__u32 id;

	if (i < 2)
		return g.ioas[i];
	id = g.hwpt[i - 2];
	return id ? id : g.ioas[0];
}

/* whether all @len bytes at @p are @c */
static int all_are(const unsigned char *p, size_t len, unsigned char c)
{
	return p[0] == c && !memcmp(p, p + 1, len - 1);
}

/*
 * One round trip, sorted: the pattern came back (0); the device's DMA was
 * blocked on the way (1): the destination still holds its sentinel (the
 * write faulted), or what a faulting read gives (all 0 or all 1 bits,
 * the edu's buffer as the previous round left it); or anything else (2):
 * DMA reached a page it should not have.
 */
static int dma_round(unsigned int seed)
{
	unsigned char prev[XFER];

	fill(prev, XFER, seed - 1);
	fill(g.src, XFER, seed);
	memset(g.dst, 0xa5, XFER);
	if (edu_dma(&g.e, IOVA_SRC, EDU_BUF, XFER, 0) ||
	    edu_dma(&g.e, EDU_BUF, IOVA_DST, XFER, 1))
		return 2;
	if (!memcmp(g.src, g.dst, XFER))
		return 0;
	if (all_are(g.dst, XFER, 0xa5) || all_are(g.dst, XFER, 0) ||
	    all_are(g.dst, XFER, 0xff) || !memcmp(g.dst, prev, XFER))
		return 1;
	return 2;
}

static void *t_dma(void *arg)
{
	unsigned int seed = 100;

	(void)arg;
	while (!over()) {
		int r;

		pthread_rwlock_rdlock(&g.dma_lock);
		r = dma_round(seed);
		pthread_rwlock_unlock(&g.dma_lock);
		if (r == 1)
			g.blocked_dma++;
		else if (r == 2)
			g.bad_dma++;
		g.ops[T_DMA]++;
		/* a faulted read leaves the edu's buffer as it was: reuse */
		if (r != 1)
			seed++;
	}
	return NULL;
}

static void *t_replace(void *arg)
{
	__u64 r = 0x1234567;

	(void)arg;
	while (!over()) {
		if (rnd(&r, 16) == 0) {
			/* off and on again, between two DMAs */
			pthread_rwlock_wrlock(&g.dma_lock);
			count(T_REPLACE, err_of(detach()));
			count(T_REPLACE, err_of(attach(g.ioas[rnd(&r, 2)])));
			pthread_rwlock_unlock(&g.dma_lock);
			continue;
		}
		count(T_REPLACE, err_of(attach(any_pt(&r))));
	}
	return NULL;
}

static void *t_hwpt(void *arg)
{
	__u64 r = 0x2345678;

	(void)arg;
	while (!over()) {
		unsigned int k = rnd(&r, HWPTS);
		__u32 id = g.hwpt[k];

		if (id) {
			struct iommu_destroy d = { .size = sizeof(d), .id = id };
			int err = err_of(ioctl(g.iommufd, IOMMU_DESTROY, &d));

			count(T_HWPT, err);
			if (err != EBUSY)
				g.hwpt[k] = 0;
		} else {
			struct iommu_hwpt_alloc a = {
				.size = sizeof(a),
				.dev_id = g.devid,
				.pt_id = g.ioas[rnd(&r, 2)],
			};
			int err = err_of(ioctl(g.iommufd, IOMMU_HWPT_ALLOC, &a));

			count(T_HWPT, err);
			if (!err)
				g.hwpt[k] = a.out_hwpt_id;
		}
	}
	return NULL;
}

static void *t_map(void *arg)
{
	int t = (int)(intptr_t)arg;
	__u64 r = 0x3456789 + t;

	while (!over()) {
		unsigned int s = rnd(&r, SLOTS), i = rnd(&r, 2);
		unsigned int op = rnd(&r, 3);
		int err;

		if (op == 0) {
			err = err_of(map_native(g.iommufd, g.ioas[i],
						g.mem + s * PG, SLOT_IOVA(s),
						PG));
		} else if (op == 1) {
			struct iommu_ioas_copy c = {
				.size = sizeof(c),
				.flags = IOMMU_IOAS_MAP_FIXED_IOVA |
					 IOMMU_IOAS_MAP_READABLE |
					 IOMMU_IOAS_MAP_WRITEABLE,
				.dst_ioas_id = g.ioas[!i],
				.src_ioas_id = g.ioas[i],
				.length = PG,
				.dst_iova = SLOT_IOVA(s),
				.src_iova = SLOT_IOVA(s),
			};

			err = err_of(ioctl(g.iommufd, IOMMU_IOAS_COPY, &c));
		} else {
			err = err_of(unmap_native(g.iommufd, g.ioas[i],
						  SLOT_IOVA(s), PG));
		}
		count(t, err);
	}
	return NULL;
}

static int new_access(int fd, __u32 ioas)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = ioas,
	};

	return test_cmd(fd, &cmd) ? -1 : (int)cmd.create_access.out_access_fd;
}

static int access_pin(int fd, int access, __u64 iova, void *va, __u32 *id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_PAGES,
		.id = access,
		.access_pages = {
			.iova = iova,
			.length = PG,
			.uptr = (uintptr_t)va,
		},
	};
	int rc = test_cmd(fd, &cmd);

	if (!rc && id)
		*id = cmd.access_pages.out_access_pages_id;
	return rc;
}

static void *t_access(void *arg)
{
	unsigned char buf[256];
	__u64 r = 0x456789a;
	int access = new_access(g.iommufd, g.ioas[0]);

	(void)arg;
	if (access < 0) {
		count(T_ACCESS, errno);
		return NULL;
	}
	while (!over()) {
		unsigned int s = rnd(&r, SLOTS), op = rnd(&r, 3);
		struct iommu_test_cmd cmd = { .id = access };
		__u32 id = 0;
		int err;

		if (op == 0) {
			err = err_of(access_pin(g.iommufd, access, SLOT_IOVA(s),
						g.mem + s * PG, &id));
			if (!err) {
				cmd.op = IOMMU_TEST_OP_DESTROY_ACCESS_PAGES;
				cmd.destroy_access_pages.access_pages_id = id;
				/* the unmap callback may have dropped it */
				count(T_ACCESS,
				      err_of(test_cmd(g.iommufd, &cmd)));
			}
		} else if (op == 1) {
			cmd.op = IOMMU_TEST_OP_ACCESS_RW;
			cmd.access_rw.iova = SLOT_IOVA(s) + rnd(&r, 3000);
			cmd.access_rw.length = sizeof(buf);
			cmd.access_rw.uptr = (uintptr_t)buf;
			err = err_of(test_cmd(g.iommufd, &cmd));
		} else {
			cmd.op = IOMMU_TEST_OP_ACCESS_REPLACE_IOAS;
			cmd.access_replace_ioas.ioas_id = g.ioas[rnd(&r, 2)];
			err = err_of(test_cmd(g.iommufd, &cmd));
		}
		count(T_ACCESS, err);
	}
	close(access);
	return NULL;
}

static void *t_churn(void *arg)
{
	(void)arg;
	while (!over()) {
		struct iommu_ioas_alloc a = { .size = sizeof(a) };
		int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC), access = -1;
		int err = fd < 0 ? errno : 0;

		if (!err)
			err = err_of(ioctl(fd, IOMMU_IOAS_ALLOC, &a));
		if (!err)
			err = err_of(map_native(fd, a.out_ioas_id, g.mem,
						SLOT_IOVA(0), SLOTS * PG));
		if (!err) {
			access = new_access(fd, a.out_ioas_id);
			err = access < 0 ? errno : 0;
		}
		if (!err)
			err = err_of(access_pin(fd, access, SLOT_IOVA(0) + PG,
						g.mem + PG, NULL));
		count(T_CHURN, err);
		if (access >= 0)
			close(access);
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

static __u64 pinned_now(void)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_STATS };

	if (test_cmd(g.fd_stats, &cmd))
		die("IOMMU_TEST_CMD STATS");
	return cmd.stats.out_pinned_pages;
}

int main(int argc, char **argv)
{
	void *(*fn[T_NR])(void *) = {
		t_dma, t_replace, t_hwpt, t_map, t_map, t_access, t_churn,
	};
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	const char *env = getenv("IOMMUFD_STRESS_SECONDS");
	unsigned long total = 0;
	pthread_t tid[T_NR];
	struct timespec t0, t1;
	unsigned int secs = 20;
	char path[PATH_MAX], msg[200];
	double el;
	__u64 base;
	int i;

	if (argc < 2)
		return 2;
	if (argc > 2)
		secs = atoi(argv[2]);
	else if (env && atoi(env) > 0)
		secs = atoi(env);
	printf("TAP version 13\n");
	g.fd_stats = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (g.fd_stats < 0)
		die("open /dev/iommu");
	base = pinned_now();

	g.iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (g.iommufd < 0 || cdev_path(argv[1], path, sizeof(path)))
		die("open /dev/iommu and find the cdev");
	g.dev = open(path, O_RDWR | O_CLOEXEC);
	bind.iommufd = g.iommufd;
	if (g.dev < 0 || ioctl(g.dev, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		die("open and bind the cdev");
	g.devid = bind.out_devid;
	g.src = anon_buffer(PG);
	g.dst = anon_buffer(PG);
	g.mem = anon_buffer(SLOTS * PG);
	for (i = 0; i < 2; i++) {
		if (ioctl(g.iommufd, IOMMU_IOAS_ALLOC, &alloc))
			die("IOMMU_IOAS_ALLOC");
		g.ioas[i] = alloc.out_ioas_id;
		if (map_native(g.iommufd, g.ioas[i], g.src, IOVA_SRC, PG) ||
		    map_native(g.iommufd, g.ioas[i], g.dst, IOVA_DST, PG))
			die("map the DMA buffers");
	}
	if (attach(g.ioas[0]))
		die("ATTACH_IOMMUFD_PT");
	edu_setup(&g.e, g.dev);
	pthread_rwlock_init(&g.dma_lock, NULL);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	g.end = t0;
	g.end.tv_sec += secs;
	g.hard_end = t0.tv_sec + 10 * secs;
	for (i = 0; i < T_NR; i++)
		if (pthread_create(&tid[i], NULL, fn[i], (void *)(intptr_t)i))
			die("pthread_create");
	for (i = 0; i < T_NR; i++)
		pthread_join(tid[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	el = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	for (i = 0; i < T_NR; i++) {
		total += g.ops[i];
		printf("#   %-20s %8lu operations, %8lu refused\n", t_name[i],
		       (unsigned long)g.ops[i], (unsigned long)g.refused[i]);
	}
	printf("# %d threads: %lu operations in %.1f s, %.0f ops/s\n", T_NR,
	       total, el, total / el);

	/*
	 * 6.1's VT-d clears the device's context entry before it writes the
	 * new one: a DMA in that moment faults, which is allowed (it reaches
	 * no page at all). Reaching a wrong page is not.
	 */
	snprintf(msg, sizeof(msg),
		 "%lu DMA round trips: none reached a wrong page (%lu blocked by a replace, %lu wrong)",
		 (unsigned long)g.ops[T_DMA], (unsigned long)g.blocked_dma,
		 (unsigned long)g.bad_dma);
	ok(g.ops[T_DMA] > 0 && g.bad_dma == 0, msg);
	ok(g.blocked_dma < g.ops[T_DMA], "some DMA round trips came back whole");
	if (g.unexpected)
		printf("# %lu unexpected errnos; the first: %s gave %s\n",
		       (unsigned long)g.unexpected, t_name[g.first_thread],
		       strerror(g.first_err));
	ok(g.unexpected == 0, "every refusal had an errno a serial order gives");
	for (i = 1; i < T_NR; i++) {
		snprintf(msg, sizeof(msg), "%s: some succeeded", t_name[i]);
		ok(g.refused[i] < g.ops[i], msg);
	}

	/* the device ends where a last replace put it: on IOAS 0 */
	ok(attach(g.ioas[0]) == 0, "the device attaches after the run");
	fill(g.src, XFER, 9);
	memset(g.dst, 0, XFER);
	ok(!edu_dma(&g.e, IOVA_SRC, EDU_BUF, XFER, 0) &&
	   !edu_dma(&g.e, EDU_BUF, IOVA_DST, XFER, 1) &&
	   !memcmp(g.src, g.dst, XFER), "DMA works after the run");
	close(g.dev);
	close(g.iommufd);
	ok(pinned_now() == base, "nothing left pinned after the close");
	ok(status_kb("VmPin") == 0 && status_kb("VmLck") == 0,
	   "VmPin and VmLck back at 0");
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
