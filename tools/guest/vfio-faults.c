// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-faults: fault injection over the VFIO paths of a real device (the
 * edu alone in its group, bound to vfio-pci, behind emulated VT-d).
 *
 *   vfio-faults <bdf>
 *
 * Each sequence runs with the Nth allocation of the thread failing
 * (fault_inject.h), for N = 1, 2, ... until it passes every injection
 * point without reaching the Nth:
 *   - cdev: open the cdev and /dev/iommu, IOAS_ALLOC, IOAS_MAP, BIND,
 *     ATTACH, DETACH, ATTACH again;
 *   - group: /dev/iommu as the group's container, IOAS_MAP into the
 *     compatibility IOAS, GET_DEVICE_FD (bind and attach);
 *   - container: /dev/vfio/vfio as a type1 container (SET_IOMMU v1,
 *     MAP_DMA, GET_DEVICE_FD, a partial UNMAP_DMA), when iommufd serves it.
 * After each run: a failed step failed with ENOMEM or EFAULT (or nothing
 * failed), the iommufd still works, and once everything is closed VmPin
 * and VmLck are back where they were. Prints TAP, with the number of
 * injection points each sequence reached.
 */
#include <stdbool.h>

#include "edu.h"
#include "../testing/selftests/iommu/fault_inject.h"

#define PG 4096
#define LEN (16 * PG)
#define IOVA 0x20000000ULL
#define MAX_POINTS 20000

static const char *bdf;
static unsigned char *buf;
/* found before any injection: looking them up allocates too */
static char cdev_node[PATH_MAX], group_node[PATH_MAX];

/* what a run opened */
struct run {
	int iommufd, group, dev;
	int failed_errno;
};

/* a step that did not go well ends the sequence; its errno is noted */
static bool good(struct run *r, bool ok)
{
	if (!ok)
		r->failed_errno = errno ? errno : -1;
	return ok;
}

static bool open_into(int *fd, const char *path)
{
	*fd = open(path, O_RDWR | O_CLOEXEC);
	return *fd >= 0;
}

static bool ioas_new(int fd, __u32 *ioas)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	if (ioctl(fd, IOMMU_IOAS_ALLOC, &a))
		return false;
	*ioas = a.out_ioas_id;
	return true;
}

static bool attach(int dev, __u32 pt)
{
	struct vfio_device_attach_iommufd_pt at = {
		.argsz = sizeof(at),
		.pt_id = pt,
	};

	return !ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at);
}

static bool bind(int dev, int iommufd)
{
	struct vfio_device_bind_iommufd b = {
		.argsz = sizeof(b),
		.iommufd = iommufd,
	};

	return !ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b);
}

static bool detach(int dev)
{
	struct vfio_device_detach_iommufd_pt det = { .argsz = sizeof(det) };

	return !ioctl(dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &det);
}

static bool compat_ioas(int fd, __u32 *ioas)
{
	struct iommu_vfio_ioas vioas = {
		.size = sizeof(vioas),
		.op = IOMMU_VFIO_IOAS_GET,
	};

	if (ioctl(fd, IOMMU_VFIO_IOAS, &vioas))
		return false;
	*ioas = vioas.ioas_id;
	return true;
}

