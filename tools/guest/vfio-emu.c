// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-emu: an emulated VFIO device on iommufd, used the way an mdev
 * driver uses VFIO: vfio_dma_rw() and vfio_pin_pages() at IOVAs of the
 * device's address space, and the dma_unmap callback that must give the
 * pins back when userspace unmaps them. The device is vfio_emu_test.ko
 * (tools/modules), loaded by e2e/vfio-emu.sh.
 *
 * Three ways in:
 *   1. the group, its container a /dev/iommu file, memory mapped with
 *      IOMMU_IOAS_MAP into the compatibility IOAS;
 *   2. the group, its container /dev/vfio/vfio served by iommufd, as a
 *      type1 (v1) container (skipped where VFIO serves it);
 *   3. the device's cdev: parked, bound, attached to one IOAS, replaced
 *      by another with the same IOVAs, detached.
 * Prints TAP; exits 0 only if every check passed.
 */
#include <sys/stat.h>

#include "edu.h"
#include "../modules/vfio_emu_test.h"

#define SYSDEV "/sys/devices/platform/vfio_emu_test"
#define NAME "vfio_emu_test"
#define PG 4096
#define IOVA 0x40000000ULL
#define LEN (16 * PG)

static int emu_rw(int dev, __u64 iova, void *buf, size_t len, int write)
{
	struct vfio_emu_test_rw rw = {
		.argsz = sizeof(rw),
		.write = write,
		.iova = iova,
		.uptr = (uintptr_t)buf,
		.length = len,
	};

	return ioctl(dev, VFIO_EMU_TEST_RW, &rw) ? -errno : 0;
}

static int emu_pin(int dev, __u64 iova, unsigned int npages, __u8 *first)
{
	struct vfio_emu_test_pin pin = {
		.argsz = sizeof(pin),
		.npages = npages,
		.iova = iova,
		.prot = 3,	/* IOMMU_READ | IOMMU_WRITE */
	};

	if (ioctl(dev, VFIO_EMU_TEST_PIN, &pin))
		return -errno;
	memcpy(first, pin.first_byte, npages);
	return 0;
}

static struct vfio_emu_test_state emu_state(int dev)
{
	struct vfio_emu_test_state st = { .argsz = sizeof(st) };

	if (ioctl(dev, VFIO_EMU_TEST_STATE, &st))
		die("VFIO_EMU_TEST_STATE");
	return st;
}

/*
 * The device reads and writes @buf, mapped at IOVA, through vfio_dma_rw(),
 * and pins two of its pages, which it then holds.
 */
static void use_memory(int dev, unsigned char *buf, const char *how)
{
	unsigned char got[PG + 100], put[300];
	struct vfio_emu_test_state st;
	char what[160];
	__u8 first[2];

	memset(got, 0, sizeof(got));
	snprintf(what, sizeof(what), "vfio_dma_rw() reads the memory (%s)",
		 how);
	ok(emu_rw(dev, IOVA + 100, got, sizeof(got), 0) == 0 &&
	   !memcmp(got, buf + 100, sizeof(got)), what);
	fill(put, sizeof(put), 0x33);
	ok(emu_rw(dev, IOVA + 5 * PG - 150, put, sizeof(put), 1) == 0 &&
	   !memcmp(buf + 5 * PG - 150, put, sizeof(put)),
	   "vfio_dma_rw() writes it, across a page boundary");
	ok(emu_pin(dev, IOVA + 8 * PG, 2, first) == 0 &&
	   first[0] == buf[8 * PG] && first[1] == buf[9 * PG],
	   "vfio_pin_pages() of two pages gives those pages");
	st = emu_state(dev);
	ok(st.held == 2 && st.unmaps == 0, "the device holds them");
}

/* after the unmap of the whole range: pins given back, nothing reachable */
static void after_unmap(int dev)
{
	struct vfio_emu_test_state st = emu_state(dev);
	unsigned char b[64];

	ok(st.held == 0 && st.unmaps >= 1 && st.unpinned_by_unmap == 2,
	   "the unmap called dma_unmap, which gave both pins back");
	ok(emu_rw(dev, IOVA, b, sizeof(b), 0) < 0,
	   "vfio_dma_rw() of the unmapped IOVA fails");
	ok(emu_pin(dev, IOVA, 1, b) < 0,
	   "vfio_pin_pages() of it fails too");
}

