// SPDX-License-Identifier: GPL-2.0-only
/*
 * io_pagetable: the IOVA map of an IOAS.
 *
 * Theory of operation
 * -------------------
 * An io_pagetable keeps three interval trees over the IOVA space:
 *
 *  - areas: one struct iopt_area per MAP or COPY, never overlapping. An
 *    area points into a struct iopt_pages (pages.c) at a byte offset, so
 *    areas of several IOASes, or several areas of one, can share the memory
 *    of one MAP and its pins;
 *  - reserved: IOVA nothing may be mapped at: the outside of each domain's
 *    aperture and, later, devices' reserved regions. Entries carry an owner
 *    and may overlap;
 *  - allowed: ranges userspace asked to stay usable. Reservations that
 *    would cut into them fail, and automatic IOVA is chosen inside them.
 *
 * IOVA is byte granular while no domain is attached (iova_alignment 1).
 * Each domain raises the alignment to its smallest page; an area must then
 * have its IOVA, its length and its user address aligned, so that every
 * piece of it can be handed to iommu_map(). All arithmetic is inclusive
 * (start, last) so a range may end at ULONG_MAX without overflowing.
 *
 * Every domain in the table mirrors every area. The first domain is the
 * storage domain: PFNs pinned for an area are not kept anywhere else, they
 * are read back from it when another domain is added or when the area is
 * unmapped. pages.c does the pinning and the domain programming; this file
 * decides what is mapped where.
 *
 * Locking is described once, in io_pagetable.h.
 */
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/lockdep.h>
#include <linux/overflow.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

/* Position the span at @pos; the range is known not to be exhausted. */
static void iopt_span_at(struct iopt_span *span, unsigned long pos)
{
	struct interval_tree_node *node;
	unsigned long end;

	span->start = pos;
	node = interval_tree_iter_first(span->itree, pos, span->range_last);
	if (!node) {
		span->used = false;
		span->last = span->range_last;
		return;
	}
	if (node->start > pos) {
		span->used = false;
		span->last = node->start - 1;
		return;
	}

	/*
	 * Nodes come in order of their start. Everything that starts no later
	 * than one past the current end extends the used stretch.
	 */
	end = node->last;
	for (node = interval_tree_iter_next(node, pos, span->range_last);
	     node && end != ULONG_MAX && node->start <= end + 1;
	     node = interval_tree_iter_next(node, pos, span->range_last))
		end = max(end, node->last);
	span->used = true;
	span->last = min(end, span->range_last);
}

/**
 * iopt_span_first - start a walk over [first, last] of an interval tree
 * @span: the walk
 * @itree: the tree
 * @first: first index of the range
 * @last: last index of the range, inclusive
 */
void iopt_span_first(struct iopt_span *span, struct rb_root_cached *itree,
		     unsigned long first, unsigned long last)
{
	span->itree = itree;
	span->range_last = last;
	span->done = first > last;
	if (!span->done)
		iopt_span_at(span, first);
}

/**
 * iopt_span_next - advance a walk to its next stretch
 * @span: the walk
 */
void iopt_span_next(struct iopt_span *span)
{
	if (span->last >= span->range_last) {
		span->done = true;
		return;
	}
	iopt_span_at(span, span->last + 1);
}

/**
 * iopt_fit_in_hole - place an aligned range inside a hole
 * @hole_start: first free index
 * @hole_last: last free index, inclusive
 * @length: length of the range to place, not 0
 * @align: alignment of its start, a power of two
 * @offset: the start must be @offset past a multiple of @align; < @align
 * @iova: returns the start
 *
 * Return: true if the range fits, false (without overflowing) otherwise.
 */
bool iopt_fit_in_hole(unsigned long hole_start, unsigned long hole_last,
		      unsigned long length, unsigned long align,
		      unsigned long offset, unsigned long *iova)
{
	unsigned long start = (hole_start & ~(align - 1)) + offset;
	unsigned long last;

	if (start < hole_start && check_add_overflow(start, align, &start))
		return false;
	if (start > hole_last)
		return false;
	if (check_add_overflow(start, length - 1, &last) || last > hole_last)
		return false;
	*iova = start;
	return true;
}

/**
 * iopt_init_table - initialise an empty io_pagetable
 * @iopt: the table
 */
void iopt_init_table(struct io_pagetable *iopt)
{
	/* no domain, large pages allowed: whatever the memory held before */
	*iopt = (struct io_pagetable){};
	init_rwsem(&iopt->domains_rwsem);
	init_rwsem(&iopt->iova_rwsem);
	mutex_init(&iopt->map_lock);
	iopt->area_itree = RB_ROOT_CACHED;
	iopt->allowed_itree = RB_ROOT_CACHED;
	iopt->reserved_itree = RB_ROOT_CACHED;
	iopt->iova_alignment = 1;
}

static void iopt_free_itree(struct rb_root_cached *itree, size_t node_offset)
{
	struct interval_tree_node *node;

	while ((node = interval_tree_iter_first(itree, 0, ULONG_MAX))) {
		interval_tree_remove(node, itree);
		kfree((void *)node - node_offset);
	}
}

