// SPDX-License-Identifier: GPL-2.0-only
/*
 * pages: pinning user memory once and programming it into IOMMU domains.
 *
 * Theory of operation
 * -------------------
 * A struct iopt_pages stands for the user memory of one IOMMU_IOAS_MAP,
 * as whole pages. Areas (io_pagetable.c) point at byte ranges of it; COPY
 * makes more areas on the same pages object, in the same or another IOAS.
 *
 * Memory is pinned only while a domain needs it. An area is "filled" when
 * its IOAS has at least one domain: then every page it covers is pinned and
 * mapped into all of the IOAS's domains. The pages object keeps its filled
 * areas in filled_itree, by page index, and that tree is the whole pin
 * state: a page is pinned, exactly once, iff a filled area covers it. So
 *
 *  - filling an area pins only the pages no other filled area covers; for
 *    the others it reads the PFN back from that area's storage domain
 *    (iommu_iova_to_phys()) instead of pinning again;
 *  - unfilling an area reads the PFNs back from its storage domain,
 *    unmaps the area from every domain (iommu_unmap() flushes the IOTLB
 *    before returning), and only then unpins the pages no other filled area
 *    covers.
 *
 * No array of PFNs is kept while domains hold them. Work goes through a
 * struct pfn_batch, which stores PFNs as runs of contiguous frames. A whole
 * batch goes to each domain in one iommu_map_sg() call, one scatterlist
 * entry per run: the IOMMU core picks the largest page sizes the domain
 * supports for each run, and the driver syncs its IOTLB once per batch (on
 * VT-d in caching mode that is a flush) rather than once per run. With
 * large pages disabled by the IOAS every page is mapped on its own. A batch
 * ends only where the next PFN is not contiguous, so no IOPTE ever
 * straddles two batches, and unmapping a batch's IOVA never takes more than
 * the batch.
 *
 * Reading PFNs back costs a page-table walk per page. To walk less, a
 * filling area notes the long runs it mapped (&iopt_area.runs, 16 bytes per
 * run of at least IOPT_RUN_HINT_PAGES pages, so well under a byte per page)
 * and reads one PFN per run. A note stays true while the area is filled:
 * its pages stay pinned, so their PFNs can't change. Scattered 4K pages
 * make no notes and cost no memory.
 *
 * Reading PFNs back from the CPU page table: a pages object of at least
 * IOPT_CPU_READ_MIN_PAGES pages watches its user range with an
 * mmu_interval_notifier (cpu_watch) from the moment it is made, before
 * anything is pinned (a smaller one is read back from its domain: a walk or
 * two costs less than the watch and the snapshot). The mm changes what a
 * present PTE maps only after invalidating its address, which is what
 * secondary MMUs like KVM's rely on; so while the watch has seen no
 * invalidation since the first pin of what is pinned now, every PTE of the
 * range still maps the page pinned through it. Scattered pages are then
 * read back, a batch at a time, from one hmm_range_fault() snapshot of the
 * CPU page table (a few instructions a page) instead of an
 * iommu_iova_to_phys() walk each. The snapshot is used only if the watch's
 * sequence is still the one from before the pins, checked after the
 * snapshot under cpu_watch_lock, which the invalidation takes to bump the
 * sequence: a PTE change not yet seen by the check comes after the snapshot
 * read it. Anything else (the sequence moved, the mm is gone, a PTE not
 * present) and the PFNs come from the domain as before. Any invalidation of
 * the range (munmap, mremap, mprotect, fork, a COW, migration, the mm's
 * exit) ends the fast path for the pages object until nothing of it is
 * pinned any more; the first pin after that takes a new sequence. A kernel
 * with IOMMUFD_DEBUG checks each snapshot against the domain.
 *
 * Memory of a file (IOMMU_IOAS_MAP_FILE): a pages object may stand for a
 * range of a shmem (memfd) or hugetlbfs file instead of user memory; then
 * @file is set and @uptr is the file offset of its first page. Its pages
 * are found in the file's page cache, not through an mm: a hole of the
 * file is filled first (shmem allocates it, hugetlbfs through
 * fallocate), and each page is then pinned as GUP pins (FOLL_PIN), so that
 * unpinning, dirtying and the pin checks are the same for both kinds. Such
 * a pages object has no CPU page table to read PFNs back from: they come
 * from the domains. A file truncated or punched under its pins keeps the
 * pinned pages alive until they are unpinned, as user memory unmapped
 * under its pins does; the device never reaches a freed page.
 *
 * Every pinned page is charged once, when pinned: to the user's or the
 * mm's locked_vm (enum iommufd_account_mode) against RLIMIT_MEMLOCK of the
 * task that made the mapping, and to mm->pinned_vm. Charging and
 * uncharging go by whole pin calls and batches, as the mm's mode takes the
 * mmap lock each time.
 *
 * Locking: filling holds the io_pagetable's domains lock (a MAP fills its
 * pending areas without the IOVA lock), everything else the IOVA lock;
 * filling and unfilling take the pages mutex, see io_pagetable.h for the
 * order.
 */
#include <linux/err.h>
#include <linux/falloc.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/hmm.h>
#include <linux/hugetlb.h>
#include <linux/iommu.h>
#include <linux/iommufd.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/overflow.h>
#include <linux/scatterlist.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>

#include "iommufd_private.h"

/* Entries of the temporary arrays used while pinning and mapping. */
#define IOPT_TEMP_ENTRIES 1024
#define IOPT_TEMP_ENTRY_BYTES                                                  \
	(sizeof(unsigned long) + sizeof(u32) + sizeof(struct page *) +        \
	 sizeof(struct scatterlist))

/*
 * The fewest pages worth a CPU page table snapshot (a lock and a walk from
 * the top) rather than a domain walk per page: between two noted runs, and
 * in a whole pages object, which smaller is never watched.
 */
#define IOPT_CPU_READ_MIN_PAGES 16

/* The longest scatterlist entry made: their lengths are 32 bits. */
#define IOPT_SG_MAX_BYTES BIT(31)

/**
 * pfn_batch_init - start an empty batch on caller-provided arrays
 * @batch: the batch
 * @pfns: room for @capacity run starts
 * @npfns: room for @capacity run lengths
 * @capacity: number of runs the batch can hold, at least 1
 */
void pfn_batch_init(struct pfn_batch *batch, unsigned long *pfns, u32 *npfns,
		    unsigned int capacity)
{
	batch->pfns = pfns;
	batch->npfns = npfns;
	batch->capacity = capacity;
	pfn_batch_clear(batch);
}

/**
 * pfn_batch_add_run - append consecutive PFNs
 * @batch: the batch
 * @pfn: the first of them, following the previously added PFN in index order
 * @npfns: how many, @pfn and those after it
 *
 * Return: how many were added, from 0 (the batch was full) to @npfns.
 */
unsigned long pfn_batch_add_run(struct pfn_batch *batch, unsigned long pfn,
				unsigned long npfns)
{
	unsigned long done = 0;

	while (done != npfns && pfn_batch_add(batch, pfn + done)) {
		unsigned int last = batch->nruns - 1;
		unsigned long more;

		done++;
		more = min_t(unsigned long, npfns - done,
			     U32_MAX - batch->npfns[last]);
		batch->npfns[last] += more;
		batch->total += more;
		done += more;
	}
	return done;
}

/**
 * pfn_batch_pfn_at - the PFN at a position of the batch
 * @batch: the batch
 * @index: position, counting every PFN added, below &pfn_batch.total
 *
 * Return: the PFN.
 */
unsigned long pfn_batch_pfn_at(struct pfn_batch *batch, unsigned long index)
{
	unsigned int run;

	for (run = 0; run != batch->nruns; run++) {
		if (index < batch->npfns[run])
			return batch->pfns[run] + index;
		index -= batch->npfns[run];
	}
	WARN_ON(1);
	return 0;
}

/*
 * Entries kept in struct iopt_work itself, on its user's stack, for a
 * small area (a vIOMMU guest maps 4 KiB at a time): no allocation then.
 */
#define IOPT_WORK_INLINE 4

/* The temporary state of one fill, unfill or copy. */
struct iopt_work {
	struct iopt_area *area;
	struct pfn_batch batch;
	/* page index of the batch's first PFN */
	unsigned long batch_index;
	struct page **upages;
	struct scatterlist *sgl;
	/* room for a hmm_range_fault() snapshot of the batch, or NULL */
	unsigned long *cpu_pfns;
	unsigned int capacity;
	/* a fill: note the long runs mapped in &iopt_area.runs */
	bool note_runs;
	/* the arrays above when capacity <= IOPT_WORK_INLINE */
	struct {
		unsigned long pfns[IOPT_WORK_INLINE];
		u32 npfns[IOPT_WORK_INLINE];
		struct page *upages[IOPT_WORK_INLINE];
		struct scatterlist sgl[IOPT_WORK_INLINE];
		unsigned long cpu_pfns[IOPT_WORK_INLINE];
	} inl;
};

