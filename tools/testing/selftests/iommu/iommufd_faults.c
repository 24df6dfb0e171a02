// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fault injection over the mock paths: each test runs one sequence of
 * ioctls with the Nth allocation of the thread failing (failslab and
 * fail_page_alloc through its fail-nth, see fault_inject.h), for N = 1,
 * 2, ... until the sequence passes through every injection point without
 * reaching the Nth. After each run, the failed ioctl must have failed
 * with ENOMEM or EFAULT (or the failure was absorbed and the sequence
 * succeeded), the file must still work, and once everything is closed,
 * nothing may be left pinned or charged. The number of injection points
 * each sequence reached is printed; make check's kmemleak scan at the end
 * finds any leaked object.
 *
 * The sequences:
 *  - map_unmap_copy: open, IOAS + mock domain, MAP, a second IOAS + mock
 *    domain, COPY into it, UNMAP of both;
 *  - attach_replace_hwpt: two mapped IOASes, a mock device on the first,
 *    HWPT_ALLOC on the second, replace onto that HWPT and back, DESTROY;
 *  - access_pin_rw: an access on a mapped IOAS, ACCESS_PAGES (pin), ACCESS_RW
 *    both ways, DESTROY_ACCESS_PAGES, replace to another IOAS, pin again;
 *  - map_file: a new memfd, IOMMU_IOAS_MAP_FILE of it into an IOAS with a
 *    mock domain (its holes are filled as they are pinned), COPY into a
 *    second one, an access writing into it, CHANGE_PROCESS (to the
 *    process that has them), UNMAP.
 *
 * Needs a kernel built with CONFIG_IOMMUFD_TEST and fault injection
 * (skipped without it), and root.
 */
#include "iommufd_utils.h"
#include "fault_inject.h"

/* far more than any sequence reaches; a run that gets here is a bug */
#define FI_MAX_POINTS 20000
#define FI_PAGES 8
#define FI_IOVA (APERTURE_START + 0x100000)

/* everything a sequence may have opened, for the checks and the close */
struct fi_ctx {
	int fd;
	int access;
	__u32 ioas[2];
	__u32 stdev;
	__u32 idev;
	__u32 hwpt;
	void *buf;
	int line;	/* of the step that failed */
};

/*
 * A sequence is a chain of steps joined by ?: so that it stops at the
 * first one that fails and returns its errno; S() notes the step's line.
 */
static int fi_step(struct fi_ctx *c, int rc, int line)
{
	if (rc)
		c->line = line;
	return rc;
}

#define S(call) fi_step(c, (call), __LINE__)

static int fi_open(struct fi_ctx *c)
{
	c->fd = iommufd_open();
	return c->fd < 0 ? errno : 0;
}

static int fi_map(struct fi_ctx *c, __u32 ioas)
{
	return _map_fixed(c->fd, ioas, c->buf, FI_PAGES * PS, FI_IOVA);
}

static int seq_map_unmap_copy(struct fi_ctx *c)
{
	__u64 dst = FI_IOVA;

	return S(fi_open(c)) ?:
	       S(_ioas_alloc(c->fd, &c->ioas[0])) ?:
	       S(_mock_domain(c->fd, c->ioas[0], NULL, NULL, NULL)) ?:
	       S(fi_map(c, c->ioas[0])) ?:
	       S(_ioas_alloc(c->fd, &c->ioas[1])) ?:
	       S(_mock_domain(c->fd, c->ioas[1], NULL, NULL, NULL)) ?:
	       S(_ioas_copy(c->fd, MAP_FIXED_RW, c->ioas[1], &dst, c->ioas[0],
			    FI_IOVA, FI_PAGES * PS)) ?:
	       S(_ioas_unmap(c->fd, c->ioas[0], FI_IOVA, FI_PAGES * PS,
			     NULL)) ?:
	       S(_ioas_unmap(c->fd, c->ioas[1], FI_IOVA, FI_PAGES * PS,
			     NULL));
}

