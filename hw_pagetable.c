// SPDX-License-Identifier: GPL-2.0-only
/*
 * hw_pagetable: an iommu_domain as an iommufd object.
 *
 * Theory of operation
 * -------------------
 * A HW page table (HWPT) wraps one iommu_domain that mirrors the mappings
 * of one IOAS. Joining adds the domain to the IOAS's io_pagetable, which
 * maps every existing area into it (pinning memory if it is the IOAS's
 * first domain), and destroying it removes the domain again, which unmaps
 * everything before the domain is freed. A domain joins when it can be
 * used: with its first attach (device.c), after the device is attached to
 * it, when the driver has finalised it (see iommufd_hw_pagetable_ready();
 * only the mock's first driver makes domains that are final from the
 * start, and those join at IOMMU_HWPT_ALLOC). The HWPT is a user of its
 * IOAS, so the IOAS cannot be destroyed under it, and sits on the IOAS's
 * list of HWPTs, where automatic attach looks for one to reuse.
 *
 * The domain is allocated for a device (its bus's IOMMU driver makes it).
 * When the device's IOMMU can enforce cache coherency, the domain is told
 * to, before anything is mapped: such a HWPT then refuses devices that
 * could do no-snoop DMA.
 *
 * A HWPT is either automatic, made by an attach and destroyed with its last
 * device (device.c), or made by IOMMU_HWPT_ALLOC and destroyed by
 * IOMMU_DESTROY, which fails with EBUSY while devices use it.
 */
#include <linux/err.h>
#include <linux/iommu.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

/**
 * iommufd_hw_pagetable_alloc - create a HWPT for a device on an IOAS
 * @ictx: the context
 * @ioas: the IOAS, held by the caller, whose mutex the caller holds
 * @dev: the device the domain is made for
 * @auto_domain: the kernel makes it for an attach (see the top of file)
 * @enforce: ask the driver to enforce cache coherency, if @dev's IOMMU
 *           says it can
 *
 * The HWPT's domain is empty and not yet part of the IOAS: see
 * iommufd_hw_pagetable_join(). The HWPT is returned unpublished: finalize
 * it or abort-and-destroy it (without the IOAS mutex).
 *
 * Context: process context; the IOAS mutex held.
 * Return: the HWPT, or ERR_PTR(-ENOMEM), or ERR_PTR(-ENOENT) if the IOAS
 * is being destroyed.
 */
struct iommufd_hw_pagetable *
iommufd_hw_pagetable_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
			   struct device *dev, bool auto_domain, bool enforce)
{
	struct iommufd_hw_pagetable *hwpt;
	struct iommu_domain *domain;

	lockdep_assert_held(&ioas->mutex);
	domain = iommu_domain_alloc(dev->bus);
	if (!domain)
		return ERR_PTR(-ENOMEM);
	hwpt = iommufd_object_alloc(ictx, hwpt, IOMMUFD_OBJ_HW_PAGETABLE);
	if (IS_ERR(hwpt)) {
		iommu_domain_free(domain);
		return hwpt;
	}
	/* Before any IOPTE exists, or the driver can't promise it. */
	if (enforce && device_iommu_capable(dev, IOMMU_CAP_CACHE_COHERENCY) &&
	    domain->ops->enforce_cache_coherency)
		hwpt->enforce_cache_coherency =
			domain->ops->enforce_cache_coherency(domain);

	/* An IOAS being destroyed takes no new users. */
	if (!iommufd_object_add_user(&ioas->obj)) {
		iommufd_object_abort(ictx, &hwpt->obj);
		iommu_domain_free(domain);
		return ERR_PTR(-ENOENT);
	}
	hwpt->ioas = ioas;
	hwpt->domain = domain;
	hwpt->auto_domain = auto_domain;
	list_add_tail(&hwpt->hwpt_item, &ioas->hwpt_list);
	return hwpt;
}

/**
 * iommufd_hw_pagetable_ready - may the domain be filled before an attach
 * @hwpt: the HWPT
 *
 * Until its first attach a 6.1 domain may still change under whoever maps
 * into it or walks it. arm-smmu-v3 chooses its aperture, page sizes and
 * page-table format only then (before, the aperture is empty and a map
 * fails or WARNs). VT-d reports a 57-bit aperture at allocation; the first
 * attach cuts the page table down to the unit's address width, freeing its
 * top levels with no lock against iova_to_phys() or map, and narrows the
 * aperture (39 bits in our VM, 48 on most hardware). A domain filled
 * before that could lose mappings, hand a walker (an IOAS_COPY'd area of
 * another IOAS reading its PFNs) freed page-table memory, or hold IOVA its
 * unit can't reach. So a domain joins its IOAS, is filled and becomes
 * anybody's storage domain only once a device is attached to it and the
 * driver has finalised it; IOMMU_HWPT_ALLOC only allocates it. Only the
 * mock's first driver, whose domains never change, is filled first.
 *
 * Return: true if the domain joined its IOAS already, or may join now.
 */
