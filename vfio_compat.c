// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO type1 container ioctls on a /dev/iommu file.
 *
 * VMMs and userspace drivers written for VFIO's type1 IOMMU talk to a
 * container: GET_API_VERSION, CHECK_EXTENSION, SET_IOMMU, then
 * IOMMU_GET_INFO, MAP_DMA and UNMAP_DMA on one address space without a
 * name. Here that address space is one IOAS of the context, its
 * compatibility IOAS, chosen with IOMMU_VFIO_IOAS (SET, GET, CLEAR) and
 * remembered by pointer in the context. The container ioctls work on a
 * /dev/iommu file itself, so a /dev/vfio/vfio that is a symlink to
 * /dev/iommu serves those programs unchanged.
 *
 * What type1 promises and what it becomes here:
 *  - TYPE1 (v1): SET_IOMMU turns the IOAS's large pages off, so that
 *    every IOPTE maps one page; UNMAP_DMA may then take any page-aligned
 *    part of a mapping: the areas are cut at the range's ends first.
 *  - TYPE1v2: large pages stay on; UNMAP_DMA takes whole mappings only,
 *    and a range that cuts into one fails with ENOENT, as in type1.
 *  - Both: an UNMAP_DMA of a range holding no mapping succeeds with size
 *    0, as type1's does; VFIO_DMA_UNMAP_FLAG_ALL unmaps everything. DMA is
 *    always cache coherent (bind refuses other IOMMUs), so
 *    VFIO_DMA_CC_IOMMU is reported.
 *  - Page sizes: GET_INFO reports those every domain of the IOAS has,
 *    sizes below PAGE_SIZE shown as PAGE_SIZE, and not less than the
 *    IOAS's IOVA alignment: PAGE_MASK while there is no domain. MAP_DMA
 *    and UNMAP_DMA take multiples of the smallest of them only (EINVAL),
 *    as type1 does, although the IOAS itself would take any byte while it
 *    has no domain.
 *  - An UNMAP_DMA range that wraps past the top of the address space is
 *    EOVERFLOW (type1 says EINVAL), refused before v1 cuts anything.
 *  - IOVA ranges: type1 attaches a group's domain when the IOMMU is set,
 *    so GET_INFO tells the devices' aperture and reserved regions before
 *    any device is opened. A VFIO group whose container becomes the
 *    context does the same here (iommufd_vfio_compat_claim(), at
 *    VFIO_GROUP_SET_CONTAINER): its DMA ownership is claimed, and the
 *    compatibility IOAS reserves what a domain of its IOMMU can't reach
 *    (learnt by attaching one, device.c) and its devices' reserved
 *    regions, until the group leaves. The IOVA_RANGE capability lists
 *    the spans left free, and is left out while nothing bounds them from
 *    above (no domain, no group): a range ending at U64_MAX has a size
 *    that wraps to 0 in the u64 arithmetic of its users, and type1 too
 *    reports no range while it knows no IOMMU (emulated groups only).
 *  - Not provided, and refused with EOPNOTSUPP rather than pretended:
 *    changing a mapping's user address (VFIO_DMA_MAP_FLAG_VADDR,
 *    VFIO_DMA_UNMAP_FLAG_VADDR) and dirty tracking
 *    (VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP). CHECK_EXTENSION says 0 for
 *    them, so a program that asks first never sends them.
 *
 * The pointer to the compatibility IOAS holds no user of the IOAS:
 * IOMMU_DESTROY of it works as for any IOAS, and its destruction clears
 * the pointer (iommufd_vfio_forget_ioas()); a VFIO group's claim does hold
 * one while its reservations are in the IOAS, as an attached device does.
 * Context::vfio_lock protects the pointer alone and is taken with no other
 * lock of ours held, and nothing is taken under it but the object's
 * refcount and, to make the IOAS, the object table's lock.
 */
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/iommufd.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/iommufd.h>
#include <uapi/linux/vfio.h>

#include "iommufd_private.h"

/*
 * The compatibility IOAS with a reference taken, to drop with
 * iommufd_put_object(); ERR_PTR(-ENODEV) if there is none.
 */
