// SPDX-License-Identifier: GPL-2.0-only
/*
 * edu-lifetime: what happens to iommufd's objects when their owners go
 * away in the wrong order, with the edu alone in its iommu_group doing
 * real DMA through VT-d:
 *   1. the iommufd is closed while the device is bound and attached and a
 *      mock access holds pins: DMA goes on through the mapping, and the
 *      pins are gone once the device and the access are closed too;
 *   2. a child that has the device attached, memory mapped and pinned
 *      through an access is killed: the device is free and works again;
 *   3. a child inherits the iommufd and the device fd, maps its own
 *      memory and exits: its pages stay mapped (the device reads what the
 *      child wrote) until the parent unmaps them;
 *   4. the vfio-pci driver is unbound through sysfs while the cdev is
 *      open: the kernel asks the owner to let go (the REQ eventfd), the
 *      unbind finishes only when the fd is closed, and the device works
 *      again once bound anew;
 *   5. the same with the PCI device removed (sysfs remove), then found by
 *      a rescan and bound to vfio-pci again.
 * After each, nothing may stay pinned (IOMMU_TEST_CMD STATS, so this
 * needs CONFIG_IOMMUFD_TEST) and VmPin/VmLck must be back at zero.
 * Prints TAP; exits 0 only if every check passed.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "edu.h"
#include "../../iommufd_test.h"

#define PG 4096
#define CHILD_IOVA 0x10400000ULL

static char bdf[64];
static int fd_stats = -1;

struct sess {
	int iommufd;
	int dev;
	__u32 ioas;
	__u32 devid;
	struct edu e;
	unsigned char *src;
	unsigned char *dst;
};

static __u64 pinned_now(void)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_STATS,
	};

	if (ioctl(fd_stats, IOMMU_TEST_CMD, &cmd))
		die("IOMMU_TEST_CMD STATS");
	return cmd.stats.out_pinned_pages;
}

/* open, bind, IOAS, map src and dst, attach, enable DMA; 0 or -1 */
static int sess_open(struct sess *s)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	char path[PATH_MAX];

	s->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (s->iommufd < 0 || cdev_path(bdf, path, sizeof(path)))
		return -1;
	s->dev = open(path, O_RDWR | O_CLOEXEC);
	if (s->dev < 0)
		return -1;
	bind.iommufd = s->iommufd;
	if (ioctl(s->dev, VFIO_DEVICE_BIND_IOMMUFD, &bind) ||
	    ioctl(s->iommufd, IOMMU_IOAS_ALLOC, &alloc))
		return -1;
	s->devid = bind.out_devid;
	s->ioas = alloc.out_ioas_id;
	s->src = anon_buffer(PG);
	s->dst = anon_buffer(PG);
	if (map_native(s->iommufd, s->ioas, s->src, IOVA_SRC, PG) ||
	    map_native(s->iommufd, s->ioas, s->dst, IOVA_DST, PG))
		return -1;
	at.pt_id = s->ioas;
	if (ioctl(s->dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
		return -1;
	edu_setup(&s->e, s->dev);
	return 0;
}

/* @len bytes of a new pattern from IOVA @from through the edu to dst */
static int dma_through(struct sess *s, __u64 from, const unsigned char *want,
		       size_t len)
{
	memset(s->dst, 0, len);
	if (edu_dma(&s->e, from, EDU_BUF, len, 0) ||
	    edu_dma(&s->e, EDU_BUF, IOVA_DST, len, 1))
		return -1;
	return memcmp(s->dst, want, len) ? -1 : 0;
}

static int dma_ok(struct sess *s, unsigned int seed)
{
	fill(s->src, XFER, seed);
	return dma_through(s, IOVA_SRC, s->src, XFER);
}

static void sess_close(struct sess *s)
{
	if (s->dev >= 0)
		close(s->dev);
	if (s->iommufd >= 0)
		close(s->iommufd);
	munmap(s->src, PG);
	munmap(s->dst, PG);
	s->dev = -1;
	s->iommufd = -1;
}

/* a mock access on @ioas of @iommufd with @iova pinned; its fd or -1 */
static int access_pin(int iommufd, __u32 ioas, __u64 iova, void *va)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = ioas,
	};
	int access;

	if (ioctl(iommufd, IOMMU_TEST_CMD, &cmd))
		return -1;
	access = cmd.create_access.out_access_fd;
	memset(&cmd, 0, sizeof(cmd));
	cmd.size = sizeof(cmd);
	cmd.op = IOMMU_TEST_OP_ACCESS_PAGES;
	cmd.id = access;
	cmd.access_pages.iova = iova;
	cmd.access_pages.length = PG;
	cmd.access_pages.uptr = (uintptr_t)va;
	if (ioctl(iommufd, IOMMU_TEST_CMD, &cmd)) {
		close(access);
		return -1;
	}
	return access;
}

