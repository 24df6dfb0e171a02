// SPDX-License-Identifier: GPL-2.0-only
/*
 * edu-dma: DMA by QEMU's edu device, bound to vfio-pci, through iommufd.
 *
 *   edu-dma <bdf>
 *
 * Twice: first the VFIO group's container is a /dev/iommu file and memory
 * is mapped with IOMMU_IOAS_MAP into the compatibility IOAS the group's
 * devices use; then the same kind of file is used as a type1 container
 * (VFIO_SET_IOMMU, VFIO_IOMMU_MAP_DMA/UNMAP_DMA). Each time a pattern
 * goes RAM -> edu -> RAM: the device reads it at one IOVA into its
 * internal buffer, then writes it back at another IOVA, and the program
 * checks the bytes. Then the second buffer is unmapped, and a DMA to it
 * must not reach the old page: VT-d blocks it and the kernel logs the
 * fault. Prints TAP; exits 0 only if every check passed.
 *
 * The edu model (QEMU docs/specs/edu.rst): BAR0 registers; DMA source,
 * destination and count at 0x80/0x88/0x90, the command at 0x98 (bit 0
 * start, bit 1 edu -> RAM); its buffer lives at 0x40000 in the device's
 * own address space and is 4096 bytes. QEMU 7.2 stops the VM on a DMA
 * that does not fit strictly inside that buffer, so at most 2048 bytes
 * move at a time here.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_CMD_START 0x1
#define EDU_CMD_TO_RAM 0x2
#define EDU_BUF 0x40000
#define EDU_ID 0x00
#define XFER 2048

/* IOVAs: inside VT-d's aperture, away from its reserved MSI window */
#define IOVA_SRC 0x10000000ULL
#define IOVA_DST 0x10200000ULL

static int ntest, nfail;

static void ok(int cond, const char *what)
{
	ntest++;
	if (!cond)
		nfail++;
	printf("%sok %d %s\n", cond ? "" : "not ", ntest, what);
	fflush(stdout);
}

static void die(const char *what)
{
	printf("not ok %d %s: %s\n", ++ntest, what, strerror(errno));
	printf("1..%d\n", ntest);
	exit(1);
}

struct edu {
	int dev;
	__u64 bar0;	/* offset of BAR0 in the device fd */
	__u64 config;	/* offset of the config space */
};

static __u32 rd32(struct edu *e, __u64 reg)
{
	__u32 v = 0;

	if (pread(e->dev, &v, 4, e->bar0 + reg) != 4)
		die("read a BAR0 register");
	return v;
}

static void wr64(struct edu *e, __u64 reg, __u64 v)
{
	if (pwrite(e->dev, &v, 8, e->bar0 + reg) != 8)
		die("write a BAR0 register");
}

static __u64 region_offset(int dev, __u32 index)
{
	struct vfio_region_info info = {
		.argsz = sizeof(info),
		.index = index,
	};

	if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &info))
		die("VFIO_DEVICE_GET_REGION_INFO");
	return info.offset;
}

static void edu_setup(struct edu *e, int dev)
{
	__u16 cmd;

	e->dev = dev;
	e->bar0 = region_offset(dev, VFIO_PCI_BAR0_REGION_INDEX);
	e->config = region_offset(dev, VFIO_PCI_CONFIG_REGION_INDEX);
	if (pread(dev, &cmd, 2, e->config + PCI_COMMAND) != 2)
		die("read PCI_COMMAND");
	cmd |= PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY;
	if (pwrite(dev, &cmd, 2, e->config + PCI_COMMAND) != 2)
		die("write PCI_COMMAND");
}

/* one DMA, waited for; 0 once the device says it is done */
static int edu_dma(struct edu *e, __u64 src, __u64 dst, __u32 len,
		   int to_ram)
{
	struct timespec t0, t;

	wr64(e, EDU_DMA_SRC, src);
	wr64(e, EDU_DMA_DST, dst);
	wr64(e, EDU_DMA_CNT, len);
	wr64(e, EDU_DMA_CMD, EDU_CMD_START | (to_ram ? EDU_CMD_TO_RAM : 0));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* TCG on a busy host can be slow: wait up to 60 s */
	for (;;) {
		if (!(rd32(e, EDU_DMA_CMD) & EDU_CMD_START))
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 60)
			return -1;
		usleep(1000);
	}
}

static void fill(unsigned char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(seed + i * 7 + (i >> 8));
}

/* /dev/kmsg, positioned after what the kernel logged so far */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* whether the kernel logs a DMAR fault at @iova within 30 s */
static int kmsg_wait_fault(int fd, __u64 iova)
{
	char rec[1024], want[64];
	int tries;

	snprintf(want, sizeof(want), "fault addr 0x%llx",
		 (unsigned long long)iova);
	for (tries = 0; tries < 300; tries++) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);

		if (n > 0) {
			rec[n] = 0;
			if (strstr(rec, want))
				return 1;
			continue;
		}
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		usleep(100 * 1000);
	}
	return 0;
}

static int open_group(const char *bdf)
{
	char path[PATH_MAX + 16], link[PATH_MAX];
	struct vfio_group_status st = { .argsz = sizeof(st) };
	const char *g;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		die("readlink iommu_group");
	link[n] = 0;
	g = strrchr(link, '/');
	snprintf(path, sizeof(path), "/dev/vfio/%s", g ? g + 1 : link);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open the VFIO group");
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &st))
		die("VFIO_GROUP_GET_STATUS");
	ok(st.flags & VFIO_GROUP_FLAGS_VIABLE, "the group is viable");
	return fd;
}