static struct iommufd_ioas *iommufd_vfio_get_ioas(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas;

	mutex_lock(&ictx->vfio_lock);
	ioas = ictx->vfio_ioas;
	/* Being destroyed: as good as gone. */
	if (!ioas || !iommufd_object_tryget(&ioas->obj))
		ioas = ERR_PTR(-ENODEV);
	mutex_unlock(&ictx->vfio_lock);
	return ioas;
}

static void iommufd_vfio_set_ioas(struct iommufd_ctx *ictx,
				  struct iommufd_ioas *ioas)
{
	mutex_lock(&ictx->vfio_lock);
	ictx->vfio_ioas = ioas;
	mutex_unlock(&ictx->vfio_lock);
}

/**
 * iommufd_vfio_forget_ioas - an IOAS is being freed
 * @ioas: the IOAS; if it is its context's compatibility IOAS, the context
 *        has none afterwards
 *
 * Context: takes the context's vfio_lock; called by the IOAS's destroy,
 * once no ioctl holds a reference to it any more.
 */
void iommufd_vfio_forget_ioas(struct iommufd_ioas *ioas)
{
	struct iommufd_ctx *ictx = ioas->ictx;

	mutex_lock(&ictx->vfio_lock);
	if (ictx->vfio_ioas == ioas)
		ictx->vfio_ioas = NULL;
	mutex_unlock(&ictx->vfio_lock);
}

/*
 * The compatibility IOAS with a reference taken, to drop with
 * iommufd_put_object(); made if there is none, or if the one there is
 * being destroyed (its destroy then finds the pointer moved on).
 */
static struct iommufd_ioas *iommufd_vfio_make_ioas(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas;

	mutex_lock(&ictx->vfio_lock);
	ioas = ictx->vfio_ioas;
	if (ioas && iommufd_object_tryget(&ioas->obj))
		goto out_unlock;
	ioas = iommufd_ioas_alloc(ictx);
	if (IS_ERR(ioas))
		goto out_unlock;
	/* Ours before it is visible: a DESTROY by ID waits for it then. */
	iommufd_object_tryget(&ioas->obj);
	iommufd_object_finalize(ictx, &ioas->obj);
	ictx->vfio_ioas = ioas;
out_unlock:
	mutex_unlock(&ictx->vfio_lock);
	return ioas;
}

/**
 * iommufd_vfio_compat_ioas - the compatibility IOAS, made if there is none
 * @ictx: the context
 * @ioas_id: returns the IOAS's ID
 *
 * For VFIO's group path: the devices of a group whose container is an
 * iommufd attach to this IOAS when they are opened. The IOAS made here is
 * an ordinary object of the context, which userspace can also reach by
 * its ID (IOMMU_VFIO_IOAS_GET).
 *
 * Context: process context; takes the context's vfio_lock.
 * Return: 0, or -ENOMEM.
 */