static void check_clean(const char *what, __u64 base)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "%s: nothing left pinned", what);
	ok(pinned_now() == base, msg);
	snprintf(msg, sizeof(msg), "%s: VmPin and VmLck back at 0", what);
	ok(status_kb("VmPin") == 0 && status_kb("VmLck") == 0, msg);
}

static void close_iommufd_first(void)
{
	__u64 base = pinned_now();
	struct sess s;
	int access;

	if (sess_open(&s))
		die("set up the device");
	ok(dma_ok(&s, 1) == 0, "close first: DMA works");
	access = access_pin(s.iommufd, s.ioas, IOVA_SRC, s.src);
	ok(access >= 0, "close first: a mock access pins the source page");
	/* pages are pinned once for all users: the access adds no pin */
	ok(pinned_now() == base + 2, "close first: 2 pages pinned");
	close(s.iommufd);
	s.iommufd = -1;
	ok(dma_ok(&s, 2) == 0,
	   "close first: DMA still works after the iommufd is closed");
	close(access);
	ok(pinned_now() == base + 2,
	   "close first: the mapping keeps its pages after the access closes");
	close(s.dev);
	s.dev = -1;
	sess_close(&s);
	check_clean("close first", base);
}

static void killed_with_pins(void)
{
	__u64 base = pinned_now();
	int ready[2], status, i;
	char c = 0;
	struct sess s;
	pid_t pid;

	if (pipe(ready))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		if (sess_open(&s) || dma_ok(&s, 3) ||
		    access_pin(s.iommufd, s.ioas, IOVA_DST, s.dst) < 0)
			_exit(1);
		/* a DMA in flight, to the edu's own buffer, as we die */
		wr64(&s.e, EDU_DMA_SRC, IOVA_SRC);
		wr64(&s.e, EDU_DMA_DST, EDU_BUF);
		wr64(&s.e, EDU_DMA_CNT, XFER);
		wr64(&s.e, EDU_DMA_CMD, EDU_CMD_START);
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	ok(read(ready[0], &c, 1) == 1, "killed: the child set up DMA and pins");
	ok(pinned_now() == base + 2, "killed: the child's 2 pages are pinned");
	kill(pid, SIGKILL);
	ok(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status),
	   "killed: the child died of SIGKILL");
	close(ready[0]);
	ok(pinned_now() == base, "killed: its pins are gone");
	if (sess_open(&s))
		die("set up the device after the kill");
	/* the child's DMA may still be running in the model: let it end */
	for (i = 0; i < 600 && (rd32(&s.e, EDU_DMA_CMD) & EDU_CMD_START); i++)
		usleep(100 * 1000);
	ok(dma_ok(&s, 4) == 0, "killed: the device is free and DMA works");
	sess_close(&s);
	check_clean("killed", base);
}

static void forked_child_maps(void)
{
	__u64 base = pinned_now();
	unsigned char want[XFER];
	struct sess s;
	int status;
	pid_t pid;

	if (sess_open(&s))
		die("set up the device");
	fill(want, XFER, 77);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		/* the inherited fds; memory that only the child has */
		unsigned char *mine = anon_buffer(PG);

		memcpy(mine, want, XFER);
		if (map_native(s.iommufd, s.ioas, mine, CHILD_IOVA, PG))
			_exit(1);
		/*
		 * and has the device read it, through the inherited fd. (Its
		 * copies of the parent's buffers are its own: fork copied the
		 * pinned pages, and the device still sees the parent's.)
		 */
		_exit(edu_dma(&s.e, CHILD_IOVA, EDU_BUF, XFER, 0) ? 2 : 0);
	}
	ok(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	   WEXITSTATUS(status) == 0,
	   "fork: the child mapped its memory and did DMA through the inherited fds");
	memset(s.dst, 0, XFER);
	ok(edu_dma(&s.e, EDU_BUF, IOVA_DST, XFER, 1) == 0 &&
	   !memcmp(s.dst, want, XFER),
	   "fork: the edu holds what the child's DMA read");
	ok(pinned_now() == base + 3,
	   "fork: the exited child's page stays pinned");
	ok(dma_through(&s, CHILD_IOVA, want, XFER) == 0,
	   "fork: the device reads what the child wrote, after its exit");
	ok(unmap_native(s.iommufd, s.ioas, CHILD_IOVA, PG) == 0,
	   "fork: the parent unmaps the child's page");
	ok(pinned_now() == base + 2, "fork: and its pin is gone");
	sess_close(&s);
	check_clean("fork", base);
}

struct sysfs_write {
	pthread_t tid;
	char path[PATH_MAX];
	char value[64];
	int rc;
	int done;	/* set last, with __atomic_store_n() */
};

