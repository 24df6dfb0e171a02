// SPDX-License-Identifier: GPL-2.0-only
/*
 * edu-cdev: QEMU's edu devices, bound to vfio-pci, used through their VFIO
 * cdevs (/dev/vfio/devices/vfioX) and iommufd, without groups.
 *
 *   edu-cdev <single-bdf> <pair-fn0-bdf> <pair-fn1-bdf>
 *
 * The single edu (alone in its iommu_group):
 *  - a parked descriptor (opened, not bound) can do nothing: every ioctl
 *    but BIND, read, write and mmap fail with EINVAL, and bad BINDs leave
 *    it parked;
 *  - a cdev and the group node exclude each other;
 *  - bound but not attached, the device's DMA is blocked;
 *  - attached to an IOAS, a pattern goes RAM -> edu -> RAM;
 *  - attached again to a second IOAS, its DMA follows to the second IOAS's
 *    pages at the same IOVAs;
 *  - it can't attach to a mock domain's HWPT (another IOMMU driver), nor
 *    to an ID of another iommufd; a process without the iommufd can't
 *    reach its objects;
 *  - after DETACH and after close its DMA is blocked again, and an iommufd
 *    closed before the device's descriptor is safe;
 *  - IOMMU_GET_HW_INFO says the IOMMU (VT-d, SMMUv3) describes nothing.
 *  - a HWPT allocated for it leaves its IOAS's IOVA ranges alone until
 *    the first attach; then they end at the IOMMU's address width (VT-d:
 *    the unit's; SMMUv3: 48 bits) and a MAP above it is EINVAL.
 * The two functions of the other slot (one iommu_group):
 *  - both can be bound to one iommufd, not to two;
 *  - while one is bound the other can't get a kernel driver that uses the
 *    DMA API (uio_pci_generic; pci-stub would not do: it does no DMA and
 *    says so), and gets it once the first is closed; while a kernel
 *    driver has one, the other can't be bound.
 * Prints TAP; exits 0 only if every check passed.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "edu.h"
#include "../../iommufd_test.h"

#define LEN (2 * 1024 * 1024)

static void check_errno(int ret, int err, const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s: %s (%s)", what, strerror(err),
		 ret ? strerror(errno) : "succeeded");
	ok(ret != 0 && errno == err, msg);
}

static int bind(int dev, int iommufd, __u32 *dev_id)
{
	struct vfio_device_bind_iommufd b = {
		.argsz = sizeof(b),
		.iommufd = iommufd,
	};
	int ret = ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b);

	if (!ret && dev_id)
		*dev_id = b.out_devid;
	return ret;
}

static int detach(int dev)
{
	struct vfio_device_detach_iommufd_pt d = { .argsz = sizeof(d) };

	return ioctl(dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d);
}

static __u32 ioas_alloc(int iommufd)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &a))
		die("IOMMU_IOAS_ALLOC");
	return a.out_ioas_id;
}

/* the name of @bdf's driver, "" if it has none */
static const char *driver_of(const char *bdf)
{
	static char name[64];
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return "";
	link[n] = 0;
	snprintf(name, sizeof(name), "%s", strrchr(link, '/') + 1);
	return name;
}

/* unbind @bdf from its driver and probe it for driver @drv */
static void set_driver(const char *bdf, const char *drv)
{
	char path[PATH_MAX];

	if (*driver_of(bdf)) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind",
			 bdf);
		write_file(path, bdf);
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	write_file(path, drv);
	/* a probe that fails with EBUSY makes this write fail: fine */
	write_file("/sys/bus/pci/drivers_probe", bdf);
}