static bool device_fd(struct run *r)
{
	r->dev = ioctl(r->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	return r->dev >= 0;
}

/* Each sequence is one chain of steps: the first that fails ends it. */
static void seq_cdev(struct run *r)
{
	__u32 ioas;

	(void)(good(r, open_into(&r->dev, cdev_node)) &&
	       good(r, open_into(&r->iommufd, "/dev/iommu")) &&
	       good(r, ioas_new(r->iommufd, &ioas)) &&
	       good(r, !map_native(r->iommufd, ioas, buf, IOVA, LEN)) &&
	       good(r, bind(r->dev, r->iommufd)) &&
	       good(r, attach(r->dev, ioas)) &&
	       good(r, detach(r->dev)) &&
	       good(r, attach(r->dev, ioas)));
}

static void seq_group(struct run *r)
{
	__u32 ioas;

	(void)(good(r, open_into(&r->iommufd, "/dev/iommu")) &&
	       good(r, open_into(&r->group, group_node)) &&
	       good(r, !ioctl(r->group, VFIO_GROUP_SET_CONTAINER,
			      &r->iommufd)) &&
	       good(r, compat_ioas(r->iommufd, &ioas)) &&
	       good(r, !map_native(r->iommufd, ioas, buf, IOVA, LEN)) &&
	       good(r, device_fd(r)));
}

static void seq_container(struct run *r)
{
	(void)(good(r, open_into(&r->iommufd, "/dev/vfio/vfio")) &&
	       good(r, open_into(&r->group, group_node)) &&
	       good(r, !ioctl(r->group, VFIO_GROUP_SET_CONTAINER,
			      &r->iommufd)) &&
	       good(r, !ioctl(r->iommufd, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU)) &&
	       good(r, !map_type1(r->iommufd, buf, IOVA, LEN)) &&
	       good(r, device_fd(r)) &&
	       good(r, !unmap_type1(r->iommufd, IOVA + 4 * PG, 2 * PG)));
}

static void close_run(struct run *r)
{
	if (r->dev >= 0)
		close(r->dev);
	if (r->group >= 0) {
		ioctl(r->group, VFIO_GROUP_UNSET_CONTAINER);
		close(r->group);
	}
	if (r->iommufd >= 0)
		close(r->iommufd);
}

/* the sequence @seq under fault injection; one TAP line per check */
static void inject(struct fault_inject *fi, const char *name,
		   void (*seq)(struct run *r))
{
	long pin0 = status_kb("VmPin"), lck0 = status_kb("VmLck");
	unsigned int n, failed = 0, bad_errno = 0, unusable = 0, unbalanced = 0;
	int fired = 0;
	char what[200];
	__u32 id;

	for (n = 1; n < MAX_POINTS; n++) {
		struct run r = { .iommufd = -1, .group = -1, .dev = -1 };

		errno = 0;
		if (fi_arm(fi, n))
			die("fi_arm");
		seq(&r);
		fired = fi_disarm(fi);
		if (fired < 0)
			die("fi_disarm");
		if (r.failed_errno) {
			failed++;
			if (!fired || (r.failed_errno != ENOMEM &&
				       r.failed_errno != EFAULT)) {
				printf("# %s: point %u: errno %d (%s)\n", name,
				       n, r.failed_errno,
				       fired ? "fired" : "not fired");
				bad_errno++;
			}
		}
		/* the context survived: it still makes an IOAS */
		if (r.iommufd >= 0 && !ioas_new(r.iommufd, &id))
			unusable++;
		close_run(&r);
		if (status_kb("VmPin") != pin0 || status_kb("VmLck") != lck0) {
			printf("# %s: point %u: VmPin %ld kB, VmLck %ld kB\n",
			       name, n, status_kb("VmPin"), status_kb("VmLck"));
			unbalanced++;
		}
		if (!fired)
			break;
	}
	printf("# %s: %u injection points reached, %u made a step fail\n",
	       name, n - 1, failed);
	snprintf(what, sizeof(what), "%s: the whole sequence passes at the end",
		 name);
	ok(!fired && n < MAX_POINTS, what);
	snprintf(what, sizeof(what),
		 "%s: every failed step failed with ENOMEM or EFAULT", name);
	ok(!bad_errno, what);
	snprintf(what, sizeof(what), "%s: the iommufd still worked each time",
		 name);
	ok(!unusable, what);
	snprintf(what, sizeof(what),
		 "%s: VmPin and VmLck back to %ld and %ld kB after each close",
		 name, pin0, lck0);
	ok(!unbalanced, what);
}

int main(int argc, char **argv)
{
	struct fault_inject fi;
	int probe;
	__u32 id;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <pci-bdf>\n", argv[0]);
		return 2;
	}
	bdf = argv[1];
	printf("TAP version 13\n");
	buf = anon_buffer(LEN);
	fill(buf, LEN, 0x77);
	if (cdev_path(bdf, cdev_node, sizeof(cdev_node)))
		die("find vfio-dev/vfioX in sysfs");
	group_path(bdf, group_node, sizeof(group_node));
	if (fi_setup(&fi))
		die("fault injection (fail-nth, debugfs) is not available");
	inject(&fi, "cdev", seq_cdev);
	inject(&fi, "group", seq_group);
	/* /dev/vfio/vfio answers iommufd's commands only if iommufd serves it */
	probe = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (probe >= 0 && ioas_new(probe, &id))
		inject(&fi, "container", seq_container);
	else
		printf("ok %d # SKIP /dev/vfio/vfio is not iommufd's\n",
		       ++ntest);
	if (probe >= 0)
		close(probe);
	fi_restore(&fi);
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
