// SPDX-License-Identifier: GPL-2.0-only
/*
 * edu-msi: MSIs of QEMU's edu device, bound to vfio-pci, while it is
 * attached to an iommufd IOAS.
 *
 *   edu-msi <bdf>
 *
 * An MSI is a DMA write to the interrupt controller's doorbell. Behind
 * VT-d that write goes to the interrupt-remapping window and never through
 * the device's domain. Behind arm-smmu-v3 it is translated like any other
 * DMA: the GICv3 ITS's doorbell must be mapped in the device's domain, at
 * an IOVA of the software MSI window (IOMMU_RESV_SW_MSI) the IOAS keeps
 * reserved, and iommufd has to give each domain the MSI cookie with which
 * the IRQ layer maps it (device.c, iommufd_hwpt_setup_msi()). Without it
 * every interrupt of a device on iommufd is lost behind an SMMU.
 *
 * For the device's cdev on an IOAS, and again for its group on
 * /dev/vfio/vfio as a type1 container:
 *  - the iommu_group's "msi" reserved regions are no IOVA userspace gets:
 *    IOMMU_IOAS_IOVA_RANGES leaves them out and a fixed map there is
 *    EINVAL (cdev only; compat-info checks the type1 view);
 *  - an MSI the device raises (edu's interrupt-raise register) reaches the
 *    eventfd VFIO_DEVICE_SET_IRQS gave it, three times in a row;
 *  - a DMA that asks for an interrupt when it is done moves the right bytes
 *    and signals the eventfd;
 * and for the cdev, after the device is replaced onto a HWPT of a second
 * IOAS (whose destination buffer is another), and after its MSIs are set
 * up again there: interrupts and DMA still arrive, the DMA in the second
 * IOAS's buffer only. Behind an SMMU the replace copies the doorbell
 * mapping into the new domain (patch 0016).
 *
 *   edu-msi --unsafe <bdf>
 *
 * On a VM whose MSIs nothing isolates (x86: VT-d without interrupt
 * remapping; arm64: a GICv3 without its ITS, so no MSIs at all), where a
 * device's DMA write could raise another device's interrupt: while the
 * module parameter iommufd.allow_unsafe_interrupts is N, the cdev's
 * BIND_IOMMUFD and the group's SET_CONTAINER on /dev/vfio/vfio are EPERM
 * and leave both usable, and the kernel says why; with it Y, both bind, the
 * device DMAs through the IOMMU, and its INTx (the interrupt every such
 * platform has) reaches its eventfd; back to N, binding is refused again.
 *
 * Each interrupt is waited for up to 60 s (poll on the eventfd) and
 * classified as delivered (with the eventfd's count and the wait) or timed
 * out. Prints TAP; exits 0 only if every check passed.
 */
#include <poll.h>
#include <sys/eventfd.h>
#include "edu.h"

#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64
#define EDU_CMD_IRQ 0x4		/* DMA command: interrupt when done */
#define EDU_DMA_IRQ 0x100	/* the status bit such a DMA sets */
#define LEN (2 * 1024 * 1024)

/* a reserved region of the group; type "msi" for the MSI windows */
struct region {
	__u64 start, last;
	char type[32];
};

static struct region regions[16];
static int nregions;

/* the iommu_group's reserved_regions file, as the kernel lists it */
static void read_regions(const char *bdf)
{
	char path[PATH_MAX], line[128];
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/iommu_group/reserved_regions", bdf);
	f = fopen(path, "r");
	if (!f)
		die("open reserved_regions");
	while (nregions < 16 && fgets(line, sizeof(line), f)) {
		struct region *r = &regions[nregions];
		unsigned long long s, l;

		if (sscanf(line, "%llx %llx %31s", &s, &l, r->type) != 3)
			continue;
		r->start = s;
		r->last = l;
		printf("# reserved region %#llx-%#llx %s\n", s, l, r->type);
		nregions++;
	}
	fclose(f);
}

/* the IOAS's usable ranges leave out every "msi" region */
static int ranges_skip_msi(int iommufd, __u32 ioas)
{
	struct iommu_iova_range r[32];
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = ioas,
		.num_iovas = 32,
		.allowed_iovas = (uintptr_t)r,
	};
	int i, j, nmsi = 0;

	if (ioctl(iommufd, IOMMU_IOAS_IOVA_RANGES, &q))
		die("IOMMU_IOAS_IOVA_RANGES");
	for (j = 0; j < nregions; j++) {
		if (strcmp(regions[j].type, "msi"))
			continue;
		nmsi++;
		for (i = 0; i < (int)q.num_iovas && i < 32; i++)
			if (r[i].start <= regions[j].last &&
			    r[i].last >= regions[j].start)
				return 0;
	}
	return nmsi > 0;
}