/* the parked descriptor: nothing works, and failed binds keep it so */
static void parked_fd(const char *bdf, int iommufd)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info reg = { .argsz = sizeof(reg) };
	struct vfio_device_bind_iommufd b = {
		.argsz = sizeof(b),
		.iommufd = iommufd,
	};
	char buf[4], path[PATH_MAX];
	struct stat st;
	__u32 pt = 1;
	int dev, null;
	void *p;

	printf("# --- a parked cdev descriptor (%s) ---\n", bdf);
	ok(cdev_path(bdf, path, sizeof(path)) == 0 && stat(path, &st) == 0 &&
	   S_ISCHR(st.st_mode), "the device has /dev/vfio/devices/vfioX");
	printf("# %s is %u:%u\n", path, major(st.st_rdev), minor(st.st_rdev));
	dev = open_cdev(bdf);
	ok(1, "opened it");

	check_errno(ioctl(dev, VFIO_DEVICE_GET_INFO, &info), EINVAL,
		    "VFIO_DEVICE_GET_INFO before BIND");
	check_errno(ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &reg), EINVAL,
		    "VFIO_DEVICE_GET_REGION_INFO before BIND");
	check_errno(ioctl(dev, VFIO_DEVICE_RESET), EINVAL,
		    "VFIO_DEVICE_RESET before BIND");
	check_errno(cdev_attach_pt(dev, &pt), EINVAL, "ATTACH_IOMMUFD_PT before BIND");
	check_errno(detach(dev), EINVAL, "DETACH_IOMMUFD_PT before BIND");
	check_errno(pread(dev, buf, 4, 0) < 0, EINVAL, "pread before BIND");
	check_errno(pwrite(dev, buf, 4, 0) < 0, EINVAL, "pwrite before BIND");
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, dev, 0);
	check_errno(p == MAP_FAILED, EINVAL, "mmap before BIND");
	if (p != MAP_FAILED)
		munmap(p, 4096);

	b.flags = 1 << 1;
	check_errno(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b), EINVAL,
		    "BIND with unknown flags");
	/* the edu is neither a PF nor a VF: it keeps no SR-IOV VF token */
	b.flags = VFIO_DEVICE_BIND_FLAG_TOKEN;
	b.token_uuid_ptr = 8;
	check_errno(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b), EFAULT,
		    "BIND with FLAG_TOKEN and an unreadable UUID");
	b.token_uuid_ptr = (uintptr_t)path;	/* 16 readable bytes */
	check_errno(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b), EINVAL,
		    "BIND with a VF token, of a device that keeps none");
	b.token_uuid_ptr = 0;
	b.flags = 0;
	b.argsz = 8;
	check_errno(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b), EINVAL,
		    "BIND with a short argsz");
	b.argsz = sizeof(b);
	b.iommufd = -1;
	check_errno(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b), EBADF,
		    "BIND of descriptor -1");
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	b.iommufd = null;
	check_errno(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b), EBADFD,
		    "BIND of a descriptor that is not /dev/iommu");
	close(null);
	check_errno(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, NULL), EFAULT,
		    "BIND with a NULL argument");
	check_errno(ioctl(dev, VFIO_DEVICE_GET_INFO, &info), EINVAL,
		    "still parked after the failed BINDs");
	close(dev);
}

/* cdev and group exclude each other */
static void exclusion(const char *bdf, int iommufd)
{
	char gpath[PATH_MAX + 16];
	int dev, dev2, group;

	printf("# --- cdev and group node (%s) ---\n", bdf);
	group_path(bdf, gpath, sizeof(gpath));
	dev = open_cdev(bdf);
	group = open(gpath, O_RDWR | O_CLOEXEC);
	ok(group >= 0, "the group node opens beside a parked cdev");
	check_errno(bind(dev, iommufd, NULL), EBUSY,
		    "BIND while the group node is open");
	close(group);
	ok(bind(dev, iommufd, NULL) == 0, "BIND once the group node is closed");
	group = open(gpath, O_RDWR | O_CLOEXEC);
	check_errno(group >= 0 ? (close(group), 0) : -1, EBUSY,
		    "the group node does not open while the cdev is bound");
	check_errno(bind(dev, iommufd, NULL), EINVAL, "a second BIND");
	dev2 = open_cdev(bdf);
	check_errno(bind(dev2, iommufd, NULL), EINVAL,
		    "BIND of a second descriptor of the same device");
	close(dev2);
	{
		/* patch 0011: bit 63 made a negative BAR index, and an oops */
		struct vfio_device_ioeventfd ie = {
			.argsz = sizeof(ie),
			.flags = VFIO_DEVICE_IOEVENTFD_32,
			.offset = 1ULL << 63,
			.fd = -1,
		};

		check_errno(ioctl(dev, VFIO_DEVICE_IOEVENTFD, &ie), EINVAL,
			    "IOEVENTFD at an offset with bit 63 set");
		ie.offset = ~0ULL << 40;
		check_errno(ioctl(dev, VFIO_DEVICE_IOEVENTFD, &ie), EINVAL,
			    "IOEVENTFD at region index -1");
	}
	close(dev);
	group = open(gpath, O_RDWR | O_CLOEXEC);
	ok(group >= 0, "the group node opens again after close");
	if (group >= 0)
		close(group);
}