static int iopt_work_init(struct iopt_work *work, struct iopt_area *area)
{
	size_t bytes = iommufd_test_temp_limit(IOPT_TEMP_ENTRIES *
					       IOPT_TEMP_ENTRY_BYTES);
	unsigned int capacity = max_t(size_t, bytes / IOPT_TEMP_ENTRY_BYTES, 1);
	unsigned long *pfns;
	u32 *npfns;

	/*
	 * Every array holds at most one entry per page of the area (a run,
	 * a page, a scatterlist entry, a snapshot PFN), so a small area
	 * gets small arrays: a vIOMMU guest maps and unmaps 4 KiB at a
	 * time, and some 60 KiB of arrays each way cost more than the work.
	 */
	capacity = min_t(unsigned long, capacity,
			 iopt_area_last_index(area) -
			 iopt_area_first_index(area) + 1);
	work->area = area;
	work->capacity = capacity;
	work->note_runs = false;
	work->cpu_pfns = NULL;
	if (capacity <= IOPT_WORK_INLINE) {
		pfns = work->inl.pfns;
		npfns = work->inl.npfns;
		work->upages = work->inl.upages;
		work->sgl = work->inl.sgl;
		if (area->pages->cpu_watched)
			work->cpu_pfns = work->inl.cpu_pfns;
	} else {
		pfns = kmalloc_array(capacity, sizeof(*pfns),
				     GFP_KERNEL_ACCOUNT);
		npfns = kmalloc_array(capacity, sizeof(*npfns),
				      GFP_KERNEL_ACCOUNT);
		work->upages = kmalloc_array(capacity, sizeof(*work->upages),
					     GFP_KERNEL_ACCOUNT);
		work->sgl = kvmalloc_array(capacity, sizeof(*work->sgl),
					   GFP_KERNEL_ACCOUNT);
		if (!pfns || !npfns || !work->upages || !work->sgl) {
			kfree(pfns);
			kfree(npfns);
			kfree(work->upages);
			kvfree(work->sgl);
			return -ENOMEM;
		}
		/* without it PFNs are read from domains: no failure */
		if (area->pages->cpu_watched)
			work->cpu_pfns = kmalloc_array(capacity,
						       sizeof(*work->cpu_pfns),
						       GFP_KERNEL_ACCOUNT |
						       __GFP_NOWARN);
	}
	sg_init_table(work->sgl, capacity);
	pfn_batch_init(&work->batch, pfns, npfns, capacity);
	return 0;
}

static void iopt_work_destroy(struct iopt_work *work)
{
	if (work->upages == work->inl.upages)
		return;
	kfree(work->cpu_pfns);
	kfree(work->batch.pfns);
	kfree(work->batch.npfns);
	kfree(work->upages);
	kvfree(work->sgl);
}

/* IOVA of the first and last byte of page @index inside @area. */
static unsigned long iopt_index_iova(struct iopt_area *area,
				     unsigned long index)
{
	unsigned long first = iopt_area_first_index(area);

	if (index == first)
		return area->node.start;
	return area->node.start +
	       (((index - first) << PAGE_SHIFT) - offset_in_page(area->pages_off));
}

static unsigned long iopt_index_last_iova(struct iopt_area *area,
					  unsigned long index)
{
	unsigned long first = iopt_area_first_index(area);

	if (index == iopt_area_last_index(area))
		return area->node.last;
	return area->node.start +
	       (((index - first + 1) << PAGE_SHIFT) -
		offset_in_page(area->pages_off)) - 1;
}

/* Bytes of page @index that come before the area's first byte in it. */
static unsigned long iopt_index_page_offset(struct iopt_area *area,
					    unsigned long index)
{
	if (index == iopt_area_first_index(area))
		return offset_in_page(area->pages_off);
	return 0;
}

static unsigned long iopt_read_pfn(struct iopt_area *area,
				   struct iommu_domain *domain,
				   unsigned long index)
{
	phys_addr_t phys = iommu_iova_to_phys(domain,
					      iopt_index_iova(area, index));

	WARN_ON(!phys);
	return PHYS_PFN(phys);
}

/*
 * Whether GUP holds @page for us. 6.1's pin_user_pages() takes no pin on
 * the shared zero page (a read-only pin of memory nobody wrote yet): it
 * is never freed, and unpinning it does nothing, so it counts as held.
 */
static bool iopt_page_held(struct page *page)
{
	return is_zero_page(page) || page_maybe_dma_pinned(page);
}

/*
 * IOMMUFD_DEBUG: every PFN of the batch is pinned. A domain may map a page
 * only while it is pinned, so this holds for what is about to be mapped
 * and for what is about to be unmapped; a page found unpinned here is one
 * a device could reach after it was freed.
 */
static void iopt_debug_batch_pinned(struct iopt_work *work)
{
	struct pfn_batch *batch = &work->batch;
	unsigned long index = work->batch_index;
	unsigned int run;
	unsigned long i;

	if (!IS_ENABLED(CONFIG_IOMMUFD_DEBUG))
		return;
	for (run = 0; run != batch->nruns; run++) {
		for (i = 0; i != batch->npfns[run]; i++, index++) {
			unsigned long pfn = batch->pfns[run] + i;
			struct page *page = pfn_to_page(pfn);

			if (iopt_page_held(page))
				continue;
			pr_err("iommufd: pfn %#lx of page %lu (batch run %u of %u, +%lu) is not pinned: count %d mapcount %d anon %d compound %d zero %d; pages uptr %#lx npinned %lu writable %d\n",
			       pfn, index, run, batch->nruns, i,
			       page_count(page), page_mapcount(page),
			       PageAnon(page), PageCompound(page),
			       is_zero_pfn(pfn), work->area->pages->uptr,
			       work->area->pages->npinned,
			       work->area->pages->writable);
			WARN_ON_ONCE(1);
			return;
		}
	}
}

/*
 * The noted run of @area that holds page @index, or NULL; *@r is where the
 * search starts and is left for the next, higher, index.
 */
static struct iopt_run *iopt_run_at(struct iopt_area *area, unsigned int *r,
				    unsigned long index)
{
	while (*r != area->nruns &&
	       area->runs[*r].first + area->runs[*r].npages <= index)
		(*r)++;
	if (*r == area->nruns || area->runs[*r].first > index)
		return NULL;
	return &area->runs[*r];
}

static bool iopt_cpu_watch_invalidate(struct mmu_interval_notifier *mni,
				      const struct mmu_notifier_range *range,
				      unsigned long cur_seq)
{
	struct iopt_pages *pages = container_of(mni, struct iopt_pages,
						cpu_watch);

	spin_lock(&pages->cpu_watch_lock);
	mmu_interval_set_seq(mni, cur_seq);
	spin_unlock(&pages->cpu_watch_lock);
	return true;
}

static const struct mmu_interval_notifier_ops iopt_cpu_watch_ops = {
	.invalidate = iopt_cpu_watch_invalidate,
};

/* Watch the pages' user range; without a watch PFNs come from domains. */
static void iopt_cpu_watch_start(struct iopt_pages *pages)
{
	unsigned long length;

	if (check_shl_overflow(pages->npages, PAGE_SHIFT, &length) ||
	    mmu_interval_notifier_insert(&pages->cpu_watch, pages->source_mm,
					 pages->uptr, length,
					 &iopt_cpu_watch_ops))
		return;
	pages->cpu_watched = true;
	pages->cpu_watch_seq = mmu_interval_read_begin(&pages->cpu_watch);
}

/*
 * Add the PFNs of pages [@index, @last], as many as the batch takes, from
 * a snapshot of the CPU page table, if the watch shows that table still
 * maps what was pinned (see the top of the file). The pages are pinned,
 * and stay so: their area is filled or being unfilled, so cpu_watch_seq
 * does not change under us. @domain maps them too; IOMMUFD_DEBUG checks
 * it agrees. Returns the index after the last page added, @index if nothing
 * was added: the PFNs must come from @domain.
 */
static unsigned long iopt_batch_from_cpu(struct iopt_work *work,
					 struct iommu_domain *domain,
					 unsigned long index,
					 unsigned long last)
{
	struct iopt_area *area = work->area;
	struct iopt_pages *pages = area->pages;
	/* each page takes at most one more run: all n of them fit */
	unsigned long n = min_t(unsigned long, last - index + 1,
				work->capacity - work->batch.nruns);
	struct mm_struct *mm = pages->source_mm;
	struct hmm_range range = {
		.notifier = &pages->cpu_watch,
		.notifier_seq = pages->cpu_watch_seq,
		.start = pages->uptr + (index << PAGE_SHIFT),
		.end = pages->uptr + ((index + n) << PAGE_SHIFT),
		.hmm_pfns = work->cpu_pfns,
	};
	bool own_mm = current->mm == mm;
	unsigned long i;
	bool stale;
	int rc;

	if (!n || !work->cpu_pfns ||
	    mmu_interval_check_retry(range.notifier, range.notifier_seq))
		return index;
	if (!own_mm && !mmget_not_zero(mm))
		return index;
	/*
	 * A fast path only: never wait for the mmap lock. Unmap, detach,
	 * close and unbind come here holding iommufd and VFIO locks, and the
	 * owner's mmap lock can be held for as long as a page fault takes
	 * (a FUSE read), with a writer queued behind it.
	 */
	if (!mmap_read_trylock(mm)) {
		if (!own_mm)
			mmput(mm);
		iommufd_stat_add(IOMMUFD_STAT_READ_CPU_BUSY, 1);
		return index;
	}
	/* default_flags 0: a snapshot, nothing is faulted in */
	rc = hmm_range_fault(&range);
	mmap_read_unlock(mm);
	if (!own_mm)
		mmput(mm);
	if (rc)
		return index;
	spin_lock(&pages->cpu_watch_lock);
	stale = mmu_interval_read_retry(range.notifier, range.notifier_seq);
	spin_unlock(&pages->cpu_watch_lock);
	if (stale)
		return index;
	for (i = 0; i != n; i++)
		if (!(work->cpu_pfns[i] & HMM_PFN_VALID))
			return index;
	for (i = 0; i != n; i++) {
		unsigned long pfn = work->cpu_pfns[i] & ~HMM_PFN_FLAGS;

		if (IS_ENABLED(CONFIG_IOMMUFD_DEBUG)) {
			unsigned long iova = iopt_index_iova(area, index + i);

			WARN_ON_ONCE(PHYS_PFN(iommu_iova_to_phys(domain,
								 iova)) != pfn);
		}
		pfn_batch_add(&work->batch, pfn);
	}
	iommufd_stat_add(IOMMUFD_STAT_READ_CPU, n);
	return index + n;
}

