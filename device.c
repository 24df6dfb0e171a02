// SPDX-License-Identifier: GPL-2.0-only
/*
 * device: the kernel API through which drivers hand devices to iommufd.
 *
 * Theory of operation
 * -------------------
 * DMA isolation is per iommu_group, so ownership is too. The first device
 * of a group bound to a context claims the group's DMA ownership for the
 * context (iommu_group_claim_dma_owner(), which moves the group to its
 * blocking domain); further devices of that group bound to the same context
 * share the claim through a struct iommufd_group, and the last unbind
 * releases it. Another context, or a kernel driver using the DMA API on a
 * device of the group, already holds the group, and binding fails with
 * -EBUSY.
 *
 * A bound device is an object (IOMMUFD_OBJ_DEVICE) whose driver holds a
 * user of it, so IOMMU_DESTROY of it fails with EBUSY; the driver's unbind
 * removes it. A bound device also holds the context's file, so the context
 * lives as long as its devices (mock devices of the selftest excepted: they
 * belong to an object of the very context and go with it).
 *
 * Attaching points the group at one HWPT; all attached devices of a group
 * share it. Given an IOAS, attach looks for a HWPT the kernel created
 * automatically on that IOAS that the device is compatible with, and
 * creates one if none is. Such automatic HWPTs are destroyed when their
 * last device leaves. Before the group switches, the device's reserved
 * regions (MSI window, firmware-reserved ranges) are reserved in the IOAS,
 * which fails if a mapping is there. Attaching an attached device replaces
 * its page table: iommu_group_replace_domain() moves the group from the old
 * domain to the new one directly, so DMA never reaches anything else, and
 * the old HWPT is let go only afterwards. Detaching the last device of a
 * group puts the group back on its blocking domain.
 *
 * Locking: iommufd_group.lock serialises attach, replace and detach of the
 * devices of one group; inside it iommufd_ioas.mutex protects the IOAS's
 * list of HWPTs while automatic attach searches it. See io_pagetable.h for
 * the complete order.
 */
#include <linux/err.h>
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/iommufd.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

/* Take (or share) the DMA ownership of @group for @ictx. */
static struct iommufd_group *iommufd_group_get(struct iommufd_ctx *ictx,
					       struct iommu_group *group)
{
	unsigned long key = iommu_group_id(group);
	struct iommufd_group *igroup;
	int rc;

	mutex_lock(&ictx->groups_lock);
	igroup = xa_load(&ictx->groups, key);
	if (igroup) {
		igroup->nbound++;
		goto out_unlock;
	}
	igroup = kzalloc(sizeof(*igroup), GFP_KERNEL_ACCOUNT);
	if (!igroup) {
		igroup = ERR_PTR(-ENOMEM);
		goto out_unlock;
	}
	rc = xa_insert(&ictx->groups, key, igroup, GFP_KERNEL_ACCOUNT);
	if (rc)
		goto err_free;
	rc = iommu_group_claim_dma_owner(group, ictx);
	if (rc) {
		xa_erase(&ictx->groups, key);
		/* Owned by another context or used by a kernel driver. */
		if (rc == -EPERM)
			rc = -EBUSY;
		goto err_free;
	}
	mutex_init(&igroup->lock);
	igroup->group = iommu_group_ref_get(group);
	igroup->nbound = 1;
	goto out_unlock;

err_free:
	kfree(igroup);
	igroup = ERR_PTR(rc);
out_unlock:
	mutex_unlock(&ictx->groups_lock);
	return igroup;
}

static void iommufd_group_put(struct iommufd_ctx *ictx,
			      struct iommufd_group *igroup)
{
	mutex_lock(&ictx->groups_lock);
	if (--igroup->nbound) {
		mutex_unlock(&ictx->groups_lock);
		return;
	}
	xa_erase(&ictx->groups, iommu_group_id(igroup->group));
	mutex_unlock(&ictx->groups_lock);

	WARN_ON(igroup->nattached);
	iommu_group_release_dma_owner(igroup->group);
	iommu_group_put(igroup->group);
	mutex_destroy(&igroup->lock);
	kfree(igroup);
}

/**
 * iommufd_device_destroy - release what a device object holds
 * @obj: the device's object, detached
 */
void iommufd_device_destroy(struct iommufd_object *obj)
{
	struct iommufd_device *idev =
		container_of(obj, struct iommufd_device, obj);

	iommufd_group_put(idev->ictx, idev->igroup);
}

