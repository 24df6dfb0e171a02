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
 *  - checks the SR-IOV VF token as VFIO_GROUP_GET_DEVICE_FD checks the
 *    "vf_token=" option of its device name: a VF of a PF on vfio-pci, or
 *    such a PF while its VFs are in use, binds only with the token set on
 *    the PF (vfio_cdev_check_token());
 *  - binds the device to the iommufd context (vfio/iommufd.c), which for a
 *    physical device claims DMA ownership of its whole iommu_group for the
 *    context and leaves the group's DMA blocked;
 *  - opens the device in its driver (open_device), once: a device has at
 *    most one bound descriptor. The driver finds in device->kvm the VM that
 *    KVM's VFIO device gave the descriptor while it was parked (VMMs
 *    register the cdev with KVM before they bind it), as the group path
 *    gives it the group's.
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
 * taken under it, only to count the bound devices, and so is the token
 * check (vfio-pci takes the PF's token lock in it). The descriptor's
 * access flag is written under the device set's lock with release
 * semantics and read locklessly with acquire semantics by the ioctl,
 * read, write and mmap paths. The descriptor's VM is kept under its own
 * spinlock: KVM sets it under its VFIO device's lock, which the device
 * set's lock must not nest in (drivers may take KVM's locks in
 * open_device).
 */
#include <linux/file.h>
#include <linux/iommufd.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uuid.h>
#include <linux/vfio.h>

#include "vfio.h"

static dev_t vfio_cdev_devt;

/**
 * struct vfio_cdev_file - an open descriptor of a device's cdev
 * @device: the device; the descriptor holds a registration reference
 * @ictx: the context the device is bound to, referenced; NULL while parked
 * @access: true once the bind completed: the device's ioctls, read, write
 *          and mmap work (written with release semantics)
 * @kvm_lock: protects @kvm
 * @kvm: the VM KVM's VFIO device registered this descriptor with, or NULL;
 *       not referenced (KVM clears it before the VM goes away), handed to
 *       the driver in device->kvm by the bind
 */
struct vfio_cdev_file {
	struct vfio_device *device;
	struct iommufd_ctx *ictx;
	bool access;
	spinlock_t kvm_lock;	/* protects kvm */
	struct kvm *kvm;
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
 * only open; the caller took the group's side. Undone by vfio_cdev_close().
 */
static int vfio_cdev_open_bound(struct vfio_cdev_file *cf,
				struct iommufd_ctx *ictx, u32 *dev_id)
{
	struct vfio_device *device = cf->device;
	int ret;

	lockdep_assert_held(&device->dev_set->lock);
	/* one bound descriptor per device */
	if (device->open_count)
		return -EINVAL;
	if (!try_module_get(device->dev->driver->owner))
		return -ENODEV;
	ret = vfio_iommufd_bind_device(device, ictx, dev_id);
	if (ret)
		goto err_module;
	device->open_count = 1;
	device->cdev_opened = true;
	/* as the group path: a driver that keeps the VM references it */
	spin_lock(&cf->kvm_lock);
	device->kvm = cf->kvm;
	spin_unlock(&cf->kvm_lock);
	if (device->ops->open_device) {
		ret = device->ops->open_device(device);
		if (ret)
			goto err_unbind;
	}
	return 0;

err_unbind:
	device->kvm = NULL;
	device->cdev_opened = false;
	device->open_count = 0;
	vfio_iommufd_unbind(device);
err_module:
	module_put(device->dev->driver->owner);
	return ret;
}

/* opposite of vfio_cdev_open_bound(); the caller then gives the group back */
static void vfio_cdev_close(struct vfio_device *device)
{
	lockdep_assert_held(&device->dev_set->lock);
	if (device->ops->close_device)
		device->ops->close_device(device);
	device->kvm = NULL;
	vfio_iommufd_unbind(device);
	device->cdev_opened = false;
	device->open_count = 0;
	module_put(device->dev->driver->owner);
}

/*
 * Copy the first @minsz bytes of an ioctl argument that starts, as those
 * of ATTACH and DETACH do, with argsz and flags: argsz must cover @minsz,
 * and no flag is defined.
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

/*
 * Copy VFIO_DEVICE_BIND_IOMMUFD's argument, which grew: token_uuid_ptr
 * came after out_devid. argsz must cover out_devid; what an older caller
 * does not pass reads as zero, and what a newer one passes beyond the
 * struct must be zero (-E2BIG).
 */
static int vfio_cdev_get_bind_arg(struct vfio_device_bind_iommufd *bind,
				  struct vfio_device_bind_iommufd __user *arg)
{
	const size_t minsz = offsetofend(struct vfio_device_bind_iommufd,
					 out_devid);
	u32 argsz;
	int ret;

