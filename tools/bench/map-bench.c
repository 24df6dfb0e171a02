// SPDX-License-Identifier: GPL-2.0-only
/*
 * map-bench: what it costs to pin and map guest-sized memory, and to
 * unmap it, through VFIO type1 and through iommufd, in the same boot.
 *
 * For each kind of memory (4K pages with no physical contiguity, hugetlbfs
 * 2M pages, THP) and each size (64 MiB, 512 MiB, 2 GiB: prefixes of one
 * 2 GiB buffer per kind), the best of REPS repetitions of map and of unmap
 * through these paths:
 *   type1   a native VFIO type1v2 container (/dev/vfio/vfio of the perf
 *           kernel) holding the lone edu's group, its device open
 *   cdev    an IOAS of /dev/iommu with the lone edu attached through its
 *           VFIO cdev
 *   compat  the lone edu's group in a /dev/iommu file used as a type1v2
 *           container (VFIO_SET_IOMMU, VFIO_IOMMU_MAP_DMA)
 *   mock    an IOAS with only a mock domain (the software cost alone)
 *   copy    IOMMU_IOAS_COPY of the range, mapped in the lone edu's IOAS,
 *           into a second IOAS that an edu of slot 4 is attached to (no
 *           second pin); its unmap is that IOAS's
 * Then 4K MAP+UNMAP pairs at scattered IOVAs and addresses through type1,
 * cdev, compat and mock (what a guest behind a vIOMMU costs its VMM: each
 * of its DMA maps becomes such a pair), as pairs per second, split into
 * MAP and UNMAP;
 * access_rw against memcpy of the same bytes (timed in the kernel by
 * our test op), kernel memory per pinned 4K page while a domain holds the
 * PFNs, and the latency of small operations on an IOAS while a 2 GiB MAP
 * of 4K pages runs into it.
 *
 * Every result is a line "@@BENCH {json}" for tools/bench/report.py;
 * human-readable lines go beside them. Nothing here judges a speed. Run
 * under -icount (make bench), the clock counts guest instructions.
 *
 * Each unmap line also says where the kernel read the unmapped PFNs back
 * from, per repetition: the CPU page table or a domain (our READBACK_STATS
 * test op; type1 reads its own way and shows 0).
 *
 * Environment: BENCH_QUICK=1 (64 MiB only, one repetition: a smoke run);
 * BENCH_KINDS=4k,thp (only those kinds of memory, and the access_rw,
 * memory and concurrency parts only with 4k); BENCH_PAIRS_ONLY=<path>
 * (only the 4K pairs of that path, two runs of PAIRS, for a profiler to
 * watch the second: tools/bench.sh with BENCH_PROFILE=1).
 */
#include <pthread.h>
#include <linux/mman.h>
#include "../guest/edu.h"
#include "../../iommufd_test.h"

#define MIB (1024ULL * 1024)
#define GIB (1024 * MIB)
#define BUF_SIZE (2 * GIB)
#define HPAGE (2 * MIB)
#define IOVA_BASE (1ULL << 32)
#define LONE_EDU "0000:00:03.0"
#define PAIR_EDU "0000:00:04.0"
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char * const kind_names[] = { "4k", "hugetlb", "thp" };
static const char * const path_names[] = {
	"type1", "cdev", "compat", "mock", "copy"
};

enum { KIND_4K, KIND_HUGETLB, KIND_THP, NKINDS };
enum { P_TYPE1, P_CDEV, P_COMPAT, P_MOCK, P_COPY, NPATHS };

static int reps = 3;
/* a /dev/iommu file for READBACK_STATS */
static int stats_fd = -1;

/* PFNs read back so far, from the CPU page table and from domains */
static void readback(__u64 *cpu, __u64 *domain)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_READBACK_STATS,
	};

	if (ioctl(stats_fd, IOMMU_TEST_CMD, &cmd))
		die("IOMMU_TEST_OP_READBACK_STATS");
	*cpu = cmd.readback.out_read_cpu;
	*domain = cmd.readback.out_read_domain;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* one open path: its files and the IDs the maps go to */