/* a fixed map at the start of each "msi" region is EINVAL */
static int msi_maps_refused(int iommufd, __u32 ioas, void *buf)
{
	int j, nmsi = 0;

	for (j = 0; j < nregions; j++) {
		if (strcmp(regions[j].type, "msi"))
			continue;
		nmsi++;
		if (map_native(iommufd, ioas, buf, regions[j].start, 4096) == 0 ||
		    errno != EINVAL) {
			printf("# a map at %#llx: %s\n",
			       (unsigned long long)regions[j].start,
			       strerror(errno));
			return 0;
		}
	}
	return nmsi > 0;
}

/* route the device's vector 0 of @index to a new eventfd; -1 on failure */
static int irq_eventfd(int dev, __u32 index)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int)];
	struct vfio_irq_set *set = (void *)buf;
	struct vfio_irq_info info = {
		.argsz = sizeof(info),
		.index = index,
	};
	int fd;

	if (ioctl(dev, VFIO_DEVICE_GET_IRQ_INFO, &info) || info.count < 1) {
		printf("# the device has no interrupt of index %u (count %u)\n",
		       index, info.count);
		return -1;
	}
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -1;
	memset(buf, 0, sizeof(buf));
	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = index;
	set->start = 0;
	set->count = 1;
	memcpy(set->data, &fd, sizeof(fd));
	if (ioctl(dev, VFIO_DEVICE_SET_IRQS, set)) {
		printf("# VFIO_DEVICE_SET_IRQS (index %u): %s\n", index,
		       strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int msi_eventfd(int dev)
{
	return irq_eventfd(dev, VFIO_PCI_MSI_IRQ_INDEX);
}

/* tear down the device's MSIs (count 0, no data) */
static int msi_off(int dev)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSI_IRQ_INDEX,
	};

	return ioctl(dev, VFIO_DEVICE_SET_IRQS, &set);
}

/*
 * Wait up to 60 s for the eventfd; 1 and the count if it fired, 0 if it
 * timed out. Says which, with the time waited.
 */
static int wait_irq(int efd, const char *what)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	struct timespec t0, t;
	__u64 count = 0;
	long ms;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = poll(&p, 1, 60 * 1000);
	clock_gettime(CLOCK_MONOTONIC, &t);
	ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
	if (n == 1 && read(efd, &count, sizeof(count)) == sizeof(count)) {
		printf("# %s: delivered (eventfd count %llu) after %ld ms\n",
		       what, (unsigned long long)count, ms);
		return 1;
	}
	printf("# %s: timed out after %ld ms (poll %d)\n", what, ms, n);
	return 0;
}

/* raise and acknowledge @rounds interrupts, each waited for */
static void raise_irqs(struct edu *e, int efd, int rounds, const char *when)
{
	char what[160];
	int i, got = 0;

	for (i = 0; i < rounds; i++) {
		wr32(e, EDU_IRQ_RAISE, 1);
		snprintf(what, sizeof(what), "%s: raised interrupt %d", when,
			 i + 1);
		got += wait_irq(efd, what);
		wr32(e, EDU_IRQ_ACK, rd32(e, EDU_IRQ_STATUS));
	}
	snprintf(what, sizeof(what), "%s: %d of %d MSIs reached the eventfd",
		 when, got, rounds);
	ok(got == rounds, what);
}

/* RAM -> edu -> RAM at the two IOVAs, the second DMA with an interrupt */
static void dma_with_irq(struct edu *e, int efd, unsigned char *src,
			 unsigned char *dst, unsigned int seed,
			 const char *when)
{
	char what[160];
	int done, fired;

	fill(src, XFER, seed);
	memset(dst, 0xee, XFER);
	done = edu_dma(e, IOVA_SRC, EDU_BUF, XFER, 0) == 0;
	wr64(e, EDU_DMA_SRC, EDU_BUF);
	wr64(e, EDU_DMA_DST, IOVA_DST);
	wr64(e, EDU_DMA_CNT, XFER);
	wr64(e, EDU_DMA_CMD, EDU_CMD_START | EDU_CMD_TO_RAM | EDU_CMD_IRQ);
	snprintf(what, sizeof(what), "%s: interrupt of a finished DMA", when);
	fired = wait_irq(efd, what);
	if (fired)
		ok(rd32(e, EDU_IRQ_STATUS) & EDU_DMA_IRQ, what);
	else
		ok(0, what);
	wr32(e, EDU_IRQ_ACK, rd32(e, EDU_IRQ_STATUS));
	fill(src, XFER, seed);
	snprintf(what, sizeof(what), "%s: the DMA moved the pattern", when);
	ok(done && !memcmp(src, dst, XFER), what);
}

static __u32 ioas_with_buffers(int iommufd, unsigned char *src,
			       unsigned char *dst)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &a))
		die("IOMMU_IOAS_ALLOC");
	if (map_native(iommufd, a.out_ioas_id, src, IOVA_SRC, LEN) ||
	    map_native(iommufd, a.out_ioas_id, dst, IOVA_DST, LEN))
		die("IOMMU_IOAS_MAP");
	return a.out_ioas_id;
}