/**
 * iopt_free_allowed - free a tree of struct iopt_allowed
 * @itree: the tree, empty afterwards
 */
void iopt_free_allowed(struct rb_root_cached *itree)
{
	iopt_free_itree(itree, offsetof(struct iopt_allowed, node));
}

/* An area is mappable with alignment @align. */
static bool iopt_area_aligned(struct iopt_area *area, unsigned long align)
{
	return !((area->node.start | iopt_area_length(area) |
		  area->pages_off) & (align - 1));
}

static bool iopt_areas_aligned(struct io_pagetable *iopt, unsigned long align)
{
	struct iopt_area *area;

	for_each_iopt_area(area, iopt, 0, ULONG_MAX)
		if (!iopt_area_aligned(area, align))
			return false;
	return true;
}

static unsigned long iopt_domain_alignment(struct iommu_domain *domain)
{
	return 1UL << __ffs(domain->pgsize_bitmap);
}

static void iopt_recalc_alignment(struct io_pagetable *iopt)
{
	unsigned long align = iopt->disable_large_pages ? PAGE_SIZE : 1;
	unsigned int i;

	for (i = 0; i != iopt->ndomains; i++)
		align = max(align, iopt_domain_alignment(iopt->domains[i]));
	iopt->iova_alignment = align;
}

static void iopt_remove_area(struct io_pagetable *iopt, struct iopt_area *area)
{
	lockdep_assert_held_write(&iopt->iova_rwsem);
	if (area->filled)
		iopt_area_unfill_domains(area, iopt->domains, iopt->ndomains);
	interval_tree_remove(&area->node, &iopt->area_itree);
	iopt_put_pages(area->pages);
	kfree(area);
	iommufd_stat_add(IOMMUFD_STAT_AREAS, -1);
}

/**
 * iopt_destroy_table - free everything an io_pagetable holds
 * @iopt: the table; no domain may be attached any more
 */
void iopt_destroy_table(struct io_pagetable *iopt)
{
	struct iopt_area *area;

	down_write(&iopt->iova_rwsem);
	WARN_ON(iopt->ndomains);
	while ((area = iopt_area_first(iopt, 0, ULONG_MAX)))
		iopt_remove_area(iopt, area);
	iopt_free_allowed(&iopt->allowed_itree);
	iopt_free_itree(&iopt->reserved_itree,
			offsetof(struct iopt_reserved, node));
	kfree(iopt->domains);
	iopt->domains = NULL;
	up_write(&iopt->iova_rwsem);
	mutex_destroy(&iopt->map_lock);
}

/**
 * iopt_itree_add - allocate an interval tree entry and add it to a tree
 * @itree: the tree
 * @size: size of the entry, which embeds a struct interval_tree_node
 * @node_offset: offset of that node in the entry
 * @start: first index of the interval
 * @last: last index of the interval, inclusive
 *
 * Return: the new, otherwise zeroed entry, or NULL without memory.
 */
void *iopt_itree_add(struct rb_root_cached *itree, size_t size,
		     size_t node_offset, unsigned long start,
		     unsigned long last)
{
	struct interval_tree_node *node;
	void *entry;

	entry = kzalloc(size, GFP_KERNEL_ACCOUNT);
	if (entry) {
		node = entry + node_offset;
		node->start = start;
		node->last = last;
		interval_tree_insert(node, itree);
	}
	return entry;
}

/* Whether a mapping or an allowed range covers some of [@start, @last]. */
static bool iopt_span_in_use(struct io_pagetable *iopt, unsigned long start,
			     unsigned long last)
{
	return iopt_area_first(iopt, start, last) ||
	       iopt_allowed_first(iopt, start, last);
}

static int __iopt_reserve_iova(struct io_pagetable *iopt, unsigned long start,
			       unsigned long last, void *owner)
{
	struct iopt_reserved *hole = NULL;

	lockdep_assert_held_write(&iopt->iova_rwsem);
	/* a hole is never punched under a mapping or an allowed range */
	if (iopt_span_in_use(iopt, start, last))
		return -EADDRINUSE;
	hole = iopt_itree_add(&iopt->reserved_itree, sizeof(*hole),
			      offsetof(struct iopt_reserved, node), start,
			      last);
	if (hole)
		hole->owner = owner;
	return hole ? 0 : -ENOMEM;
}

/*
 * Reserve, for @owner, what an aperture that @geo forces leaves out below
 * and above it. On failure what was reserved stays, for the caller's
 * __iopt_remove_reserved_iova(iopt, owner).
 */
static int iopt_reserve_outside(struct io_pagetable *iopt,
				const struct iommu_domain_geometry *geo,
				void *owner)
{
	int rc = 0;

	if (!geo->force_aperture)
		return 0;
	if (geo->aperture_start)
		rc = __iopt_reserve_iova(iopt, 0, geo->aperture_start - 1,
					 owner);
	if (!rc && geo->aperture_end != ULONG_MAX)
		rc = __iopt_reserve_iova(iopt, geo->aperture_end + 1,
					 ULONG_MAX, owner);
	return rc;
}