struct path {
	int kind;
	int fd;		/* the file maps go through */
	int group;
	int dev;
	int dev2;
	__u32 ioas;
	__u32 ioas2;	/* P_COPY: the destination */
};

static __u32 ioas_alloc(int fd)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	if (ioctl(fd, IOMMU_IOAS_ALLOC, &a))
		die("IOMMU_IOAS_ALLOC");
	return a.out_ioas_id;
}

static int open_iommufd(void)
{
	int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("open /dev/iommu");
	return fd;
}

/* the edu @bdf through its cdev, bound to @fd and attached to @ioas */
static int cdev_attach(const char *bdf, int fd, __u32 ioas)
{
	struct vfio_device_bind_iommufd b = {
		.argsz = sizeof(b),
		.iommufd = fd,
	};
	struct vfio_device_attach_iommufd_pt a = {
		.argsz = sizeof(a),
		.pt_id = ioas,
	};
	int dev = open_cdev(bdf);

	if (ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b))
		die("VFIO_DEVICE_BIND_IOMMUFD");
	if (ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a))
		die("VFIO_DEVICE_ATTACH_IOMMUFD_PT");
	return dev;
}

/* the lone edu's group in the container @fd, as type1v2, device open */
static void group_container(struct path *p)
{
	char path[PATH_MAX];

	p->group = open(group_path(LONE_EDU, path, sizeof(path)),
			O_RDWR | O_CLOEXEC);
	if (p->group < 0)
		die("open the VFIO group");
	if (ioctl(p->group, VFIO_GROUP_SET_CONTAINER, &p->fd))
		die("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(p->fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		die("VFIO_SET_IOMMU");
	p->dev = ioctl(p->group, VFIO_GROUP_GET_DEVICE_FD, LONE_EDU);
	if (p->dev < 0)
		die("VFIO_GROUP_GET_DEVICE_FD");
}

static void mock_domain(int fd, __u32 ioas)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
		.id = ioas,
		.mock_domain_flags.dev_flags = MOCK_FLAGS_DEVICE_LATE_IOMMU |
					       MOCK_FLAGS_DEVICE_WIDE_APERTURE,
	};

	if (ioctl(fd, IOMMU_TEST_CMD, &cmd))
		die("IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS");
}

static void path_open(struct path *p, int kind)
{
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->group = -1;
	p->dev = -1;
	p->dev2 = -1;
	switch (kind) {
	case P_TYPE1:
		p->fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
		if (p->fd < 0)
			die("open /dev/vfio/vfio");
		group_container(p);
		break;
	case P_COMPAT:
		p->fd = open_iommufd();
		group_container(p);
		break;
	case P_CDEV:
	case P_COPY:
		p->fd = open_iommufd();
		p->ioas = ioas_alloc(p->fd);
		p->dev = cdev_attach(LONE_EDU, p->fd, p->ioas);
		if (kind == P_COPY) {
			p->ioas2 = ioas_alloc(p->fd);
			p->dev2 = cdev_attach(PAIR_EDU, p->fd, p->ioas2);
		}
		break;
	case P_MOCK:
		p->fd = open_iommufd();
		p->ioas = ioas_alloc(p->fd);
		mock_domain(p->fd, p->ioas);
		break;
	}
}

static void path_close(struct path *p)
{
	if (p->dev2 >= 0)
		close(p->dev2);
	if (p->dev >= 0)
		close(p->dev);
	if (p->group >= 0)
		close(p->group);
	close(p->fd);
}

static int copy_range(struct path *p, __u64 iova, __u64 len)
{
	struct iommu_ioas_copy c = {
		.size = sizeof(c),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.dst_ioas_id = p->ioas2,
		.src_ioas_id = p->ioas,
		.length = len,
		.dst_iova = iova,
		.src_iova = iova,
	};

	return ioctl(p->fd, IOMMU_IOAS_COPY, &c);
}