/* BIND_IOMMUFD of the cdev to a new iommufd: 0 or the errno */
static int try_bind(int dev, int *iommufd)
{
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b) };

	*iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (*iommufd < 0)
		die("open /dev/iommu");
	b.iommufd = *iommufd;
	return ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b) ? errno : 0;
}

/* SET_CONTAINER of the group on /dev/vfio/vfio: 0 or the errno */
static int try_container(const char *bdf, int *group, int *container)
{
	char path[PATH_MAX];

	*container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	*group = open(group_path(bdf, path, sizeof(path)), O_RDWR | O_CLOEXEC);
	if (*container < 0 || *group < 0)
		die("open the container and the group");
	return ioctl(*group, VFIO_GROUP_SET_CONTAINER, container) ? errno : 0;
}

static void through_cdev(const char *bdf, unsigned char *src,
			 unsigned char *dst)
{
	__u32 ioas, ioas2, hwpt, hwpt2;
	unsigned char *dst2;
	int iommufd, dev, efd;
	struct edu e;

	printf("# --- MSIs of %s through its cdev on an IOAS ---\n", bdf);
	dev = open_cdev(bdf);
	ok(try_bind(dev, &iommufd) == 0, "BIND_IOMMUFD");
	ioas = ioas_with_buffers(iommufd, src, dst);
	hwpt = ioas;
	ok(cdev_attach_pt(dev, &hwpt) == 0, "ATTACH_IOMMUFD_PT to the IOAS");
	ok(ranges_skip_msi(iommufd, ioas),
	   "IOVA_RANGES leaves out the group's msi reserved regions");
	ok(msi_maps_refused(iommufd, ioas, src),
	   "a fixed map at an msi reserved region is EINVAL");
	edu_setup(&e, dev);
	efd = msi_eventfd(dev);
	ok(efd >= 0, "VFIO_DEVICE_SET_IRQS: MSI vector 0 to an eventfd");
	if (efd < 0)
		return;
	raise_irqs(&e, efd, 3, "cdev");
	dma_with_irq(&e, efd, src, dst, 0x31, "cdev");

	/*
	 * A second IOAS with another destination buffer, its own HWPT, and
	 * the device moved onto it: the DMA lands in that buffer only.
	 */
	dst2 = anon_buffer(LEN);
	ioas2 = ioas_with_buffers(iommufd, src, dst2);
	hwpt2 = ioas2;
	if (cdev_attach_pt(dev, &hwpt2))
		printf("# ATTACH_IOMMUFD_PT to the second IOAS: %s\n",
		       strerror(errno));
	ok(hwpt2 != ioas2 && hwpt2 != hwpt,
	   "replaced onto a HWPT of a second IOAS");
	raise_irqs(&e, efd, 1, "after the replace");
	memset(dst, 0xee, XFER);
	dma_with_irq(&e, efd, src, dst2, 0x47, "after the replace");
	ok(dst[0] == 0xee && !memcmp(dst, dst + 1, XFER - 1),
	   "after the replace: the first IOAS's buffer was not written");
	ok(msi_off(dev) == 0, "MSIs torn down");
	close(efd);
	efd = msi_eventfd(dev);
	ok(efd >= 0, "MSIs set up again on the second HWPT");
	if (efd >= 0) {
		raise_irqs(&e, efd, 2, "set up on the second HWPT");
		msi_off(dev);
		close(efd);
	}
	close(dev);
	close(iommufd);
}

static void through_container(const char *bdf, unsigned char *src,
			      unsigned char *dst)
{
	int container, group, dev, efd;
	struct edu e;

	printf("# --- MSIs of %s through /dev/vfio/vfio (type1) ---\n", bdf);
	ok(try_container(bdf, &group, &container) == 0,
	   "VFIO_GROUP_SET_CONTAINER on /dev/vfio/vfio");
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		die("VFIO_SET_IOMMU");
	ok(map_type1(container, src, IOVA_SRC, LEN) == 0 &&
	   map_type1(container, dst, IOVA_DST, LEN) == 0, "VFIO_IOMMU_MAP_DMA");
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (dev < 0)
		die("VFIO_GROUP_GET_DEVICE_FD");
	edu_setup(&e, dev);
	efd = msi_eventfd(dev);
	ok(efd >= 0, "VFIO_DEVICE_SET_IRQS: MSI vector 0 to an eventfd");
	if (efd >= 0) {
		raise_irqs(&e, efd, 3, "type1");
		dma_with_irq(&e, efd, src, dst, 0x5c, "type1");
		msi_off(dev);
		close(efd);
	}
	close(dev);
	close(group);
	close(container);
}

