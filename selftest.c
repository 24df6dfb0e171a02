// SPDX-License-Identifier: GPL-2.0-only
/*
 * selftest: a mock IOMMU driver and the IOMMU_TEST_CMD ioctl.
 *
 * Theory of operation
 * -------------------
 * Only built with CONFIG_IOMMUFD_TEST. The mock IOMMU serves devices on a
 * bus of its own, "iommufd_mock". 6.1's iommu_device_register() allows one
 * IOMMU driver for all the buses it knows, and with VT-d active that slot
 * is taken. The mock therefore never registers there: it puts its ops on
 * its own bus_type (the per-bus ops the 6.1 core looks up at probe time),
 * adds an iommu class device for sysfs, and probes each mock device
 * explicitly with iommu_probe_device(). It works beside any real IOMMU.
 *
 * A mock domain keeps its IOPTEs in an xarray, one entry per
 * MOCK_IOPTE_SIZE (2 KiB, half a CPU page, to exercise sub-page alignment)
 * slot of IOVA; a 2 MiB IOPTE fills all its slots and is marked huge. The
 * tests read IOPTEs back through the test ioctl. On unmap the mock checks
 * that the page it stops mapping is still pinned: iommufd must unmap (and
 * flush) before it unpins, and a violation is a kernel bug, so it WARNs.
 *
 * IOMMU_TEST_OP_MOCK_DOMAIN creates a mock device object and a HWPT with a
 * mock domain on an IOAS. The device object owns the HWPT: destroying the
 * device destroys the HWPT, and IOMMU_DESTROY of the HWPT alone is EBUSY.
 */
#include <linux/device.h>
#include <linux/err.h>
#include <linux/idr.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"
#include "iommufd_test.h"

/* IOPTE entries: the physical address in MOCK_IOPTE_SIZE units, and flags. */
#define MOCK_IOPTE_SHIFT 11
#define MOCK_IOPTE_READ BIT_ULL(58)
#define MOCK_IOPTE_WRITE BIT_ULL(59)
#define MOCK_IOPTE_HUGE BIT_ULL(60)
#define MOCK_IOPTE_ADDR (BIT_ULL(58) - 1)

static_assert(MOCK_IOPTE_SIZE == 1UL << MOCK_IOPTE_SHIFT);

static size_t iommufd_test_limit;

/**
 * iommufd_test_temp_limit - cap a temporary buffer's size for tests
 * @size: the size wanted
 *
 * Return: @size, or less if IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT set a
 * smaller limit.
 */
size_t iommufd_test_temp_limit(size_t size)
{
	size_t limit = READ_ONCE(iommufd_test_limit);

	return limit ? min(size, limit) : size;
}

struct mock_domain {
	struct iommu_domain domain;
	struct xarray ioptes;
};

static struct mock_domain *to_mock_domain(struct iommu_domain *domain)
{
	return container_of(domain, struct mock_domain, domain);
}

struct mock_dev {
	struct device dev;
	int id;
};

static DEFINE_IDA(mock_dev_ida);
static struct iommu_device mock_iommu;
static const struct iommu_domain_ops mock_domain_ops;

static struct bus_type iommufd_mock_bus = {
	.name = "iommufd_mock",
};

static struct iommu_domain *mock_domain_alloc(unsigned int type)
{
	struct mock_domain *md;

	/* No DMA-API default domain: mock devices do no DMA of their own. */
	if (type != IOMMU_DOMAIN_UNMANAGED)
		return NULL;
	md = kzalloc(sizeof(*md), GFP_KERNEL);
	if (!md)
		return NULL;
	xa_init(&md->ioptes);
	md->domain.geometry.aperture_start = MOCK_APERTURE_START;
	md->domain.geometry.aperture_end = MOCK_APERTURE_LAST;
	md->domain.geometry.force_aperture = true;
	return &md->domain;
}

static void mock_domain_free(struct iommu_domain *domain)
{
	struct mock_domain *md = to_mock_domain(domain);

	WARN_ON(!xa_empty(&md->ioptes));
	xa_destroy(&md->ioptes);
	kfree(md);
}

static int mock_domain_attach_dev(struct iommu_domain *domain,
				  struct device *dev)
{
	return 0;
}