/* the timed operations; 0 on success */
static int path_map(struct path *p, void *va, __u64 iova, __u64 len)
{
	switch (p->kind) {
	case P_TYPE1:
	case P_COMPAT:
		return map_type1(p->fd, va, iova, len);
	case P_COPY:
		return copy_range(p, iova, len);
	default:
		return map_native(p->fd, p->ioas, va, iova, len);
	}
}

static int path_unmap(struct path *p, __u64 iova, __u64 len)
{
	switch (p->kind) {
	case P_TYPE1:
	case P_COMPAT:
		return unmap_type1(p->fd, iova, len);
	case P_COPY:
		return unmap_native(p->fd, p->ioas2, iova, len);
	default:
		return unmap_native(p->fd, p->ioas, iova, len);
	}
}

/* @len bytes of memory of @kind, every page touched, last page first */
static unsigned char *kind_buffer(int kind, size_t len)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	unsigned char *p;
	size_t step = 4096, off;

	if (kind == KIND_HUGETLB)
		flags |= MAP_HUGETLB | MAP_HUGE_2MB;
	/* hugetlb memory is 2M-aligned; the others are aligned here */
	if (kind != KIND_HUGETLB)
		len += HPAGE;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		die("mmap the benchmark buffer");
	if (kind != KIND_HUGETLB) {
		len -= HPAGE;
		p = (unsigned char *)(((uintptr_t)p + HPAGE - 1) & ~(HPAGE - 1));
	}
	if (madvise(p, len, kind == KIND_THP ? MADV_HUGEPAGE :
		    kind == KIND_4K ? MADV_NOHUGEPAGE : MADV_NORMAL))
		die("madvise");
	if (kind != KIND_4K)
		step = HPAGE;
	/* last to first: the allocator then gives no physical contiguity */
	for (off = len; off; off -= step)
		p[off - step] = 1;
	return p;
}

/* one result: "@@BENCH {json}", begun, numbers added, ended */
static void json_begin(const char *kind, const char *path, const char *op,
		       __u64 size)
{
	printf("@@BENCH {\"kind\":\"%s\",\"path\":\"%s\",", kind, path);
	printf("\"op\":\"%s\",\"size\":%llu", op, (unsigned long long)size);
}

static void json_num(const char *key, double v)
{
	printf(",\"%s\":%.3f", key, v);
}

static void json_end(void)
{
	printf("}\n");
	fflush(stdout);
}

/* @rb: PFNs read back per repetition, from the CPU and domains, or NULL */
static void emit(const char *kind, const char *path, const char *op,
		 __u64 size, double best, double worst, const double *rb)
{
	json_begin(kind, path, op, size);
	json_num("ns", best);
	json_num("worst_ns", worst);
	json_num("reps", reps);
	if (rb) {
		json_num("read_cpu", rb[0]);
		json_num("read_domain", rb[1]);
	}
	json_end();
	printf("%-8s %-7s %-6s %5llu MiB  best %12.0f ns  %8.1f ns/4K",
	       kind, path, op, (unsigned long long)(size / MIB), best,
	       best / (size / 4096));
	if (rb)
		printf("  read back: cpu %.0f domain %.0f", rb[0], rb[1]);
	printf("\n");
	fflush(stdout);
}