/*
 * Fill the batch, from page @index (work->batch_index) on, with the PFNs
 * @domain maps pages [@index, @last] of the area at, until it is full. A
 * page inside a noted run costs no walk: the run's PFNs follow the first
 * one read; scattered pages come from the CPU page table if it can be
 * trusted. Returns the index after the last page added.
 */
static unsigned long iopt_batch_from_domain(struct iopt_work *work,
					    struct iommu_domain *domain,
					    unsigned long index,
					    unsigned long last)
{
	struct iopt_area *area = work->area;
	unsigned int r = 0;

	/* scattered pages, nothing noted: the plain loop, page by page */
	if (!area->nruns) {
		unsigned long start = index;
		unsigned long iova;

		index = iopt_batch_from_cpu(work, domain, start, last);
		if (index != start)
			return index;
		iova = iopt_index_iova(area, index);
		while (index <= last) {
			phys_addr_t phys = iommu_iova_to_phys(domain, iova);

			WARN_ON(!phys);
			if (!pfn_batch_add(&work->batch, PHYS_PFN(phys)))
				break;
			iova += PAGE_SIZE - iopt_index_page_offset(area, index);
			index++;
		}
		iommufd_stat_add(IOMMUFD_STAT_READ_DOMAIN, index - start);
		return index;
	}
	while (index <= last) {
		struct iopt_run *run = iopt_run_at(area, &r, index);
		unsigned long pfn, n = 1;

		if (!run) {
			/* the pages before the next run from the CPU, if we may */
			unsigned long gap_last = last;
			unsigned long end;

			if (r != area->nruns)
				gap_last = min(area->runs[r].first - 1, last);
			end = index;
			if (gap_last - index + 1 >= IOPT_CPU_READ_MIN_PAGES)
				end = iopt_batch_from_cpu(work, domain, index,
							  gap_last);
			if (end != index) {
				index = end;
				continue;
			}
		}
		pfn = iopt_read_pfn(area, domain, index);
		if (run)
			n = min(run->first + run->npages - 1, last) - index + 1;
		n = pfn_batch_add_run(&work->batch, pfn, n);
		if (!n)
			break;
		iommufd_stat_add(IOMMUFD_STAT_READ_DOMAIN, n);
		index += n;
	}
	return index;
}

/*
 * Every change to a domain's page table goes through these three, with
 * the io_pagetable's map_lock held: one writer per domain at a time. MAPs
 * fill without the IOVA lock, so without it two MAPs, or a MAP and an
 * UNMAP, would write one domain at once, and 6.1's VT-d keeps the highest
 * mapped address (dmar_domain->max_addr) with no lock of its own: a lost
 * update lets a later attach cut away a live high mapping, whose UNMAP then
 * BUG()s. Pinning and reading PFNs back stay outside the lock.
 */
static int iopt_domain_map(struct io_pagetable *iopt,
			   struct iommu_domain *domain, unsigned long iova,
			   phys_addr_t phys, size_t length, int prot)
{
	int rc;

	mutex_lock(&iopt->map_lock);
	rc = iommu_map(domain, iova, phys, length, prot);
	mutex_unlock(&iopt->map_lock);
	return rc;
}

static ssize_t iopt_domain_map_sg(struct io_pagetable *iopt,
				  struct iommu_domain *domain,
				  unsigned long iova, struct scatterlist *sg,
				  unsigned int nents, int prot)
{
	ssize_t mapped;

	mutex_lock(&iopt->map_lock);
	mapped = iommu_map_sg(domain, iova, sg, nents, prot);
	mutex_unlock(&iopt->map_lock);
	return mapped;
}

static size_t iopt_domain_unmap(struct io_pagetable *iopt,
				struct iommu_domain *domain,
				unsigned long iova, size_t size)
{
	size_t unmapped;

	mutex_lock(&iopt->map_lock);
	unmapped = iommu_unmap(domain, iova, size);
	mutex_unlock(&iopt->map_lock);
	return unmapped;
}

/*
 * Map [iova, iova + length) to phys, page by page if large pages are off.
 * Every IOPTE is cache coherent (IOMMU_CACHE): without it some page-table
 * formats (io-pgtable-arm) make non-snooping entries, and DMA then misses
 * what the CPU caches hold.
 */
static int iopt_map_range(struct iopt_area *area, struct iommu_domain *domain,
			  unsigned long iova, phys_addr_t phys,
			  unsigned long length)
{
	struct io_pagetable *iopt = area->iopt;
	int prot = area->iommu_prot | IOMMU_CACHE;
	unsigned long done = 0;
	int rc;

	if (!iopt->disable_large_pages)
		return iopt_domain_map(iopt, domain, iova, phys, length, prot);

	while (done != length) {
		unsigned long chunk = min(length - done,
					  PAGE_SIZE - offset_in_page(iova + done));

		rc = iopt_domain_map(iopt, domain, iova + done, phys + done,
				     chunk, prot);
		if (rc) {
			if (done)
				iopt_domain_unmap(iopt, domain, iova, done);
			return rc;
		}
		done += chunk;
	}
	return 0;
}

static void iopt_unmap_iova_range(struct io_pagetable *iopt,
				  struct iommu_domain *domain,
				  unsigned long iova, unsigned long last)
{
	size_t size = last - iova + 1;
	size_t unmapped;

	unmapped = iopt_domain_unmap(iopt, domain, iova, size);
	WARN_ON(unmapped != size);
}

/*
 * Map the batch, which holds the PFNs of pages work->batch_index and
 * onwards, into every domain, run by run. On failure nothing of the batch
 * stays mapped.
 */
static int iopt_map_batch_runs(struct iopt_work *work,
			       struct iommu_domain **domains,
			       unsigned int ndomains)
{
	struct iopt_area *area = work->area;
	unsigned long index = work->batch_index;
	unsigned long batch_iova = iopt_index_iova(area, index);
	unsigned long iova = batch_iova;
	unsigned long last = batch_iova;
	unsigned int run;
	unsigned int i = 0;
	unsigned int j;
	int rc = 0;

	for (run = 0; run != work->batch.nruns; run++) {
		phys_addr_t phys = PFN_PHYS(work->batch.pfns[run]) +
				   iopt_index_page_offset(area, index);

		iova = iopt_index_iova(area, index);
		last = iopt_index_last_iova(area,
					    index + work->batch.npfns[run] - 1);
		for (i = 0; i != ndomains; i++) {
			rc = iopt_map_range(area, domains[i], iova, phys,
					    last - iova + 1);
			if (rc)
				goto err_unmap;
		}
		index += work->batch.npfns[run];
	}
	return 0;

err_unmap:
	/*
	 * Domains before the failed one hold the batch up to the failed run
	 * included, the others up to the run before it. iommu_map() undid
	 * its own partial work.
	 */
	for (j = 0; j != ndomains; j++) {
		if (j < i)
			iopt_unmap_iova_range(area->iopt, domains[j],
					      batch_iova, last);
		else if (iova != batch_iova)
			iopt_unmap_iova_range(area->iopt, domains[j],
					      batch_iova, iova - 1);
	}
	return rc;
}

/*
 * The batch as a scatterlist in work->sgl, each run in entries of at most
 * IOPT_SG_MAX_BYTES; returns the number of entries, 0 if they don't fit.
 */
static unsigned int iopt_batch_to_sg(struct iopt_work *work,
				     unsigned long *length)
{
	struct iopt_area *area = work->area;
	unsigned long index = work->batch_index;
	unsigned int nents = 0;
	unsigned int run;

	*length = 0;
	for (run = 0; run != work->batch.nruns; run++) {
		unsigned long iova = iopt_index_iova(area, index);
		unsigned long last = iopt_index_last_iova(area,
				index + work->batch.npfns[run] - 1);
		phys_addr_t phys = PFN_PHYS(work->batch.pfns[run]) +
				   iopt_index_page_offset(area, index);
		unsigned long left = last - iova + 1;

		while (left) {
			unsigned long len = min(left, IOPT_SG_MAX_BYTES);

			if (nents == work->capacity)
				return 0;
			sg_set_page(&work->sgl[nents++],
				    pfn_to_page(PHYS_PFN(phys)), len,
				    offset_in_page(phys));
			phys += len;
			left -= len;
		}
		*length += last - iova + 1;
		index += work->batch.npfns[run];
	}
	return nents;
}

/* Note the batch's long runs in the area, as far as memory allows. */
static void iopt_note_runs(struct iopt_work *work)
{
	struct iopt_area *area = work->area;
	unsigned long index = work->batch_index;
	unsigned int run;

	for (run = 0; run != work->batch.nruns; run++) {
		unsigned long n = work->batch.npfns[run];

		if (n >= IOPT_RUN_HINT_PAGES) {
			if (area->nruns == area->runs_cap) {
				unsigned int cap = max(2 * area->runs_cap, 8U);
				struct iopt_run *runs;

				runs = krealloc_array(area->runs, cap,
						      sizeof(*runs),
						      GFP_KERNEL_ACCOUNT |
						      __GFP_NOWARN);
				if (!runs)
					return;
				area->runs = runs;
				area->runs_cap = cap;
			}
			area->runs[area->nruns].first = index;
			area->runs[area->nruns].npages = n;
			area->nruns++;
		}
		index += n;
	}
}

static void iopt_forget_runs(struct iopt_area *area)
{
	kfree(area->runs);
	area->runs = NULL;
	area->nruns = 0;
	area->runs_cap = 0;
}

