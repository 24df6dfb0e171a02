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
 *  - Not provided, and refused with EOPNOTSUPP rather than pretended:
 *    changing a mapping's user address (VFIO_DMA_MAP_FLAG_VADDR,
 *    VFIO_DMA_UNMAP_FLAG_VADDR) and dirty tracking
 *    (VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP). CHECK_EXTENSION says 0 for
 *    them, so a program that asks first never sends them.
 *
 * The compatibility IOAS holds no user of the IOAS: IOMMU_DESTROY of it
 * works as for any IOAS, and its destruction clears the pointer
 * (iommufd_vfio_forget_ioas()). Context::vfio_lock protects the pointer
 * alone and is taken with no other lock of ours held, and nothing is
 * taken under it but the object's refcount.
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

	mutex_lock(&ictx->vfio_lock);
	ioas = ictx->vfio_ioas;
	if (!ioas) {
		ioas = iommufd_ioas_alloc(ictx);
		if (IS_ERR(ioas)) {
			mutex_unlock(&ictx->vfio_lock);
			return PTR_ERR(ioas);
		}
		iommufd_object_finalize(ictx, &ioas->obj);
		ictx->vfio_ioas = ioas;
	}
	/* the ID can't change, and the lock keeps the IOAS from being freed */
	*ioas_id = ioas->obj.id;
	mutex_unlock(&ictx->vfio_lock);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(iommufd_vfio_compat_ioas, IOMMUFD);

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
 *
 * The sizes that every domain of the IOAS supports (all with no domain).
 * Pinning works in whole pages, so sizes below PAGE_SIZE are shown as
 * PAGE_SIZE, as type1 shows them; and none is less than the IOVA
 * alignment of the IOAS.
 *
 * Context: the caller holds either lock of @iopt.
 * Return: the bitmap of page sizes; never 0.
 */
static unsigned long iommufd_vfio_pgsizes(struct io_pagetable *iopt)
{
	unsigned long pgsizes = ULONG_MAX;
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
	pgsizes = iommufd_vfio_pgsizes(iopt);
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
 * The capability chain of GET_INFO: the usable IOVA ranges (the spans the
 * reserved tree leaves free), then the number of mappings still allowed,
 * which has no limit of its own here.
 */
struct iommufd_vfio_caps {
	struct vfio_iommu_type1_info_cap_iova_range __user *ranges;
	struct vfio_iommu_type1_info_dma_avail __user *avail;
	size_t size;
};

/*
 * Lay out the chain for @nr_ranges ranges at @ucaps (@offset from the
 * start of the info), and write it if @write.
 */
static int iommufd_vfio_caps_write(struct io_pagetable *iopt,
				   void __user *ucaps, u32 offset, bool write,
				   u32 *nr_ranges)
{
	struct vfio_iommu_type1_info_cap_iova_range head = {
		.header = {
			.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
			.version = 1,
		},
	};
	struct vfio_iommu_type1_info_dma_avail avail = {
		.header = {
			.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
			.version = 1,
		},
		.avail = U32_MAX,
	};
	struct vfio_iommu_type1_info_cap_iova_range __user *uranges = ucaps;
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
		if (write && copy_to_user(&uranges->iova_ranges[n], &range,
					  sizeof(range)))
			return -EFAULT;
		n++;
	}
	*nr_ranges = n;
	if (!write)
		return 0;
	head.nr_iovas = n;
	head.header.next = offset + struct_size(&head, iova_ranges, n);
	if (copy_to_user(uranges, &head, sizeof(head)) ||
	    copy_to_user(ucaps + struct_size(&head, iova_ranges, n), &avail,
			 sizeof(avail)))
		return -EFAULT;
	return 0;
}

static size_t iommufd_vfio_caps_size(u32 nr_ranges)
{
	return sizeof(struct vfio_iommu_type1_info_cap_iova_range) +
	       nr_ranges * sizeof(struct vfio_iova_range) +
	       sizeof(struct vfio_iommu_type1_info_dma_avail);
}

static long iommufd_vfio_get_info(struct iommufd_ctx *ictx,
				  unsigned long uarg)
{
	void __user *arg = (void __user *)uarg;
	struct vfio_iommu_type1_info info = {};
	struct iommufd_ioas *ioas;
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
	down_read(&ioas->iopt.iova_rwsem);
	info.iova_pgsizes = iommufd_vfio_pgsizes(&ioas->iopt);
	/* Before cap_offset existed, argsz had no room for capabilities. */
	if (argsz >= sizeof(info)) {
		rc = iommufd_vfio_caps_write(&ioas->iopt, NULL, 0, false,
					     &nr_ranges);
		total = sizeof(info) + iommufd_vfio_caps_size(nr_ranges);
		if (!rc && argsz >= total) {
			rc = iommufd_vfio_caps_write(&ioas->iopt,
						     arg + sizeof(info),
						     sizeof(info), true,
						     &nr_ranges);
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
