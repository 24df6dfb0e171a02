// SPDX-License-Identifier: GPL-2.0-only
/*
 * compat-info: what VFIO_IOMMU_GET_INFO of a type1 container says about
 * a VFIO group's IOVA ranges before any device of the group is opened.
 *
 *   compat-info <bdf>
 *
 * VFIO's type1 attaches a group's domain at VFIO_SET_IOMMU, so GET_INFO
 * already tells the devices' aperture and reserved regions then; programs
 * carve their IOVA out of those ranges before they open the device
 * (libvfn, QEMU's nvme:// driver). On the edu alone in its group, with
 * /dev/vfio/vfio as the container (served by iommufd on the debug kernel,
 * by VFIO's type1 on the perf one): SET_CONTAINER, SET_IOMMU(TYPE1), then
 * GET_INFO must give the IOMMU's page sizes and list ranges that end at
 * the aperture's end (VT-d: the unit's address width, from the cap
 * register in sysfs; SMMUv3: 48 bits, see iommu_width(); below 2^39 if
 * neither is known), never at U64_MAX, and leave out the group's MSI
 * window (its "msi" reserved region: 0xfee00000-0xfeefffff on x86,
 * SMMUv3's software window 0x8000000-0x80fffff on arm64). MAP_DMA past the
 * aperture or into the window is refused already, a buffer at the start of the first range
 * maps, GET_INFO says the same once the device is open (and the edu DMAs
 * through that buffer) and after it is closed. On iommufd also:
 * IOMMU_IOAS_IOVA_RANGES of the compatibility IOAS gives the same ranges,
 * and once the group has left, nothing bounds the IOAS and GET_INFO has
 * no range capability at all. Prints TAP; exits 0 only if every check
 * passed.
 */
#include "edu.h"

#define MAX_RANGES 16
#define MAP_LEN (64 * 1024)

struct ranges {
	__u64 pgsizes;
	int has_cap;		/* an IOVA_RANGE capability was in the chain */
	__u32 nr_all;		/* the ranges it lists */
	__u32 nr;		/* those of them kept in r[] */
	struct vfio_iova_range r[MAX_RANGES];
};

/* GET_INFO of @container with its whole capability chain; 0 or -1 */
static int get_ranges(int container, struct ranges *out)
{
	struct vfio_iommu_type1_info head = { .argsz = sizeof(head) };
	struct vfio_iommu_type1_info *info;
	__u32 off, i;

	memset(out, 0, sizeof(*out));
	if (ioctl(container, VFIO_IOMMU_GET_INFO, &head))
		return -1;
	out->pgsizes = head.iova_pgsizes;
	if (!(head.flags & VFIO_IOMMU_INFO_CAPS) || head.argsz <= sizeof(head))
		return 0;
	info = calloc(1, head.argsz);
	if (!info)
		die("calloc");
	info->argsz = head.argsz;
	if (ioctl(container, VFIO_IOMMU_GET_INFO, info)) {
		free(info);
		return -1;
	}
	off = info->cap_offset;
	while (off && off + sizeof(struct vfio_info_cap_header) <= info->argsz) {
		struct vfio_info_cap_header *cap = (void *)info + off;

		if (cap->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			struct vfio_iommu_type1_info_cap_iova_range *c =
				(void *)cap;

			out->has_cap = 1;
			out->nr_all = c->nr_iovas;
			for (i = 0; i < c->nr_iovas && i < MAX_RANGES; i++)
				out->r[i] = c->iova_ranges[i];
			out->nr = i;
		}
		/* the chain only goes forward */
		if (cap->next <= off)
			break;
		off = cap->next;
	}
	free(info);
	return 0;
}

static void print_ranges(const char *when, const struct ranges *g)
{
	__u32 i;

	printf("# %s: iova_pgsizes %#llx, %s%u range(s)\n", when,
	       (unsigned long long)g->pgsizes,
	       g->has_cap ? "" : "no IOVA_RANGE capability, ", g->nr_all);
	for (i = 0; i < g->nr; i++)
		printf("#   [%#llx, %#llx]\n",
		       (unsigned long long)g->r[i].start,
		       (unsigned long long)g->r[i].end);
}

static int same_ranges(const struct ranges *a, const struct ranges *b)
{
	return a->has_cap == b->has_cap && a->nr_all == b->nr_all &&
	       a->nr == b->nr && !memcmp(a->r, b->r, sizeof(a->r[0]) * a->nr);
}

/* sorted, apart, none ending at U64_MAX, none touching the MSI window */
static int ranges_sane(const struct ranges *g)
{
	__u32 i;

	for (i = 0; i < g->nr; i++) {
		const struct vfio_iova_range *r = &g->r[i];

		if (r->start > r->end || r->end == UINT64_MAX)
			return 0;
		if (i && r->start <= g->r[i - 1].end + 1)
			return 0;
	}
	return 1;
}