/*
 * Map the batch, which holds the PFNs of pages work->batch_index and
 * onwards, into every domain: one iommu_map_sg() per domain where it can,
 * so the driver syncs once per batch. On failure nothing of the batch stays
 * mapped.
 */
static int iopt_map_batch(struct iopt_work *work,
			  struct iommu_domain **domains, unsigned int ndomains)
{
	struct iopt_area *area = work->area;
	unsigned long iova = iopt_index_iova(area, work->batch_index);
	int prot = area->iommu_prot | IOMMU_CACHE;
	unsigned long length;
	unsigned int nents = 0;
	unsigned int i;
	ssize_t mapped;
	int rc = 0;

	if (!work->batch.nruns)
		return 0;
	iopt_debug_batch_pinned(work);
	if (!area->iopt->disable_large_pages)
		nents = iopt_batch_to_sg(work, &length);
	if (!nents) {
		rc = iopt_map_batch_runs(work, domains, ndomains);
		goto out;
	}
	for (i = 0; i != ndomains; i++) {
		mapped = iopt_domain_map_sg(area->iopt, domains[i], iova,
					    work->sgl, nents, prot);
		if (mapped == length)
			continue;
		/* iommu_map_sg() undid its own work when it failed */
		if (WARN_ON(mapped >= 0)) {
			if (mapped)
				iopt_unmap_iova_range(area->iopt, domains[i],
						      iova, iova + mapped - 1);
			rc = -EINVAL;
		} else {
			rc = mapped;
		}
		while (i--)
			iopt_unmap_iova_range(area->iopt, domains[i], iova,
					      iova + length - 1);
		break;
	}
out:
	if (!rc && work->note_runs)
		iopt_note_runs(work);
	return rc;
}

/*
 * Who pinned pages are charged to: the mm, task and user of a pages
 * object's source, or those of a process taking them over.
 */
struct iopt_owner {
	struct mm_struct *mm;
	struct task_struct *task;
	struct user_struct *user;
	bool no_limit;
};

static struct iopt_owner iopt_pages_owner(struct iopt_pages *pages)
{
	return (struct iopt_owner){
		.mm = pages->source_mm,
		.task = pages->source_task,
		.user = pages->source_user,
		.no_limit = pages->no_limit,
	};
}

/*
 * Charge @npages pinned pages to @o in @mode, against its RLIMIT_MEMLOCK
 * unless it may lock without limit, and to its mm's pinned_vm; or
 * (@charge false) give them back.
 */
static int iopt_account(const struct iopt_owner *o, u8 mode,
			unsigned long npages, bool charge)
{
	int rc = 0;

	if (mode == IOMMUFD_ACCOUNT_USER) {
		unsigned long limit =
			task_rlimit(o->task, RLIMIT_MEMLOCK) >> PAGE_SHIFT;
		long cur = atomic_long_read(&o->user->locked_vm);

		if (!charge) {
			atomic_long_sub(npages, &o->user->locked_vm);
			goto pinned;
		}
		do {
			if (!o->no_limit && cur + npages > limit)
				return -ENOMEM;
		} while (!atomic_long_try_cmpxchg(&o->user->locked_vm, &cur,
						  cur + npages));
	} else {
		mmap_write_lock(o->mm);
		rc = __account_locked_vm(o->mm, npages, charge, o->task,
					 o->no_limit || !charge);
		mmap_write_unlock(o->mm);
		if (rc)
			return rc;
	}
pinned:
	if (charge)
		atomic64_add(npages, &o->mm->pinned_vm);
	else
		atomic64_sub(npages, &o->mm->pinned_vm);
	return 0;
}

static int iopt_pages_charge(struct iopt_pages *pages, unsigned long npages)
{
	struct iopt_owner o = iopt_pages_owner(pages);
	int rc;

	rc = iopt_account(&o, pages->account_mode, npages, true);
	if (rc)
		return rc;
	pages->npinned += npages;
	iommufd_stat_add(IOMMUFD_STAT_PINNED_PAGES, npages);
	return 0;
}

static void iopt_pages_uncharge(struct iopt_pages *pages, unsigned long npages)
{
	struct iopt_owner o = iopt_pages_owner(pages);

	iopt_account(&o, pages->account_mode, npages, false);
	WARN_ON(pages->npinned < npages);
	pages->npinned -= npages;
	iommufd_stat_add(IOMMUFD_STAT_PINNED_PAGES, -(long)npages);
}

/**
 * iopt_pages_new_charge - what taking a pages object over would charge
 * @pages: a pages object
 * @mode: the account mode asked about
 *
 * Context: takes the pages mutex.
 * Return: the pages pinned now that a move of @pages to the calling
 * process would charge anew to its RLIMIT_MEMLOCK in @mode: 0 if @pages is
 * charged in another mode, or to the caller's own user (user mode) or mm
 * (mm mode) already.
 */
unsigned long iopt_pages_new_charge(struct iopt_pages *pages, u8 mode)
{
	unsigned long n = 0;

	mutex_lock(&pages->mutex);
	if (pages->account_mode == mode &&
	    (mode == IOMMUFD_ACCOUNT_USER ? pages->source_user != current_user() :
					    pages->source_mm != current->mm))
		n = pages->npinned;
	mutex_unlock(&pages->mutex);
	return n;
}

/**
 * iopt_pages_change_process - charge a pages object to the calling process
 * @pages: a pages object of a file (IOMMU_IOAS_MAP_FILE)
 *
 * Its pins are charged to the caller from now on, and the ones it has now
 * move: charged to the caller without a limit check (the caller checked
 * RLIMIT_MEMLOCK for all it moves, with iopt_pages_new_charge()), then
 * given back by the old owner. Later pins are checked against the
 * caller's limit.
 *
 * Context: process context, may sleep; takes the pages mutex.
 */
void iopt_pages_change_process(struct iopt_pages *pages)
{
	struct iopt_owner new = {
		.mm = current->mm,
		.task = current->group_leader,
		.user = current_user(),
		.no_limit = true,
	};
	struct iopt_owner old;

	mmgrab(new.mm);
	get_task_struct(new.task);
	get_uid(new.user);
	mutex_lock(&pages->mutex);
	old = iopt_pages_owner(pages);
	if (pages->npinned) {
		iopt_account(&new, pages->account_mode, pages->npinned, true);
		iopt_account(&old, pages->account_mode, pages->npinned, false);
	}
	pages->source_mm = new.mm;
	pages->source_task = new.task;
	pages->source_user = new.user;
	pages->no_limit = capable(CAP_IPC_LOCK);
	mutex_unlock(&pages->mutex);
	mmdrop(old.mm);
	put_task_struct(old.task);
	free_uid(old.user);
}

/*
 * Unpin frames [pfn, pfn + npfns), which are contiguous; the caller
 * uncharges them, with others at once.
 */
static void iopt_pages_unpin_run(struct iopt_pages *pages, unsigned long pfn,
				 unsigned long npfns)
{
	unpin_user_page_range_dirty_lock(pfn_to_page(pfn), npfns,
					 pages->writable);
}

/* Unpin and uncharge the pages [first, last] of the batch (at batch_index). */
static void iopt_unpin_batch_range(struct iopt_work *work,
				   struct iopt_pages *pages,
				   unsigned long first, unsigned long last)
{
	unsigned long index = work->batch_index;
	unsigned long unpinned = 0;
	unsigned int nsingle = 0;
	unsigned int run;

	for (run = 0; run != work->batch.nruns && index <= last; run++) {
		unsigned long run_last = index + work->batch.npfns[run] - 1;
		unsigned long from = max(index, first);
		unsigned long to = min(run_last, last);
		unsigned long pfn = work->batch.pfns[run] + from - index;

		index = run_last + 1;
		if (from > to)
			continue;
		unpinned += to - from + 1;
		/* single pages go to the kernel in one array per batch */
		if (from != to || !work->upages) {
			iopt_pages_unpin_run(pages, pfn, to - from + 1);
			continue;
		}
		work->upages[nsingle++] = pfn_to_page(pfn);
		if (nsingle == work->capacity) {
			unpin_user_pages_dirty_lock(work->upages, nsingle,
						    pages->writable);
			nsingle = 0;
		}
	}
	if (nsingle)
		unpin_user_pages_dirty_lock(work->upages, nsingle,
					    pages->writable);
	if (unpinned)
		iopt_pages_uncharge(pages, unpinned);
}

/*
 * Pages [first, last] of the batch are no longer mapped by any domain: unpin
 * those no access holds, and keep the PFNs of the others in pinned_pfns
 * (their slots were reserved when the access pinned them).
 */
static void iopt_release_batch_range(struct iopt_work *work,
				     struct iopt_pages *pages,
				     unsigned long first, unsigned long last)
{
	struct iopt_span span;
	unsigned long index;

	for_each_iopt_span(&span, &pages->access_itree, first, last) {
		if (!span.used) {
			iopt_unpin_batch_range(work, pages, span.start,
					       span.last);
			continue;
		}
		for (index = span.start; index <= span.last; index++) {
			unsigned long at = index - work->batch_index;
			unsigned long pfn = pfn_batch_pfn_at(&work->batch, at);

			/* The slot exists: this does not allocate. */
			WARN_ON(xa_is_err(xa_store(&pages->pinned_pfns, index,
						   xa_mk_value(pfn),
						   GFP_ATOMIC)));
		}
	}
}

#ifdef CONFIG_HUGETLBFS
/*
 * The page at page offset @pgoff of a hugetlbfs file, with a reference:
 * from the page cache, which holds whole huge pages, after a fallocate of
 * the huge page if it is a hole.
 */
