// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm-vfio: KVM's VFIO pseudo device (KVM_DEV_TYPE_VFIO) given VFIO device
 * cdevs, as QEMU's iommufd backend gives them: registered while parked,
 * then bound, attached and used, then removed.
 *
 *   kvm-vfio <bdf>        an edu alone in its iommu_group, on vfio-pci
 *
 *  - the attribute group is KVM_DEV_VFIO_FILE, whose ADD and DEL are the
 *    numbers of the older GROUP names;
 *  - a parked cdev is taken; the same file twice is EEXIST, a file that is
 *    not VFIO's (/dev/iommu, /dev/null) EINVAL, a closed fd EBADF, and
 *    none of these changes what is registered;
 *  - the registered cdev binds, attaches and does DMA as without KVM;
 *  - DEL takes it out; a second DEL is ENOENT;
 *  - KVM holds the file: a cdev closed by its user while registered stays
 *    bound (the group can't be opened) until the VM ends, and is then
 *    released whole (it binds again); the VM's end leaves a cdev its user
 *    still has bound;
 *  - a group file is still taken.
 * Prints TAP; exits 0 only if every check passed.
 */
#include <linux/kvm.h>

#include "edu.h"

#define LEN (2 * 1024 * 1024)

static int file_attr(int kdev, __u64 attr, int fd)
{
	__s32 val = fd;
	struct kvm_device_attr a = {
		.group = KVM_DEV_VFIO_FILE,
		.attr = attr,
		.addr = (__u64)(unsigned long)&val,
	};

	return ioctl(kdev, KVM_SET_DEVICE_ATTR, &a);
}

static void check_errno(int ret, int err, const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s: %s (%s)", what, strerror(err),
		 ret ? strerror(errno) : "succeeded");
	ok(ret != 0 && errno == err, msg);
}

struct vm {
	int kvm, vm, kdev;
};

/* a VM and its VFIO pseudo device */
static void vm_open(struct vm *v)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_VFIO };

	v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm < 0)
		die("open /dev/kvm");
	v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
	if (v->vm < 0)
		die("KVM_CREATE_VM");
	if (ioctl(v->vm, KVM_CREATE_DEVICE, &cd))
		die("KVM_CREATE_DEVICE KVM_DEV_TYPE_VFIO");
	v->kdev = cd.fd;
}

static void vm_close(struct vm *v)
{
	close(v->kdev);
	close(v->vm);
	close(v->kvm);
}

static int bind(int dev, int iommufd)
{
	struct vfio_device_bind_iommufd b = {
		.argsz = sizeof(b),
		.iommufd = iommufd,
	};

	return ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b);
}

static int attach_new_ioas(int dev, int iommufd, __u32 *ioas)
{
	struct iommu_ioas_alloc al = { .size = sizeof(al) };
	struct vfio_device_attach_iommufd_pt a = { .argsz = sizeof(a) };

	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &al))
		return -1;
	*ioas = al.out_ioas_id;
	a.pt_id = *ioas;
	return ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);
}

