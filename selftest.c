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
 * A second mock IOMMU driver, on a second bus ("iommufd_mock_late"), serves
 * MOCK_FLAGS_DEVICE_LATE_IOMMU devices. Its domains are like arm-smmu-v3's
 * in 6.1: they have no aperture or page sizes until the first device
 * attaches, and refuse to map before; and being another driver's, they
 * must never be attached to a device of the first driver, nor the other
 * way round.
 *
 * A mock domain keeps its IOPTEs in an xarray, one entry per
 * MOCK_IOPTE_SIZE (2 KiB, half a CPU page, to exercise sub-page alignment)
 * slot of IOVA; a 2 MiB IOPTE fills all its slots and is marked huge. The
 * tests read IOPTEs back through the test ioctl. On unmap the mock checks
 * that the page it stops mapping is still pinned: iommufd must unmap (and
 * flush) before it unpins, and a violation is a kernel bug, so it WARNs.
 *
 * A selftest object ("stdev") owns one mock device and binds it to its
 * context through the device kAPI, exactly as a real driver would; the
 * test ops then attach, replace and detach it. IOMMU_TEST_OP_MOCK_DOMAIN
 * does it all at once, as mainline's does: a new mock device, bound and
 * attached to an IOAS (an automatic HWPT of it, reused if there is one,
 * gone with its last device) or to a given HWPT. Our MOCK_DOMAIN_NEW always
 * makes a new automatic HWPT, for tests that want several. Mock devices
 * with the same group key share one iommu_group, across contexts, to test
 * the group ownership rules.
 */
#include <linux/anon_inodes.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/idr.h>
#include <linux/iommu.h>
#include <linux/iommufd.h>
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
#define MOCK_IOPTE_CACHE BIT_ULL(61)
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
	bool enforce_coherency;
	/* has its geometry: from the start, or since its first attach */
	bool finalised;
	/* maps and unmaps running now: iommufd must make it at most 1 */
	atomic_t writers;
};

/* MOCK_WRITERS: a sleep inside each map and unmap, and overlaps seen */
static unsigned int mock_write_delay_us;
static atomic_long_t mock_write_overlaps;

/*
 * A map or unmap begins. Like 6.1's VT-d (max_addr), the mock's page table
 * takes one writer at a time; iommufd serialises them (pages.c). Another
 * writer already inside is counted and warned about. The sleep widens the
 * window for the test that checks it.
 */
static void mock_writer_enter(struct mock_domain *md)
{
	unsigned int delay = READ_ONCE(mock_write_delay_us);

	if (WARN_ON_ONCE(atomic_inc_return(&md->writers) != 1))
		atomic_long_inc(&mock_write_overlaps);
	if (delay)
		usleep_range(delay, delay + delay / 4 + 1);
}

static void mock_writer_exit(struct mock_domain *md)
{
	atomic_dec(&md->writers);
}

static struct mock_domain *to_mock_domain(struct iommu_domain *domain)
{
	return container_of(domain, struct mock_domain, domain);
}

struct mock_dev {
	struct device dev;
	int id;
	u32 flags;
	u32 group_key;
	/* a kernel driver takes it once it has its iommu_group */
	bool kernel_driver;
	bool ready;
	/* MOCK_FAIL_ATTACH: attaches to another domain that fail from now */
	atomic_t fail_attach;
	/* the domain it is attached to, as the driver sees it */
	struct iommu_domain *domain;
};

static struct mock_dev *to_mock_dev(struct device *dev)
{
	return container_of(dev, struct mock_dev, dev);
}

static int mock_bus_match(struct device *dev, struct device_driver *drv)
{
	struct mock_dev *mdev = to_mock_dev(dev);

	return mdev->kernel_driver && READ_ONCE(mdev->ready);
}

/* Shared mock iommu_groups by key; each holds a reference on its group. */
struct mock_group {
	struct iommu_group *group;
	unsigned int ndevs;
};

static DEFINE_XARRAY(mock_groups);
static DEFINE_MUTEX(mock_groups_lock);
static DEFINE_IDA(mock_dev_ida);
static struct iommu_device mock_iommu;
static struct iommu_device mock_late_iommu;
static const struct iommu_domain_ops mock_domain_ops;
static const struct iommu_domain_ops mock_late_domain_ops;

/*
 * Like the platform and PCI buses, claim the group's default domain for a
 * kernel driver using the DMA API, which keeps iommufd out of the group.
 */
static int mock_bus_dma_configure(struct device *dev)
{
	return iommu_device_use_default_domain(dev);
}

static void mock_bus_dma_cleanup(struct device *dev)
{
	iommu_device_unuse_default_domain(dev);
}

static int mock_bus_match(struct device *dev, struct device_driver *drv);

static struct bus_type iommufd_mock_bus = {
	.name = "iommufd_mock",
	.match = mock_bus_match,
	.dma_configure = mock_bus_dma_configure,
	.dma_cleanup = mock_bus_dma_cleanup,
};

/* the bus of the second mock IOMMU driver; no kernel drivers there */
static struct bus_type iommufd_mock_late_bus = {
	.name = "iommufd_mock_late",
};

static int mock_kdriver_probe(struct device *dev)
{
	return 0;
}

static struct device_driver mock_kdriver = {
	.name = "iommufd_mock_kdriver",
	.bus = &iommufd_mock_bus,
	.probe = mock_kdriver_probe,
};

/* Give a mock domain its aperture and page sizes. */
static void mock_domain_finalise(struct mock_domain *md, bool wide)
{
	md->domain.geometry.aperture_start = MOCK_APERTURE_START;
	md->domain.geometry.aperture_end = wide ? MOCK_WIDE_APERTURE_LAST :
						  MOCK_APERTURE_LAST;
	md->domain.geometry.force_aperture = true;
	md->domain.pgsize_bitmap = MOCK_IOPTE_SIZE | MOCK_IOPTE_HUGE_SIZE;
	md->finalised = true;
}

static struct mock_domain *mock_domain_new(unsigned int type)
{
	struct mock_domain *md;

	/* No DMA-API default domain: mock devices do no DMA of their own. */
	if (type != IOMMU_DOMAIN_UNMANAGED)
		return NULL;
	md = kzalloc(sizeof(*md), GFP_KERNEL_ACCOUNT);
	if (md)
		xa_init(&md->ioptes);
	return md;
}

