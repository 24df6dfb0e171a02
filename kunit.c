// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suites for the pure helpers of iommufd: code whose behaviour can be
 * checked without a device, a user mm or a file. They run when the iommufd
 * module initialises (at boot when built in) and report in KTAP.
 */
#include <kunit/test.h>
#include <linux/interval_tree.h>
#include <linux/ioctl.h>
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

#define NCMDS 4

/* Every slot of the table is reachable through its exact _IO number. */
static void cmd_index_maps_each_slot(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < NCMDS; i++)
		KUNIT_EXPECT_EQ(test, (int)i,
				iommufd_cmd_index(_IO(IOMMUFD_TYPE,
						      IOMMUFD_CMD_BASE + i),
						  NCMDS));
}

/* Numbers just outside the table, on either side, are not commands. */
static void cmd_index_rejects_out_of_range(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, -ENOTTY,
			iommufd_cmd_index(_IO(IOMMUFD_TYPE,
					      IOMMUFD_CMD_BASE - 1), NCMDS));
	KUNIT_EXPECT_EQ(test, -ENOTTY,
			iommufd_cmd_index(_IO(IOMMUFD_TYPE,
					      IOMMUFD_CMD_BASE + NCMDS),
					  NCMDS));
	KUNIT_EXPECT_EQ(test, -ENOTTY,
			iommufd_cmd_index(_IO(IOMMUFD_TYPE, 0), NCMDS));
	KUNIT_EXPECT_EQ(test, -ENOTTY,
			iommufd_cmd_index(_IO(IOMMUFD_TYPE, 0xff), NCMDS));
}

/* An empty table has no commands at all, not even at the base. */
static void cmd_index_empty_table(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, -ENOTTY,
			iommufd_cmd_index(_IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE),
					  0));
}

/*
 * The right nr is not enough: another ioctl type, or direction or size bits,
 * make a different number that must not alias a command.
 */
static void cmd_index_rejects_other_encodings(struct kunit *test)
{
	unsigned int nr = IOMMUFD_CMD_BASE + 1;

	KUNIT_EXPECT_EQ(test, -ENOTTY,
			iommufd_cmd_index(_IO('V', nr), NCMDS));
	KUNIT_EXPECT_EQ(test, -ENOTTY,
			iommufd_cmd_index(_IOR(IOMMUFD_TYPE, nr, __u32),
					  NCMDS));
	KUNIT_EXPECT_EQ(test, -ENOTTY,
			iommufd_cmd_index(_IOW(IOMMUFD_TYPE, nr, __u64),
					  NCMDS));
	KUNIT_EXPECT_EQ(test, -ENOTTY,
			iommufd_cmd_index(_IOWR(IOMMUFD_TYPE, nr, __u32),
					  NCMDS));
	KUNIT_EXPECT_EQ(test, -ENOTTY,
			iommufd_cmd_index(_IOC(_IOC_NONE, IOMMUFD_TYPE, nr, 8),
					  NCMDS));
}

static struct kunit_case iommufd_cmd_index_cases[] = {
	KUNIT_CASE(cmd_index_maps_each_slot),
	KUNIT_CASE(cmd_index_rejects_out_of_range),
	KUNIT_CASE(cmd_index_empty_table),
	KUNIT_CASE(cmd_index_rejects_other_encodings),
	{}
};

static struct kunit_suite iommufd_cmd_index_suite = {
	.name = "iommufd_cmd_index",
	.test_cases = iommufd_cmd_index_cases,
};

/* Walk [first, last] of @itree and compare with the expected stretches. */
struct span_expect {
	unsigned long start;
	unsigned long last;
	bool used;
};

static void check_spans(struct kunit *test, struct rb_root_cached *itree,
			unsigned long first, unsigned long last,
			const struct span_expect *expect, unsigned int nexpect)
{
	struct iopt_span span;
	unsigned int n = 0;

	for_each_iopt_span(&span, itree, first, last) {
		KUNIT_ASSERT_LT(test, n, nexpect);
		KUNIT_EXPECT_EQ(test, span.start, expect[n].start);
		KUNIT_EXPECT_EQ(test, span.last, expect[n].last);
		KUNIT_EXPECT_EQ(test, span.used, expect[n].used);
		n++;
	}
	KUNIT_EXPECT_EQ(test, n, nexpect);
}

static struct interval_tree_node *add_node(struct kunit *test,
					   struct rb_root_cached *itree,
					   unsigned long start,
					   unsigned long last)
{
	struct interval_tree_node *node;

	node = kunit_kzalloc(test, sizeof(*node), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, node);
	node->start = start;
	node->last = last;
	interval_tree_insert(node, itree);
	return node;
}