/**
 * iopt_reserve_iova - forbid mappings in an IOVA range
 * @iopt: the table
 * @start: first IOVA
 * @last: last IOVA, inclusive
 * @owner: tag for iopt_remove_reserved_iova(), may be NULL
 *
 * Return: 0, -EADDRINUSE if the range holds a mapping or is allowed, or
 * -ENOMEM.
 */
int iopt_reserve_iova(struct io_pagetable *iopt, unsigned long start,
		      unsigned long last, void *owner)
{
	int rc;

	down_write(&iopt->iova_rwsem);
	rc = __iopt_reserve_iova(iopt, start, last, owner);
	up_write(&iopt->iova_rwsem);
	return rc;
}

static void __iopt_remove_reserved_iova(struct io_pagetable *iopt, void *owner)
{
	struct iopt_reserved *reserved;
	struct iopt_reserved *next;

	lockdep_assert_held_write(&iopt->iova_rwsem);
	for (reserved = iopt_reserved_first(iopt, 0, ULONG_MAX); reserved;
	     reserved = next) {
		next = iopt_reserved_after(reserved, 0, ULONG_MAX);
		if (reserved->owner != owner)
			continue;
		interval_tree_remove(&reserved->node, &iopt->reserved_itree);
		kfree(reserved);
	}
}

/**
 * iopt_remove_reserved_iova - drop every reservation of one owner
 * @iopt: the table
 * @owner: the owner given to iopt_reserve_iova()
 */
void iopt_remove_reserved_iova(struct io_pagetable *iopt, void *owner)
{
	struct rw_semaphore *iova_lock = &iopt->iova_rwsem;

	down_write(iova_lock);
	__iopt_remove_reserved_iova(iopt, owner);
	up_write(iova_lock);
}

/**
 * iopt_set_allowed - replace the allowed ranges
 * @iopt: the table
 * @allowed_iova: tree of struct iopt_allowed, not overlapping; on success it
 *                is swapped with the old list, which the caller frees
 *
 * Return: 0 or -EADDRINUSE if a new range is reserved in part.
 */
int iopt_set_allowed(struct io_pagetable *iopt,
		     struct rb_root_cached *allowed_iova)
{
	struct interval_tree_node *node;
	struct rb_root_cached old;

	down_write(&iopt->iova_rwsem);
	/* @allowed_iova is still the caller's own: a raw walk, no lock */
	for (node = interval_tree_iter_first(allowed_iova, 0, ULONG_MAX); node;
	     node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		if (iopt_reserved_first(iopt, node->start, node->last)) {
			up_write(&iopt->iova_rwsem);
			return -EADDRINUSE;
		}
	}
	old = iopt->allowed_itree;
	iopt->allowed_itree = *allowed_iova;
	*allowed_iova = old;
	up_write(&iopt->iova_rwsem);
	return 0;
}

/*
 * Where automatic IOVA goes, as an alignment and an offset from it. A
 * mapping that starts inside a page keeps its offset into the page, so the
 * same page can be mapped with whole IOPTEs. Otherwise the IOVA is aligned
 * like the length's lowest set bit (a 2 MiB mapping on a 2 MiB boundary, so
 * large IOPTEs remain possible), and never less than the table requires.
 */
static void iopt_auto_placement(struct io_pagetable *iopt, unsigned long uptr,
				unsigned long length, unsigned long *align,
				unsigned long *offset)
{
	*offset = offset_in_page(uptr);
	if (*offset) {
		*align = PAGE_SIZE;
		return;
	}
	*align = max_t(unsigned long, min_t(unsigned long,
					    1UL << __ffs(length), SZ_1G),
		       iopt->iova_alignment);
}

static bool iopt_find_in_range(struct io_pagetable *iopt, unsigned long first,
			       unsigned long last, unsigned long length,
			       unsigned long align, unsigned long offset,
			       unsigned long *iova)
{
	struct iopt_span area_span;
	struct iopt_span resv_span;

	for_each_iopt_span(&area_span, &iopt->area_itree, first, last) {
		if (area_span.used)
			continue;
		for_each_iopt_span(&resv_span, &iopt->reserved_itree,
				   area_span.start, area_span.last) {
			if (resv_span.used)
				continue;
			if (iopt_fit_in_hole(resv_span.start, resv_span.last,
					     length, align, offset, iova))
				return true;
		}
	}
	return false;
}

/**
 * iopt_alloc_iova - choose IOVA for a new mapping
 * @iopt: the table, locked
 * @iova: returns the chosen IOVA
 * @uptr: user address of the mapping's first byte, for its alignment
 * @length: bytes, not 0
 *
 * Picks the lowest suitably aligned range that is free of areas and
 * reservations, inside the allowed ranges if there are any. Never the
 * first or the last page of the address space: a device that wraps or
 * uses a NULL address then faults instead of reaching memory.
 *
 * Context: the IOVA lock of @iopt held, read or write.
 * Return: 0 or -ENOSPC.
 */
