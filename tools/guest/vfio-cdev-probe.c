// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-cdev-probe: drive any PCI device bound to vfio-pci through its VFIO
 * cdev and iommufd, to show that a device model other than edu works too.
 *
 *   vfio-cdev-probe <bdf>
 *
 * Binds the device's cdev to a new iommufd, attaches it to an IOAS with a
 * buffer mapped, checks VFIO_DEVICE_GET_INFO and that the config space
 * read through the device descriptor matches sysfs, and reads BAR0. For
 * QEMU's NVMe controller (1b36:0010) it also does real DMA: it sets up
 * the admin queues in the mapped buffer, sends IDENTIFY CONTROLLER and
 * checks the data the controller wrote through the IOMMU (its PCI vendor
 * ID and serial number). Prints TAP; exits 0 only if every check passed.
 */
#include "edu.h"

#define IOVA 0x20000000ULL
#define BUF_LEN (64 * 1024)
/* the buffer: admin SQ at 0, admin CQ at 4 KiB, identify data at 8 KiB */
#define SQ_OFF 0
#define CQ_OFF 4096
#define ID_OFF 8192

static int wait_ready(struct edu *e, int ready)
{
	int i;

	/* CSTS.RDY; TCG on a busy host is slow: up to 60 s */
	for (i = 0; i < 60000; i++) {
		if ((rd32(e, 0x1c) & 1) == ready)
			return 0;
		usleep(1000);
	}
	return -1;
}

/* IDENTIFY CONTROLLER through the admin queues in @buf (at IOVA) */
static void nvme_identify(struct edu *e, unsigned char *buf)
{
	__u32 *sqe = (__u32 *)(buf + SQ_OFF);
	__u32 *cqe = (__u32 *)(buf + CQ_OFF);
	__u32 status;
	__u64 cap = rd32(e, 0) | (__u64)rd32(e, 4) << 32;
	unsigned int stride = 4 << ((cap >> 32) & 0xf);
	__u16 vid;
	int i;

	printf("# NVMe CAP %#llx, doorbell stride %u\n",
	       (unsigned long long)cap, stride);
	wr32(e, 0x14, 0);				/* CC: disable */
	ok(wait_ready(e, 0) == 0, "NVMe: the controller is disabled");
	wr32(e, 0x24, (1 << 16) | 1);		/* AQA: 2 entries each */
	wr32(e, 0x28, (__u32)(IOVA + SQ_OFF));	/* ASQ */
	wr32(e, 0x2c, (__u32)((IOVA + SQ_OFF) >> 32));
	wr32(e, 0x30, (__u32)(IOVA + CQ_OFF));	/* ACQ */
	wr32(e, 0x34, (__u32)((IOVA + CQ_OFF) >> 32));
	/* CC: enable, 4 KiB pages, 64-byte SQ and 16-byte CQ entries */
	wr32(e, 0x14, 1 | (6 << 16) | (4 << 20));
	ok(wait_ready(e, 1) == 0, "NVMe: the controller is ready");

	memset(sqe, 0, 64);
	sqe[0] = 0x06 | (0x1234 << 16);		/* IDENTIFY, command ID */
	sqe[6] = (__u32)(IOVA + ID_OFF);		/* PRP1 */
	sqe[7] = (__u32)((IOVA + ID_OFF) >> 32);
	sqe[10] = 1;					/* CNS: controller */
	wr32(e, 0x1000, 1);				/* SQ 0 tail */
	/* the controller writes the entry by DMA: the phase bit shows it */
	for (i = 0; i < 60000; i++) {
		status = __atomic_load_n(&cqe[3], __ATOMIC_ACQUIRE);
		if (status & (1 << 16))
			break;
		usleep(1000);
	}
	ok(status & (1 << 16), "NVMe: the command completed");
	ok((status & 0xffff) == 0x1234 && !(status >> 17),
	   "NVMe: with success, for our command ID");
	wr32(e, 0x1000 + stride, 1);		/* CQ 0 head */
	memcpy(&vid, buf + ID_OFF, 2);
	ok(vid == 0x1b36, "NVMe: IDENTIFY data arrived by DMA (vendor ID)");
	ok(!memcmp(buf + ID_OFF + 4, "iommufd0", 8),
	   "NVMe: and the serial number given on QEMU's command line");
	wr32(e, 0x14, 0);
	wait_ready(e, 0);
}

static unsigned int sysfs_hex(const char *bdf, const char *name)
{
	char path[PATH_MAX], buf[32] = "";
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
		die("read a sysfs attribute");
	close(fd);
	return strtoul(buf, NULL, 16);
}

int main(int argc, char **argv)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info bar = {
		.argsz = sizeof(bar),
		.index = VFIO_PCI_BAR0_REGION_INDEX,
	};
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	unsigned int vendor, device;
	unsigned char *buf;
	__u16 id[2];
	struct edu e;
	int iommufd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <pci-bdf>\n", argv[0]);
		return 2;
	}
	vendor = sysfs_hex(argv[1], "vendor");
	device = sysfs_hex(argv[1], "device");
	printf("TAP version 13\n# %s, %04x:%04x\n", argv[1], vendor, device);

	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (iommufd < 0 || ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc))
		die("an IOAS");
	buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap");
	memset(buf, 0, BUF_LEN);
	ok(!map_native(iommufd, alloc.out_ioas_id, buf, IOVA, BUF_LEN),
	   "a buffer mapped into the IOAS");

	bind.iommufd = iommufd;
	e.dev = open_cdev(argv[1]);
	ok(!ioctl(e.dev, VFIO_DEVICE_BIND_IOMMUFD, &bind),
	   "BIND_IOMMUFD of the cdev");
	at.pt_id = alloc.out_ioas_id;
	ok(!ioctl(e.dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at),
	   "ATTACH_IOMMUFD_PT to the IOAS");
	ok(!ioctl(e.dev, VFIO_DEVICE_GET_INFO, &info) &&
	   (info.flags & VFIO_DEVICE_FLAGS_PCI) &&
	   info.num_regions > VFIO_PCI_CONFIG_REGION_INDEX,
	   "VFIO_DEVICE_GET_INFO: a vfio-pci device");
	e.config = region_offset(e.dev, VFIO_PCI_CONFIG_REGION_INDEX);
	ok(pread(e.dev, id, 4, e.config) == 4 && id[0] == vendor &&
	   id[1] == device, "its config space names the same device as sysfs");
	ok(!ioctl(e.dev, VFIO_DEVICE_GET_REGION_INFO, &bar) && bar.size &&
	   (bar.flags & VFIO_REGION_INFO_FLAG_READ), "BAR0 is a readable region");
	printf("# BAR0: %llu bytes\n", (unsigned long long)bar.size);

	if (vendor == 0x1b36 && device == 0x0010) {
		edu_setup(&e, e.dev);	/* memory and bus master on */
		nvme_identify(&e, buf);
	} else {
		e.bar0 = bar.offset;
		printf("# BAR0[0] = %#x\n", rd32(&e, 0));
		ok(1, "BAR0 read through the device descriptor");
	}
	close(e.dev);
	close(iommufd);
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