/* a DMA edu -> @iova is blocked: it ends, @mem stays 0xee, the IOMMU says so */
static void dma_blocked(struct edu *e, __u64 iova, unsigned char *mem,
			const char *when)
{
	char what[160];
	int kmsg;

	memset(mem, 0xee, XFER);
	kmsg = kmsg_open();
	snprintf(what, sizeof(what), "%s: a DMA to RAM ends", when);
	ok(edu_dma(e, EDU_BUF, iova, XFER, 1) == 0, what);
	snprintf(what, sizeof(what), "%s: it wrote nothing", when);
	ok(mem[0] == 0xee && !memcmp(mem, mem + 1, XFER - 1), what);
	snprintf(what, sizeof(what), "%s: the IOMMU reported the fault", when);
	ok(kmsg >= 0 && kmsg_wait_fault(kmsg, iova), what);
	if (kmsg >= 0)
		close(kmsg);
}

/* a pattern from @src (at IOVA_SRC) lands in @dst (at IOVA_DST + 4096) */
static void dma_roundtrip(struct edu *e, unsigned char *src,
			  unsigned char *dst, const char *when)
{
	char what[160];

	memset(dst, 0xee, LEN);
	snprintf(what, sizeof(what), "%s: DMA RAM -> edu -> RAM", when);
	ok(edu_dma(e, IOVA_SRC, EDU_BUF, XFER, 0) == 0 &&
	   edu_dma(e, EDU_BUF, IOVA_DST + 4096, XFER, 1) == 0, what);
	snprintf(what, sizeof(what), "%s: the bytes arrived, nothing else",
		 when);
	ok(!memcmp(dst + 4096, src, XFER) && dst[4095] == 0xee &&
	   dst[4096 + XFER] == 0xee, what);
}

static unsigned char *buffer(unsigned int seed)
{
	unsigned char *p = anon_buffer(LEN);

	fill(p, LEN, seed);
	return p;
}

/* another process, without the iommufd, can't reach its objects */
static void other_process(int iommufd, __u32 ioas, __u32 hwpt,
			  unsigned char *src)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		die("fork");
	if (!pid) {
		struct iommu_destroy d = { .size = sizeof(d), .id = hwpt };
		int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		int bad = 0;

		close(iommufd);
		/* its own context holds nothing with these IDs */
		if (fd < 0)
			_exit(2);
		if (!map_native(fd, ioas, src, IOVA_SRC + LEN, 4096) ||
		    errno != ENOENT)
			bad |= 1;
		if (!ioctl(fd, IOMMU_DESTROY, &d) || errno != ENOENT)
			bad |= 2;
		d.id = ioas;
		if (!ioctl(fd, IOMMU_DESTROY, &d) || errno != ENOENT)
			bad |= 4;
		_exit(bad);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "another process can't map into, or destroy, our IOAS and HWPT");
}

/*
 * IOMMU_GET_HW_INFO for the bound device: 6.1's VT-d and arm-smmu-v3 have
 * nothing that describes their hardware, so the type is NONE, no data is
 * returned and the caller's buffer is zeroed to its length; an ID that is
 * no device is ENOENT.
 */