static void span_empty_tree(struct kunit *test)
{
	struct rb_root_cached itree = RB_ROOT_CACHED;
	static const struct span_expect all[] = { { 0, ULONG_MAX, false } };
	static const struct span_expect some[] = { { 5, 9, false } };

	check_spans(test, &itree, 0, ULONG_MAX, all, ARRAY_SIZE(all));
	check_spans(test, &itree, 5, 9, some, ARRAY_SIZE(some));
}

/* An empty range (first > last) yields nothing at all. */
static void span_empty_range(struct kunit *test)
{
	struct rb_root_cached itree = RB_ROOT_CACHED;

	add_node(test, &itree, 0, 100);
	check_spans(test, &itree, 10, 9, NULL, 0);
}

/* Touching and overlapping nodes merge into one used stretch. */
static void span_merges_nodes(struct kunit *test)
{
	struct rb_root_cached itree = RB_ROOT_CACHED;
	static const struct span_expect expect[] = {
		{ 0, 9, false },
		{ 10, 29, true },	/* [10,19] touches [20,29] */
		{ 30, 39, false },
		{ 40, 70, true },	/* [40,60], [45,50], [55,70] overlap */
		{ 71, 100, false },
	};

	add_node(test, &itree, 20, 29);
	add_node(test, &itree, 10, 19);
	add_node(test, &itree, 45, 50);
	add_node(test, &itree, 40, 60);
	add_node(test, &itree, 55, 70);
	check_spans(test, &itree, 0, 100, expect, ARRAY_SIZE(expect));
}

/* A node inside a bigger one does not end the used stretch early. */
static void span_nested_nodes(struct kunit *test)
{
	struct rb_root_cached itree = RB_ROOT_CACHED;
	static const struct span_expect expect[] = {
		{ 0, 99, true },
		{ 100, 200, false },
	};

	add_node(test, &itree, 0, 99);
	add_node(test, &itree, 10, 20);
	add_node(test, &itree, 30, 40);
	check_spans(test, &itree, 0, 200, expect, ARRAY_SIZE(expect));
}

/* The range clips the stretches at both ends. */
static void span_clipped(struct kunit *test)
{
	struct rb_root_cached itree = RB_ROOT_CACHED;
	static const struct span_expect expect[] = {
		{ 15, 19, true },
		{ 20, 29, false },
		{ 30, 35, true },
	};

	add_node(test, &itree, 10, 19);
	add_node(test, &itree, 30, 40);
	check_spans(test, &itree, 15, 35, expect, ARRAY_SIZE(expect));
}

/* Stretches that end at ULONG_MAX terminate without overflowing. */
static void span_top_of_space(struct kunit *test)
{
	struct rb_root_cached itree = RB_ROOT_CACHED;
	static const struct span_expect expect[] = {
		{ 0, ULONG_MAX - 16, false },
		{ ULONG_MAX - 15, ULONG_MAX, true },
	};
	static const struct span_expect top[] = {
		{ ULONG_MAX, ULONG_MAX, true },
	};

	add_node(test, &itree, ULONG_MAX - 15, ULONG_MAX - 8);
	add_node(test, &itree, ULONG_MAX - 7, ULONG_MAX);
	check_spans(test, &itree, 0, ULONG_MAX, expect, ARRAY_SIZE(expect));
	check_spans(test, &itree, ULONG_MAX, ULONG_MAX, top, ARRAY_SIZE(top));
}

static void fit_aligns_start(struct kunit *test)
{
	unsigned long iova = 0;

	KUNIT_EXPECT_TRUE(test, iopt_fit_in_hole(0x1001, 0x3000, 0x1000,
						 0x1000, 0, &iova));
	KUNIT_EXPECT_EQ(test, iova, 0x2000UL);
	/* Aligning pushes the end out of the hole. */
	KUNIT_EXPECT_FALSE(test, iopt_fit_in_hole(0x1001, 0x2ffe, 0x1000,
						  0x1000, 0, &iova));
	/* Exact fit, alignment 1. */
	KUNIT_EXPECT_TRUE(test, iopt_fit_in_hole(7, 9, 3, 1, 0, &iova));
	KUNIT_EXPECT_EQ(test, iova, 7UL);
	KUNIT_EXPECT_FALSE(test, iopt_fit_in_hole(7, 9, 4, 1, 0, &iova));
}