static void bench_one(struct path *p, int kind, unsigned char *buf,
		      __u64 size)
{
	double map_best = 0, map_worst = 0, unmap_best = 0, unmap_worst = 0;
	__u64 cpu0, dom0, cpu1, dom1;
	double rb[2] = {};
	int r;

	if (p->kind == P_COPY &&
	    map_native(p->fd, p->ioas, buf, IOVA_BASE, size))
		die("map the source of the copy");
	for (r = 0; r < reps; r++) {
		double t0 = now_ns(), t1, t2;

		if (path_map(p, buf, IOVA_BASE, size))
			die(path_names[p->kind]);
		readback(&cpu0, &dom0);
		t1 = now_ns();
		if (path_unmap(p, IOVA_BASE, size))
			die("unmap");
		t2 = now_ns();
		readback(&cpu1, &dom1);
		rb[0] += (double)(cpu1 - cpu0) / reps;
		rb[1] += (double)(dom1 - dom0) / reps;
		if (!r || t1 - t0 < map_best)
			map_best = t1 - t0;
		if (!r || t2 - t1 < unmap_best)
			unmap_best = t2 - t1;
		if (t1 - t0 > map_worst)
			map_worst = t1 - t0;
		if (t2 - t1 > unmap_worst)
			unmap_worst = t2 - t1;
	}
	if (p->kind == P_COPY && unmap_native(p->fd, p->ioas, IOVA_BASE, size))
		die("unmap the source of the copy");
	emit(kind_names[kind], path_names[p->kind], "map", size, map_best,
	     map_worst, NULL);
	emit(kind_names[kind], path_names[p->kind], "unmap", size, unmap_best,
	     unmap_worst, rb);
}

/* 4K MAP+UNMAP pairs: how many, and the IOVA slots they scatter over */
#define PAIRS 20000
#define PAIR_SLOTS 65536

/*
 * Pair @i of a run: a 4K page of @buf (@npages long) mapped at a scattered
 * IOVA and unmapped again (a multiplicative hash spreads both over their
 * ranges, so neighbours share no page table). With @in_map, the time of
 * the MAP and of the UNMAP is added there and to @in_unmap.
 */
static int one_pair(struct path *p, unsigned char *buf, __u64 npages,
		    unsigned int i, double *in_map, double *in_unmap)
{
	__u64 slot = (i * 2654435761ULL) % PAIR_SLOTS;
	__u64 page = (i * 40503ULL) % npages;
	__u64 iova = IOVA_BASE + slot * HPAGE;
	double a = in_map ? now_ns() : 0, b;

	if (path_map(p, buf + page * 4096, iova, 4096))
		return -1;
	b = in_map ? now_ns() : 0;
	if (path_unmap(p, iova, 4096))
		return -1;
	if (in_map) {
		*in_map += b - a;
		*in_unmap += now_ns() - b;
	}
	return 0;
}

/*
 * @n 4K MAP+UNMAP pairs on @p from the @len bytes at @buf, per pair: the
 * repetitions are timed whole (a clock read costs microseconds on the
 * VM's clocksource), then one more run with a clock read around each call
 * gives the share of MAP and of UNMAP, applied to the best time.
 */
static void bench_pairs(struct path *p, unsigned char *buf, __u64 len,
			unsigned int n)
{
	double best = 0, worst = 0, in_map = 0, in_unmap = 0, map_share;
	unsigned int i;
	int r;

	for (r = 0; r < reps; r++) {
		double t0 = now_ns(), t;

		for (i = 0; i < n; i++)
			if (one_pair(p, buf, len / 4096, i, NULL, NULL))
				die("a 4K map and unmap pair");
		t = (now_ns() - t0) / n;
		if (!r || t < best)
			best = t;
		if (t > worst)
			worst = t;
	}
	for (i = 0; i < n; i++)
		if (one_pair(p, buf, len / 4096, i, &in_map, &in_unmap))
			die("a 4K map and unmap pair");
	map_share = in_map / (in_map + in_unmap);
	json_begin("4k", path_names[p->kind], "pair", 4096);
	json_num("ns", best);
	json_num("worst_ns", worst);
	json_num("map_ns", best * map_share);
	json_num("unmap_ns", best * (1 - map_share));
	json_num("pairs", n);
	json_end();
	printf("4k       %-7s pairs  %u x 4K map+unmap  best %8.0f ns/pair  %8.0f pairs/s",
	       path_names[p->kind], n, best, 1e9 / best);
	printf("  (map %.0f ns, unmap %.0f ns)\n", best * map_share,
	       best * (1 - map_share));
	fflush(stdout);
}

