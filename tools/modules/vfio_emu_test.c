// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio_emu_test: an emulated VFIO device, for the tests of VFIO on iommufd.
 *
 * Theory of operation
 * -------------------
 * The device is what an mdev driver (a vGPU, s390's CCW) is to VFIO: it
 * has no DMA of its own and reaches the user's memory only through
 * vfio_pin_pages() and vfio_dma_rw() at the IOVAs of its address space.
 * Bound through iommufd, those go through the software access the VFIO
 * core gives an emulated device, whether the device was opened through
 * its group or through its cdev, /dev/vfio/devices/vfioX.
 *
 * Loading the module creates one device,
 * /sys/devices/platform/vfio_emu_test, in an emulated-IOMMU VFIO group.
 * Its descriptor takes VFIO_DEVICE_GET_INFO and the test ioctls of
 * vfio_emu_test.h: a dma_rw between an IOVA and a user buffer, a pin of up
 * to VFIO_EMU_TEST_MAX_PIN pages that the device keeps (up to
 * VFIO_EMU_TEST_MAX_HELD pins in all), and a report of what it holds. The
 * pins are given back when userspace unmaps their IOVAs (the
 * dma_unmap callback, as the VFIO contract demands) and at close.
 *
 * Locking: emu_dev.lock protects the held pages. The dma_unmap callback takes
 * it under the IOAS's notify_lock, and PIN holds it while pinning, which
 * takes the access's locks below: the order of io_pagetable.h.
 *
 * Test-only: never load it on a system that matters.
 */
#include <linux/device.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "vfio_emu_test.h"

/* one vfio_pin_pages() call's pages, given back together as the API asks */
struct emu_held {
	dma_addr_t iova;
	unsigned int npages;
};

struct emu_dev {
	struct vfio_device vdev;
	struct mutex lock; /* see the theory of operation */
	struct emu_held held[VFIO_EMU_TEST_MAX_HELD];
	unsigned int nr_held;		/* entries of held[] */
	unsigned int held_pages;	/* pages in them */
	unsigned int unmaps;
	unsigned int unpinned_by_unmap;
};

static struct emu_dev *to_emu(struct vfio_device *vdev)
{
	return container_of(vdev, struct emu_dev, vdev);
}

/* Give back every pin that meets [first, last]; returns how many pages. */
static unsigned int emu_unpin_range(struct emu_dev *e, u64 first, u64 last)
{
	unsigned int i = 0, n = 0;

	lockdep_assert_held(&e->lock);
	while (i < e->nr_held) {
		struct emu_held *h = &e->held[i];
		u64 h_last = h->iova + (u64)h->npages * PAGE_SIZE - 1;

		if (h_last < first || h->iova > last) {
			i++;
			continue;
		}
		vfio_unpin_pages(&e->vdev, h->iova, h->npages);
		n += h->npages;
		e->held_pages -= h->npages;
		*h = e->held[--e->nr_held];
	}
	return n;
}

static int emu_open_device(struct vfio_device *vdev)
{
	struct emu_dev *e = to_emu(vdev);

	mutex_lock(&e->lock);
	e->unmaps = 0;
	e->unpinned_by_unmap = 0;
	mutex_unlock(&e->lock);
	return 0;
}

static void emu_close_device(struct vfio_device *vdev)
{
	struct emu_dev *e = to_emu(vdev);

	mutex_lock(&e->lock);
	emu_unpin_range(e, 0, U64_MAX);
	mutex_unlock(&e->lock);
}

static void emu_dma_unmap(struct vfio_device *vdev, u64 iova, u64 length)
{
	struct emu_dev *e = to_emu(vdev);

	mutex_lock(&e->lock);
	e->unmaps++;
	e->unpinned_by_unmap += emu_unpin_range(e, iova, iova + length - 1);
	mutex_unlock(&e->lock);
}

static long emu_rw(struct emu_dev *e, void __user *arg)
{
	struct vfio_emu_test_rw rw;
	void *buf;
	long ret;

	if (copy_from_user(&rw, arg, sizeof(rw)))
		return -EFAULT;
	if (rw.argsz < sizeof(rw) || rw.write > 1 || !rw.length ||
	    rw.length > VFIO_EMU_TEST_MAX_RW)
		return -EINVAL;
	buf = kvzalloc(rw.length, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	ret = -EFAULT;
	if (rw.write &&
	    copy_from_user(buf, u64_to_user_ptr(rw.uptr), rw.length))
		goto out;
	ret = vfio_dma_rw(&e->vdev, rw.iova, buf, rw.length, rw.write);
	if (!ret && !rw.write &&
	    copy_to_user(u64_to_user_ptr(rw.uptr), buf, rw.length))
		ret = -EFAULT;
out:
	kvfree(buf);
	return ret;
}

static long emu_pin(struct emu_dev *e, void __user *arg)
{
	struct page *pages[VFIO_EMU_TEST_MAX_PIN];
	struct vfio_emu_test_pin pin;
	int i, ret;

	if (copy_from_user(&pin, arg, sizeof(pin)))
		return -EFAULT;
	if (pin.argsz < sizeof(pin) || pin.__reserved || !pin.npages ||
	    pin.npages > VFIO_EMU_TEST_MAX_PIN ||
	    pin.prot & ~(IOMMU_READ | IOMMU_WRITE) ||
	    !PAGE_ALIGNED(pin.iova))
		return -EINVAL;

	mutex_lock(&e->lock);
	ret = -ENOSPC;
	if (e->nr_held == VFIO_EMU_TEST_MAX_HELD)
		goto out_unlock;
	ret = vfio_pin_pages(&e->vdev, pin.iova, pin.npages, pin.prot, pages);
	if (ret < 0)
		goto out_unlock;
	if (WARN_ON(ret != pin.npages)) {
		vfio_unpin_pages(&e->vdev, pin.iova, ret);
		ret = -EFAULT;
		goto out_unlock;
	}
	for (i = 0; i != pin.npages; i++) {
		u8 *va = kmap_local_page(pages[i]);

		pin.first_byte[i] = *va;
		kunmap_local(va);
	}
	e->held[e->nr_held].iova = pin.iova;
	e->held[e->nr_held].npages = pin.npages;
	e->nr_held++;
	e->held_pages += pin.npages;
	ret = 0;
out_unlock:
	mutex_unlock(&e->lock);
	if (!ret && copy_to_user(arg, &pin, sizeof(pin)))
		ret = -EFAULT;
	return ret;
}

static long emu_state(struct emu_dev *e, void __user *arg)
{
	struct vfio_emu_test_state st;

	if (copy_from_user(&st, arg, sizeof(st)))
		return -EFAULT;
	if (st.argsz < sizeof(st))
		return -EINVAL;
	mutex_lock(&e->lock);
	st.held = e->held_pages;
	st.unmaps = e->unmaps;
	st.unpinned_by_unmap = e->unpinned_by_unmap;
	mutex_unlock(&e->lock);
	return copy_to_user(arg, &st, sizeof(st)) ? -EFAULT : 0;
}

static long emu_ioctl(struct vfio_device *vdev, unsigned int cmd,
		      unsigned long arg)
{
	struct emu_dev *e = to_emu(vdev);
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info info;
		unsigned long minsz = offsetofend(struct vfio_device_info,
						  num_irqs);

		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz)
			return -EINVAL;
		info.flags = 0;
		info.num_regions = 0;
		info.num_irqs = 0;
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_EMU_TEST_RW:
		return emu_rw(e, uarg);
	case VFIO_EMU_TEST_PIN:
		return emu_pin(e, uarg);
	case VFIO_EMU_TEST_STATE:
		return emu_state(e, uarg);
	default:
		return -ENOTTY;
	}
}

