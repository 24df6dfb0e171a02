// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO devices on iommufd. This file is kept with iommufd and linked into
 * drivers/vfio by the build.
 *
 * A VFIO group whose container is an iommufd file (VFIO_GROUP_SET_CONTAINER
 * given a /dev/iommu descriptor) has no VFIO IOMMU driver behind it. As
 * with type1, setting the container claims the group's DMA ownership for
 * the context and blocks its DMA, and the context's compatibility IOAS
 * learns at once what the group's devices can reach, so that the type1
 * container ioctls report it before any device is opened
 * (vfio_iommufd_group_set(); an emulated group, which type1 neither owns
 * nor attaches, only gets the IOAS made). Its devices are bound to the
 * iommufd context when their first descriptor is opened, before the
 * driver's open_device(), and attached to the context's compatibility
 * IOAS; the last close unbinds them after close_device(). So a device can
 * do DMA only while userspace has it open, and only through page tables
 * of the context userspace chose. A device opened
 * through its cdev (device_cdev.c) is bound the same way but not
 * attached: userspace picks its page table (vfio_iommufd_attach_pt()),
 * moves it to another, or blocks its DMA again (vfio_iommufd_detach_pt()).
 *
 * How a device is bound is generic, chosen by the kind of its group; a
 * driver only overrides it through the bind_iommufd/unbind_iommufd/
 * attach_ioas device ops if it needs to:
 *  - a physical device (VFIO_IOMMU group) is bound through the iommufd
 *    device kAPI, which claims DMA ownership of its iommu_group;
 *  - an emulated device (VFIO_EMULATED_IOMMU, mdev and the like) gets a
 *    software access of the context: vfio_pin_pages(), vfio_unpin_pages()
 *    and vfio_dma_rw() go through it, and an unmap of the IOAS reaches
 *    the driver's dma_unmap() as with a type1 container.
 *
 * Locking: the group calls (vfio_iommufd_group_set() and _unset()) are
 * made with the group lock held, the device calls with the device set's
 * lock and the group lock held, as the container calls are; the iommufd
 * calls take only iommufd's own locks under them.
 */
#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "vfio.h"

MODULE_IMPORT_NS(IOMMUFD);

static int vfio_iommufd_physical_bind(struct vfio_device *vdev,
				      struct iommufd_ctx *ictx, u32 *out_id)
{
	struct iommufd_device *idev;

	idev = iommufd_device_bind(ictx, vdev->dev, out_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	vdev->iommufd_device = idev;
	return 0;
}

/* attaching an attached device replaces its page table (the kAPI does) */
static int vfio_iommufd_physical_attach(struct vfio_device *vdev, u32 *pt_id)
{
	int ret;

	ret = iommufd_device_attach(vdev->iommufd_device, pt_id);
	if (!ret)
		vdev->iommufd_attached = true;
	return ret;
}

static void vfio_iommufd_physical_detach(struct vfio_device *vdev)
{
	if (vdev->iommufd_attached)
		iommufd_device_detach(vdev->iommufd_device);
	vdev->iommufd_attached = false;
}

static void vfio_iommufd_physical_unbind(struct vfio_device *vdev)
{
	/* detached first: the group is blocked until unbind gives it back */
	vfio_iommufd_physical_detach(vdev);
	iommufd_device_unbind(vdev->iommufd_device);
	vdev->iommufd_device = NULL;
}

/*
 * Userspace unmaps IOVA that the emulated device may have pinned: its
 * driver unpins there before the unmap goes on, as with a type1 container.
 */
static void vfio_iommufd_emulated_unmap(void *data, unsigned long iova,
					unsigned long length)
{
	const struct vfio_device_ops *ops = ((struct vfio_device *)data)->ops;

	if (ops->dma_unmap)
		ops->dma_unmap(data, iova, length);
}

static const struct iommufd_access_ops vfio_iommufd_emulated_ops = {
	.unmap = vfio_iommufd_emulated_unmap,
};

static int vfio_iommufd_emulated_bind(struct vfio_device *vdev,
				      struct iommufd_ctx *ictx, u32 *out_id)
{
	struct iommufd_access *access;