static long meminfo_kb(const char *key)
{
	return file_kb("/proc/meminfo", key);
}

/*
 * Free pages, exactly: the zones' free counts of /proc/zoneinfo once the
 * per-CPU vmstat deltas are folded in (stat_refresh), plus the pages the
 * per-CPU free lists hold, which MemFree leaves out: an allocation served
 * from those lists would not move MemFree at all.
 */
static long free_pages_exact(void)
{
	char line[256];
	long total = 0, v;
	FILE *f;

	write_file("/proc/sys/vm/stat_refresh", "1");
	f = fopen("/proc/zoneinfo", "r");
	if (!f)
		die("open /proc/zoneinfo");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " pages free %ld", &v) == 1 ||
		    sscanf(line, " count: %ld", &v) == 1)
			total += v;
	fclose(f);
	return total;
}

/*
 * Kernel memory that a 2 GiB map of touched 4K pages takes while it is
 * mapped, per page: the drop of the free pages (all of it: slab, xarrays,
 * IOMMU page tables; the pages themselves were allocated before) and the
 * growth of Slab, each into a new domain. The best of three, as other
 * activity only adds. The IOMMU's page tables are the same for every path
 * (8 bytes per 4K IOPTE); what iommufd adds is the difference to type1.
 */
static void memory_overhead(unsigned char *buf)
{
	static const int paths[] = { P_TYPE1, P_CDEV, P_COMPAT };
	__u64 pages = BUF_SIZE / 4096;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		long best_free = LONG_MAX, best_slab = LONG_MAX;
		struct path p;
		int r;

		for (r = 0; r < 3; r++) {
			long free0, slab0, free1, slab1;

			/*
			 * A new domain each time: its page tables are part of
			 * the figure for every path (6.1's VT-d frees a table
			 * only when an unmap covers it whole, which type1's
			 * page-by-page unmaps never do).
			 */
			path_open(&p, paths[i]);
			write_file("/proc/sys/vm/drop_caches", "3");
			free0 = free_pages_exact() * 4;
			slab0 = meminfo_kb("Slab");
			if (path_map(&p, buf, IOVA_BASE, BUF_SIZE))
				die("map for the memory figure");
			free1 = free_pages_exact() * 4;
			slab1 = meminfo_kb("Slab");
			if (path_unmap(&p, IOVA_BASE, BUF_SIZE))
				die("unmap");
			path_close(&p);
			if (free0 - free1 < best_free)
				best_free = free0 - free1;
			if (slab1 - slab0 < best_slab)
				best_slab = slab1 - slab0;
		}
		json_begin("4k", path_names[paths[i]], "memory", BUF_SIZE);
		json_num("free_kb", best_free);
		json_num("slab_kb", best_slab);
		json_num("bytes_per_page", best_free * 1024.0 / pages);
		json_num("slab_bytes_per_page", best_slab * 1024.0 / pages);
		json_end();
		printf("memory   %-7s 2 GiB of 4K: free -%ld kB (%.3f B/page), ",
		       path_names[paths[i]], best_free,
		       best_free * 1024.0 / pages);
		printf("Slab +%ld kB (%.3f B/page)\n", best_slab,
		       best_slab * 1024.0 / pages);
		fflush(stdout);
	}
}

/*
 * access_rw of @len bytes at the start of a mapped range against memcpy()
 * of as many bytes, both looped and timed in the kernel
 */