int iommufd_vfio_compat_ioas(struct iommufd_ctx *ictx, u32 *ioas_id)
{
	struct iommufd_ioas *ioas;

	ioas = iommufd_vfio_make_ioas(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	*ioas_id = ioas->obj.id;
	iommufd_put_object(ictx, &ioas->obj);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(iommufd_vfio_compat_ioas, IOMMUFD);

/**
 * struct iommufd_vfio_claim - a VFIO group whose container is a context
 * @ictx: the context
 * @igroup: the group's DMA ownership, held for @ictx (device.c); devices
 *          of the group bound to @ictx share it
 * @ioas: the IOAS the group's reservations were made in, owned by this
 *        struct; a user of it is held, so it outlives them
 * @node: in the context's vfio_claims, under its vfio_lock
 */
struct iommufd_vfio_claim {
	struct iommufd_ctx *ictx;
	struct iommufd_group *igroup;
	struct iommufd_ioas *ioas;
	struct list_head node;
};

/*
 * The page sizes every VFIO group whose container is @ictx can use, as
 * their IOMMU gave them to a domain (ULONG_MAX with no such group): type1
 * reports them from SET_IOMMU on, before a device is opened.
 */
static unsigned long iommufd_vfio_claimed_pgsizes(struct iommufd_ctx *ictx)
{
	struct iommufd_vfio_claim *claim;
	unsigned long pgsizes = ULONG_MAX;

	mutex_lock(&ictx->vfio_lock);
	list_for_each_entry(claim, &ictx->vfio_claims, node)
		pgsizes &= claim->igroup->pgsizes;
	mutex_unlock(&ictx->vfio_lock);
	return pgsizes;
}

/*
 * Reserve in @iopt, owned by @owner, what type1 leaves out of the IOVA
 * list of a container that @group joins: the IOVA outside the aperture
 * @geo of a domain of the group's IOMMU, and its devices' reserved
 * regions (but those the devices may be left to DMA to, as device.c does
 * when a device attaches). On failure nothing stays reserved.
 */
static int iommufd_vfio_reserve_group(struct io_pagetable *iopt,
				      struct iommu_group *group,
				      const struct iommu_domain_geometry *geo,
				      void *owner)
{
	struct iommu_resv_region *resv, *next;
	LIST_HEAD(regions);
	int rc = 0;

	if (geo->force_aperture && geo->aperture_start)
		rc = iopt_reserve_iova(iopt, 0, geo->aperture_start - 1, owner);
	if (!rc && geo->force_aperture && geo->aperture_end < ULONG_MAX)
		rc = iopt_reserve_iova(iopt, geo->aperture_end + 1, ULONG_MAX,
				       owner);
	if (!rc)
		rc = iommu_get_group_resv_regions(group, &regions);
	/* the list is ours to free, also when getting it failed half-way */
	list_for_each_entry_safe(resv, next, &regions, list) {
		if (!rc && resv->type != IOMMU_RESV_DIRECT_RELAXABLE)
			rc = iopt_reserve_iova(iopt, resv->start,
					       resv->start + resv->length - 1,
					       owner);
		kfree(resv);
	}
	if (rc)
		iopt_remove_reserved_iova(iopt, owner);
	return rc;
}

/**
 * iommufd_vfio_compat_claim - a VFIO group's container becomes a context
 * @ictx: the context, from the file given to VFIO_GROUP_SET_CONTAINER
 * @group: the iommu_group of a VFIO group backed by an IOMMU; none of its
 *         devices is bound to @ictx
 *
 * What type1 does when a group joins a container and the IOMMU is set.
 * The group's DMA ownership is claimed for @ictx: its DMA is blocked from
 * now on, until a device of it is opened, bound and attached. And the
 * context's compatibility IOAS, made if there is none, reserves at once
 * what the group's devices can't use: the IOVA outside the aperture of a
 * domain of the group's IOMMU, as the IOMMU driver set it when the group
 * was attached to one (6.1's VT-d narrows it to the unit's address width
 * only then), and the group's reserved regions, such as the MSI window.
 * So VFIO_IOMMU_GET_INFO reports before the first open what it reports
 * after, and MAP_DMA refuses IOVA the devices could not reach, as with
 * type1. The reservations stay, and the IOAS can't be destroyed, until
 * iommufd_vfio_compat_unclaim().
 *
 * Context: process context, may sleep; takes the context's vfio_lock, the
 * ownership locks of the group and the IOVA lock of the IOAS, one after
 * the other.
 * Return: the claim; ERR_PTR(-EPERM) if the group is owned elsewhere (a
 * kernel driver or another context: type1's errno) or its MSIs can't be
 * isolated; ERR_PTR(-EINVAL) if its IOMMU can't enforce cache coherency,
 * or if the IOAS maps IOVA, or allows it, that the group needs reserved
 * (type1 refuses such a group too); ERR_PTR(-ENODEV) if the IOAS is being
 * destroyed; ERR_PTR(-ENOMEM); ERR_PTR(-EIO) if the group was attached to
 * learn its aperture and could not be blocked again.
 */
struct iommufd_vfio_claim *iommufd_vfio_compat_claim(struct iommufd_ctx *ictx,
						     struct iommu_group *group)
{
	struct iommufd_vfio_claim *claim;
	struct iommufd_ioas *ioas;
	int rc;

	claim = kzalloc(sizeof(*claim), GFP_KERNEL_ACCOUNT);
	if (!claim)
		return ERR_PTR(-ENOMEM);
	claim->ictx = ictx;
	ioas = iommufd_vfio_make_ioas(ictx);
	if (IS_ERR(ioas)) {
		rc = PTR_ERR(ioas);
		goto err_free;
	}
	/* An IOMMU_DESTROY unpublished it meanwhile: as good as gone. */
	if (!iommufd_object_add_user(&ioas->obj)) {
		rc = -ENODEV;
		goto err_put;
	}
	claim->ioas = ioas;

	claim->igroup = iommufd_group_claim(ictx, group);
	if (IS_ERR(claim->igroup)) {
		rc = PTR_ERR(claim->igroup);
		/* owned by a kernel driver or another context */
		if (rc == -EBUSY)
			rc = -EPERM;
		goto err_drop;
	}
	/* Learnt when the group was claimed first, and never changed. */
	rc = iommufd_vfio_reserve_group(&ioas->iopt, group,
					&claim->igroup->geometry, claim);
	if (rc) {
		/* mapped or allowed where the group needs a hole */
		if (rc == -EADDRINUSE)
			rc = -EINVAL;
		goto err_unclaim;
	}
	mutex_lock(&ictx->vfio_lock);
	list_add_tail(&claim->node, &ictx->vfio_claims);
	mutex_unlock(&ictx->vfio_lock);
	iommufd_put_object(ictx, &ioas->obj);
	return claim;

err_unclaim:
	iommufd_group_unclaim(ictx, claim->igroup);
err_drop:
	iommufd_object_drop_user(&ioas->obj);
err_put:
	iommufd_put_object(ictx, &ioas->obj);
err_free:
	kfree(claim);
	return ERR_PTR(rc);
}
EXPORT_SYMBOL_NS_GPL(iommufd_vfio_compat_claim, IOMMUFD);

/**
 * iommufd_vfio_compat_unclaim - a VFIO group leaves its iommufd container
 * @claim: what iommufd_vfio_compat_claim() returned; freed here
 *
 * Drops the group's reservations and its user of the IOAS, and releases
 * its DMA ownership unless devices of the group are still bound to the
 * context (VFIO closes them all first).
 *
 * Context: process context, may sleep.
 */
void iommufd_vfio_compat_unclaim(struct iommufd_vfio_claim *claim)
{
	mutex_lock(&claim->ictx->vfio_lock);
	list_del(&claim->node);
	mutex_unlock(&claim->ictx->vfio_lock);
	iopt_remove_reserved_iova(&claim->ioas->iopt, claim);
	iommufd_object_drop_user(&claim->ioas->obj);
	iommufd_group_unclaim(claim->ictx, claim->igroup);
	kfree(claim);
}
EXPORT_SYMBOL_NS_GPL(iommufd_vfio_compat_unclaim, IOMMUFD);

/*
 * IOMMU_VFIO_IOAS: forget the compatibility IOAS (CLEAR), or look an IOAS
 * up, the current compatibility one (GET) or the given one (SET), and
 * report it or make it the compatibility IOAS.
 */
int iommufd_vfio_ioas(struct iommufd_ucmd *ucmd)
{
	struct iommu_vfio_ioas *cmd = ucmd->cmd;
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct iommufd_ioas *ioas;
	int rc = 0;

	if (cmd->__reserved || cmd->op > IOMMU_VFIO_IOAS_CLEAR)
		return -EOPNOTSUPP;
	if (cmd->op == IOMMU_VFIO_IOAS_CLEAR) {
		iommufd_vfio_set_ioas(ictx, NULL);
		return 0;
	}

	if (cmd->op == IOMMU_VFIO_IOAS_GET)
		ioas = iommufd_vfio_get_ioas(ictx);
	else
		ioas = iommufd_get_ioas(ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (cmd->op == IOMMU_VFIO_IOAS_SET) {
		iommufd_vfio_set_ioas(ictx, ioas);
	} else {
		cmd->ioas_id = ioas->obj.id;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

/*
 * VFIO_CHECK_EXTENSION: 1 for both type1 flavours, for unmap-all and for
 * cache coherency (bind refuses a device whose IOMMU can't enforce it), 0
 * for all else (VFIO_UPDATE_VADDR, nesting, no-IOMMU, SPAPR, ...).
 */
static long iommufd_vfio_check_extension(struct iommufd_ctx *ictx,
					 unsigned long type)
{
	static const unsigned long supported[] = {
		VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_UNMAP_ALL,
		VFIO_DMA_CC_IOMMU,
	};
	unsigned int i;

	for (i = 0; i != ARRAY_SIZE(supported); i++)
		if (supported[i] == type)
			return 1;
	return 0;
}

static long iommufd_vfio_set_iommu(struct iommufd_ctx *ictx,
				   unsigned long type)
{
	struct iommufd_ioas *ioas;
	bool large_pages;
	int rc;

	if (type == VFIO_TYPE1_IOMMU)
		large_pages = false;
	else if (type == VFIO_TYPE1v2_IOMMU)
		large_pages = true;
	else
		return -EINVAL;
	ioas = iommufd_vfio_get_ioas(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	/* EBUSY once domains and mappings fixed the IOPTE sizes */
	rc = iopt_set_large_pages(&ioas->iopt, large_pages);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

/*
 * Every type1 argument starts with argsz: read the @minsz bytes that we
 * use and check that userspace says it passed at least those.
 */
static int iommufd_vfio_read_head(void *dst, unsigned long uarg,
				  size_t minsz)
{
	if (copy_from_user(dst, (void __user *)uarg, minsz))
		return -EFAULT;
	return *(u32 *)dst < minsz ? -EINVAL : 0;
}

/**
 * iommufd_vfio_pgsizes - the page sizes of the container, for GET_INFO
 * @iopt: the compatibility IOAS's table
 * @claimed: the sizes its VFIO groups can use (ULONG_MAX for any)
 *
 * The sizes of @claimed that every domain of the IOAS supports. Pinning
 * works in whole pages, so sizes below PAGE_SIZE are shown as PAGE_SIZE,
 * as type1 shows them; and none is less than the IOVA alignment of the
 * IOAS.
 *
 * Context: the caller holds either lock of @iopt.
 * Return: the bitmap of page sizes; never 0.
 */
static unsigned long iommufd_vfio_pgsizes(struct io_pagetable *iopt,
					  unsigned long claimed)
{
	unsigned long pgsizes = claimed;
	unsigned int i;

	lockdep_assert(lockdep_is_held(&iopt->iova_rwsem) ||
		       lockdep_is_held(&iopt->domains_rwsem));
	for (i = 0; i != iopt->ndomains; i++)
		pgsizes &= iopt->domains[i]->pgsize_bitmap;
	if (pgsizes & ~PAGE_MASK)
		pgsizes = (pgsizes & PAGE_MASK) | PAGE_SIZE;
	return max(pgsizes, iopt->iova_alignment);
}

/**
 * iommufd_vfio_pgsize - the smallest page of the container
 * @iopt: the compatibility IOAS's table
 *
 * MAP_DMA and UNMAP_DMA take IOVAs, user addresses and sizes in multiples
 * of it only, as type1 does: PAGE_SIZE even while the IOAS has no domain.
 * It is a multiple of the IOAS's IOVA alignment.
 *
 * Context: takes the IOVA lock of @iopt.
 * Return: a power of two.
 */
static unsigned long iommufd_vfio_pgsize(struct io_pagetable *iopt)
{
	unsigned long pgsizes;

	down_read(&iopt->iova_rwsem);
	/* the domains' sizes: a VFIO group's join when its device attaches */
	pgsizes = iommufd_vfio_pgsizes(iopt, ULONG_MAX);
	up_read(&iopt->iova_rwsem);
	return 1UL << __ffs(pgsizes);
}

static long iommufd_vfio_map_dma(struct iommufd_ctx *ictx,
				 unsigned long uarg)
{
	struct vfio_iommu_type1_dma_map map;
	struct iommufd_ioas *ioas;
	unsigned long iova;
	int prot = 0;
	int rc;

	rc = iommufd_vfio_read_head(&map, uarg,
				    offsetofend(typeof(map), size));
	if (rc)
		return rc;
	if (map.flags & VFIO_DMA_MAP_FLAG_VADDR)
		return -EOPNOTSUPP;
	if (map.flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))
		return -EINVAL;
	if (map.flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_READ;
	if (map.flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_WRITE;
	/* type1 refuses a mapping the device can neither read nor write */
	if (!prot || !map.size)
		return -EINVAL;
	if (map.iova > ULONG_MAX || map.vaddr > ULONG_MAX ||
	    map.size > ULONG_MAX)
		return -EOVERFLOW;

	ioas = iommufd_vfio_get_ioas(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	iova = map.iova;
	/* The IOAS checks its own alignment again under its lock. */
	if ((map.iova | map.vaddr | map.size) &
	    (iommufd_vfio_pgsize(&ioas->iopt) - 1))
		rc = -EINVAL;
	else
		rc = iopt_map_user_pages(&ioas->iopt, &iova,
					 u64_to_user_ptr(map.vaddr), map.size,
					 prot, IOMMU_IOAS_MAP_FIXED_IOVA,
					 ictx->account_mode);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

/* Cut the areas at both ends of [iova, last], for a v1 unmap. */
static int iommufd_vfio_cut(struct io_pagetable *iopt, unsigned long iova,
			    unsigned long last)
{
	unsigned long ends[2] = { iova, last + 1 };

	/* A range that ends at the top of the address space has one end. */
	return iopt_cut_iova(iopt, ends, last == ULONG_MAX ? 1 : 2);
}

/**
 * iommufd_vfio_unmap_range - UNMAP_DMA of [@iova, @iova + @size)
 * @iopt: the compatibility IOAS's table
 * @iova: first IOVA
 * @size: bytes, not 0
 * @unmapped: returns the bytes unmapped
 *
 * The whole range is checked before v1 cuts areas at its ends: a cut is
 * not undone, so a range that is refused must not have cut anything.
 *
 * Context: takes the locks of @iopt.
 * Return: 0, with *@unmapped 0 if nothing was mapped there; -EOVERFLOW if
 * the range wraps past the top of the address space (mainline's errno,
 * type1 says EINVAL); -EINVAL if it is not in whole pages of the
 * container, mapped or not; -ENOENT if it cuts into a mapping (v2);
 * -EBUSY if a software access pinned pages of an area to cut or keeps its
 * pins; -ENOMEM.
 */
static int iommufd_vfio_unmap_range(struct io_pagetable *iopt,
				    unsigned long iova, unsigned long size,
				    unsigned long *unmapped)
{
	unsigned long last;
	int rc;

	if (check_add_overflow(iova, size - 1, &last))
		return -EOVERFLOW;
	if ((iova | size) & (iommufd_vfio_pgsize(iopt) - 1))
		return -EINVAL;
	/* v1 (large pages off): any page-aligned part of a mapping */
	if (iopt->disable_large_pages) {
		rc = iommufd_vfio_cut(iopt, iova, last);
		if (rc)
			return rc;
	}
	return iopt_unmap_iova_or_none(iopt, iova, size, unmapped);
}

static long iommufd_vfio_unmap_dma(struct iommufd_ctx *ictx,
				   unsigned long uarg)
{
	struct vfio_iommu_type1_dma_unmap unmap;
	struct iommufd_ioas *ioas;
	unsigned long unmapped = 0;
	int rc;

	rc = iommufd_vfio_read_head(&unmap, uarg,
				    offsetofend(typeof(unmap), size));
	if (rc)
		return rc;
	if (unmap.flags & (VFIO_DMA_UNMAP_FLAG_VADDR |
			   VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP))
		return -EOPNOTSUPP;
	if (unmap.flags & ~VFIO_DMA_UNMAP_FLAG_ALL)
		return -EINVAL;
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		if (unmap.iova || unmap.size)
			return -EINVAL;
	} else if (!unmap.size) {
		return -EINVAL;
	}
	if (unmap.iova > ULONG_MAX || unmap.size > ULONG_MAX)
		return -EOVERFLOW;

	ioas = iommufd_vfio_get_ioas(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL)
		rc = iopt_unmap_all(&ioas->iopt, &unmapped);
	else
		rc = iommufd_vfio_unmap_range(&ioas->iopt, unmap.iova,
					      unmap.size, &unmapped);
	iommufd_put_object(ictx, &ioas->obj);
	if (rc)
		return rc;
	unmap.size = unmapped;
	if (put_user(unmap.size,
		     &((struct vfio_iommu_type1_dma_unmap __user *)uarg)->size))
		return -EFAULT;
	return 0;
}

/*
 * The capability chain of GET_INFO: the usable IOVA ranges, then the
 * number of mappings still allowed, which has no limit of its own here.
 * The ranges are the spans the reserved tree leaves free. While the last
 * of them runs to the top of the address space nothing has bounded it
 * yet (no domain, no VFIO group's aperture), and the IOVA range
 * capability is left out, as type1 leaves it out while it knows no IOMMU:
 * userspace keeps to its own default window then, where a range that
 * ends at U64_MAX would have a size that wraps to 0.
 */

/* The ranges GET_INFO reports: their number, and them if @uranges. */
static int iommufd_vfio_ranges(struct io_pagetable *iopt,
			       struct vfio_iova_range __user *uranges,
			       u32 *nr_ranges)
{
	struct iopt_span span;
	u32 n = 0;

	lockdep_assert_held(&iopt->iova_rwsem);
	for_each_iopt_span(&span, &iopt->reserved_itree, 0, ULONG_MAX) {
		struct vfio_iova_range range = {
			.start = span.start,
			.end = span.last,
		};

		if (span.used)
			continue;
		/* unbounded: none (the counting pass finds it first) */
		if (span.last == ULONG_MAX) {
			n = 0;
			break;
		}
		if (uranges && copy_to_user(&uranges[n], &range,
					    sizeof(range)))
			return -EFAULT;
		n++;
	}
	*nr_ranges = n;
	return 0;
}

/* The bytes of the chain with @nr_ranges ranges (none: no range cap). */
static size_t iommufd_vfio_caps_size(u32 nr_ranges)
{
	struct vfio_iommu_type1_info_cap_iova_range *head;
	size_t size = sizeof(struct vfio_iommu_type1_info_dma_avail);

	if (nr_ranges)
		size += struct_size(head, iova_ranges, nr_ranges);
	return size;
}

/*
 * Write the chain, with the @nr_ranges ranges counted under the same hold
 * of the IOVA lock, right after the info at @uinfo.
 */
static int iommufd_vfio_caps_write(struct io_pagetable *iopt,
				   void __user *uinfo, u32 nr_ranges)
{
	struct vfio_iommu_type1_info_cap_iova_range head = {
		.header = {
			.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
			.version = 1,
		},
		.nr_iovas = nr_ranges,
	};
	struct vfio_iommu_type1_info_dma_avail avail = {
		.header = {
			.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
			.version = 1,
		},
		.avail = U32_MAX,
	};
	struct vfio_iommu_type1_info_cap_iova_range __user *uhead;
	u32 off = sizeof(struct vfio_iommu_type1_info);
	int rc;

	if (nr_ranges) {
		uhead = uinfo + off;
		off += struct_size(&head, iova_ranges, nr_ranges);
		head.header.next = off;
		if (copy_to_user(uhead, &head, sizeof(head)))
			return -EFAULT;
		rc = iommufd_vfio_ranges(iopt, &uhead->iova_ranges[0],
					 &nr_ranges);
		if (rc)
			return rc;
	}
	if (copy_to_user(uinfo + off, &avail, sizeof(avail)))
		return -EFAULT;
	return 0;
}

static long iommufd_vfio_get_info(struct iommufd_ctx *ictx,
				  unsigned long uarg)
{
	void __user *arg = (void __user *)uarg;
	struct vfio_iommu_type1_info info = {};
	struct iommufd_ioas *ioas;
	unsigned long claimed;
	u32 argsz, nr_ranges;
	size_t total;
	int rc;

	rc = iommufd_vfio_read_head(&info, uarg,
				    offsetofend(typeof(info), iova_pgsizes));
	if (rc)
		return rc;
	argsz = info.argsz;
	ioas = iommufd_vfio_get_ioas(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	info.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
	/* vfio_lock is never taken under the IOVA lock */
	claimed = iommufd_vfio_claimed_pgsizes(ictx);
	down_read(&ioas->iopt.iova_rwsem);
	info.iova_pgsizes = iommufd_vfio_pgsizes(&ioas->iopt, claimed);
	/* Before cap_offset existed, argsz had no room for capabilities. */
	if (argsz >= sizeof(info)) {
		rc = iommufd_vfio_ranges(&ioas->iopt, NULL, &nr_ranges);
		total = sizeof(info) + iommufd_vfio_caps_size(nr_ranges);
		if (!rc && argsz >= total) {
			rc = iommufd_vfio_caps_write(&ioas->iopt, arg,
						     nr_ranges);
			info.cap_offset = sizeof(info);
		} else {
			/* too small: say how much is needed */
			info.argsz = total;
		}
	}
	up_read(&ioas->iopt.iova_rwsem);
	iommufd_put_object(ictx, &ioas->obj);
	if (rc)
		return rc;
	if (copy_to_user(arg, &info, min_t(size_t, argsz, sizeof(info))))
		return -EFAULT;
	return 0;
}

static long iommufd_vfio_api_version(struct iommufd_ctx *ictx,
				     unsigned long arg)
{
	return VFIO_API_VERSION;
}

/* The container ioctls, by their number above VFIO_BASE. */
static long (*const iommufd_vfio_handlers[])(struct iommufd_ctx *ictx,
					     unsigned long arg) = {
	[_IOC_NR(VFIO_GET_API_VERSION) - VFIO_BASE] = iommufd_vfio_api_version,
	[_IOC_NR(VFIO_CHECK_EXTENSION) - VFIO_BASE] =
		iommufd_vfio_check_extension,
	[_IOC_NR(VFIO_SET_IOMMU) - VFIO_BASE] = iommufd_vfio_set_iommu,
	[_IOC_NR(VFIO_IOMMU_GET_INFO) - VFIO_BASE] = iommufd_vfio_get_info,
	[_IOC_NR(VFIO_IOMMU_MAP_DMA) - VFIO_BASE] = iommufd_vfio_map_dma,
	[_IOC_NR(VFIO_IOMMU_UNMAP_DMA) - VFIO_BASE] = iommufd_vfio_unmap_dma,
};

/**
 * iommufd_vfio_ioctl - a VFIO container ioctl on an iommufd file
 * @ictx: the file's context
 * @cmd: the ioctl number; VFIO's are _IO(VFIO_TYPE, VFIO_BASE + n)
 * @arg: its argument, an integer or a user pointer
 *
 * Context: process context; takes the locks of the compatibility IOAS.
 *
 * Return: what the type1 ioctl returns, -ENODEV where it needs the
 * compatibility IOAS and there is none, or -ENOTTY for any other number
 * (the group and device ioctls included).
 */
long iommufd_vfio_ioctl(struct iommufd_ctx *ictx, unsigned int cmd,
			unsigned long arg)
{
	unsigned int nr = _IOC_NR(cmd);

	/* a number with size or direction bits is not one of them */
	if (cmd != _IO(VFIO_TYPE, nr) || nr < VFIO_BASE ||
	    nr - VFIO_BASE >= ARRAY_SIZE(iommufd_vfio_handlers) ||
	    !iommufd_vfio_handlers[nr - VFIO_BASE])
		return -ENOTTY;
	return iommufd_vfio_handlers[nr - VFIO_BASE](ictx, arg);
}
