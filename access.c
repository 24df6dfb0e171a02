// SPDX-License-Identifier: GPL-2.0-only
/*
 * access: software access to an IOAS, for emulated devices.
 *
 * Theory of operation
 * -------------------
 * An emulated device has no IOMMU: its driver reads and writes guest memory
 * by IOVA itself. It creates an access (IOMMUFD_OBJ_ACCESS, held by the
 * driver like a bound device), attaches it to an IOAS, and pins pages by
 * IOVA or copies through it. Pins go through the pages objects (pages.c),
 * so a page a domain already pins is not pinned again, and pins survive
 * domains coming and going. Only what the area allows is allowed: a
 * read-only COPY of a writable mapping can't be written through. Copies
 * (iopt_area_rw()) pin nothing that is held already: they go through the
 * PFNs of held pages, and through the user's own mapping (or a short pin)
 * for the others.
 *
 * UNMAP of pinned IOVA calls the driver's unmap callback, which must unpin;
 * UNMAP fails with EBUSY if it does not (io_pagetable.c asks a few times).
 * The callbacks run with none of the IOAS's locks held, only its
 * notify_lock, which makes one notification at a time: each access gets
 * the callback once, holding an object reference so that destroying the
 * access waits for its callback to return.
 *
 * Which IOAS an access is on is decided under its ioas_lock, and under
 * that lock in one step: the new IOAS gains the access as a user and on its
 * list, the old one loses both. Pins and copies hold ioas_lock too, so they
 * never see an IOAS change under them. A replace first asks the driver to
 * unpin everything, as an unmap of the whole old IOAS would, and is refused
 * (EBUSY) while pages stay pinned; a detach asks the same and then leaves
 * (the driver must comply). While the driver is being asked, new pins and
 * copies fail as if the access were detached already. See io_pagetable.h
 * for the lock order.
 */
#include <linux/err.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/iommufd.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/overflow.h>

#include "iommufd_private.h"

/**
 * iommufd_access_create - create a software access
 * @ictx: the context
 * @ops: the driver's callbacks, @ops->unmap is required
 * @data: argument to the callbacks
 * @id: returns the access's object ID
 *
 * The context stays alive while the access exists.
 *
 * Context: process context, may sleep.
 * Return: the access, or an ERR_PTR.
 */
struct iommufd_access *
iommufd_access_create(struct iommufd_ctx *ictx,
		      const struct iommufd_access_ops *ops, void *data, u32 *id)
{
	struct iommufd_access *access;

	if (WARN_ON(!ops->unmap))
		return ERR_PTR(-EINVAL);
	access = iommufd_object_alloc(ictx, access, IOMMUFD_OBJ_ACCESS);
	if (IS_ERR(access))
		return access;
	access->ictx = ictx;
	access->ops = ops;
	access->data = data;
	mutex_init(&access->ioas_lock);
	INIT_LIST_HEAD(&access->ioas_item);
	/* The driver's user: only iommufd_access_destroy() removes it. */
	iommufd_object_add_owner(&access->obj);
	get_file(ictx->file);
	iommufd_object_finalize(ictx, &access->obj);
	*id = access->obj.id;
	return access;
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_create, IOMMUFD);

/**
 * iommufd_access_destroy_object - release what an access object holds
 * @obj: the access's object, detached
 */
void iommufd_access_destroy_object(struct iommufd_object *obj)
{
	struct iommufd_access *access =
		container_of(obj, struct iommufd_access, obj);

	mutex_destroy(&access->ioas_lock);
}

/**
 * iommufd_access_destroy - destroy a software access
 * @access: the access; everything it pinned must be unpinned
 *
 * Waits for an unmap callback in progress on the access to return.
 *
 * Context: process context, may sleep; the caller must not hold locks its
 * unmap callback takes.
 */
void iommufd_access_destroy(struct iommufd_access *access)
{
	struct iommufd_ctx *ictx = access->ictx;

	iommufd_access_detach(access);
	iommufd_object_destroy_owned(ictx, &access->obj);
	fput(ictx->file);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_destroy, IOMMUFD);

/*
 * Make @ioas (or NULL) the access's IOAS: membership of the lists and the
 * user counts of both IOASes change together, under ioas_lock. @ioas must
 * have gained the access as a user already.
 */
static void iommufd_access_move(struct iommufd_access *access,
				struct iommufd_ioas *ioas)
{
	struct iommufd_ioas *old = access->ioas;

	lockdep_assert_held(&access->ioas_lock);
	if (old) {
		mutex_lock(&old->mutex);
		list_del_init(&access->ioas_item);
		mutex_unlock(&old->mutex);
		iommufd_object_drop_user(&old->obj);
	}
	if (ioas) {
		mutex_lock(&ioas->mutex);
		/* Notification numbers are the IOAS's own: start afresh. */
		access->notified = 0;
		list_add_tail(&access->ioas_item, &ioas->access_list);
		mutex_unlock(&ioas->mutex);
	}
	access->ioas = ioas;
}

