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
 * releases it. VFIO's group path claims a group without a device, when an
 * iommufd becomes the group's container (iommufd_group_claim(), as type1
 * claims it then), and its devices share that claim when they are bound.
 * Another context, or a kernel driver using the DMA API on a device of the
 * group, already holds the group, and binding fails with -EBUSY. The first
 * claim also learns what the group's IOMMU gives its domains: whether they
 * can enforce cache coherency, and their aperture once attached.
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
 * Moving to the blocking domain can fail (6.1's VT-d allocates on every
 * attach). It is retried for a while; a group that still can't be blocked
 * stays on the domain it is on, which must then never be freed under it:
 * the group takes that domain over (iommufd_group.stuck), its HWPT still
 * unmaps the IOAS from it (the device then reaches nothing at all) but
 * leaves it to the group, and the group refuses every attach until its
 * last device is unbound, when the domain is freed once the group is off
 * it.
 *
 * Locking: iommufd_group.lock serialises attach, replace and detach of the
 * devices of one group; the IOAS mutex, taken inside it, protects the
 * IOAS's list of HWPTs and a HWPT joining the IOAS. The order of all locks
 * is in io_pagetable.h.
 */
#include <linux/err.h>
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/iommufd.h>
#include <linux/irqdomain.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/iommufd.h>

#include "dma-iommu.h"
#include "iommufd_private.h"

static int iommufd_group_learn(struct iommufd_group *igroup,
			       struct device *dev);
static bool iommufd_group_uses(struct iommufd_group *igroup,
			       struct iommu_domain *domain);

/*
 * Take (or share) the DMA ownership of @group, the group of @dev, for
 * @ictx; the first time, find out whether the group's IOMMU can enforce
 * cache coherency and the aperture of its domains.
 */
static struct iommufd_group *iommufd_group_get(struct iommufd_ctx *ictx,
					       struct iommu_group *group,
					       struct device *dev)
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
	/* owned from here on: iommufd_ctx_has_group() reads it under xa_lock */
	WRITE_ONCE(igroup->group, iommu_group_ref_get(group));
	igroup->nbound = 1;
	rc = iommufd_group_learn(igroup, dev);
	if (rc) {
		xa_erase(&ictx->groups, key);
		iommu_group_release_dma_owner(group);
		if (igroup->stuck && !iommufd_group_uses(igroup, igroup->stuck))
			iommu_domain_free(igroup->stuck);
		iommu_group_put(igroup->group);
		mutex_destroy(&igroup->lock);
		goto err_free;
	}
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
	/* Off it now, unless even that failed: then it is never freed. */
	if (igroup->stuck && !iommufd_group_uses(igroup, igroup->stuck))
		iommu_domain_free(igroup->stuck);
	iommu_group_put(igroup->group);
	mutex_destroy(&igroup->lock);
	kfree(igroup);
}

