// SPDX-License-Identifier: GPL-2.0-only
/*
 * edu-demo: the story of make run. A device does DMA into our memory
 * through an I/O address space we own, step by step:
 *
 *   edu-demo <bdf>
 *
 * open /dev/iommu, allocate an IOAS, map two buffers, bind the edu's VFIO
 * cdev and attach it, let the device copy a message from one buffer to the
 * other, show the bytes; then unmap and watch the IOMMU stop the device.
 * Exits 0 if the story ends as told.
 */
#include <ctype.h>

#include "edu.h"

static void step(const char *what)
{
	static int n;

	printf("\n%d. %s\n", ++n, what);
}

static void show(const char *name, const unsigned char *p, size_t len)
{
	size_t i;

	printf("   %-4s ", name);
	for (i = 0; i < len; i++)
		putchar(isprint(p[i]) ? p[i] : '.');
	printf("   (");
	for (i = 0; i < 8; i++)
		printf("%02x%s", p[i], i < 7 ? " " : "");
	printf(" ...)\n");
}

int main(int argc, char **argv)
{
	static const char msg[] =
		"Hello from RAM, carried by the edu device through an IOAS of /dev/iommu!";
	const size_t len = 2 * 1024 * 1024;
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	unsigned char *src, *dst;
	int iommufd, kmsg, fail = 0;
	struct edu e;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <edu-bdf>\n", argv[0]);
		return 2;
	}
	step("open(\"/dev/iommu\"): a new iommufd context, owned by this process");
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (iommufd < 0)
		die("open /dev/iommu");
	printf("   fd %d\n", iommufd);

	step("IOMMU_IOAS_ALLOC: an empty I/O address space");
	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc))
		die("IOMMU_IOAS_ALLOC");
	printf("   IOAS %u\n", alloc.out_ioas_id);

	step("IOMMU_IOAS_MAP: two buffers of ours at IOVAs we choose\n"
	     "   (pinned once, charged to RLIMIT_MEMLOCK)");
	src = anon_buffer(len);
	dst = anon_buffer(len);
	memcpy(src, msg, sizeof(msg));
	memset(dst, '.', len);
	if (map_native(iommufd, alloc.out_ioas_id, src, IOVA_SRC, len) ||
	    map_native(iommufd, alloc.out_ioas_id, dst, IOVA_DST, len))
		die("IOMMU_IOAS_MAP");
	printf("   src %p -> IOVA %#llx\n   dst %p -> IOVA %#llx\n", src,
	       IOVA_SRC, dst, IOVA_DST);

	step("open the edu's VFIO cdev and VFIO_DEVICE_BIND_IOMMUFD:\n"
	     "   its iommu_group is ours, its DMA blocked");
	e.dev = open_cdev(argv[1]);
	bind.iommufd = iommufd;
	if (ioctl(e.dev, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		die("VFIO_DEVICE_BIND_IOMMUFD");
	printf("   %s is device %u of the context\n", argv[1], bind.out_devid);

	step("VFIO_DEVICE_ATTACH_IOMMUFD_PT: the device's DMA now goes through our IOAS");
	at.pt_id = alloc.out_ioas_id;
	if (ioctl(e.dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
		die("VFIO_DEVICE_ATTACH_IOMMUFD_PT");
	printf("   attached through HWPT %u, a VT-d domain the kernel made for the IOAS\n",
	       at.pt_id);

	step("the device copies: RAM at IOVA_SRC -> edu's buffer -> RAM at IOVA_DST");
	edu_setup(&e, e.dev);
	if (edu_dma(&e, IOVA_SRC, EDU_BUF, sizeof(msg), 0) ||
	    edu_dma(&e, EDU_BUF, IOVA_DST, sizeof(msg), 1))
		die("edu DMA");
	show("src", src, sizeof(msg) - 1);
	show("dst", dst, sizeof(msg) - 1);
	if (memcmp(src, dst, sizeof(msg))) {
		printf("   the bytes differ!\n");
		fail = 1;
	} else {
		printf("   the same bytes: the device wrote our memory through the IOMMU\n");
	}

	step("IOMMU_IOAS_UNMAP dst, and ask the device to write there again");
	if (unmap_native(iommufd, alloc.out_ioas_id, IOVA_DST, len))
		die("IOMMU_IOAS_UNMAP");
	memset(dst, '.', len);
	kmsg = kmsg_open();
	edu_dma(&e, EDU_BUF, IOVA_DST, sizeof(msg), 1);
	show("dst", dst, sizeof(msg) - 1);
	if (kmsg >= 0 && kmsg_wait_fault(kmsg, IOVA_DST)) {
		printf("   untouched: VT-d blocked the write and the kernel logged\n"
		       "   a DMAR fault at %#llx\n", IOVA_DST);
	} else {
		printf("   no fault was logged!\n");
		fail = 1;
	}
	if (dst[0] != '.')
		fail = 1;

	step("close: the device is detached and unbound, the pages unpinned");
	close(e.dev);
	close(iommufd);
	printf("\n%s\n", fail ? "The story went wrong." : "The end.");
	return fail;
}