static int open_group(void)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[PATH_MAX];
	int fd;

	fd = open(sysfs_group_path(SYSDEV, path, sizeof(path)),
		  O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open the VFIO group");
	ok(ioctl(fd, VFIO_GROUP_GET_STATUS, &st) == 0 &&
	   (st.flags & VFIO_GROUP_FLAGS_VIABLE), "the group is viable");
	return fd;
}

static void group_with_iommufd(void)
{
	struct iommu_vfio_ioas vioas = {
		.size = sizeof(vioas),
		.op = IOMMU_VFIO_IOAS_GET,
	};
	struct vfio_device_info info = { .argsz = sizeof(info) };
	unsigned char *buf = anon_buffer(LEN);
	int iommufd, group, dev;
	__u8 first;

	printf("# --- the group, a /dev/iommu container, IOMMU_IOAS_MAP ---\n");
	fill(buf, LEN, 0x11);
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (iommufd < 0)
		die("open /dev/iommu");
	group = open_group();
	ok(ioctl(group, VFIO_GROUP_SET_CONTAINER, &iommufd) == 0 &&
	   ioctl(iommufd, IOMMU_VFIO_IOAS, &vioas) == 0,
	   "SET_CONTAINER to the iommufd made a compatibility IOAS");
	ok(map_native(iommufd, vioas.ioas_id, buf, IOVA, LEN) == 0,
	   "IOMMU_IOAS_MAP of the buffer");
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, NAME);
	if (dev < 0)
		die("VFIO_GROUP_GET_DEVICE_FD");
	ok(ioctl(dev, VFIO_DEVICE_GET_INFO, &info) == 0,
	   "the device opened and answers GET_INFO");
	use_memory(dev, buf, "group");
	ok(unmap_native(iommufd, vioas.ioas_id, IOVA, LEN) == 0,
	   "IOMMU_IOAS_UNMAP of the buffer while pinned");
	after_unmap(dev);

	/* pins still held at close are given back by close_device */
	ok(map_native(iommufd, vioas.ioas_id, buf, IOVA, LEN) == 0 &&
	   emu_pin(dev, IOVA, 1, &first) == 0,
	   "mapped again, and one page pinned");
	close(dev);
	ok(ioctl(group, VFIO_GROUP_UNSET_CONTAINER) == 0,
	   "UNSET_CONTAINER once the device is closed");
	close(group);
	close(iommufd);
	munmap(buf, LEN);
}

static void group_with_vfio_container(void)
{
	struct iommu_ioas_alloc probe = { .size = sizeof(probe) };
	unsigned char *buf;
	int container, group, dev;

	printf("# --- the group, /dev/vfio/vfio as a type1 container ---\n");
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	/* VFIO's own container does not know iommufd's commands */
	if (container < 0 ||
	    ioctl(container, IOMMU_IOAS_ALLOC, &probe)) {
		printf("ok %d # SKIP /dev/vfio/vfio is not iommufd's\n",
		       ++ntest);
		if (container >= 0)
			close(container);
		return;
	}
	/* that IOAS is not the compatibility one: SET_CONTAINER makes it */
	buf = anon_buffer(LEN);
	fill(buf, LEN, 0x22);
	group = open_group();
	ok(ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) == 0,
	   "SET_CONTAINER to /dev/vfio/vfio");
	ok(ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) == 0,
	   "VFIO_SET_IOMMU(TYPE1)");
	ok(map_type1(container, buf, IOVA, LEN) == 0, "VFIO_IOMMU_MAP_DMA");
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, NAME);
	if (dev < 0)
		die("VFIO_GROUP_GET_DEVICE_FD");
	use_memory(dev, buf, "type1 container");
	/* v1 may cut a mapping, but not where a software access pins */
	ok(unmap_type1(container, IOVA + 8 * PG, PG) < 0 && errno == EBUSY &&
	   emu_state(dev).held == 2,
	   "a v1 unmap that cuts the pinned range is EBUSY, pins kept");
	ok(unmap_type1(container, IOVA, LEN) == 0,
	   "VFIO_IOMMU_UNMAP_DMA of the whole mapping while pinned");
	after_unmap(dev);
	close(dev);
	ok(ioctl(group, VFIO_GROUP_UNSET_CONTAINER) == 0,
	   "UNSET_CONTAINER once the device is closed");
	close(group);
	close(container);
	munmap(buf, LEN);
}

