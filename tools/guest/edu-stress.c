// SPDX-License-Identifier: GPL-2.0-only
/*
 * edu-stress: concurrent stress with a real device. The edu alone in its
 * iommu_group is bound through its cdev; two IOASes map the same pages at
 * the same IOVAs, and HWPTs come and go on both. For a fixed time, with no
 * coordination beyond what is said here:
 *   - one thread has the edu copy a new pattern from the source IOVA into
 *     its buffer and back to the destination IOVA, and checks every byte
 *     of the pages around: whatever page table the device is on, it must
 *     reach those pages and no other;
 *   - one replaces the device's page table (ATTACH_IOMMUFD_PT) among the
 *     IOASes and the HWPTs, and now and then detaches it and attaches it
 *     again (while no DMA runs: a detached device's DMA is blocked);
 *   - one allocates HWPTs on either IOAS and destroys them, attached or not;
 *   - two map, copy and unmap other memory at other IOVAs in both IOASes;
 *   - one pins and reads that memory through a mock access, and replaces
 *     the access' IOAS;
 *   - one opens a second iommufd, maps, pins through an access, and closes
 *     it with everything in place.
 *
 * The DMA's pages: the source and the destination, each between two guard
 * pages at the IOVAs next to it, all six mapped one by one in both IOASes
 * and filled with text naming the page and the offset ("dst-lo  0a30").
 * A round reads the source's first half (2048 bytes, the edu's limit is
 * its 4 KiB buffer) into the edu and writes it to the destination's second
 * half; the two halves differ so that bytes read from the destination
 * itself are told from a blocked write. Each round ends as one of:
 *   done:       the destination holds this round's data, nothing else moved;
 *   blocked:    VT-d stopped the read or the write: the destination is
 *               unchanged, or holds what a blocked read gives (zeros), or
 *               what the edu's buffer held before, or it is torn (see
 *               torn()): its own bytes, then zeros, then the tail of this
 *               round's data; allowed (6.1's VT-d faults DMA during a
 *               replace, see the end of main());
 *   timed out:  the edu still busy 120 s after the start of a move;
 *   wrong page: any other byte changed (a guard, the source, the first half
 *               of the destination), the destination holds bytes of
 *               another page (named) or unknown ones, or the CPU's view of
 *               one of the six pages moved to another page frame
 *               (/proc/self/pagemap) while the device's stayed pinned.
 * A round that is not done prints TAP diagnostics: the first differing
 * bytes and whose they are, the page table steps since the last completed
 * attach (the replace thread logs each) and the kernel's DMAR lines
 * (/dev/kmsg) since the round before; blocked rounds tersely, saying
 * whether VT-d logged a fault at the IOVA they lost. Wrong and timed-out
 * rounds fail the run; after a timeout no round runs (a busy edu ignores
 * new commands).
 *
 * Any errno other than those a serial order gives fails the run; at the
 * end the DMA must still work, and once everything is closed nothing may
 * stay pinned (IOMMU_TEST_CMD STATS: needs CONFIG_IOMMUFD_TEST) and
 * VmPin/VmLck must be 0. Operations per second are printed, never
 * checked. The time is the second argument, else IOMMUFD_STRESS_SECONDS,
 * else 20 s. Prints TAP.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>

#include "edu.h"
#include "../../iommufd_test.h"

#define PG 4096
#define SLOTS 16
#define SLOT_IOVA(s) (0x20000000ULL + (__u64)(s) * 0x10000)
#define HWPTS 4

/* a move that is not over this long after it started is stuck */
#define STUCK_SECS 120

enum { T_DMA, T_REPLACE, T_HWPT, T_MAP1, T_MAP2, T_ACCESS, T_CHURN, T_NR };
static const char *const t_name[T_NR] = {
	"dma", "replace/detach", "hwpt alloc/destroy", "map/copy/unmap",
	"map/copy/unmap", "access pin/rw", "open/fill/close",
};

/*
 * The pages of the DMA, in this order in one buffer; each is mapped on its
 * own at its IOVA. A region is half a page, XFER bytes: region r is half
 * r % 2 of page r / 2. The edu reads REG_DATA and writes REG_TARGET.
 */
enum { P_SRC_LO, P_SRC, P_SRC_HI, P_DST_LO, P_DST, P_DST_HI, P_NR };
#define REGIONS (2 * P_NR)
#define REG_DATA (2 * P_SRC)
#define REG_TARGET (2 * P_DST + 1)

static const struct {
	const char *tag;	/* the text its bytes repeat */
	const char *name;
	__u64 iova;
} page_info[P_NR] = {
	{ "src-lo", "the guard below the source", IOVA_SRC - PG },
	{ "src", "the source", IOVA_SRC },
	{ "src-hi", "the guard above the source", IOVA_SRC + PG },
	{ "dst-lo", "the guard below the destination", IOVA_DST - PG },
	{ "dst", "the destination", IOVA_DST },
	{ "dst-hi", "the guard above the destination", IOVA_DST + PG },
};