static struct iommu_domain *mock_domain_alloc(unsigned int type)
{
	struct mock_domain *md = mock_domain_new(type);

	if (!md)
		return NULL;
	mock_domain_finalise(md, false);
	return &md->domain;
}

/* A domain of the second driver: no geometry until its first attach. */
static struct iommu_domain *mock_late_domain_alloc(unsigned int type)
{
	struct mock_domain *md = mock_domain_new(type);

	if (!md)
		return NULL;
	md->domain.ops = &mock_late_domain_ops;
	/*
	 * Like 6.1's VT-d, a provisional aperture wider than the one its
	 * first attach leaves (mock_domain_finalise()): only the attach
	 * makes the domain final, and it takes no map before.
	 */
	md->domain.geometry.aperture_end = MOCK_PROVISIONAL_LAST;
	return &md->domain;
}

static void mock_domain_free(struct iommu_domain *domain)
{
	struct mock_domain *md = to_mock_domain(domain);

	WARN_ON(!xa_empty(&md->ioptes));
	xa_destroy(&md->ioptes);
	kfree(md);
}

/*
 * iommufd itself keeps devices that can't snoop out of enforcing domains;
 * the mock accepts those attaches, as a device hot-added to an owned group
 * must be. It refuses, with the errnos of 6.1's VT-d, which are not
 * mainline's -EINVAL: MOCK_FLAGS_DEVICE_ENFORCE_FAILS devices an enforcing
 * domain (-EOPNOTSUPP, a unit without snoop control), and
 * MOCK_FLAGS_DEVICE_NARROW devices a domain mapping at or above
 * MOCK_NARROW_TOP (-EFAULT, a unit too narrow for the domain).
 */
static int mock_domain_attach_dev(struct iommu_domain *domain,
				  struct device *dev)
{
	unsigned long top = MOCK_NARROW_TOP >> MOCK_IOPTE_SHIFT;
	struct mock_domain *md = to_mock_domain(domain);
	struct mock_dev *mdev = to_mock_dev(dev);

	/*
	 * MOCK_FAIL_ATTACH: as 6.1's VT-d out of memory, the move to another
	 * domain (the blocking one too) fails, staying where it is works.
	 */
	if (domain != mdev->domain &&
	    atomic_add_unless(&mdev->fail_attach, -1, 0))
		return -ENOMEM;
	if (md->enforce_coherency &&
	    mdev->flags & MOCK_FLAGS_DEVICE_ENFORCE_FAILS)
		return -EOPNOTSUPP;
	if (mdev->flags & MOCK_FLAGS_DEVICE_NARROW &&
	    xa_find(&md->ioptes, &top, ULONG_MAX, XA_PRESENT))
		return -EFAULT;
	mdev->domain = domain;
	return 0;
}

static int mock_late_domain_attach_dev(struct iommu_domain *domain,
				       struct device *dev)
{
	struct mock_domain *md = to_mock_domain(domain);
	int rc;

	rc = mock_domain_attach_dev(domain, dev);
	/* a failed first attach leaves the domain as it was */
	if (!rc && !md->finalised)
		mock_domain_finalise(md, to_mock_dev(dev)->flags &
					 MOCK_FLAGS_DEVICE_WIDE_APERTURE);
	return rc;
}

static bool mock_domain_enforce_coherency(struct iommu_domain *domain)
{
	struct mock_domain *md = to_mock_domain(domain);

	/* Like real drivers: only while nothing is mapped. */
	if (!xa_empty(&md->ioptes))
		return false;
	md->enforce_coherency = true;
	return true;
}

static void mock_domain_detach_dev(struct iommu_domain *domain,
				   struct device *dev)
{
	to_mock_dev(dev)->domain = NULL;
}