/* An offset from the alignment: the first such index in the hole. */
static void fit_with_offset(struct kunit *test)
{
	unsigned long iova = 0;

	KUNIT_EXPECT_TRUE(test, iopt_fit_in_hole(0x1000, 0x3fff, 0x10, 0x1000,
						 0x7ff, &iova));
	KUNIT_EXPECT_EQ(test, iova, 0x17ffUL);
	/* Past the offset in the first block: the next block. */
	KUNIT_EXPECT_TRUE(test, iopt_fit_in_hole(0x1800, 0x3fff, 0x10, 0x1000,
						 0x7ff, &iova));
	KUNIT_EXPECT_EQ(test, iova, 0x27ffUL);
	KUNIT_EXPECT_FALSE(test, iopt_fit_in_hole(0x1800, 0x27fe, 0x10,
						  0x1000, 0x7ff, &iova));
	/* No next block below ULONG_MAX. */
	KUNIT_EXPECT_FALSE(test, iopt_fit_in_hole(ULONG_MAX - 0x10, ULONG_MAX,
						  1, 0x1000, 0x7ff, &iova));
}

static void fit_near_top(struct kunit *test)
{
	unsigned long iova = 0;

	/* Aligning up from near ULONG_MAX would wrap around. */
	KUNIT_EXPECT_FALSE(test, iopt_fit_in_hole(ULONG_MAX - 10, ULONG_MAX,
						  4, 0x1000, 0, &iova));
	/* The end of the range would wrap around. */
	KUNIT_EXPECT_FALSE(test, iopt_fit_in_hole(ULONG_MAX - 3, ULONG_MAX,
						  8, 1, 0, &iova));
	KUNIT_EXPECT_TRUE(test, iopt_fit_in_hole(ULONG_MAX - 3, ULONG_MAX,
						 4, 1, 0, &iova));
	KUNIT_EXPECT_EQ(test, iova, ULONG_MAX - 3);
	/* A hole of the whole space takes the whole space. */
	KUNIT_EXPECT_TRUE(test, iopt_fit_in_hole(0, ULONG_MAX, ULONG_MAX, 1,
						 0, &iova));
	KUNIT_EXPECT_EQ(test, iova, 0UL);
}

static struct iopt_area *add_area(struct kunit *test,
				  struct io_pagetable *iopt,
				  unsigned long start, unsigned long last)
{
	struct iopt_area *area;

	area = kunit_kzalloc(test, sizeof(*area), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, area);
	area->node.start = start;
	area->node.last = last;
	interval_tree_insert(&area->node, &iopt->area_itree);
	return area;
}

static void remove_areas(struct io_pagetable *iopt)
{
	struct interval_tree_node *node;

	while ((node = interval_tree_iter_first(&iopt->area_itree, 0,
						ULONG_MAX)))
		interval_tree_remove(node, &iopt->area_itree);
}

/* Allocation skips reserved IOVA and areas, and aligns to the length. */
static void alloc_skips_used(struct kunit *test)
{
	struct io_pagetable iopt;
	unsigned long iova = 0;

	iopt_init_table(&iopt);
	KUNIT_ASSERT_EQ(test, 0, iopt_reserve_iova(&iopt, 0, 0xfff, NULL));
	add_area(test, &iopt, 0x1000, 0x2fff);

	down_write(&iopt.iova_rwsem);
	KUNIT_EXPECT_EQ(test, 0, iopt_alloc_iova(&iopt, &iova, 0, 0x1000));
	KUNIT_EXPECT_EQ(test, iova, 0x3000UL);
	/* 16 KiB goes to the next 16 KiB boundary. */
	KUNIT_EXPECT_EQ(test, 0, iopt_alloc_iova(&iopt, &iova, 0, 0x4000));
	KUNIT_EXPECT_EQ(test, iova, 0x4000UL);
	/* ... however the user address is aligned. */
	KUNIT_EXPECT_EQ(test, 0,
			iopt_alloc_iova(&iopt, &iova, 0x7ffff000, 0x4000));
	KUNIT_EXPECT_EQ(test, iova, 0x4000UL);
	/* A mapping inside a page keeps its offset into the page. */
	KUNIT_EXPECT_EQ(test, 0, iopt_alloc_iova(&iopt, &iova, 0x11, 1));
	KUNIT_EXPECT_EQ(test, iova, 0x3011UL);
	up_write(&iopt.iova_rwsem);

	remove_areas(&iopt);
	iopt_destroy_table(&iopt);
}

