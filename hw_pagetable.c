// SPDX-License-Identifier: GPL-2.0-only
/*
 * hw_pagetable: an iommu_domain as an iommufd object.
 *
 * Theory of operation
 * -------------------
 * A HW page table (HWPT) wraps one iommu_domain that mirrors the mappings
 * of one IOAS: creating it adds the domain to the IOAS's io_pagetable,
 * which maps every existing area into it (pinning memory if it is the
 * IOAS's first domain), and destroying it removes the domain again, which
 * unmaps everything before the domain is freed. The HWPT holds a user
 * reference on its IOAS, so the IOAS cannot be destroyed under it.
 *
 * Today HWPTs are created for the mock driver of the selftest; the device
 * kAPI will create them for real devices.
 */
#include <linux/err.h>
#include <linux/iommu.h>

#include "iommufd_private.h"

/**
 * iommufd_hw_pagetable_create - wrap a domain and attach it to an IOAS
 * @ictx: the context
 * @ioas: the IOAS, which the caller holds; the HWPT becomes one of its users
 * @domain: an empty unmanaged domain, owned by the HWPT on success
 *
 * The HWPT is returned unpublished: finalize it or abort-and-destroy it.
 *
 * Return: the HWPT or an ERR_PTR; on failure the caller keeps @domain.
 */
struct iommufd_hw_pagetable *
iommufd_hw_pagetable_create(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
			    struct iommu_domain *domain)
{
	struct iommufd_hw_pagetable *hwpt;
	int rc;

	hwpt = iommufd_object_alloc(ictx, hwpt, IOMMUFD_OBJ_HW_PAGETABLE);
	if (IS_ERR(hwpt))
		return hwpt;
	rc = iopt_table_add_domain(&ioas->iopt, domain);
	if (rc) {
		iommufd_object_abort(ictx, &hwpt->obj);
		return ERR_PTR(rc);
	}
	refcount_inc(&ioas->obj.users);
	hwpt->ioas = ioas;
	hwpt->domain = domain;
	return hwpt;
}

/**
 * iommufd_hw_pagetable_destroy - detach a HWPT's domain and free it
 * @obj: the HWPT's object
 */
void iommufd_hw_pagetable_destroy(struct iommufd_object *obj)
{
	struct iommufd_hw_pagetable *hwpt =
		container_of(obj, struct iommufd_hw_pagetable, obj);

	iopt_table_remove_domain(&hwpt->ioas->iopt, hwpt->domain);
	iommu_domain_free(hwpt->domain);
	refcount_dec(&hwpt->ioas->obj.users);
}