static void bench_access_rw(unsigned char *buf)
{
	static const __u64 lens[] = { 64, 4096, MIB };
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
	};
	struct path p;
	unsigned int i;
	int w;

	path_open(&p, P_MOCK);
	cmd.id = p.ioas;
	if (ioctl(p.fd, IOMMU_TEST_CMD, &cmd))
		die("IOMMU_TEST_OP_CREATE_ACCESS");
	if (map_native(p.fd, p.ioas, buf, IOVA_BASE, 64 * MIB))
		die("map for access_rw");
	for (w = 0; w < 2; w++) {
		for (i = 0; i < ARRAY_SIZE(lens); i++) {
			struct iommu_test_cmd b = {
				.size = sizeof(b),
				.op = IOMMU_TEST_OP_ACCESS_RW_BENCH,
				.id = cmd.create_access.out_access_fd,
				.access_rw_bench = {
					.iova = IOVA_BASE + 4096,
					.length = lens[i],
					.flags = w ? MOCK_ACCESS_RW_WRITE : 0,
					.loops = lens[i] >= MIB ? 64 : 4096,
				},
			};
			double rw, mc;

			if (ioctl(p.fd, IOMMU_TEST_CMD, &b))
				die("IOMMU_TEST_OP_ACCESS_RW_BENCH");
			rw = (double)b.access_rw_bench.out_rw_ns /
			     b.access_rw_bench.loops;
			mc = (double)b.access_rw_bench.out_memcpy_ns /
			     b.access_rw_bench.loops;
			json_begin("4k", "access_rw", w ? "write" : "read",
				   lens[i]);
			json_num("ns", rw);
			json_num("memcpy_ns", mc);
			json_end();
			printf("access_rw %-5s %7llu B %10.1f ns, memcpy %10.1f ns\n",
			       w ? "write" : "read", (unsigned long long)lens[i],
			       rw, mc);
		}
	}
	fflush(stdout);
	close(cmd.create_access.out_access_fd);
	if (unmap_native(p.fd, p.ioas, IOVA_BASE, 64 * MIB))
		die("unmap after access_rw");
	path_close(&p);
}

/* the small operations timed while a big MAP runs */
struct prober {
	struct path *p;
	unsigned char *small;
	int stop;
	long ranges, maps;
	double ranges_max, map_max;
};

static void *probe_thread(void *arg)
{
	struct prober *pr = arg;
	struct iommu_ioas_iova_ranges r = {
		.size = sizeof(r),
		.ioas_id = pr->p->ioas,
	};

	while (!__atomic_load_n(&pr->stop, __ATOMIC_ACQUIRE)) {
		double t0 = now_ns(), t1, t2;

		r.num_iovas = 0;
		if (ioctl(pr->p->fd, IOMMU_IOAS_IOVA_RANGES, &r) &&
		    errno != EMSGSIZE)
			die("IOMMU_IOAS_IOVA_RANGES");
		t1 = now_ns();
		if (map_native(pr->p->fd, pr->p->ioas, pr->small, 1ULL << 30,
			       4096) ||
		    unmap_native(pr->p->fd, pr->p->ioas, 1ULL << 30, 4096))
			die("small map and unmap");
		t2 = now_ns();
		pr->ranges++;
		pr->maps++;
		if (t1 - t0 > pr->ranges_max)
			pr->ranges_max = t1 - t0;
		if (t2 - t1 > pr->map_max)
			pr->map_max = t2 - t1;
		/* sleep as a VMM's other work would, so the big MAP runs */
		usleep(1000);
	}
	return NULL;
}