static struct page *iopt_hugetlb_file_page(struct file *file, pgoff_t pgoff)
{
	struct hstate *h = hstate_file(file);
	pgoff_t idx = pgoff >> huge_page_order(h);
	struct page *head;
	int rc;

	head = find_get_page(file->f_mapping, idx);
	if (!head) {
		rc = vfs_fallocate(file, FALLOC_FL_KEEP_SIZE,
				   (loff_t)idx << huge_page_shift(h),
				   huge_page_size(h));
		if (rc)
			return ERR_PTR(rc == -EBADF ? -EFAULT : rc);
		head = find_get_page(file->f_mapping, idx);
		if (!head)
			return ERR_PTR(-EFAULT);
	}
	return nth_page(head, pgoff & (pages_per_huge_page(h) - 1));
}

static unsigned int iopt_hugetlb_file_seals(struct file *file)
{
	return HUGETLBFS_I(file_inode(file))->seals;
}
#else
static struct page *iopt_hugetlb_file_page(struct file *file, pgoff_t pgoff)
{
	return ERR_PTR(-EINVAL);
}

static unsigned int iopt_hugetlb_file_seals(struct file *file)
{
	return 0;
}
#endif

/*
 * Pin @npages pages of a file's pages object from page @index, as GUP
 * would pin them: each page is looked up (and a hole filled) with a
 * reference, which becomes a FOLL_PIN pin. Returns how many, or -errno if
 * the first failed.
 */
static long iopt_pages_pin_file(struct iopt_pages *pages, unsigned long index,
				unsigned long npages, struct page **upages)
{
	struct file *file = pages->file;
	pgoff_t pgoff = (pages->uptr >> PAGE_SHIFT) + index;
	pgoff_t eof = DIV_ROUND_UP_ULL(i_size_read(file_inode(file)),
				       PAGE_SIZE);
	struct page *page = ERR_PTR(-EINVAL);
	unsigned long done;

	/* what the file lost to a truncate is not there to pin, nor to fill */
	if (pgoff >= eof)
		return -EINVAL;
	npages = min_t(unsigned long, npages, eof - pgoff);
	for (done = 0; done != npages; done++, pgoff++) {
		if (is_file_hugepages(file))
			page = iopt_hugetlb_file_page(file, pgoff);
		else
			page = shmem_read_mapping_page(file->f_mapping, pgoff);
		if (IS_ERR(page))
			break;
		if (!try_grab_page(page, FOLL_PIN)) {
			put_page(page);
			page = ERR_PTR(-EFAULT);
			break;
		}
		put_page(page);
		upages[done] = page;
	}
	return done ? done : PTR_ERR(page);
}

/* Pin @npages pages starting at page @index; returns how many or -errno. */
static long iopt_pages_pin(struct iopt_pages *pages, unsigned long index,
			   unsigned long npages, struct page **upages)
{
	unsigned long uptr = pages->uptr + (index << PAGE_SHIFT);
	unsigned int flags = FOLL_LONGTERM | (pages->writable ? FOLL_WRITE : 0);
	struct mm_struct *mm = pages->source_mm;
	long rc;

	lockdep_assert_held(&pages->mutex);
	if (pages->file)
		return iopt_pages_pin_file(pages, index, npages, upages);
	/* nothing pinned: earlier invalidations don't matter any more */
	if (!pages->npinned && pages->cpu_watched)
		pages->cpu_watch_seq =
			mmu_interval_read_begin(&pages->cpu_watch);
	if (current->mm == mm) {
		rc = pin_user_pages_fast(uptr, npages, flags, upages);
	} else {
		if (!mmget_not_zero(mm))
			return -EFAULT;
		mmap_read_lock(mm);
		rc = pin_user_pages_remote(mm, uptr, npages, flags, upages,
					   NULL, NULL);
		mmap_read_unlock(mm);
		mmput(mm);
	}
	if (rc == 0)
		return -EFAULT;
	if (IS_ENABLED(CONFIG_IOMMUFD_DEBUG) && rc > 0) {
		long i;

		for (i = 0; i != rc; i++) {
			if (iopt_page_held(upages[i]))
				continue;
			pr_err("iommufd: pin of page %lu (uptr %#lx, own mm %d, flags %#x) gave pfn %#lx, not pinned: count %d compound %d\n",
			       index + i, uptr, current->mm == mm, flags,
			       page_to_pfn(upages[i]), page_count(upages[i]),
			       PageCompound(upages[i]));
			break;
		}
	}
	return rc;
}

/*
 * Unmap pages [first, last] of the area from every domain and unpin those
 * no other filled area covers. The area must not be in filled_itree; PFNs
 * are read from domains[0].
 */
static void iopt_unfill_range(struct iopt_work *work,
			      struct iommu_domain **domains,
			      unsigned int ndomains, unsigned long first,
			      unsigned long last)
{
	struct iopt_area *area = work->area;
	struct iopt_pages *pages = area->pages;
	unsigned long index = first;
	struct iopt_span span;
	unsigned int i;

	lockdep_assert_held(&pages->mutex);
	while (index <= last) {
		unsigned long chunk_last;

		pfn_batch_clear(&work->batch);
		work->batch_index = index;
		index = iopt_batch_from_domain(work, domains[0], index, last);
		chunk_last = index - 1;
		iopt_debug_batch_pinned(work);

		for (i = 0; i != ndomains; i++)
			iopt_unmap_iova_range(area->iopt, domains[i],
					      iopt_index_iova(area,
							      work->batch_index),
					      iopt_index_last_iova(area,
								   chunk_last));
		for_each_iopt_span(&span, &pages->filled_itree,
				   work->batch_index, chunk_last)
			if (!span.used)
				iopt_release_batch_range(work, pages,
							 span.start,
							 span.last);
	}
}

/* Where the last held page was found, to find the next one fast. */
struct iopt_rw_cursor {
	struct iopt_area *filled;	/* the filled area that covers it */
	unsigned int run;		/* the noted run of @filled at or after it */
	unsigned long run_pfn;		/* PFN of that run's first page, or 0 */
};

/*
 * The PFN of page @index if a filled area or an access holds it, else 0.
 * *@n: how many pages from @index to @last are known to have the PFNs that
 * follow it (at least 1): the rest of a noted run of a filled area, whose
 * first PFN is the only one read.
 */
static unsigned long iopt_held_pfns(struct iopt_pages *pages,
				    unsigned long index, unsigned long last,
				    struct iopt_rw_cursor *cur, unsigned long *n)
{
	struct interval_tree_node *node;
	struct iopt_area *area = cur->filled;
	struct iopt_run *run;
	unsigned int r;

	lockdep_assert_held(&pages->mutex);
	*n = 1;
	if (!area || index < area->pages_node.start ||
	    index > area->pages_node.last) {
		node = interval_tree_iter_first(&pages->filled_itree, index,
						index);
		if (!node) {
			cur->filled = NULL;
			return xa_to_value(xa_load(&pages->pinned_pfns, index));
		}
		area = container_of(node, struct iopt_area, pages_node);
		cur->filled = area;
		cur->run = 0;
		cur->run_pfn = 0;
	}
	r = cur->run;
	run = iopt_run_at(area, &r, index);
	if (r != cur->run) {
		cur->run = r;
		cur->run_pfn = 0;
	}
	if (!run)
		return iopt_read_pfn(area, area->storage_domain, index);
	if (!cur->run_pfn)
		cur->run_pfn = iopt_read_pfn(area, area->storage_domain,
					     index) - (index - run->first);
	*n = min(run->first + run->npages - 1, last) - index + 1;
	return cur->run_pfn + (index - run->first);
}

/*
 * Collect PFNs of pages [first, last] that are pinned already, read from the
 * storage domain of a filled area or from pinned_pfns, and map them.
 */
static int iopt_fill_borrowed(struct iopt_work *work,
			      struct iommu_domain **domains,
			      unsigned int ndomains, unsigned long first,
			      unsigned long last, unsigned long *mapped_end)
{
	struct iopt_pages *pages = work->area->pages;
	struct iopt_rw_cursor cur = {};
	unsigned long index = first;
	int rc;

	pfn_batch_clear(&work->batch);
	work->batch_index = first;
	while (index <= last) {
		unsigned long pfn, n, added;

		pfn = iopt_held_pfns(pages, index, last, &cur, &n);
		added = pfn_batch_add_run(&work->batch, pfn, n);
		index += added;
		if (added == n)
			continue;
		/* the batch is full before @index: map it */
		rc = iopt_map_batch(work, domains, ndomains);
		if (rc)
			return rc;
		*mapped_end = index;
		pfn_batch_clear(&work->batch);
		work->batch_index = index;
	}
	rc = iopt_map_batch(work, domains, ndomains);
	if (rc)
		return rc;
	*mapped_end = last + 1;
	return 0;
}

static void iopt_unpin_batch(struct iopt_work *work, struct iopt_pages *pages)
{
	unsigned int run;

	for (run = 0; run != work->batch.nruns; run++)
		iopt_pages_unpin_run(pages, work->batch.pfns[run],
				     work->batch.npfns[run]);
	if (work->batch.total)
		iopt_pages_uncharge(pages, work->batch.total);
	pfn_batch_clear(&work->batch);
}