static int seq_attach_replace_hwpt(struct fi_ctx *c)
{
	return S(fi_open(c)) ?:
	       S(_ioas_alloc(c->fd, &c->ioas[0])) ?:
	       S(fi_map(c, c->ioas[0])) ?:
	       S(_ioas_alloc(c->fd, &c->ioas[1])) ?:
	       S(fi_map(c, c->ioas[1])) ?:
	       S(_mock_domain(c->fd, c->ioas[0], &c->stdev, NULL, &c->idev)) ?:
	       S(_hwpt_alloc(c->fd, c->idev, c->ioas[1], &c->hwpt)) ?:
	       S(_mock_domain_replace(c->fd, c->stdev, c->hwpt, NULL)) ?:
	       S(_mock_domain_replace(c->fd, c->stdev, c->ioas[0], NULL)) ?:
	       S(_destroy(c->fd, c->hwpt));
}

/*
 * map_file's memfd, made before the runs (shmem's own allocations, which
 * fail with its errnos, are not under test) and emptied before each run,
 * outside the injection, so that every run pins holes.
 */
static int fi_mfd = -1;

static void fi_memfd_empty(void)
{
	if (fi_mfd < 0)
		fi_mfd = memfd_create("iommufd-faults", MFD_CLOEXEC);
	if (fi_mfd < 0 || ftruncate(fi_mfd, 0) ||
	    ftruncate(fi_mfd, FI_PAGES * PS))
		abort();
}

static int fi_map_file(struct fi_ctx *c)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = MAP_FIXED_RW,
		.ioas_id = c->ioas[0],
		.fd = fi_mfd,
		.length = FI_PAGES * PS,
		.iova = FI_IOVA,
	};

	return iommufd_ioctl(c->fd, IOMMU_IOAS_MAP_FILE, &cmd);
}

static int fi_change_process(struct fi_ctx *c)
{
	struct iommu_ioas_change_process cmd = { .size = sizeof(cmd) };

	return iommufd_ioctl(c->fd, IOMMU_IOAS_CHANGE_PROCESS, &cmd);
}

static int seq_map_file(struct fi_ctx *c)
{
	unsigned char bytes[64] = { 0x5a };
	__u64 dst = FI_IOVA;

	return S(fi_open(c)) ?:
	       S(_ioas_alloc(c->fd, &c->ioas[0])) ?:
	       S(_mock_domain(c->fd, c->ioas[0], NULL, NULL, NULL)) ?:
	       S(fi_map_file(c)) ?:
	       S(_ioas_alloc(c->fd, &c->ioas[1])) ?:
	       S(_mock_domain(c->fd, c->ioas[1], NULL, NULL, NULL)) ?:
	       S(_ioas_copy(c->fd, MAP_FIXED_RW, c->ioas[1], &dst, c->ioas[0],
			    FI_IOVA, FI_PAGES * PS)) ?:
	       S(_create_access(c->fd, c->ioas[1], 0, &c->access)) ?:
	       S(_access_rw(c->fd, c->access, FI_IOVA + PS - 32, sizeof(bytes),
			    bytes, MOCK_ACCESS_RW_WRITE)) ?:
	       S(fi_change_process(c)) ?:
	       S(_ioas_unmap(c->fd, c->ioas[0], FI_IOVA, FI_PAGES * PS,
			     NULL));
}

static int seq_access_pin_rw(struct fi_ctx *c)
{
	unsigned char bytes[2 * 64];
	__u32 pages;

	return S(fi_open(c)) ?:
	       S(_ioas_alloc(c->fd, &c->ioas[0])) ?:
	       S(fi_map(c, c->ioas[0])) ?:
	       S(_ioas_alloc(c->fd, &c->ioas[1])) ?:
	       S(fi_map(c, c->ioas[1])) ?:
	       S(_create_access(c->fd, c->ioas[0], 0, &c->access)) ?:
	       S(_access_pages(c->fd, c->access, 0, FI_IOVA + PS, 4 * PS,
			       (char *)c->buf + PS, &pages)) ?:
	       S(_access_rw(c->fd, c->access, FI_IOVA + PS - 64, sizeof(bytes),
			    bytes, 0)) ?:
	       S(_access_rw(c->fd, c->access, FI_IOVA + 3 * PS - 64,
			    sizeof(bytes), bytes, MOCK_ACCESS_RW_WRITE)) ?:
	       S(_destroy_access_pages(c->fd, c->access, pages)) ?:
	       S(_access_replace_ioas(c->fd, c->access, c->ioas[1])) ?:
	       S(_access_pages(c->fd, c->access, 0, FI_IOVA, PS, c->buf, NULL));
}