/* the group's MSI window, from its reserved_regions */
static __u64 msi_start, msi_last;

static int msi_excluded(const struct ranges *g)
{
	__u32 i;

	for (i = 0; i < g->nr; i++)
		if (g->r[i].start <= msi_last && g->r[i].end >= msi_start)
			return 0;
	return 1;
}

/* the first "msi" reserved region of @bdf's group; 0 if found */
static int msi_window(const char *bdf)
{
	char path[PATH_MAX], line[128], type[32];
	unsigned long long s, l;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/iommu_group/reserved_regions", bdf);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %llx %31s", &s, &l, type) == 3 &&
		    !strcmp(type, "msi")) {
			msi_start = s;
			msi_last = l;
			found = 1;
		}
	fclose(f);
	return found ? 0 : -1;
}

/*
 * The address width of the domains of @bdf's IOMMU. For a VT-d unit, as
 * 6.1's driver computes it: the widest supported guest address width
 * (SAGAW, cap bits 12:8) of at most 57 bits, capped by MGAW + 1 (bits
 * 21:16). For an SMMUv3 (its sysfs name is smmu3.<address>), 6.1's
 * arm-smmu-v3 makes stage-1 domains of the CPU's virtual address size,
 * 48 bits in our arm64 kernel (VA_BITS=48; 52 only with the SMMU's VAX
 * feature, which QEMU's model lacks), which the 44-bit IAS it reads does
 * not cut. 0 if neither is known.
 */
static int iommu_width(const char *bdf)
{
	char path[PATH_MAX], buf[64], link[PATH_MAX];
	unsigned long long cap;
	int sagaw, mgaw, agaw, width;
	const char *name;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = 0;
		name = strrchr(link, '/');
		name = name ? name + 1 : link;
		if (!strncmp(name, "smmu3.", 6)) {
			printf("# %s: SMMUv3 stage 1: 48-bit domains\n", name);
			return 48;
		}
	}
	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/iommu/intel-iommu/cap", bdf);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return 0;
	}
	fclose(f);
	cap = strtoull(buf, NULL, 16);
	sagaw = (cap >> 8) & 0x1f;
	mgaw = ((cap >> 16) & 0x3f) + 1;
	/* agaw 1, 2, 3: 39, 48, 57 bits */
	for (agaw = 3; agaw >= 0 && !(sagaw & (1 << agaw)); agaw--)
		;
	if (agaw < 0)
		return 0;
	width = 30 + 9 * agaw;
	if (width > mgaw)
		width = mgaw;
	printf("# VT-d cap %#llx: SAGAW %#x, MGAW %d: %d-bit domains\n", cap,
	       sagaw, mgaw, width);
	return width;
}

/* 1 if @fd is an iommufd file (it knows IOMMU_VFIO_IOAS) */
static int is_iommufd(int fd)
{
	struct iommu_vfio_ioas v = {
		.size = sizeof(v),
		.op = IOMMU_VFIO_IOAS_GET,
	};

	return !ioctl(fd, IOMMU_VFIO_IOAS, &v) || errno == ENODEV;
}

/* IOMMU_IOAS_IOVA_RANGES of the compatibility IOAS equals @g's ranges */
static int native_ranges_equal(int fd, const struct ranges *g)
{
	struct iommu_iova_range r[MAX_RANGES];
	struct iommu_vfio_ioas v = {
		.size = sizeof(v),
		.op = IOMMU_VFIO_IOAS_GET,
	};
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.num_iovas = MAX_RANGES,
		.allowed_iovas = (uintptr_t)r,
	};
	__u32 i;

	if (ioctl(fd, IOMMU_VFIO_IOAS, &v))
		return 0;
	cmd.ioas_id = v.ioas_id;
	if (ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &cmd) ||
	    cmd.num_iovas != g->nr_all || g->nr_all != g->nr)
		return 0;
	for (i = 0; i < g->nr; i++)
		if (r[i].start != g->r[i].start || r[i].last != g->r[i].end)
			return 0;
	return 1;
}

static int map_errno(int container, void *va, __u64 iova, __u64 len)
{
	return map_type1(container, va, iova, len) ? errno : 0;
}

/* MAP_DMA's errno at @iova, which should fail; undone if it did not */
static int map_refused(int container, void *va, __u64 iova, __u64 len)
{
	int err = map_errno(container, va, iova, len);

	if (!err)
		unmap_type1(container, iova, len);
	return err;
}