/* Pin pages [first, last], which no filled area covers, and map them. */
static int iopt_fill_pinned(struct iopt_work *work,
			    struct iommu_domain **domains,
			    unsigned int ndomains, unsigned long first,
			    unsigned long last, unsigned long *mapped_end)
{
	struct iopt_pages *pages = work->area->pages;
	unsigned long index = first;
	long npinned;
	long i;
	int rc;

	pfn_batch_clear(&work->batch);
	work->batch_index = first;
	while (index <= last) {
		npinned = iopt_pages_pin(pages, index,
					 min_t(unsigned long, last - index + 1,
					       work->capacity),
					 work->upages);
		if (npinned < 0) {
			rc = npinned;
			goto err_batch;
		}
		rc = iopt_pages_charge(pages, npinned);
		if (rc) {
			unpin_user_pages(work->upages, npinned);
			goto err_batch;
		}
		for (i = 0; i != npinned;) {
			unsigned long pfn = page_to_pfn(work->upages[i]);
			long added;
			long n = 1;

			/* a huge page comes as a run: add it at once */
			while (i + n != npinned &&
			       page_to_pfn(work->upages[i + n]) == pfn + n)
				n++;
			added = pfn_batch_add_run(&work->batch, pfn, n);
			i += added;
			if (added == n)
				continue;
			/* the batch is full before upages[i]: map it */
			rc = iopt_map_batch(work, domains, ndomains);
			if (rc) {
				/* The pins not yet in the batch. */
				unpin_user_pages(&work->upages[i], npinned - i);
				iopt_pages_uncharge(pages, npinned - i);
				goto err_batch;
			}
			*mapped_end = work->batch_index + work->batch.total;
			pfn_batch_clear(&work->batch);
			work->batch_index = *mapped_end;
		}
		index += npinned;
	}
	rc = iopt_map_batch(work, domains, ndomains);
	if (rc)
		goto err_batch;
	*mapped_end = last + 1;
	return 0;

err_batch:
	iopt_unpin_batch(work, pages);
	return rc;
}

/* A stretch no filled area covers: access-held pages, and pages to pin. */
static int iopt_fill_hole(struct iopt_work *work,
			  struct iommu_domain **domains, unsigned int ndomains,
			  unsigned long first, unsigned long last,
			  unsigned long *mapped_end)
{
	struct iopt_pages *pages = work->area->pages;
	struct iopt_span span;
	int rc = 0;

	for_each_iopt_span(&span, &pages->access_itree, first, last) {
		if (span.used)
			rc = iopt_fill_borrowed(work, domains, ndomains,
						span.start, span.last,
						mapped_end);
		else
			rc = iopt_fill_pinned(work, domains, ndomains,
					      span.start, span.last,
					      mapped_end);
		if (rc)
			break;
	}
	return rc;
}

/*
 * A domain maps pages [first, last] now: the PFNs accesses hold there are
 * read from it from now on; keep only their (reserved) slots.
 */
static void iopt_pages_hide_pfns(struct iopt_pages *pages,
				 unsigned long first, unsigned long last)
{
	struct iopt_span span;
	unsigned long index;

	for_each_iopt_span(&span, &pages->access_itree, first, last) {
		if (!span.used)
			continue;
		for (index = span.start; index <= span.last; index++) {
			void *old = xa_load(&pages->pinned_pfns, index);

			if (old)
				xa_cmpxchg(&pages->pinned_pfns, index, old,
					   XA_ZERO_ENTRY, GFP_ATOMIC);
		}
	}
}

/**
 * iopt_area_fill_domains - pin an area's memory and map it into domains
 * @area: an area that is not filled
 * @domains: all the domains of the area's io_pagetable
 * @ndomains: number of @domains, at least 1
 *
 * Context: the io_pagetable's domains_rwsem held; takes the pages mutex.
 * Return: 0, or a negative errno with nothing mapped, pinned or charged:
 * -EFAULT for memory that cannot be pinned, -ENOMEM past RLIMIT_MEMLOCK,
 * or an error of the IOMMU driver.
 */
int iopt_area_fill_domains(struct iopt_area *area,
			   struct iommu_domain **domains,
			   unsigned int ndomains)
{
	struct iopt_pages *pages = area->pages;
	unsigned long first = iopt_area_first_index(area);
	unsigned long last = iopt_area_last_index(area);
	unsigned long mapped_end = first;
	struct iopt_work work;
	struct iopt_span span;
	int rc;

	lockdep_assert_held(&area->iopt->domains_rwsem);
	if (WARN_ON(area->filled))
		return -EINVAL;
	rc = iopt_work_init(&work, area);
	if (rc)
		return rc;
	work.note_runs = true;

	mutex_lock(&pages->mutex);
	for_each_iopt_span(&span, &pages->filled_itree, first, last) {
		if (span.used)
			rc = iopt_fill_borrowed(&work, domains, ndomains,
						span.start, span.last,
						&mapped_end);
		else
			rc = iopt_fill_hole(&work, domains, ndomains,
					    span.start, span.last,
					    &mapped_end);
		if (rc)
			break;
	}
	if (!rc)
		iopt_pages_hide_pfns(pages, first, last);
	if (rc) {
		if (mapped_end != first)
			iopt_unfill_range(&work, domains, ndomains, first,
					  mapped_end - 1);
		iopt_forget_runs(area);
	} else {
		area->pages_node.start = first;
		area->pages_node.last = last;
		interval_tree_insert(&area->pages_node, &pages->filled_itree);
		area->storage_domain = domains[0];
		area->filled = true;
	}
	mutex_unlock(&pages->mutex);
	iopt_work_destroy(&work);
	return rc;
}

/**
 * iopt_area_unfill_domains - unmap an area from its domains and unpin it
 * @area: a filled area
 * @domains: all the domains of the area's io_pagetable; domains[0] is the
 *           area's storage domain
 * @ndomains: number of @domains
 *
 * Pages are unpinned only after every domain stopped mapping them, and
 * only if no other filled area uses them.
 */
void iopt_area_unfill_domains(struct iopt_area *area,
			      struct iommu_domain **domains,
			      unsigned int ndomains)
{
	struct iopt_pages *pages = area->pages;
	struct iopt_work work;

	if (WARN_ON(!area->filled))
		return;
	WARN_ON(area->storage_domain != domains[0]);
	/*
	 * Unmapping must not fail for want of memory; with no buffers, fall
	 * back to one PFN at a time on the stack.
	 */
	if (iopt_work_init(&work, area)) {
		unsigned long pfn;
		u32 npfn;

		/* no upages, sgl or CPU snapshot: one PFN at a time */
		work = (struct iopt_work){ .area = area, .capacity = 1 };
		pfn_batch_init(&work.batch, &pfn, &npfn, 1);
		mutex_lock(&pages->mutex);
		interval_tree_remove(&area->pages_node, &pages->filled_itree);
		iopt_unfill_range(&work, domains, ndomains,
				  iopt_area_first_index(area),
				  iopt_area_last_index(area));
		goto out_unlock;
	}
	mutex_lock(&pages->mutex);
	interval_tree_remove(&area->pages_node, &pages->filled_itree);
	iopt_unfill_range(&work, domains, ndomains, iopt_area_first_index(area),
			  iopt_area_last_index(area));
	iopt_work_destroy(&work);
out_unlock:
	area->filled = false;
	area->storage_domain = NULL;
	iopt_forget_runs(area);
	mutex_unlock(&pages->mutex);
}