static int __mock_domain_map_pages(struct mock_domain *md,
				   unsigned long iova, phys_addr_t paddr,
				   size_t pgsize, size_t pgcount, int prot,
				   gfp_t gfp, size_t *mapped)
{
	u64 flags = 0;
	size_t page;

	/* As arm-smmu-v3 in 6.1: no page table before the first attach */
	if (!md->finalised)
		return -ENODEV;
	if (prot & IOMMU_READ)
		flags |= MOCK_IOPTE_READ;
	if (prot & IOMMU_WRITE)
		flags |= MOCK_IOPTE_WRITE;
	if (prot & IOMMU_CACHE)
		flags |= MOCK_IOPTE_CACHE;
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

static int mock_domain_map_pages(struct iommu_domain *domain,
				 unsigned long iova, phys_addr_t paddr,
				 size_t pgsize, size_t pgcount, int prot,
				 gfp_t gfp, size_t *mapped)
{
	struct mock_domain *md = to_mock_domain(domain);
	int rc;

	mock_writer_enter(md);
	rc = __mock_domain_map_pages(md, iova, paddr, pgsize, pgcount, prot,
				     gfp, mapped);
	mock_writer_exit(md);
	return rc;
}

static size_t __mock_domain_unmap_pages(struct mock_domain *md,
					unsigned long iova, size_t pgsize,
					size_t pgcount)
{
	size_t total = pgsize * pgcount;
	size_t off;

	for (off = 0; off != total; off += MOCK_IOPTE_SIZE) {
		void *old = xa_erase(&md->ioptes,
				     (iova + off) >> MOCK_IOPTE_SHIFT);
		struct page *page;
		phys_addr_t phys;

		/* iommufd never unmaps what it did not map */
		if (WARN_ON(!old))
			return off;
		phys = (xa_to_value(old) & MOCK_IOPTE_ADDR) << MOCK_IOPTE_SHIFT;
		page = pfn_to_page(PHYS_PFN(phys));
		/*
		 * ... nor unpins what a domain still maps. GUP takes no pin on
		 * the shared zero page (what a read-only map of memory nobody
		 * wrote yet gets): it is never freed.
		 */
		WARN_ON_ONCE(!is_zero_page(page) && !page_maybe_dma_pinned(page));
	}
	return total;
}

static size_t mock_domain_unmap_pages(struct iommu_domain *domain,
				      unsigned long iova, size_t pgsize,
				      size_t pgcount,
				      struct iommu_iotlb_gather *gather)
{
	struct mock_domain *md = to_mock_domain(domain);
	size_t unmapped;

	mock_writer_enter(md);
	unmapped = __mock_domain_unmap_pages(md, iova, pgsize, pgcount);
	mock_writer_exit(md);
	return unmapped;
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
	.enforce_cache_coherency = mock_domain_enforce_coherency,
	.free = mock_domain_free,
};

/* The second driver's: the same page table, finalised at attach. */
static const struct iommu_domain_ops mock_late_domain_ops = {
	.attach_dev = mock_late_domain_attach_dev,
	.detach_dev = mock_domain_detach_dev,
	.map_pages = mock_domain_map_pages,
	.unmap_pages = mock_domain_unmap_pages,
	.iova_to_phys = mock_domain_iova_to_phys,
	.enforce_cache_coherency = mock_domain_enforce_coherency,
	.free = mock_domain_free,
};

static struct iommu_device *mock_probe_device(struct device *dev)
{
	if (dev->bus == &iommufd_mock_bus)
		return &mock_iommu;
	if (dev->bus == &iommufd_mock_late_bus)
		return &mock_late_iommu;
	return ERR_PTR(-ENODEV);
}

static bool mock_capable(struct device *dev, enum iommu_cap cap)
{
	u32 flags = to_mock_dev(dev)->flags;

	switch (cap) {
	case IOMMU_CAP_CACHE_COHERENCY:
		return !(flags & MOCK_FLAGS_DEVICE_NO_COHERENCY);
	case IOMMU_CAP_INTR_REMAP:
		return !(flags & MOCK_FLAGS_DEVICE_UNSAFE_MSI);
	default:
		return false;
	}
}

static struct iommu_group *mock_device_group(struct device *dev)
{
	struct mock_dev *mdev = to_mock_dev(dev);
	struct iommu_group *group;
	struct mock_group *mgroup;
	int rc;

	if (!mdev->group_key)
		return generic_device_group(dev);

	mutex_lock(&mock_groups_lock);
	mgroup = xa_load(&mock_groups, mdev->group_key);
	if (!mgroup) {
		mgroup = kzalloc(sizeof(*mgroup), GFP_KERNEL_ACCOUNT);
		if (!mgroup) {
			group = ERR_PTR(-ENOMEM);
			goto out_unlock;
		}
		mgroup->group = iommu_group_alloc();
		if (IS_ERR(mgroup->group)) {
			group = mgroup->group;
			kfree(mgroup);
			goto out_unlock;
		}
		rc = xa_err(xa_store(&mock_groups, mdev->group_key, mgroup,
				     GFP_KERNEL));
		if (rc) {
			iommu_group_put(mgroup->group);
			kfree(mgroup);
			group = ERR_PTR(rc);
			goto out_unlock;
		}
	}
	mgroup->ndevs++;
	group = iommu_group_ref_get(mgroup->group);
out_unlock:
	mutex_unlock(&mock_groups_lock);
	return group;
}

/* A mock device of a shared group is gone: drop the group when it's last. */
static void mock_group_release(u32 group_key)
{
	struct mock_group *mgroup;

	if (!group_key)
		return;
	mutex_lock(&mock_groups_lock);
	mgroup = xa_load(&mock_groups, group_key);
	if (mgroup && !--mgroup->ndevs) {
		xa_erase(&mock_groups, group_key);
		iommu_group_put(mgroup->group);
		kfree(mgroup);
	}
	mutex_unlock(&mock_groups_lock);
}

static void mock_get_resv_regions(struct device *dev, struct list_head *head)
{
	struct iommu_resv_region *region;

	if (!(to_mock_dev(dev)->flags & MOCK_FLAGS_DEVICE_RESV))
		return;
	region = iommu_alloc_resv_region(MOCK_RESV_START,
					 MOCK_RESV_LAST - MOCK_RESV_START + 1,
					 0, IOMMU_RESV_RESERVED, GFP_KERNEL);
	if (region)
		list_add_tail(&region->list, head);
}

static const struct iommu_ops mock_ops = {
	.owner = THIS_MODULE,
	.pgsize_bitmap = MOCK_IOPTE_SIZE | MOCK_IOPTE_HUGE_SIZE,
	.capable = mock_capable,
	.domain_alloc = mock_domain_alloc,
	.probe_device = mock_probe_device,
	.device_group = mock_device_group,
	.get_resv_regions = mock_get_resv_regions,
	.default_domain_ops = &mock_domain_ops,
};

/*
 * The second driver. Like arm-smmu-v3 it claims every page size until a
 * domain is finalised; its domains say otherwise from their first attach.
 */
static const struct iommu_ops mock_late_ops = {
	.owner = THIS_MODULE,
	.pgsize_bitmap = ~0UL,
	.capable = mock_capable,
	.domain_alloc = mock_late_domain_alloc,
	.probe_device = mock_probe_device,
	.device_group = mock_device_group,
	.get_resv_regions = mock_get_resv_regions,
	.default_domain_ops = &mock_late_domain_ops,
};

/**
 * iommufd_selftest_is_mock_dev - is this a device of the mock IOMMU
 * @dev: a device
 *
 * Return: true for the selftest's mock devices.
 */
bool iommufd_selftest_is_mock_dev(struct device *dev)
{
	return dev->bus == &iommufd_mock_bus ||
	       dev->bus == &iommufd_mock_late_bus;
}

/**
 * iommufd_selftest_domain_final - is the domain final from its allocation
 * @domain: a domain
 *
 * Return: true for a domain of the first mock driver, whose aperture,
 * page sizes and page table never change after it is allocated; no real
 * IOMMU driver of 6.1 is known to promise that (hw_pagetable.c).
 */
bool iommufd_selftest_domain_final(struct iommu_domain *domain)
{
	return domain->ops == &mock_domain_ops;
}

/**
 * iommufd_selftest_hw_info - the GET_HW_INFO data of the mock IOMMU
 * @data: room for IOMMUFD_HW_INFO_MAX bytes, zeroed
 * @type: returns IOMMU_HW_INFO_TYPE_SELFTEST
 *
 * Return: the size of the data written to @data.
 */
size_t iommufd_selftest_hw_info(void *data, u32 *type)
{
	struct iommu_test_hw_info mock = {
		.test_reg = IOMMU_HW_INFO_SELFTEST_REGVAL,
	};

	static_assert(sizeof(mock) <= IOMMUFD_HW_INFO_MAX);
	memcpy(data, &mock, sizeof(mock));
	*type = IOMMU_HW_INFO_TYPE_SELFTEST;
	return sizeof(mock);
}

static void mock_dev_release(struct device *dev)
{
	struct mock_dev *mdev = container_of(dev, struct mock_dev, dev);

	ida_free(&mock_dev_ida, mdev->id);
	kfree(mdev);
}

static void mock_dev_destroy(struct mock_dev *mdev);

static struct mock_dev *mock_dev_create(u32 flags, u32 group_key,
					bool kernel_driver)
{
	struct mock_dev *mdev;
	int rc;

	mdev = kzalloc(sizeof(*mdev), GFP_KERNEL_ACCOUNT);
	if (!mdev)
		return ERR_PTR(-ENOMEM);
	mdev->flags = flags;
	mdev->group_key = group_key;
	mdev->kernel_driver = kernel_driver;
	mdev->id = ida_alloc(&mock_dev_ida, GFP_KERNEL);
	if (mdev->id < 0) {
		rc = mdev->id;
		kfree(mdev);
		return ERR_PTR(rc);
	}
	device_initialize(&mdev->dev);
	mdev->dev.release = mock_dev_release;
	mdev->dev.bus = flags & MOCK_FLAGS_DEVICE_LATE_IOMMU ?
			&iommufd_mock_late_bus : &iommufd_mock_bus;
	rc = dev_set_name(&mdev->dev, "iommufd_mock%d", mdev->id);
	if (rc)
		goto err_put;
	rc = device_add(&mdev->dev);
	if (rc)
		goto err_put;
	rc = iommu_probe_device(&mdev->dev);
	if (rc) {
		device_del(&mdev->dev);
		/* the group may have been made before the failure */
		mock_group_release(group_key);
		goto err_put;
	}
	if (kernel_driver) {
		/* Now that it has a group, let the driver core bind it. */
		WRITE_ONCE(mdev->ready, true);
		rc = device_attach(&mdev->dev);
		if (rc != 1) {
			mock_dev_destroy(mdev);
			return ERR_PTR(rc < 0 ? rc : -ENODEV);
		}
	}
	return mdev;

err_put:
	put_device(&mdev->dev);
	return ERR_PTR(rc);
}

static void mock_dev_destroy(struct mock_dev *mdev)
{
	u32 group_key = mdev->group_key;

	/* The driver lets go of the group while the device is still in it. */
	device_release_driver(&mdev->dev);
	iommu_release_device(&mdev->dev);
	device_unregister(&mdev->dev);
	mock_group_release(group_key);
}

/* IOMMUFD_OBJ_SELFTEST: a mock device, bound to the object's context. */
struct selftest_obj {
	struct iommufd_object obj;
	struct mock_dev *mdev;
	struct iommufd_device *idev;
};

/**
 * iommufd_selftest_destroy - unbind and remove a mock device
 * @obj: the IOMMUFD_OBJ_SELFTEST object
 */
void iommufd_selftest_destroy(struct iommufd_object *obj)
{
	struct selftest_obj *sobj = container_of(obj, struct selftest_obj, obj);

	/* A kernel-driven device is not bound to iommufd. */
	if (sobj->idev)
		iommufd_device_unbind(sobj->idev);
	mock_dev_destroy(sobj->mdev);
}

#define MOCK_FLAGS_DEVICE_ALL                                                  \
	(MOCK_FLAGS_DEVICE_NO_DIRTY | MOCK_FLAGS_DEVICE_HUGE_IOVA |            \
	 MOCK_FLAGS_DEVICE_PASID |                                             \
	 MOCK_FLAGS_DEVICE_NO_COHERENCY | MOCK_FLAGS_DEVICE_RESV |             \
	 MOCK_FLAGS_DEVICE_ENFORCE_FAILS | MOCK_FLAGS_DEVICE_LATE_IOMMU |      \
	 MOCK_FLAGS_DEVICE_UNSAFE_MSI | MOCK_FLAGS_DEVICE_WIDE_APERTURE |      \
	 MOCK_FLAGS_DEVICE_NARROW)

/* A new selftest object with a bound mock device, not yet published. */
static struct selftest_obj *iommufd_test_new_device(struct iommufd_ucmd *ucmd,
						    u32 flags, u32 group_key,
						    u32 *idev_id)
{
	struct selftest_obj *sobj;
	int rc;

	if (flags & ~MOCK_FLAGS_DEVICE_ALL)
		return ERR_PTR(-EINVAL);
	/* A group's devices are all behind one IOMMU. */
	if (group_key && flags & MOCK_FLAGS_DEVICE_LATE_IOMMU)
		return ERR_PTR(-EINVAL);
	/* Only a domain finalised at its first attach knows the device. */
	if (flags & MOCK_FLAGS_DEVICE_WIDE_APERTURE &&
	    !(flags & MOCK_FLAGS_DEVICE_LATE_IOMMU))
		return ERR_PTR(-EINVAL);
	sobj = iommufd_object_alloc(ucmd->ictx, sobj, IOMMUFD_OBJ_SELFTEST);
	if (IS_ERR(sobj))
		return sobj;
	sobj->mdev = mock_dev_create(flags, group_key, false);
	if (IS_ERR(sobj->mdev)) {
		rc = PTR_ERR(sobj->mdev);
		goto err_abort;
	}
	sobj->idev = iommufd_device_bind(ucmd->ictx, &sobj->mdev->dev, idev_id);
	if (IS_ERR(sobj->idev)) {
		rc = PTR_ERR(sobj->idev);
		goto err_mdev;
	}
	return sobj;

err_mdev:
	mock_dev_destroy(sobj->mdev);
err_abort:
	iommufd_object_abort(ucmd->ictx, &sobj->obj);
	return ERR_PTR(rc);
}

static int iommufd_test_mock_domain(struct iommufd_ucmd *ucmd,
				    struct iommu_test_cmd *cmd, u32 flags,
				    bool new_hwpt)
{
	enum iommufd_object_type type;
	struct iommufd_object *pt;
	struct selftest_obj *sobj;
	u32 hwpt_id = cmd->id;
	u32 idev_id;
	int rc;

	/*
	 * An IOAS: the new device gets a new HWPT on it; a HWPT: the device
	 * is attached to it. Anything else is no place for a device.
	 */
	pt = iommufd_get_object(ucmd->ictx, cmd->id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(pt))
		return PTR_ERR(pt);
	type = pt->type;
	iommufd_put_object(ucmd->ictx, pt);
	if (type != IOMMUFD_OBJ_IOAS && type != IOMMUFD_OBJ_HW_PAGETABLE)
		return -ENOENT;

	sobj = iommufd_test_new_device(ucmd, flags, 0, &idev_id);
	if (IS_ERR(sobj))
		return PTR_ERR(sobj);
	/* As a driver would, reusing a compatible automatic HWPT */
	if (new_hwpt)
		rc = iommufd_device_attach_new_hwpt(sobj->idev, &hwpt_id);
	else
		rc = iommufd_device_attach(sobj->idev, &hwpt_id);
	if (rc)
		goto err_destroy;
	/* Same place in both layouts of the union. */
	cmd->mock_domain.out_stdev_id = sobj->obj.id;
	cmd->mock_domain.out_hwpt_id = hwpt_id;
	cmd->mock_domain.out_idev_id = idev_id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto err_destroy;
	iommufd_object_finalize(ucmd->ictx, &sobj->obj);
	return 0;

err_destroy:
	iommufd_object_abort_and_destroy(ucmd->ictx, &sobj->obj);
	return rc;
}

static int iommufd_test_group_device(struct iommufd_ucmd *ucmd,
				     struct iommu_test_cmd *cmd)
{
	struct selftest_obj *sobj;
	u32 idev_id;

	sobj = iommufd_test_new_device(ucmd, cmd->mock_group_device.dev_flags,
				       cmd->mock_group_device.group_key,
				       &idev_id);
	if (IS_ERR(sobj))
		return PTR_ERR(sobj);
	cmd->mock_group_device.out_stdev_id = sobj->obj.id;
	cmd->mock_group_device.out_idev_id = idev_id;
	return iommufd_object_respond_publish(ucmd, sizeof(*cmd), &sobj->obj);
}

static int iommufd_test_kernel_device(struct iommufd_ucmd *ucmd,
				      struct iommu_test_cmd *cmd)
{
	struct selftest_obj *sobj;
	int rc;

	if (!cmd->mock_kernel_device.group_key)
		return -EINVAL;
	sobj = iommufd_object_alloc(ucmd->ictx, sobj, IOMMUFD_OBJ_SELFTEST);
	if (IS_ERR(sobj))
		return PTR_ERR(sobj);
	sobj->mdev = mock_dev_create(0, cmd->mock_kernel_device.group_key,
				     true);
	if (IS_ERR(sobj->mdev)) {
		rc = PTR_ERR(sobj->mdev);
		iommufd_object_abort(ucmd->ictx, &sobj->obj);
		return rc;
	}
	cmd->mock_kernel_device.out_stdev_id = sobj->obj.id;
	return iommufd_object_respond_publish(ucmd, sizeof(*cmd), &sobj->obj);
}

static struct selftest_obj *iommufd_get_stdev(struct iommufd_ucmd *ucmd,
					      u32 id)
{
	return iommufd_get_typed(ucmd->ictx, id, IOMMUFD_OBJ_SELFTEST,
				 struct selftest_obj);
}

/* ATTACH, REPLACE (must be attached), DETACH and INFO of a stdev's device */
static int iommufd_test_device_op(struct iommufd_ucmd *ucmd,
				  struct iommu_test_cmd *cmd)
{
	struct selftest_obj *sobj;
	struct iommufd_device *idev;
	int rc = 0;

	sobj = iommufd_get_stdev(ucmd, cmd->id);
	if (IS_ERR(sobj))
		return PTR_ERR(sobj);
	idev = sobj->idev;
	/* a kernel-driven mock device is not bound */
	if (!idev) {
		iommufd_put_object(ucmd->ictx, &sobj->obj);
		return -EINVAL;
	}

	switch (cmd->op) {
	case IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE:
		if (!READ_ONCE(idev->hwpt)) {
			rc = -EINVAL;
			break;
		}
		fallthrough;
	case IOMMU_TEST_OP_DEVICE_ATTACH:
		/* pt_id is first in both layouts of the union */
		rc = iommufd_device_attach(idev, &cmd->device_attach.pt_id);
		if (!rc)
			rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
		break;
	case IOMMU_TEST_OP_DEVICE_DETACH:
		if (!READ_ONCE(idev->hwpt))
			rc = -EINVAL;
		else
			iommufd_device_detach(idev);
		break;
	case IOMMU_TEST_OP_DEVICE_INFO:
		mutex_lock(&idev->igroup->lock);
		cmd->device_info.out_hwpt_id = idev->hwpt ? idev->hwpt->obj.id : 0;
		cmd->device_info.out_coherent =
			idev->hwpt && idev->hwpt->enforce_cache_coherency;
		mutex_unlock(&idev->igroup->lock);
		cmd->device_info.out_group_id =
			iommu_group_id(idev->igroup->group);
		cmd->device_info.out_stuck = !!READ_ONCE(idev->igroup->stuck);
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
		break;
	case IOMMU_TEST_OP_MOCK_FAIL_ATTACH:
		atomic_set(&sobj->mdev->fail_attach,
			   cmd->mock_fail_attach.count);
		break;
	}
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return rc;
}

static int iommufd_test_user_page(unsigned long uptr, struct page **page);

/*
 * A test access: an fd standing for an iommufd_access, like an emulated
 * device's driver would hold, with the page ranges ACCESS_PAGES pinned.
 */
struct selftest_access {
	struct iommufd_access *access;
	struct mutex lock; /* protects items and next_id */
	struct list_head items;
	unsigned int next_id;
	u32 flags;
};

struct selftest_access_item {
	struct list_head next;
	unsigned long iova;
	unsigned long length;
	unsigned int id;
};

/* Pin an item's range again, as ACCESS_PAGES did; 0 if that worked. */
static int selftest_access_repin(struct selftest_access *staccess,
				 struct selftest_access_item *item)
{
	unsigned long npages = item->length >> PAGE_SHIFT;
	struct page **pages;
	int rc;

	pages = kvcalloc(npages, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages)
		return -ENOMEM;
	rc = iommufd_access_pin_pages(staccess->access, item->iova,
				      item->length, pages, 0);
	kvfree(pages);
	return rc;
}

static void selftest_access_unmap(void *data, unsigned long iova,
				  unsigned long length)
{
	struct selftest_access *staccess = data;
	struct selftest_access_item *item;
	struct selftest_access_item *tmp;

	/* a length of 0 names no IOVA at all: iommufd never sends one */
	if (WARN_ON_ONCE(!length) ||
	    staccess->flags & MOCK_FLAGS_ACCESS_CREATE_NO_UNMAP)
		return;
	mutex_lock(&staccess->lock);
	list_for_each_entry_safe(item, tmp, &staccess->items, next) {
		if (item->iova > iova + length - 1 ||
		    item->iova + item->length - 1 < iova)
			continue;
		iommufd_access_unpin_pages(staccess->access, item->iova,
					   item->length);
		/* REPIN: keep it if pinning it again works */
		if (staccess->flags & MOCK_FLAGS_ACCESS_CREATE_REPIN &&
		    !selftest_access_repin(staccess, item))
			continue;
		list_del(&item->next);
		kfree(item);
	}
	mutex_unlock(&staccess->lock);
}

static const struct iommufd_access_ops selftest_access_ops = {
	.unmap = selftest_access_unmap,
};

static int selftest_access_release(struct inode *inode, struct file *filep)
{
	struct selftest_access *staccess = filep->private_data;
	struct selftest_access_item *item;
	struct selftest_access_item *tmp;

	/* An UNMAP may be calling selftest_access_unmap() meanwhile. */
	mutex_lock(&staccess->lock);
	list_for_each_entry_safe(item, tmp, &staccess->items, next) {
		iommufd_access_unpin_pages(staccess->access, item->iova,
					   item->length);
		list_del(&item->next);
		kfree(item);
	}
	mutex_unlock(&staccess->lock);
	iommufd_access_destroy(staccess->access);
	mutex_destroy(&staccess->lock);
	kfree(staccess);
	return 0;
}

static const struct file_operations selftest_access_fops = {
	.release = selftest_access_release,
};

static struct selftest_access *iommufd_test_get_access(u32 fd, struct fd *f)
{
	*f = fdget(fd);
	if (!f->file)
		return ERR_PTR(-EBADF);
	if (f->file->f_op != &selftest_access_fops) {
		fdput(*f);
		return ERR_PTR(-EBADF);
	}
	return f->file->private_data;
}

#define MOCK_FLAGS_ACCESS_CREATE_ALL                                           \
	(MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES |                            \
	 MOCK_FLAGS_ACCESS_CREATE_NO_UNMAP | MOCK_FLAGS_ACCESS_CREATE_REPIN)

static int iommufd_test_create_access(struct iommufd_ucmd *ucmd,
				      struct iommu_test_cmd *cmd)
{
	struct selftest_access *staccess;
	struct file *file;
	u32 access_id;
	int fd;
	int rc;

	if (cmd->create_access.flags & ~MOCK_FLAGS_ACCESS_CREATE_ALL)
		return -EOPNOTSUPP;
	staccess = kzalloc(sizeof(*staccess), GFP_KERNEL_ACCOUNT);
	if (!staccess)
		return -ENOMEM;
	mutex_init(&staccess->lock);
	INIT_LIST_HEAD(&staccess->items);
	staccess->flags = cmd->create_access.flags;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		rc = fd;
		goto err_free;
	}
	staccess->access = iommufd_access_create(ucmd->ictx,
						 &selftest_access_ops,
						 staccess, &access_id);
	if (IS_ERR(staccess->access)) {
		rc = PTR_ERR(staccess->access);
		goto err_fd;
	}
	rc = iommufd_access_attach(staccess->access, cmd->id);
	if (rc)
		goto err_access;
	cmd->create_access.out_access_fd = fd;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto err_access;
	file = anon_inode_getfile("[iommufd_test_access]",
				  &selftest_access_fops, staccess, O_RDWR);
	if (IS_ERR(file)) {
		rc = PTR_ERR(file);
		goto err_access;
	}
	fd_install(fd, file);
	return 0;

err_access:
	iommufd_access_destroy(staccess->access);
err_fd:
	put_unused_fd(fd);
err_free:
	mutex_destroy(&staccess->lock);
	kfree(staccess);
	return rc;
}