/* whether the group of @bdf can be opened now (and closes it again) */
static int group_opens(const char *bdf)
{
	char path[PATH_MAX];
	int fd = open(group_path(bdf, path, sizeof(path)), O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static void attributes(void)
{
	struct kvm_device_attr a = { .group = KVM_DEV_VFIO_FILE };
	struct vm v;

	/* the numbers, as mainline's uAPI has them */
	static const unsigned int want[][3] = {
		{ KVM_DEV_VFIO_FILE, KVM_DEV_VFIO_GROUP, 1 },
		{ KVM_DEV_VFIO_FILE_ADD, KVM_DEV_VFIO_GROUP_ADD, 1 },
		{ KVM_DEV_VFIO_FILE_DEL, KVM_DEV_VFIO_GROUP_DEL, 2 },
	};
	unsigned int i, same = 1;

	for (i = 0; i < 3; i++)
		if (want[i][0] != want[i][2] || want[i][1] != want[i][2])
			same = 0;
	printf("# --- the attribute group ---\n");
	ok(same, "KVM_DEV_VFIO_FILE, _ADD and _DEL are 1, 1 and 2, as the GROUP names");
	vm_open(&v);
	a.attr = KVM_DEV_VFIO_FILE_ADD;
	ok(!ioctl(v.kdev, KVM_HAS_DEVICE_ATTR, &a), "KVM_HAS_DEVICE_ATTR FILE_ADD");
	a.attr = KVM_DEV_VFIO_FILE_DEL;
	ok(!ioctl(v.kdev, KVM_HAS_DEVICE_ATTR, &a), "KVM_HAS_DEVICE_ATTR FILE_DEL");
	vm_close(&v);
}

/* QEMU's order: register the parked cdev, bind, attach, DMA, DEL, close */
static void qemu_order(const char *bdf)
{
	unsigned char *src = anon_buffer(LEN), *dst = anon_buffer(LEN);
	int iommufd, dev, null, closed;
	__u32 ioas;
	struct edu e;
	struct vm v;

	printf("# --- a parked cdev registered, then used (%s) ---\n", bdf);
	vm_open(&v);
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (iommufd < 0)
		die("open /dev/iommu");
	dev = open_cdev(bdf);
	ok(!file_attr(v.kdev, KVM_DEV_VFIO_FILE_ADD, dev),
	   "FILE_ADD of the parked cdev");
	check_errno(file_attr(v.kdev, KVM_DEV_VFIO_FILE_ADD, dev), EEXIST,
		    "FILE_ADD of it again");
	check_errno(file_attr(v.kdev, KVM_DEV_VFIO_FILE_ADD, iommufd), EINVAL,
		    "FILE_ADD of /dev/iommu");
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	check_errno(file_attr(v.kdev, KVM_DEV_VFIO_FILE_ADD, null), EINVAL,
		    "FILE_ADD of /dev/null");
	check_errno(file_attr(v.kdev, KVM_DEV_VFIO_FILE_DEL, null), ENOENT,
		    "FILE_DEL of a file never added");
	closed = dup(null);
	close(closed);
	check_errno(file_attr(v.kdev, KVM_DEV_VFIO_FILE_ADD, closed), EBADF,
		    "FILE_ADD of a closed fd");
	close(null);

	ok(!bind(dev, iommufd), "the registered cdev binds");
	ok(!attach_new_ioas(dev, iommufd, &ioas), "and attaches to an IOAS");
	fill(src, LEN, 0x3c);
	memset(dst, 0xee, LEN);
	if (map_native(iommufd, ioas, src, IOVA_SRC, LEN) ||
	    map_native(iommufd, ioas, dst, IOVA_DST, LEN))
		die("IOMMU_IOAS_MAP");
	edu_setup(&e, dev);
	ok(edu_dma(&e, IOVA_SRC, EDU_BUF, XFER, 0) == 0 &&
	   edu_dma(&e, EDU_BUF, IOVA_DST + 4096, XFER, 1) == 0,
	   "DMA RAM -> edu -> RAM while registered with KVM");
	ok(!memcmp(dst + 4096, src, XFER) && dst[4095] == 0xee &&
	   dst[4096 + XFER] == 0xee, "the bytes arrived, nothing else");

	ok(!file_attr(v.kdev, KVM_DEV_VFIO_FILE_DEL, dev),
	   "FILE_DEL of the bound cdev");
	check_errno(file_attr(v.kdev, KVM_DEV_VFIO_FILE_DEL, dev), ENOENT,
		    "FILE_DEL of it again");
	ok(!file_attr(v.kdev, KVM_DEV_VFIO_FILE_ADD, dev),
	   "FILE_ADD of the bound cdev");
	ok(!file_attr(v.kdev, KVM_DEV_VFIO_FILE_DEL, dev),
	   "and FILE_DEL again");
	close(dev);
	close(iommufd);
	vm_close(&v);
	ok(group_opens(bdf), "once closed, the device's group opens");
	munmap(src, LEN);
	munmap(dst, LEN);
}

/*
 * A VM, and the cdev of @bdf registered with it, bound to a new iommufd
 * (*@iommufd) and attached to an IOAS there: the cdev's descriptor.
 */
static int cdev_in_vm(struct vm *v, const char *bdf, int *iommufd)
{
	__u32 ioas;
	int dev;

	vm_open(v);
	*iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (*iommufd < 0)
		die("open /dev/iommu");
	dev = open_cdev(bdf);
	if (file_attr(v->kdev, KVM_DEV_VFIO_FILE_ADD, dev) ||
	    bind(dev, *iommufd) || attach_new_ioas(dev, *iommufd, &ioas))
		die("register, bind and attach the cdev");
	return dev;
}

/*
 * KVM's reference: a cdev its user closed while KVM holds it stays bound
 * until the VM ends, and is then released whole.
 */
static void kvm_holds(const char *bdf)
{
	int iommufd, dev;
	struct vm v;

	printf("# --- a cdev closed while KVM holds it ---\n");
	dev = cdev_in_vm(&v, bdf, &iommufd);
	close(dev);
	close(iommufd);
	ok(!group_opens(bdf),
	   "closed by its user but held by KVM, the cdev is still bound");
	/* the fd number is gone: DEL needs a descriptor of the file */
	check_errno(file_attr(v.kdev, KVM_DEV_VFIO_FILE_DEL, dev), EBADF,
		    "FILE_DEL through the closed fd");
	vm_close(&v);
	ok(group_opens(bdf), "after the VM's end the device's group opens");
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	dev = open_cdev(bdf);
	ok(iommufd >= 0 && !bind(dev, iommufd), "and the cdev binds again");
	close(dev);
	close(iommufd);
}

/* the VM's end while the user still has the cdev: only KVM's ref goes */
static void vm_end_keeps_user(const char *bdf)
{
	int iommufd, dev;
	struct vm v;

	printf("# --- the VM ends while the user keeps the cdev ---\n");
	dev = cdev_in_vm(&v, bdf, &iommufd);
	vm_close(&v);
	ok(!group_opens(bdf), "the VM's end leaves the user's cdev bound");
	ok(!bind(dev, iommufd) ? 0 : errno == EINVAL,
	   "and still bound: a second BIND is EINVAL");
	close(dev);
	close(iommufd);
	ok(group_opens(bdf), "closed by the user, the device's group opens");
}

static void group_file(const char *bdf)
{
	char path[PATH_MAX];
	int group;
	struct vm v;

	printf("# --- a group file ---\n");
	vm_open(&v);
	group = open(group_path(bdf, path, sizeof(path)), O_RDWR | O_CLOEXEC);
	if (group < 0)
		die("open the group");
	ok(!file_attr(v.kdev, KVM_DEV_VFIO_GROUP_ADD, group),
	   "GROUP_ADD of a group file");
	ok(!file_attr(v.kdev, KVM_DEV_VFIO_FILE_DEL, group),
	   "FILE_DEL of it");
	close(group);
	vm_close(&v);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s <bdf>\n", argv[0]);
		return 2;
	}
	printf("TAP version 13\n");
	attributes();
	qemu_order(argv[1]);
	kvm_holds(argv[1]);
	vm_end_keeps_user(argv[1]);
	group_file(argv[1]);
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