static void mock_domain_detach_dev(struct iommu_domain *domain,
				   struct device *dev)
{
}

static int mock_domain_map_pages(struct iommu_domain *domain,
				 unsigned long iova, phys_addr_t paddr,
				 size_t pgsize, size_t pgcount, int prot,
				 gfp_t gfp, size_t *mapped)
{
	struct mock_domain *md = to_mock_domain(domain);
	u64 flags = 0;
	size_t page;

	if (prot & IOMMU_READ)
		flags |= MOCK_IOPTE_READ;
	if (prot & IOMMU_WRITE)
		flags |= MOCK_IOPTE_WRITE;
	if (pgsize == MOCK_IOPTE_HUGE_SIZE)
		flags |= MOCK_IOPTE_HUGE;

	for (page = 0; page != pgcount; page++) {
		size_t off;

		for (off = 0; off != pgsize; off += MOCK_IOPTE_SIZE) {
			unsigned long slot = (iova + off) >> MOCK_IOPTE_SHIFT;
			u64 entry = ((paddr + off) >> MOCK_IOPTE_SHIFT) | flags;
			void *old;

			old = xa_cmpxchg(&md->ioptes, slot, NULL,
					 xa_mk_value(entry), gfp);
			if (!old)
				continue;
			/* Undo the slots of this page, the core does the rest. */
			while (off) {
				off -= MOCK_IOPTE_SIZE;
				xa_erase(&md->ioptes,
					 (iova + off) >> MOCK_IOPTE_SHIFT);
			}
			return xa_is_err(old) ? xa_err(old) : -EEXIST;
		}
		iova += pgsize;
		paddr += pgsize;
		*mapped += pgsize;
	}
	return 0;
}

static size_t mock_domain_unmap_pages(struct iommu_domain *domain,
				      unsigned long iova, size_t pgsize,
				      size_t pgcount,
				      struct iommu_iotlb_gather *gather)
{
	struct mock_domain *md = to_mock_domain(domain);
	size_t total = pgsize * pgcount;
	size_t off;

	for (off = 0; off != total; off += MOCK_IOPTE_SIZE) {
		void *old = xa_erase(&md->ioptes,
				     (iova + off) >> MOCK_IOPTE_SHIFT);
		phys_addr_t phys;

		/* iommufd never unmaps what it did not map */
		if (WARN_ON(!old))
			return off;
		phys = (xa_to_value(old) & MOCK_IOPTE_ADDR) << MOCK_IOPTE_SHIFT;
		/* ... nor unpins what a domain still maps */
		WARN_ON_ONCE(!page_maybe_dma_pinned(pfn_to_page(PHYS_PFN(phys))));
	}
	return total;
}

static phys_addr_t mock_domain_iova_to_phys(struct iommu_domain *domain,
					    dma_addr_t iova)
{
	struct mock_domain *md = to_mock_domain(domain);
	void *entry = xa_load(&md->ioptes, iova >> MOCK_IOPTE_SHIFT);

	if (!entry)
		return 0;
	return ((xa_to_value(entry) & MOCK_IOPTE_ADDR) << MOCK_IOPTE_SHIFT) |
	       (iova & (MOCK_IOPTE_SIZE - 1));
}

static const struct iommu_domain_ops mock_domain_ops = {
	.attach_dev = mock_domain_attach_dev,
	.detach_dev = mock_domain_detach_dev,
	.map_pages = mock_domain_map_pages,
	.unmap_pages = mock_domain_unmap_pages,
	.iova_to_phys = mock_domain_iova_to_phys,
	.free = mock_domain_free,
};

static struct iommu_device *mock_probe_device(struct device *dev)
{
	if (dev->bus != &iommufd_mock_bus)
		return ERR_PTR(-ENODEV);
	return &mock_iommu;
}

static const struct iommu_ops mock_ops = {
	.owner = THIS_MODULE,
	.pgsize_bitmap = MOCK_IOPTE_SIZE | MOCK_IOPTE_HUGE_SIZE,
	.domain_alloc = mock_domain_alloc,
	.probe_device = mock_probe_device,
	.device_group = generic_device_group,
	.default_domain_ops = &mock_domain_ops,
};