enum { DONE, BLOCKED, TIMED_OUT, WRONG, OUTCOMES };

/*
 * Where the device's DMA goes, as a 64-bit log entry: bits 0-31 the page
 * table's ID, bit 32 which IOAS (of a HWPT: the one it was made on), bits
 * 33-34 its kind, bits 35-36 the phase of the step, bits 37-63 the step's
 * sequence number, so that a reader can tell an entry overwritten since.
 */
enum { PT_NONE, PT_IOAS, PT_HWPT };		/* kind */
enum { PT_BEGIN, PT_DONE, PT_FAILED };		/* phase */
#define PT_LOG 64
#define PT_ID(e) ((__u32)(e))
#define PT_WHICH(e) ((unsigned int)((e) >> 32) & 1)
#define PT_KIND(e) ((unsigned int)((e) >> 33) & 3)
#define PT_PHASE(e) ((unsigned int)((e) >> 35) & 3)
#define PT_SEQ(e) ((e) >> 37)
#define PT_SEQ_MASK ((1ULL << 27) - 1)

/* how many rounds' data the edu's buffer may still hold */
#define OLD_SEEDS 8
/* blocked rounds told about: with all evidence, in one line */
#define BLOCKED_FULL 3
#define BLOCKED_TOLD 20
/* DMAR lines kept for a round, and their length */
#define FAULT_LINES 8
#define FAULT_LEN 200

static struct {
	int iommufd, dev, fd_stats, kmsg, pagemap;
	__u32 ioas[2], devid;
	/* pt_where() of each HWPT made, 0 for none */
	atomic_ullong hwpt[HWPTS];
	struct edu e;
	unsigned char *pages, *mem;
	pthread_rwlock_t dma_lock;	/* held for reading by each DMA */
	struct timespec end;
	time_t hard_end;
	atomic_ulong ops[T_NR];
	atomic_ulong refused[T_NR];
	atomic_ulong dma[OUTCOMES];
	atomic_int dma_stuck;
	/*
	 * The page table steps, g.pt_seq the last one's number (the first is
	 * 1). Written by main while no other thread runs, by the replace
	 * thread meanwhile; read by whoever runs a DMA.
	 */
	atomic_ullong pt_log[PT_LOG];
	atomic_ulong pt_seq;
	/* of the DMA thread (and of main's last round) */
	unsigned long fault_lines, lost_records, blocked_unlogged;
	unsigned long done_logged, torn;
	/* the DMA's pages' frames at the start */
	__u64 pfn[P_NR];
	atomic_ulong unexpected;
	atomic_int first_err;
	atomic_int first_thread;
} g;

/* what the DMA's pages hold before each round, but for the source data */
static unsigned char image[P_NR * PG];

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * Over once the time has passed and each thread has had a call succeed
 * and a DMA come back whole (a slow host may take longer to get there;
 * a stuck edu never will), or at ten times the time, when the checks
 * then fail.
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
	if (!g.dma[DONE] && !g.dma_stuck)
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

static __u64 pt_where(unsigned int kind, unsigned int which, __u32 id)
{
	return (__u64)id | (__u64)which << 32 | (__u64)kind << 33;
}

static __u64 ioas_pt(unsigned int which)
{
	return pt_where(PT_IOAS, which, g.ioas[which]);
}

/* log a step; one writer at a time */
static void pt_note(__u64 where, unsigned int phase)
{
	unsigned long s = g.pt_seq + 1;

	g.pt_log[s % PT_LOG] = where | (__u64)phase << 35 |
			       (__u64)(s & PT_SEQ_MASK) << 37;
	g.pt_seq = s;
}

