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
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/iommufd.h>
#include <linux/overflow.h>
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
	/* A HWPT being destroyed has no users left and takes no new ones. */
	if (!refcount_inc_not_zero(&hwpt->obj.users))
		return -ENOENT;

	if (new_ioas) {
		rc = iommufd_device_reserve(idev, &hwpt->ioas->iopt);
		if (rc)
			goto err_user;
	}
	if (igroup->hwpt != hwpt) {
		rc = iommu_group_replace_domain(igroup->group, hwpt->domain);
		if (rc) {
			if (new_ioas)
				iopt_remove_reserved_iova(&hwpt->ioas->iopt,
							  idev);
			goto err_user;
		}
	}
	if (cur && new_ioas)
		iopt_remove_reserved_iova(&cur->ioas->iopt, idev);

	idev->hwpt = hwpt;
	igroup->hwpt = hwpt;
	if (!cur)
		igroup->nattached++;
	*old = cur;
	return 0;

err_user:
	refcount_dec(&hwpt->obj.users);
	return rc;
}

/* Attach to a new automatic HWPT of @ioas, with the IOAS mutex held. */
static int iommufd_device_attach_new(struct iommufd_device *idev,
				     struct iommufd_ioas *ioas, bool enforce,
				     u32 *pt_id,
				     struct iommufd_hw_pagetable **old)
{
	struct iommufd_hw_pagetable *hwpt;
	int rc;

	hwpt = iommufd_hw_pagetable_alloc(idev->ictx, ioas, idev->dev, true,
					  enforce);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	rc = iommufd_device_do_attach(idev, hwpt, old);
	if (rc) {
		/* Nobody may find it while the mutex is dropped for its end. */
		list_del_init(&hwpt->hwpt_item);
		mutex_unlock(&ioas->mutex);
		iommufd_object_abort_and_destroy(idev->ictx, &hwpt->obj);
		mutex_lock(&ioas->mutex);
		return rc;
	}
	*pt_id = hwpt->obj.id;
	iommufd_object_finalize(idev->ictx, &hwpt->obj);
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
			if (!hwpt->auto_domain)
				continue;
			rc = iommufd_device_do_attach(idev, hwpt, old);
			/*
			 * -EINVAL: not for this device; -ENOENT: being
			 * destroyed. Try the next one.
			 */
			if (rc == -EINVAL || rc == -ENOENT)
				continue;
			if (!rc)
				*pt_id = hwpt->obj.id;
			mutex_unlock(&ioas->mutex);
			return rc;
		}
	}

	rc = iommufd_device_attach_new(idev, ioas, true, pt_id, old);
	/*
	 * 6.1's IOMMU_CAP_CACHE_COHERENCY says what the IOMMU driver can do,
	 * not whether this device's IOMMU unit can (VT-d without snoop
	 * control refuses the attach). Fall back to a plain page table.
	 */
	if (rc == -EINVAL)
		rc = iommufd_device_attach_new(idev, ioas, false, pt_id, old);
	mutex_unlock(&ioas->mutex);
	return rc;
}