static void *sysfs_writer(void *arg)
{
	struct sysfs_write *w = arg;

	w->rc = write_file(w->path, w->value);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* the device request eventfd of vfio-pci (VFIO_PCI_REQ_IRQ_INDEX) */
static int req_eventfd(int dev)
{
	struct {
		struct vfio_irq_set set;
		__s32 fd;
	} irq = {
		.set = {
			.argsz = sizeof(irq),
			.flags = VFIO_IRQ_SET_DATA_EVENTFD |
				 VFIO_IRQ_SET_ACTION_TRIGGER,
			.index = VFIO_PCI_REQ_IRQ_INDEX,
			.count = 1,
		},
	};

	irq.fd = eventfd(0, EFD_CLOEXEC);
	if (irq.fd < 0 || ioctl(dev, VFIO_DEVICE_SET_IRQS, &irq))
		return -1;
	return irq.fd;
}

/* wait up to @secs for the sysfs write to return; 0 once it has */
static int wait_done(struct sysfs_write *w, int secs)
{
	int i;

	for (i = 0; i < secs * 10 && !__atomic_load_n(&w->done, __ATOMIC_ACQUIRE);
	     i++)
		usleep(100 * 1000);
	return __atomic_load_n(&w->done, __ATOMIC_ACQUIRE) ? 0 : -1;
}

/*
 * Tear the device away from vfio-pci through sysfs (@path, @value) while
 * its cdev is open and attached: the request must reach the owner, the
 * write must wait for the close, and finish once the fd is closed.
 */
static void torn_away(const char *what, const char *path, const char *value)
{
	__u64 base = pinned_now();
	struct sysfs_write w = { .done = 0 };
	struct pollfd p;
	char msg[160];
	struct sess s;
	__u64 n;
	int req;

	if (sess_open(&s))
		die("set up the device");
	req = req_eventfd(s.dev);
	snprintf(msg, sizeof(msg), "%s: the REQ eventfd is set", what);
	ok(req >= 0, msg);
	snprintf(w.path, sizeof(w.path), "%s", path);
	snprintf(w.value, sizeof(w.value), "%s", value);
	if (pthread_create(&w.tid, NULL, sysfs_writer, &w))
		die("pthread_create");
	p.fd = req;
	p.events = POLLIN;
	snprintf(msg, sizeof(msg),
		 "%s: vfio-pci asks the owner to release the device", what);
	ok(poll(&p, 1, 120 * 1000) == 1 && read(req, &n, 8) == 8, msg);
	/* it asked, so the write is waiting for the close: it can't be done */
	snprintf(msg, sizeof(msg), "%s: the sysfs write waits for the close",
		 what);
	ok(!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE), msg);
	snprintf(msg, sizeof(msg), "%s: DMA still works meanwhile", what);
	ok(dma_ok(&s, 6) == 0, msg);
	close(req);
	sess_close(&s);
	snprintf(msg, sizeof(msg), "%s: the sysfs write finishes after the close",
		 what);
	ok(wait_done(&w, 120) == 0 && w.rc == 0, msg);
	pthread_join(w.tid, NULL);
	check_clean(what, base);
}

/* bind @bdf to vfio-pci again (its driver_override may be gone) */
static int rebind(void)
{
	char path[PATH_MAX];
	int i;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	if (write_file(path, "vfio-pci"))
		return -1;
	if (write_file("/sys/bus/pci/drivers/vfio-pci/bind", bdf))
		return -1;
	/* the cdev's node appears when udev-less devtmpfs creates it */
	for (i = 0; i < 100; i++) {
		if (!cdev_path(bdf, path, sizeof(path)) && !access(path, F_OK))
			return 0;
		usleep(100 * 1000);
	}
	return -1;
}

static void works_again(const char *what)
{
	char msg[160];
	struct sess s;

	snprintf(msg, sizeof(msg), "%s: bound to vfio-pci again", what);
	ok(rebind() == 0, msg);
	snprintf(msg, sizeof(msg), "%s: DMA works again", what);
	ok(sess_open(&s) == 0 && dma_ok(&s, 7) == 0, msg);
	sess_close(&s);
}

int main(int argc, char **argv)
{
	char path[PATH_MAX];
	struct stat st;
	int i;

	if (argc != 2)
		return 2;
	snprintf(bdf, sizeof(bdf), "%s", argv[1]);
	printf("TAP version 13\n");
	fd_stats = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (fd_stats < 0)
		die("open /dev/iommu");

	close_iommufd_first();
	killed_with_pins();
	forked_child_maps();

	torn_away("unbind", "/sys/bus/pci/drivers/vfio-pci/unbind", bdf);
	works_again("unbind");

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove", bdf);
	torn_away("remove", path, "1");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	ok(stat(path, &st) != 0, "remove: the device is gone");
	ok(write_file("/sys/bus/pci/rescan", "1") == 0, "remove: rescan");
	for (i = 0; i < 100 && stat(path, &st); i++)
		usleep(100 * 1000);
	ok(stat(path, &st) == 0, "remove: the rescan found the device again");
	works_again("remove");

	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