/* attach to @where (a replace if attached), logged; the errno or 0 */
static int attach_noted(__u64 where)
{
	struct vfio_device_attach_iommufd_pt at = {
		.argsz = sizeof(at),
		.pt_id = PT_ID(where),
	};
	int err;

	pt_note(where, PT_BEGIN);
	err = err_of(ioctl(g.dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
	pt_note(where, err ? PT_FAILED : PT_DONE);
	return err;
}

static int detach_noted(void)
{
	struct vfio_device_detach_iommufd_pt dt = { .argsz = sizeof(dt) };
	int err;

	pt_note(pt_where(PT_NONE, 0, 0), PT_BEGIN);
	err = err_of(ioctl(g.dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt));
	pt_note(pt_where(PT_NONE, 0, 0), err ? PT_FAILED : PT_DONE);
	return err;
}

static __u64 any_pt(__u64 *r)
{
	unsigned int i = rnd(r, 2 + HWPTS);
	__u64 w;

	if (i < 2)
		return ioas_pt(i);
	w = g.hwpt[i - 2];
	return w ? w : ioas_pt(0);
}

static void pt_name(__u64 e, char *out, size_t size)
{
	char which = 'A' + PT_WHICH(e);

	if (PT_KIND(e) == PT_IOAS)
		snprintf(out, size, "IOAS %c (ID %u)", which, PT_ID(e));
	else
		snprintf(out, size, "HWPT %u made on IOAS %c", PT_ID(e), which);
}

/* step @i of the log, in words; 0 if it was overwritten since */
static int pt_step(unsigned long i, char *out, size_t size)
{
	static const char *const what[3] = {
		"attaching to ", "on ", "failed to attach to ",
	};
	__u64 e = g.pt_log[i % PT_LOG];
	char name[48];

	if (!i || PT_SEQ(e) != (i & PT_SEQ_MASK))
		return 0;
	if (PT_KIND(e) == PT_NONE) {
		snprintf(out, size, "%s", PT_PHASE(e) == PT_BEGIN ? "detaching" :
			 PT_PHASE(e) == PT_DONE ? "detached" : "detach failed");
		return 1;
	}
	pt_name(e, name, sizeof(name));
	snprintf(out, size, "%s%s", what[PT_PHASE(e) % 3], name);
	return 1;
}

/* the page table of a round that began after step @s0 and ended at @s1 */
static void print_pt(unsigned long s0, unsigned long s1)
{
	unsigned long i, from = s0;
	char step[96];

	if (s0 == s1 && pt_step(s0, step, sizeof(step)) &&
	    PT_PHASE(g.pt_log[s0 % PT_LOG]) == PT_DONE) {
		printf("#   page table: %s all along\n", step);
		return;
	}
	/* from the last step that completed an attach before the round */
	while (from > 1 && s0 - from < 4 &&
	       PT_PHASE(g.pt_log[from % PT_LOG]) != PT_DONE)
		from--;
	printf("#   page table: %lu step(s) during the round; since the last completed one:\n",
	       s1 - s0);
	for (i = from; i <= s1; i++) {
		/* the first seven and the last six */
		if (i == from + 7 && s1 - i > 6) {
			printf("#     ... %lu more\n", s1 - 5 - i);
			i = s1 - 6;
			continue;
		}
		if (!pt_step(i, step, sizeof(step)))
			snprintf(step, sizeof(step), "(overwritten since)");
		printf("#     %s step %lu: %s\n", i <= s0 ? "before" : "during",
		       i, step);
	}
}

/* in one line: where the device was during a round */
static void pt_summary(unsigned long s0, unsigned long s1, char *out,
		       size_t size)
{
	char step[96];

	if (!pt_step(s1, step, sizeof(step)))
		snprintf(step, sizeof(step), "?");
	if (s0 == s1)
		snprintf(out, size, "%s all along", step);
	else
		snprintf(out, size, "%lu step(s) during it, the last: %s",
			 s1 - s0, step);
}

/* each page's bytes: its tag and the offset, 16 bytes for every 16 */
static void make_image(void)
{
	char chunk[32];
	unsigned int p, o;

	for (p = 0; p < P_NR; p++)
		for (o = 0; o < PG; o += 16) {
			snprintf(chunk, sizeof(chunk), "%-8.8s%04x    ",
				 page_info[p].tag, o);
			memcpy(image + p * PG + o, chunk, 16);
		}
}

static void region_name(unsigned int r, char *out, size_t size)
{
	snprintf(out, size, "%s, %s half (IOVA 0x%llx)",
		 page_info[r / 2].name, r % 2 ? "second" : "first",
		 (unsigned long long)page_info[r / 2].iova + r % 2 * XFER);
}

/*
 * What a region may hold after round @n, by index: C_DATA the round's
 * source data; C_DATA + k that of round n - k (k <= OLD_SEEDS), which
 * only the edu's buffer can still hold; all zero bytes, as a read that
 * VT-d blocks gives, or all one bytes; C_REGION + r what region r held
 * before the round (there is no such thing for REG_DATA).
 */
enum {
	C_DATA,
	C_ZERO = C_DATA + OLD_SEEDS + 1,
	C_ONES,
	C_REGION,
	CANDIDATES = C_REGION + REGIONS,
};

static unsigned int seed_of(unsigned int n)
{
	return 100 + n;
}

static const unsigned char *candidate(int i, unsigned int n,
				      unsigned char *buf)
{
	if (i < C_ZERO) {
		if ((unsigned int)i > n)
			return NULL;
		fill(buf, XFER, seed_of(n - i));
		return buf;
	}
	if (i == C_ZERO || i == C_ONES) {
		memset(buf, i == C_ZERO ? 0 : 0xff, XFER);
		return buf;
	}
	if (i - C_REGION == REG_DATA)
		return NULL;
	return image + (i - C_REGION) * XFER;
}

static void candidate_name(int i, unsigned int n, char *out, size_t size)
{
	char r[96];

	if (i == C_DATA) {
		snprintf(out, size, "round %u's source data", n);
	} else if (i < C_ZERO) {
		snprintf(out, size,
			 "round %u's source data, as the edu's buffer held it before",
			 n - i);
	} else if (i == C_ZERO || i == C_ONES) {
		snprintf(out, size, "all %s bytes",
			 i == C_ZERO ? "zero" : "0xff");
	} else {
		region_name(i - C_REGION, r, sizeof(r));
		snprintf(out, size, "the bytes of %s", r);
	}
}

/*
 * Which candidate the XFER bytes at @p are; else -1, and *@best the one
 * that shares most bytes with them, *@same how many.
 */
static int identify(const unsigned char *p, unsigned int n, int *best,
		    size_t *same)
{
	unsigned char buf[XFER];
	int i;

	*best = -1;
	*same = 0;
	for (i = 0; i < CANDIDATES; i++) {
		const unsigned char *c = candidate(i, n, buf);
		size_t k, eq = 0;

		if (!c)
			continue;
		if (!memcmp(p, c, XFER))
			return i;
		for (k = 0; k < XFER; k++)
			eq += p[k] == c[k];
		if (eq > *same) {
			*best = i;
			*same = eq;
		}
	}
	return -1;
}

/* what the bytes at @p are, in words */
static void whose(const unsigned char *p, unsigned int n, char *out,
		  size_t size)
{
	char name[160];
	size_t same;
	int best, c = identify(p, n, &best, &same);

	if (c >= 0) {
		candidate_name(c, n, name, sizeof(name));
		snprintf(out, size, "%s", name);
	} else if (best >= 0) {
		candidate_name(best, n, name, sizeof(name));
		snprintf(out, size, "unknown; closest: %s (%zu of %d bytes)",
			 name, same, XFER);
	} else {
		snprintf(out, size, "unknown");
	}
}

#define SHOW 16
#define SHOW_SIZE (SHOW * 4 + 4)

/* up to SHOW bytes at @p as hex and as text */
static char *show(char *out, const unsigned char *p, size_t len)
{
	char *o = out;
	size_t i;

	if (len > SHOW)
		len = SHOW;
	for (i = 0; i < len; i++)
		o += sprintf(o, "%02x ", p[i]);
	*o++ = '"';
	for (i = 0; i < len; i++)
		*o++ = isprint(p[i]) && p[i] != '@' ? (char)p[i] : '.';
	*o++ = '"';
	*o = 0;
	return out;
}

/*
 * A torn move. QEMU moves a DMA that VT-d refuses a few bytes at a time,
 * asking VT-d again for each piece, and all the rest in one piece as soon
 * as a translation succeeds; a replace that completes meanwhile lets the
 * tail through. Then the destination holds its own bytes up to some point
 * (the write refused until then), zero bytes up to another (the read
 * refused until then: a refused read gives zeros) and this round's data
 * from there on, at their own offsets; any part may be empty. True if the
 * XFER bytes at @seen are that, with where the first two parts end in
 * *@kept and *@zeros.
 */
static int torn(const unsigned char *seen, const unsigned char *data,
		const unsigned char *old, size_t *kept, size_t *zeros)
{
	size_t d = XFER, z;

	while (d && seen[d - 1] == data[d - 1])
		d--;
	for (z = d; z && !seen[z - 1]; z--)
		;
	if (memcmp(seen, old, z))
		return 0;
	*kept = z;
	*zeros = d;
	return 1;
}

/*
 * torn() on made-up bytes: it takes each shape a torn move leaves, and
 * none a wrong page could: data before kept bytes, or data at another
 * offset. 1 if it answered each right.
 */
static int torn_self_test(void)
{
	static unsigned char seen[XFER];
	const unsigned char *old = image + REG_TARGET * XFER;
	unsigned char data[XFER];
	size_t kept, zeros;
	int good = 1;

	fill(data, XFER, seed_of(7));
	/* a write refused for its first 1800 bytes */
	memcpy(seen, old, 1800);
	memcpy(seen + 1800, data + 1800, XFER - 1800);
	good &= torn(seen, data, old, &kept, &zeros) && kept == 1800 &&
		zeros == 1800;
	/* ... and a read refused for its first 2000 */
	memset(seen + 1800, 0, 200);
	good &= torn(seen, data, old, &kept, &zeros) && kept == 1800 &&
		zeros == 2000;
	/* a read refused for its first 600, the write whole */
	memset(seen, 0, 600);
	memcpy(seen + 600, data + 600, XFER - 600);
	good &= torn(seen, data, old, &kept, &zeros) && !kept &&
		zeros == 600;
	/* data, then kept bytes: no QEMU move leaves that */
	memcpy(seen, data, 1000);
	memcpy(seen + 1000, old + 1000, XFER - 1000);
	good &= !torn(seen, data, old, &kept, &zeros);
	/* data 16 bytes off its place */
	memcpy(seen, old, 1000);
	memcpy(seen + 1000, data + 1016, XFER - 1016);
	memcpy(seen + XFER - 16, data + 1000, 16);
	good &= !torn(seen, data, old, &kept, &zeros);
	return good;
}

#define RUNS_TOLD 12

/*
 * Each run of bytes of region @r that differ from @want (a run ends at 8
 * equal bytes), with the candidate that holds the most of its bytes at
 * the same offsets.
 */
static void print_runs(unsigned int r, const unsigned char *want,
		       unsigned int n)
{
	const unsigned char *seen = g.pages + r * XFER;
	unsigned char buf[XFER];
	char hex[SHOW_SIZE], name[160];
	size_t a, b, last, k, runs = 0;
	int i;

	for (a = 0; a < XFER; a = b) {
		size_t best_eq = 0;
		int best = -1;

		b = a + 1;
		if (seen[a] == want[a])
			continue;
		for (last = a; b < XFER && b - last <= 8; b++)
			if (seen[b] != want[b])
				last = b;
		b = last + 1;
		if (runs++ == RUNS_TOLD) {
			printf("#     (more runs not told)\n");
			break;
		}
		for (i = 0; i < CANDIDATES; i++) {
			const unsigned char *c = candidate(i, n, buf);
			size_t eq = 0;

			if (!c)
				continue;
			for (k = a; k < b; k++)
				eq += seen[k] == c[k];
			if (eq > best_eq) {
				best = i;
				best_eq = eq;
			}
		}
		if (best >= 0)
			candidate_name(best, n, name, sizeof(name));
		else
			snprintf(name, sizeof(name), "nothing known");
		printf("#     run +0x%03zx..+0x%03zx (%zu bytes): %s\n", a, b - 1,
		       b - a, show(hex, seen + a, b - a));
		printf("#       most like %s (%zu of %zu bytes)\n", name,
		       best_eq, b - a);
	}
}

/*
 * The page frame each of the DMA's pages is at, as /proc/self/pagemap
 * says (0 if unknown: not root, or not present): the CPU and the device
 * must go on seeing the same frames.
 */
static void read_pfns(__u64 *pfn)
{
	__u64 e[P_NR];
	off_t at = (off_t)((uintptr_t)g.pages / PG) * 8;
	int p;

	if (g.pagemap < 0 ||
	    pread(g.pagemap, e, sizeof(e), at) != (ssize_t)sizeof(e))
		memset(e, 0, sizeof(e));
	for (p = 0; p < P_NR; p++)
		pfn[p] = e[p] >> 63 ? e[p] & ((1ULL << 55) - 1) : 0;
}

/* how region @r differs from @want after round @n */
static void print_diff(unsigned int r, const unsigned char *want,
		       unsigned int n)
{
	const unsigned char *seen = g.pages + r * XFER;
	size_t i, first = XFER, diff = 0;
	char name[96], a[SHOW_SIZE], b[SHOW_SIZE], w[256];

	for (i = 0; i < XFER; i++)
		if (seen[i] != want[i]) {
			if (first == XFER)
				first = i;
			diff++;
		}
	region_name(r, name, sizeof(name));
	whose(seen, n, w, sizeof(w));
	printf("#   %s: %zu of %d bytes differ, the first at +0x%zx\n", name,
	       diff, XFER, first);
	printf("#     expected %s\n", show(a, want + first, XFER - first));
	printf("#     seen     %s\n", show(b, seen + first, XFER - first));
	printf("#     what it holds: %s\n", w);
}

/* the start of the line @msg, printable, into @out */
static void keep_line(char *out, const char *msg)
{
	size_t i;

	for (i = 0; i + 1 < FAULT_LEN && msg[i]; i++)
		out[i] = isprint((unsigned char)msg[i]) ? msg[i] : '.';
	out[i] = 0;
}

/*
 * Reads the DMAR lines the kernel logged since the last call: how many
 * into *@n, the first FAULT_LINES into @line, whether one says "fault
 * addr" @iova into *@at_iova (0 for none).
 */
static void faults_read(unsigned int *n, char line[][FAULT_LEN], __u64 iova,
			int *at_iova)
{
	static char rec[8192];
	char want[48];

	*n = 0;
	*at_iova = 0;
	if (g.kmsg < 0)
		return;
	snprintf(want, sizeof(want), "fault addr 0x%llx",
		 (unsigned long long)iova);
	for (;;) {
		ssize_t len = read(g.kmsg, rec, sizeof(rec) - 1);
		char *msg, *eol;

		if (len < 0 && errno == EPIPE) {
			g.lost_records++;
			continue;
		}
		if (len <= 0)
			break;
		rec[len] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		eol = strchr(msg, '\n');
		if (eol)
			*eol = 0;
		if (!strstr(msg, "DMAR") && !strstr(msg, "DMA Remapping"))
			continue;
		if (iova && strstr(msg, want))
			*at_iova = 1;
		if (*n < FAULT_LINES)
			keep_line(line[*n], msg);
		(*n)++;
	}
	g.fault_lines += *n;
}

static void print_faults(unsigned int n, char line[][FAULT_LEN])
{
	unsigned int i;

	if (g.kmsg < 0) {
		printf("#   DMAR lines: unknown (no /dev/kmsg)\n");
		return;
	}
	printf("#   DMAR lines logged since the round before: %u%s\n", n,
	       n ? "" : " (the kernel logs at most 10 per 5 s)");
	for (i = 0; i < n && i < FAULT_LINES; i++)
		printf("#     %s\n", line[i]);
	if (n > FAULT_LINES)
		printf("#     ... %u more\n", n - FAULT_LINES);
}

/* the edu's registers and PCI command, for a move that never finished */
static void print_edu(void)
{
	__u32 id = rd32(&g.e, EDU_ID);
	__u16 cmd = 0;

	if (pread(g.e.dev, &cmd, 2, g.e.config + PCI_COMMAND) != 2)
		cmd = 0xffff;
	printf("#   edu: ID 0x%08x%s, DMA command 0x%x\n", id,
	       id == 0xffffffff ? " (BAR0 reads all ones)" : "",
	       rd32(&g.e, EDU_DMA_CMD));
	printf("#   edu DMA: source 0x%x, destination 0x%x, count 0x%x\n",
	       rd32(&g.e, EDU_DMA_SRC), rd32(&g.e, EDU_DMA_DST),
	       rd32(&g.e, EDU_DMA_CNT));
	printf("#   PCI_COMMAND 0x%04x: memory %s, bus master %s\n", cmd,
	       cmd & PCI_COMMAND_MEMORY ? "on" : "off",
	       cmd & PCI_COMMAND_MASTER ? "on" : "off");
}

/*
 * One edu DMA of XFER bytes: 0 once the device says it is done, -1 if it
 * is still busy STUCK_SECS after the start. edu_dma() gives up after 60 s;
 * then the device gets as long again: the state of a busy edu is read
 * only after the time was, so a thread that slept through the bound can
 * not call a finished move stuck. *@secs: how long it took.
 */
static int edu_move(__u64 from, __u64 to, int to_ram, double *secs)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (edu_dma(&g.e, from, to, XFER, to_ram)) {
		for (;;) {
			int late = since(&t0) > STUCK_SECS;

			if (!(rd32(&g.e, EDU_DMA_CMD) & EDU_CMD_START))
				break;
			if (late) {
				*secs = since(&t0);
				return -1;
			}
			usleep(10 * 1000);
		}
	}
	*secs = since(&t0);
	return 0;
}

/*
 * Round @n: the source's first half gets the round's data, the edu copies
 * it into its buffer and from there to the destination's second half, and
 * every region of the six pages is checked. Returns the outcome; a round
 * that is not done says why (blocked ones only the first BLOCKED_TOLD).
 */
static int dma_round(unsigned int n)
{
	static const char *const move_name[2] = { "read", "write" };
	static const char *const out_name[OUTCOMES] = {
		"done", "blocked", "TIMED OUT", "WRONG PAGE",
	};
	static unsigned int blocked_told;
	const unsigned char *target = g.pages + REG_TARGET * XFER;
	char line[FAULT_LINES][FAULT_LEN], why[320], name[240], pt[160];
	unsigned char data[XFER];
	unsigned int r, moved = 0, nfaults;
	unsigned long s0, s1;
	double secs[2] = { 0, 0 };
	int stuck = -1, out = DONE, c, best, fault_at, p, moved_pfn = -1;
	__u64 fault_iova = 0, pfn[P_NR];
	size_t same, kept, zeros;
	int was_torn = 0;

	fill(data, XFER, seed_of(n));
	memcpy(g.pages, image, sizeof(image));
	memcpy(g.pages + REG_DATA * XFER, data, XFER);
	s0 = g.pt_seq;
	if (edu_move(IOVA_SRC, EDU_BUF, 0, &secs[0]))
		stuck = 0;
	else if (edu_move(EDU_BUF, IOVA_DST + XFER, 1, &secs[1]))
		stuck = 1;
	s1 = g.pt_seq;

	/* the edu writes the target only: all else is as it was */
	for (r = 0; r < REGIONS; r++)
		if (r != REG_TARGET &&
		    memcmp(g.pages + r * XFER,
			   r == REG_DATA ? data : image + r * XFER, XFER))
			moved |= 1U << r;
	read_pfns(pfn);
	for (p = 0; p < P_NR; p++)
		if (pfn[p] != g.pfn[p] && moved_pfn < 0)
			moved_pfn = p;

	if (stuck >= 0) {
		out = TIMED_OUT;
		snprintf(why, sizeof(why),
			 "the edu's %s was not over %.0f s after it started",
			 move_name[stuck], secs[stuck]);
	} else if (moved_pfn >= 0) {
		out = WRONG;
		snprintf(why, sizeof(why),
			 "the CPU sees %s at page frame 0x%llx now, not 0x%llx",
			 page_info[moved_pfn].name,
			 (unsigned long long)pfn[moved_pfn],
			 (unsigned long long)g.pfn[moved_pfn]);
	} else if (moved) {
		out = WRONG;
		snprintf(why, sizeof(why),
			 "bytes changed outside the destination's second half");
	} else {
		c = identify(target, n, &best, &same);
		if (c == C_DATA) {
			out = DONE;
		} else if (c == C_REGION + REG_TARGET) {
			out = BLOCKED;
			fault_iova = IOVA_DST;
			snprintf(why, sizeof(why),
				 "the write was blocked: the destination is unchanged");
		} else if (c == C_ZERO || c == C_ONES) {
			out = BLOCKED;
			fault_iova = IOVA_SRC;
			snprintf(why, sizeof(why),
				 "the read was blocked: the destination holds all %s bytes",
				 c == C_ZERO ? "zero" : "0xff");
		} else if (c > C_DATA && c < C_ZERO) {
			out = BLOCKED;
			fault_iova = IOVA_SRC;
			snprintf(why, sizeof(why),
				 "the read was blocked: the destination holds round %u's data, still in the edu's buffer",
				 n - c);
		} else if (c < 0 && torn(target, data,
					 image + REG_TARGET * XFER, &kept,
					 &zeros)) {
			out = BLOCKED;
			g.torn++;
			was_torn = 1;
			fault_iova = kept ? IOVA_DST : IOVA_SRC;
			snprintf(why, sizeof(why),
				 "torn: the destination kept its first %zu bytes, then holds %zu zero bytes, then the last %zu of this round's data",
				 kept, zeros - kept, (size_t)XFER - zeros);
		} else if (c >= C_REGION) {
			out = WRONG;
			region_name(c - C_REGION, name, sizeof(name));
			snprintf(why, sizeof(why),
				 "the edu read %s instead of the source", name);
		} else {
			out = WRONG;
			whose(target, n, name, sizeof(name));
			snprintf(why, sizeof(why),
				 "the destination holds bytes of no known page: %s",
				 name);
		}
	}

	/* the kernel logs a fault a little after it happened */
	if (out != DONE)
		usleep(300 * 1000);
	faults_read(&nfaults, line, fault_iova, &fault_at);

	if (stuck < 0 && (secs[0] > 60 || secs[1] > 60))
		printf("# round %u: the edu's moves took %.0f s and %.0f s (slow, not a failure)\n",
		       n, secs[0], secs[1]);
	if (out == DONE) {
		if (nfaults && g.done_logged++ < BLOCKED_FULL) {
			printf("# round %u: done, and DMAR lines were logged\n",
			       n);
			print_pt(s0, s1);
			print_faults(nfaults, line);
		}
		fflush(stdout);
		return out;
	}
	if (out == BLOCKED) {
		if (!fault_at)
			g.blocked_unlogged++;
		/* torn rounds are rare: each is told */
		if (blocked_told >= BLOCKED_TOLD && !was_torn)
			return out;
		pt_summary(s0, s1, pt, sizeof(pt));
		printf("# round %u: blocked: %s; page table: %s; %u DMAR line(s)%s\n",
		       n, why, pt, nfaults,
		       fault_at ? "" : ", none at the blocked IOVA");
		if (blocked_told < BLOCKED_FULL) {
			print_pt(s0, s1);
			print_faults(nfaults, line);
		}
		if (++blocked_told == BLOCKED_TOLD)
			printf("# (no more blocked rounds will be told)\n");
		fflush(stdout);
		return out;
	}

	printf("# round %u: %s: %s\n", n, out_name[out], why);
	printf("#   moves: read %.1f s, write %.1f s\n", secs[0], secs[1]);
	print_pt(s0, s1);
	for (r = 0; r < REGIONS; r++)
		if (moved & 1U << r) {
			print_diff(r, r == REG_DATA ? data : image + r * XFER,
				   n);
			print_runs(r, r == REG_DATA ? data : image + r * XFER,
				   n);
		}
	if (out == WRONG && !moved) {
		print_diff(REG_TARGET, data, n);
		print_runs(REG_TARGET, image + REG_TARGET * XFER, n);
	}
	if (moved_pfn >= 0)
		for (p = 0; p < P_NR; p++)
			printf("#   %s: page frame 0x%llx at the start, 0x%llx now\n",
			       page_info[p].name, (unsigned long long)g.pfn[p],
			       (unsigned long long)pfn[p]);
	if (out == TIMED_OUT || moved) {
		whose(target, n, name, sizeof(name));
		printf("#   the destination's second half holds: %s\n", name);
	}
	if (out == TIMED_OUT)
		print_edu();
	print_faults(nfaults, line);
	if (out == TIMED_OUT && !nfaults)
		printf("#   no DMAR line either: nothing explains the timeout\n");
	fflush(stdout);
	return out;
}

static void *t_dma(void *arg)
{
	(void)arg;
	while (!over()) {
		unsigned int n = g.ops[T_DMA];
		int out;

		pthread_rwlock_rdlock(&g.dma_lock);
		out = dma_round(n);
		pthread_rwlock_unlock(&g.dma_lock);
		g.dma[out]++;
		g.ops[T_DMA]++;
		if (out == TIMED_OUT) {
			/* a busy edu ignores new commands: nothing to check */
			printf("# no more DMA rounds: the edu is stuck\n");
			g.dma_stuck = 1;
			break;
		}
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
			count(T_REPLACE, detach_noted());
			count(T_REPLACE, attach_noted(ioas_pt(rnd(&r, 2))));
			pthread_rwlock_unlock(&g.dma_lock);
			continue;
		}
		count(T_REPLACE, attach_noted(any_pt(&r)));
	}
	return NULL;
}