static void mock_dev_release(struct device *dev)
{
	struct mock_dev *mdev = container_of(dev, struct mock_dev, dev);

	ida_free(&mock_dev_ida, mdev->id);
	kfree(mdev);
}

static struct mock_dev *mock_dev_create(void)
{
	struct mock_dev *mdev;
	int rc;

	mdev = kzalloc(sizeof(*mdev), GFP_KERNEL);
	if (!mdev)
		return ERR_PTR(-ENOMEM);
	mdev->id = ida_alloc(&mock_dev_ida, GFP_KERNEL);
	if (mdev->id < 0) {
		rc = mdev->id;
		kfree(mdev);
		return ERR_PTR(rc);
	}
	device_initialize(&mdev->dev);
	mdev->dev.release = mock_dev_release;
	mdev->dev.bus = &iommufd_mock_bus;
	rc = dev_set_name(&mdev->dev, "iommufd_mock%d", mdev->id);
	if (rc)
		goto err_put;
	rc = device_add(&mdev->dev);
	if (rc)
		goto err_put;
	rc = iommu_probe_device(&mdev->dev);
	if (rc) {
		device_del(&mdev->dev);
		goto err_put;
	}
	return mdev;

err_put:
	put_device(&mdev->dev);
	return ERR_PTR(rc);
}

static void mock_dev_destroy(struct mock_dev *mdev)
{
	iommu_release_device(&mdev->dev);
	device_unregister(&mdev->dev);
}

/* IOMMUFD_OBJ_SELFTEST: a mock device and the HWPT it owns. */
struct selftest_obj {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct mock_dev *mdev;
	struct iommufd_hw_pagetable *hwpt;
};

/**
 * iommufd_selftest_destroy - remove a mock device and the HWPT it owns
 * @obj: the IOMMUFD_OBJ_SELFTEST object
 */
void iommufd_selftest_destroy(struct iommufd_object *obj)
{
	struct selftest_obj *sobj = container_of(obj, struct selftest_obj, obj);

	iommufd_object_destroy_owned(sobj->ictx, &sobj->hwpt->obj);
	mock_dev_destroy(sobj->mdev);
}

static int iommufd_test_mock_domain(struct iommufd_ucmd *ucmd,
				    struct iommu_test_cmd *cmd)
{
	struct iommufd_hw_pagetable *hwpt;
	struct iommu_domain *domain;
	struct selftest_obj *sobj;
	struct iommufd_ioas *ioas;
	int rc;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	sobj = iommufd_object_alloc(ucmd->ictx, sobj, IOMMUFD_OBJ_SELFTEST);
	if (IS_ERR(sobj)) {
		rc = PTR_ERR(sobj);
		goto out_put_ioas;
	}
	sobj->ictx = ucmd->ictx;
	sobj->mdev = mock_dev_create();
	if (IS_ERR(sobj->mdev)) {
		rc = PTR_ERR(sobj->mdev);
		goto out_abort;
	}
	domain = iommu_domain_alloc(&iommufd_mock_bus);
	if (!domain) {
		rc = -ENOMEM;
		goto out_mdev;
	}
	hwpt = iommufd_hw_pagetable_create(ucmd->ictx, ioas, domain);
	if (IS_ERR(hwpt)) {
		rc = PTR_ERR(hwpt);
		iommu_domain_free(domain);
		goto out_mdev;
	}
	/* We own the HWPT: a user of it, and it is a user of the IOAS. */
	refcount_inc(&hwpt->obj.users);
	sobj->hwpt = hwpt;

	cmd->mock_domain.out_stdev_id = sobj->obj.id;
	cmd->mock_domain.out_hwpt_id = hwpt->obj.id;
	cmd->mock_domain.out_idev_id = 0;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		refcount_dec(&hwpt->obj.users);
		iommufd_object_abort_and_destroy(ucmd->ictx, &hwpt->obj);
		goto out_mdev;
	}
	iommufd_object_finalize(ucmd->ictx, &hwpt->obj);
	iommufd_object_finalize(ucmd->ictx, &sobj->obj);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return 0;

out_mdev:
	mock_dev_destroy(sobj->mdev);
out_abort:
	iommufd_object_abort(ucmd->ictx, &sobj->obj);