static void hw_info(int iommufd, __u32 dev_id)
{
	unsigned char data[64];
	struct iommu_hw_info h = {
		.size = sizeof(h),
		.dev_id = dev_id,
		.data_len = sizeof(data),
		.data_uptr = (uintptr_t)data,
		.out_data_type = 0xffff,
	};
	int rc;

	memset(data, 0xa5, sizeof(data));
	rc = ioctl(iommufd, IOMMU_GET_HW_INFO, &h);
	printf("# GET_HW_INFO: %s, type %u, data_len %u, capabilities %#llx\n",
	       rc ? strerror(errno) : "ok", h.out_data_type, h.data_len,
	       (unsigned long long)h.out_capabilities);
	ok(!rc && h.out_data_type == IOMMU_HW_INFO_TYPE_NONE &&
	   h.data_len == 0 && h.out_capabilities == 0 &&
	   data[0] == 0 && !memcmp(data, data + 1, sizeof(data) - 1),
	   "GET_HW_INFO: type NONE, no data, the buffer zeroed");
	h.dev_id = dev_id + 1000;
	rc = ioctl(iommufd, IOMMU_GET_HW_INFO, &h);
	ok(rc && errno == ENOENT, "GET_HW_INFO of an ID that is no device: ENOENT");
}

static void dma(const char *bdf)
{
	unsigned char *src = buffer(0x5a), *dst = buffer(0);
	unsigned char *src2 = buffer(0xc3), *dst2 = buffer(0);
	struct iommu_test_cmd mock = {
		.size = sizeof(mock),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
	};
	struct vfio_device_attach_iommufd_pt a = { .argsz = sizeof(a) };
	__u32 ioas1, ioas2, pt, hwpt1, dev_id, other_ioas;
	int iommufd, other, dev;
	struct edu e;

	printf("# --- DMA through the cdev (%s) ---\n", bdf);
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (iommufd < 0)
		die("open /dev/iommu");
	ioas1 = ioas_alloc(iommufd);
	ioas2 = ioas_alloc(iommufd);
	ok(!map_native(iommufd, ioas1, src, IOVA_SRC, LEN) &&
	   !map_native(iommufd, ioas1, dst, IOVA_DST, LEN) &&
	   !map_native(iommufd, ioas2, src2, IOVA_SRC, LEN) &&
	   !map_native(iommufd, ioas2, dst2, IOVA_DST, LEN),
	   "two IOASes map different buffers at the same IOVAs");

	dev = open_cdev(bdf);
	ok(bind(dev, iommufd, &dev_id) == 0 && dev_id, "BIND_IOMMUFD");
	printf("# device ID %u, IOASes %u and %u\n", dev_id, ioas1, ioas2);
	hw_info(iommufd, dev_id);
	edu_setup(&e, dev);
	ok((rd32(&e, EDU_ID) & 0xff) == 0xed, "BAR0 reads: the edu ID register");
	dma_blocked(&e, IOVA_DST, dst, "bound, not attached");

	pt = ioas1;
	ok(cdev_attach_pt(dev, &pt) == 0 && pt != ioas1,
	   "ATTACH_IOMMUFD_PT to IOAS 1 gives a HWPT ID");
	hwpt1 = pt;
	dma_roundtrip(&e, src, dst, "IOAS 1");

	pt = ioas2;
	ok(cdev_attach_pt(dev, &pt) == 0 && pt != hwpt1,
	   "ATTACH_IOMMUFD_PT again, to IOAS 2: replace");
	memset(dst, 0xee, LEN);
	dma_roundtrip(&e, src2, dst2, "after replace, IOAS 2");
	ok(dst[4096] == 0xee && !memcmp(dst, dst + 1, LEN - 1),
	   "IOAS 1's buffer was not written after the replace");

	/* a HWPT of the mock IOMMU driver, in IOAS 1 */
	mock.id = ioas1;
	ok(ioctl(iommufd, IOMMU_TEST_CMD, &mock) == 0,
	   "a mock device and its HWPT in IOAS 1");
	pt = mock.mock_domain.out_hwpt_id;
	check_errno(cdev_attach_pt(dev, &pt), EINVAL,
		    "ATTACH to the mock driver's HWPT");
	pt = 0xfffff;
	check_errno(cdev_attach_pt(dev, &pt), ENOENT, "ATTACH to a missing ID");
	pt = dev_id;
	check_errno(cdev_attach_pt(dev, &pt), EINVAL, "ATTACH to the device's own ID");
	a.flags = 1;
	a.pt_id = ioas1;
	check_errno(ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a), EINVAL,
		    "ATTACH with unknown flags");
	other = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	do
		other_ioas = ioas_alloc(other);
	while (other_ioas <= mock.mock_domain.out_idev_id + 8);
	pt = other_ioas;
	check_errno(cdev_attach_pt(dev, &pt), ENOENT,
		    "ATTACH to an IOAS ID of another iommufd");
	close(other);
	dma_roundtrip(&e, src2, dst2, "after the failed ATTACHes, still IOAS 2");
	other_process(iommufd, ioas2, hwpt1, src);

	ok(detach(dev) == 0, "DETACH_IOMMUFD_PT");
	dma_blocked(&e, IOVA_DST + 4096, dst2 + 4096, "detached");
	ok(detach(dev) == 0, "DETACH again is a no-op");
	pt = ioas1;
	ok(cdev_attach_pt(dev, &pt) == 0, "ATTACH after DETACH");
	dma_roundtrip(&e, src, dst, "attached again, IOAS 1");

	/* the iommufd goes first; the descriptor keeps its context alive */
	close(iommufd);
	dma_roundtrip(&e, src, dst, "after close of the iommufd");
	close(dev);
	ok(1, "closed the bound, attached descriptor after its iommufd");

	/* bound anew in a context without mappings: nothing is reachable */
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	dev = open_cdev(bdf);
	pt = ioas_alloc(iommufd);
	ok(bind(dev, iommufd, NULL) == 0 && cdev_attach_pt(dev, &pt) == 0,
	   "bound again, to an empty IOAS of a new iommufd");
	edu_setup(&e, dev);
	dma_blocked(&e, IOVA_DST + 4096, dst + 4096,
		    "the old mappings are gone");
	close(dev);
	close(iommufd);
	munmap(src, LEN);
	munmap(dst, LEN);
	munmap(src2, LEN);
	munmap(dst2, LEN);
}