static void emu_release(struct vfio_device *vdev)
{
	mutex_destroy(&to_emu(vdev)->lock);
}

static const struct vfio_device_ops emu_ops = {
	.name = "vfio-emu-test",
	.open_device = emu_open_device,
	.close_device = emu_close_device,
	.ioctl = emu_ioctl,
	.dma_unmap = emu_dma_unmap,
	.release = emu_release,
};

/*
 * VFIO opens a device only while a driver is bound to it (it holds the
 * driver's module), so the VFIO device sits on a platform device that our
 * platform driver binds, as an mdev sits on its mdev bus.
 */
static int emu_probe(struct platform_device *pdev)
{
	struct emu_dev *e;
	int ret;

	e = vfio_alloc_device(emu_dev, vdev, &pdev->dev, &emu_ops);
	if (IS_ERR(e))
		return PTR_ERR(e);
	mutex_init(&e->lock);
	ret = vfio_register_emulated_iommu_dev(&e->vdev);
	if (ret) {
		vfio_put_device(&e->vdev);
		return ret;
	}
	platform_set_drvdata(pdev, e);
	return 0;
}

static int emu_remove(struct platform_device *pdev)
{
	struct emu_dev *e = platform_get_drvdata(pdev);

	vfio_unregister_group_dev(&e->vdev);
	vfio_put_device(&e->vdev);
	return 0;
}

static struct platform_driver emu_driver = {
	.driver = { .name = "vfio_emu_test" },
	.probe = emu_probe,
	.remove = emu_remove,
};

static struct platform_device *emu_pdev;

static int __init emu_init(void)
{
	int ret;

	ret = platform_driver_register(&emu_driver);
	if (ret)
		return ret;
	emu_pdev = platform_device_register_simple("vfio_emu_test", -1,
						   NULL, 0);
	if (IS_ERR(emu_pdev)) {
		platform_driver_unregister(&emu_driver);
		return PTR_ERR(emu_pdev);
	}
	if (!platform_get_drvdata(emu_pdev)) {
		/* the probe failed */
		platform_device_unregister(emu_pdev);
		platform_driver_unregister(&emu_driver);
		return -ENODEV;
	}
	return 0;
}

static void __exit emu_exit(void)
{
	platform_device_unregister(emu_pdev);
	platform_driver_unregister(&emu_driver);
}

module_init(emu_init);
module_exit(emu_exit);
MODULE_DESCRIPTION("Emulated VFIO device for the tests of VFIO on iommufd");
MODULE_LICENSE("GPL");