static bool allow_unsafe_interrupts;
module_param(allow_unsafe_interrupts, bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Bind devices whose MSIs the platform can't isolate (interrupt remapping off or missing): a device can then raise interrupts of others by DMA. Default N.");

/*
 * iommu_group_for_each_dev() callback: 1 for a device whose MSIs are not
 * isolated. They are if its IOMMU remaps interrupts (VT-d with interrupt
 * remapping), or if the MSI irq domain the device allocates from, or one
 * of that domain's parents, tells devices apart (a GICv3 ITS checks the
 * DeviceID of every write to its doorbell). Per device, as mainline
 * decides it since 6.3: 6.1's irq_domain_check_msi_remap() asks whether
 * all MSI domains of the system isolate, which is also true when there is
 * none (a GICv3 without an ITS) and says nothing of the device's own.
 */
static int iommufd_dev_msi_unsafe(struct device *dev, void *data)
{
	struct irq_domain *d = dev_get_msi_domain(dev);

	if (device_iommu_capable(dev, IOMMU_CAP_INTR_REMAP))
		return 0;
#ifdef CONFIG_IRQ_DOMAIN_HIERARCHY
	for (; d; d = d->parent)
		if (irq_domain_is_msi_remap(d))
			return 0;
#else
	if (d && irq_domain_is_msi_remap(d))
		return 0;
#endif
	return 1;
}

/*
 * Can a DMA write by a device of @group raise only that group's own MSIs?
 * Only if every device of the group is isolated as above. -EPERM if not,
 * unless allowed.
 */
static int iommufd_group_check_msi(struct device *dev,
				   struct iommu_group *group)
{
	if (!iommu_group_for_each_dev(group, NULL, iommufd_dev_msi_unsafe))
		return 0;
	if (!READ_ONCE(allow_unsafe_interrupts)) {
		pr_warn_once("iommufd: %s: MSIs can't be isolated (neither interrupt remapping nor an MSI controller that isolates); not binding. The module parameter \"allow_unsafe_interrupts\" allows it, unsafely.\n",
			     dev_name(dev));
		return -EPERM;
	}
	dev_warn_once(dev, "MSIs are not isolated; bound anyway, as allow_unsafe_interrupts says\n");
	return 0;
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
 * A device is refused if its IOMMU can't make cache-coherent IOPTEs
 * (-EINVAL), and if a DMA write of the device could raise an interrupt
 * that is not its own: its group's MSIs must be isolated (interrupt
 * remapping, or an MSI controller that tells devices apart), unless the
 * administrator set the module parameter allow_unsafe_interrupts (-EPERM).
 *
 * Context: process context, may sleep.
 * Return: the bound device, or ERR_PTR(-ENODEV) without an iommu_group,
 * ERR_PTR(-EINVAL) or ERR_PTR(-EPERM) as above, ERR_PTR(-EBUSY) if the
 * group is owned elsewhere, or another error.
 */
struct iommufd_device *iommufd_device_bind(struct iommufd_ctx *ictx,
					   struct device *dev, u32 *id)
{
	struct iommufd_device *idev;
	struct iommufd_group *igroup;
	struct iommu_group *group;
	int rc;

	/* Every IOPTE is IOMMU_CACHE: an IOMMU that can't do it is no use. */
	if (!device_iommu_capable(dev, IOMMU_CAP_CACHE_COHERENCY))
		return ERR_PTR(-EINVAL);
	group = iommu_group_get(dev);
	if (!group)
		return ERR_PTR(-ENODEV);
	rc = iommufd_group_check_msi(dev, group);
	if (rc) {
		iommu_group_put(group);
		return ERR_PTR(rc);
	}
	igroup = iommufd_group_get(ictx, group, dev);
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
	/* The driver's user: only iommufd_device_unbind() removes it. */
	iommufd_object_add_owner(&idev->obj);
	if (!iommufd_selftest_is_mock_dev(dev))
		get_file(ictx->file);
	iommufd_object_finalize(ictx, &idev->obj);
	*id = idev->obj.id;
	return idev;
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_bind, IOMMUFD);

/* iommu_group_for_each_dev() callback: the first device, referenced */
static int iommufd_group_first_dev(struct device *dev, void *data)
{
	*(struct device **)data = get_device(dev);
	return 1;
}

/**
 * iommufd_group_claim - own an iommu_group's DMA for a context, deviceless
 * @ictx: the context
 * @group: the group
 *
 * For VFIO's group path: a group whose container becomes @ictx is claimed
 * then, as type1 claims it, so that its aperture is known before any of
 * its devices is bound; devices of the group bound to @ictx later share
 * the claim. A group is refused as iommufd_device_bind() would refuse its
 * first device.
 *
 * Context: process context, may sleep; takes the context's groups_lock.
 * Return: the claim, to give back with iommufd_group_unclaim();
 * ERR_PTR(-ENODEV) for a group without devices; ERR_PTR(-EINVAL),
 * ERR_PTR(-EPERM) or ERR_PTR(-EBUSY) as iommufd_device_bind(); or
 * ERR_PTR(-ENOMEM), ERR_PTR(-EIO) or the IOMMU driver's error of the
 * attach that learns the aperture.
 */
struct iommufd_group *iommufd_group_claim(struct iommufd_ctx *ictx,
					  struct iommu_group *group)
{
	struct iommufd_group *igroup;
	struct device *dev = NULL;
	int rc;

	iommu_group_for_each_dev(group, &dev, iommufd_group_first_dev);
	if (!dev)
		return ERR_PTR(-ENODEV);
	/* the checks of iommufd_device_bind(), in its order */
	igroup = ERR_PTR(-EINVAL);
	if (device_iommu_capable(dev, IOMMU_CAP_CACHE_COHERENCY)) {
		rc = iommufd_group_check_msi(dev, group);
		igroup = rc ? ERR_PTR(rc) : iommufd_group_get(ictx, group, dev);
	}
	put_device(dev);
	return igroup;
}

/**
 * iommufd_group_unclaim - give back what iommufd_group_claim() took
 * @ictx: the context
 * @igroup: the claim
 *
 * The group's DMA ownership is released unless devices of it are still
 * bound to @ictx.
 *
 * Context: process context, may sleep.
 */
void iommufd_group_unclaim(struct iommufd_ctx *ictx,
			   struct iommufd_group *igroup)
{
	iommufd_group_put(ictx, igroup);
}

/**
 * iommufd_device_unbind - give a device back
 * @idev: a device returned by iommufd_device_bind()
 *
 * Detaches the device if needed and releases its group's DMA ownership
 * when it is the group's last bound device. @idev is gone afterwards.
 *
 * Context: process context, may sleep; waits for ioctls that use the
 * device object, none of which sleeps on user memory meanwhile.
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
 * MSIs through an IOMMU that translates them. Behind arm-smmu-v3 (and the
 * other drivers whose devices report an IOMMU_RESV_SW_MSI region) a
 * device's MSI write is a DMA like any other: the MSI controller's
 * doorbell (the GICv3 ITS's) must be mapped in the device's domain, at an
 * IOVA of the window the region names, which the IOAS keeps reserved
 * (iommufd_device_reserve()). As type1 does, the domain gets an MSI cookie
 * for that window: the IRQ layer then maps the doorbell there itself when
 * the device's MSIs are allocated (iommu_dma_prepare_msi()), in the domain
 * the device is attached to at that moment, and the mapping goes with the
 * domain. Once per domain; the IOAS mutex guards the flag, which is set
 * before the first device is attached and never cleared.
 *
 * The IRQ layer composes a device's MSI messages once, with the IOVA of
 * its doorbell in the domain of that moment, and not again when the device
 * moves. So when a group moves from a domain with a cookie to another,
 * the other gets every doorbell of the first at the same IOVA
 * (iommu_copy_msi_pages(), patch 0016; see iommufd_group_switch() for
 * when): MSIs set up before a replace keep arriving after it.
 */
static int iommufd_hwpt_setup_msi(struct iommufd_hw_pagetable *hwpt,
				  struct device *dev)
{
	phys_addr_t start = PHYS_ADDR_MAX;
	struct iommu_resv_region *resv;
	LIST_HEAD(regions);
	int rc;

	lockdep_assert_held(&hwpt->ioas->mutex);
	if (hwpt->msi_cookie)
		return 0;
	iommu_get_resv_regions(dev, &regions);
	list_for_each_entry(resv, &regions, list)
		if (resv->type == IOMMU_RESV_SW_MSI)
			start = resv->start;
	iommu_put_resv_regions(dev, &regions);
	if (start == PHYS_ADDR_MAX)
		return 0;
	rc = iommu_get_msi_cookie(hwpt->domain, start);
	if (rc)
		return rc;
	hwpt->msi_cookie = true;
	return 0;
}

/*
 * Map in @hwpt's domain the MSI doorbells @cur's domain has (see
 * iommufd_hwpt_setup_msi()); @hwpt's domain must be finalised. @cur is the
 * HWPT the group is on (NULL: blocked), whose flag was set before the
 * group went onto it.
 */
static int iommufd_hwpt_copy_msi(struct iommufd_hw_pagetable *hwpt,
				 struct iommufd_hw_pagetable *cur)
{
	lockdep_assert_held(&hwpt->ioas->mutex);
	if (!cur || !cur->msi_cookie || !hwpt->msi_cookie)
		return 0;
	return iommu_copy_msi_pages(hwpt->domain, cur->domain);
}

/*
 * Move @igroup from the domain of @from to that of @to (NULL: the blocking
 * domain, for both).
 *
 * 6.1's VT-d changes both domains in ways a concurrent map or unmap on them
 * does not survive. The domain a device leaves: its IOTLB flush, after an
 * unmap and (in caching mode) after a map, walks the IOMMU units the domain
 * is attached through with no lock against the leaving device freeing the
 * entry it reads (a NULL dereference in iommu_flush_iotlb_psi()). The
 * domain a device first joins: the attach cuts its page table down to the
 * unit's address width, freeing top levels a walk may be in (mappings then
 * vanish). Both found by e2e:edu-stress, unmaps racing replaces. So the
 * move holds both locks of the io_pagetables of both HWPTs for writing:
 * the domains lock keeps out the fills of MAP and COPY, the IOVA lock
 * unmaps. This is the one place where two io_pagetables are locked
 * together; in address order, both domains locks before both IOVA locks.
 */
static int iommufd_group_move(struct iommufd_group *igroup,
			      struct iommufd_hw_pagetable *from,
			      struct iommufd_hw_pagetable *to)
{
	struct io_pagetable *a = from ? &from->ioas->iopt : NULL;
	struct io_pagetable *b = to ? &to->ioas->iopt : NULL;
	int rc;

	lockdep_assert_held(&igroup->lock);
	if (a == b)
		b = NULL;
	if (!a || (b && b < a))
		swap(a, b);
	if (a)
		down_write(&a->domains_rwsem);
	if (b)
		down_write_nested(&b->domains_rwsem, SINGLE_DEPTH_NESTING);
	if (a)
		down_write(&a->iova_rwsem);
	if (b)
		down_write_nested(&b->iova_rwsem, SINGLE_DEPTH_NESTING);
	rc = iommu_group_replace_domain(igroup->group,
					to ? to->domain : NULL);
	if (b) {
		up_write(&b->iova_rwsem);
		up_write(&b->domains_rwsem);
	}
	if (a) {
		up_write(&a->iova_rwsem);
		up_write(&a->domains_rwsem);
	}
	return rc;
}

/* How often, 20 ms apart, a group is asked to move to its blocking domain */
#define IOMMUFD_BLOCK_TRIES 50

/*
 * Move the group to its blocking domain from @from's domain, or (@from
 * NULL) from @domain, a domain of no HWPT. 6.1's VT-d allocates when it
 * attaches any domain, the blocking one too, so a short allocation failure
 * can make a try fail; try again for a while (memory comes back, or an
 * injected failure is spent). If the group still can't be blocked, it
 * stays where it is and takes that domain over: see the top of the file.
 *
 * Return: true if the group is blocked.
 */
static bool iommufd_group_block(struct iommufd_group *igroup,
				struct iommufd_hw_pagetable *from,
				struct iommu_domain *domain)
{
	unsigned int tries;

	lockdep_assert_held(&igroup->lock);
	for (tries = 0; iommufd_group_move(igroup, from, NULL); tries++) {
		if (tries == IOMMUFD_BLOCK_TRIES) {
			pr_err_ratelimited("iommufd: iommu_group %d can't be moved to its blocking domain; it stays on its domain and takes no attach\n",
					   iommu_group_id(igroup->group));
			if (from) {
				domain = from->domain;
				from->domain_stuck = true;
			}
			igroup->stuck = domain;
			return false;
		}
		msleep(20);
	}
	return true;
}

static int iommufd_dev_on_domain(struct device *dev, void *data)
{
	return iommu_get_domain_for_dev(dev) == data;
}

/* Is a device of the group on @domain? */
static bool iommufd_group_uses(struct iommufd_group *igroup,
			       struct iommu_domain *domain)
{
	return iommu_group_for_each_dev(igroup->group, domain,
					iommufd_dev_on_domain) > 0;
}

/*
 * The errno of a refused attach to a HWPT's domain, as userspace reads it.
 * Mainline's IOMMU drivers say -EINVAL when a domain does not suit the
 * device, and VMMs rely on it: QEMU then tries its next HWPT, and on any
 * other errno gives up sharing and makes a second IOAS, pinning guest RAM
 * twice. 6.1's VT-d says -EOPNOTSUPP for an enforcing domain on a unit
 * without snoop control and -EFAULT for a domain that maps above the
 * unit's address width: both are such a mismatch. Allocation failures and
 * the like pass unchanged.
 */
static int iommufd_attach_errno(int rc)
{
	return rc == -EOPNOTSUPP || rc == -EFAULT ? -EINVAL : rc;
}

/*
 * Move @igroup's DMA from @cur (NULL: blocked) to @hwpt, whose domain joins
 * its IOAS if it has not yet. A group that was blocked, or a domain the
 * driver finalises only at attach, is attached to the still empty domain
 * first and filled afterwards: DMA meanwhile faults, as it did while
 * blocked, and so do MSIs whose doorbell @cur's domain mapped (they are
 * copied in right after the move, as a map needs a finalised domain). A
 * group doing DMA through @cur switches only once the new domain maps
 * everything, doorbells included, so its DMA never misses a mapping.
 */
static int iommufd_group_switch(struct iommufd_group *igroup,
				struct iommufd_hw_pagetable *cur,
				struct iommufd_hw_pagetable *hwpt)
{
	bool fill_first = cur && iommufd_hw_pagetable_ready(hwpt);
	int rc;

	lockdep_assert_held(&igroup->lock);
	if (fill_first) {
		rc = iommufd_hw_pagetable_join(hwpt);
		if (!rc)
			rc = iommufd_hwpt_copy_msi(hwpt, cur);
		if (rc)
			return rc;
	}
	rc = iommufd_group_move(igroup, cur, hwpt);
	if (rc)
		return iommufd_attach_errno(rc);
	if (fill_first)
		return 0;
	rc = iommufd_hwpt_copy_msi(hwpt, cur);
	if (!rc)
		rc = iommufd_hw_pagetable_join(hwpt);
	/* never stay on the domain of @hwpt, which goes away now */
	if (rc && (!cur || iommufd_group_move(igroup, hwpt, cur)))
		iommufd_group_block(igroup, hwpt, NULL);
	return rc;
}

/*
 * Point @idev at @hwpt, with the group lock and the HWPT's IOAS mutex
 * held. On success *@old is the HWPT the device used before (or NULL),
 * whose user the caller drops once it has released its locks.
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
	lockdep_assert_held(&hwpt->ioas->mutex);
	*old = NULL;
	if (cur == hwpt)
		return 0;
	/* The group is on a domain it could not leave: no attach moves it. */
	if (igroup->stuck)
		return -EIO;
	/* A domain of another IOMMU driver (the mock's, VT-d's) */
	if (hwpt->domain->ops != dev_iommu_ops(idev->dev)->default_domain_ops)
		return -EINVAL;
	/* Other attached devices of the group keep it where it is. */
	if (igroup->hwpt && igroup->hwpt != hwpt &&
	    igroup->nattached > (cur ? 1 : 0))
		return -EINVAL;
	/* A HWPT being destroyed has no users left and takes no new ones. */
	if (!iommufd_object_add_user(&hwpt->obj))
		return -ENOENT;

	if (new_ioas) {
		rc = iommufd_device_reserve(idev, &hwpt->ioas->iopt);
		if (rc)
			goto err_user;
	}
	if (igroup->hwpt != hwpt) {
		rc = iommufd_hwpt_setup_msi(hwpt, idev->dev);
		if (!rc)
			rc = iommufd_group_switch(igroup, cur, hwpt);
		if (rc)
			goto err_resv;
	}
	if (cur && new_ioas)
		iopt_remove_reserved_iova(&cur->ioas->iopt, idev);

	idev->hwpt = hwpt;
	igroup->hwpt = hwpt;
	if (!cur)
		igroup->nattached++;
	*old = cur;
	return 0;

err_resv:
	if (new_ioas)
		iopt_remove_reserved_iova(&hwpt->ioas->iopt, idev);
err_user:
	iommufd_object_drop_user(&hwpt->obj);
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

	rc = iommufd_device_attach_new(idev, ioas, idev->igroup->enforce,
				       pt_id, old);
	mutex_unlock(&ioas->mutex);
	return rc;
}