/* the two functions of one iommu_group */
static void pair(const char *fn0, const char *fn1)
{
	int a, b, dev0, dev1;

	printf("# --- one iommu_group, two functions (%s, %s) ---\n", fn0,
	       fn1);
	a = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	b = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	dev0 = open_cdev(fn0);
	dev1 = open_cdev(fn1);
	ok(bind(dev0, a, NULL) == 0, "function 0 binds to iommufd A");
	check_errno(bind(dev1, b, NULL), EBUSY,
		    "function 1 does not bind to iommufd B");
	ok(bind(dev1, a, NULL) == 0, "function 1 binds to iommufd A");
	close(dev1);

	set_driver(fn1, "uio_pci_generic");
	ok(strcmp(driver_of(fn1), "uio_pci_generic") != 0,
	   "while function 0 is bound, function 1 gets no kernel driver");
	close(dev0);
	set_driver(fn1, "uio_pci_generic");
	ok(strcmp(driver_of(fn1), "uio_pci_generic") == 0,
	   "once function 0 is closed, function 1 gets uio_pci_generic");
	dev0 = open_cdev(fn0);
	check_errno(bind(dev0, a, NULL), EBUSY,
		    "while uio_pci_generic has function 1, function 0 does not bind");
	close(dev0);
	set_driver(fn1, "vfio-pci");
	ok(strcmp(driver_of(fn1), "vfio-pci") == 0,
	   "function 1 is back on vfio-pci");
	dev0 = open_cdev(fn0);
	ok(bind(dev0, b, NULL) == 0, "and function 0 binds again, to B");
	close(dev0);
	close(a);
	close(b);
}

/* The end of the IOAS's highest usable IOVA range, or 0 on an error. */
static __u64 ranges_end(int iommufd, __u32 ioas, __u32 *num)
{
	struct iommu_iova_range r[8];
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = ioas,
		.num_iovas = 8,
		.allowed_iovas = (uintptr_t)r,
	};

	if (ioctl(iommufd, IOMMU_IOAS_IOVA_RANGES, &q) || !q.num_iovas ||
	    q.num_iovas > 8)
		return 0;
	*num = q.num_iovas;
	return r[q.num_iovas - 1].last;
}