int iopt_alloc_iova(struct io_pagetable *iopt, unsigned long *iova,
		    unsigned long uptr, unsigned long length)
{
	const unsigned long lowest = PAGE_SIZE;
	const unsigned long highest = ULONG_MAX - PAGE_SIZE;
	struct iopt_allowed *allowed;
	unsigned long offset;
	unsigned long align;

	lockdep_assert_held(&iopt->iova_rwsem);
	iopt_auto_placement(iopt, uptr, length, &align, &offset);
	if (RB_EMPTY_ROOT(&iopt->allowed_itree.rb_root))
		return iopt_find_in_range(iopt, lowest, highest, length, align,
					  offset, iova) ? 0 : -ENOSPC;
	for (allowed = iopt_allowed_first(iopt, lowest, highest); allowed;
	     allowed = iopt_allowed_after(allowed, lowest, highest))
		if (iopt_find_in_range(iopt, max(allowed->node.start, lowest),
				       min(allowed->node.last, highest), length,
				       align, offset, iova))
			return 0;
	return -ENOSPC;
}

/*
 * One piece of a new mapping: a byte range of a pages object. MAP makes
 * one; COPY one per source area it spans.
 */
struct iopt_piece {
	struct list_head next;
	struct iopt_pages *pages;
	unsigned long pages_off;
	unsigned long length;
};

static void iopt_free_pieces(struct list_head *pieces)
{
	struct iopt_piece *piece;
	struct iopt_piece *tmp;

	list_for_each_entry_safe(piece, tmp, pieces, next) {
		iopt_put_pages(piece->pages);
		list_del(&piece->next);
		kfree(piece);
	}
}

/*
 * A caller-chosen IOVA range for a new mapping: it must not wrap, touch a
 * reservation (-EINVAL) or overlap a mapping already there (-EEXIST).
 */
static int iopt_check_fixed(struct io_pagetable *iopt, unsigned long iova,
			    unsigned long length)
{
	unsigned long end;
	int rc = 0;

	if (check_add_overflow(iova, length - 1, &end))
		rc = -EOVERFLOW;
	else if (iopt_reserved_first(iopt, iova, end))
		rc = -EINVAL;	/* a reservation wins over a mapping */
	else if (iopt_area_first(iopt, iova, end))
		rc = -EEXIST;
	return rc;
}

/*
 * Insert the pieces as consecutive areas starting at *@iova (or at an IOVA
 * chosen here) and fill them into the table's domains. All or nothing.
 */