/*
 * Attach an empty domain of the group's IOMMU to the blocked group, one
 * that enforces cache coherency if @enforce and the domain takes it, note
 * what the group then got, and block the group again. -EAGAIN if the
 * domain took enforcement and the group's unit refused it; -EIO if the
 * group could not be blocked again (it then owns the domain).
 */
static int iommufd_group_probe(struct iommufd_group *igroup,
			       struct device *dev, bool enforce)
{
	struct iommu_domain *domain;
	int rc;

	domain = iommu_domain_alloc(dev->bus);
	if (!domain)
		return -ENOMEM;
	enforce = enforce && domain->ops->enforce_cache_coherency &&
		  domain->ops->enforce_cache_coherency(domain);
	mutex_lock(&igroup->lock);
	/* @domain is in no IOAS: nothing to lock */
	rc = iommu_group_replace_domain(igroup->group, domain);
	if (!rc) {
		igroup->enforce = enforce;
		igroup->geometry = domain->geometry;
		igroup->pgsizes = domain->pgsize_bitmap;
		if (!iommufd_group_block(igroup, NULL, domain))
			rc = -EIO;
	} else if (enforce && (rc == -EINVAL || rc == -EOPNOTSUPP)) {
		rc = -EAGAIN;
	}
	mutex_unlock(&igroup->lock);
	if (igroup->stuck != domain)
		iommu_domain_free(domain);
	return rc;
}

