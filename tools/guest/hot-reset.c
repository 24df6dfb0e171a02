// SPDX-License-Identifier: GPL-2.0-only
/*
 * hot-reset: the PCI hot reset of a device opened through its VFIO cdev,
 * whose user proves with its iommufd that it owns every device the reset
 * touches (VFIO_PCI_HOT_RESET_FLAG_DEV_ID, an empty fd array), as QEMU 10
 * resets a device without FLR at machine start.
 *
 *   hot-reset <fn0-bdf> <fn1-bdf>
 *
 * The two functions of an e1000e slot behind a PCIe root port, on
 * vfio-pci, one iommu_group: neither has FLR, so a reset of one resets
 * the secondary bus of the port, and both. That it happened is seen in
 * a register of BAR0 (RDBAL, which the reset clears).
 *  - through the cdev: GET_PCI_HOT_RESET_INFO is ENOSPC with the count
 *    for a short buffer; then says DEV_ID and DEV_ID_OWNED, gives the
 *    device's own ID, VFIO_PCI_DEVID_OWNED for the other function (its
 *    group is owned), then its ID once it is bound too;
 *  - PCI_HOT_RESET with count 0 resets both; with a group fd it is EINVAL;
 *    a bad argsz or flag is EINVAL; none of these resets anything;
 *  - the other function without a driver: VFIO_PCI_DEVID_NOT_OWNED, no
 *    DEV_ID_OWNED, and the reset is EINVAL and resets nothing;
 *  - through the group (an iommufd container): flags 0, group IDs, count
 *    0 is EINVAL and the group's fd resets.
 * Prints TAP; exits 0 only if every check passed.
 */
#include "edu.h"

#define RDBAL 0x2800	/* e1000e: receive descriptor base, low */
#define MARK 0x12345000u
#define MAX_DEVS 8

struct info {
	struct vfio_pci_hot_reset_info hdr;
	struct vfio_pci_dependent_device devs[MAX_DEVS];
};

static void check_errno(int ret, int err, const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s: %s (%s)", what, strerror(err),
		 ret ? strerror(errno) : "succeeded");
	ok(ret != 0 && errno == err, msg);
}

static int get_info(int dev, struct info *in)
{
	memset(in, 0, sizeof(*in));
	in->hdr.argsz = sizeof(*in);
	return ioctl(dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, in);
}

/* the entry for @bdf ("0000:01:00.1"), or NULL */
static struct vfio_pci_dependent_device *
entry(struct info *in, const char *bdf)
{
	unsigned int seg, bus, slot, fn, i;

	if (sscanf(bdf, "%x:%x:%x.%x", &seg, &bus, &slot, &fn) != 4)
		return NULL;
	for (i = 0; i < in->hdr.count && i < MAX_DEVS; i++)
		if (in->devs[i].segment == seg && in->devs[i].bus == bus &&
		    in->devs[i].devfn == ((slot << 3) | fn))
			return &in->devs[i];
	return NULL;
}

static int reset(int dev, __u32 argsz, __u32 flags, int count, int fd)
{
	struct {
		struct vfio_pci_hot_reset hdr;
		__s32 fds[1];
	} r = {
		.hdr.argsz = argsz,
		.hdr.flags = flags,
		.hdr.count = count,
		.fds = { fd },
	};

	return ioctl(dev, VFIO_DEVICE_PCI_HOT_RESET, &r);
}

static int bind(int dev, int iommufd, __u32 *dev_id)
{
	struct vfio_device_bind_iommufd b = {
		.argsz = sizeof(b),
		.iommufd = iommufd,
	};
	int ret = ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b);

	if (!ret)
		*dev_id = b.out_devid;
	return ret;
}

/* set RDBAL of the device to MARK: a reset will clear it */
static void mark(struct edu *e)
{
	wr32(e, RDBAL, MARK);
	if (rd32(e, RDBAL) != MARK)
		die("RDBAL does not keep what is written");
}

static int driver_is(const char *bdf, const char *drv)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return !*drv;
	link[n] = 0;
	return !strcmp(strrchr(link, '/') + 1, drv);
}

static void set_vfio(const char *bdf, int on)
{
	char path[PATH_MAX];

	if (driver_is(bdf, on ? "vfio-pci" : ""))
		return;
	if (!driver_is(bdf, "")) {
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver/unbind", bdf);
		write_file(path, bdf);
	}
	if (!on)
		return;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	write_file(path, "vfio-pci");
	write_file("/sys/bus/pci/drivers_probe", bdf);
	if (!driver_is(bdf, "vfio-pci"))
		die("bind to vfio-pci");
}