/* Hand the noted runs past the end of @area to @tail, as memory allows. */
static void iopt_split_runs(struct iopt_area *area, struct iopt_area *tail)
{
	unsigned long end = iopt_area_last_index(area);
	unsigned int keep = 0;
	unsigned int ntail;
	bool straddle;

	while (keep != area->nruns && area->runs[keep].first <= end)
		keep++;
	straddle = keep &&
		   area->runs[keep - 1].first + area->runs[keep - 1].npages - 1 >
		   end;
	ntail = area->nruns - keep + straddle;
	if (ntail) {
		tail->runs = kmalloc_array(ntail, sizeof(*tail->runs),
					   GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (tail->runs) {
			struct iopt_run *r = tail->runs;

			if (straddle) {
				struct iopt_run *cut = &area->runs[keep - 1];

				r->first = end + 1;
				r->npages = cut->first + cut->npages - r->first;
				r++;
			}
			memcpy(r, area->runs + keep,
			       (area->nruns - keep) * sizeof(*r));
			tail->nruns = ntail;
			tail->runs_cap = ntail;
		}
	}
	if (straddle)
		area->runs[keep - 1].npages = end - area->runs[keep - 1].first +
					      1;
	area->nruns = keep;
}

/**
 * iopt_area_split_filled - hand the tail of a filled area to a new area
 * @area: the filled area, already shortened to end just before @tail
 * @tail: the new area, holding what @area held after it, at a page
 *        boundary of the pages; not filled yet
 *
 * Nothing is pinned, unpinned or mapped: the pages and IOPTEs of @tail
 * are already there. Only the record of which page indexes are filled is
 * split, so that unfilling either area later unpins just its own pages.
 *
 * Context: the io_pagetable's IOVA lock held for writing; takes the pages
 * mutex.
 */
void iopt_area_split_filled(struct iopt_area *area, struct iopt_area *tail)
{
	struct iopt_pages *pages = area->pages;

	lockdep_assert_held_write(&area->iopt->iova_rwsem);
	mutex_lock(&pages->mutex);
	interval_tree_remove(&area->pages_node, &pages->filled_itree);
	area->pages_node.last = iopt_area_last_index(area);
	interval_tree_insert(&area->pages_node, &pages->filled_itree);
	tail->pages_node.start = iopt_area_first_index(tail);
	tail->pages_node.last = iopt_area_last_index(tail);
	interval_tree_insert(&tail->pages_node, &pages->filled_itree);
	tail->storage_domain = area->storage_domain;
	tail->filled = true;
	iopt_split_runs(area, tail);
	mutex_unlock(&pages->mutex);
}

/**
 * iopt_area_copy_domain - map a filled area into one more domain
 * @area: a filled area
 * @src: a domain that maps the area
 * @dst: the new domain
 *
 * The PFNs are read from @src: nothing is pinned or charged again.
 *
 * Return: 0, or a negative errno with nothing mapped in @dst.
 */
int iopt_area_copy_domain(struct iopt_area *area, struct iommu_domain *src,
			  struct iommu_domain *dst)
{
	unsigned long first = iopt_area_first_index(area);
	unsigned long last = iopt_area_last_index(area);
	unsigned long index = first;
	struct iopt_work work;
	int rc;

	rc = iopt_work_init(&work, area);
	if (rc)
		return rc;
	while (index <= last) {
		pfn_batch_clear(&work.batch);
		work.batch_index = index;
		index = iopt_batch_from_domain(&work, src, index, last);
		rc = iopt_map_batch(&work, &dst, 1);
		if (rc) {
			unsigned long done = iopt_index_iova(area,
							     work.batch_index);

			if (work.batch_index != first)
				iopt_unmap_iova_range(area->iopt, dst,
						      area->node.start,
						      done - 1);
			break;
		}
	}
	iopt_work_destroy(&work);
	return rc;
}

/**
 * iopt_area_unmap_domain - unmap a filled area from one of its domains
 * @area: the area
 * @domain: a domain that is not the area's storage domain
 */
void iopt_area_unmap_domain(struct iopt_area *area,
			    struct iommu_domain *domain)
{
	WARN_ON(area->storage_domain == domain);
	iopt_unmap_iova_range(area->iopt, domain, area->node.start,
			      area->node.last);
}

/**
 * iopt_area_set_storage - change the domain an area's PFNs are read from
 * @area: a filled area
 * @domain: another domain that maps the area
 */
void iopt_area_set_storage(struct iopt_area *area, struct iommu_domain *domain)
{
	mutex_lock(&area->pages->mutex);
	area->storage_domain = domain;
	mutex_unlock(&area->pages->mutex);
}

static struct iopt_pages_access *iopt_find_access(struct iopt_pages *pages,
						  unsigned long first,
						  unsigned long last)
{
	struct interval_tree_node *node;

	for (node = interval_tree_iter_first(&pages->access_itree, first,
					     first);
	     node; node = interval_tree_iter_next(node, first, first))
		if (node->start == first && node->last == last)
			return container_of(node, struct iopt_pages_access,
					    node);
	return NULL;
}

/*
 * An access range [first, last], no longer (or never) in access_itree,
 * lets go: pages no other access range holds lose their slot, and those no
 * filled area covers either are unpinned.
 */
static void iopt_access_release(struct iopt_pages *pages, unsigned long first,
				unsigned long last)
{
	unsigned long unpinned = 0;
	struct iopt_span aspan;
	struct iopt_span fspan;
	unsigned long index;

	for_each_iopt_span(&aspan, &pages->access_itree, first, last) {
		if (aspan.used)
			continue;
		for_each_iopt_span(&fspan, &pages->filled_itree, aspan.start,
				   aspan.last) {
			for (index = fspan.start; index <= fspan.last; index++) {
				void *old = xa_erase(&pages->pinned_pfns,
						     index);

				if (fspan.used)
					continue;
				/*
				 * xa_erase() of a reserved slot returns
				 * XA_ZERO_ENTRY, not NULL: it holds no PFN,
				 * and none may be left where no filled area
				 * covers the page.
				 */
				if (WARN_ON_ONCE(old && !xa_is_value(old)) ||
				    !old)
					continue;
				iopt_pages_unpin_run(pages, xa_to_value(old),
						     1);
				unpinned++;
			}
		}
	}
	if (unpinned)
		iopt_pages_uncharge(pages, unpinned);
}

/* Pin pages [first, last], which nothing holds, keeping their PFNs. */
static int iopt_access_pin(struct iopt_pages *pages, unsigned long first,
			   unsigned long last, struct page **out_pages,
			   unsigned long *done)
{
	unsigned long index = first;
	long npinned;
	long i;
	int rc;

	while (index <= last) {
		npinned = iopt_pages_pin(pages, index,
					 min_t(unsigned long, last - index + 1,
					       IOPT_TEMP_ENTRIES),
					 out_pages + (index - first));
		if (npinned < 0)
			return npinned;
		rc = iopt_pages_charge(pages, npinned);
		if (rc) {
			unpin_user_pages(out_pages + (index - first), npinned);
			return rc;
		}
		for (i = 0; i != npinned; i++, index++) {
			struct page *page = out_pages[index - first];

			rc = xa_err(xa_store(&pages->pinned_pfns, index,
					     xa_mk_value(page_to_pfn(page)),
					     GFP_KERNEL_ACCOUNT));
			if (rc) {
				unpin_user_pages(&out_pages[index - first],
						 npinned - i);
				iopt_pages_uncharge(pages, npinned - i);
				return rc;
			}
			*done = index + 1;
		}
	}
	return 0;
}

/* Pages [first, last] held already (by domains or accesses). */
static int iopt_access_take_held(struct iopt_pages *pages, unsigned long first,
				 unsigned long last, struct page **out_pages,
				 bool reserve, unsigned long *done)
{
	struct iopt_rw_cursor cur = {};
	unsigned long index, n;
	int rc;

	for (index = first; index <= last; index++) {
		out_pages[index - first] =
			pfn_to_page(iopt_held_pfns(pages, index, index, &cur,
						   &n));
		if (reserve) {
			rc = xa_reserve(&pages->pinned_pfns, index,
					GFP_KERNEL_ACCOUNT);
			if (rc)
				return rc;
		}
		*done = index + 1;
	}
	return 0;
}

/*
 * Whether a software access may read (or write) through @area: the area's
 * own permissions count, and for writing the memory's too.
 */
static bool iopt_area_allows(struct iopt_area *area, bool write)
{
	if (!(area->iommu_prot & (write ? IOMMU_WRITE : IOMMU_READ)))
		return false;
	return !write || area->pages->writable;
}

/**
 * iopt_area_add_access - pin pages of an area for a software access
 * @area: the area, its io_pagetable locked
 * @first: first page index, inside the area
 * @last: last page index, inside the area
 * @out_pages: returns the pages, @last - @first + 1 of them
 * @write: the access will write to them
 *
 * Pages a domain or another access holds already are not pinned again.
 *
 * The area's own permissions count, not only the memory's: a read-only
 * COPY of a writable mapping can't be written through, and a write-only
 * mapping can't be read.
 *
 * Context: the area's io_pagetable IOVA lock held; takes the pages mutex.
 * Return: 0; -EINVAL while an UNMAP of the area waits for accesses to let
 * go; -EPERM to write where the area or its memory is read-only, or to
 * read where the area is write-only; -EFAULT or -ENOMEM from pinning.
 * On failure nothing is left pinned.
 */
int iopt_area_add_access(struct iopt_area *area, unsigned long first,
			 unsigned long last, struct page **out_pages,
			 bool write)
{
	struct iopt_pages *pages = area->pages;
	struct iopt_pages_access *access;
	unsigned long done = first;
	struct iopt_span fspan;
	struct iopt_span aspan;
	int rc = 0;

	lockdep_assert_held(&area->iopt->iova_rwsem);
	if (area->prevent_access)
		return -EINVAL;
	if (!iopt_area_allows(area, write))
		return -EPERM;
	mutex_lock(&pages->mutex);
	access = iopt_find_access(pages, first, last);
	if (access) {
		iopt_access_take_held(pages, first, last, out_pages, false,
				      &done);
		access->users++;
		goto out_unlock;
	}
	access = kzalloc(sizeof(*access), GFP_KERNEL_ACCOUNT);
	if (!access) {
		rc = -ENOMEM;
		goto out_unlock;
	}

	for_each_iopt_span(&fspan, &pages->filled_itree, first, last) {
		if (fspan.used) {
			rc = iopt_access_take_held(pages, fspan.start,
						   fspan.last,
						   out_pages + (fspan.start -
								first),
						   true, &done);
			if (rc)
				goto err_release;
			continue;
		}
		for_each_iopt_span(&aspan, &pages->access_itree, fspan.start,
				   fspan.last) {
			struct page **out = out_pages + (aspan.start - first);

			if (aspan.used)
				rc = iopt_access_take_held(pages, aspan.start,
							   aspan.last, out,
							   false, &done);
			else
				rc = iopt_access_pin(pages, aspan.start,
						     aspan.last, out, &done);
			if (rc)
				goto err_release;
		}
	}
	access->users = 1;
	access->node.start = first;
	access->node.last = last;
	interval_tree_insert(&access->node, &pages->access_itree);
	goto out_unlock;

err_release:
	if (done != first)
		iopt_access_release(pages, first, done - 1);
	kfree(access);
out_unlock:
	mutex_unlock(&pages->mutex);
	if (!rc)
		atomic_inc(&area->num_accesses);
	return rc;
}

/**
 * iopt_area_remove_access - unpin what iopt_area_add_access() pinned
 * @area: the area, its io_pagetable locked
 * @first: first page index, as given to iopt_area_add_access()
 * @last: last page index, as given to iopt_area_add_access()
 *
 * Context: the area's io_pagetable IOVA lock held; takes the pages mutex.
 */
void iopt_area_remove_access(struct iopt_area *area, unsigned long first,
			     unsigned long last)
{
	struct iopt_pages_access *range;

	lockdep_assert_held(&area->iopt->iova_rwsem);
	mutex_lock(&area->pages->mutex);
	range = iopt_find_access(area->pages, first, last);
	/* The last user of the range takes it out and lets the pages go. */
	if (range && !--range->users) {
		interval_tree_remove(&range->node, &area->pages->access_itree);
		kfree(range);
		iopt_access_release(area->pages, first, last);
	}
	mutex_unlock(&area->pages->mutex);
	if (!WARN_ON(!range))
		atomic_dec(&area->num_accesses);
}

/* One page that nothing holds: through the user's mapping, or pinned. */
static int iopt_area_rw_unheld(struct iopt_area *area, unsigned long index,
			       unsigned long offset, void *data,
			       unsigned long length, unsigned int flags)
{
	struct iopt_pages *pages = area->pages;
	bool write = flags & IOMMUFD_ACCESS_RW_WRITE;
	struct page *page;
	void *kaddr;
	int rc;

	if (!(flags & IOMMUFD_ACCESS_RW_PIN) && !pages->file &&
	    current->mm == pages->source_mm) {
		void __user *uptr = (void __user *)(pages->uptr +
						    (index << PAGE_SHIFT) +
						    offset);

		if (write)
			rc = copy_to_user(uptr, data, length);
		else
			rc = copy_from_user(data, uptr, length);
		return rc ? -EFAULT : 0;
	}
	rc = iopt_area_add_access(area, index, index, &page, write);
	if (rc)
		return rc;
	kaddr = kmap_local_page(page);
	if (write) {
		memcpy(kaddr + offset, data, length);
		set_page_dirty_lock(page);
	} else {
		memcpy(data, kaddr + offset, length);
	}
	kunmap_local(kaddr);
	iopt_area_remove_access(area, index, index);
	return 0;
}

/**
 * iopt_area_rw - copy between a kernel buffer and an area's memory
 * @area: the area, its io_pagetable IOVA lock held
 * @start: the first byte, as an offset from the start of the first page of
 *         the area's pages object
 * @data: the kernel buffer
 * @length: bytes, not 0, all inside the area
 * @flags: IOMMUFD_ACCESS_RW_WRITE to copy @data to the memory;
 *         IOMMUFD_ACCESS_RW_PIN to pin what nothing holds, never copying
 *         through the caller's mm
 *
 * Pages a filled area or an access holds are copied through their PFN,
 * with no pin, no allocation and one pages mutex hold for all of them.
 * Their dirtying is left to their unpin, which dirties every page of a
 * writable pages object. Other pages are copied with copy_to_user() or
 * copy_from_user() when the caller runs in the memory's mm, else pinned
 * for the copy and unpinned right after.
 *
 * Context: the area's io_pagetable IOVA lock held; takes the pages mutex,
 * and may fault on user memory without it.
 * Return: 0; -EINVAL while an UNMAP of the area waits for accesses to let
 * go; -EPERM to write where the area or its memory is read-only, or to
 * read where the area is write-only; -EFAULT or -ENOMEM.
 */
int iopt_area_rw(struct iopt_area *area, unsigned long start, void *data,
		 unsigned long length, unsigned int flags)
{
	struct iopt_pages *pages = area->pages;
	bool write = flags & IOMMUFD_ACCESS_RW_WRITE;
	struct iopt_rw_cursor cur = {};
	int rc = 0;

	lockdep_assert_held(&area->iopt->iova_rwsem);
	if (area->prevent_access)
		return -EINVAL;
	if (!iopt_area_allows(area, write))
		return -EPERM;
	mutex_lock(&pages->mutex);
	while (length) {
		unsigned long index = start >> PAGE_SHIFT;
		unsigned long offset = offset_in_page(start);
		unsigned long chunk = min(PAGE_SIZE - offset, length);
		unsigned long pfn;
		unsigned long n;

		pfn = iopt_held_pfns(pages, index, index, &cur, &n);

		if (pfn) {
			void *kaddr = kmap_local_pfn(pfn);

			if (write)
				memcpy(kaddr + offset, data, chunk);
			else
				memcpy(data, kaddr + offset, chunk);
			kunmap_local(kaddr);
		} else {
			mutex_unlock(&pages->mutex);
			rc = iopt_area_rw_unheld(area, index, offset, data,
						 chunk, flags);
			mutex_lock(&pages->mutex);
			/* what is filled may have changed meanwhile */
			cur.filled = NULL;
			if (rc)
				break;
		}
		start += chunk;
		data += chunk;
		length -= chunk;
	}
	mutex_unlock(&pages->mutex);
	return rc;
}

/*
 * A pages object for [@start, @start + @length) of user memory or of a
 * file, charged to the calling process; iopt_alloc_pages() and
 * iopt_alloc_file_pages() add what their kind needs.
 */
static struct iopt_pages *__iopt_alloc_pages(unsigned long start,
					     unsigned long length,
					     bool writable, u8 account_mode)
{
	struct iopt_pages *pages;
	unsigned long last;

	/* The end of the memory, one past its last byte, must exist too. */
	if (check_add_overflow(start, length, &last))
		return ERR_PTR(-EOVERFLOW);
	last--;
	pages = kzalloc(sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages)
		return ERR_PTR(-ENOMEM);
	kref_init(&pages->kref);
	mutex_init(&pages->mutex);
	spin_lock_init(&pages->cpu_watch_lock);
	pages->uptr = start & PAGE_MASK;
	pages->npages = (last >> PAGE_SHIFT) - (start >> PAGE_SHIFT) + 1;
	pages->writable = writable;
	pages->account_mode = account_mode;
	pages->no_limit = capable(CAP_IPC_LOCK);
	pages->filled_itree = RB_ROOT_CACHED;
	pages->access_itree = RB_ROOT_CACHED;
	xa_init(&pages->pinned_pfns);
	mmgrab(current->mm);
	pages->source_mm = current->mm;
	get_task_struct(current->group_leader);
	pages->source_task = current->group_leader;
	pages->source_user = get_uid(current_user());
	iommufd_stat_add(IOMMUFD_STAT_PAGES_OBJECTS, 1);
	return pages;
}

/**
 * iopt_alloc_pages - make a pages object for a range of user memory
 * @uptr: user address, any alignment
 * @length: bytes, not 0
 * @writable: the memory will be pinned for writing
 * @account_mode: how pinning it will be charged
 *
 * Nothing is pinned yet. The object remembers the calling process: its mm
 * is where the memory lives and its RLIMIT_MEMLOCK applies. From
 * IOPT_CPU_READ_MIN_PAGES pages on, it watches the range in that mm (see
 * the top of the file).
 *
 * Return: the object with one reference, or ERR_PTR(-EOVERFLOW/-ENOMEM).
 */
struct iopt_pages *iopt_alloc_pages(void __user *uptr, unsigned long length,
				    bool writable, u8 account_mode)
{
	struct iopt_pages *pages;

	pages = __iopt_alloc_pages((unsigned long)uptr, length, writable,
				   account_mode);
	if (!IS_ERR(pages) && pages->npages >= IOPT_CPU_READ_MIN_PAGES)
		iopt_cpu_watch_start(pages);
	return pages;
}

/* The seals of a memfd, which shmem and hugetlbfs keep in their inodes. */
static unsigned int iopt_file_seals(struct file *file)
{
	if (is_file_hugepages(file))
		return iopt_hugetlb_file_seals(file);
	return SHMEM_I(file_inode(file))->seals;
}

/**
 * iopt_alloc_file_pages - make a pages object for a range of a file
 * @file: the file; only shmem (memfd, tmpfs) and hugetlbfs files qualify
 * @start: byte offset in the file of the range, any alignment
 * @length: bytes, not 0
 * @writable: the memory will be pinned for writing
 * @account_mode: how pinning it will be charged
 *
 * Nothing is pinned yet; the object takes a reference on @file. The range
 * must lie inside the file as it is now. Writing needs a file opened for
 * writing and without a write seal, as a shared writable mmap does;
 * reading, one opened for reading.
 *
 * Return: the object with one reference, or ERR_PTR(-EINVAL) for another
 * kind of file or a range past its end, -EACCES for a file not opened for
 * what the mapping allows, -EPERM for a write-sealed one, -EOVERFLOW or
 * -ENOMEM.
 */
struct iopt_pages *iopt_alloc_file_pages(struct file *file,
					 unsigned long start,
					 unsigned long length, bool writable,
					 u8 account_mode)
{
	struct iopt_pages *pages;
	unsigned long end;

	if (!shmem_file(file) && !is_file_hugepages(file))
		return ERR_PTR(-EINVAL);
	if (check_add_overflow(start, length, &end))
		return ERR_PTR(-EOVERFLOW);
	if (end > i_size_read(file_inode(file)))
		return ERR_PTR(-EINVAL);
	if (!(file->f_mode & FMODE_READ) ||
	    (writable && !(file->f_mode & FMODE_WRITE)))
		return ERR_PTR(-EACCES);
	if (writable &&
	    iopt_file_seals(file) & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
		return ERR_PTR(-EPERM);
	pages = __iopt_alloc_pages(start, length, writable, account_mode);
	if (!IS_ERR(pages))
		pages->file = get_file(file);
	return pages;
}

/**
 * iopt_release_pages - free a pages object when its last reference goes
 * @kref: &iopt_pages.kref
 */
void iopt_release_pages(struct kref *kref)
{
	struct iopt_pages *pages = container_of(kref, struct iopt_pages, kref);

	WARN_ON(pages->npinned);
	WARN_ON(!RB_EMPTY_ROOT(&pages->filled_itree.rb_root));
	WARN_ON(!RB_EMPTY_ROOT(&pages->access_itree.rb_root));
	WARN_ON(!xa_empty(&pages->pinned_pfns));
	xa_destroy(&pages->pinned_pfns);
	if (pages->cpu_watched)
		mmu_interval_notifier_remove(&pages->cpu_watch);
	if (pages->file)
		fput(pages->file);
	mmdrop(pages->source_mm);
	put_task_struct(pages->source_task);
	free_uid(pages->source_user);
	mutex_destroy(&pages->mutex);
	kfree(pages);
	iommufd_stat_add(IOMMUFD_STAT_PAGES_OBJECTS, -1);
}