/*
 * What the group's IOMMU gives its domains, found out once, when the group
 * is first claimed, while it is blocked and its DMA goes nowhere either
 * way, by attaching an empty domain and blocking the group again:
 *  - whether they may enforce cache coherency. In 6.1,
 *    IOMMU_CAP_CACHE_COHERENCY is the IOMMU driver's answer for all its
 *    units, and a domain with no device yet accepts enforcement whatever
 *    unit it will be used with: VT-d refuses to attach such a domain to a
 *    device behind a unit without snoop control (-EOPNOTSUPP; other
 *    drivers say -EINVAL), QEMU's by default. Every HWPT made for the
 *    group's devices then asks for enforcement only if it worked.
 *  - their aperture, which a driver may set only at the first attach:
 *    6.1's VT-d narrows it from 57 bits to the unit's address width then,
 *    arm-smmu-v3 sets it then. VFIO's group path reserves what lies
 *    outside it before any device of the group is attached (vfio_compat.c).
 * 0, or -ENOMEM, -EIO or the IOMMU driver's error of the attach.
 */
static int iommufd_group_learn(struct iommufd_group *igroup,
			       struct device *dev)
{
	int rc;

	rc = iommufd_group_probe(igroup, dev,
				 device_iommu_capable(dev,
						      IOMMU_CAP_CACHE_COHERENCY));
	/* not with enforcement: the aperture without it */
	if (rc == -EAGAIN)
		rc = iommufd_group_probe(igroup, dev, false);
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
		mutex_lock(&hwpt->ioas->mutex);
		rc = iommufd_device_do_attach(idev, hwpt, &old);
		mutex_unlock(&hwpt->ioas->mutex);
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
 *
 * Context: process context, may sleep (mapping the IOAS into a new domain
 * pins its memory); takes the group lock and the IOAS mutex.
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
 *
 * Context: process context, may sleep; takes the group lock.
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
		if (!igroup->stuck)
			iommufd_group_block(igroup, hwpt, NULL);
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
 * Context: process context, may sleep; takes the group lock.
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
 * iommufd_device_bound_to - where a device is bound, as userspace sees it
 * @idev: a bound device
 * @id: returns the device's object ID there (never 0); may be NULL
 *
 * Context: any; @idev stays valid until iommufd_device_unbind().
 * Return: the context the device is bound to.
 */
struct iommufd_ctx *iommufd_device_bound_to(struct iommufd_device *idev,
					    u32 *id)
{
	if (id)
		*id = idev->obj.id;
	return idev->ictx;
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_bound_to, IOMMUFD);

/**
 * iommufd_ctx_has_group - whether a context owns an iommu_group's DMA
 * @ictx: the context, or NULL
 * @group: the group, or NULL
 *
 * A context owns a group while a device of it is bound to the context, or
 * while VFIO's group path has it claimed (a group whose container is the
 * context): no other context and no kernel driver can use the group's
 * devices meanwhile. VFIO asks it to let a device's user reset devices it
 * has not bound but owns all the same (a PCI hot reset).
 *
 * It takes no sleeping lock of iommufd: VFIO asks it while walking a PCI
 * bus, under pci_bus_sem, which a reset takes under vfio-pci's
 * memory_lock; the context's groups_lock would close a loop through
 * iommufd's locks, user memory faults and vfio-pci's vma_lock. A group
 * counts as owned from its claim until it is given back: the groups
 * xarray holds it that long, and xa_erase() comes before it is freed.
 *
 * Context: any context that may take a spinlock; takes the groups
 * xarray's lock.
 * Return: true if @ictx owns @group; false for a NULL argument.
 */
bool iommufd_ctx_has_group(struct iommufd_ctx *ictx, struct iommu_group *group)
{
	struct iommufd_group *igroup;
	bool owned;

	if (!ictx || !group)
		return false;
	xa_lock(&ictx->groups);
	igroup = xa_load(&ictx->groups, iommu_group_id(group));
	owned = igroup && READ_ONCE(igroup->group) == group;
	xa_unlock(&ictx->groups);
	return owned;
}
EXPORT_SYMBOL_NS_GPL(iommufd_ctx_has_group, IOMMUFD);

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