/*
 * Everything the access pinned through its IOAS is about to go: ask the
 * driver to unpin it all, as an unmap of the whole IOAS would. Called with
 * ioas_lock held; drops and retakes it around the callback, and while it
 * is dropped no new pin can start (@leaving), so the driver's unpins are
 * the last word.
 */
static void iommufd_access_unpin_all(struct iommufd_access *access)
{
	struct iommufd_ioas *ioas = access->ioas;

	lockdep_assert_held(&access->ioas_lock);
	/* The IOAS can't go while the access is one of its users. */
	if (!iommufd_object_tryget(&ioas->obj))
		return;
	access->leaving = true;
	mutex_unlock(&access->ioas_lock);
	mutex_lock(&ioas->notify_lock);
	access->ops->unmap(access->data, 0, ULONG_MAX);
	mutex_unlock(&ioas->notify_lock);
	iommufd_put_object(access->ictx, &ioas->obj);
	mutex_lock(&access->ioas_lock);
	access->leaving = false;
}

/* Attach, or with @replace move, the access to IOAS @ioas_id. */
static int iommufd_access_set_ioas(struct iommufd_access *access, u32 ioas_id,
				   bool replace)
{
	struct iommufd_ioas *ioas;
	int rc = 0;

	ioas = iommufd_get_ioas(access->ictx, ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	mutex_lock(&access->ioas_lock);
	if (replace && access->ioas && access->ioas != ioas &&
	    access->npinned)
		iommufd_access_unpin_all(access);
	if (access->ioas == ioas)
		goto out_unlock;
	if (replace != !!access->ioas)
		rc = -EINVAL;
	else if (access->npinned)
		rc = -EBUSY;
	else if (!iommufd_object_add_user(&ioas->obj))
		rc = -ENOENT;
	if (!rc)
		iommufd_access_move(access, ioas);
out_unlock:
	mutex_unlock(&access->ioas_lock);
	iommufd_put_object(access->ictx, &ioas->obj);
	return rc;
}

/**
 * iommufd_access_attach - attach a software access to an IOAS
 * @access: an access not attached yet
 * @ioas_id: the IOAS
 *
 * Context: process context, may sleep.
 * Return: 0, -ENOENT for a bad ID, -EINVAL if already attached elsewhere.
 */
int iommufd_access_attach(struct iommufd_access *access, u32 ioas_id)
{
	return iommufd_access_set_ioas(access, ioas_id, false);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_attach, IOMMUFD);

/**
 * iommufd_access_replace - move an attached access to another IOAS
 * @access: an attached access
 * @ioas_id: the new IOAS
 *
 * Nothing pinned through the old IOAS may stay pinned: if the access has
 * pages pinned, the driver's unmap callback is called for all IOVA first,
 * as if the old IOAS were unmapped entirely.
 *
 * Context: process context, may sleep; the caller must not hold locks its
 * unmap callback takes.
 * Return: 0, -ENOENT for a bad ID, -EINVAL if not attached, -EBUSY if the
 * driver keeps pages pinned.
 */
int iommufd_access_replace(struct iommufd_access *access, u32 ioas_id)
{
	return iommufd_access_set_ioas(access, ioas_id, true);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_replace, IOMMUFD);

/**
 * iommufd_access_detach - detach a software access from its IOAS
 * @access: the access
 *
 * If the access has pages pinned, the driver's unmap callback is called
 * for all IOVA first, and must unpin them all.
 *
 * Context: process context, may sleep; the caller must not hold locks its
 * unmap callback takes.
 */
void iommufd_access_detach(struct iommufd_access *access)
{
	mutex_lock(&access->ioas_lock);
	if (access->ioas && access->npinned)
		iommufd_access_unpin_all(access);
	WARN_ON(access->npinned);
	iommufd_access_move(access, NULL);
	mutex_unlock(&access->ioas_lock);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_detach, IOMMUFD);

/*
 * The next access of @ioas not yet called in notification @gen, with an
 * object reference taken, or NULL when all have been.
 */
static struct iommufd_access *
iommufd_access_next_unnotified(struct iommufd_ioas *ioas, u64 gen)
{
	struct iommufd_access *access;

	lockdep_assert_held(&ioas->notify_lock);
	mutex_lock(&ioas->mutex);
	list_for_each_entry(access, &ioas->access_list, ioas_item) {
		if (access->notified == gen)
			continue;
		access->notified = gen;
		/* Being destroyed: it has unpinned everything already. */
		if (!iommufd_object_tryget(&access->obj))
			continue;
		mutex_unlock(&ioas->mutex);
		return access;
	}
	mutex_unlock(&ioas->mutex);
	return NULL;
}

/**
 * iommufd_access_notify_unmap - ask accesses to unpin an IOVA range
 * @iopt: the io_pagetable of an IOAS, not locked
 * @first: first IOVA being unmapped
 * @last: last IOVA being unmapped
 *
 * Calls the unmap callback of every access attached to the IOAS, once
 * each, without holding the IOAS's locks: the callbacks unpin through them.
 *
 * Context: process context, may sleep; takes the IOAS's notify_lock.
 */
void iommufd_access_notify_unmap(struct io_pagetable *iopt,
				 unsigned long first, unsigned long last)
{
	struct iommufd_ioas *ioas = container_of(iopt, struct iommufd_ioas,
						 iopt);
	struct iommufd_access *access;
	u64 gen;

	mutex_lock(&ioas->notify_lock);
	gen = ++ioas->notify_gen;
	while ((access = iommufd_access_next_unnotified(ioas, gen))) {
		/*
		 * The whole address space has no length that fits: tell it
		 * in two halves rather than as a length of 0.
		 */
		if (last - first == ULONG_MAX) {
			access->ops->unmap(access->data, 0, BIT(BITS_PER_LONG - 1));
			access->ops->unmap(access->data, BIT(BITS_PER_LONG - 1),
					   BIT(BITS_PER_LONG - 1));
		} else {
			access->ops->unmap(access->data, first,
					   last - first + 1);
		}
		iommufd_put_object(access->ictx, &access->obj);
	}
	mutex_unlock(&ioas->notify_lock);
}

struct iommufd_pin_arg {
	struct page **pages;
	unsigned long iova;
	unsigned long last;
	bool write;
	/* bytes from @iova pinned so far, to undo on failure */
	unsigned long done;
};

static int iommufd_access_pin_piece(struct iopt_area *area,
				    unsigned long first, unsigned long last,
				    unsigned long offset, void *arg)
{
	struct iommufd_pin_arg *pin = arg;
	unsigned long start = pin->iova + offset;
	unsigned long end = min(area->node.last, pin->last);
	int rc;

	/* Each page of the IOVA range must be one whole page of memory. */
	if (offset_in_page(area->pages_off + (start - area->node.start)) ||
	    offset_in_page(area->pages_off + (end - area->node.start) + 1))
		return -EINVAL;
	rc = iopt_area_add_access(area, first, last,
				  pin->pages + (offset >> PAGE_SHIFT),
				  pin->write);
	if (!rc)
		pin->done = offset + ((last - first + 1) << PAGE_SHIFT);
	return rc;
}

static int iommufd_access_unpin_piece(struct iopt_area *area,
				      unsigned long first, unsigned long last,
				      unsigned long offset, void *arg)
{
	unsigned long *limit = arg;

	if (offset >= *limit)
		return 1;
	iopt_area_remove_access(area, first, last);
	return 0;
}

/*
 * Lock the access's IOAS for a pin, an unpin or a copy: returns its
 * io_pagetable with ioas_lock and the table's IOVA lock (read) held, or
 * NULL if not attached, or (unless @unpin) about to leave its IOAS.
 */
static struct io_pagetable *iommufd_access_lock(struct iommufd_access *access,
						bool unpin)
{
	struct io_pagetable *iopt;

	mutex_lock(&access->ioas_lock);
	if (!access->ioas || (access->leaving && !unpin)) {
		mutex_unlock(&access->ioas_lock);
		return NULL;
	}
	iopt = &access->ioas->iopt;
	down_read(&iopt->iova_rwsem);
	return iopt;
}

static void iommufd_access_unlock(struct iommufd_access *access,
				  struct io_pagetable *iopt)
{
	up_read(&iopt->iova_rwsem);
	mutex_unlock(&access->ioas_lock);
}

/**
 * iommufd_access_pin_pages - pin the pages behind a range of IOVA
 * @access: an attached access
 * @iova: first IOVA, PAGE_SIZE aligned
 * @length: bytes, a multiple of PAGE_SIZE, not 0
 * @out_pages: returns @length / PAGE_SIZE pages
 * @flags: IOMMUFD_ACCESS_RW_WRITE if the pages will be written
 *
 * The pages stay pinned until iommufd_access_unpin_pages() of the same
 * range, which the driver must call, at the latest, from its unmap
 * callback.
 *
 * Context: process context, may sleep; takes the access's ioas_lock.
 * Return: 0; -EINVAL for a misaligned range, an unattached access or a
 * range an UNMAP is taking away (its unmap callback is being called);
 * -ENOENT if part of the range is not mapped; -EPERM to write where the
 * mapping or the memory is read-only, or to read a write-only mapping;
 * -EFAULT or -ENOMEM from pinning.
 */
int iommufd_access_pin_pages(struct iommufd_access *access,
			     unsigned long iova, unsigned long length,
			     struct page **out_pages, unsigned int flags)
{
	struct iommufd_pin_arg pin = {
		.pages = out_pages,
		.iova = iova,
		.write = flags & IOMMUFD_ACCESS_RW_WRITE,
	};
	struct io_pagetable *iopt;
	unsigned long last;
	int rc;

	if (!length || (iova | length) & ~PAGE_MASK)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	pin.last = last;

	iopt = iommufd_access_lock(access, false);
	if (!iopt)
		return -EINVAL;
	rc = iopt_walk_area_pieces(iopt, iova, last, iommufd_access_pin_piece,
				   &pin);
	if (rc && pin.done)
		iopt_walk_area_pieces(iopt, iova, last,
				      iommufd_access_unpin_piece, &pin.done);
	if (!rc)
		access->npinned++;
	iommufd_access_unlock(access, iopt);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_pin_pages, IOMMUFD);

/**
 * iommufd_access_unpin_pages - unpin what iommufd_access_pin_pages() pinned
 * @access: the access
 * @iova: the IOVA given to iommufd_access_pin_pages()
 * @length: the length given to iommufd_access_pin_pages()
 *
 * Context: process context, may sleep; takes the access's ioas_lock.
 */
void iommufd_access_unpin_pages(struct iommufd_access *access,
				unsigned long iova, unsigned long length)
{
	unsigned long limit = ULONG_MAX;
	struct io_pagetable *iopt;

	iopt = iommufd_access_lock(access, true);
	if (WARN_ON(!iopt))
		return;
	if (!WARN_ON(!access->npinned || !length)) {
		WARN_ON(iopt_walk_area_pieces(iopt, iova, iova + length - 1,
					      iommufd_access_unpin_piece,
					      &limit));
		access->npinned--;
	}
	iommufd_access_unlock(access, iopt);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_unpin_pages, IOMMUFD);

struct iommufd_rw_arg {
	void *data;
	unsigned long iova;
	unsigned long last;
	unsigned int flags;
};

/* Copy between a piece of an area and the buffer. */
static int iommufd_access_rw_piece(struct iopt_area *area,
				   unsigned long first, unsigned long last,
				   unsigned long offset, void *arg)
{
	struct iommufd_rw_arg *rw = arg;
	unsigned long iova = rw->iova + offset;
	unsigned long end = min(area->node.last, rw->last);

	return iopt_area_rw(area, area->pages_off + (iova - area->node.start),
			    rw->data + offset, end - iova + 1, rw->flags);
}

/**
 * iommufd_access_rw - copy to or from memory by IOVA
 * @access: an attached access
 * @iova: first IOVA, any alignment
 * @data: kernel buffer
 * @length: bytes, not 0
 * @flags: IOMMUFD_ACCESS_RW_WRITE to copy @data to the IOVA;
 *         IOMMUFD_ACCESS_RW_PIN to pin the pages nothing holds rather than
 *         copy them through the caller's mm
 *
 * Pages a domain or an access holds are copied through their PFNs, without
 * pinning or allocating. Others are copied through the user's mapping when
 * the caller runs in the mm the memory belongs to, else pinned for the copy
 * and unpinned right after. A failure can leave the copy partly done.
 *
 * Context: process context, may sleep; takes the access's ioas_lock.
 * Return: 0; -EINVAL for an empty range, unknown @flags, an unattached
 * access or a range an UNMAP is taking away; -ENOENT
 * if part of the range is not mapped; -EPERM to write where the mapping or
 * the memory is read-only, or to read a write-only mapping; -EFAULT or
 * -ENOMEM from pinning.
 */
int iommufd_access_rw(struct iommufd_access *access, unsigned long iova,
		      void *data, size_t length, unsigned int flags)
{
	struct iommufd_rw_arg rw = {
		.data = data,
		.iova = iova,
		.flags = flags,
	};
	struct io_pagetable *iopt;
	int rc;

	if (!length ||
	    flags & ~(IOMMUFD_ACCESS_RW_WRITE | IOMMUFD_ACCESS_RW_PIN))
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &rw.last))
		return -EOVERFLOW;
	iopt = iommufd_access_lock(access, false);
	if (!iopt)
		return -EINVAL;
	rc = iopt_walk_area_pieces(iopt, iova, rw.last,
				   iommufd_access_rw_piece, &rw);
	iommufd_access_unlock(access, iopt);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_rw, IOMMUFD);