static void cdev_path_checks(const char *fn0, const char *fn1)
{
	struct vfio_pci_dependent_device *d0, *d1;
	__u32 id0, id1;
	struct info in;
	int iommufd, dev0, dev1;
	struct edu e;

	printf("# --- through the cdev (%s, %s) ---\n", fn0, fn1);
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (iommufd < 0)
		die("open /dev/iommu");
	dev0 = open_cdev(fn0);
	if (bind(dev0, iommufd, &id0))
		die("bind fn0");
	edu_setup(&e, dev0);

	memset(&in, 0, sizeof(in));
	in.hdr.argsz = sizeof(in.hdr);
	check_errno(ioctl(dev0, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &in),
		    ENOSPC, "GET_PCI_HOT_RESET_INFO with room for no entry");
	ok(in.hdr.count == 2, "and it says 2 devices are affected");

	ok(!get_info(dev0, &in), "GET_PCI_HOT_RESET_INFO");
	printf("# flags %#x count %u\n", in.hdr.flags, in.hdr.count);
	ok(in.hdr.flags == (VFIO_PCI_HOT_RESET_FLAG_DEV_ID |
			    VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED),
	   "flags are DEV_ID | DEV_ID_OWNED");
	d0 = entry(&in, fn0);
	d1 = entry(&in, fn1);
	ok(in.hdr.count == 2 && d0 && d1, "both functions are listed");
	ok(d0 && d0->devid == id0, "fn0's entry is its device ID");
	ok(d1 && d1->devid == VFIO_PCI_DEVID_OWNED,
	   "fn1, not bound but in the owned group, is VFIO_PCI_DEVID_OWNED");

	dev1 = open_cdev(fn1);
	if (bind(dev1, iommufd, &id1))
		die("bind fn1");
	ok(!get_info(dev0, &in) && (d1 = entry(&in, fn1)) && d1->devid == id1,
	   "bound to the same iommufd, fn1's entry is its ID");
	close(dev1);

	/* refused resets reset nothing */
	mark(&e);
	check_errno(reset(dev0, sizeof(struct vfio_pci_hot_reset) - 1, 0, 0,
			  -1), EINVAL, "PCI_HOT_RESET with a short argsz");
	check_errno(reset(dev0, sizeof(struct vfio_pci_hot_reset), 1, 0, -1),
		    EINVAL, "PCI_HOT_RESET with an unknown flag");
	check_errno(reset(dev0, sizeof(struct vfio_pci_hot_reset) + 4, 0, 1,
			  iommufd), EINVAL,
		    "PCI_HOT_RESET of a cdev's device with an fd array");
	ok(rd32(&e, RDBAL) == MARK, "none of those reset the device");

	ok(!reset(dev0, sizeof(struct vfio_pci_hot_reset), 0, 0, -1),
	   "PCI_HOT_RESET with an empty array, owned through the iommufd");
	ok(rd32(&e, RDBAL) == 0, "it reset the device (RDBAL cleared)");

	/* fn1 without a driver: in the group, but not a VFIO device */
	set_vfio(fn1, 0);
	mark(&e);
	ok(!get_info(dev0, &in), "GET_PCI_HOT_RESET_INFO, fn1 driverless");
	d1 = entry(&in, fn1);
	ok(in.hdr.flags == VFIO_PCI_HOT_RESET_FLAG_DEV_ID,
	   "flags are DEV_ID alone");
	ok(d1 && d1->devid == (__u32)VFIO_PCI_DEVID_NOT_OWNED,
	   "fn1 is VFIO_PCI_DEVID_NOT_OWNED");
	check_errno(reset(dev0, sizeof(struct vfio_pci_hot_reset), 0, 0, -1),
		    EINVAL, "PCI_HOT_RESET with a device not owned");
	ok(rd32(&e, RDBAL) == MARK, "and nothing was reset");
	set_vfio(fn1, 1);

	close(dev0);
	close(iommufd);
}

static void group_path_checks(const char *fn0, const char *fn1)
{
	struct vfio_pci_dependent_device *d0, *d1;
	char name[64];
	struct info in;
	int container, group, dev;
	struct edu e;

	printf("# --- through the group ---\n");
	group = open_viable_group(fn0);
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0 || ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		die("the group in a type1v2 container");
	snprintf(name, sizeof(name), "%s", fn0);
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, name);
	if (dev < 0)
		die("VFIO_GROUP_GET_DEVICE_FD");
	edu_setup(&e, dev);
	ok(!get_info(dev, &in), "GET_PCI_HOT_RESET_INFO");
	d0 = entry(&in, fn0);
	d1 = entry(&in, fn1);
	ok(in.hdr.flags == 0, "flags are 0");
	ok(d0 && d1 && d0->group_id == d1->group_id,
	   "both entries give the same group ID");
	mark(&e);
	check_errno(reset(dev, sizeof(struct vfio_pci_hot_reset), 0, 0, -1),
		    EINVAL, "PCI_HOT_RESET of a group's device with no fd");
	ok(rd32(&e, RDBAL) == MARK, "it reset nothing");
	ok(!reset(dev, sizeof(struct vfio_pci_hot_reset) + 4, 0, 1, group),
	   "PCI_HOT_RESET with the group's fd");
	ok(rd32(&e, RDBAL) == 0, "it reset the device");
	close(dev);
	close(group);
	close(container);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s <fn0-bdf> <fn1-bdf>\n", argv[0]);
		return 2;
	}
	printf("TAP version 13\n");
	/* out of the kernel's driver first: the group must stay viable */
	set_vfio(argv[1], 0);
	set_vfio(argv[2], 0);
	set_vfio(argv[1], 1);
	set_vfio(argv[2], 1);
	cdev_path_checks(argv[1], argv[2]);
	group_path_checks(argv[1], argv[2]);
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
