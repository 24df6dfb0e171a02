/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * edu.h: what the guest programs that drive QEMU's edu device through
 * VFIO share: TAP output, the device's registers and DMA, the kernel
 * log's IOMMU faults, IOAS and type1 maps, and finding a device's VFIO
 * cdev. Each program is one translation unit that includes this once.
 *
 * The edu model (QEMU docs/specs/edu.rst): BAR0 registers; DMA source,
 * destination and count at 0x80/0x88/0x90, the command at 0x98 (bit 0
 * start, bit 1 edu -> RAM); its buffer lives at 0x40000 in the device's
 * own address space and is 4096 bytes. QEMU 7.2 stops the VM on a DMA
 * that does not fit strictly inside that buffer, so at most 2048 bytes
 * move at a time here.
 */
#ifndef EDU_H
#define EDU_H

#include <dirent.h>
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

static inline void ok(int cond, const char *what)
{
	ntest++;
	if (!cond)
		nfail++;
	printf("%sok %d %s\n", cond ? "" : "not ", ntest, what);
	fflush(stdout);
}

static inline void die(const char *what)
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

static inline __u32 rd32(struct edu *e, __u64 reg)
{
	__u32 v = 0;

	if (pread(e->dev, &v, 4, e->bar0 + reg) != 4)
		die("read a BAR0 register");
	return v;
}

static inline void wr32(struct edu *e, __u64 reg, __u32 v)
{
	if (pwrite(e->dev, &v, 4, e->bar0 + reg) != 4)
		die("write a BAR0 register");
}

static inline void wr64(struct edu *e, __u64 reg, __u64 v)
{
	if (pwrite(e->dev, &v, 8, e->bar0 + reg) != 8)
		die("write a BAR0 register");
}

static inline __u64 region_offset(int dev, __u32 index)
{
	struct vfio_region_info info = {
		.argsz = sizeof(info),
		.index = index,
	};

	if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &info))
		die("VFIO_DEVICE_GET_REGION_INFO");
	return info.offset;
}

static inline void edu_setup(struct edu *e, int dev)
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
static inline int edu_dma(struct edu *e, __u64 src, __u64 dst, __u32 len,
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

/* @len bytes of private anonymous memory, or the program dies */
static inline unsigned char *anon_buffer(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

static inline void fill(unsigned char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(seed + i * 7 + (i >> 8));
}

/* the "@key:  N kB" line of the file @path, in kB; -1 if none */
static inline long file_kb(const char *path, const char *key)
{
	char line[128];
	size_t klen = strlen(key);
	long kb = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			kb = strtol(line + klen + 1, NULL, 10);
	fclose(f);
	return kb;
}

/* the same of /proc/self/status */
static inline long status_kb(const char *key)
{
	return file_kb("/proc/self/status", key);
}

/* write @val to the sysfs (or other) file @path; 0 if all of it went */
static inline int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/*
 * /dev/kmsg, positioned after what the kernel logged so far, for a caller
 * about to provoke an IOMMU fault and look for its record.
 *
 * 6.1's arm-smmu-v3 logs at most ten events in five seconds and drops the
 * rest, and QEMU's SMMUv3 reports a refused DMA as several events (it
 * retries it in pieces): a fault provoked soon after another would go
 * unlogged. So when the log holds an SMMU event, wait until five seconds
 * (and a margin) after the last one; the window has passed then. (VT-d
 * logs one fault per refused DMA here.)
 */
static inline int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	unsigned long long last = 0, us, now;
	struct timespec t;
	char rec[1024];
	ssize_t n;

	if (fd < 0)
		return fd;
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 ||
	       (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;
		rec[n] = 0;
		/* "<prio>,<seq>,<usec>,<flags>;<text>" */
		if (strstr(rec, "smmuv3: event 0x") &&
		    sscanf(rec, "%*u,%*u,%llu", &us) == 1)
			last = us;
	}
	lseek(fd, 0, SEEK_END);
	if (last) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		now = t.tv_sec * 1000000ULL + t.tv_nsec / 1000;
		if (now < last + 5500000)
			usleep(last + 5500000 - now);
	}
	return fd;
}

/*
 * Whether the kernel logs an IOMMU fault at @iova within 30 s. VT-d logs
 * "DMAR: [DMA Write ...] Request device [..] fault addr 0x<iova> ...";
 * 6.1's arm-smmu-v3 logs "event 0x10 received:" and then the event's four
 * dwords a line each, the third the input address as 0x<16 hex digits>
 * (at most ten events in five seconds).
 */