	if (get_user(argsz, &arg->argsz))
		return -EFAULT;
	if (argsz < minsz)
		return -EINVAL;
	ret = copy_struct_from_user(bind, sizeof(*bind), arg, argsz);
	if (ret)
		return ret;
	if (bind->flags & ~VFIO_DEVICE_BIND_FLAG_TOKEN)
		return -EINVAL;
	return 0;
}

/*
 * The SR-IOV VF token, checked as VFIO_GROUP_GET_DEVICE_FD checks it. This
 * kernel has no device op for the token alone: the drivers that keep one,
 * vfio-pci and its variants, check it in their match op, from the
 * "vf_token=<UUID>" option after the device's name, and they are the only
 * drivers with a match op. So the op is asked about the device's own name,
 * with the caller's UUID appended when the flag is set; it answers 1 for
 * a good token or none needed, -EACCES for a missing or wrong one, -EINVAL
 * for one given where none is kept. A driver without the op, or one that
 * does not know the name, keeps no token: the flag is then refused.
 */
static int vfio_cdev_check_token(struct vfio_device *device,
				 const struct vfio_device_bind_iommufd *bind)
{
	bool token = bind->flags & VFIO_DEVICE_BIND_FLAG_TOKEN;
	uuid_t uuid;
	char *name;
	int ret;

	if (!device->ops->match)
		return token ? -EINVAL : 0;
	if (token) {
		if (copy_from_user(&uuid, u64_to_user_ptr(bind->token_uuid_ptr),
				   sizeof(uuid)))
			return -EFAULT;
		name = kasprintf(GFP_KERNEL, "%s vf_token=%pUb",
				 dev_name(device->dev), &uuid);
	} else {
		name = kstrdup(dev_name(device->dev), GFP_KERNEL);
	}
	if (!name)
		return -ENOMEM;
	ret = device->ops->match(device, name);
	kfree(name);
	if (ret < 0)
		return ret;
	if (!ret)
		return token ? -EINVAL : 0;
	return 0;
}

/* The context of the iommufd descriptor @fd, referenced. */
static struct iommufd_ctx *vfio_cdev_get_ictx(int fd)
{
	struct iommufd_ctx *ictx;
	struct fd f;

	f = fdget(fd);
	if (!f.file)
		return ERR_PTR(-EBADF);
	ictx = iommufd_ctx_from_file(f.file);
	fdput(f);
	return ictx;
}

static long vfio_cdev_bind(struct vfio_cdev_file *cf,
			   struct vfio_device_bind_iommufd __user *arg)
{
	struct vfio_device *device = cf->device;
	struct vfio_device_bind_iommufd bind;
	struct iommufd_ctx *ictx = NULL;
	u32 dev_id;
	long ret;

	ret = vfio_cdev_get_bind_arg(&bind, arg);
	if (ret)
		return ret;