out_put_ioas:
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

static struct iommufd_hw_pagetable *
iommufd_get_mock_hwpt(struct iommufd_ucmd *ucmd, u32 id)
{
	struct iommufd_hw_pagetable *hwpt = iommufd_get_hwpt(ucmd->ictx, id);

	if (IS_ERR(hwpt))
		return hwpt;
	if (hwpt->domain->ops != &mock_domain_ops) {
		iommufd_put_object(ucmd->ictx, &hwpt->obj);
		return ERR_PTR(-EINVAL);
	}
	return hwpt;
}

static int iommufd_test_user_page(unsigned long uptr, struct page **page)
{
	int rc = get_user_pages_fast(uptr & PAGE_MASK, 1, 0, page);

	if (rc < 0)
		return rc;
	return rc == 1 ? 0 : -EFAULT;
}

static int iommufd_test_md_check_map(struct iommufd_ucmd *ucmd,
				     struct iommu_test_cmd *cmd)
{
	unsigned long iova = cmd->check_map.iova;
	unsigned long uptr = cmd->check_map.uptr;
	unsigned long length = cmd->check_map.length;
	struct iommufd_hw_pagetable *hwpt;
	int rc = 0;

	if ((iova | length) & (MOCK_IOPTE_SIZE - 1) || !length ||
	    iova + length < iova || uptr + length < uptr)
		return -EINVAL;
	hwpt = iommufd_get_mock_hwpt(ucmd, cmd->id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);

	while (length) {
		phys_addr_t phys = iommu_iova_to_phys(hwpt->domain, iova);
		struct page *page;

		rc = iommufd_test_user_page(uptr, &page);
		if (rc)
			break;
		if (phys != page_to_phys(page) + offset_in_page(uptr))
			rc = -EINVAL;
		put_page(page);
		if (rc)
			break;
		length -= MOCK_IOPTE_SIZE;
		iova += MOCK_IOPTE_SIZE;
		uptr += MOCK_IOPTE_SIZE;
		cond_resched();
	}
	iommufd_put_object(ucmd->ictx, &hwpt->obj);
	return rc;
}

/* How many times a page is pinned, by FOLL_PIN accounting. */
static unsigned int iommufd_test_pin_count(struct page *page)
{
	struct folio *folio = page_folio(page);

	if (folio_test_large(folio))
		return atomic_read(folio_pincount_ptr(folio));
	/* Our own reference from get_user_pages is not a pin. */
	return (folio_ref_count(folio) - 1) / GUP_PIN_COUNTING_BIAS;
}

static int iommufd_test_md_check_refs(struct iommufd_ucmd *ucmd,
				      struct iommu_test_cmd *cmd)
{
	unsigned long uptr = cmd->check_refs.uptr;
	unsigned long length = cmd->check_refs.length;
	unsigned long end;
	int rc = 0;

	if (!length || check_add_overflow(uptr, length - 1, &end))
		return -EINVAL;
	for (uptr &= PAGE_MASK; uptr <= end; uptr += PAGE_SIZE) {
		struct page *page;

		rc = iommufd_test_user_page(uptr, &page);
		if (rc)
			return rc;
		if (iommufd_test_pin_count(page) != cmd->check_refs.refs)
			rc = -EIO;
		put_page(page);
		if (rc || uptr + PAGE_SIZE < uptr)
			break;
	}
	return rc;
}

static int iommufd_test_add_reserved(struct iommufd_ucmd *ucmd,
				     struct iommu_test_cmd *cmd)
{
	u64 start = cmd->add_reserved.start;
	u64 length = cmd->add_reserved.length;
	struct iommufd_ioas *ioas;
	int rc;

	if (!length)
		return -EINVAL;
	if (start + length - 1 < start)
		return -EOVERFLOW;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = iopt_reserve_iova(&ioas->iopt, start, start + length - 1, NULL);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

static int iommufd_test_stats(struct iommufd_ucmd *ucmd,
			      struct iommu_test_cmd *cmd)
{
	struct mm_struct *mm = current->mm;