/* Drop a device's user of a HWPT; automatic HWPTs go with their last. */
static void iommufd_hwpt_put_user(struct iommufd_ctx *ictx,
				  struct iommufd_hw_pagetable *hwpt)
{
	iommufd_object_put_user(ictx, &hwpt->obj, hwpt->auto_domain);
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

int iommufd_get_hw_info(struct iommufd_ucmd *ucmd)
{
	struct iommu_hw_info *cmd = ucmd->cmd;
	void __user *udata = u64_to_user_ptr(cmd->data_uptr);
	/* Big enough for every driver's data this kernel knows. */
	u8 data[IOMMUFD_HW_INFO_MAX] = {};
	struct iommufd_device *idev;
	size_t len;

	if (cmd->flags)
		return -EOPNOTSUPP;
	if (memchr_inv(cmd->__reserved, 0, sizeof(cmd->__reserved)))
		return -EINVAL;
	idev = iommufd_get_device(ucmd->ictx, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);

	/*
	 * 6.1's IOMMU drivers have no operation that describes their
	 * hardware: only the mock has something to say.
	 */
	cmd->out_data_type = IOMMU_HW_INFO_TYPE_NONE;
	len = 0;
	if (iommufd_selftest_is_mock_dev(idev->dev))
		len = iommufd_selftest_hw_info(data, &cmd->out_data_type);
	iommufd_put_object(ucmd->ictx, &idev->obj);

	/* As much as the user has room for, then zeroes to its end. */
	if (copy_to_user(udata, data, min_t(size_t, len, cmd->data_len)))
		return -EFAULT;
	if (cmd->data_len > len && clear_user(udata + len, cmd->data_len - len))
		return -EFAULT;
	cmd->data_len = len;
	cmd->out_max_pasid_log2 = 0;
	cmd->out_capabilities = 0;
	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
}

/*
 * Software access
 * ---------------
 * An emulated device has no IOMMU: its driver reads and writes guest memory
 * by IOVA itself. It creates an access (IOMMUFD_OBJ_ACCESS, held by the
 * driver like a bound device), attaches it to an IOAS, and pins pages by
 * IOVA or copies through it. Pins go through the pages objects (pages.c),
 * so a page a domain already pins is not pinned again, and pins survive
 * domains coming and going. UNMAP of pinned IOVA calls the driver's unmap
 * callback, which must unpin; UNMAP fails with EBUSY if it does not.
 *
 * Locking: iommufd_ioas.mutex (the IOAS's access list, held while the
 * callbacks run) -> the driver's locks -> iommufd_access.ioas_lock ->
 * io_pagetable.rwsem. Attach and detach take ioas_lock and the IOAS
 * mutex one after the other, never nested.
 */

/**
 * iommufd_access_create - create a software access
 * @ictx: the context
 * @ops: the driver's callbacks, @ops->unmap is required
 * @data: argument to the callbacks
 * @id: returns the access's object ID
 *
 * The context stays alive while the access exists.
 *
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
	refcount_inc(&access->obj.users);
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
 */
void iommufd_access_destroy(struct iommufd_access *access)
{
	struct iommufd_ctx *ictx = access->ictx;

	iommufd_access_detach(access);
	iommufd_object_destroy_owned(ictx, &access->obj);
	fput(ictx->file);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_destroy, IOMMUFD);

static void iommufd_access_list_del(struct iommufd_access *access,
				    struct iommufd_ioas *ioas)
{
	mutex_lock(&ioas->mutex);
	list_del_init(&access->ioas_item);
	mutex_unlock(&ioas->mutex);
	refcount_dec(&ioas->obj.users);
}

/* Attach, or with @replace move, the access to IOAS @ioas_id. */
static int iommufd_access_set_ioas(struct iommufd_access *access, u32 ioas_id,
				   bool replace)
{
	struct iommufd_ioas *old;
	struct iommufd_ioas *ioas;
	int rc = 0;

	ioas = iommufd_get_ioas(access->ictx, ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	mutex_lock(&access->ioas_lock);
	old = access->ioas;
	if (old == ioas)
		goto out_unlock;
	if (!replace && old)
		rc = -EINVAL;
	else if (replace && !old)
		rc = -EINVAL;
	else if (access->npinned)
		rc = -EBUSY;
	if (rc)
		goto out_unlock;
	if (!refcount_inc_not_zero(&ioas->obj.users)) {
		rc = -ENOENT;
		goto out_unlock;
	}
	access->ioas = ioas;
	mutex_unlock(&access->ioas_lock);

	if (old)
		iommufd_access_list_del(access, old);
	mutex_lock(&ioas->mutex);
	list_add_tail(&access->ioas_item, &ioas->access_list);
	mutex_unlock(&ioas->mutex);
	iommufd_put_object(access->ictx, &ioas->obj);
	return 0;

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
 * The driver must not pin pages through the access while it replaces.
 *
 * Return: 0, -ENOENT for a bad ID, -EINVAL if not attached, -EBUSY while
 * the access has pages pinned.
 */
int iommufd_access_replace(struct iommufd_access *access, u32 ioas_id)
{
	return iommufd_access_set_ioas(access, ioas_id, true);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_replace, IOMMUFD);

/**
 * iommufd_access_detach - detach a software access from its IOAS
 * @access: the access; everything it pinned must be unpinned
 */
void iommufd_access_detach(struct iommufd_access *access)
{
	struct iommufd_ioas *ioas;

	mutex_lock(&access->ioas_lock);
	ioas = access->ioas;
	WARN_ON(access->npinned);
	access->ioas = NULL;
	mutex_unlock(&access->ioas_lock);
	if (ioas)
		iommufd_access_list_del(access, ioas);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_detach, IOMMUFD);

/**
 * iommufd_access_notify_unmap - ask accesses to unpin an IOVA range
 * @iopt: the io_pagetable of an IOAS, not locked
 * @first: first IOVA being unmapped
 * @last: last IOVA being unmapped
 */
void iommufd_access_notify_unmap(struct io_pagetable *iopt,
				 unsigned long first, unsigned long last)
{
	struct iommufd_ioas *ioas = container_of(iopt, struct iommufd_ioas,
						 iopt);
	struct iommufd_access *access;

	mutex_lock(&ioas->mutex);
	list_for_each_entry(access, &ioas->access_list, ioas_item)
		access->ops->unmap(access->data, first, last - first + 1);
	mutex_unlock(&ioas->mutex);
}

/*
 * Call @fn on each page-index range of the areas that [iova, last] covers,
 * in order; -ENOENT if part of it is not mapped. @fn gets the offset of
 * the piece's first byte from @iova.
 */
static int iommufd_access_for_each(struct io_pagetable *iopt,
				   unsigned long iova, unsigned long last,
				   int (*fn)(struct iopt_area *area,
					     unsigned long first,
					     unsigned long last_index,
					     unsigned long offset, void *arg),
				   void *arg)
{
	struct interval_tree_node *node;
	unsigned long expect = iova;
	int rc;

	lockdep_assert_held(&iopt->rwsem);
	for (node = interval_tree_iter_first(&iopt->area_itree, iova, last);
	     node; node = interval_tree_iter_next(node, iova, last)) {
		struct iopt_area *area = container_of(node, struct iopt_area,
						      node);
		unsigned long piece_last = min(node->last, last);
		unsigned long off = area->pages_off + (expect - node->start);

		if (node->start > expect)
			return -ENOENT;
		rc = fn(area, off >> PAGE_SHIFT,
			(area->pages_off + (piece_last - node->start)) >>
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

struct iommufd_pin_arg {
	struct page **pages;
	unsigned long iova;
	unsigned long last;
	bool write;
	/* pieces pinned so far, to undo on failure */
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
 * Lock the access's IOAS for a pin or a copy: returns its io_pagetable with
 * ioas_lock and the table's rwsem (read) held, or NULL if not attached.
 */
static struct io_pagetable *iommufd_access_lock(struct iommufd_access *access)
{
	struct io_pagetable *iopt;

	mutex_lock(&access->ioas_lock);
	if (!access->ioas) {
		mutex_unlock(&access->ioas_lock);
		return NULL;
	}
	iopt = &access->ioas->iopt;
	down_read(&iopt->rwsem);
	return iopt;
}

static void iommufd_access_unlock(struct iommufd_access *access,
				  struct io_pagetable *iopt)
{
	up_read(&iopt->rwsem);
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
 * Return: 0; -EINVAL for a misaligned range or an unattached access;
 * -ENOENT if part of the range is not mapped; -EPERM to write read-only
 * memory; -EFAULT or -ENOMEM from pinning.
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

	iopt = iommufd_access_lock(access);
	if (!iopt)
		return -EINVAL;
	rc = iommufd_access_for_each(iopt, iova, last,
				     iommufd_access_pin_piece, &pin);
	if (rc && pin.done)
		iommufd_access_for_each(iopt, iova, last,
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
 */
void iommufd_access_unpin_pages(struct iommufd_access *access,
				unsigned long iova, unsigned long length)
{
	unsigned long limit = ULONG_MAX;
	struct io_pagetable *iopt;

	mutex_lock(&access->ioas_lock);
	if (WARN_ON(!access->ioas || !access->npinned || !length)) {
		mutex_unlock(&access->ioas_lock);
		return;
	}
	iopt = &access->ioas->iopt;
	down_read(&iopt->rwsem);
	WARN_ON(iommufd_access_for_each(iopt, iova, iova + length - 1,
					iommufd_access_unpin_piece, &limit));
	up_read(&iopt->rwsem);
	access->npinned--;
	mutex_unlock(&access->ioas_lock);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_unpin_pages, IOMMUFD);

struct iommufd_rw_arg {
	void *data;
	unsigned long iova;
	unsigned long last;
	bool write;
};

/* Copy between a piece of an area and the buffer, a page at a time. */
static int iommufd_access_rw_piece(struct iopt_area *area,
				   unsigned long first, unsigned long last,
				   unsigned long offset, void *arg)
{
	struct iommufd_rw_arg *rw = arg;
	unsigned long pos = area->pages_off + (rw->iova + offset -
					       area->node.start);
	unsigned long end = area->pages_off +
			    (min(area->node.last, rw->last) - area->node.start);
	unsigned long index;
	int rc;

	for (index = first; index <= last; index++) {
		unsigned long in_page = offset_in_page(pos);
		unsigned long chunk = min(PAGE_SIZE - in_page, end - pos + 1);
		struct page *page;
		void *kaddr;

		/* Pins only if no domain or access holds the page already. */
		rc = iopt_area_add_access(area, index, index, &page,
					  rw->write);
		if (rc)
			return rc;
		kaddr = kmap_local_page(page);
		if (rw->write) {
			memcpy(kaddr + in_page, rw->data + offset, chunk);
			set_page_dirty_lock(page);
		} else {
			memcpy(rw->data + offset, kaddr + in_page, chunk);
		}
		kunmap_local(kaddr);
		iopt_area_remove_access(area, index, index);
		pos += chunk;
		offset += chunk;
	}
	return 0;
}

/**
 * iommufd_access_rw - copy to or from memory by IOVA
 * @access: an attached access
 * @iova: first IOVA, any alignment
 * @data: kernel buffer
 * @length: bytes, not 0
 * @flags: IOMMUFD_ACCESS_RW_WRITE to copy @data to the IOVA
 *
 * Pages no domain or access holds are pinned for the copy and unpinned
 * right after.
 *
 * Return: 0; -EINVAL for an empty range or an unattached access; -ENOENT
 * if part of the range is not mapped; -EPERM to write read-only memory;
 * -EFAULT or -ENOMEM from pinning.
 */
int iommufd_access_rw(struct iommufd_access *access, unsigned long iova,
		      void *data, size_t length, unsigned int flags)
{
	struct iommufd_rw_arg rw = {
		.data = data,
		.iova = iova,
		.write = flags & IOMMUFD_ACCESS_RW_WRITE,
	};
	struct io_pagetable *iopt;
	int rc;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &rw.last))
		return -EOVERFLOW;
	iopt = iommufd_access_lock(access);
	if (!iopt)
		return -EINVAL;
	rc = iommufd_access_for_each(iopt, iova, rw.last,
				     iommufd_access_rw_piece, &rw);
	iommufd_access_unlock(access, iopt);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_rw, IOMMUFD);