/**
 * iommufd_device_bind - hand a device to an iommufd context
 * @ictx: the context, from the file userspace named
 * @dev: the device; it must be in an iommu_group
 * @id: returns the device's object ID, for userspace
 *
 * Claims DMA ownership of the device's iommu_group for @ictx, unless a
 * device of the group is bound to @ictx already. The device can do no DMA
 * until it is attached.
 *
 * Return: the bound device, or ERR_PTR(-ENODEV) without an iommu_group,
 * ERR_PTR(-EBUSY) if the group is owned elsewhere, or another error.
 */
struct iommufd_device *iommufd_device_bind(struct iommufd_ctx *ictx,
					   struct device *dev, u32 *id)
{
	struct iommufd_device *idev;
	struct iommufd_group *igroup;
	struct iommu_group *group;

	group = iommu_group_get(dev);
	if (!group)
		return ERR_PTR(-ENODEV);
	igroup = iommufd_group_get(ictx, group);
	iommu_group_put(group);
	if (IS_ERR(igroup))
		return ERR_CAST(igroup);

	idev = iommufd_object_alloc(ictx, idev, IOMMUFD_OBJ_DEVICE);
	if (IS_ERR(idev)) {
		iommufd_group_put(ictx, igroup);
		return idev;
	}
	idev->ictx = ictx;
	idev->dev = dev;
	idev->igroup = igroup;
	idev->coherent_capable =
		device_iommu_capable(dev, IOMMU_CAP_CACHE_COHERENCY);
	/* The driver's user: only iommufd_device_unbind() removes it. */
	refcount_inc(&idev->obj.users);
	if (!iommufd_selftest_is_mock_dev(dev))
		get_file(ictx->file);
	iommufd_object_finalize(ictx, &idev->obj);
	*id = idev->obj.id;
	return idev;
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_bind, IOMMUFD);

/**
 * iommufd_device_unbind - give a device back
 * @idev: a device returned by iommufd_device_bind()
 *
 * Detaches the device if needed and releases its group's DMA ownership
 * when it is the group's last bound device. @idev is gone afterwards.
 */
void iommufd_device_unbind(struct iommufd_device *idev)
{
	struct iommufd_ctx *ictx = idev->ictx;
	bool mock = iommufd_selftest_is_mock_dev(idev->dev);

	iommufd_device_detach(idev);
	iommufd_object_destroy_owned(ictx, &idev->obj);
	if (!mock)
		fput(ictx->file);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_unbind, IOMMUFD);

/* Reserve the device's reserved regions in @iopt, owned by @idev. */
static int iommufd_device_reserve(struct iommufd_device *idev,
				  struct io_pagetable *iopt)
{
	struct iommu_resv_region *resv;
	LIST_HEAD(regions);
	int rc = 0;

	iommu_get_resv_regions(idev->dev, &regions);
	list_for_each_entry(resv, &regions, list) {
		/* These may be left to the device's DMA, see RMRR. */
		if (resv->type == IOMMU_RESV_DIRECT_RELAXABLE)
			continue;
		rc = iopt_reserve_iova(iopt, resv->start,
				       resv->start + resv->length - 1, idev);
		if (rc)
			break;
	}
	iommu_put_resv_regions(idev->dev, &regions);
	if (rc)
		iopt_remove_reserved_iova(iopt, idev);
	return rc;
}

/*
 * Point @idev at @hwpt, with the group lock held. On success *@old is the
 * HWPT the device used before (or NULL), whose user the caller drops once
 * it has released its locks.
 */
static int iommufd_device_do_attach(struct iommufd_device *idev,
				    struct iommufd_hw_pagetable *hwpt,
				    struct iommufd_hw_pagetable **old)
{
	struct iommufd_group *igroup = idev->igroup;
	struct iommufd_hw_pagetable *cur = idev->hwpt;
	bool new_ioas = !cur || cur->ioas != hwpt->ioas;
	int rc;

	lockdep_assert_held(&igroup->lock);
	*old = NULL;
	if (cur == hwpt)
		return 0;
	if (hwpt->enforce_cache_coherency && !idev->coherent_capable)
		return -EINVAL;
	/* Other attached devices of the group keep it where it is. */
	if (igroup->hwpt && igroup->hwpt != hwpt &&
	    igroup->nattached > (cur ? 1 : 0))
		return -EINVAL;

	if (new_ioas) {
		rc = iommufd_device_reserve(idev, &hwpt->ioas->iopt);
		if (rc)
			return rc;
	}
	if (igroup->hwpt != hwpt) {
		rc = iommu_group_replace_domain(igroup->group, hwpt->domain);
		if (rc) {
			if (new_ioas)
				iopt_remove_reserved_iova(&hwpt->ioas->iopt,
							  idev);
			return rc;
		}
	}
	if (cur && new_ioas)
		iopt_remove_reserved_iova(&cur->ioas->iopt, idev);