/* Each pinned page must be the page the process has at @uptr. */
static int iommufd_test_check_pages(struct page **pages, unsigned long npages,
				    unsigned long uptr)
{
	unsigned long i;
	int rc = 0;

	for (i = 0; i != npages && !rc; i++) {
		struct page *page;

		rc = iommufd_test_user_page(uptr + i * PAGE_SIZE, &page);
		if (rc)
			break;
		if (page != pages[i])
			rc = -EINVAL;
		put_page(page);
	}
	return rc;
}

static int iommufd_test_access_pages(struct iommufd_ucmd *ucmd,
				     struct iommu_test_cmd *cmd)
{
	unsigned long iova = cmd->access_pages.iova;
	unsigned long length = cmd->access_pages.length;
	struct selftest_access_item *item;
	struct selftest_access *staccess;
	struct page **pages = NULL;
	struct fd f;
	int rc;

	if (cmd->access_pages.flags & ~MOCK_FLAGS_ACCESS_WRITE)
		return -EOPNOTSUPP;
	/* The page array is sized by userspace: keep it small. */
	if (!length || (iova | length) & ~PAGE_MASK ||
	    length > MOCK_ACCESS_PAGES_MAX)
		return -EINVAL;
	staccess = iommufd_test_get_access(cmd->id, &f);
	if (IS_ERR(staccess))
		return PTR_ERR(staccess);
	item = kzalloc(sizeof(*item), GFP_KERNEL_ACCOUNT);
	pages = kvcalloc(length >> PAGE_SHIFT, sizeof(*pages),
			 GFP_KERNEL_ACCOUNT);
	if (!item || !pages) {
		rc = -ENOMEM;
		goto out_free;
	}