static int map_native(int iommufd, __u32 ioas, void *va, __u64 iova,
		      __u64 len)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	return ioctl(iommufd, IOMMU_IOAS_MAP, &map);
}

static int unmap_native(int iommufd, __u32 ioas, __u64 iova, __u64 len)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = ioas,
		.iova = iova,
		.length = len,
	};

	return ioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap);
}

static int map_type1(int iommufd, void *va, __u64 iova, __u64 len)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)va,
		.iova = iova,
		.size = len,
	};

	return ioctl(iommufd, VFIO_IOMMU_MAP_DMA, &map);
}

static int unmap_type1(int iommufd, __u64 iova, __u64 len)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = len,
	};

	if (ioctl(iommufd, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return -1;
	return unmap.size == len ? 0 : -1;
}

/* one run through the group path (@compat 0) or the type1 ioctls (1) */
static void run(const char *bdf, int compat)
{
	const size_t len = 2 * 1024 * 1024;
	unsigned char *src, *dst;
	struct iommu_vfio_ioas vioas = {
		.size = sizeof(vioas),
		.op = IOMMU_VFIO_IOAS_GET,
	};
	int iommufd, group, dev, kmsg;
	struct edu e;

	printf("# --- edu %s, %s ---\n", bdf,
	       compat ? "/dev/iommu as a type1 container" :
			"group with an iommufd, IOMMU_IOAS_MAP");
	src = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dst = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED || dst == MAP_FAILED)
		die("mmap");
	fill(src, XFER, compat ? 0xa5 : 0x5a);
	memset(dst, 0xee, len);

	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (iommufd < 0)
		die("open /dev/iommu");
	group = open_group(bdf);
	ok(ioctl(group, VFIO_GROUP_SET_CONTAINER, &iommufd) == 0,
	   "VFIO_GROUP_SET_CONTAINER takes the /dev/iommu fd");
	ok(ioctl(iommufd, IOMMU_VFIO_IOAS, &vioas) == 0 && vioas.ioas_id,
	   "it made a compatibility IOAS");
	printf("# compatibility IOAS %u\n", vioas.ioas_id);

	if (compat) {
		ok(ioctl(iommufd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) == 1,
		   "VFIO_CHECK_EXTENSION(TYPE1v2)");
		ok(ioctl(iommufd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) == 0,
		   "VFIO_SET_IOMMU(TYPE1v2) before any device is open");
		ok(map_type1(iommufd, src, IOVA_SRC, len) == 0 &&
		   map_type1(iommufd, dst, IOVA_DST, len) == 0,
		   "VFIO_IOMMU_MAP_DMA of both buffers");
	} else {
		ok(map_native(iommufd, vioas.ioas_id, src, IOVA_SRC, len) == 0 &&
		   map_native(iommufd, vioas.ioas_id, dst, IOVA_DST, len) == 0,
		   "IOMMU_IOAS_MAP of both buffers into the IOAS");
	}

	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (dev < 0)
		die("VFIO_GROUP_GET_DEVICE_FD");
	ok(1, "the device opened: bound to the iommufd and attached");
	edu_setup(&e, dev);
	printf("# edu id %#x\n", rd32(&e, EDU_ID));

	ok(edu_dma(&e, IOVA_SRC, EDU_BUF, XFER, 0) == 0,
	   "DMA RAM -> edu from IOVA_SRC");
	ok(edu_dma(&e, EDU_BUF, IOVA_DST + 4096, XFER, 1) == 0,
	   "DMA edu -> RAM to IOVA_DST + 4096");
	ok(!memcmp(dst + 4096, src, XFER),
	   "the bytes came back through the IOMMU");
	ok(dst[4095] == 0xee && dst[4096 + XFER] == 0xee,
	   "nothing around them was written");

	/* the second buffer goes away from the IOAS: DMA there is blocked */
	if (compat)
		ok(unmap_type1(iommufd, IOVA_DST, len) == 0,
		   "VFIO_IOMMU_UNMAP_DMA of the second buffer");
	else
		ok(unmap_native(iommufd, vioas.ioas_id, IOVA_DST, len) == 0,
		   "IOMMU_IOAS_UNMAP of the second buffer");
	memset(dst, 0xee, len);
	kmsg = kmsg_open();
	ok(edu_dma(&e, EDU_BUF, IOVA_DST + 8192, XFER, 1) == 0,
	   "a DMA to the unmapped IOVA ends");
	ok(dst[8192] == 0xee && !memcmp(dst + 8192, dst + 8193, XFER - 1),
	   "it did not reach the old page");
	ok(kmsg >= 0 && kmsg_wait_fault(kmsg, IOVA_DST + 8192),
	   "the IOMMU reported the fault");
	if (kmsg >= 0)
		close(kmsg);
	/* and the mapped buffer still works */
	ok(edu_dma(&e, IOVA_SRC, EDU_BUF, XFER, 0) == 0,
	   "DMA from IOVA_SRC again after the fault");

	close(dev);
	ok(ioctl(group, VFIO_GROUP_UNSET_CONTAINER) == 0,
	   "VFIO_GROUP_UNSET_CONTAINER once the device is closed");
	close(group);
	close(iommufd);
	munmap(src, len);
	munmap(dst, len);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s <pci-bdf>\n", argv[0]);
		return 2;
	}
	printf("TAP version 13\n");
	run(argv[1], 0);
	run(argv[1], 1);
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