/* the file of a failed run still does what a new one does */
static void fi_check_usable(struct __test_metadata *_metadata,
			    struct fi_ctx *c)
{
	__u32 ioas;

	if (c->fd < 0)
		return;
	ASSERT_EQ(0, _ioas_alloc(c->fd, &ioas));
	ASSERT_EQ(0, fi_map(c, ioas));
	ASSERT_EQ(0, _destroy(c->fd, ioas));
}

static void fi_close(struct fi_ctx *c)
{
	if (c->access >= 0)
		close(c->access);
	if (c->fd >= 0)
		close(c->fd);
}

/* FI_VERBOSE: run point @n again with stack dumps on, for the log */
static void fi_replay(struct fault_inject *fi, int (*seq)(struct fi_ctx *c),
		      unsigned int n, struct fi_ctx *failed)
{
	struct fi_ctx c = { .fd = -1, .access = -1, .buf = failed->buf };

	fi_close(failed);
	failed->fd = -1;
	failed->access = -1;
	fi_write_file(FI_DEBUGFS "/failslab/verbose", "2");
	fi_write_file(FI_DEBUGFS "/fail_page_alloc/verbose", "2");
	fi_arm(fi, n);
	seq(&c);
	fi_disarm(fi);
	fi_close(&c);
}

/*
 * Run @seq with the Nth injection point failing, N = 1, 2, ..., until a
 * run passes all of them; returns how many points that run passed.
 */
static unsigned int fi_run(struct __test_metadata *_metadata,
			   int (*seq)(struct fi_ctx *c), void (*prep)(void),
			   const char *name)
{
	struct iommufd_stats s0, s1;
	struct fault_inject fi;
	unsigned int n, failed = 0;
	void *buf;
	int stats_fd;

	if (fi_setup(&fi))
		SKIP(return 0, "no fault injection (fail-nth, debugfs)");
	buf = alloc_buffer(FI_PAGES * PS, 7);
	ASSERT_NE(NULL, buf);
	stats_fd = OPEN_IOMMUFD();
	ASSERT_EQ(0, _get_stats(stats_fd, &s0));

	for (n = 1; n < FI_MAX_POINTS; n++) {
		struct fi_ctx c = { .fd = -1, .access = -1, .buf = buf };
		int rc, fired;

		if (prep)
			prep();
		ASSERT_EQ(0, fi_arm(&fi, n));
		rc = seq(&c);
		fired = fi_disarm(&fi);
		ASSERT_LE(0, fired);
		if (rc) {
			/* only the injected failure may make a step fail */
			ASSERT_EQ(1, fired);
			if (rc != ENOMEM && rc != EFAULT) {
				TH_LOG("%s: point %u: the step at line %d failed with errno %d",
				       name, n, c.line, rc);
				if (getenv("FI_VERBOSE"))
					fi_replay(&fi, seq, n, &c);
			}
			ASSERT_TRUE(rc == ENOMEM || rc == EFAULT);
			failed++;
		}
		fi_check_usable(_metadata, &c);
		fi_close(&c);
		ASSERT_EQ(0, _get_stats(stats_fd, &s1));
		ASSERT_STATS_EQUAL(&s0, &s1);
		if (!fired)
			break;
	}
	fi_restore(&fi);
	close(stats_fd);
	munmap(buf, FI_PAGES * PS);
	ASSERT_GT(FI_MAX_POINTS, n);
	printf("# %s: %u injection points reached, %u made an ioctl fail\n",
	       name, n - 1, failed);
	/* the harness ends the test's process with _exit() */
	fflush(stdout);
	return n - 1;
}

/* every sequence allocates more than a handful of times */
#define FI_TEST(name, prep)						\
	TEST(name)							\
	{								\
		unsigned int __n = fi_run(_metadata, seq_##name, prep,	\
					  #name);			\
									\
		if (!_metadata->skip)					\
			EXPECT_LT(10U, __n);				\
	}

FI_TEST(map_unmap_copy, NULL)
FI_TEST(attach_replace_hwpt, NULL)
FI_TEST(access_pin_rw, NULL)
FI_TEST(map_file, fi_memfd_empty)

TEST_HARNESS_MAIN