	mutex_lock(&staccess->lock);
	rc = iommufd_access_pin_pages(staccess->access, iova, length, pages,
				      cmd->access_pages.flags &
						      MOCK_FLAGS_ACCESS_WRITE ?
					      IOMMUFD_ACCESS_RW_WRITE :
					      0);
	if (rc)
		goto out_unlock;
	rc = iommufd_test_check_pages(pages, length >> PAGE_SHIFT,
				      cmd->access_pages.uptr);
	if (rc) {
		iommufd_access_unpin_pages(staccess->access, iova, length);
		goto out_unlock;
	}
	item->iova = iova;
	item->length = length;
	item->id = ++staccess->next_id;
	cmd->access_pages.out_access_pages_id = item->id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		iommufd_access_unpin_pages(staccess->access, iova, length);
		goto out_unlock;
	}
	list_add_tail(&item->next, &staccess->items);
	item = NULL;
out_unlock:
	mutex_unlock(&staccess->lock);
out_free:
	kvfree(pages);
	kfree(item);
	fdput(f);
	return rc;
}

static int iommufd_test_destroy_access_pages(struct iommufd_ucmd *ucmd,
					     struct iommu_test_cmd *cmd)
{
	struct selftest_access_item *item;
	struct selftest_access *staccess;
	struct fd f;
	int rc = -ENOENT;