bool iommufd_hw_pagetable_ready(struct iommufd_hw_pagetable *hwpt)
{
	return hwpt->joined || iommufd_selftest_domain_final(hwpt->domain);
}

/**
 * iommufd_hw_pagetable_join - mirror the IOAS into the HWPT's domain
 * @hwpt: the HWPT; nothing if it joined already
 *
 * Adds the domain to the IOAS's io_pagetable, which reserves what is
 * outside its aperture and maps every area into it (pinning the memory
 * if it is the IOAS's first domain).
 *
 * Context: process context; the IOAS mutex held. Pinning may sleep in page
 * faults for as long as they take.
 * Return: 0, or an error of mapping the IOAS's areas into the domain
 * (-EADDRINUSE if one is outside its aperture or alignment, -ENOMEM,
 * -EFAULT); the HWPT has then not joined.
 */
int iommufd_hw_pagetable_join(struct iommufd_hw_pagetable *hwpt)
{
	int rc;

	lockdep_assert_held(&hwpt->ioas->mutex);
	if (hwpt->joined)
		return 0;
	rc = iopt_table_add_domain(&hwpt->ioas->iopt, hwpt->domain);
	if (!rc)
		hwpt->joined = true;
	return rc;
}

/**
 * iommufd_hw_pagetable_destroy - detach a HWPT's domain and free it
 * @obj: the HWPT's object
 */
void iommufd_hw_pagetable_destroy(struct iommufd_object *obj)
{
	struct iommufd_hw_pagetable *hwpt =
		container_of(obj, struct iommufd_hw_pagetable, obj);

	mutex_lock(&hwpt->ioas->mutex);
	list_del_init(&hwpt->hwpt_item);
	mutex_unlock(&hwpt->ioas->mutex);
	/* Nobody can find it any more: joined can't change. */
	if (hwpt->joined)
		iopt_table_remove_domain(&hwpt->ioas->iopt, hwpt->domain);
	/* empty now; a group that could not leave it frees it (device.c) */
	if (!hwpt->domain_stuck)
		iommu_domain_free(hwpt->domain);
	iommufd_object_drop_user(&hwpt->ioas->obj);
}

/* the flags of IOMMU_HWPT_ALLOC the uAPI defines */
#define IOMMUFD_HWPT_ALLOC_FLAGS                                               \
	(IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING)

int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_alloc *cmd = ucmd->cmd;
	struct iommufd_hw_pagetable *hwpt;
	struct iommufd_device *idev;
	struct iommufd_object *pt;
	struct iommufd_ioas *ioas;
	bool enforce;
	int rc;

	if (cmd->flags & ~IOMMUFD_HWPT_ALLOC_FLAGS)
		return -EOPNOTSUPP;
	if (cmd->__reserved || cmd->__reserved2)
		return -EINVAL;
	idev = iommufd_get_device(ucmd->ictx, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	pt = iommufd_get_object(ucmd->ictx, cmd->pt_id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(pt)) {
		rc = PTR_ERR(pt);
		goto out_put_idev;
	}
	/*
	 * Nesting, dirty tracking and fault queues: known, but not in 6.1's
	 * drivers. As in mainline, bad IDs are told apart from them first.
	 */
	if (cmd->flags || cmd->data_type != IOMMU_HWPT_DATA_NONE)
		rc = -EOPNOTSUPP;
	else if (pt->type != IOMMUFD_OBJ_IOAS)
		rc = -EINVAL;
	else
		rc = 0;
	if (rc) {
		iommufd_put_object(ucmd->ictx, &idev->obj);
		goto out_put_pt;
	}
	ioas = container_of(pt, struct iommufd_ioas, obj);

	/* learnt when the group was bound, never changed */
	enforce = idev->igroup->enforce;
	mutex_lock(&ioas->mutex);
	hwpt = iommufd_hw_pagetable_alloc(ucmd->ictx, ioas, idev->dev, false,
					  enforce);
	mutex_unlock(&ioas->mutex);
	/*
	 * The device is not needed any more. Let it go before pinning, which
	 * can sleep in page faults for long: its driver's unbind waits for
	 * every ioctl still holding it, and can't fail.
	 */
	iommufd_put_object(ucmd->ictx, &idev->obj);
	if (IS_ERR(hwpt)) {
		rc = PTR_ERR(hwpt);
		goto out_put_pt;
	}
	rc = 0;
	if (iommufd_hw_pagetable_ready(hwpt)) {
		mutex_lock(&ioas->mutex);
		rc = iommufd_hw_pagetable_join(hwpt);
		mutex_unlock(&ioas->mutex);
	}
	if (rc) {
		iommufd_object_abort_and_destroy(ucmd->ictx, &hwpt->obj);
		goto out_put_pt;
	}
	cmd->out_hwpt_id = hwpt->obj.id;
	rc = iommufd_object_respond_publish(ucmd, sizeof(*cmd), &hwpt->obj);
out_put_pt:
	iommufd_put_object(ucmd->ictx, pt);
	return rc;

out_put_idev:
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}