static int iopt_map_pieces(struct io_pagetable *iopt, unsigned long *iova,
			   struct list_head *pieces, unsigned long length,
			   int iommu_prot, unsigned int flags)
{
	struct iopt_piece *first =
		list_first_entry(pieces, struct iopt_piece, next);
	unsigned long uptr = first->pages->uptr + first->pages_off;
	struct iopt_area **areas;
	struct iopt_piece *piece;
	unsigned int nareas = 0;
	unsigned long cur;
	unsigned int i;
	int rc;

	list_for_each_entry(piece, pieces, next)
		nareas++;
	areas = kcalloc(nareas, sizeof(*areas), GFP_KERNEL_ACCOUNT);
	if (!areas)
		return -ENOMEM;
	nareas = 0;

	/*
	 * The domains can't change until the new areas are filled; the IOVA
	 * lock is held only to insert them, pending, and to publish them.
	 */
	down_read(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	if (flags & IOMMU_IOAS_MAP_FIXED_IOVA)
		rc = iopt_check_fixed(iopt, *iova, length);
	else
		rc = iopt_alloc_iova(iopt, iova, uptr, length);
	if (rc)
		goto out_unlock;

	cur = *iova;
	list_for_each_entry(piece, pieces, next) {
		struct iopt_area *area;

		if ((cur | piece->length | piece->pages_off) &
		    (iopt->iova_alignment - 1)) {
			rc = -EINVAL;
			goto out_unwind;
		}
		area = kzalloc(sizeof(*area), GFP_KERNEL_ACCOUNT);
		if (!area) {
			rc = -ENOMEM;
			goto out_unwind;
		}
		kref_get(&piece->pages->kref);
		area->pages = piece->pages;
		area->pages_off = piece->pages_off;
		area->iopt = iopt;
		area->iommu_prot = iommu_prot;
		area->node.start = cur;
		area->node.last = cur + piece->length - 1;
		area->pending = true;
		interval_tree_insert(&area->node, &iopt->area_itree);
		iommufd_stat_add(IOMMUFD_STAT_AREAS, 1);
		areas[nareas++] = area;
		cur += piece->length;
	}
	up_write(&iopt->iova_rwsem);

	/* Pin and map with only the domains locked: the long part. */
	for (i = 0; !rc && iopt->ndomains && i != nareas; i++)
		rc = iopt_area_fill_domains(areas[i], iopt->domains,
					    iopt->ndomains);

	down_write(&iopt->iova_rwsem);
	if (rc)
		goto out_unwind;
	for (i = 0; i != nareas; i++)
		areas[i]->pending = false;
	goto out_unlock;

out_unwind:
	while (nareas)
		iopt_remove_area(iopt, areas[--nareas]);
out_unlock:
	up_write(&iopt->iova_rwsem);
	up_read(&iopt->domains_rwsem);
	kfree(areas);
	return rc;
}

/**
 * iopt_map_user_pages - map user memory into an io_pagetable
 * @iopt: the table
 * @iova: in: the IOVA with IOMMU_IOAS_MAP_FIXED_IOVA; out: the IOVA used
 * @uptr: user address of the memory, any byte alignment
 * @length: bytes to map, not 0
 * @iommu_prot: IOMMU_READ/IOMMU_WRITE
 * @flags: IOMMU_IOAS_MAP_FIXED_IOVA or 0
 * @account_mode: how pinning the memory is charged
 *
 * Return: 0 or a negative errno; on failure nothing was mapped or pinned.
 */
int iopt_map_user_pages(struct io_pagetable *iopt, unsigned long *iova,
			void __user *uptr, unsigned long length, int iommu_prot,
			unsigned int flags, u8 account_mode)
{
	struct iopt_piece piece = {};
	LIST_HEAD(pieces);
	int rc;

	piece.pages = iopt_alloc_pages(uptr, length, iommu_prot & IOMMU_WRITE,
				       account_mode);
	if (IS_ERR(piece.pages))
		return PTR_ERR(piece.pages);
	piece.pages_off = (unsigned long)uptr - piece.pages->uptr;
	piece.length = length;
	list_add(&piece.next, &pieces);
	rc = iopt_map_pieces(iopt, iova, &pieces, length, iommu_prot, flags);
	iopt_put_pages(piece.pages);
	return rc;
}

/**
 * iopt_map_file_pages - map a range of a file's memory into an io_pagetable
 * @iopt: the table
 * @iova: in: the IOVA with IOMMU_IOAS_MAP_FIXED_IOVA; out: the IOVA used
 * @file: a shmem (memfd) or hugetlbfs file
 * @start: byte offset of the range in the file, any alignment
 * @length: bytes to map, not 0
 * @iommu_prot: IOMMU_READ/IOMMU_WRITE
 * @flags: IOMMU_IOAS_MAP_FIXED_IOVA or 0
 * @account_mode: how pinning the memory is charged
 *
 * As iopt_map_user_pages(), but the memory is the file's page cache: the
 * file offset takes the place of the user address, also for the IOVA's
 * alignment.
 *
 * Return: 0 or a negative errno (see iopt_alloc_file_pages() for the
 * file's); on failure nothing was mapped or pinned.
 */
int iopt_map_file_pages(struct io_pagetable *iopt, unsigned long *iova,
			struct file *file, unsigned long start,
			unsigned long length, int iommu_prot,
			unsigned int flags, u8 account_mode)
{
	struct iopt_piece piece = {};
	LIST_HEAD(pieces);
	int rc;

	piece.pages = iopt_alloc_file_pages(file, start, length,
					    iommu_prot & IOMMU_WRITE,
					    account_mode);
	if (IS_ERR(piece.pages))
		return PTR_ERR(piece.pages);
	piece.pages_off = start - piece.pages->uptr;
	piece.length = length;
	list_add(&piece.next, &pieces);
	rc = iopt_map_pieces(iopt, iova, &pieces, length, iommu_prot, flags);
	iopt_put_pages(piece.pages);
	return rc;
}

/**
 * iopt_walk_area_pieces - walk the areas that cover an IOVA range
 * @iopt: the io_pagetable, its IOVA lock held
 * @iova: first IOVA of the range
 * @last: last IOVA of the range, inclusive
 * @fn: called for each area's piece of the range, in IOVA order, with the
 *      area, the page indexes of the piece's first and last byte in the
 *      area's pages object, and the offset of the piece from @iova; a
 *      non-zero return ends the walk with that value
 * @arg: passed to @fn
 *
 * Context: the IOVA lock of @iopt (iova_rwsem) held, read or write.
 * Return: 0 if the areas cover the whole range and @fn returned 0 for every
 * piece; -ENOENT at the first byte no area maps; or what @fn returned.
 */
int iopt_walk_area_pieces(struct io_pagetable *iopt, unsigned long iova,
			  unsigned long last,
			  int (*fn)(struct iopt_area *area,
				    unsigned long first, unsigned long last,
				    unsigned long offset, void *arg),
			  void *arg)
{
	unsigned long expect = iova;
	struct iopt_area *area;
	int rc;

	lockdep_assert_held(&iopt->iova_rwsem);
	for_each_iopt_area(area, iopt, iova, last) {
		unsigned long piece_last = min(area->node.last, last);
		unsigned long off = area->pages_off +
				    (expect - area->node.start);

		/* a pending area is not mapped yet */
		if (area->node.start > expect || area->pending)
			return -ENOENT;
		rc = fn(area, off >> PAGE_SHIFT,
			(area->pages_off + (piece_last - area->node.start)) >>
				PAGE_SHIFT,
			expect - iova, arg);
		if (rc)
			return rc;
		if (piece_last == last)
			return 0;
		expect = piece_last + 1;
	}
	return -ENOENT;
}

/* Collect the pieces of the source areas covering [start, last]. */
static int iopt_collect_pieces(struct io_pagetable *iopt, unsigned long start,
			       unsigned long last, bool writable,
			       struct list_head *pieces)
{
	unsigned long expect = start;
	struct iopt_area *area;
	bool covered = false;

	down_read(&iopt->iova_rwsem);
	for_each_iopt_area(area, iopt, start, last) {
		struct iopt_piece *piece;
		unsigned long piece_last = min(area->node.last, last);

		if (area->node.start > expect || area->pending)
			break;
		if (writable && !area->pages->writable) {
			up_read(&iopt->iova_rwsem);
			return -EPERM;
		}
		piece = kzalloc(sizeof(*piece), GFP_KERNEL_ACCOUNT);
		if (!piece) {
			up_read(&iopt->iova_rwsem);
			return -ENOMEM;
		}
		kref_get(&area->pages->kref);
		piece->pages = area->pages;
		piece->pages_off = area->pages_off +
				   (expect - area->node.start);
		piece->length = piece_last - expect + 1;
		list_add_tail(&piece->next, pieces);
		if (piece_last == last) {
			covered = true;
			break;
		}
		expect = piece_last + 1;
	}
	up_read(&iopt->iova_rwsem);
	return covered ? 0 : -ENOENT;
}

/**
 * iopt_copy - map memory that is mapped in one table into another
 * @dst: the table to map into
 * @src: the table to copy from, may be @dst
 * @dst_iova: in: the IOVA with IOMMU_IOAS_MAP_FIXED_IOVA; out: the IOVA used
 * @src_iova: first IOVA of the source range
 * @length: bytes, not 0
 * @iommu_prot: IOMMU_READ/IOMMU_WRITE of the new mapping
 * @flags: IOMMU_IOAS_MAP_FIXED_IOVA or 0
 *
 * The new areas share the source's pages objects, so nothing is pinned
 * twice. The source range must be mapped without holes.
 *
 * Return: 0, -ENOENT for a hole, -EPERM to write read-only memory, or an
 * error of the mapping.
 */
int iopt_copy(struct io_pagetable *dst, struct io_pagetable *src,
	      unsigned long *dst_iova, unsigned long src_iova,
	      unsigned long length, int iommu_prot, unsigned int flags)
{
	unsigned long src_last;
	LIST_HEAD(pieces);
	int rc;

	if (check_add_overflow(src_iova, length - 1, &src_last))
		return -EOVERFLOW;
	rc = iopt_collect_pieces(src, src_iova, src_last,
				 iommu_prot & IOMMU_WRITE, &pieces);
	if (!rc)
		rc = iopt_map_pieces(dst, dst_iova, &pieces, length,
				     iommu_prot, flags);
	iopt_free_pieces(&pieces);
	return rc;
}

/* How often UNMAP asks accesses to let go before it gives up with EBUSY. */
#define IOPT_UNMAP_ACCESS_TRIES 3

/* Let accesses use the areas inside [start, last] again. */
static void iopt_allow_access(struct io_pagetable *iopt, unsigned long start,
			      unsigned long last)
{
	struct iopt_area *area;

	lockdep_assert_held_write(&iopt->iova_rwsem);
	for_each_iopt_area(area, iopt, start, last)
		if (area->node.start >= start && area->node.last <= last)
			area->prevent_access = false;
}

static int iopt_unmap_range(struct io_pagetable *iopt, unsigned long start,
			    unsigned long last, unsigned long *unmapped,
			    bool need_any)
{
	unsigned long busy_first = 0;
	unsigned long busy_last = 0;
	unsigned long total = 0;
	unsigned int tries = 0;
	struct iopt_area *area;
	bool busy;
	int rc;

again:
	down_write(&iopt->iova_rwsem);
	/* Whole areas only: check everything before removing anything. */
	busy = false;
	for_each_iopt_area(area, iopt, start, last) {
		if (area->node.start < start || area->node.last > last) {
			rc = -ENOENT;
			goto out_allow;
		}
		/* a MAP or COPY is still filling it */
		if (area->pending) {
			rc = -EBUSY;
			goto out_allow;
		}
		if (atomic_read(&area->num_accesses)) {
			if (!busy)
				busy_first = area->node.start;
			busy_last = area->node.last;
			busy = true;
			/* no new pins while the accesses are asked to go */
			area->prevent_access = true;
		}
	}
	if (busy) {
		/*
		 * Software accesses pinned pages here. Ask them to let go,
		 * without our lock (they unpin through it), a few times.
		 */
		up_write(&iopt->iova_rwsem);
		if (tries++ == IOPT_UNMAP_ACCESS_TRIES) {
			down_write(&iopt->iova_rwsem);
			rc = -EBUSY;
			goto out_allow;
		}
		iommufd_access_notify_unmap(iopt, busy_first, busy_last);
		goto again;
	}
	while ((area = iopt_area_first(iopt, start, last))) {
		total += iopt_area_length(area);
		iopt_remove_area(iopt, area);
		need_any = false;
	}
	up_write(&iopt->iova_rwsem);
	if (need_any)
		return -ENOENT;
	if (unmapped)
		*unmapped = total;
	return 0;

out_allow:
	/* nothing is unmapped: the areas take accesses again */
	if (tries)
		iopt_allow_access(iopt, start, last);
	up_write(&iopt->iova_rwsem);
	return rc;
}

/* iopt_unmap_range() of [@iova, @iova + @length), @length not 0 */
static int iopt_unmap_length(struct io_pagetable *iopt, unsigned long iova,
			     unsigned long length, unsigned long *unmapped,
			     bool need_any)
{
	unsigned long last;

	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	return iopt_unmap_range(iopt, iova, last, unmapped, need_any);
}

/**
 * iopt_unmap_iova - unmap every area inside an IOVA range
 * @iopt: the table
 * @iova: first IOVA
 * @length: bytes, not 0
 * @unmapped: returns the bytes unmapped
 *
 * Areas that software accesses have pinned pages of are unmapped only once
 * the accesses, told through their unmap callback, have unpinned them.
 *
 * Return: 0; -ENOENT if an area is only partly inside the range (nothing is
 * unmapped then) or if the range holds no area; -EOVERFLOW; -EBUSY if an
 * access keeps its pins.
 */
int iopt_unmap_iova(struct io_pagetable *iopt, unsigned long iova,
		    unsigned long length, unsigned long *unmapped)
{
	return iopt_unmap_length(iopt, iova, length, unmapped, true);
}

/**
 * iopt_unmap_iova_or_none - iopt_unmap_iova() for VFIO type1 semantics
 * @iopt: the table
 * @iova: first IOVA
 * @length: bytes, not 0
 * @unmapped: returns the bytes unmapped
 *
 * Like iopt_unmap_iova(), except that a range holding no area is unmapped
 * successfully, with *@unmapped 0.
 *
 * Return: 0; -ENOENT if an area is only partly inside the range;
 * -EOVERFLOW; -EBUSY if an access keeps its pins.
 */
int iopt_unmap_iova_or_none(struct io_pagetable *iopt, unsigned long iova,
			    unsigned long length, unsigned long *unmapped)
{
	return iopt_unmap_length(iopt, iova, length, unmapped, false);
}

/* Split the area holding @iova, if any, so that an area starts there. */
static int iopt_cut_at(struct io_pagetable *iopt, unsigned long iova)
{
	struct iopt_area *area, *tail;

	lockdep_assert_held_write(&iopt->iova_rwsem);
	area = iopt_area_first(iopt, iova, iova);
	if (!area || area->node.start == iova)
		return 0;
	/*
	 * Accesses pinned through the area, they would not know of a split;
	 * or a MAP is still filling it.
	 */
	if (atomic_read(&area->num_accesses) || area->pending)
		return -EBUSY;
	tail = kzalloc(sizeof(*tail), GFP_KERNEL_ACCOUNT);
	if (!tail)
		return -ENOMEM;
	kref_get(&area->pages->kref);
	tail->iopt = iopt;
	tail->pages = area->pages;
	tail->pages_off = area->pages_off + (iova - area->node.start);
	tail->iommu_prot = area->iommu_prot;
	tail->node.start = iova;
	tail->node.last = area->node.last;

	/* Changing an interval means taking it out of its tree first. */
	interval_tree_remove(&area->node, &iopt->area_itree);
	area->node.last = iova - 1;
	interval_tree_insert(&area->node, &iopt->area_itree);
	interval_tree_insert(&tail->node, &iopt->area_itree);
	iommufd_stat_add(IOMMUFD_STAT_AREAS, 1);
	if (area->filled)
		iopt_area_split_filled(area, tail);
	return 0;
}

/**
 * iopt_cut_iova - make areas start at given IOVAs
 * @iopt: the table, with large pages disabled
 * @iovas: the IOVAs, each aligned to the table's IOVA alignment
 * @num: entries in @iovas
 *
 * An area that holds one of @iovas anywhere but at its first byte is split
 * in two there, so that unmapping whole areas can then take part of what
 * one MAP mapped: VFIO type1 v1 semantics. The IOPTEs stay as they are.
 * That is what needs large pages off: every IOPTE then maps one page, and
 * none can straddle the cut. An unmap of either part later unpins only the
 * pages no other area covers.
 *
 * Return: 0; -EINVAL if large pages are enabled or an IOVA is misaligned
 * (nothing is split then); -EBUSY if a software access pinned pages
 * through an area to split; -ENOMEM. Splits done before one of the last
 * two errors stay: they change no mapping.
 */
int iopt_cut_iova(struct io_pagetable *iopt, const unsigned long *iovas,
		  unsigned int num)
{
	unsigned int i;
	int rc = 0;

	down_write(&iopt->iova_rwsem);
	if (!iopt->disable_large_pages)
		rc = -EINVAL;
	for (i = 0; !rc && i != num; i++)
		if (iovas[i] & (iopt->iova_alignment - 1))
			rc = -EINVAL;
	for (i = 0; !rc && i != num; i++)
		rc = iopt_cut_at(iopt, iovas[i]);
	up_write(&iopt->iova_rwsem);
	return rc;
}

/**
 * iopt_unmap_all - unmap every area
 * @iopt: the table
 * @unmapped: returns the bytes unmapped, may be NULL
 *
 * Return: 0, or -EBUSY if a software access keeps pins.
 */
int iopt_unmap_all(struct io_pagetable *iopt, unsigned long *unmapped)
{
	return iopt_unmap_range(iopt, 0, ULONG_MAX, unmapped, false);
}

static void iopt_each_area_undo(struct io_pagetable *iopt,
				struct iopt_area *stop,
				struct iommu_domain *domain)
{
	struct iopt_area *area;

	for (area = iopt_area_first(iopt, 0, ULONG_MAX); area != stop;
	     area = iopt_area_after(area, 0, ULONG_MAX)) {
		if (iopt->ndomains)
			iopt_area_unmap_domain(area, domain);
		else
			iopt_area_unfill_domains(area, &domain, 1);
	}
}

/* iopt_table_add_domain() under both locks; nothing stays on failure */
static int iopt_add_domain_locked(struct io_pagetable *iopt,
				  struct iommu_domain *domain,
				  unsigned long align)
{
	struct iommu_domain **domains;
	struct iopt_area *area;
	int rc;

	lockdep_assert_held_write(&iopt->domains_rwsem);
	lockdep_assert_held_write(&iopt->iova_rwsem);
	if (!iopt_areas_aligned(iopt, align))
		return -EADDRINUSE;
	domains = krealloc_array(iopt->domains, iopt->ndomains + 1,
				 sizeof(*domains), GFP_KERNEL_ACCOUNT);
	if (!domains)
		return -ENOMEM;
	/* a larger array than needed is harmless if we fail below */
	iopt->domains = domains;

	rc = iopt_reserve_outside(iopt, &domain->geometry, domain);
	if (rc)
		goto undo;
	for_each_iopt_area(area, iopt, 0, ULONG_MAX) {
		/* the first domain pins; later ones copy the first's PFNs */
		rc = iopt->ndomains ?
		     iopt_area_copy_domain(area, area->storage_domain, domain) :
		     iopt_area_fill_domains(area, &domain, 1);
		if (rc) {
			iopt_each_area_undo(iopt, area, domain);
			goto undo;
		}
	}
	iopt->domains[iopt->ndomains++] = domain;
	iopt->iova_alignment = align;
	return 0;

undo:
	__iopt_remove_reserved_iova(iopt, domain);
	return rc;
}

/**
 * iopt_table_add_domain - mirror the table into one more domain
 * @iopt: the table
 * @domain: an empty domain
 *
 * Reserves the IOVA outside the domain's aperture and maps every area into
 * the domain, pinning the memory if this is the first domain.
 *
 * Return: 0; -EADDRINUSE if an area lies outside the aperture or is not
 * aligned to the domain's smallest page, or if the aperture would cut into
 * an allowed range; or an error of pinning and mapping.
 */
int iopt_table_add_domain(struct io_pagetable *iopt,
			  struct iommu_domain *domain)
{
	unsigned long align = max(iopt->iova_alignment,
				  iopt_domain_alignment(domain));
	int rc;

	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	rc = iopt_add_domain_locked(iopt, domain, align);
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
	return rc;
}

/**
 * iopt_table_remove_domain - stop mirroring the table into a domain
 * @iopt: the table
 * @domain: a domain added by iopt_table_add_domain()
 *
 * Unmaps every area from the domain; if it was the last one, the memory is
 * unpinned after it has been unmapped.
 */
void iopt_table_remove_domain(struct io_pagetable *iopt,
			      struct iommu_domain *domain)
{
	struct iopt_area *area;
	unsigned int i;

	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	for (i = 0; i != iopt->ndomains; i++)
		if (iopt->domains[i] == domain)
			break;
	if (WARN_ON(i == iopt->ndomains))
		goto out_unlock;

	for_each_iopt_area(area, iopt, 0, ULONG_MAX) {
		if (iopt->ndomains == 1) {
			iopt_area_unfill_domains(area, &domain, 1);
			continue;
		}
		/* Read PFNs back from a domain that stays from now on. */
		if (area->storage_domain == domain)
			iopt_area_set_storage(area, iopt->domains[i ? 0 : 1]);
		iopt_area_unmap_domain(area, domain);
	}
	memmove(&iopt->domains[i], &iopt->domains[i + 1],
		(iopt->ndomains - i - 1) * sizeof(*iopt->domains));
	iopt->ndomains--;
	__iopt_remove_reserved_iova(iopt, domain);
	iopt_recalc_alignment(iopt);
out_unlock:
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
}

/**
 * iopt_set_large_pages - allow or forbid IOPTEs larger than PAGE_SIZE
 * @iopt: the table
 * @enable: allow them
 *
 * Forbidding them also makes PAGE_SIZE the minimum IOVA alignment.
 *
 * Return: 0; -EBUSY if the table has both domains and areas (their IOPTEs
 * are already chosen); -EADDRINUSE if an area is not PAGE_SIZE aligned.
 */
int iopt_set_large_pages(struct io_pagetable *iopt, bool enable)
{
	int rc = 0;

	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	if (iopt->disable_large_pages == !enable)
		goto out_unlock;
	if (iopt->ndomains && !RB_EMPTY_ROOT(&iopt->area_itree.rb_root)) {
		rc = -EBUSY;
		goto out_unlock;
	}
	if (!enable && !iopt_areas_aligned(iopt, PAGE_SIZE)) {
		rc = -EADDRINUSE;
		goto out_unlock;
	}
	iopt->disable_large_pages = !enable;
	iopt_recalc_alignment(iopt);
out_unlock:
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
	return rc;
}