	staccess = iommufd_test_get_access(cmd->id, &f);
	if (IS_ERR(staccess))
		return PTR_ERR(staccess);
	mutex_lock(&staccess->lock);
	list_for_each_entry(item, &staccess->items, next) {
		if (item->id != cmd->destroy_access_pages.access_pages_id)
			continue;
		iommufd_access_unpin_pages(staccess->access, item->iova,
					   item->length);
		list_del(&item->next);
		kfree(item);
		rc = 0;
		break;
	}
	mutex_unlock(&staccess->lock);
	fdput(f);
	return rc;
}

/* Largest ACCESS_RW, to bound the bounce buffer. */
#define MOCK_ACCESS_RW_MAX (4UL * 1024 * 1024)

static int iommufd_test_access_rw(struct iommufd_ucmd *ucmd,
				  struct iommu_test_cmd *cmd)
{
	void __user *uptr = u64_to_user_ptr(cmd->access_rw.uptr);
	unsigned long length = cmd->access_rw.length;
	bool write = cmd->access_rw.flags & MOCK_ACCESS_RW_WRITE;
	struct selftest_access *staccess;
	struct fd f;
	void *buf;
	int rc;

	if (cmd->access_rw.flags &
	    ~(MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH))
		return -EOPNOTSUPP;
	if (!length || length > MOCK_ACCESS_RW_MAX)
		return -EINVAL;
	staccess = iommufd_test_get_access(cmd->id, &f);
	if (IS_ERR(staccess))
		return PTR_ERR(staccess);
	buf = kvzalloc(length, GFP_KERNEL_ACCOUNT);
	if (!buf) {
		rc = -ENOMEM;
		goto out_put;
	}
	if (write && copy_from_user(buf, uptr, length)) {
		rc = -EFAULT;
		goto out_free;
	}
	/*
	 * The slow path pins what nothing holds; the other copies it through
	 * this process's mapping. Held pages go through their PFNs in both.
	 */
	rc = iommufd_access_rw(staccess->access, cmd->access_rw.iova, buf,
			       length,
			       (write ? IOMMUFD_ACCESS_RW_WRITE : 0) |
			       (cmd->access_rw.flags & MOCK_ACCESS_RW_SLOW_PATH ?
				IOMMUFD_ACCESS_RW_PIN : 0));
	if (!rc && !write && copy_to_user(uptr, buf, length))
		rc = -EFAULT;
out_free:
	kvfree(buf);
out_put:
	fdput(f);
	return rc;
}