#define UNSAFE_PARAM "/sys/module/iommufd/parameters/allow_unsafe_interrupts"

/* the module parameter as the kernel reports it: 'Y', 'N' or 0 */
static char unsafe_param(void)
{
	char c = 0;
	int fd = open(UNSAFE_PARAM, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = 0;
		close(fd);
	}
	return c;
}

/* both refused with EPERM, and both usable afterwards */
static void refused(const char *bdf, const char *when)
{
	int dev, iommufd, group, container, err;
	char what[160];

	dev = open_cdev(bdf);
	err = try_bind(dev, &iommufd);
	snprintf(what, sizeof(what), "%s: BIND_IOMMUFD is EPERM (%s)", when,
		 err ? strerror(err) : "bound");
	ok(err == EPERM, what);
	close(iommufd);
	close(dev);
	err = try_container(bdf, &group, &container);
	snprintf(what, sizeof(what),
		 "%s: SET_CONTAINER on /dev/vfio/vfio is EPERM (%s)", when,
		 err ? strerror(err) : "set");
	ok(err == EPERM, what);
	close(group);
	close(container);
}

static void unsafe(const char *bdf, unsigned char *src, unsigned char *dst)
{
	int dev, iommufd, group, container, efd, kmsg, err;
	struct edu e;
	__u32 ioas, hwpt;
	char c;

	printf("# --- %s on a platform without MSI isolation ---\n", bdf);
	c = unsafe_param();
	ok(c == 'N', "allow_unsafe_interrupts is N by default");
	kmsg = kmsg_open();
	refused(bdf, "not allowed");
	if (kmsg >= 0) {
		char rec[1024];
		int said = 0;
		ssize_t n;

		lseek(kmsg, 0, SEEK_SET);	/* from the oldest record */
		while ((n = read(kmsg, rec, sizeof(rec) - 1)) > 0 ||
		       (n < 0 && errno == EPIPE)) {
			if (n <= 0)
				continue;
			rec[n] = 0;
			said |= !!strstr(rec, "MSIs can't be isolated");
		}
		ok(said, "the kernel log says why (MSIs can't be isolated)");
		close(kmsg);
	}

	ok(write_file(UNSAFE_PARAM, "Y") == 0 && unsafe_param() == 'Y',
	   "allow_unsafe_interrupts set to Y");
	dev = open_cdev(bdf);
	err = try_bind(dev, &iommufd);
	ok(!err, "allowed: BIND_IOMMUFD binds");
	ioas = ioas_with_buffers(iommufd, src, dst);
	hwpt = ioas;
	ok(cdev_attach_pt(dev, &hwpt) == 0, "allowed: ATTACH_IOMMUFD_PT");
	edu_setup(&e, dev);
	fill(src, XFER, 0x6b);
	memset(dst, 0xee, XFER);
	ok(edu_dma(&e, IOVA_SRC, EDU_BUF, XFER, 0) == 0 &&
	   edu_dma(&e, EDU_BUF, IOVA_DST, XFER, 1) == 0 &&
	   !memcmp(src, dst, XFER), "allowed: the edu DMAs through the IOMMU");
	efd = irq_eventfd(dev, VFIO_PCI_INTX_IRQ_INDEX);
	ok(efd >= 0, "allowed: VFIO_DEVICE_SET_IRQS: INTx to an eventfd");
	if (efd >= 0) {
		wr32(&e, EDU_IRQ_RAISE, 1);
		ok(wait_irq(efd, "allowed: raised INTx"),
		   "allowed: the INTx reached the eventfd");
		wr32(&e, EDU_IRQ_ACK, rd32(&e, EDU_IRQ_STATUS));
		close(efd);
	}
	close(dev);
	close(iommufd);
	err = try_container(bdf, &group, &container);
	ok(!err, "allowed: SET_CONTAINER on /dev/vfio/vfio");
	close(group);
	close(container);

	ok(write_file(UNSAFE_PARAM, "N") == 0 && unsafe_param() == 'N',
	   "allow_unsafe_interrupts set back to N");
	refused(bdf, "not allowed again");
}

int main(int argc, char **argv)
{
	unsigned char *src, *dst;

	printf("TAP version 13\n");
	if (argc == 3 && !strcmp(argv[1], "--unsafe")) {
		src = anon_buffer(LEN);
		dst = anon_buffer(LEN);
		unsafe(argv[2], src, dst);
		printf("1..%d\n", ntest);
		return nfail ? 1 : 0;
	}
	if (argc != 2) {
		printf("not ok 1 usage: edu-msi [--unsafe] <bdf>\n1..1\n");
		return 1;
	}
	read_regions(argv[1]);
	src = anon_buffer(LEN);
	dst = anon_buffer(LEN);
	through_cdev(argv[1], src, dst);
	through_container(argv[1], src, dst);
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