	refcount_inc(&hwpt->obj.users);
	idev->hwpt = hwpt;
	igroup->hwpt = hwpt;
	if (!cur)
		igroup->nattached++;
	*old = cur;
	return 0;
}

/*
 * Attach to an automatic HWPT of @ioas: an existing compatible one if
 * @reuse, else a new one. Returns the HWPT's ID in *@pt_id.
 */
static int iommufd_device_auto_attach(struct iommufd_device *idev,
				      struct iommufd_ioas *ioas, bool reuse,
				      u32 *pt_id,
				      struct iommufd_hw_pagetable **old)
{
	struct iommufd_hw_pagetable *hwpt;
	int rc;

	mutex_lock(&ioas->mutex);
	if (reuse) {
		list_for_each_entry(hwpt, &ioas->hwpt_list, hwpt_item) {
			/* Skip HWPTs being destroyed (no users left). */
			if (!hwpt->auto_domain ||
			    !refcount_inc_not_zero(&hwpt->obj.users))
				continue;
			rc = iommufd_device_do_attach(idev, hwpt, old);
			refcount_dec(&hwpt->obj.users);
			/* -EINVAL: not for this device, try the next one */
			if (rc == -EINVAL)
				continue;
			if (!rc)
				*pt_id = hwpt->obj.id;
			mutex_unlock(&ioas->mutex);
			return rc;
		}
	}

	hwpt = iommufd_hw_pagetable_alloc(idev->ictx, ioas, idev->dev, true);
	if (IS_ERR(hwpt)) {
		mutex_unlock(&ioas->mutex);
		return PTR_ERR(hwpt);
	}
	rc = iommufd_device_do_attach(idev, hwpt, old);
	mutex_unlock(&ioas->mutex);
	if (rc) {
		iommufd_object_abort_and_destroy(idev->ictx, &hwpt->obj);
		return rc;
	}
	*pt_id = hwpt->obj.id;
	iommufd_object_finalize(idev->ictx, &hwpt->obj);
	return 0;
}

/* Drop a device's user of a HWPT; automatic HWPTs go with their last. */
static void iommufd_hwpt_put_user(struct iommufd_ctx *ictx,
				  struct iommufd_hw_pagetable *hwpt)
{
	if (hwpt->auto_domain &&
	    iommufd_object_destroy_if_last(ictx, &hwpt->obj))
		return;
	refcount_dec(&hwpt->obj.users);
}

static int __iommufd_device_attach(struct iommufd_device *idev, u32 *pt_id,
				   bool new_auto)
{
	struct iommufd_hw_pagetable *old = NULL;
	struct iommufd_hw_pagetable *hwpt;
	struct iommufd_ioas *ioas;
	struct iommufd_object *pt;
	int rc;

	pt = iommufd_get_object(idev->ictx, *pt_id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(pt))
		return PTR_ERR(pt);

	mutex_lock(&idev->igroup->lock);
	switch (pt->type) {
	case IOMMUFD_OBJ_HW_PAGETABLE:
		hwpt = container_of(pt, struct iommufd_hw_pagetable, obj);
		rc = iommufd_device_do_attach(idev, hwpt, &old);
		break;
	case IOMMUFD_OBJ_IOAS:
		ioas = container_of(pt, struct iommufd_ioas, obj);
		rc = iommufd_device_auto_attach(idev, ioas, !new_auto, pt_id,
						&old);
		break;
	default:
		rc = -EINVAL;
	}
	mutex_unlock(&idev->igroup->lock);
	iommufd_put_object(idev->ictx, pt);
	if (old)
		iommufd_hwpt_put_user(idev->ictx, old);
	return rc;
}

/**
 * iommufd_device_attach - attach a device to an IOAS or a HWPT
 * @idev: a bound device
 * @pt_id: in: the ID of an IOAS or a HWPT of the device's context; out: the
 *         ID of the HWPT the device is attached to
 *
 * With an IOAS, a compatible HWPT the kernel created on it is reused, or a
 * new one created. If the device is attached already, its page table is
 * replaced without a moment in which its DMA is unblocked or goes anywhere
 * but the old or the new page table. All attached devices of an
 * iommu_group use the same HWPT.
 *
 * Return: 0; -ENOENT for a bad ID; -EINVAL if @pt_id is neither an IOAS nor
 * a HWPT, if the HWPT enforces cache coherency and the device cannot, or if
 * another device of the group is attached elsewhere; -EADDRINUSE if the
 * device's reserved regions collide with mappings or allowed ranges of the
 * IOAS; or an error of the IOMMU driver. On failure nothing changed.
 */
