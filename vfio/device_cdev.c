// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/vfio/devices/vfioX: a character device per VFIO device, used with
 * an iommufd instead of a VFIO group and container. This file is kept
 * with iommufd and linked into drivers/vfio by the build.
 *
 * Theory of operation. Opening the cdev gives a *parked* descriptor: it
 * holds a registration reference on the device (so the device stays
 * registered, and an unregistering driver asks for it back through the
 * request op), and nothing else. Its only working ioctl is
 * VFIO_DEVICE_BIND_IOMMUFD; everything else, including read, write and
 * mmap, fails with -EINVAL. Binding
 *  - takes the group's side: a group whose /dev/vfio/$GROUP is open can't
 *    have devices bound here (-EBUSY), and while one is bound the group
 *    can't be opened;
 *  - binds the device to the iommufd context (vfio/iommufd.c), which for a
 *    physical device claims DMA ownership of its whole iommu_group for the
 *    context and leaves the group's DMA blocked;
 *  - opens the device in its driver (open_device), once: a device has at
 *    most one bound descriptor.
 * Only then is the descriptor granted access to the device. Its DMA goes
 * anywhere only after VFIO_DEVICE_ATTACH_IOMMUFD_PT; attaching again
 * replaces the page table, VFIO_DEVICE_DETACH_IOMMUFD_PT blocks the DMA
 * again. The last close of the descriptor undoes the bind in reverse
 * order: close_device, detach and unbind (the group returns to its
 * default domain only after the driver's close), the group's side, the
 * registration.
 *
 * Locking: the device set's lock serialises bind, attach, detach and
 * release of all descriptors of a device (and, through the group path's
 * use of it, against group opens of the same device); the group lock is
 * taken under it, only to count the bound devices. The descriptor's
 * access flag is written under the device set's lock with release
 * semantics and read locklessly with acquire semantics by the ioctl,
 * read, write and mmap paths.
 */
#include <linux/file.h>
#include <linux/iommufd.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "vfio.h"

static dev_t vfio_cdev_devt;

/**
 * struct vfio_cdev_file - an open descriptor of a device's cdev
 * @device: the device; the descriptor holds a registration reference
 * @ictx: the context the device is bound to, referenced; NULL while parked
 * @access: true once the bind completed: the device's ioctls, read, write
 *          and mmap work (written with release semantics)
 */
struct vfio_cdev_file {
	struct vfio_device *device;
	struct iommufd_ctx *ictx;
	bool access;
};

/* whether a bound descriptor may reach the device */
static bool vfio_cdev_granted(struct vfio_cdev_file *cf)
{
	/* pairs with smp_store_release() in vfio_cdev_bind() */
	return smp_load_acquire(&cf->access);
}

/* The device is bound here: its group can't be opened meanwhile. */
static int vfio_cdev_take_group(struct vfio_device *device)
{
	struct vfio_group *group = device->group;
	int ret = 0;

	mutex_lock(&group->group_lock);
	if (group->opened_file)
		ret = -EBUSY;
	else
		group->cdev_binds++;
	mutex_unlock(&group->group_lock);
	return ret;
}

static void vfio_cdev_release_group(struct vfio_device *device)
{
	struct vfio_group *group = device->group;

	mutex_lock(&group->group_lock);
	WARN_ON(!group->cdev_binds);
	group->cdev_binds--;
	mutex_unlock(&group->group_lock);
}

/*
 * Bind @device to @ictx and open it in its driver, the device's first and
 * only open. Undone by vfio_cdev_close().
 */
static int vfio_cdev_open_bound(struct vfio_device *device,
				struct iommufd_ctx *ictx, u32 *dev_id)
{
	int ret;

	lockdep_assert_held(&device->dev_set->lock);
	/* one bound descriptor per device */
	if (device->open_count)
		return -EINVAL;
	if (!try_module_get(device->dev->driver->owner))
		return -ENODEV;
	ret = vfio_cdev_take_group(device);
	if (ret)
		goto err_module;
	ret = vfio_iommufd_bind_device(device, ictx, dev_id);
	if (ret)
		goto err_group;
	device->open_count = 1;
	if (device->ops->open_device) {
		ret = device->ops->open_device(device);
		if (ret)
			goto err_unbind;
	}
	return 0;

err_unbind:
	device->open_count = 0;
	vfio_iommufd_unbind(device);
err_group:
	vfio_cdev_release_group(device);
err_module:
	module_put(device->dev->driver->owner);
	return ret;
}

static void vfio_cdev_close(struct vfio_device *device)
{
	lockdep_assert_held(&device->dev_set->lock);
	if (device->ops->close_device)
		device->ops->close_device(device);
	vfio_iommufd_unbind(device);
	device->open_count = 0;
	vfio_cdev_release_group(device);
	module_put(device->dev->driver->owner);
}

/*
 * Copy the first @minsz bytes of an ioctl argument that starts, as the
 * three of the cdev do, with argsz and flags: argsz must cover @minsz, and
 * no flag is defined.
 */
static int vfio_cdev_get_arg(void *karg, const void __user *uarg,
			     size_t minsz)
{
	const u32 *head = karg;		/* argsz, flags */

	if (copy_from_user(karg, uarg, minsz))
		return -EFAULT;
	if (head[0] < minsz || head[1])
		return -EINVAL;
	return 0;
}

static long vfio_cdev_bind(struct vfio_cdev_file *cf,
			   struct vfio_device_bind_iommufd __user *arg)
{
	const size_t minsz = offsetofend(struct vfio_device_bind_iommufd,
					 out_devid);
	struct vfio_device *device = cf->device;
	struct vfio_device_bind_iommufd bind;
	struct iommufd_ctx *ictx;
	struct fd f;
	u32 dev_id;
	long ret;

	ret = vfio_cdev_get_arg(&bind, arg, minsz);
	if (ret)
		return ret;
	f = fdget(bind.iommufd);
	if (!f.file)
		return -EBADF;
	ictx = iommufd_ctx_from_file(f.file);
	fdput(f);
	if (IS_ERR(ictx))
		return PTR_ERR(ictx);

	mutex_lock(&device->dev_set->lock);
	if (cf->ictx) {
		ret = -EINVAL;		/* this descriptor is bound already */
		goto out_unlock;
	}
	ret = vfio_cdev_open_bound(device, ictx, &dev_id);
	if (ret)
		goto out_unlock;
	if (put_user(dev_id, &arg->out_devid)) {
		vfio_cdev_close(device);
		ret = -EFAULT;
		goto out_unlock;
	}
	cf->ictx = ictx;
	ictx = NULL;		/* kept by the descriptor */
	smp_store_release(&cf->access, true);
out_unlock:
	mutex_unlock(&device->dev_set->lock);
	if (ictx)
		iommufd_ctx_put(ictx);
	return ret;
}

static long vfio_cdev_attach(struct vfio_cdev_file *cf,
			     struct vfio_device_attach_iommufd_pt __user *arg)
{
	const size_t minsz = offsetofend(struct vfio_device_attach_iommufd_pt,
					 pt_id);
	struct vfio_device *device = cf->device;
	struct vfio_device_attach_iommufd_pt attach;
	long ret;

	ret = vfio_cdev_get_arg(&attach, arg, minsz);
	if (ret)
		return ret;
	mutex_lock(&device->dev_set->lock);
	ret = vfio_iommufd_attach_pt(device, &attach.pt_id);
	if (!ret && put_user(attach.pt_id, &arg->pt_id)) {
		/* userspace does not learn the HWPT: leave it detached */
		vfio_iommufd_detach_pt(device);
		ret = -EFAULT;
	}
	mutex_unlock(&device->dev_set->lock);
	return ret;
}

static long vfio_cdev_detach(struct vfio_cdev_file *cf,
			     struct vfio_device_detach_iommufd_pt __user *arg)
{
	const size_t minsz = offsetofend(struct vfio_device_detach_iommufd_pt,
					 flags);
	struct vfio_device *device = cf->device;
	struct vfio_device_detach_iommufd_pt detach;
	int ret;

	ret = vfio_cdev_get_arg(&detach, arg, minsz);
	if (ret)
		return ret;
	mutex_lock(&device->dev_set->lock);
	vfio_iommufd_detach_pt(device);
	mutex_unlock(&device->dev_set->lock);
	return 0;
}

static long vfio_cdev_ioctl(struct file *filep, unsigned int cmd,
			    unsigned long arg)
{
	struct vfio_cdev_file *cf = filep->private_data;
	void __user *uarg = (void __user *)arg;

	if (cmd == VFIO_DEVICE_BIND_IOMMUFD)
		return vfio_cdev_bind(cf, uarg);
	if (!vfio_cdev_granted(cf))
		return -EINVAL;
	switch (cmd) {
	case VFIO_DEVICE_ATTACH_IOMMUFD_PT:
		return vfio_cdev_attach(cf, uarg);
	case VFIO_DEVICE_DETACH_IOMMUFD_PT:
		return vfio_cdev_detach(cf, uarg);
	default:
		return vfio_device_ioctl(cf->device, cmd, arg);
	}
}

static ssize_t vfio_cdev_read(struct file *filep, char __user *buf,
			      size_t count, loff_t *ppos)
{
	struct vfio_cdev_file *cf = filep->private_data;

	if (!vfio_cdev_granted(cf))
		return -EINVAL;
	return vfio_device_read(cf->device, buf, count, ppos);
}

static ssize_t vfio_cdev_write(struct file *filep, const char __user *buf,
			       size_t count, loff_t *ppos)
{
	struct vfio_cdev_file *cf = filep->private_data;

	if (!vfio_cdev_granted(cf))
		return -EINVAL;
	return vfio_device_write(cf->device, buf, count, ppos);
}

static int vfio_cdev_mmap(struct file *filep, struct vm_area_struct *vma)
{
	struct vfio_cdev_file *cf = filep->private_data;

	if (!vfio_cdev_granted(cf))
		return -EINVAL;
	return vfio_device_mmap(cf->device, vma);
}

static int vfio_cdev_open(struct inode *inode, struct file *filep)
{
	struct vfio_device *device =
		container_of(inode->i_cdev, struct vfio_device, cdev);
	struct vfio_cdev_file *cf;

	/* a device being unregistered takes no new descriptors */
	if (!vfio_device_try_get_registration(device))
		return -ENODEV;
	cf = kzalloc(sizeof(*cf), GFP_KERNEL_ACCOUNT);
	if (!cf) {
		vfio_device_put_registration(device);
		return -ENOMEM;
	}
	cf->device = device;
	filep->private_data = cf;
	return 0;
}

static int vfio_cdev_release(struct inode *inode, struct file *filep)
{
	struct vfio_cdev_file *cf = filep->private_data;
	struct vfio_device *device = cf->device;

	mutex_lock(&device->dev_set->lock);
	if (cf->ictx)
		vfio_cdev_close(device);
	mutex_unlock(&device->dev_set->lock);
	if (cf->ictx)
		iommufd_ctx_put(cf->ictx);
	vfio_device_put_registration(device);
	kfree(cf);
	return 0;
}

static const struct file_operations vfio_cdev_fops = {
	.owner		= THIS_MODULE,
	.open		= vfio_cdev_open,
	.release	= vfio_cdev_release,
	.read		= vfio_cdev_read,
	.write		= vfio_cdev_write,
	.unlocked_ioctl	= vfio_cdev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= vfio_cdev_mmap,
};

/**
 * vfio_device_cdev_init - give a device being initialised its cdev
 * @device: the device; its index is its minor
 *
 * Context: process context, from vfio_init_device().
 */
void vfio_device_cdev_init(struct vfio_device *device)
{
	device->device.devt = MKDEV(MAJOR(vfio_cdev_devt), device->index);
	cdev_init(&device->cdev, &vfio_cdev_fops);
	device->cdev.owner = THIS_MODULE;
}

/**
 * vfio_device_cdev_add - register a device and its cdev
 * @device: the device, named already
 *
 * Context: process context, from the device's registration.
 * Return: 0 or the error of cdev_device_add().
 */
int vfio_device_cdev_add(struct vfio_device *device)
{
	return cdev_device_add(&device->cdev, &device->device);
}

/**
 * vfio_device_cdev_del - opposite of vfio_device_cdev_add()
 * @device: the device being unregistered; open descriptors stay valid
 *
 * Context: process context.
 */
void vfio_device_cdev_del(struct vfio_device *device)
{
	cdev_device_del(&device->cdev, &device->device);
}

/* cdevs appear in /dev/vfio/devices/ */
static char *vfio_cdev_devnode(struct device *dev, umode_t *mode)
{
	return kasprintf(GFP_KERNEL, "vfio/devices/%s", dev_name(dev));
}

/**
 * vfio_cdev_init - reserve the cdevs' numbers at VFIO's init
 * @device_class: the vfio-dev class, whose devices get the cdevs
 *
 * Context: module init.
 * Return: 0 or the error of alloc_chrdev_region().
 */
int __init vfio_cdev_init(struct class *device_class)
{
	device_class->devnode = vfio_cdev_devnode;
	return alloc_chrdev_region(&vfio_cdev_devt, 0, MINORMASK + 1,
				   "vfio-dev");
}

/**
 * vfio_cdev_cleanup - opposite of vfio_cdev_init()
 *
 * Context: module exit.
 */
void vfio_cdev_cleanup(void)
{
	unregister_chrdev_region(vfio_cdev_devt, MINORMASK + 1);
}
