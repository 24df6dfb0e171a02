/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The io_pagetable: IOVA areas, the pages objects behind them, and the
 * IOMMU domains they are mirrored into.
 *
 * Lock order (the only one in the subsystem; lockdep checks it):
 *
 *   iommufd_ioas.notify_lock        access.c: one unmap notification at
 *     -> the access driver's locks  a time; drivers' unmap callbacks run
 *       -> iommufd_access.ioas_lock under it, and under nothing else of
 *            |                      ours. ioas_lock: an access's IOAS, pins
 *            |
 *            |   iommufd_group.lock device.c: attach, replace, detach
 *            |     |
 *            v     v
 *          iommufd_ioas.mutex       the IOAS's HWPT and access lists; a
 *            -> io_pagetable.domains_rwsem  HWPT's domain joining the IOAS
 *              -> io_pagetable.iova_rwsem  the IOVA lock
 *                -> iopt_pages.mutex
 *                  -> io_pagetable.map_lock  around each iommu_map() and
 *                                   iommu_unmap() on its domains, and the
 *                                   IOMMU driver's own locks inside it
 *                  -> mm->mmap_lock pinning, locked_vm accounting, reading
 *                                   PFNs from the CPU page table
 *                  -> iopt_pages.cpu_watch_lock  a spinlock, also taken
 *                                   by the watch's invalidations, under
 *                                   whatever locks the mm holds then
 *
 * io_pagetable has two locks. domains_rwsem guards the list of domains
 * and what the fills depend on (alignment, large pages): a MAP or COPY
 * holds it for reading while it pins and maps its new areas, anything that
 * changes the domains holds it for writing. iova_rwsem, the IOVA lock,
 * guards the trees, which are walked through the iterators below
 * (iopt_area_first() and the like) that assert it; the list of
 * domains changes only with both held for writing, so either one keeps it
 * stable. A MAP holds the IOVA lock only to insert its areas, marked
 * pending, and to publish them once filled: a multi-GiB fill does not
 * stall IOVA_RANGES, other maps, unmaps or access pins. A pending area
 * holds its IOVA; lookups see no mapping there (-ENOENT) and UNMAP of it
 * fails with -EBUSY. An access copying unpinned pages through the user's
 * mapping holds the IOVA lock for reading, not the pages mutex, while it
 * may fault (mmap_lock).
 *
 * A context's groups_lock (main.c) is taken outside the group lock: the
 * first bind of a group probes its IOMMU with both held (device.c).
 *
 * ioas_lock and the group lock are never held together; either may be
 * held when the IOAS mutex is taken. A group moving between domains holds
 * both locks of the io_pagetables of the HWPT it leaves and of the one it
 * goes to for writing, under the group lock (and the IOAS mutex of the
 * HWPT it goes to): 6.1's VT-d can't take a map or unmap on a domain a
 * device leaves or first joins (device.c, iommufd_group_move()).
 * iommu_group's mutex (inside iommu_group_replace_domain()) nests under
 * iommufd_group.lock; the IOMMU driver's own locks are taken by
 * iommu_map()/iommu_unmap() under an io_pagetable lock and
 * iopt_pages.mutex, never under mmap_lock. The context's object xarray
 * lock is a spinlock taken on its own, never around any of these. Two
 * io_pagetables are locked at the same time only by that move, in address
 * order, and nothing is taken inside them but iommu_group's mutex (COPY
 * takes the source's lock, drops it, then takes the destination's), and
 * an access or a group moves between IOASes taking one IOAS mutex at a
 * time, so one order covers every IOAS.
 *
 * Between them the two locks protect everything in the io_pagetable: its
 * interval trees, its domain list, the alignment and every area's fields
 * (a pending area's belong to its MAP until it is published). Writers
 * change mappings or domains; readers only look. The pages mutex protects
 * the pages object's own state: which areas are filled (pinned and mapped)
 * and the pin accounting; several io_pagetables can share one pages object
 * after a COPY.
 */
#ifndef __IO_PAGETABLE_H
#define __IO_PAGETABLE_H

#include <linux/container_of.h>
#include <linux/interval_tree.h>
#include <linux/kref.h>
#include <linux/lockdep.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <asm/page.h>

struct iommu_domain;
struct mm_struct;
struct task_struct;
struct user_struct;

/**
 * struct io_pagetable - the IOVA map of an IOAS
 * @domains_rwsem: see the lock order above
 * @iova_rwsem: the IOVA lock, see the lock order above
 * @map_lock: held around every iommu_map()/iommu_unmap() on the domains,
 *            nothing else: one writer per domain page table (pages.c)
 * @area_itree: struct iopt_area by IOVA; areas never overlap
 * @allowed_itree: struct iopt_allowed, the ranges userspace asked to keep
 * @reserved_itree: struct iopt_reserved, IOVA nothing may be mapped at;
 *                  entries may overlap
 * @domains: the domains mirroring the areas; domains[0] is the storage
 *           domain that pinned PFNs are read back from
 * @ndomains: entries in @domains
 * @iova_alignment: alignment of IOVA, length and user address of every
 *                  area: the smallest page of the domains, PAGE_SIZE if
 *                  large pages are disabled, else 1
 * @disable_large_pages: map every page with its own IOPTE
 */
struct io_pagetable {
	struct rw_semaphore domains_rwsem;
	struct rw_semaphore iova_rwsem;
	struct mutex map_lock; /* see the lock order at the top */
	struct rb_root_cached area_itree;
	struct rb_root_cached allowed_itree;
	struct rb_root_cached reserved_itree;
	struct iommu_domain **domains;
	unsigned int ndomains;
	unsigned long iova_alignment;
	bool disable_large_pages;
};

/* the shortest contiguous run an area records, see &iopt_area.runs */
#define IOPT_RUN_HINT_PAGES 64

/**
 * struct iopt_run - pages of an area whose PFNs are consecutive
 * @first: the first page index
 * @npages: number of pages
 */
struct iopt_run {
	unsigned long first;
	unsigned long npages;
};

/**
 * struct iopt_area - one mapping made by MAP or COPY
 * @node: IOVA range in &io_pagetable.area_itree
 * @pages_node: index range of the pages it uses, in
 *              &iopt_pages.filled_itree while the area is filled
 * @iopt: the io_pagetable the area belongs to
 * @pages: the pinned-memory object behind the area (holds a reference)
 * @pages_off: byte offset of the area's first byte from the start of the
 *             first page of @pages
 * @storage_domain: the domain PFNs are read back from while filled;
 *                  changed only with &iopt_pages.mutex held
 * @iommu_prot: IOMMU_READ/IOMMU_WRITE
 * @filled: the area is pinned and mapped into every domain of @iopt
 * @num_accesses: page ranges software accesses pinned through this area;
 *                while not 0 the area can't be unmapped
 * @pending: inserted by a MAP or COPY that is still filling it without
 *           the IOVA lock; see the lock order above
 * @prevent_access: an UNMAP is asking the accesses that pinned pages of
 *                  the area to let go; until it is done no access may pin
 *                  or copy through it (-EINVAL), so the UNMAP can't be
 *                  starved by new pins. Changed with the IOVA lock held
 *                  for writing.
 * @runs: while filled, runs of at least IOPT_RUN_HINT_PAGES pages that
 *        were mapped as one physically contiguous run, sorted by index;
 *        reading PFNs back then takes one page-table walk per run, not
 *        per page. A hint, kept only where memory allowed: pages outside
 *        every run are read one by one. Changed with the pages mutex held.
 * @nruns: entries in @runs
 * @runs_cap: room in @runs
 */
struct iopt_area {
	struct interval_tree_node node;
	struct interval_tree_node pages_node;
	struct io_pagetable *iopt;
	struct iopt_pages *pages;
	unsigned long pages_off;
	struct iommu_domain *storage_domain;
	int iommu_prot;
	bool filled;
	atomic_t num_accesses;
	bool pending;
	bool prevent_access;
	struct iopt_run *runs;
	unsigned int nruns;
	unsigned int runs_cap;
};

/**
 * struct iopt_pages - memory mapped by one IOMMU_IOAS_MAP or _MAP_FILE
 * @kref: areas referencing it, plus transient users
 * @mutex: see the lock order above
 * @uptr: page-aligned user address of the first page; for a file, the
 *        page-aligned file offset of the first page
 * @file: for IOMMU_IOAS_MAP_FILE, the shmem or hugetlbfs file whose page
 *        cache holds the memory (referenced); NULL for user memory
 * @npages: number of pages
 * @writable: pinned for writing
 * @account_mode: enum iommufd_account_mode at the time of the MAP
 * @no_limit: the mapping task had CAP_IPC_LOCK
 * @source_mm: the mm the memory belongs to (mmgrab'ed)
 * @source_task: the task whose RLIMIT_MEMLOCK applies (referenced)
 * @source_user: the user_struct charged in user mode (referenced)
 * @npinned: pages pinned and charged now
 * @filled_itree: filled areas by page index (&iopt_area.pages_node)
 * @access_itree: struct iopt_pages_access, the page ranges software
 *                accesses pinned; a page is pinned exactly when a filled area
 *                or an access range covers it
 * @pinned_pfns: for each page an access range covers, its PFN while no
 *               filled area covers it, a reserved slot (XA_ZERO_ENTRY)
 *               while one does (the PFN is then read from its domain)
 * @cpu_watch: an mmu_interval_notifier on [@uptr, @uptr + @npages pages) of
 *             @source_mm, inserted when the object is made
 * @cpu_watch_lock: orders the watch's invalidations with the checks that
 *                  follow a read of the CPU page table
 * @cpu_watch_seq: the watch's sequence from before the first pin of the
 *                 pages pinned now; it is written under @mutex, and only
 *                 while nothing is pinned
 * @cpu_watched: @cpu_watch was inserted
 */
struct iopt_pages {
	struct kref kref;
	struct mutex mutex; /* see the lock order at the top */
	unsigned long uptr;
	struct file *file;
	unsigned long npages;
	bool writable;
	u8 account_mode;
	bool no_limit;
	struct mm_struct *source_mm;
	struct task_struct *source_task;
	struct user_struct *source_user;
	unsigned long npinned;
	struct rb_root_cached filled_itree;
	struct rb_root_cached access_itree;
	struct xarray pinned_pfns;
	struct mmu_interval_notifier cpu_watch;
	spinlock_t cpu_watch_lock; /* see the lock order at the top */
	unsigned long cpu_watch_seq;
	bool cpu_watched;
};

/**
 * struct iopt_pages_access - a page range pinned by software accesses
 * @node: the page indexes, in &iopt_pages.access_itree
 * @users: pins of exactly this range
 */
struct iopt_pages_access {
	struct interval_tree_node node;
	unsigned int users;
};

/**
 * struct iopt_span - a walk over the used and unused stretches of a range
 * @start: first index of the current stretch
 * @last: last index of the current stretch, inclusive
 * @used: the current stretch is covered by nodes of the tree
 * @done: the walk is over; the other fields are meaningless
 * @itree: the tree walked
 * @range_last: last index of the walked range
 *
 * The nodes of @itree may overlap and touch; a used stretch is a maximal
 * run of indexes that some node covers, an unused stretch a maximal run no
 * node covers. Stretches alternate and together cover the range exactly.
 * Nothing overflows when the range ends at ULONG_MAX.
 */
struct iopt_span {
	unsigned long start;
	unsigned long last;
	bool used;
	bool done;
	struct rb_root_cached *itree;
	unsigned long range_last;
};

void iopt_span_first(struct iopt_span *span, struct rb_root_cached *itree,
		     unsigned long first, unsigned long last);
void iopt_span_next(struct iopt_span *span);

#define for_each_iopt_span(span, itree, first, last)                           \
	for (iopt_span_first(span, itree, first, last); !(span)->done;         \
	     iopt_span_next(span))

bool iopt_fit_in_hole(unsigned long hole_start, unsigned long hole_last,
		      unsigned long length, unsigned long align,
		      unsigned long offset, unsigned long *iova);

/**
 * struct pfn_batch - PFNs collected as runs of contiguous frames
 * @pfns: first PFN of each run
 * @npfns: length of each run
 * @capacity: entries of @pfns and @npfns
 * @nruns: runs in use
 * @total: PFNs in all runs
 */
struct pfn_batch {
	unsigned long *pfns;
	u32 *npfns;
	unsigned int capacity;
	unsigned int nruns;
	unsigned long total;
};

void pfn_batch_init(struct pfn_batch *batch, unsigned long *pfns, u32 *npfns,
		    unsigned int capacity);
unsigned long pfn_batch_add_run(struct pfn_batch *batch, unsigned long pfn,
				unsigned long npfns);
unsigned long pfn_batch_pfn_at(struct pfn_batch *batch, unsigned long index);

/**
 * pfn_batch_add - append one PFN
 * @batch: the batch
 * @pfn: the PFN, following the previously added one in index order
 *
 * A PFN that continues the last run extends it; otherwise it starts a new
 * run, if there is room.
 *
 * Return: false if the batch is full and @pfn was not added.
 */
static inline bool pfn_batch_add(struct pfn_batch *batch,
				 unsigned long pfn)
{
	if (batch->nruns) {
		unsigned int last = batch->nruns - 1;

		if (batch->pfns[last] + batch->npfns[last] == pfn &&
		    batch->npfns[last] != U32_MAX) {
			batch->npfns[last]++;
			batch->total++;
			return true;
		}
	}
	if (batch->nruns == batch->capacity)
		return false;
	batch->pfns[batch->nruns] = pfn;
	batch->npfns[batch->nruns] = 1;
	batch->nruns++;
	batch->total++;
	return true;
}

static inline void pfn_batch_clear(struct pfn_batch *batch)
{
	batch->nruns = 0;
	batch->total = 0;
}

/* io_pagetable.c */
void iopt_init_table(struct io_pagetable *iopt);
void iopt_destroy_table(struct io_pagetable *iopt);
int iopt_map_user_pages(struct io_pagetable *iopt, unsigned long *iova,
			void __user *uptr, unsigned long length, int iommu_prot,
			unsigned int flags, u8 account_mode);
int iopt_map_file_pages(struct io_pagetable *iopt, unsigned long *iova,
			struct file *file, unsigned long start,
			unsigned long length, int iommu_prot,
			unsigned int flags, u8 account_mode);
int iopt_alloc_iova(struct io_pagetable *iopt, unsigned long *iova,
		    unsigned long uptr, unsigned long length);
int iopt_copy(struct io_pagetable *dst, struct io_pagetable *src,
	      unsigned long *dst_iova, unsigned long src_iova,
	      unsigned long length, int iommu_prot, unsigned int flags);
int iopt_unmap_iova(struct io_pagetable *iopt, unsigned long iova,
		    unsigned long length, unsigned long *unmapped);
int iopt_unmap_iova_or_none(struct io_pagetable *iopt, unsigned long iova,
			    unsigned long length, unsigned long *unmapped);
int iopt_cut_iova(struct io_pagetable *iopt, const unsigned long *iovas,
		  unsigned int num);
int iopt_unmap_all(struct io_pagetable *iopt, unsigned long *unmapped);
int iopt_reserve_iova(struct io_pagetable *iopt, unsigned long start,
		      unsigned long last, void *owner);
void iopt_remove_reserved_iova(struct io_pagetable *iopt, void *owner);
int iopt_set_allowed(struct io_pagetable *iopt,
		     struct rb_root_cached *allowed_iova);
void iopt_free_allowed(struct rb_root_cached *itree);
void *iopt_itree_add(struct rb_root_cached *itree, size_t size,
		     size_t node_offset, unsigned long start,
		     unsigned long last);
int iopt_table_add_domain(struct io_pagetable *iopt,
			  struct iommu_domain *domain);
void iopt_table_remove_domain(struct io_pagetable *iopt,
			      struct iommu_domain *domain);
int iopt_set_large_pages(struct io_pagetable *iopt, bool enable);

/**
 * struct iopt_allowed - one range of &io_pagetable.allowed_itree
 * @node: the range
 */
struct iopt_allowed {
	struct interval_tree_node node;
};

/**
 * struct iopt_reserved - one range of &io_pagetable.reserved_itree
 * @node: the range
 * @owner: who reserved it (a domain, a device), NULL for tests
 */
struct iopt_reserved {
	struct interval_tree_node node;
	void *owner;
};

/*
 * Walks of the trees of an io_pagetable. Each *_first() asserts the
 * IOVA lock, which must then stay held, read or write, until the walk is
 * over; the *_after() continue the walk, from an entry still in its
 * tree. They visit the entries that overlap [start, last] in the order of
 * their start, an entry that begins before start included.
 */

/**
 * iopt_area_first - the first area that overlaps an IOVA range
 * @iopt: the table
 * @start: first IOVA of the range
 * @last: last IOVA of the range, inclusive
 *
 * Context: the IOVA lock of @iopt held, read or write.
 * Return: the overlapping area that starts lowest, or NULL.
 */
static inline struct iopt_area *iopt_area_first(struct io_pagetable *iopt,
						unsigned long start,
						unsigned long last)
{
	struct interval_tree_node *node;

	lockdep_assert_held(&iopt->iova_rwsem);
	node = interval_tree_iter_first(&iopt->area_itree, start, last);
	return node ? container_of(node, struct iopt_area, node) : NULL;
}

/**
 * iopt_area_after - the next area that overlaps an IOVA range
 * @area: the area the walk is at
 * @start: first IOVA of the range
 * @last: last IOVA of the range, inclusive
 *
 * Context: the IOVA lock held since iopt_area_first().
 * Return: the overlapping area that starts after @area, or NULL.
 */
static inline struct iopt_area *iopt_area_after(struct iopt_area *area,
						unsigned long start,
						unsigned long last)
{
	struct interval_tree_node *node;

	node = interval_tree_iter_next(&area->node, start, last);
	return node ? container_of(node, struct iopt_area, node) : NULL;
}

/**
 * for_each_iopt_area - walk the areas that overlap an IOVA range
 * @area: the cursor, a struct iopt_area pointer
 * @iopt: the table, its IOVA lock held
 * @start: first IOVA of the range
 * @last: last IOVA of the range, inclusive
 *
 * The body must not remove @area from the tree.
 */
#define for_each_iopt_area(area, iopt, start, last)                            \
	for ((area) = iopt_area_first(iopt, start, last); (area);         \
	     (area) = iopt_area_after(area, start, last))

/**
 * iopt_allowed_first - the first allowed range that overlaps a range
 * @iopt: the table
 * @start: first IOVA of the range
 * @last: last IOVA of the range, inclusive
 *
 * Context: the IOVA lock of @iopt held, read or write.
 * Return: the overlapping allowed range that starts lowest, or NULL.
 */
static inline struct iopt_allowed *
iopt_allowed_first(struct io_pagetable *iopt, unsigned long start,
		   unsigned long last)
{
	struct interval_tree_node *node;

	lockdep_assert_held(&iopt->iova_rwsem);
	node = interval_tree_iter_first(&iopt->allowed_itree, start, last);
	return node ? container_of(node, struct iopt_allowed, node) : NULL;
}

/**
 * iopt_allowed_after - the next allowed range that overlaps a range
 * @allowed: the allowed range the walk is at
 * @start: first IOVA of the range
 * @last: last IOVA of the range, inclusive
 *
 * Context: the IOVA lock held since iopt_allowed_first().
 * Return: the overlapping allowed range that starts after @allowed, or
 * NULL.
 */
static inline struct iopt_allowed *
iopt_allowed_after(struct iopt_allowed *allowed, unsigned long start,
		   unsigned long last)
{
	struct interval_tree_node *node;

	node = interval_tree_iter_next(&allowed->node, start, last);
	return node ? container_of(node, struct iopt_allowed, node) : NULL;
}

/**
 * iopt_reserved_first - the first reservation that overlaps a range
 * @iopt: the table
 * @start: first IOVA of the range
 * @last: last IOVA of the range, inclusive
 *
 * Context: the IOVA lock of @iopt held, read or write.
 * Return: the overlapping reservation that starts lowest, or NULL.
 */
static inline struct iopt_reserved *
iopt_reserved_first(struct io_pagetable *iopt, unsigned long start,
		    unsigned long last)
{
	struct interval_tree_node *node;

	lockdep_assert_held(&iopt->iova_rwsem);
	node = interval_tree_iter_first(&iopt->reserved_itree, start, last);
	return node ? container_of(node, struct iopt_reserved, node) : NULL;
}

/**
 * iopt_reserved_after - the next reservation that overlaps a range
 * @reserved: the reservation the walk is at
 * @start: first IOVA of the range
 * @last: last IOVA of the range, inclusive
 *
 * Context: the IOVA lock held since iopt_reserved_first().
 * Return: the overlapping reservation that starts after @reserved, or
 * NULL.
 */
static inline struct iopt_reserved *
iopt_reserved_after(struct iopt_reserved *reserved, unsigned long start,
		    unsigned long last)
{
	struct interval_tree_node *node;

	node = interval_tree_iter_next(&reserved->node, start, last);
	return node ? container_of(node, struct iopt_reserved, node) : NULL;
}

int iopt_walk_area_pieces(struct io_pagetable *iopt, unsigned long iova,
			  unsigned long last,
			  int (*fn)(struct iopt_area *area,
				    unsigned long first, unsigned long last,
				    unsigned long offset, void *arg),
			  void *arg);

/* pages.c */
struct iopt_pages *iopt_alloc_pages(void __user *uptr, unsigned long length,
				    bool writable, u8 account_mode);
unsigned long iopt_pages_new_charge(struct iopt_pages *pages, u8 mode);
void iopt_pages_change_process(struct iopt_pages *pages);
struct iopt_pages *iopt_alloc_file_pages(struct file *file,
					 unsigned long start,
					 unsigned long length, bool writable,
					 u8 account_mode);
void iopt_release_pages(struct kref *kref);
static inline void iopt_put_pages(struct iopt_pages *pages)
{
	kref_put(&pages->kref, iopt_release_pages);
}

int iopt_area_fill_domains(struct iopt_area *area,
			   struct iommu_domain **domains,
			   unsigned int ndomains);
void iopt_area_unfill_domains(struct iopt_area *area,
			      struct iommu_domain **domains,
			      unsigned int ndomains);
void iopt_area_split_filled(struct iopt_area *area, struct iopt_area *tail);
int iopt_area_copy_domain(struct iopt_area *area, struct iommu_domain *src,
			  struct iommu_domain *dst);
void iopt_area_unmap_domain(struct iopt_area *area,
			    struct iommu_domain *domain);
void iopt_area_set_storage(struct iopt_area *area,
			   struct iommu_domain *domain);
int iopt_area_add_access(struct iopt_area *area, unsigned long first,
			 unsigned long last, struct page **out_pages,
			 bool write);
int iopt_area_rw(struct iopt_area *area, unsigned long start, void *data,
		 unsigned long length, unsigned int flags);
void iopt_area_remove_access(struct iopt_area *area, unsigned long first,
			     unsigned long last);

static inline unsigned long iopt_area_length(struct iopt_area *area)
{
	return area->node.last - area->node.start + 1;
}

/* Index in the pages object of the area's first and last page. */
static inline unsigned long iopt_area_first_index(struct iopt_area *area)
{
	return area->pages_off >> PAGE_SHIFT;
}

static inline unsigned long iopt_area_last_index(struct iopt_area *area)
{
	return (area->pages_off + iopt_area_length(area) - 1) >> PAGE_SHIFT;
}

#endif