/*
 * 6.1's VT-d gives a new domain a 57-bit aperture and cuts its page table
 * to the unit's address width (39 bits in our VM, 48 on most hardware) at
 * its first attach; 6.1's arm-smmu-v3 gives it no aperture at all until
 * then (48 bits after it, in our arm64 VM). So a HWPT of it must not join its IOAS before that
 * attach (IOVA_RANGES does not change at HWPT_ALLOC), and once attached
 * the IOAS reserves everything above the unit's width: IOVA_RANGES ends
 * there and a MAP above it is refused with EINVAL.
 */
static void ranges_after_attach(const char *bdf)
{
	unsigned char *buf = buffer(0x11);
	struct iommu_hwpt_alloc h = { .size = sizeof(h) };
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.user_va = (uintptr_t)buf,
		.length = 4096,
	};
	__u64 end0, end1, end2;
	__u32 n0 = 0, n1 = 0, n2 = 0, ioas, pt, dev_id;
	int iommufd, dev, rc;
	char msg[160];

	printf("# --- IOVA ranges of a new domain (%s) ---\n", bdf);
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (iommufd < 0)
		die("open /dev/iommu");
	ioas = ioas_alloc(iommufd);
	end0 = ranges_end(iommufd, ioas, &n0);
	ok(end0 == ~0ULL, "an IOAS with no domain: IOVA up to U64_MAX");

	dev = open_cdev(bdf);
	ok(bind(dev, iommufd, &dev_id) == 0, "BIND_IOMMUFD");
	h.dev_id = dev_id;
	h.pt_id = ioas;
	ok(ioctl(iommufd, IOMMU_HWPT_ALLOC, &h) == 0, "HWPT_ALLOC");
	end1 = ranges_end(iommufd, ioas, &n1);
	snprintf(msg, sizeof(msg),
		 "before its first attach the HWPT is not in the IOAS: ranges end at %#llx (%u range(s))",
		 (unsigned long long)end1, n1);
	ok(end1 == end0 && n1 == n0, msg);

	pt = h.out_hwpt_id;
	ok(cdev_attach_pt(dev, &pt) == 0 && pt == h.out_hwpt_id,
	   "ATTACH_IOMMUFD_PT to the HWPT");
	end2 = ranges_end(iommufd, ioas, &n2);
	snprintf(msg, sizeof(msg),
		 "attached: ranges end at the IOMMU's width, %#llx (2^%d - 1)",
		 (unsigned long long)end2,
		 end2 + 1 ? 63 - __builtin_clzll(end2 + 1) : 64);
	ok(end2 && end2 < (1ULL << 57) - 1 && end2 <= (1ULL << 48) - 1 &&
	   !((end2 + 1) & end2), msg);

	m.ioas_id = ioas;
	m.iova = end2 + 1;
	rc = ioctl(iommufd, IOMMU_IOAS_MAP, &m);
	snprintf(msg, sizeof(msg), "MAP just above it: EINVAL (%s)",
		 rc ? strerror(errno) : "succeeded");
	ok(rc && errno == EINVAL, msg);
	m.iova = end2 + 1 - 4096;
	ok(ioctl(iommufd, IOMMU_IOAS_MAP, &m) == 0,
	   "MAP of its last page works");
	close(dev);
	close(iommufd);
	munmap(buf, LEN);
}

int main(int argc, char **argv)
{
	int iommufd;

	if (argc != 4) {
		fprintf(stderr, "usage: %s <single-bdf> <fn0-bdf> <fn1-bdf>\n",
			argv[0]);
		return 2;
	}
	printf("TAP version 13\n");
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (iommufd < 0)
		die("open /dev/iommu");
	parked_fd(argv[1], iommufd);
	exclusion(argv[1], iommufd);
	close(iommufd);
	dma(argv[1]);
	ranges_after_attach(argv[1]);
	pair(argv[2], argv[3]);
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