static void *t_hwpt(void *arg)
{
	__u64 r = 0x2345678;

	(void)arg;
	while (!over()) {
		unsigned int k = rnd(&r, HWPTS);
		__u64 w = g.hwpt[k];

		if (w) {
			struct iommu_destroy d = {
				.size = sizeof(d),
				.id = PT_ID(w),
			};
			int err = err_of(ioctl(g.iommufd, IOMMU_DESTROY, &d));

			count(T_HWPT, err);
			if (err != EBUSY)
				g.hwpt[k] = 0;
		} else {
			unsigned int i = rnd(&r, 2);
			struct iommu_hwpt_alloc a = {
				.size = sizeof(a),
				.dev_id = g.devid,
				.pt_id = g.ioas[i],
			};
			int err = err_of(ioctl(g.iommufd, IOMMU_HWPT_ALLOC, &a));

			count(T_HWPT, err);
			if (!err)
				g.hwpt[k] = pt_where(PT_HWPT, i, a.out_hwpt_id);
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
	char path[PATH_MAX], msg[256];
	double el;
	__u64 base;
	int i, p;

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
	make_image();
	ok(torn_self_test(),
	   "the classifier takes a torn move as blocked, and no wrong page");
	g.pages = anon_buffer(P_NR * PG);
	g.mem = anon_buffer(SLOTS * PG);
	for (i = 0; i < 2; i++) {
		if (ioctl(g.iommufd, IOMMU_IOAS_ALLOC, &alloc))
			die("IOMMU_IOAS_ALLOC");
		g.ioas[i] = alloc.out_ioas_id;
		for (p = 0; p < P_NR; p++)
			if (map_native(g.iommufd, g.ioas[i], g.pages + p * PG,
				       page_info[p].iova, PG))
				die("map the DMA's pages");
	}
	if (attach_noted(ioas_pt(0)))
		die("ATTACH_IOMMUFD_PT");
	edu_setup(&g.e, g.dev);
	pthread_rwlock_init(&g.dma_lock, NULL);
	g.pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	read_pfns(g.pfn);
	g.kmsg = kmsg_open();
	if (g.kmsg < 0)
		printf("# /dev/kmsg: %s: DMAR faults can't be shown\n",
		       strerror(errno));

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
	printf("# blocked rounds with no DMAR line at the blocked IOVA: %lu\n",
	       g.blocked_unlogged);
	printf("# torn rounds (counted as blocked): %lu\n", g.torn);
	printf("# DMAR lines: %lu in all, %lu done round(s) with some, %lu log records lost\n",
	       g.fault_lines, g.done_logged, g.lost_records);

	/*
	 * 6.1's VT-d clears the device's context entry before it writes the
	 * new one: a DMA in that moment faults, which is allowed (it reaches
	 * no page at all). Reaching a wrong page is not. Nor is a timeout,
	 * DMAR fault logged or not: QEMU's edu ends a move on a timer 100 ms
	 * after it starts, whether VT-d lets it through or not (a blocked
	 * access moves no data, it does not stall), so neither a replace nor
	 * a fault can hold it up; an edu still busy 120 s on means a wedged
	 * device or VM, and that round printed what it saw.
	 */
	snprintf(msg, sizeof(msg),
		 "%lu DMA round trips: none reached a wrong page or timed out (%lu done, %lu blocked, %lu timed out, %lu wrong page)",
		 (unsigned long)g.ops[T_DMA], (unsigned long)g.dma[DONE],
		 (unsigned long)g.dma[BLOCKED],
		 (unsigned long)g.dma[TIMED_OUT], (unsigned long)g.dma[WRONG]);
	ok(g.ops[T_DMA] > 0 && !g.dma[WRONG] && !g.dma[TIMED_OUT], msg);
	ok(g.dma[DONE] > 0, "some DMA round trips came back whole");
	if (g.unexpected)
		printf("# %lu unexpected errnos; the first: %s gave %s\n",
		       (unsigned long)g.unexpected, t_name[g.first_thread],
		       strerror(g.first_err));
	ok(g.unexpected == 0, "every refusal had an errno a serial order gives");
	for (i = 1; i < T_NR; i++) {
		snprintf(msg, sizeof(msg), "%s: some succeeded", t_name[i]);
		ok(g.refused[i] < g.ops[i], msg);
	}

	/* the device ends where a last replace put it: on IOAS A */
	ok(attach_noted(ioas_pt(0)) == 0, "the device attaches after the run");
	if (g.dma_stuck && (rd32(&g.e, EDU_DMA_CMD) & EDU_CMD_START)) {
		printf("# the edu is still busy with the move that timed out\n");
		ok(0, "DMA works after the run");
	} else {
		ok(dma_round(g.ops[T_DMA]) == DONE, "DMA works after the run");
	}
	if (g.kmsg >= 0)
		close(g.kmsg);
	close(g.dev);
	close(g.iommufd);
	ok(pinned_now() == base, "nothing left pinned after the close");
	ok(status_kb("VmPin") == 0 && status_kb("VmLck") == 0,
	   "VmPin and VmLck back at 0");
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