/*
 * ACCESS_RW_BENCH: the cost of iommufd_access_rw() against memcpy() of the
 * same bytes, for make bench. Both copy between kernel buffers; the loop
 * count is bounded, so one call is bounded.
 */
static int iommufd_test_access_rw_bench(struct iommufd_ucmd *ucmd,
					struct iommu_test_cmd *cmd)
{
	unsigned long length = cmd->access_rw_bench.length;
	unsigned int flags = cmd->access_rw_bench.flags;
	u32 loops = cmd->access_rw_bench.loops, i;
	struct selftest_access *staccess;
	void *buf, *src;
	u64 t0, t1, t2;
	struct fd f;
	int rc = 0;

	if (flags & ~MOCK_ACCESS_RW_WRITE)
		return -EOPNOTSUPP;
	if (!length || length > MOCK_ACCESS_RW_MAX || !loops ||
	    loops > MOCK_ACCESS_RW_BENCH_LOOPS)
		return -EINVAL;
	staccess = iommufd_test_get_access(cmd->id, &f);
	if (IS_ERR(staccess))
		return PTR_ERR(staccess);
	buf = kvzalloc(length, GFP_KERNEL_ACCOUNT);
	src = kvzalloc(length, GFP_KERNEL_ACCOUNT);
	if (!buf || !src) {
		rc = -ENOMEM;
		goto out;
	}
	t0 = ktime_get_ns();
	for (i = 0; i != loops && !rc; i++) {
		rc = iommufd_access_rw(staccess->access, cmd->access_rw_bench.iova,
				       buf, length,
				       flags & MOCK_ACCESS_RW_WRITE ?
				       IOMMUFD_ACCESS_RW_WRITE : 0);
		if (!(i & 255))
			cond_resched();
	}
	t1 = ktime_get_ns();
	for (i = 0; i != loops && !rc; i++) {
		memcpy(buf, src, length);
		/* the copy is the point: keep it */
		barrier_data(buf);
		if (!(i & 255))
			cond_resched();
	}
	t2 = ktime_get_ns();
	cmd->access_rw_bench.out_rw_ns = t1 - t0;
	cmd->access_rw_bench.out_memcpy_ns = t2 - t1;
	if (!rc)
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out:
	kvfree(src);
	kvfree(buf);
	fdput(f);
	return rc;
}

static int iommufd_test_access_replace_ioas(struct iommufd_ucmd *ucmd,
					    struct iommu_test_cmd *cmd)
{
	struct selftest_access *staccess;
	struct fd f;
	int rc;

