// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommufd: the /dev/iommu character device.
 *
 * Theory of operation
 * -------------------
 * /dev/iommu is a misc device. Each open() creates a struct iommufd_ctx and
 * stores it in file->private_data; the context is the security boundary of
 * the subsystem: objects created through a file are reachable only through
 * that file, and close() releases all of them. No global state is shared
 * between contexts.
 *
 * Every command goes through one ioctl entry point. The ioctl number is
 * _IO(IOMMUFD_TYPE, nr); iommufd_cmd_index() maps it to a slot of the
 * command table, and anything that is not exactly such a number in the
 * table's range is answered with -ENOTTY, as the uAPI promises. The command
 * structures carry their own size in their first word (see the uAPI header),
 * which is why the number itself encodes neither size nor direction.
 *
 * Locking: the context has no lock of its own yet; the lock order of the
 * subsystem is documented in io_pagetable.h once there is more than one.
 */
#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

/*
 * The command table, indexed by nr - IOMMUFD_CMD_BASE. A slot without a
 * handler is a number the uAPI reserves but this kernel does not implement.
 */
struct iommufd_cmd_op {
	int (*execute)(struct iommufd_ctx *ictx, void __user *arg);
};

static const struct iommufd_cmd_op iommufd_cmd_ops[] = {};

/**
 * iommufd_cmd_index - map an ioctl number to a slot of the command table
 * @cmd: the ioctl number passed by userspace
 * @ncmds: number of slots in the command table
 *
 * Only _IO(IOMMUFD_TYPE, nr) numbers with IOMMUFD_CMD_BASE <= nr <
 * IOMMUFD_CMD_BASE + @ncmds are commands; a number with the right nr but
 * with direction or size bits set is a different number and is not one.
 *
 * Return: the table slot, or -ENOTTY if @cmd is not an iommufd command.
 */
int iommufd_cmd_index(unsigned int cmd, unsigned int ncmds)
{
	unsigned int nr = _IOC_NR(cmd);

	if (cmd != _IO(IOMMUFD_TYPE, nr))
		return -ENOTTY;
	if (nr < IOMMUFD_CMD_BASE || nr - IOMMUFD_CMD_BASE >= ncmds)
		return -ENOTTY;
	return nr - IOMMUFD_CMD_BASE;
}

static long iommufd_fops_ioctl(struct file *filp, unsigned int cmd,
			       unsigned long arg)
{
	struct iommufd_ctx *ictx = filp->private_data;
	const struct iommufd_cmd_op *op;
	int idx;

	idx = iommufd_cmd_index(cmd, ARRAY_SIZE(iommufd_cmd_ops));
	if (idx < 0)
		return idx;
	op = &iommufd_cmd_ops[idx];
	if (!op->execute)
		return -ENOTTY;
	return op->execute(ictx, (void __user *)arg);
}

static int iommufd_fops_open(struct inode *inode, struct file *filp)
{
	struct iommufd_ctx *ictx;

	ictx = kzalloc(sizeof(*ictx), GFP_KERNEL_ACCOUNT);
	if (!ictx)
		return -ENOMEM;
	ictx->file = filp;
	filp->private_data = ictx;
	return 0;
}

static int iommufd_fops_release(struct inode *inode, struct file *filp)
{
	kfree(filp->private_data);
	return 0;
}

static const struct file_operations iommufd_fops = {
	.owner = THIS_MODULE,
	.open = iommufd_fops_open,
	.release = iommufd_fops_release,
	.unlocked_ioctl = iommufd_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice iommufd_misc_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "iommu",
	.fops = &iommufd_fops,
	.nodename = "iommu",
	.mode = 0660,
};

static int __init iommufd_init(void)
{
	return misc_register(&iommufd_misc_dev);
}

static void __exit iommufd_exit(void)
{
	misc_deregister(&iommufd_misc_dev);
}

module_init(iommufd_init);
module_exit(iommufd_exit);

MODULE_DESCRIPTION("I/O Address Space Management for passthrough devices");
MODULE_LICENSE("GPL");