static void concurrency(unsigned char *buf, __u64 size)
{
	struct prober pr = { 0 };
	struct path p;
	pthread_t t;
	double t0, t1;

	path_open(&p, P_CDEV);
	pr.p = &p;
	pr.small = anon_buffer(4096);
	pr.small[0] = 1;
	if (pthread_create(&t, NULL, probe_thread, &pr))
		die("pthread_create");
	usleep(20 * 1000);
	t0 = now_ns();
	if (map_native(p.fd, p.ioas, buf, IOVA_BASE, size))
		die("the big map");
	t1 = now_ns();
	__atomic_store_n(&pr.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	if (unmap_native(p.fd, p.ioas, IOVA_BASE, size))
		die("unmap the big map");
	path_close(&p);
	json_begin("4k", "cdev", "concurrent", size);
	json_num("ns", t1 - t0);
	json_num("ranges", pr.ranges);
	json_num("ranges_max_ns", pr.ranges_max);
	json_num("small_maps", pr.maps);
	json_num("small_map_max_ns", pr.map_max);
	json_end();
	printf("concurrent: %llu MiB MAP %.0f ms; %ld IOVA_RANGES, longest %.2f ms; ",
	       (unsigned long long)(size / MIB), (t1 - t0) / 1e6, pr.ranges,
	       pr.ranges_max / 1e6);
	printf("%ld 4K map+unmap, longest %.2f ms\n", pr.maps, pr.map_max / 1e6);
	fflush(stdout);
	munmap(pr.small, 4096);
}

int main(void)
{
	static const __u64 sizes[] = { 64 * MIB, 512 * MIB, 2 * GIB };
	int quick = getenv("BENCH_QUICK") && *getenv("BENCH_QUICK") == '1';
	const char *kinds = getenv("BENCH_KINDS");
	unsigned int nsizes = quick ? 1 : 3;
	int kind, path;
	unsigned int s;

	if (quick)
		reps = 1;
	write_file("/sys/kernel/mm/transparent_hugepage/enabled", "madvise");
	stats_fd = open_iommufd();
	if (getenv("BENCH_PAIRS_ONLY")) {
		const char *only = getenv("BENCH_PAIRS_ONLY");
		/* 64 MiB: faulting it in is a small part of the profile */
		const __u64 len = 64 * MIB;
		unsigned char *buf = kind_buffer(KIND_4K, len);
		struct path p;

		for (path = 0; path < NPATHS; path++)
			if (!strcmp(only, path_names[path]) && path != P_COPY)
				break;
		if (path == NPATHS)
			die("BENCH_PAIRS_ONLY: type1, cdev, compat or mock");
		reps = 1;
		path_open(&p, path);
		/*
		 * A first run allocates the IOMMU page tables of every IOVA
		 * slot; a profiler started with its events off (perf -D -1)
		 * is told through BENCH_PERF_CTL, its control FIFO, to
		 * watch only the second.
		 */
		bench_pairs(&p, buf, len, PAIRS);
		if (getenv("BENCH_PERF_CTL") &&
		    write_file(getenv("BENCH_PERF_CTL"), "enable\n"))
			die("BENCH_PERF_CTL: telling the profiler to start");
		bench_pairs(&p, buf, len, PAIRS);
		path_close(&p);
		return 0;
	}
	for (kind = 0; kind < NKINDS; kind++) {
		unsigned char *buf;

		if (kinds && !strstr(kinds, kind_names[kind]))
			continue;
		buf = kind_buffer(kind, BUF_SIZE);

		if (kind == KIND_THP)
			printf("THP: AnonHugePages %ld kB of %llu kB\n",
			       meminfo_kb("AnonHugePages"),
			       (unsigned long long)(BUF_SIZE / 1024));
		for (path = 0; path < NPATHS; path++) {
			struct path p;

			path_open(&p, path);
			for (s = 0; s < nsizes; s++)
				bench_one(&p, kind, buf, sizes[s]);
			path_close(&p);
		}
		if (kind == KIND_4K) {
			for (path = 0; path < NPATHS; path++) {
				struct path p;

				if (path == P_COPY)
					continue;
				path_open(&p, path);
				bench_pairs(&p, buf, BUF_SIZE,
					    quick ? PAIRS / 10 : PAIRS);
				path_close(&p);
			}
			bench_access_rw(buf);
			if (!quick)
				memory_overhead(buf);
			concurrency(buf, quick ? 512 * MIB : BUF_SIZE);
		}
		munmap(buf, BUF_SIZE);
	}
	printf("@@BENCH-DONE\n");
	return 0;
}