	access = iommufd_access_create(ictx, &vfio_iommufd_emulated_ops, vdev,
				       out_id);
	if (IS_ERR(access))
		return PTR_ERR(access);
	vdev->iommufd_access = access;
	return 0;
}

static void vfio_iommufd_emulated_unbind(struct vfio_device *vdev)
{
	iommufd_access_destroy(vdev->iommufd_access);
	vdev->iommufd_access = NULL;
	vdev->iommufd_attached = false;
}

static int vfio_iommufd_emulated_attach(struct vfio_device *vdev, u32 *pt_id)
{
	int ret;

	if (vdev->iommufd_attached)
		ret = iommufd_access_replace(vdev->iommufd_access, *pt_id);
	else
		ret = iommufd_access_attach(vdev->iommufd_access, *pt_id);
	if (!ret)
		vdev->iommufd_attached = true;
	return ret;
}

static void vfio_iommufd_emulated_detach(struct vfio_device *vdev)
{
	if (vdev->iommufd_attached)
		iommufd_access_detach(vdev->iommufd_access);
	vdev->iommufd_attached = false;
}

static bool vfio_iommufd_emulated(struct vfio_device *vdev)
{
	return vdev->group->type == VFIO_EMULATED_IOMMU;
}

/**
 * vfio_iommufd_bind_device - bind a device being opened to an iommufd
 * @vdev: the device, being opened for the first time
 * @ictx: the context
 * @dev_id: returns the ID of the bound device (of its access, for an
 *          emulated device) in @ictx
 *
 * The device is bound, not attached: a physical device's iommu_group is
 * owned by @ictx and blocks DMA until vfio_iommufd_attach_pt().
 *
 * Context: the device set's lock held.
 * Return: 0; -EPERM for a no-IOMMU device; or the error of the bind.
 */
int vfio_iommufd_bind_device(struct vfio_device *vdev,
			     struct iommufd_ctx *ictx, u32 *dev_id)
{
	lockdep_assert_held(&vdev->dev_set->lock);
	if (vdev->group->type == VFIO_NO_IOMMU)
		return -EPERM;
	if (vdev->ops->bind_iommufd)
		return vdev->ops->bind_iommufd(vdev, ictx, dev_id);
	if (vfio_iommufd_emulated(vdev))
		return vfio_iommufd_emulated_bind(vdev, ictx, dev_id);
	return vfio_iommufd_physical_bind(vdev, ictx, dev_id);
}

/**
 * vfio_iommufd_attach_pt - attach a bound device to an IOAS or a HWPT
 * @vdev: the bound device
 * @pt_id: in: the ID of an IOAS or HWPT of the bound context; out: the
 *         HWPT (or, for an emulated device, the IOAS) the device uses
 *
 * An attached device is moved to the new page table.
 *
 * Context: the device set's lock held.
 * Return: 0, -EINVAL if the device is not bound, or the error of the
 * attach (the device stays where it was then).
 */
int vfio_iommufd_attach_pt(struct vfio_device *vdev, u32 *pt_id)
{
	lockdep_assert_held(&vdev->dev_set->lock);
	if (!vdev->iommufd_device && !vdev->iommufd_access &&
	    !vdev->ops->attach_ioas)
		return -EINVAL;
	if (vdev->ops->attach_ioas)
		return vdev->ops->attach_ioas(vdev, pt_id);
	if (vfio_iommufd_emulated(vdev))
		return vfio_iommufd_emulated_attach(vdev, pt_id);
	return vfio_iommufd_physical_attach(vdev, pt_id);
}

/**
 * vfio_iommufd_detach_pt - block a bound device's DMA again
 * @vdev: the bound device, attached or not
 *
 * Context: the device set's lock held.
 */
void vfio_iommufd_detach_pt(struct vfio_device *vdev)
{
	lockdep_assert_held(&vdev->dev_set->lock);
	if (vdev->ops->detach_ioas)
		vdev->ops->detach_ioas(vdev);
	else if (vfio_iommufd_emulated(vdev))
		vfio_iommufd_emulated_detach(vdev);
	else if (vdev->iommufd_device)
		vfio_iommufd_physical_detach(vdev);
}

/**
 * vfio_iommufd_group_set - a group's container becomes an iommufd
 * @group: the group, with no container and no device open
 * @ictx: the context; the caller keeps its reference while the group uses
 *        it, and calls vfio_iommufd_group_unset() before dropping it
 *
 * A group backed by an IOMMU is claimed for @ictx as type1 claims it: its
 * DMA ownership, and in the context's compatibility IOAS (made if there
 * is none) the IOVA outside its IOMMU's aperture and its reserved
 * regions. An emulated group gets the compatibility IOAS only, so that
 * the container ioctls work before its devices are opened.
 *
 * Context: the group lock held.
 * Return: 0; -EPERM for a no-IOMMU group, or if the group is owned
 * elsewhere (a kernel driver, another context) or its MSIs can't be
 * isolated; -EINVAL if its IOMMU can't enforce cache coherency or the
 * IOAS maps IOVA the group needs reserved; -ENODEV, -ENOMEM or -EIO.
 */
int vfio_iommufd_group_set(struct vfio_group *group, struct iommufd_ctx *ictx)
{
	struct iommufd_vfio_claim *claim;
	u32 ioas_id;

	lockdep_assert_held(&group->group_lock);
	if (group->type == VFIO_NO_IOMMU)
		return -EPERM;
	if (group->type == VFIO_EMULATED_IOMMU)
		return iommufd_vfio_compat_ioas(ictx, &ioas_id);
	claim = iommufd_vfio_compat_claim(ictx, group->iommu_group);
	if (IS_ERR(claim))
		return PTR_ERR(claim);
	group->iommufd_claim = claim;
	return 0;
}

/**
 * vfio_iommufd_group_unset - a group gives its iommufd container up
 * @group: the group, none of whose devices is open
 *
 * Undoes vfio_iommufd_group_set(): the reservations go, and the group's
 * DMA ownership is released.
 *
 * Context: the group lock held.
 */
void vfio_iommufd_group_unset(struct vfio_group *group)
{
	lockdep_assert_held(&group->group_lock);
	if (!group->iommufd_claim)
		return;
	iommufd_vfio_compat_unclaim(group->iommufd_claim);
	group->iommufd_claim = NULL;
}

/**
 * vfio_iommufd_bind - bind a device being opened to its group's iommufd
 * @vdev: the device, being opened for the first time
 * @ictx: the group's iommufd context
 *
 * Binds the device and attaches it to the context's compatibility IOAS,
 * which is made if the context has none.
 *
 * Context: the device set's lock and the group lock held.
 * Return: 0, or the error of the bind or of the attach (nothing stays
 * bound then).
 */
int vfio_iommufd_bind(struct vfio_device *vdev, struct iommufd_ctx *ictx)
{
	u32 dev_id, ioas_id;
	int ret;

	if (vdev->group->type == VFIO_NO_IOMMU)
		return -EPERM;
	ret = iommufd_vfio_compat_ioas(ictx, &ioas_id);
	if (ret)
		return ret;
	ret = vfio_iommufd_bind_device(vdev, ictx, &dev_id);
	if (ret)
		return ret;
	ret = vfio_iommufd_attach_pt(vdev, &ioas_id);
	if (ret)
		vfio_iommufd_unbind(vdev);
	return ret;
}

/**
 * vfio_iommufd_unbind - undo vfio_iommufd_bind() after the last close
 * @vdev: the device; the driver's close_device() has run
 *
 * Context: the device set's lock and the group lock held.
 */
void vfio_iommufd_unbind(struct vfio_device *vdev)
{
	lockdep_assert_held(&vdev->dev_set->lock);
	if (vdev->ops->unbind_iommufd)
		vdev->ops->unbind_iommufd(vdev);
	else if (vfio_iommufd_emulated(vdev))
		vfio_iommufd_emulated_unbind(vdev);
	else
		vfio_iommufd_physical_unbind(vdev);
}

/**
 * vfio_iommufd_enforced_coherent - whether an open device's DMA snoops
 * @vdev: the device
 *
 * Return: true if the device is bound physically and its IOMMU enforces
 * cache coherency, false otherwise (an emulated device does no DMA, but
 * nothing is known of the IOMMU then).
 */
bool vfio_iommufd_enforced_coherent(struct vfio_device *vdev)
{
	return vdev->iommufd_device &&
	       iommufd_device_enforced_coherent(vdev->iommufd_device);
}

/**
 * vfio_iommufd_device_ictx - the iommufd a physical device is bound to
 * @vdev: the device
 *
 * Context: with the device open, or under the device set's lock.
 * Return: the context, or NULL if the device is not open on an iommufd or
 * is emulated (bound through a software access).
 */
struct iommufd_ctx *vfio_iommufd_device_ictx(struct vfio_device *vdev)
{
	if (!vdev->iommufd_device)
		return NULL;
	return iommufd_device_bound_to(vdev->iommufd_device, NULL);
}
EXPORT_SYMBOL_GPL(vfio_iommufd_device_ictx);

/**
 * vfio_iommufd_get_dev_id - a device as an iommufd's user sees it
 * @vdev: the device
 * @ictx: the user's iommufd context
 *
 * Context: process context, under the device set's lock.
 * Return: the device's object ID in @ictx if it is bound to @ictx;
 * -ENOENT if it is not, but @ictx owns its iommu_group, so that no one
 * else can use it; -ENODEV if @ictx does not own it.
 */
int vfio_iommufd_get_dev_id(struct vfio_device *vdev, struct iommufd_ctx *ictx)
{
	struct iommu_group *group;
	bool owned;
	u32 id;

	lockdep_assert_held(&vdev->dev_set->lock);
	if (ictx && vdev->iommufd_device &&
	    iommufd_device_bound_to(vdev->iommufd_device, &id) == ictx)
		return id;
	group = iommu_group_get(vdev->dev);
	owned = iommufd_ctx_has_group(ictx, group);
	iommu_group_put(group);
	return owned ? -ENOENT : -ENODEV;
}
EXPORT_SYMBOL_GPL(vfio_iommufd_get_dev_id);

/*
 * vfio_pin_pages(), vfio_unpin_pages() and vfio_dma_rw() of a device
 * bound to an iommufd: through its software access.
 */
int vfio_iommufd_pin_pages(struct vfio_device *vdev, dma_addr_t iova,
			   int npage, int prot, struct page **pages)
{
	unsigned int flags = 0;
	int ret;

	if (!vdev->iommufd_access)
		return -EINVAL;
	if (prot & IOMMU_WRITE)
		flags |= IOMMUFD_ACCESS_RW_WRITE;
	ret = iommufd_access_pin_pages(vdev->iommufd_access,
				       ALIGN_DOWN(iova, PAGE_SIZE),
				       (unsigned long)npage * PAGE_SIZE, pages,
				       flags);
	return ret ? ret : npage;
}

void vfio_iommufd_unpin_pages(struct vfio_device *vdev, dma_addr_t iova,
			      int npage)
{
	if (WARN_ON(!vdev->iommufd_access))
		return;
	iommufd_access_unpin_pages(vdev->iommufd_access,
				   ALIGN_DOWN(iova, PAGE_SIZE),
				   (unsigned long)npage * PAGE_SIZE);
}

int vfio_iommufd_dma_rw(struct vfio_device *vdev, dma_addr_t iova,
			void *data, size_t len, bool write)
{
	if (!vdev->iommufd_access)
		return -EINVAL;
	return iommufd_access_rw(vdev->iommufd_access, iova, data, len,
				 write ? IOMMUFD_ACCESS_RW_WRITE :
					 IOMMUFD_ACCESS_RW_READ);
}