/* With allowed ranges, only they are used; then -ENOSPC. */
static void alloc_inside_allowed(struct kunit *test)
{
	struct rb_root_cached allowed = RB_ROOT_CACHED;
	struct iopt_allowed *range;
	struct io_pagetable iopt;
	unsigned long iova = 0;

	iopt_init_table(&iopt);
	range = kzalloc(sizeof(*range), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, range);
	range->node.start = 0x100000;
	range->node.last = 0x103fff;
	interval_tree_insert(&range->node, &allowed);
	KUNIT_ASSERT_EQ(test, 0, iopt_set_allowed(&iopt, &allowed));
	iopt_free_allowed(&allowed);
	/* A reservation can't cut into it any more. */
	KUNIT_EXPECT_EQ(test, -EADDRINUSE,
			iopt_reserve_iova(&iopt, 0x103000, 0x200000, NULL));

	down_write(&iopt.iova_rwsem);
	KUNIT_EXPECT_EQ(test, 0, iopt_alloc_iova(&iopt, &iova, 0, 0x2000));
	KUNIT_EXPECT_EQ(test, iova, 0x100000UL);
	add_area(test, &iopt, 0x100000, 0x102fff);
	KUNIT_EXPECT_EQ(test, 0, iopt_alloc_iova(&iopt, &iova, 0, 0x1000));
	KUNIT_EXPECT_EQ(test, iova, 0x103000UL);
	KUNIT_EXPECT_EQ(test, -ENOSPC,
			iopt_alloc_iova(&iopt, &iova, 0, 0x2000));
	/* The table's alignment wins over a smaller natural one. */
	remove_areas(&iopt);
	iopt.iova_alignment = 0x2000;
	KUNIT_EXPECT_EQ(test, 0, iopt_alloc_iova(&iopt, &iova, 0, 0x800));
	KUNIT_EXPECT_EQ(test, iova % 0x2000, 0UL);
	up_write(&iopt.iova_rwsem);

	iopt_destroy_table(&iopt);
}

/* Contiguous PFNs extend the last run, others start a new one. */
static void batch_merges_runs(struct kunit *test)
{
	unsigned long pfns[4];
	u32 npfns[4];
	struct pfn_batch batch;

	pfn_batch_init(&batch, pfns, npfns, ARRAY_SIZE(pfns));
	KUNIT_EXPECT_TRUE(test, pfn_batch_add(&batch, 100));
	KUNIT_EXPECT_TRUE(test, pfn_batch_add(&batch, 101));
	KUNIT_EXPECT_TRUE(test, pfn_batch_add(&batch, 102));
	KUNIT_EXPECT_TRUE(test, pfn_batch_add(&batch, 7));
	KUNIT_EXPECT_TRUE(test, pfn_batch_add(&batch, 8));
	/* The same PFN again, or going backwards, is not contiguous. */
	KUNIT_EXPECT_TRUE(test, pfn_batch_add(&batch, 8));
	KUNIT_EXPECT_EQ(test, batch.nruns, 3U);
	KUNIT_EXPECT_EQ(test, batch.total, 6UL);
	KUNIT_EXPECT_EQ(test, pfns[0], 100UL);
	KUNIT_EXPECT_EQ(test, npfns[0], 3U);
	KUNIT_EXPECT_EQ(test, pfns[1], 7UL);
	KUNIT_EXPECT_EQ(test, npfns[1], 2U);
	KUNIT_EXPECT_EQ(test, pfns[2], 8UL);
	KUNIT_EXPECT_EQ(test, npfns[2], 1U);

	KUNIT_EXPECT_EQ(test, pfn_batch_pfn_at(&batch, 0), 100UL);
	KUNIT_EXPECT_EQ(test, pfn_batch_pfn_at(&batch, 2), 102UL);
	KUNIT_EXPECT_EQ(test, pfn_batch_pfn_at(&batch, 4), 8UL);
	KUNIT_EXPECT_EQ(test, pfn_batch_pfn_at(&batch, 5), 8UL);
}

/* A full batch refuses a new run but still extends its last one. */
static void batch_full(struct kunit *test)
{
	unsigned long pfns[2];
	u32 npfns[2];
	struct pfn_batch batch;

	pfn_batch_init(&batch, pfns, npfns, ARRAY_SIZE(pfns));
	KUNIT_EXPECT_TRUE(test, pfn_batch_add(&batch, 10));
	KUNIT_EXPECT_TRUE(test, pfn_batch_add(&batch, 20));
	KUNIT_EXPECT_FALSE(test, pfn_batch_add(&batch, 30));
	KUNIT_EXPECT_EQ(test, batch.nruns, 2U);
	KUNIT_EXPECT_EQ(test, batch.total, 2UL);
	KUNIT_EXPECT_TRUE(test, pfn_batch_add(&batch, 21));
	KUNIT_EXPECT_EQ(test, npfns[1], 2U);

	pfn_batch_clear(&batch);
	KUNIT_EXPECT_EQ(test, batch.nruns, 0U);
	KUNIT_EXPECT_TRUE(test, pfn_batch_add(&batch, 30));
	KUNIT_EXPECT_EQ(test, pfns[0], 30UL);
}