int iommufd_device_attach(struct iommufd_device *idev, u32 *pt_id)
{
	return __iommufd_device_attach(idev, pt_id, false);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_attach, IOMMUFD);

/**
 * iommufd_device_attach_new_hwpt - attach a device to a new automatic HWPT
 * @idev: a bound device
 * @ioas_id: in: the ID of an IOAS; out: the ID of the new HWPT
 *
 * Like iommufd_device_attach() with an IOAS, but never reuses a HWPT.
 *
 * Return: 0 or a negative errno, as iommufd_device_attach().
 */
int iommufd_device_attach_new_hwpt(struct iommufd_device *idev, u32 *ioas_id)
{
	return __iommufd_device_attach(idev, ioas_id, true);
}

/**
 * iommufd_device_detach - stop a device's DMA translation
 * @idev: a bound device, attached or not
 *
 * When the device is its group's last attached device, the group goes back
 * to blocking all DMA.
 */
void iommufd_device_detach(struct iommufd_device *idev)
{
	struct iommufd_group *igroup = idev->igroup;
	struct iommufd_hw_pagetable *hwpt;

	mutex_lock(&igroup->lock);
	hwpt = idev->hwpt;
	if (!hwpt) {
		mutex_unlock(&igroup->lock);
		return;
	}
	if (!--igroup->nattached) {
		WARN_ON(iommu_group_replace_domain(igroup->group, NULL));
		igroup->hwpt = NULL;
	}
	iopt_remove_reserved_iova(&hwpt->ioas->iopt, idev);
	idev->hwpt = NULL;
	mutex_unlock(&igroup->lock);
	iommufd_hwpt_put_user(idev->ictx, hwpt);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_detach, IOMMUFD);

/**
 * iommufd_device_enforced_coherent - is the device's DMA cache coherent
 * @idev: a bound device
 *
 * Return: true if the device is attached to a HWPT that enforces cache
 * coherency (no-snoop DMA is impossible); KVM needs to know.
 */
bool iommufd_device_enforced_coherent(struct iommufd_device *idev)
{
	bool coherent;

	mutex_lock(&idev->igroup->lock);
	coherent = idev->hwpt && idev->hwpt->enforce_cache_coherency;
	mutex_unlock(&idev->igroup->lock);
	return coherent;
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_enforced_coherent, IOMMUFD);

/**
 * iommufd_device_to_ictx - the context a device is bound to
 * @idev: a bound device
 *
 * Return: the context.
 */
struct iommufd_ctx *iommufd_device_to_ictx(struct iommufd_device *idev)
{
	return idev->ictx;
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_to_ictx, IOMMUFD);

/**
 * iommufd_device_to_id - the object ID of a bound device
 * @idev: a bound device
 *
 * Return: the ID userspace names the device with.
 */
u32 iommufd_device_to_id(struct iommufd_device *idev)
{
	return idev->obj.id;
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_to_id, IOMMUFD);

int iommufd_get_hw_info(struct iommufd_ucmd *ucmd)
{
	struct iommu_hw_info *cmd = ucmd->cmd;
	void __user *udata = u64_to_user_ptr(cmd->data_uptr);
	struct iommufd_device *idev;
	u32 type = IOMMU_HW_INFO_TYPE_NONE;
	void *data = NULL;
	size_t len = 0;
	int rc = 0;

	if (cmd->flags)
		return -EOPNOTSUPP;
	if (memchr_inv(cmd->__reserved, 0, sizeof(cmd->__reserved)))
		return -EINVAL;
	idev = iommufd_get_device(ucmd->ictx, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);

	/* 6.1's IOMMU drivers have no way to report their hardware. */
	if (iommufd_selftest_is_mock_dev(idev->dev)) {
		data = iommufd_selftest_hw_info(&type, &len);
		if (IS_ERR(data)) {
			rc = PTR_ERR(data);
			goto out_put;
		}
	}
	if (copy_to_user(udata, data, min_t(size_t, len, cmd->data_len)) ||
	    (cmd->data_len > len &&
	     clear_user(udata + len, cmd->data_len - len))) {
		rc = -EFAULT;
		goto out_free;
	}
	cmd->data_len = len;
	cmd->out_data_type = type;
	cmd->out_max_pasid_log2 = 0;
	cmd->out_capabilities = 0;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out_free:
	kfree(data);
out_put:
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}