	staccess = iommufd_test_get_access(cmd->id, &f);
	if (IS_ERR(staccess))
		return PTR_ERR(staccess);
	rc = iommufd_access_replace(staccess->access,
				    cmd->access_replace_ioas.ioas_id);
	fdput(f);
	return rc;
}

static struct iommufd_hw_pagetable *
iommufd_get_mock_hwpt(struct iommufd_ucmd *ucmd, u32 id)
{
	struct iommufd_hw_pagetable *hwpt = iommufd_get_hwpt(ucmd->ictx, id);

	if (IS_ERR(hwpt))
		return hwpt;
	if (hwpt->domain->ops != &mock_domain_ops &&
	    hwpt->domain->ops != &mock_late_domain_ops) {
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

	/* As mainline's: an empty range has nothing to disagree with. */
	if (!length)
		return 0;
	if (check_add_overflow(uptr, length - 1, &end))
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

static int iommufd_test_readback_stats(struct iommufd_ucmd *ucmd,
				       struct iommu_test_cmd *cmd)
{
	cmd->readback.out_read_cpu =
		atomic_long_read(&iommufd_stats[IOMMUFD_STAT_READ_CPU]);
	cmd->readback.out_read_domain =
		atomic_long_read(&iommufd_stats[IOMMUFD_STAT_READ_DOMAIN]);
	cmd->readback.out_cpu_busy =
		atomic_long_read(&iommufd_stats[IOMMUFD_STAT_READ_CPU_BUSY]);
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
			      (value & MOCK_IOPTE_WRITE ? IOMMU_WRITE : 0) |
			      (value & MOCK_IOPTE_CACHE ? IOMMU_CACHE : 0);
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
		return iommufd_test_mock_domain(ucmd, cmd, 0, false);
	case IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS:
		return iommufd_test_mock_domain(ucmd, cmd,
						cmd->mock_domain_flags.dev_flags,
						false);
	case IOMMU_TEST_OP_MOCK_DOMAIN_NEW:
		return iommufd_test_mock_domain(ucmd, cmd,
						cmd->mock_domain_flags.dev_flags,
						true);
	case IOMMU_TEST_OP_MOCK_GROUP_DEVICE:
		return iommufd_test_group_device(ucmd, cmd);
	case IOMMU_TEST_OP_MOCK_KERNEL_DEVICE:
		return iommufd_test_kernel_device(ucmd, cmd);
	case IOMMU_TEST_OP_CREATE_ACCESS:
		return iommufd_test_create_access(ucmd, cmd);
	case IOMMU_TEST_OP_ACCESS_PAGES:
		return iommufd_test_access_pages(ucmd, cmd);
	case IOMMU_TEST_OP_DESTROY_ACCESS_PAGES:
		return iommufd_test_destroy_access_pages(ucmd, cmd);
	case IOMMU_TEST_OP_ACCESS_RW:
		return iommufd_test_access_rw(ucmd, cmd);
	case IOMMU_TEST_OP_ACCESS_REPLACE_IOAS:
		return iommufd_test_access_replace_ioas(ucmd, cmd);
	case IOMMU_TEST_OP_ACCESS_RW_BENCH:
		return iommufd_test_access_rw_bench(ucmd, cmd);
	case IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE:
	case IOMMU_TEST_OP_DEVICE_ATTACH:
	case IOMMU_TEST_OP_DEVICE_DETACH:
	case IOMMU_TEST_OP_DEVICE_INFO:
	case IOMMU_TEST_OP_MOCK_FAIL_ATTACH:
		return iommufd_test_device_op(ucmd, cmd);
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
	case IOMMU_TEST_OP_READBACK_STATS:
		return iommufd_test_readback_stats(ucmd, cmd);
	case IOMMU_TEST_OP_MOCK_WRITERS:
		if (cmd->mock_writers.__reserved)
			return -EINVAL;
		/* a wide window, not a hang: at most a second each */
		if (cmd->mock_writers.delay_us > USEC_PER_SEC)
			return -EINVAL;
		WRITE_ONCE(mock_write_delay_us, cmd->mock_writers.delay_us);
		cmd->mock_writers.out_overlaps =
			atomic_long_read(&mock_write_overlaps);
		return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	default:
		return -EOPNOTSUPP;
	}
}

/* A mock IOMMU driver on its own bus, with its iommu class device. */
static int __init mock_iommu_register(struct bus_type *bus,
				      struct iommu_device *iommu,
				      const struct iommu_ops *ops)
{
	int rc;

	rc = bus_register(bus);
	if (rc)
		return rc;
	rc = iommu_device_sysfs_add(iommu, NULL, NULL, "%s", bus->name);
	if (rc) {
		bus_unregister(bus);
		return rc;
	}
	iommu->ops = ops;
	bus->iommu_ops = ops;
	return 0;
}

static void mock_iommu_unregister(struct bus_type *bus,
				  struct iommu_device *iommu)
{
	bus->iommu_ops = NULL;
	iommu_device_sysfs_remove(iommu);
	bus_unregister(bus);
}

/**
 * iommufd_test_init - register the mock buses and IOMMUs
 *
 * Return: 0 or a negative errno.
 */
int __init iommufd_test_init(void)
{
	int rc;

	rc = mock_iommu_register(&iommufd_mock_bus, &mock_iommu, &mock_ops);
	if (rc)
		return rc;
	rc = mock_iommu_register(&iommufd_mock_late_bus, &mock_late_iommu,
				 &mock_late_ops);
	if (rc)
		goto err_first;
	rc = driver_register(&mock_kdriver);
	if (rc)
		goto err_late;
	return 0;

err_late:
	mock_iommu_unregister(&iommufd_mock_late_bus, &mock_late_iommu);
err_first:
	mock_iommu_unregister(&iommufd_mock_bus, &mock_iommu);
	return rc;
}

/**
 * iommufd_test_exit - unregister the mock buses and IOMMUs
 */
void iommufd_test_exit(void)
{
	driver_unregister(&mock_kdriver);
	mock_iommu_unregister(&iommufd_mock_late_bus, &mock_late_iommu);
	mock_iommu_unregister(&iommufd_mock_bus, &mock_iommu);
}