	cmd->stats.out_pinned_pages =
		atomic_long_read(&iommufd_stats[IOMMUFD_STAT_PINNED_PAGES]);
	cmd->stats.out_pages_objects =
		atomic_long_read(&iommufd_stats[IOMMUFD_STAT_PAGES_OBJECTS]);
	cmd->stats.out_areas =
		atomic_long_read(&iommufd_stats[IOMMUFD_STAT_AREAS]);
	cmd->stats.out_user_locked_vm =
		atomic_long_read(&current_user()->locked_vm);
	cmd->stats.out_mm_locked_vm = READ_ONCE(mm->locked_vm);
	cmd->stats.out_mm_pinned_vm = atomic64_read(&mm->pinned_vm);
	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
}

static int iommufd_test_md_iopte(struct iommufd_ucmd *ucmd,
				 struct iommu_test_cmd *cmd)
{
	struct iommufd_hw_pagetable *hwpt;
	struct mock_domain *md;
	void *entry;
	u64 value;
	int rc;

	hwpt = iommufd_get_mock_hwpt(ucmd, cmd->id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	md = to_mock_domain(hwpt->domain);
	entry = xa_load(&md->ioptes, cmd->iopte.iova >> MOCK_IOPTE_SHIFT);
	if (!entry) {
		rc = -ENOENT;
		goto out_put;
	}
	value = xa_to_value(entry);
	cmd->iopte.out_phys = ((value & MOCK_IOPTE_ADDR) << MOCK_IOPTE_SHIFT) |
			      (cmd->iopte.iova & (MOCK_IOPTE_SIZE - 1));
	cmd->iopte.out_size = value & MOCK_IOPTE_HUGE ? MOCK_IOPTE_HUGE_SIZE :
							MOCK_IOPTE_SIZE;
	cmd->iopte.out_prot = (value & MOCK_IOPTE_READ ? IOMMU_READ : 0) |
			      (value & MOCK_IOPTE_WRITE ? IOMMU_WRITE : 0);
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out_put:
	iommufd_put_object(ucmd->ictx, &hwpt->obj);
	return rc;
}

/**
 * iommufd_test - IOMMU_TEST_CMD
 * @ucmd: the command, a struct iommu_test_cmd
 *
 * Return: 0 or a negative errno; -EOPNOTSUPP for an unknown operation.
 */
int iommufd_test(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;

	if (cmd->__reserved)
		return -EINVAL;
	switch (cmd->op) {
	case IOMMU_TEST_OP_ADD_RESERVED:
		return iommufd_test_add_reserved(ucmd, cmd);
	case IOMMU_TEST_OP_MOCK_DOMAIN:
		return iommufd_test_mock_domain(ucmd, cmd);
	case IOMMU_TEST_OP_MD_CHECK_MAP:
		return iommufd_test_md_check_map(ucmd, cmd);
	case IOMMU_TEST_OP_MD_CHECK_REFS:
		return iommufd_test_md_check_refs(ucmd, cmd);
	case IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT:
		WRITE_ONCE(iommufd_test_limit, cmd->memory_limit.limit);
		return 0;
	case IOMMU_TEST_OP_STATS:
		return iommufd_test_stats(ucmd, cmd);
	case IOMMU_TEST_OP_MD_IOPTE:
		return iommufd_test_md_iopte(ucmd, cmd);
	default:
		return -EOPNOTSUPP;
	}
}

/**
 * iommufd_test_init - register the mock bus and IOMMU
 *
 * Return: 0 or a negative errno.
 */
int __init iommufd_test_init(void)
{
	int rc;

	rc = bus_register(&iommufd_mock_bus);
	if (rc)
		return rc;
	rc = iommu_device_sysfs_add(&mock_iommu, NULL, NULL, "%s",
				    "iommufd_mock");
	if (rc)
		goto err_bus;
	mock_iommu.ops = &mock_ops;
	iommufd_mock_bus.iommu_ops = &mock_ops;
	return 0;

err_bus:
	bus_unregister(&iommufd_mock_bus);
	return rc;
}

/**
 * iommufd_test_exit - unregister the mock bus and IOMMU
 */
void iommufd_test_exit(void)
{
	iommufd_mock_bus.iommu_ops = NULL;
	iommu_device_sysfs_remove(&mock_iommu);
	bus_unregister(&iommufd_mock_bus);
}