/* A run stops growing at U32_MAX frames; the next PFN starts a new one. */
static void batch_run_limit(struct kunit *test)
{
	unsigned long pfns[2];
	u32 npfns[2];
	struct pfn_batch batch;

	pfn_batch_init(&batch, pfns, npfns, ARRAY_SIZE(pfns));
	KUNIT_EXPECT_TRUE(test, pfn_batch_add(&batch, 0));
	npfns[0] = U32_MAX;
	KUNIT_EXPECT_TRUE(test, pfn_batch_add(&batch, U32_MAX));
	KUNIT_EXPECT_EQ(test, batch.nruns, 2U);
	KUNIT_EXPECT_EQ(test, pfns[1], (unsigned long)U32_MAX);
}

/*
 * A run added at once joins the last run where it continues it, starts a
 * new one otherwise, and stops where the batch is full; runs still stop
 * at U32_MAX frames.
 */
static void batch_add_run(struct kunit *test)
{
	unsigned long pfns[2];
	u32 npfns[2];
	struct pfn_batch batch;

	pfn_batch_init(&batch, pfns, npfns, ARRAY_SIZE(pfns));
	KUNIT_EXPECT_EQ(test, pfn_batch_add_run(&batch, 100, 512), 512UL);
	KUNIT_EXPECT_EQ(test, pfn_batch_add_run(&batch, 612, 88), 88UL);
	KUNIT_EXPECT_EQ(test, batch.nruns, 1U);
	KUNIT_EXPECT_EQ(test, npfns[0], 600U);
	KUNIT_EXPECT_EQ(test, pfn_batch_add_run(&batch, 5, 3), 3UL);
	KUNIT_EXPECT_EQ(test, batch.nruns, 2U);
	KUNIT_EXPECT_EQ(test, batch.total, 603UL);
	KUNIT_EXPECT_EQ(test, pfn_batch_pfn_at(&batch, 601), 6UL);
	/* full: nothing of a new run goes in, a continuation does */
	KUNIT_EXPECT_EQ(test, pfn_batch_add_run(&batch, 50, 4), 0UL);
	KUNIT_EXPECT_EQ(test, pfn_batch_add_run(&batch, 8, 2), 2UL);
	KUNIT_EXPECT_EQ(test, batch.total, 605UL);

	/* the U32_MAX limit of a run: the rest does not fit in a full batch */
	pfn_batch_clear(&batch);
	KUNIT_EXPECT_EQ(test, pfn_batch_add_run(&batch, 0, 1), 1UL);
	npfns[0] = U32_MAX - 1;
	batch.total = U32_MAX - 1;
	KUNIT_EXPECT_EQ(test, pfn_batch_add_run(&batch, U32_MAX - 1, 5), 5UL);
	KUNIT_EXPECT_EQ(test, npfns[0], U32_MAX);
	KUNIT_EXPECT_EQ(test, npfns[1], 4U);
	KUNIT_EXPECT_EQ(test, pfns[1], (unsigned long)U32_MAX);
	KUNIT_EXPECT_EQ(test, pfn_batch_add_run(&batch, 7, 1), 0UL);
}

static struct kunit_case iommufd_iopt_cases[] = {
	KUNIT_CASE(span_empty_tree),
	KUNIT_CASE(span_empty_range),
	KUNIT_CASE(span_merges_nodes),
	KUNIT_CASE(span_nested_nodes),
	KUNIT_CASE(span_clipped),
	KUNIT_CASE(span_top_of_space),
	KUNIT_CASE(fit_aligns_start),
	KUNIT_CASE(fit_near_top),
	KUNIT_CASE(fit_with_offset),
	KUNIT_CASE(alloc_skips_used),
	KUNIT_CASE(alloc_inside_allowed),
	{}
};

static struct kunit_suite iommufd_iopt_suite = {
	.name = "iommufd_iopt",
	.test_cases = iommufd_iopt_cases,
};

static struct kunit_case iommufd_batch_cases[] = {
	KUNIT_CASE(batch_merges_runs),
	KUNIT_CASE(batch_full),
	KUNIT_CASE(batch_run_limit),
	KUNIT_CASE(batch_add_run),
	{}
};

static struct kunit_suite iommufd_batch_suite = {
	.name = "iommufd_batch",
	.test_cases = iommufd_batch_cases,
};

kunit_test_suites(&iommufd_cmd_index_suite, &iommufd_iopt_suite,
		  &iommufd_batch_suite);