static __u32 new_ioas(int iommufd)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };

	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc))
		die("IOMMU_IOAS_ALLOC");
	return alloc.out_ioas_id;
}

static int attach(int dev, __u32 pt)
{
	struct vfio_device_attach_iommufd_pt at = {
		.argsz = sizeof(at),
		.pt_id = pt,
	};

	return ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at);
}

static void through_cdev(void)
{
	struct vfio_device_detach_iommufd_pt det = { .argsz = sizeof(det) };
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	unsigned char *buf1 = anon_buffer(LEN), *buf2 = anon_buffer(LEN);
	struct vfio_emu_test_state st;
	unsigned char got[256];
	char path[PATH_MAX];
	int iommufd, dev;
	__u32 ioas1, ioas2;
	__u8 first[2];

	printf("# --- the cdev: bind, attach, replace, detach ---\n");
	fill(buf1, LEN, 0x44);
	fill(buf2, LEN, 0x55);
	if (sysfs_cdev_path(SYSDEV, path, sizeof(path)))
		die("find vfio-dev/vfioX");
	dev = open(path, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		die("open the cdev");
	ok(emu_rw(dev, IOVA, got, sizeof(got), 0) == -EINVAL &&
	   emu_pin(dev, IOVA, 1, first) == -EINVAL,
	   "parked: the driver's ioctls are EINVAL before BIND");
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (iommufd < 0)
		die("open /dev/iommu");
	ioas1 = new_ioas(iommufd);
	ioas2 = new_ioas(iommufd);
	ok(map_native(iommufd, ioas1, buf1, IOVA, LEN) == 0 &&
	   map_native(iommufd, ioas2, buf2, IOVA, LEN) == 0,
	   "two IOASes, other buffers at the same IOVAs");
	bind.iommufd = iommufd;
	ok(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &bind) == 0,
	   "VFIO_DEVICE_BIND_IOMMUFD");
	ok(emu_rw(dev, IOVA, got, sizeof(got), 0) < 0 &&
	   emu_pin(dev, IOVA, 1, first) < 0,
	   "bound but not attached: no memory is reachable");
	ok(attach(dev, ioas1) == 0, "ATTACH to the first IOAS");
	use_memory(dev, buf1, "cdev");

	/* replace: the old IOAS's pins are given back first */
	ok(attach(dev, ioas2) == 0, "ATTACH to the second IOAS replaces it");
	st = emu_state(dev);
	ok(st.held == 0 && st.unpinned_by_unmap == 2,
	   "replacing called dma_unmap for the pins of the first");
	ok(emu_rw(dev, IOVA, got, sizeof(got), 0) == 0 &&
	   !memcmp(got, buf2, sizeof(got)),
	   "vfio_dma_rw() at the same IOVA now reads the second buffer");
	ok(emu_pin(dev, IOVA + PG, 1, first) == 0 && first[0] == buf2[PG],
	   "and vfio_pin_pages() pins its pages");

	ok(ioctl(dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &det) == 0,
	   "VFIO_DEVICE_DETACH_IOMMUFD_PT");
	st = emu_state(dev);
	ok(st.held == 0 && st.unpinned_by_unmap == 3,
	   "detaching called dma_unmap for that pin");
	ok(emu_rw(dev, IOVA, got, sizeof(got), 0) < 0,
	   "detached: no memory is reachable");
	ok(attach(dev, ioas1) == 0 &&
	   emu_rw(dev, IOVA, got, sizeof(got), 0) == 0 &&
	   !memcmp(got, buf1, sizeof(got)),
	   "attached again, the first buffer is back");
	close(iommufd);
	ok(emu_rw(dev, IOVA, got, sizeof(got), 0) == 0,
	   "the closed iommufd lives on while the device is bound");
	close(dev);
	munmap(buf1, LEN);
	munmap(buf2, LEN);
}

int main(void)
{
	struct stat st;

	printf("TAP version 13\n");
	if (stat(SYSDEV, &st))
		die("no " SYSDEV ": is vfio_emu_test.ko loaded?");
	group_with_iommufd();
	group_with_vfio_container();
	through_cdev();
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