int main(int argc, char **argv)
{
	struct ranges before, open_info, after, left;
	int container, group, dev, ifd, width;
	unsigned char *buf;
	__u64 top, start;
	char what[160];
	struct edu e;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <pci-bdf>\n", argv[0]);
		return 2;
	}
	printf("TAP version 13\n");
	width = iommu_width(argv[1]);
	if (msi_window(argv[1]))
		die("no msi reserved region in the group's reserved_regions");
	printf("# the group's MSI window: %#llx-%#llx\n",
	       (unsigned long long)msi_start, (unsigned long long)msi_last);
	/* the aperture's last IOVA; without the cap register, below 2^39 */
	top = width ? (1ULL << width) - 1 : 0;

	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0)
		die("open /dev/vfio/vfio");
	ifd = is_iommufd(container);
	printf("# /dev/vfio/vfio is %s\n",
	       ifd ? "served by iommufd" : "VFIO's own container");
	group = open_viable_group(argv[1]);
	ok(ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) == 0,
	   "VFIO_GROUP_SET_CONTAINER on /dev/vfio/vfio");
	ok(ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) == 1,
	   "VFIO_CHECK_EXTENSION(VFIO_TYPE1_IOMMU)");
	ok(ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) == 0,
	   "VFIO_SET_IOMMU(VFIO_TYPE1_IOMMU)");

	/* what libvfn and QEMU's nvme:// driver ask right after SET_IOMMU */
	ok(get_ranges(container, &before) == 0,
	   "VFIO_IOMMU_GET_INFO before any device is open");
	print_ranges("before open", &before);
	ok(before.has_cap && before.nr > 0 && before.nr_all == before.nr,
	   "it has an IOVA_RANGE capability with ranges");
	ok(ranges_sane(&before),
	   "the ranges are sorted and apart, and none ends at U64_MAX");
	if (!before.nr)
		die("no IOVA range to go on with");
	if (width) {
		snprintf(what, sizeof(what),
			 "the last range ends at the IOMMU's %d-bit width",
			 width);
		ok(before.r[before.nr - 1].end == top, what);
	} else {
		ok(before.r[before.nr - 1].end < (1ULL << 39),
		   "the last range ends below 2^39 (no known IOMMU width)");
		top = before.r[before.nr - 1].end;
	}
	ok(msi_excluded(&before), "no range overlaps the MSI window");
	if (ifd)
		ok(native_ranges_equal(container, &before),
		   "IOMMU_IOAS_IOVA_RANGES of the compatibility IOAS agrees");

	/* IOVA the devices can't reach is refused before they are opened */
	buf = anon_buffer(MAP_LEN);
	snprintf(what, sizeof(what),
		 "MAP_DMA just past the aperture (%#llx) is EINVAL",
		 (unsigned long long)top + 1);
	ok(top + 1 && map_refused(container, buf, top + 1, MAP_LEN) == EINVAL,
	   what);
	ok(map_refused(container, buf, msi_start, MAP_LEN) == EINVAL,
	   "MAP_DMA into the MSI window is EINVAL");
	start = before.r[0].start;
	snprintf(what, sizeof(what),
		 "MAP_DMA of %u KiB at the start of the first range (%#llx)",
		 MAP_LEN / 1024, (unsigned long long)start);
	ok(before.r[0].end - start + 1 >= MAP_LEN &&
	   map_errno(container, buf, start, MAP_LEN) == 0, what);

	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[1]);
	if (dev < 0)
		die("VFIO_GROUP_GET_DEVICE_FD");
	ok(get_ranges(container, &open_info) == 0 &&
	   same_ranges(&before, &open_info),
	   "GET_INFO says the same once the device is open");
	print_ranges("device open", &open_info);
	ok(before.pgsizes == open_info.pgsizes,
	   "iova_pgsizes too: the IOMMU's page sizes from SET_IOMMU on");

	/* the device reaches the buffer at the first range's start */
	fill(buf, XFER, 0x3c);
	memset(buf + MAP_LEN / 2, 0xee, MAP_LEN / 2);
	edu_setup(&e, dev);
	ok(edu_dma(&e, start, EDU_BUF, XFER, 0) == 0 &&
	   edu_dma(&e, EDU_BUF, start + MAP_LEN / 2, XFER, 1) == 0 &&
	   !memcmp(buf, buf + MAP_LEN / 2, XFER),
	   "the edu copies through the buffer at the first range's start");
	ok(unmap_type1(container, start, MAP_LEN) == 0,
	   "UNMAP_DMA of the buffer");
	close(dev);
	ok(get_ranges(container, &after) == 0 && same_ranges(&before, &after),
	   "GET_INFO says the same after the device is closed");

	ok(ioctl(group, VFIO_GROUP_UNSET_CONTAINER) == 0,
	   "VFIO_GROUP_UNSET_CONTAINER");
	if (ifd) {
		ok(get_ranges(container, &left) == 0 && !left.has_cap,
		   "with the group gone nothing bounds the IOAS: no IOVA_RANGE capability");
		print_ranges("group gone", &left);
	}
	close(group);
	close(container);
	munmap(buf, MAP_LEN);
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
