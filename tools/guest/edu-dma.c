// SPDX-License-Identifier: GPL-2.0-only
/*
 * edu-dma: DMA by QEMU's edu device, bound to vfio-pci, through iommufd.
 *
 *   edu-dma <bdf>
 *
 * Three times: first the VFIO group's container is a /dev/iommu file and
 * memory is mapped with IOMMU_IOAS_MAP into the compatibility IOAS the
 * group's devices use; then the same kind of file is used as a type1v2
 * container (VFIO_SET_IOMMU, VFIO_IOMMU_MAP_DMA/UNMAP_DMA), which is what
 * a symbolic link /dev/vfio/vfio -> /dev/iommu gives a VMM; last the
 * container is /dev/vfio/vfio itself, served by iommufd
 * (IOMMUFD_VFIO_CONTAINER), as type1 v1. The pinned pages are charged to
 * the user's locked_vm through /dev/iommu, to the mm's (VmLck) through
 * /dev/vfio/vfio, as VFIO's type1 charges them. Each time a pattern
 * goes RAM -> edu -> RAM: the device reads it at one IOVA into its
 * internal buffer, then writes it back at another IOVA, and the program
 * checks the bytes. Then the second buffer is unmapped, and a DMA to it
 * must not reach the old page: VT-d blocks it and the kernel logs the
 * fault. Prints TAP; exits 0 only if every check passed.
 *
 * The device's registers and DMA helpers are in edu.h.
 */
#include "edu.h"

enum mode {
	IOAS_MAP,	/* /dev/iommu, IOMMU_IOAS_MAP */
	TYPE1_IOMMUFD,	/* /dev/iommu, type1v2 ioctls */
	TYPE1_VFIO_DEV,	/* /dev/vfio/vfio served by iommufd, type1 ioctls */
};

static const char *const mode_name[] = {
	[IOAS_MAP] = "group with an iommufd, IOMMU_IOAS_MAP",
	[TYPE1_IOMMUFD] = "/dev/iommu as a type1v2 container",
	[TYPE1_VFIO_DEV] = "/dev/vfio/vfio (iommufd) as a type1 container",
};

/* one run through the group with its container opened as @mode says */
static void run(const char *bdf, enum mode mode)
{
	const int compat = mode != IOAS_MAP;
	const size_t len = 2 * 1024 * 1024;
	unsigned char *src, *dst;
	struct iommu_vfio_ioas vioas = {
		.size = sizeof(vioas),
		.op = IOMMU_VFIO_IOAS_GET,
	};
	int iommufd, group, dev, kmsg;
	long locked_kb;
	struct edu e;

	printf("# --- edu %s, %s ---\n", bdf, mode_name[mode]);
	src = anon_buffer(len);
	dst = anon_buffer(len);
	fill(src, XFER, 0x5a + mode * 0x4b);
	memset(dst, 0xee, len);

	iommufd = open(mode == TYPE1_VFIO_DEV ? "/dev/vfio/vfio" : "/dev/iommu",
		       O_RDWR | O_CLOEXEC);
	if (iommufd < 0)
		die("open the container");
	group = open_viable_group(bdf);
	ok(ioctl(group, VFIO_GROUP_SET_CONTAINER, &iommufd) == 0,
	   "VFIO_GROUP_SET_CONTAINER takes the container's fd");
	ok(ioctl(iommufd, IOMMU_VFIO_IOAS, &vioas) == 0 && vioas.ioas_id,
	   "it made a compatibility IOAS");
	printf("# compatibility IOAS %u\n", vioas.ioas_id);

	if (compat) {
		unsigned long type = mode == TYPE1_VFIO_DEV ?
				     VFIO_TYPE1_IOMMU : VFIO_TYPE1v2_IOMMU;

		ok(ioctl(iommufd, VFIO_CHECK_EXTENSION, type) == 1,
		   "VFIO_CHECK_EXTENSION of the type");
		ok(ioctl(iommufd, VFIO_SET_IOMMU, type) == 0,
		   "VFIO_SET_IOMMU before any device is open");
		ok(map_type1(iommufd, src, IOVA_SRC, len) == 0 &&
		   map_type1(iommufd, dst, IOVA_DST, len) == 0,
		   "VFIO_IOMMU_MAP_DMA of both buffers");
	} else {
		ok(map_native(iommufd, vioas.ioas_id, src, IOVA_SRC, len) == 0 &&
		   map_native(iommufd, vioas.ioas_id, dst, IOVA_DST, len) == 0,
		   "IOMMU_IOAS_MAP of both buffers into the IOAS");
	}

	locked_kb = status_kb("VmLck");
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (dev < 0)
		die("VFIO_GROUP_GET_DEVICE_FD");
	ok(1, "the device opened: bound to the iommufd and attached");
	/* attaching pinned both buffers */
	if (mode == TYPE1_VFIO_DEV)
		ok(status_kb("VmLck") == locked_kb + 2 * (long)len / 1024,
		   "VmLck grew by both buffers, as with type1");
	else
		ok(status_kb("VmLck") == locked_kb,
		   "VmLck did not change: /dev/iommu charges the user");
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
	ok(status_kb("VmLck") == locked_kb, "VmLck is back where it was");
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
	run(argv[1], IOAS_MAP);
	run(argv[1], TYPE1_IOMMUFD);
	run(argv[1], TYPE1_VFIO_DEV);
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