	mutex_lock(&device->dev_set->lock);
	if (cf->ictx) {
		ret = -EINVAL;		/* this descriptor is bound already */
		goto out_unlock;
	}
	ret = vfio_cdev_take_group(device);
	if (ret)
		goto out_unlock;
	/* as the group path, before the device is bound or opened */
	ret = vfio_cdev_check_token(device, &bind);
	if (ret)
		goto out_group;
	ictx = vfio_cdev_get_ictx(bind.iommufd);
	if (IS_ERR(ictx)) {
		ret = PTR_ERR(ictx);
		ictx = NULL;
		goto out_group;
	}
	ret = vfio_cdev_open_bound(cf, ictx, &dev_id);
	if (ret)
		goto out_group;
	if (put_user(dev_id, &arg->out_devid)) {
		vfio_cdev_close(device);
		ret = -EFAULT;
		goto out_group;
	}
	cf->ictx = ictx;	/* the descriptor keeps the reference */
	smp_store_release(&cf->access, true);
	mutex_unlock(&device->dev_set->lock);
	return 0;

out_group:
	vfio_cdev_release_group(device);
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
	spin_lock_init(&cf->kvm_lock);
	filep->private_data = cf;
	return 0;
}

static int vfio_cdev_release(struct inode *inode, struct file *filep)
{
	struct vfio_cdev_file *cf = filep->private_data;
	struct vfio_device *device = cf->device;

	mutex_lock(&device->dev_set->lock);
	if (cf->ictx) {
		vfio_cdev_close(device);
		vfio_cdev_release_group(device);
	}
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
 * vfio_cdev_file_device - the device of a cdev descriptor
 * @file: any file
 *
 * Context: any context that holds a reference on @file.
 * Return: the device, bound or parked, if @file is a descriptor of a VFIO
 * device's cdev; NULL for any other file.
 */
struct vfio_device *vfio_cdev_file_device(struct file *file)
{
	struct vfio_cdev_file *cf = file->private_data;

	if (file->f_op != &vfio_cdev_fops)
		return NULL;
	return cf->device;
}

/**
 * vfio_cdev_file_set_kvm - give a cdev descriptor its VM, or take it back
 * @file: a descriptor of a VFIO device's cdev (vfio_cdev_file_device())
 * @kvm: the VM, or NULL
 *
 * The driver is handed @kvm when the descriptor is bound later; a device
 * bound already keeps the VM it was opened with, as on the group path.
 *
 * Context: process context; takes the descriptor's spinlock. KVM calls it
 * under its VFIO device's lock.
 */
void vfio_cdev_file_set_kvm(struct file *file, struct kvm *kvm)
{
	struct vfio_cdev_file *cf = file->private_data;

	spin_lock(&cf->kvm_lock);
	cf->kvm = kvm;
	spin_unlock(&cf->kvm_lock);
}

/**
 * vfio_cdev_file_enforced_coherent - whether a cdev's DMA always snoops
 * @file: a descriptor of a VFIO device's cdev (vfio_cdev_file_device())
 *
 * Once bound, the answer is the one the group path gives for the device:
 * whether the HWPT it is attached to enforces coherency. A parked device
 * (VMMs register the cdev with KVM before they bind it, and KVM asks only
 * then) has no domain yet, and 6.1's IOMMU drivers can't tell whether its
 * unit will enforce (VT-d claims coherency for every unit): it is not
 * coherent, as a group on an iommufd whose devices are not yet open is
 * not. That costs a VM only the emulation of its cache flushes; the other
 * answer could let no-snoop DMA go past caches the guest thinks flushed.
 *
 * Context: process context; takes the device set's lock.
 * Return: true if no DMA of the device can bypass the CPU caches.
 */
bool vfio_cdev_file_enforced_coherent(struct file *file)
{
	struct vfio_cdev_file *cf = file->private_data;
	struct vfio_device *device = cf->device;
	bool ret;

	mutex_lock(&device->dev_set->lock);
	ret = cf->ictx && vfio_iommufd_enforced_coherent(device);
	mutex_unlock(&device->dev_set->lock);
	return ret;
}

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