static inline int kmsg_wait_fault(int fd, __u64 iova)
{
	char rec[1024], vtd[64], smmu[64];
	int tries;

	snprintf(vtd, sizeof(vtd), "fault addr 0x%llx",
		 (unsigned long long)iova);
	snprintf(smmu, sizeof(smmu), "\\x090x%016llx",
		 (unsigned long long)iova);
	for (tries = 0; tries < 300; tries++) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);

		if (n > 0) {
			rec[n] = 0;
			if (strstr(rec, vtd) || strstr(rec, smmu))
				return 1;
			continue;
		}
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		usleep(100 * 1000);
	}
	return 0;
}

static inline int map_native(int iommufd, __u32 ioas, void *va,
			     __u64 iova, __u64 len)
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

static inline int unmap_native(int iommufd, __u32 ioas, __u64 iova,
			       __u64 len)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = ioas,
		.iova = iova,
		.length = len,
	};

	return ioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap);
}

static inline int map_type1(int iommufd, void *va, __u64 iova, __u64 len)
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

static inline int unmap_type1(int iommufd, __u64 iova, __u64 len)
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

/* /dev/vfio/$GROUP of the device whose sysfs directory is @sysdev */
static inline char *sysfs_group_path(const char *sysdev, char *path,
				     size_t size)
{
	char link[PATH_MAX], sys[PATH_MAX];
	const char *g;
	ssize_t n;

	if (snprintf(sys, sizeof(sys), "%s/iommu_group", sysdev) >=
	    (int)sizeof(sys))
		die("sysfs path too long");
	n = readlink(sys, link, sizeof(link) - 1);
	if (n < 0)
		die("readlink iommu_group");
	link[n] = 0;
	g = strrchr(link, '/');
	if (snprintf(path, size, "/dev/vfio/%s", g ? g + 1 : link) >=
	    (int)size)
		die("group path too long");
	return path;
}

/* the same for the PCI device @bdf */
static inline char *group_path(const char *bdf, char *path, size_t size)
{
	char dev[PATH_MAX];

	snprintf(dev, sizeof(dev), "/sys/bus/pci/devices/%s", bdf);
	return sysfs_group_path(dev, path, size);
}

/*
 * The VFIO group of the PCI device @bdf, opened, and a check that it is
 * viable; the program dies if it can't be opened or asked.
 */
static inline int open_viable_group(const char *bdf)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[PATH_MAX];
	int fd;

	fd = open(group_path(bdf, path, sizeof(path)), O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open the VFIO group");
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &st))
		die("VFIO_GROUP_GET_STATUS");
	ok(st.flags & VFIO_GROUP_FLAGS_VIABLE, "the group is viable");
	return fd;
}

/*
 * /dev/vfio/devices/vfioX of the device whose sysfs directory is @sysdev,
 * from its vfio-dev/ directory
 */
static inline int sysfs_cdev_path(const char *sysdev, char *path,
				  size_t size)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int found = 0;

	if (snprintf(dir, sizeof(dir), "%s/vfio-dev", sysdev) >=
	    (int)sizeof(dir))
		return -1;
	d = opendir(dir);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "vfio", 4))
			continue;
		snprintf(path, size, "/dev/vfio/devices/%s", de->d_name);
		found = 1;
		break;
	}
	closedir(d);
	return found ? 0 : -1;
}

/* the same for the PCI device @bdf */
static inline int cdev_path(const char *bdf, char *path, size_t size)
{
	char dev[PATH_MAX];

	snprintf(dev, sizeof(dev), "/sys/bus/pci/devices/%s", bdf);
	return sysfs_cdev_path(dev, path, size);
}

/*
 * VFIO_DEVICE_ATTACH_IOMMUFD_PT of a bound cdev to the IOAS or HWPT
 * *@pt_id; on success *@pt_id is the HWPT it is attached to.
 */
static inline int cdev_attach_pt(int dev, __u32 *pt_id)
{
	struct vfio_device_attach_iommufd_pt a = {
		.argsz = sizeof(a),
		.pt_id = *pt_id,
	};
	int ret = ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);

	if (!ret)
		*pt_id = a.pt_id;
	return ret;
}

static inline int open_cdev(const char *bdf)
{
	char path[PATH_MAX];
	int fd;

	if (cdev_path(bdf, path, sizeof(path)))
		die("find vfio-dev/vfioX in sysfs");
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open the cdev");
	return fd;
}

#endif
